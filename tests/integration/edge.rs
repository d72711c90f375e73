//! The HTTP edge: streams end with their session, body limits on every route, JSON errors even
//! for requests hyper would refuse, and the Content-Security-Policy of every page.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::accounts::{member, owner, Member};
use crate::common::TestServer;

/// Reads an SSE stream until `needle` shows up (Some(true)), the stream ends (Some(false)),
/// or `wait` passes (None).
async fn until<B: AsRef<[u8]>>(
    body: &mut (impl futures_util::Stream<Item = reqwest::Result<B>> + Unpin),
    needle: &str,
    wait: Duration,
) -> (Option<bool>, String) {
    let deadline = tokio::time::Instant::now() + wait;
    let mut seen = String::new();
    loop {
        match tokio::time::timeout_at(deadline, body.next()).await {
            Err(_) => return (None, seen),
            Ok(None) | Ok(Some(Err(_))) => return (Some(false), seen),
            Ok(Some(Ok(chunk))) => {
                seen.push_str(&String::from_utf8_lossy(chunk.as_ref()));
                if seen.contains(needle) {
                    return (Some(true), seen);
                }
            }
        }
    }
}

async fn visitor_says(s: &TestServer, token: &str, text: &str) {
    let r = s
        .client
        .post(s.url("/api/widget/messages"))
        .bearer_auth(token)
        .json(&json!({"text": text}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn new_visitor(s: &TestServer) -> String {
    let v: Value = s.client.post(s.url("/api/widget/session")).send().await.unwrap().json().await.unwrap();
    v["token"].as_str().unwrap().to_owned()
}

/// The request that ends a member's session, given the member.
type SessionEnd = Box<dyn Fn(&Member) -> (Method, String, Value)>;

#[tokio::test]
async fn an_inbox_stream_ends_when_its_session_ends() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    let visitor = new_visitor(&s).await;
    // How each agent's session ends.
    let ends: [(&str, SessionEnd); 4] = [
        ("logged out", Box::new(|_: &Member| (Method::POST, "/api/auth/logout".into(), json!({})))),
        (
            "logged out everywhere",
            Box::new(|_: &Member| (Method::POST, "/api/auth/logout-everywhere".into(), json!({}))),
        ),
        (
            "disabled",
            Box::new(|a: &Member| {
                (Method::PATCH, format!("/api/team/users/{}", a.id), json!({"disabled": true}))
            }),
        ),
        ("removed", Box::new(|a: &Member| (Method::DELETE, format!("/api/team/users/{}", a.id), json!({})))),
    ];
    for (i, (how, end)) in ends.iter().enumerate() {
        let agent = member(&s, &o, "agent", &format!("Agent {i}"), &format!("agent{i}@example.eu")).await;
        let r = agent.get("/api/inbox/stream").await;
        assert_eq!(r.status(), 200);
        let mut body = r.bytes_stream();
        let before = format!("before {how}");
        visitor_says(&s, &visitor, &before).await;
        assert_eq!(until(&mut body, &before, Duration::from_secs(10)).await.0, Some(true), "{how}: live");

        let (method, path, payload) = end(&agent);
        let actor = if path.starts_with("/api/team") { &o } else { &agent };
        let r = actor.send(method, &path, payload).await;
        assert!(r.status().is_success(), "{how}: {}", r.status());

        let after = format!("after {how}");
        visitor_says(&s, &visitor, &after).await;
        let (outcome, seen) = until(&mut body, &after, Duration::from_secs(8)).await;
        assert_eq!(outcome, Some(false), "{how}: the stream must end, and not deliver: {seen}");
    }
}

#[tokio::test]
async fn an_oversized_body_is_refused_at_once_on_every_route() {
    let s = TestServer::start().await;
    let max = s.state.config().limits.max_json_bytes;
    let routes =
        ["/api/answers", "/api/auth/login", "/api/widget/session", "/api/team/invites", "/api/nowhere"];
    for path in routes {
        // Declared length over the limit: 413 before the body is read.
        let r = s
            .client
            .post(s.url(path))
            .header("Content-Type", "application/json")
            .body(vec![b' '; max + 1])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["code"], "payload_too_large", "{path}");
    }
    // A chunked body of (up to) 300 MB: the server stops reading at the limit and answers.
    for path in ["/api/answers", "/api/auth/login"] {
        let sent = Arc::new(AtomicUsize::new(0));
        let counter = sent.clone();
        let chunk = vec![b'['; 64 * 1024];
        let stream = futures_util::stream::iter(0..(300 * 16)).map(move |_| {
            counter.fetch_add(chunk.len(), Ordering::Relaxed);
            Ok::<_, std::io::Error>(chunk.clone())
        });
        let t0 = Instant::now();
        let r = s
            .client
            .post(s.url(path))
            .header("Content-Type", "application/json")
            .body(reqwest::Body::wrap_stream(stream))
            .send()
            .await;
        let elapsed = t0.elapsed();
        let sent = sent.load(Ordering::Relaxed);
        if let Ok(r) = r {
            assert_eq!(r.status(), 413, "{path}");
        }
        assert!(sent < 32 * 1024 * 1024, "{path}: the client could send {sent} bytes");
        assert!(elapsed < Duration::from_secs(10), "{path}: {elapsed:?}");
    }
    assert_eq!(s.client.get(s.url("/healthz")).send().await.unwrap().status(), 200);
}

/// Sends raw bytes and reads the whole answer (the server closes the connection).
async fn raw(s: &TestServer, request: &[u8]) -> (u16, String, String) {
    let mut conn = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let (mut rd, mut wr) = conn.split();
    let write = async {
        let _ = wr.write_all(request).await;
    };
    let read = async {
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), rd.read_to_end(&mut out)).await;
        out
    };
    let ((), out) = tokio::join!(write, read);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (status, head.to_owned(), body.to_owned())
}

