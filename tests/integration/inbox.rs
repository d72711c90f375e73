//! The team inbox over HTTP: filters, counts, waiting order, search, the conversation view
//! (summary, sources, trigger, notes), replying (state, assignment, what the visitor sees),
//! collision prevention, resolve / hand back / reopen, the live team stream, agent assist.

use std::time::Duration;

use baton::answer::{Answer, Citation};
use baton::conversation::{
    self, AnswerBody, Author, Body, Conversation, NewMessage, PageRef, VisitorContext,
};
use baton::handoff::{self, Signal, Trigger};
use baton::ids::{ConversationId, DocumentId};
use baton::store::CONVERSATIONS;
use baton::AppState;
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

use crate::accounts::{member, owner, Member};
use crate::common::TestServer;

/// A visitor conversation with one question; returns its id and the visitor token.
fn visitor_asks(
    state: &AppState,
    question: &str,
    ctx: VisitorContext,
) -> (ConversationId, conversation::VisitorToken) {
    let (token, _) = conversation::create_visitor(&state.store).unwrap();
    let conv = conversation::open_for_visitor(&state.store, &state.hub, &token, ctx).unwrap();
    let mut m = NewMessage::text(Author::visitor(), question);
    m.page = Some(PageRef { url: "https://shop.example.eu/pricing".into(), title: "Pricing".into() });
    conversation::append(&state.store, &state.hub, &conv.id, m).unwrap();
    (conv.id, token)
}

fn ai_answers(state: &AppState, id: &ConversationId, text: &str, confidence: f32) {
    let answer = Answer {
        text: text.into(),
        blocks: vec![],
        citations: vec![Citation {
            n: 1,
            title: "Refund policy".into(),
            url: "https://docs.example.eu/refunds#timing".into(),
            section: "Timing".into(),
            path: "refunds.md".into(),
            document: DocumentId::from("doc-refunds"),
            snippet: "Refunds are paid within 14 days.".into(),
            score: 0.8,
        }],
        confidence,
        unsure: confidence < 0.5,
    };
    let msg = NewMessage {
        author: Author::ai(),
        body: Body::Answer(AnswerBody { answer, reply_to: 1 }),
        page: None,
        client_id: String::new(),
    };
    conversation::append(&state.store, &state.hub, id, msg).unwrap();
}

async fn hand_off(state: &AppState, id: &ConversationId, trigger: Trigger, reason: &str) {
    let signal = Signal { trigger, topic: String::new(), reason: reason.into(), team: String::new() };
    handoff::hand_off(state, id, signal).await.unwrap();
}

fn set_waiting_since(state: &AppState, id: &ConversationId, mins_ago: i64) {
    let mut c: Conversation = state.store.get_json(CONVERSATIONS, id.as_str()).unwrap().unwrap();
    c.waiting_since = Some(chrono::Utc::now() - chrono::Duration::minutes(mins_ago));
    state.store.put_json(CONVERSATIONS, id.as_str(), &c).unwrap();
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect()
}

async fn reply(agent: &Member, id: &ConversationId, text: &str, takeover: bool) -> reqwest::Response {
    agent
        .post(&format!("/api/inbox/conversations/{id}/reply"), json!({"text": text, "takeover": takeover}))
        .await
}

