use crate::common::TestServer;

#[tokio::test]
async fn health_and_openapi_are_served() {
    let s = TestServer::start().await;
    let r = s.client.get(s.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "ok");

    let spec: serde_json::Value =
        s.client.get(s.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(spec["paths"]["/api/health"].is_object() || spec["paths"]["/health"].is_object(), "{spec}");
    let docs = s.client.get(s.url("/api/docs")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
}

#[tokio::test]
async fn unknown_routes_get_a_json_error() {
    let s = TestServer::start().await;
    let r = s.client.get(s.url("/api/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "not_found");
    assert!(body["message"].is_string());
}