#[tokio::test]
async fn requests_hyper_would_refuse_get_json_errors() {
    let s = TestServer::start().await;
    let big_query = format!("GET /api/health?q={} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(100 * 1024));
    let big_header =
        format!("GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "b".repeat(1024 * 1024));
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        (
            "invalid UTF-8 in the path",
            b"GET /api/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        (
            "invalid UTF-8 in the query",
            b"GET /api/health?q=\xc3\x28 HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        (
            "percent-encoded invalid UTF-8",
            b"GET /api/inbox/conversations/%ff HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        (
            "NUL in a header",
            b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n".to_vec(),
            400,
            "bad_request",
        ),
        ("a 100 KB query", big_query.into_bytes(), 414, "uri_too_long"),
        ("a 1 MB header", big_header.into_bytes(), 431, "headers_too_large"),
    ];
    for (what, request, status, code) in cases {
        let (got, head, body) = raw(&s, &request).await;
        assert_eq!(got, status, "{what}: {head}");
        assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{what}: {head}");
        let v: Value =
            serde_json::from_str(&body).unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {body:?}"));
        assert_eq!(v["code"], code, "{what}: {v}");
        assert!(v["message"].is_string() && v["link"].is_string(), "{what}: {v}");
    }
    // Good requests on a kept-alive connection, with a body, still work after the checks.
    let good = b"POST /api/widget/session HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}\
GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let (status, _, rest) = raw(&s, good).await;
    assert_eq!(status, 200);
    assert!(rest.contains("\"status\":\"ok\""), "the second request was answered: {rest}");
}

#[tokio::test]
async fn every_page_has_a_content_security_policy() {
    let s = TestServer::start().await;
    for path in ["/", "/widget.js", "/app/", "/api/docs"] {
        let r = s.client.get(s.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let csp = r
            .headers()
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path} has no CSP"))
            .to_str()
            .unwrap()
            .to_owned();
        assert!(csp.contains("object-src 'none'") && csp.contains("base-uri 'none'"), "{path}: {csp}");
        let script_src = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap().to_owned();
        assert!(
            !script_src.contains("unsafe-inline") && !script_src.contains("unsafe-eval"),
            "{path}: {csp}"
        );
        let html = r.text().await.unwrap();
        if path == "/" {
            assert!(!html.contains("<script>"), "the demo page has no inline script");
        }
        if path == "/api/docs" {
            // Each inline script of the page is allowed by its hash, nothing else.
            assert!(script_src.matches("'sha256-").count() >= 2, "{csp}");
        }
    }
}