#[tokio::test]
async fn the_list_filters_counts_sorts_by_waiting_time_and_searches() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    let (short, _) = visitor_asks(&s.state, "Where is my parcel?", VisitorContext::default());
    let (long, _) = visitor_asks(
        &s.state,
        "Ich möchte eine Rückerstattung",
        VisitorContext { name: "Jana Nowak".into(), ..Default::default() },
    );
    let (bot, _) = visitor_asks(&s.state, "How do I export invoices?", VisitorContext::default());
    hand_off(&s.state, &short, Trigger::HumanRequest, "Asked for a person").await;
    hand_off(&s.state, &long, Trigger::Sensitive, "Billing topic").await;
    set_waiting_since(&s.state, &short, 2);
    set_waiting_since(&s.state, &long, 30);

    let page = o.json("/api/inbox/conversations?filter=waiting").await;
    assert_eq!(ids(&page), vec![long.0.clone(), short.0.clone()], "longest wait first");
    assert_eq!(page["items"][0]["visitor"], "Jana Nowak");
    assert_eq!(page["items"][0]["trigger"], "sensitive");
    assert!(page["items"][0]["waiting_secs"].as_u64().unwrap() >= 29 * 60);
    assert_eq!(page["counts"], json!({"waiting": 2, "mine": 0, "unassigned": 2, "ai": 1, "resolved": 0}));

    let ai = o.json("/api/inbox/conversations?filter=ai").await;
    assert_eq!(ids(&ai), vec![bot.0.clone()]);

    // Replying makes it mine.
    assert_eq!(reply(&o, &short, "Let me check", false).await.status(), 200);
    let mine = o.json("/api/inbox/conversations?filter=mine").await;
    assert_eq!(ids(&mine), vec![short.0.clone()]);
    assert_eq!(mine["counts"]["waiting"], 1);
    assert_eq!(mine["counts"]["unassigned"], 1);

    // Search covers message text, case- and accent-insensitively, not only the preview.
    let hit = o.json("/api/inbox/conversations?filter=all&q=RUCKERSTATTUNG").await;
    assert_eq!(ids(&hit), vec![long.0.clone()]);
    let hit = o.json("/api/inbox/conversations?filter=all&q=let%20me%20check").await;
    assert_eq!(ids(&hit), vec![short.0.clone()], "agent replies are searchable too");
    let none = o.json("/api/inbox/conversations?filter=all&q=zebra").await;
    assert!(ids(&none).is_empty());
}

#[tokio::test]
async fn the_conversation_view_has_transcript_sources_trigger_summary_and_context() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    let ctx = VisitorContext {
        locale: "de-DE".into(),
        timezone: "Europe/Berlin".into(),
        email: "jana@example.eu".into(),
        identified: true,
        attributes: [("plan".to_owned(), json!("pro"))].into_iter().collect(),
        ..Default::default()
    };
    let (id, _) = visitor_asks(&s.state, "When do I get my refund?", ctx);
    ai_answers(&s.state, &id, "Refunds are paid within 14 days [1]. You get an email when it is sent.", 0.42);
    hand_off(&s.state, &id, Trigger::Unsure, "The AI was not sure about the refund timing.").await;
    let r =
        o.post(&format!("/api/inbox/conversations/{id}/notes"), json!({"text": "Check Stripe first"})).await;
    assert_eq!(r.status(), 200);

    let v = o.json(&format!("/api/inbox/conversations/{id}")).await;
    let msgs = v["messages"].as_array().unwrap();
    let kinds: Vec<&str> = msgs.iter().map(|m| m["body"]["type"].as_str().unwrap()).collect();
    assert_eq!(&kinds[..2], &["text", "answer"]);
    assert!(kinds.contains(&"event") && kinds.contains(&"note"), "{kinds:?}");
    let answer = &msgs[1]["body"]["answer"];
    assert_eq!(answer["citations"][0]["title"], "Refund policy");
    assert!((answer["confidence"].as_f64().unwrap() - 0.42).abs() < 1e-6);
    let handoff_event = msgs.iter().find(|m| m["body"]["event"] == "handoff").expect("handoff event line");
    assert_eq!(handoff_event["body"]["data"]["trigger"], "unsure");

    assert_eq!(v["conversation"]["handoff"]["trigger"], "unsure");
    assert_eq!(v["conversation"]["handoff"]["reason"], "The AI was not sure about the refund timing.");
    assert_eq!(v["conversation"]["context"]["locale"], "de-DE");
    assert_eq!(v["conversation"]["context"]["attributes"]["plan"], "pro");
    assert_eq!(v["conversation"]["context"]["pages"][0]["url"], "https://shop.example.eu/pricing");
    assert_eq!(v["visitor"], "jana@example.eu");
    assert_eq!(v["sources"][0]["url"], "https://docs.example.eu/refunds#timing");

    let summary = &v["summary"];
    assert_eq!(summary["asked"], "When do I get my refund?");
    assert_eq!(
        summary["answered"], "Refunds are paid within 14 days. You get an email when it is sent.",
        "the AI's words without the [1] marker"
    );
    assert_eq!(summary["trigger"], "unsure");
    assert_eq!(summary["handoff"], "The AI was not sure about the refund timing.");

    // The note never reaches the visitor.
    let visible = baton::visitor::messages_for_visitor(&s.state.store, &id, 0).unwrap();
    assert!(visible.iter().all(|m| m.text() != "Check Stripe first"));
}

