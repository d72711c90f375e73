//! The visitor API and its live stream, over real HTTP: token isolation, ordering, resume
//! without loss or duplicates (also across a restart), limits, CORS and identity verification.

use std::time::Duration;

use baton::conversation::{self, Author, Body, NewMessage, TextBody};
use baton::ids::ConversationId;
use futures_util::StreamExt;
use serde_json::{json, Value};

use crate::common::TestServer;

/// A visitor as the widget is: a token and a client.
struct Visitor {
    token: String,
    base: String,
    http: reqwest::Client,
}

impl Visitor {
    async fn new(s: &TestServer) -> Visitor {
        let http = reqwest::Client::new();
        let r = http.post(s.url("/api/widget/session")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        Visitor { token: body["token"].as_str().unwrap().to_owned(), base: s.base.clone(), http }
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await.unwrap()
    }

    async fn say(&self, text: &str) -> Value {
        let r = self
            .post(
                "/api/widget/messages",
                json!({"text": text, "page": {"url": "https://shop.example/pricing", "title": "Pricing"}}),
            )
            .await;
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        r.json().await.unwrap()
    }

    async fn conversation(&self) -> Value {
        let r = self.get("/api/widget/conversation").await;
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }

    async fn conv_id(&self) -> ConversationId {
        ConversationId::from(self.conversation().await["conversation"]["id"].as_str().unwrap())
    }
}

/// A minimal SSE client (what EventSource does), reading events with a timeout.
struct Sse {
    stream: futures_util::stream::BoxStream<'static, reqwest::Result<Vec<u8>>>,
    buf: String,
}

#[derive(Debug, Clone)]
struct SseEvent {
    event: String,
    id: Option<u64>,
    data: Value,
}

impl Sse {
    async fn connect(base: &str, token: &str, last_event_id: Option<u64>) -> Sse {
        let mut req = reqwest::Client::new().get(format!("{base}/api/widget/stream?token={token}"));
        if let Some(id) = last_event_id {
            req = req.header("Last-Event-ID", id.to_string());
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 200, "stream refused: {}", r.text().await.unwrap_or_default());
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
        Sse { stream: r.bytes_stream().map(|c| c.map(|b| b.to_vec())).boxed(), buf: String::new() }
    }

    /// The next event (heartbeat comments skipped), or None after `wait`.
    async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(pos) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..pos + 2).collect();
                let (mut event, mut id, mut data) = ("message".to_owned(), None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = v.trim().parse().ok();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // a comment (heartbeat)
                }
                return Some(SseEvent { event, id, data: serde_json::from_str(&data).unwrap() });
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next()).await.ok()??.ok()?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Message events until none arrives for `quiet`.
    async fn messages(&mut self, quiet: Duration) -> Vec<SseEvent> {
        let mut out = Vec::new();
        while let Some(e) = self.next(quiet).await {
            if e.event == "message" {
                out.push(e);
            }
        }
        out
    }
}

fn text_of(e: &SseEvent) -> String {
    let m = &e.data["message"];
    m["body"]["text"].as_str().or(m["body"]["answer"]["text"].as_str()).unwrap_or_default().to_owned()
}

/// Appends a message as an agent would (the inbox is another engineer's; the store is the contract).
fn agent_says(s: &TestServer, id: &ConversationId, text: &str) -> u64 {
    let author = Author::agent("u1".into(), "Dana");
    conversation::append(&s.state.store, &s.state.hub, id, NewMessage::text(author, text)).unwrap().seq
}

