//! The durable reply queue: under a burst larger than the embedding queue every visitor message
//! still gets its reply (an answer, the "taking longer" line, or a handoff), in order, and a
//! reply owed when the server stopped is delivered after the restart.

use std::time::{Duration, Instant};

use baton::conversation::{self, Author, Body, Message, NewMessage, VisitorContext};
use serde_json::{json, Value};

use crate::common::TestServer;

/// Waits until the reply queue is empty.
async fn drained(s: &TestServer, wait: Duration) {
    let t0 = Instant::now();
    loop {
        let stats = baton::answer_queue::stats(&s.state.store).unwrap();
        if stats.depth == 0 {
            return;
        }
        assert!(t0.elapsed() < wait, "replies still queued after {wait:?}: {stats:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The reply to visitor message `seq`: the AI's message tagged `ai-<seq>`.
fn reply_to(messages: &[Message], seq: u64) -> Option<&Message> {
    messages.iter().find(|m| m.client_id == format!("ai-{seq}"))
}

/// Every visitor message has its reply, and the replies come in the visitors' order. A message
/// the triggers handed to the team ("talk to a person", a loop) is answered by the handoff.
fn assert_all_replied(messages: &[Message]) {
    let handed_off = messages.iter().any(|m| matches!(&m.body, Body::Event(e) if e.event == "handoff"));
    let asked: Vec<u64> = messages
        .iter()
        .filter(|m| matches!((&m.author, &m.body), (Author::Visitor(_), Body::Text(_))))
        .map(|m| m.seq)
        .collect();
    let mut last = 0;
    for seq in asked {
        let Some(reply) = reply_to(messages, seq) else {
            assert!(handed_off, "message {seq} got no reply and no handoff: {messages:#?}");
            continue;
        };
        assert!(reply.seq > last, "replies out of order at {seq}");
        last = reply.seq;
        // A "taking longer" line, when there is one, comes before the reply it announces.
        if let Some(notice) = messages.iter().find(|m| m.client_id == format!("delay-{seq}")) {
            assert!(notice.seq < reply.seq);
        }
    }
}

const QUESTIONS: [&str; 5] = [
    "How do I reset my password?",
    "Can I export my notes as a PDF file?",
    "What does the team plan cost per month?",
    "Is there an app for Android phones?",
    "Where do I change the language of the invoices?",
];

#[tokio::test]
async fn a_burst_larger_than_the_embedding_queue_gets_every_visitor_a_reply() {
    let s = TestServer::start_with(|c| {
        c.limits.embed_queue = 2;
        c.limits.visitor_messages_per_minute = 1_000;
        c.limits.ip_requests_per_minute = 100_000;
        c.limits.reply_notice_secs = 2;
    })
    .await;
    s.state
        .knowledge
        .add_snippet(
            "How do I reset my password?",
            "Open Settings, then Security, then Reset password.",
            "test",
        )
        .await
        .unwrap();
    let (visitors, each) = (24, 5);
    let t0 = Instant::now();
    let sends = (0..visitors).map(|v| {
        let (base, http) = (s.base.clone(), reqwest::Client::new());
        async move {
            let session: Value =
                http.post(format!("{base}/api/widget/session")).send().await.unwrap().json().await.unwrap();
            let token = session["token"].as_str().unwrap().to_owned();
            let msgs = (0..each).map(|i| {
                let (http, base, token) = (http.clone(), base.clone(), token.clone());
                async move {
                    let q = QUESTIONS[(v + i) % QUESTIONS.len()];
                    http.post(format!("{base}/api/widget/messages"))
                        .bearer_auth(&token)
                        .json(&json!({"text": q, "client_id": format!("v{v}-{i}")}))
                        .send()
                        .await
                        .unwrap()
                        .status()
                }
            });
            futures_util::future::join_all(msgs).await
        }
    });
    let statuses: Vec<_> = futures_util::future::join_all(sends).await.into_iter().flatten().collect();
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let peak = baton::answer_queue::stats(&s.state.store).unwrap();
    drained(&s, Duration::from_secs(600)).await;
    eprintln!(
        "{} messages replied in {:?} (queue right after the burst: {peak:?})",
        statuses.len(),
        t0.elapsed()
    );
    let convs = conversation::list(&s.state.store).unwrap();
    assert_eq!(convs.len(), visitors);
    for c in convs {
        let messages = conversation::messages_after(&s.state.store, &c.id, 0).unwrap();
        assert_all_replied(&messages);
    }
}

#[tokio::test]
async fn a_reply_owed_at_shutdown_is_delivered_after_the_restart() {
    let data = tempfile::tempdir().unwrap();
    let config = baton::Config {
        data_dir: data.path().to_path_buf(),
        addr: "127.0.0.1:0".parse().unwrap(),
        demo_knowledge: false,
        ..baton::Config::default()
    };
    // A process that stores the visitor's messages and stops before any reply is worked on.
    let id = {
        let state = baton::AppState::new(config.clone(), true).unwrap();
        let (token, _) = conversation::create_visitor(&state.store).unwrap();
        let conv =
            conversation::open_for_visitor(&state.store, &state.hub, &token, VisitorContext::default())
                .unwrap();
        for text in ["Where is my invoice?", "And how do I change my plan?"] {
            let msg = NewMessage::text(Author::visitor(), text);
            baton::answer_queue::append_visitor_message(&state, &conv.id, msg).unwrap();
        }
        assert_eq!(baton::answer_queue::stats(&state.store).unwrap().depth, 2);
        conv.id
    };
    let s = TestServer::start_in(data, config, true).await;
    let health: Value = s.client.get(s.url("/healthz")).send().await.unwrap().json().await.unwrap();
    assert!(health["reply_queue_depth"].is_u64(), "{health}");
    drained(&s, Duration::from_secs(120)).await;
    let messages = conversation::messages_after(&s.state.store, &id, 0).unwrap();
    assert_all_replied(&messages);
}
