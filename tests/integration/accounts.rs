//! Team accounts over HTTP: first-run setup, sign-in, sessions, roles, CSRF, invites, and a walk
//! over every secured route of the OpenAPI document.
//!
//! [`Member`] is the signed-in browser other test modules use (`crate::accounts::owner(&s)`,
//! `crate::accounts::member(&s, &owner, "agent", "b@x.eu")`).

#![allow(dead_code)]

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::TestServer;

pub const PASSWORD: &str = "correct horse battery";

/// A signed-in team member: its own cookie jar and the session's CSRF token.
pub struct Member {
    pub client: reqwest::Client,
    pub csrf: String,
    pub id: String,
    pub name: String,
    pub base: String,
}

impl Member {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    /// A JSON request carrying the CSRF header, as the app sends it.
    pub async fn send(&self, method: Method, path: &str, body: Value) -> reqwest::Response {
        self.client
            .request(method, self.url(path))
            .header("X-CSRF-Token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.send(Method::POST, path, body).await
    }

    /// GET expecting 200 and a JSON body.
    pub async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), 200, "GET {path}");
        r.json().await.unwrap()
    }
}

pub fn jar_client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).build().unwrap()
}

async fn signed_in(s: &TestServer, client: reqwest::Client, me: Value) -> Member {
    Member {
        client,
        csrf: me["csrf_token"].as_str().unwrap().to_owned(),
        id: me["user"]["id"].as_str().unwrap().to_owned(),
        name: me["user"]["name"].as_str().unwrap().to_owned(),
        base: s.base.clone(),
    }
}