#[tokio::test]
async fn a_visitor_token_only_ever_reaches_its_own_conversation() {
    let s = TestServer::start().await;
    let (a, b) = (Visitor::new(&s).await, Visitor::new(&s).await);
    a.say("Alice's private question about invoice 4711").await;
    b.say("Bob asks about shipping").await;
    let (ca, cb) = (a.conv_id().await, b.conv_id().await);
    assert_ne!(ca, cb);

    // A private note on Alice's thread is never shown to her.
    let note = NewMessage {
        author: Author::agent("u1".into(), "Dana"),
        body: Body::Note(TextBody { text: "internal: check fraud".into() }),
        page: None,
        client_id: String::new(),
    };
    conversation::append(&s.state.store, &s.state.hub, &ca, note).unwrap();

    let seen_by_b = b.conversation().await.to_string();
    assert!(seen_by_b.contains("Bob asks") && !seen_by_b.contains("4711"), "{seen_by_b}");
    let seen_by_a = a.conversation().await.to_string();
    assert!(seen_by_a.contains("4711") && !seen_by_a.contains("Bob asks"));
    assert!(!seen_by_a.contains("check fraud"), "private notes are not for visitors: {seen_by_a}");

    // B's stream carries only B's thread.
    let mut sse = Sse::connect(&s.base, &b.token, None).await;
    agent_says(&s, &ca, "reply for Alice only");
    agent_says(&s, &cb, "reply for Bob");
    let texts: Vec<String> = sse.messages(Duration::from_millis(800)).await.iter().map(text_of).collect();
    assert!(texts.iter().any(|t| t == "reply for Bob"), "{texts:?}");
    assert!(!texts.iter().any(|t| t.contains("Alice")), "{texts:?}");

    // No token, a wrong token, or someone else's conversation id: nothing.
    let r = reqwest::get(s.url("/api/widget/conversation")).await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unauthenticated");
    let r = s.client.get(s.url("/api/widget/conversation")).bearer_auth("f00").send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = s
        .client
        .get(s.url(&format!("/api/widget/stream?token=nope&conversation={ca}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[tokio::test]
async fn messages_are_stored_before_the_reply_and_arrive_in_order() {
    let s = TestServer::start().await;
    let v = Visitor::new(&s).await;
    let first = v.say("first").await;
    assert_eq!(first["message"]["seq"], 1);
    assert_eq!(first["conversation"]["state"], "bot");
    let id = v.conv_id().await;
    // Durable before the 200: it is in the store already.
    assert_eq!(conversation::messages_after(&s.state.store, &id, 0).unwrap()[0].text(), "first");

    let mut sse = Sse::connect(&s.base, &v.token, None).await;
    let hello = sse.next(Duration::from_secs(2)).await.unwrap();
    assert_eq!(hello.event, "hello");
    assert_eq!(hello.data["conversation"]["id"], id.as_str());
    for i in 0..10 {
        let r = v
            .post("/api/widget/messages", json!({"text": format!("n{i}"), "client_id": format!("c{i}")}))
            .await;
        assert_eq!(r.status(), 200);
    }
    // A retried client_id is stored once.
    let again: Value =
        v.post("/api/widget/messages", json!({"text": "n3", "client_id": "c3"})).await.json().await.unwrap();
    assert_eq!(again["message"]["client_id"], "c3");

    let events = sse.messages(Duration::from_millis(1500)).await;
    let ids: Vec<u64> = events.iter().map(|e| e.id.expect("message events carry their seq as id")).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "strictly increasing, no duplicates: {ids:?}");
    assert_eq!(ids[0], 1, "replayed from the start");
    let visitor_texts: Vec<String> =
        events.iter().filter(|e| e.data["message"]["author"]["kind"] == "visitor").map(text_of).collect();
    let expected: Vec<String> =
        std::iter::once("first".to_owned()).chain((0..10).map(|i| format!("n{i}"))).collect();
    assert_eq!(visitor_texts, expected);
}

#[tokio::test]
async fn a_reconnecting_stream_resumes_without_loss_or_duplicates() {
    let s = TestServer::start().await;
    let v = Visitor::new(&s).await;
    v.say("hello").await;
    let id = v.conv_id().await;
    for i in 0..3 {
        agent_says(&s, &id, &format!("a{i}"));
    }
    let mut sse = Sse::connect(&s.base, &v.token, None).await;
    let got = sse.messages(Duration::from_millis(1500)).await;
    let last = got.last().unwrap().id.unwrap();
    drop(sse);

    // Written while the visitor was disconnected.
    let missed: Vec<u64> = (0..4).map(|i| agent_says(&s, &id, &format!("while away {i}"))).collect();

    let mut sse = Sse::connect(&s.base, &v.token, Some(last)).await;
    let mut resumed = sse.messages(Duration::from_millis(800)).await;
    // Live ones after reconnecting come on the same stream.
    let live = agent_says(&s, &id, "live after reconnect");
    resumed.extend(sse.messages(Duration::from_millis(800)).await);
    let ids: Vec<u64> = resumed.iter().map(|e| e.id.unwrap()).collect();
    let mut expected = missed.clone();
    expected.push(live);
    // The AI may still add answers to "hello" in between; everything after `last` arrives once.
    let all_after: Vec<u64> =
        conversation::messages_after(&s.state.store, &id, last).unwrap().iter().map(|m| m.seq).collect();
    assert_eq!(ids, all_after, "exactly the messages after Last-Event-ID, once each");
    assert!(expected.iter().all(|x| ids.contains(x)));

    // `?last_event_id=` works like the header (EventSource fallback).
    let r = reqwest::get(s.url(&format!("/api/widget/stream?token={}&last_event_id={}", v.token, live - 1)))
        .await
        .unwrap();
    let mut sse = Sse { stream: r.bytes_stream().map(|c| c.map(|b| b.to_vec())).boxed(), buf: String::new() };
    let again = sse.messages(Duration::from_millis(800)).await;
    assert_eq!(again.iter().map(|e| e.id.unwrap()).collect::<Vec<_>>(), vec![live]);
}

#[tokio::test]
async fn the_stream_resumes_across_a_server_restart() {
    let s = TestServer::start().await;
    let v = Visitor::new(&s).await;
    // "Talk to the team" starts the thread without waking the AI (whose answer task would hold
    // the old server's state while the model computes).
    assert_eq!(v.post("/api/widget/handoff", json!({})).await.status(), 200);
    let id = v.conv_id().await;
    agent_says(&s, &id, "before the restart");
    agent_says(&s, &id, "agent before");
    let mut sse = Sse::connect(&s.base, &v.token, None).await;
    let last = sse.messages(Duration::from_millis(1500)).await.last().unwrap().id.unwrap();
    drop(sse);
    // The server notices a closed stream only when a write fails (the first write after the
    // peer closed still succeeds), and graceful shutdown waits for it: two writes make it quick.
    agent_says(&s, &id, "written while the visitor is away (1)");
    tokio::time::sleep(Duration::from_millis(200)).await;
    agent_says(&s, &id, "written while the visitor is away (2)");

    // Like a browser closing its tab: its idle keep-alive connections go too (graceful
    // shutdown waits for open connections).
    let token = v.token.clone();
    drop(v);

    let config = s.state.config().as_ref().clone();
    let data = s.stop();
    // Wait until the old server has released the database.
    let db = data.path().join("baton.redb");
    let t0 = std::time::Instant::now();
    while let Err(e) = redb::Database::create(&db) {
        assert!(t0.elapsed() < Duration::from_secs(120), "the old server never released the database: {e}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!("old server released the database after {:?}", t0.elapsed());
    let s2 = TestServer::start_in(data, config, true).await;
    let after = agent_says(&s2, &id, "agent after the restart");

    // Same token, new server: the visitor resumes from the last seq it saw.
    let mut sse = Sse::connect(&s2.base, &token, Some(last)).await;
    let resumed = sse.messages(Duration::from_millis(1000)).await;
    let expected: Vec<u64> =
        conversation::messages_after(&s2.state.store, &id, last).unwrap().iter().map(|m| m.seq).collect();
    assert_eq!(resumed.iter().map(|e| e.id.unwrap()).collect::<Vec<_>>(), expected);
    assert_eq!(resumed.last().map(text_of).as_deref(), Some("agent after the restart"));
    assert_eq!(expected.last(), Some(&after));
    let v2 = Visitor { token, base: s2.base.clone(), http: reqwest::Client::new() };
    let texts = v2.conversation().await.to_string();
    assert!(texts.contains("before the restart") && texts.contains("agent after the restart"));
}

#[tokio::test]
async fn the_stream_shows_state_changes_and_agent_typing() {
    let s = TestServer::start().await;
    let v = Visitor::new(&s).await;
    v.say("hi").await;
    let mut sse = Sse::connect(&s.base, &v.token, None).await;
    let r = v.post("/api/widget/handoff", json!({})).await;
    assert_eq!(r.status(), 200);
    let conv: Value = r.json().await.unwrap();
    assert_eq!(conv["state"], "waiting_for_human");
    let id = v.conv_id().await;
    s.state.hub.publish(baton::hub::HubEvent::Typing {
        conversation: id.clone(),
        who: baton::hub::Typist::Agent { id: "u1".into(), name: "Dana".into() },
        typing: true,
    });
    let mut kinds = Vec::new();
    let mut handoff_texts = Vec::new();
    while let Some(e) = sse.next(Duration::from_millis(1000)).await {
        if e.event == "message" && e.data["message"]["body"]["event"] == "handoff" {
            handoff_texts.push(e.data["message"]["body"]["text"].to_string());
        }
        kinds.push((
            e.event.clone(),
            e.data["conversation"]["state"].clone(),
            e.data["typing"]["name"].clone(),
        ));
    }
    assert!(kinds.iter().any(|k| k.0 == "conversation" && k.1 == "waiting_for_human"), "{kinds:?}");
    assert!(kinds.iter().any(|k| k.0 == "typing" && k.2 == "Dana"), "{kinds:?}");
    assert_eq!(
        handoff_texts,
        vec!["\"Handed to the team\"".to_owned()],
        "no internal reason for the visitor"
    );
    // The agent sees why.
    let c = conversation::get(&s.state.store, &id).unwrap();
    assert_eq!(c.handoff.unwrap().trigger, "button");
    assert!(c.visitor_seen_at.is_some());
}

#[tokio::test]
async fn context_follow_up_email_and_csat_are_stored() {
    let s = TestServer::start().await;
    let v = Visitor::new(&s).await;
    // Before the first message: kept in the profile, becomes the thread's context.
    let r = v
        .post(
            "/api/widget/context",
            json!({"locale": "de-DE", "timezone": "Europe/Berlin", "referrer": "https://google.example/",
                   "user_agent": "UA/1", "page": {"url": "https://shop.example/", "title": "Shop"},
                   "attributes": {"plan": "pro"}}),
        )
        .await;
    assert_eq!(r.status(), 200);
    v.say("Hallo").await;
    let id = v.conv_id().await;
    let c = conversation::get(&s.state.store, &id).unwrap();
    assert_eq!((c.context.locale.as_str(), c.context.timezone.as_str()), ("de-DE", "Europe/Berlin"));
    assert_eq!(c.context.attributes["plan"], "pro");
    assert_eq!(c.context.pages.len(), 2, "{:?}", c.context.pages);

    // Follow-up email: validated, stored with consent, an event line in the thread.
    let r = v.post("/api/widget/follow-up", json!({"email": "not-an-email", "consent_text": "ok"})).await;
    assert_eq!(r.status(), 422);
    let r = v
        .post(
            "/api/widget/follow-up",
            json!({"email": "ada@example.com", "consent_text": "We'll email you once."}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let c = conversation::get(&s.state.store, &id).unwrap();
    let f = c.follow_up.unwrap();
    assert_eq!((f.email.as_str(), f.consent_text.as_str()), ("ada@example.com", "We'll email you once."));
    let msgs = conversation::messages_after(&s.state.store, &id, 0).unwrap();
    assert!(msgs.iter().any(|m| matches!(&m.body, Body::Event(e) if e.event == "email_left")));

    // CSAT only after resolution; then a new conversation can start.
    let r = v.post("/api/widget/csat", json!({"score": 5})).await;
    assert_eq!(r.status(), 409);
    conversation::transition(
        &s.state.store,
        &s.state.hub,
        &id,
        conversation::State::Resolved,
        NewMessage::event("resolved", "Resolved", json!({})),
        |_| {},
    )
    .unwrap();
    assert_eq!(v.post("/api/widget/csat", json!({"score": 9})).await.status(), 422);
    let r = v.post("/api/widget/csat", json!({"score": 4, "comment": "quick, thanks"})).await;
    assert_eq!(r.status(), 200);
    let csat = conversation::get(&s.state.store, &id).unwrap().csat.unwrap();
    assert_eq!((csat.score, csat.comment.as_str()), (4, "quick, thanks"));
    let next = v.say("one more question").await;
    assert_ne!(next["conversation"]["id"], id.as_str(), "a new thread after resolution");
    assert_eq!(next["message"]["seq"], 1);
}

#[tokio::test]
async fn identify_must_be_signed_when_a_secret_is_set() {
    let s = TestServer::start_with(|c| c.security.identity_secret = "k3y".into()).await;
    let cfg: Value = reqwest::get(s.url("/api/widget/config")).await.unwrap().json().await.unwrap();
    assert_eq!(cfg["identity_verification"], true);
    assert_eq!(cfg["widget"]["team_name"], "Support");
    let v = Visitor::new(&s).await;
    v.say("hi").await;
    let id = v.conv_id().await;
    let ident = |hash: &str| json!({"identify": {"user_id": "user-7", "email": "ceo@example.com", "name": "CEO", "identity_hash": hash}});
    let r = v.post("/api/widget/context", ident("")).await;
    assert_eq!(r.status(), 403, "unsigned identify is refused");
    let r = v.post("/api/widget/context", ident(&baton::visitor::identity_hash("wrong", "user-7"))).await;
    assert_eq!(r.status(), 403, "wrongly signed identify is refused");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "forbidden");
    assert!(!conversation::get(&s.state.store, &id).unwrap().context.identified);

    let r = v.post("/api/widget/context", ident(&baton::visitor::identity_hash("k3y", "user-7"))).await;
    assert_eq!(r.status(), 200);
    let c = conversation::get(&s.state.store, &id).unwrap();
    assert!(c.context.identified);
    assert_eq!((c.context.user_id.as_str(), c.context.email.as_str()), ("user-7", "ceo@example.com"));
    assert_eq!(c.context.attributes["identity_verified"], true);
}

#[tokio::test]
async fn bad_input_gets_a_json_4xx() {
    let s = TestServer::start_with(|c| c.limits.max_message_chars = 100).await;
    let v = Visitor::new(&s).await;
    let check = |r: reqwest::Response, status: u16, code: &'static str| async move {
        assert_eq!(r.status(), status);
        assert!(r.headers()["content-type"].to_str().unwrap().contains("json"));
        let b: Value = r.json().await.unwrap();
        assert_eq!(b["code"], code, "{b}");
        assert!(b["message"].as_str().is_some_and(|m| !m.is_empty()));
    };
    check(v.post("/api/widget/messages", json!({"text": "x".repeat(101)})).await, 422, "invalid_input").await;
    check(v.post("/api/widget/messages", json!({"text": "   "})).await, 422, "invalid_input").await;
    let r = v
        .http
        .post(s.url("/api/widget/messages"))
        .bearer_auth(&v.token)
        .header("content-type", "application/json")
        .body("{\"text\": ")
        .send()
        .await
        .unwrap();
    check(r, 400, "bad_request").await;
    // Over limits.max_json_bytes: 413 at once, with and without a Content-Length.
    let big = json!({"text": "y".repeat(70 * 1024)}).to_string();
    let r = v
        .http
        .post(s.url("/api/widget/messages"))
        .bearer_auth(&v.token)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    check(r, 413, "payload_too_large").await;
    let chunks = futures_util::stream::iter(
        big.into_bytes().chunks(4096).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let r = tokio::time::timeout(
        Duration::from_secs(5),
        v.http
            .post(s.url("/api/widget/messages"))
            .bearer_auth(&v.token)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(chunks))
            .send(),
    )
    .await
    .expect("no hang")
    .unwrap();
    check(r, 413, "payload_too_large").await;
    check(v.post("/api/widget/messages/999/rating", json!({"rating": "helpful"})).await, 404, "not_found")
        .await;
    check(v.post("/api/widget/csat", json!({"score": 3})).await, 404, "not_found").await;
}

#[tokio::test]
async fn rate_limits_per_visitor_and_per_ip_return_429() {
    let s = TestServer::start_with(|c| {
        c.limits.visitor_messages_per_minute = 3;
        c.limits.ip_requests_per_minute = 12;
    })
    .await;
    let v = Visitor::new(&s).await; // request 1 from this IP
    for i in 0..3 {
        v.say(&format!("m{i}")).await; // 2..4
    }
    let r = v.post("/api/widget/messages", json!({"text": "one too many"})).await; // 5
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["code"], "rate_limited");
    // Another visitor (same IP) may still talk…
    let w = Visitor::new(&s).await; // 6
    w.say("hello").await; // 7
                          // …until the IP's budget is spent.
    let mut last = 0;
    for _ in 0..10 {
        last = w.get("/api/widget/conversation").await.status().as_u16();
    }
    assert_eq!(last, 429);
}

#[tokio::test]
async fn cors_follows_the_allow_list() {
    let s =
        TestServer::start_with(|c| c.security.allowed_origins = vec!["https://shop.example".into()]).await;
    let preflight = |origin: &'static str| {
        s.client
            .request(reqwest::Method::OPTIONS, s.url("/api/widget/messages"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "authorization, content-type")
            .send()
    };
    let ok = preflight("https://shop.example").await.unwrap();
    assert!(ok.status().is_success());
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://shop.example");
    assert!(ok.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    let bad = preflight("https://evil.example").await.unwrap();
    assert_eq!(bad.status(), 403);
    assert!(bad.headers().get("access-control-allow-origin").is_none());

    let r = s
        .client
        .post(s.url("/api/widget/session"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = s
        .client
        .post(s.url("/api/widget/session"))
        .header("Origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], "https://shop.example");
    // The demo page on Baton's own origin always works.
    let own = format!("http://{}", s.addr);
    let r = s.client.get(s.url("/api/widget/config")).header("Origin", own.clone()).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"].to_str().unwrap(), own);

    // Admin edits apply without a restart.
    s.state.update_config(|c| c.security.allowed_origins.push("https://evil.example".into())).unwrap();
    assert!(preflight("https://evil.example").await.unwrap().status().is_success());
}

#[tokio::test]
async fn the_snippet_and_demo_page_are_served() {
    let s = TestServer::start().await;
    let r = reqwest::get(s.url("/widget.js")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"].to_str().unwrap().contains("javascript"));
    let js = r.text().await.unwrap();
    assert!(js.contains("attachShadow") && js.contains("window.Baton"));
    assert!(!js.contains("innerHTML ="), "untrusted text is never put into innerHTML");
    let page = reqwest::get(s.url("/")).await.unwrap().text().await.unwrap();
    assert!(page.contains("/widget.js"), "the demo page embeds the widget");
}

#[tokio::test]
async fn a_follow_up_emails_resume_link_reopens_the_thread_in_another_browser() {
    let s = TestServer::start().await;
    let v = Visitor::new(&s).await;
    v.say("please email me").await;
    let id = v.conv_id().await;
    let conv = conversation::get(&s.state.store, &id).unwrap();
    let link = baton::handoff::notify::resume_link(&s.state, &conv.visitor, &id).unwrap();
    let resume = link.split("baton_resume=").nth(1).unwrap();

    // Another browser (no token) opens the link.
    let other = reqwest::Client::new();
    let r = other.post(s.url("/api/widget/resume")).json(&json!({"resume": resume})).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
    assert_ne!(token, v.token);
    let view: Value = other
        .get(s.url("/api/widget/conversation"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(view["conversation"]["id"], id.as_str());
    assert!(view.to_string().contains("please email me"));

    // A tampered link grants nothing.
    let bad = format!("{}x", resume);
    let r = other.post(s.url("/api/widget/resume")).json(&json!({"resume": bad})).send().await.unwrap();
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn a_connected_widget_keeps_the_visitor_marked_as_seen() {
    let s = TestServer::start().await;
    let v = Visitor::new(&s).await;
    v.say("hi").await;
    let id = v.conv_id().await;
    // Pretend the visitor was last seen long ago.
    let old = chrono::Utc::now() - chrono::Duration::hours(1);
    conversation::update(&s.state.store, &s.state.hub, &id, |c| {
        c.visitor_seen_at = Some(old);
        Ok(())
    })
    .unwrap();
    let _sse = Sse::connect(&s.base, &v.token, None).await;
    let t0 = std::time::Instant::now();
    loop {
        let seen = conversation::get(&s.state.store, &id).unwrap().visitor_seen_at.unwrap();
        if seen > old + chrono::Duration::minutes(59) {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(5), "opening the stream marks the visitor as seen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