#[tokio::test]
async fn a_reply_claims_the_conversation_and_reaches_the_visitor() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    let (id, token) = visitor_asks(&s.state, "I want to talk to a person", VisitorContext::default());
    hand_off(&s.state, &id, Trigger::HumanRequest, "Asked for a person").await;

    let r = reply(&o, &id, "Hi, Olivia here. How can I help?", false).await;
    assert_eq!(r.status(), 200);
    let c = conversation::get(&s.state.store, &id).unwrap();
    assert_eq!(c.state, conversation::State::WithAgent);
    assert_eq!(c.assignee.as_ref().map(|u| u.0.clone()), Some(o.id.clone()));
    assert!(c.first_human_reply_at.is_some() && c.waiting_since.is_none());

    // The visitor's API shows the reply.
    let msgs: Value = reqwest::Client::new()
        .get(s.url("/api/widget/conversation"))
        .bearer_auth(&token.0)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(msgs["conversation"]["agent_name"], "Olivia Owner", "the widget names the agent who joined");
    let texts: Vec<String> = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"]["text"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(texts.iter().any(|t| t == "Hi, Olivia here. How can I help?"), "{texts:?}");

    // Empty replies are refused.
    assert_eq!(reply(&o, &id, "   ", false).await.status(), 422);
}

#[tokio::test]
async fn a_second_agent_cannot_reply_until_they_take_over() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    let alex = member(&s, &o, "agent", "Alex Agent", "alex@example.eu").await;
    let (id, _) = visitor_asks(&s.state, "My account is locked", VisitorContext::default());
    hand_off(&s.state, &id, Trigger::Sensitive, "Account access").await;

    assert_eq!(reply(&o, &id, "I'm on it", false).await.status(), 200);
    let r = reply(&alex, &id, "Hello from Alex", false).await;
    assert_eq!(r.status(), 409);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["code"], "conflict");
    assert!(err["message"].as_str().unwrap().contains("Olivia Owner"), "{err}");
    let texts: Vec<String> = conversation::messages_after(&s.state.store, &id, 0)
        .unwrap()
        .iter()
        .map(|m| m.text().to_owned())
        .collect();
    assert!(!texts.contains(&"Hello from Alex".to_owned()), "the refused reply is not stored");

    // Notes are fine without owning the conversation.
    assert_eq!(
        alex.post(&format!("/api/inbox/conversations/{id}/notes"), json!({"text": "FYI"})).await.status(),
        200
    );

    let r = reply(&alex, &id, "Hello from Alex", true).await;
    assert_eq!(r.status(), 200);
    let c = conversation::get(&s.state.store, &id).unwrap();
    assert_eq!(c.assignee_name, "Alex Agent");
    let msgs = conversation::messages_after(&s.state.store, &id, 0).unwrap();
    assert!(msgs.iter().any(|m| m.text() == "Alex Agent took over from Olivia Owner"));
    // Now the owner is the one who must take over.
    assert_eq!(reply(&o, &id, "me again", false).await.status(), 409);
}

#[tokio::test]
async fn assign_resolve_hand_back_and_reopen() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    let alex = member(&s, &o, "agent", "Alex Agent", "alex@example.eu").await;
    let (id, _) = visitor_asks(&s.state, "Question", VisitorContext::default());
    hand_off(&s.state, &id, Trigger::Button, "Pressed talk to the team").await;
    let base = format!("/api/inbox/conversations/{id}");

    let c: Value = o.post(&format!("{base}/assign"), json!({"agent": alex.id})).await.json().await.unwrap();
    assert_eq!(c["assignee_name"], "Alex Agent");
    assert_eq!(c["state"], "waiting_for_human", "assignment alone does not change the state");
    assert_eq!(ids(&alex.json("/api/inbox/conversations?filter=mine").await), vec![id.0.clone()]);
    let c: Value = o.post(&format!("{base}/assign"), json!({"team": "Billing"})).await.json().await.unwrap();
    assert_eq!(c["team"], "billing");

    let c: Value = alex.post(&format!("{base}/hand-back"), json!({})).await.json().await.unwrap();
    assert_eq!(c["state"], "bot");
    assert!(c["assignee"].is_null());
    let c: Value = alex.post(&format!("{base}/resolve"), json!({})).await.json().await.unwrap();
    assert_eq!(c["state"], "resolved");
    assert_eq!(
        alex.post(&format!("{base}/resolve"), json!({})).await.status(),
        200,
        "resolving twice is harmless"
    );
    assert_eq!(reply(&alex, &id, "late", false).await.status(), 409, "resolved: reopen first");
    let c: Value = alex.post(&format!("{base}/reopen"), json!({})).await.json().await.unwrap();
    assert_eq!(c["state"], "waiting_for_human");
    assert_eq!(c["assignee_name"], "Alex Agent");

    let events: Vec<String> = conversation::messages_after(&s.state.store, &id, 0)
        .unwrap()
        .iter()
        .filter_map(|m| match &m.body {
            Body::Event(e) => Some(e.event.clone()),
            _ => None,
        })
        .collect();
    for e in ["handoff", "assigned", "handed_back", "resolved", "reopened"] {
        assert!(events.iter().any(|x| x == e), "{e} missing from {events:?}");
    }
}