/// Creates the owner through the first-run setup link.
pub async fn owner(s: &TestServer) -> Member {
    let token = baton::accounts::create_setup_token(&s.state.store).unwrap();
    let client = jar_client();
    let r = client
        .post(s.url(&format!("/api/auth/invites/{token}/accept")))
        .json(&json!({"name": "Olivia Owner", "email": "owner@example.eu", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "setup link creates the owner");
    let me: Value = r.json().await.unwrap();
    signed_in(s, client, me).await
}

/// Invites and signs up a member with `role` ("admin" or "agent").
pub async fn member(s: &TestServer, by: &Member, role: &str, name: &str, email: &str) -> Member {
    let r = by.post("/api/team/invites", json!({"role": role, "email": email})).await;
    assert_eq!(r.status(), 200);
    let link = r.json::<Value>().await.unwrap()["link"].as_str().unwrap().to_owned();
    let token = link.rsplit('/').next().unwrap().to_owned();
    let client = jar_client();
    let r = client
        .post(s.url(&format!("/api/auth/invites/{token}/accept")))
        .json(&json!({"name": name, "email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "invite accepted");
    let me: Value = r.json().await.unwrap();
    signed_in(s, client, me).await
}

async fn login(s: &TestServer, email: &str, password: &str) -> reqwest::Response {
    jar_client()
        .post(s.url("/api/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_setup_link_creates_the_owner_once_and_then_sign_in_works() {
    let s = TestServer::start().await;
    let status: Value = s.client.get(s.url("/api/auth/status")).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["setup_needed"], true);
    let link =
        baton::accounts::setup_link(&s.state.store, &s.base).unwrap().expect("a setup link on first run");
    assert!(link.starts_with(&format!("{}/app/#/setup/", s.base)), "{link}");
    let token = link.rsplit('/').next().unwrap();

    let info: Value = s
        .client
        .get(s.url(&format!("/api/auth/invites/{token}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((info["kind"].as_str(), info["role"].as_str()), (Some("setup"), Some("owner")));

    let client = jar_client();
    let body = json!({"name": "Olivia", "email": "Owner@Example.eu", "password": PASSWORD});
    let r =
        client.post(s.url(&format!("/api/auth/invites/{token}/accept"))).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let me: Value = r.json().await.unwrap();
    assert_eq!(me["user"]["role"], "owner");
    assert!(me["csrf_token"].as_str().unwrap().len() >= 32);
    // Already signed in by the setup.
    let me2: Value = client.get(s.url("/api/auth/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me2["user"]["email"], "owner@example.eu");

    // The link works once.
    let again = jar_client()
        .post(s.url(&format!("/api/auth/invites/{token}/accept")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
    assert!(
        baton::accounts::setup_link(&s.state.store, &s.base).unwrap().is_none(),
        "no new setup link with an owner"
    );

    // Password is stored as argon2id, never in clear.
    let users = baton::accounts::list_users(&s.state.store).unwrap();
    assert!(users[0].password_hash.starts_with("$argon2id$") && !users[0].password_hash.contains(PASSWORD));

    // Sign in; the email is case-insensitive.
    let r = login(&s, "OWNER@example.eu", PASSWORD).await;
    assert_eq!(r.status(), 200);
    let r = login(&s, "owner@example.eu", "wrong password!").await;
    assert_eq!(r.status(), 403);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["message"], "wrong email or password");
    let r = login(&s, "nobody@example.eu", PASSWORD).await;
    assert_eq!(r.status(), 403, "unknown email answers like a wrong password");
    let status: Value = s.client.get(s.url("/api/auth/status")).send().await.unwrap().json().await.unwrap();
    assert_eq!(status["setup_needed"], false);
}

#[tokio::test]
async fn the_session_cookie_is_httponly_samesite_strict_and_secure_when_configured() {
    let check = |set_cookie: &str, secure: bool| {
        assert!(set_cookie.starts_with("baton_session="), "{set_cookie}");
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
        assert!(set_cookie.contains("Path=/"), "{set_cookie}");
        assert_eq!(set_cookie.contains("Secure"), secure, "{set_cookie}");
    };
    for secure in [false, true] {
        let s = TestServer::start_with(|c| c.security.secure_cookies = secure).await;
        let token = baton::accounts::create_setup_token(&s.state.store).unwrap();
        let r = reqwest::Client::new()
            .post(s.url(&format!("/api/auth/invites/{token}/accept")))
            .json(&json!({"name": "O", "email": "o@example.eu", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
        check(&cookie, secure);
        // The raw token is not what the store keeps.
        let value = cookie.split(';').next().unwrap().trim_start_matches("baton_session=").to_owned();
        assert!(s.state.store.get_json::<Value>(baton::store::SESSIONS, &value).unwrap().is_none());
        assert!(s
            .state
            .store
            .get_json::<Value>(baton::store::SESSIONS, &baton::accounts::hash_token(&value))
            .unwrap()
            .is_some());
    }
}

#[tokio::test]
async fn login_is_rate_limited_per_account() {
    let s = TestServer::start().await;
    owner(&s).await;
    for _ in 0..baton::accounts::LOGIN_PER_ACCOUNT {
        assert_eq!(login(&s, "owner@example.eu", "not the password").await.status(), 403);
    }
    let r = login(&s, "owner@example.eu", PASSWORD).await;
    assert_eq!(r.status(), 429, "the guessing address waits for the minute, even with the right password");
    assert!(r.headers().contains_key("retry-after"));
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited");
    // Another account from the same IP still works (per-IP budget is larger).
    assert_eq!(login(&s, "someone@example.eu", "whatever pass").await.status(), 403);
    // The owner, from another address, is not locked out by someone else's guessing.
    let owner_laptop =
        reqwest::Client::builder().local_address(std::net::IpAddr::from([127, 0, 0, 2])).build().unwrap();
    let r = owner_laptop
        .post(s.url("/api/auth/login"))
        .json(&json!({"email": "owner@example.eu", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a correct password from an address without failures signs in");
}

#[tokio::test]
async fn login_is_rate_limited_per_ip() {
    let s = TestServer::start().await;
    let mut last = StatusCode::OK;
    for i in 0..=baton::accounts::LOGIN_PER_IP {
        last = login(&s, &format!("user{i}@example.eu"), "whatever pass").await.status();
    }
    assert_eq!(last, 429, "many accounts from one IP are limited too");
}

#[tokio::test]
async fn log_out_and_log_out_everywhere_end_sessions() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    let laptop = login(&s, "owner@example.eu", PASSWORD).await;
    assert_eq!(laptop.status(), 200);
    let tablet = jar_client();
    let r = tablet
        .post(s.url("/api/auth/login"))
        .json(&json!({"email": "owner@example.eu", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let tablet_me: Value = r.json().await.unwrap();
    assert_eq!(tablet_me["sessions"], 3);

    // Plain log out ends only that session and clears the cookie.
    let r = tablet
        .post(s.url("/api/auth/logout"))
        .header("X-CSRF-Token", tablet_me["csrf_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(tablet.get(s.url("/api/auth/me")).send().await.unwrap().status(), 401);
    assert_eq!(o.get("/api/auth/me").await.status(), 200);

    let r = o.post("/api/auth/logout-everywhere", json!({})).await;
    assert_eq!(r.status(), 200);
    let ended: Value = r.json().await.unwrap();
    assert_eq!(ended["sessions_ended"], 2);
    assert_eq!(o.get("/api/auth/me").await.status(), 401);
}

#[tokio::test]
async fn non_get_requests_need_the_csrf_token() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    let r = o.client.post(o.url("/api/team/invites")).json(&json!({"role": "agent"})).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "csrf_failed");
    let r = o
        .client
        .post(o.url("/api/team/invites"))
        .header("X-CSRF-Token", "0".repeat(64))
        .json(&json!({"role": "agent"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "csrf_failed", "a wrong token is refused");
    assert_eq!(
        o.post("/api/team/invites", json!({"role": "agent"})).await.status(),
        200,
        "with the token it works"
    );
    // GETs need no token.
    assert_eq!(o.client.get(o.url("/api/team/invites")).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn agents_get_403_on_admin_routes_and_admins_manage_the_team() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    let agent = member(&s, &o, "agent", "Alex Agent", "alex@example.eu").await;
    let admin = member(&s, &o, "admin", "Ada Admin", "ada@example.eu").await;

    let r = agent.post("/api/team/invites", json!({"role": "agent"})).await;
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "forbidden");
    assert_eq!(agent.get("/api/team/invites").await.status(), 403);
    assert_eq!(
        agent.get("/api/team/users").await.status(),
        200,
        "agents see the team to assign conversations"
    );

    // Admins invite and disable agents; a disabled agent is signed out at once.
    let users: Value = admin.json("/api/team/users").await;
    assert_eq!(users.as_array().unwrap().len(), 3);
    assert_eq!(users[0]["role"], "owner", "owner listed first");
    let r =
        admin.send(Method::PATCH, &format!("/api/team/users/{}", agent.id), json!({"disabled": true})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(agent.get("/api/auth/me").await.status(), 401);
    assert_eq!(
        login(&s, "alex@example.eu", PASSWORD).await.status(),
        403,
        "disabled accounts cannot sign in"
    );

    // Nobody but the owner changes the owner; nobody removes themselves.
    let r = admin.send(Method::PATCH, &format!("/api/team/users/{}", o.id), json!({"role": "agent"})).await;
    assert_eq!(r.status(), 403);
    let r = admin.send(Method::DELETE, &format!("/api/team/users/{}", admin.id), json!({})).await;
    assert_eq!(r.status(), 403);
    let r = o.send(Method::DELETE, &format!("/api/team/users/{}", agent.id), json!({})).await;
    assert_eq!(r.status(), 200);
    assert_eq!(admin.json("/api/team/users").await.as_array().unwrap().len(), 2);

    // Invites can be revoked.
    let created: Value =
        admin.post("/api/team/invites", json!({"role": "agent"})).await.json().await.unwrap();
    let token = created["link"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    let id = created["invite"]["id"].as_str().unwrap();
    assert_eq!(admin.send(Method::DELETE, &format!("/api/team/invites/{id}"), json!({})).await.status(), 200);
    assert_eq!(
        s.client.get(s.url(&format!("/api/auth/invites/{token}"))).send().await.unwrap().status(),
        404
    );
}

/// Every route whose OpenAPI entry declares a security requirement: without a session it is
/// 401; as a plain agent, routes secured only by `admin_session` are 403. Generic over the
/// document, so routes other areas add are covered without editing this test.
#[tokio::test]
async fn every_secured_route_in_the_openapi_document_checks_auth_and_role() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    let agent = member(&s, &o, "agent", "Alex Agent", "alex@example.eu").await;
    let spec: Value = s.client.get(s.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let prefix = spec["servers"][0]["url"].as_str().unwrap_or("").trim_end_matches('/').to_owned();

    let mut secured = 0;
    let mut admin_routes = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(security) = op["security"].as_array() else { continue };
            if security.is_empty() {
                continue;
            }
            let schemes: Vec<&str> =
                security.iter().flat_map(|req| req.as_object().unwrap().keys().map(|k| k.as_str())).collect();
            let concrete = path
                .split('/')
                .map(|seg| if seg.starts_with('{') { "x0" } else { seg })
                .collect::<Vec<_>>()
                .join("/");
            let url = s.url(&format!("{prefix}{concrete}"));
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            secured += 1;

            let anon =
                reqwest::Client::new().request(method.clone(), &url).json(&json!({})).send().await.unwrap();
            assert_eq!(
                anon.status(),
                401,
                "{method} {path} without a session must be 401 (schemes {schemes:?})"
            );

            let team_only = schemes.iter().all(|s| *s == "agent_session" || *s == "admin_session");
            if team_only && schemes.iter().all(|s| *s == "admin_session") {
                admin_routes += 1;
                let r = agent
                    .client
                    .request(method.clone(), &url)
                    .header("X-CSRF-Token", &agent.csrf)
                    .json(&json!({}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 403, "{method} {path} as an agent must be 403");
            }
        }
    }
    assert!(secured >= 10, "the walk found {secured} secured routes");
    assert!(admin_routes >= 4, "the walk found {admin_routes} admin routes");
}

#[tokio::test]
async fn the_app_shell_is_served_at_app() {
    let s = TestServer::start().await;
    let r = reqwest::Client::builder().redirect(reqwest::redirect::Policy::limited(3)).build().unwrap();
    for path in ["/app", "/app/"] {
        let resp = r.get(s.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{path}");
        let html = resp.text().await.unwrap();
        assert!(html.contains("/app/app.js"), "{path} serves the shell");
    }
    for file in ["/app/app.js", "/app/api.js", "/app/style.css", "/app/inbox.js"] {
        let resp = s.client.get(s.url(file)).send().await.unwrap();
        assert_eq!(resp.status(), 200, "{file}");
        if file.ends_with(".js") {
            let body = resp.text().await.unwrap();
            assert!(!body.contains(".innerHTML"), "{file} must not use innerHTML");
            assert!(
                !body.contains("http://") && !body.contains("https://"),
                "{file} loads nothing from elsewhere"
            );
        }
    }
}