#[tokio::test]
async fn the_team_stream_is_authenticated_and_delivers_handoffs_viewing_and_typing() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    let alex = member(&s, &o, "agent", "Alex Agent", "alex@example.eu").await;
    assert_eq!(reqwest::get(s.url("/api/inbox/stream")).await.unwrap().status(), 401);

    let resp = o.client.get(o.url("/api/inbox/stream")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut body = resp.bytes_stream();
    let (id, _) = visitor_asks(&s.state, "Talk to a human please", VisitorContext::default());
    hand_off(&s.state, &id, Trigger::HumanRequest, "Asked for a person").await;
    alex.post(&format!("/api/inbox/conversations/{id}/viewing"), json!({"on": true})).await;
    alex.post(&format!("/api/inbox/conversations/{id}/typing"), json!({"on": true})).await;

    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !(text.contains("event: typing") && text.contains("event: viewing")) {
        let chunk =
            tokio::time::timeout_at(deadline, body.next()).await.expect("events arrive").unwrap().unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(text.contains("event: hello"));
    assert!(text.contains("\"event\":\"handoff\""), "the handoff event line is streamed");
    assert!(text.contains("Asked for a person"));
    assert!(text.contains("\"name\":\"Alex Agent\""));

    // The owner opening it sees Alex viewing.
    let v = o.json(&format!("/api/inbox/conversations/{id}")).await;
    assert_eq!(v["viewers"][0]["name"], "Alex Agent");
}

#[tokio::test]
async fn heartbeat_marks_the_agent_online() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    let r: Value = o.post("/api/inbox/heartbeat", json!({})).await.json().await.unwrap();
    assert_eq!(r["status"], "online");
    let uid = baton::ids::UserId::from(o.id.as_str());
    assert!(baton::handoff::presence::online_agents(&s.state).contains(&uid));
    let all = o.json("/api/inbox/presence").await;
    assert_eq!(all[0]["status"], "online");
    o.post("/api/inbox/offline", json!({})).await;
    assert!(!baton::handoff::presence::online_agents(&s.state).contains(&uid));
    // Logging out also ends presence.
    o.post("/api/inbox/heartbeat", json!({})).await;
    o.send(Method::POST, "/api/auth/logout", json!({})).await;
    assert!(!baton::handoff::presence::online_agents(&s.state).contains(&uid));
}

#[tokio::test]
async fn agent_assist_suggests_a_reply_from_the_knowledge_with_sources() {
    let s = TestServer::start().await;
    let o = owner(&s).await;
    baton::admin::knowledge::add_snippet(
        &s.state,
        baton::admin::knowledge::SnippetInput {
            question: "How long do refunds take?".into(),
            answer: "Refunds reach your card within 5 business days after we receive the return.".into(),
        },
        "test",
    )
    .await
    .unwrap();
    let (id, _) = visitor_asks(&s.state, "How long does a refund take?", VisitorContext::default());
    let sug = o.json(&format!("/api/inbox/conversations/{id}/suggestion")).await;
    assert!(sug["text"].as_str().unwrap().contains("5 business days"), "{sug}");
    assert!(!sug["text"].as_str().unwrap().contains("[1]"), "markers stripped from the draft");
    assert_eq!(sug["citations"][0]["title"].as_str().map(|t| !t.is_empty()), Some(true));
    assert_eq!(sug["question"], "How long does a refund take?");
}
