//! Conversations: visitors, threads, messages and the conversation state machine.
//!
//! A visitor holds an unguessable token (kept in the browser's localStorage); only its SHA-256
//! is stored. A visitor has at most one open conversation; after it is resolved a new one can be
//! started. Every message, AI answer, agent reply, private note and state change is a
//! [`Message`] with a per-conversation sequence number `seq` (1, 2, 3, … with no gaps), which is
//! also the SSE event id, so a reconnecting client resumes exactly where it left off.
//!
//! [`append`] commits the message durably (redb, `Durability::Immediate`) and only then publishes
//! it on the [`Hub`]; callers acknowledge the client after `append` returns.
//!
//! The states: `bot → waiting_for_human → with_agent → resolved`, with hand-back
//! (`with_agent|waiting_for_human → bot`) and reopen (`resolved → bot|waiting_for_human`). Every
//! transition is appended to the thread as an event line that agents see.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::answer::Answer;
use crate::error::{Error, Result};
use crate::hub::{Hub, HubEvent};
use crate::ids::{random_hex, ConversationId, UserId, VisitorId};
use crate::store::{self, Store, CONVERSATIONS, MESSAGES, VISITORS};

/// The secret a visitor's browser holds. Never stored; only its hash is.
#[derive(Clone)]
pub struct VisitorToken(pub String);

impl VisitorToken {
    pub fn generate() -> Self {
        VisitorToken(random_hex(32))
    }
    pub fn hash(&self) -> String {
        hex::encode(Sha256::digest(self.0.as_bytes()))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Visitor {
    pub id: VisitorId,
    pub created_at: DateTime<Utc>,
    /// The open (not resolved) conversation, if any.
    pub conversation: Option<ConversationId>,
    /// Earlier conversations, oldest first.
    #[serde(default)]
    pub history: Vec<ConversationId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum State {
    /// The AI answers.
    Bot,
    /// Handed off; the AI still answers follow-ups, labelled as AI, until an agent joins.
    WaitingForHuman,
    /// An agent has joined; the AI is silent.
    WithAgent,
    Resolved,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Bot => "bot",
            State::WaitingForHuman => "waiting_for_human",
            State::WithAgent => "with_agent",
            State::Resolved => "resolved",
        }
    }

    /// The state machine: which transitions are allowed.
    pub fn can_become(self, to: State) -> bool {
        use State::*;
        matches!(
            (self, to),
            (Bot, WaitingForHuman)
                | (Bot, WithAgent)
                | (Bot, Resolved)
                | (WaitingForHuman, WithAgent)
                | (WaitingForHuman, Bot)
                | (WaitingForHuman, Resolved)
                | (WithAgent, Bot)
                | (WithAgent, WaitingForHuman)
                | (WithAgent, Resolved)
                | (Resolved, Bot)
                | (Resolved, WaitingForHuman)
        )
    }

    /// Whether the AI may answer a visitor message in this state.
    pub fn ai_answers(self) -> bool {
        matches!(self, State::Bot | State::WaitingForHuman)
    }
}

/// A page the visitor was on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct PageRef {
    pub url: String,
    #[serde(default)]
    #[oai(default)]
    pub title: String,
}

/// What Baton knows about the visitor, shown to agents next to the thread.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct VisitorContext {
    #[oai(default)]
    pub locale: String,
    #[oai(default)]
    pub timezone: String,
    #[oai(default)]
    pub user_agent: String,
    #[oai(default)]
    pub referrer: String,
    /// Pages visited during the conversation, most recent last (deduplicated in a row).
    #[oai(default)]
    pub pages: Vec<PageRef>,
    /// Attributes from `Baton.identify` / `Baton.setAttributes`.
    #[oai(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    /// True when `identify` was called (and verified by HMAC when a secret is configured).
    #[oai(default)]
    pub identified: bool,
    #[oai(default)]
    pub user_id: String,
    #[oai(default)]
    pub name: String,
    /// Email from `identify` or the offline follow-up form.
    #[oai(default)]
    pub email: String,
}

/// Why and when a conversation was handed to the team.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct Handoff {
    /// Machine-readable trigger: `unsure`, `human_request`, `sensitive`, `frustration`, `rule`, `button`.
    pub trigger: String,
    /// Topic for `sensitive` (billing, account_access, privacy_legal, security, or an admin topic).
    #[oai(default)]
    pub topic: String,
    /// A sentence for the agent.
    pub reason: String,
    pub at: DateTime<Utc>,
    /// Team the handoff is routed to, if a rule chose one.
    #[oai(default)]
    pub team: String,
}

/// The email a visitor left for follow-up, with the consent text they were shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct FollowUp {
    pub email: String,
    pub consent_text: String,
    pub at: DateTime<Utc>,
}

/// The visitor's rating of the team after resolution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct Csat {
    /// 1..=5
    pub score: u8,
    #[oai(default)]
    pub comment: String,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct Conversation {
    pub id: ConversationId,
    pub visitor: VisitorId,
    pub state: State,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// `seq` of the newest message.
    pub last_seq: u64,
    /// The agent who owns the conversation.
    pub assignee: Option<UserId>,
    #[oai(default)]
    pub assignee_name: String,
    /// The team it is routed to.
    #[oai(default)]
    pub team: String,
    pub context: VisitorContext,
    /// The latest handoff (all of them are in the thread as events).
    pub handoff: Option<Handoff>,
    pub follow_up: Option<FollowUp>,
    pub csat: Option<Csat>,
    /// When the visitor started waiting for a human (set on handoff, cleared when an agent replies).
    pub waiting_since: Option<DateTime<Utc>>,
    pub first_human_reply_at: Option<DateTime<Utc>>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// AI answers given so far.
    #[oai(default)]
    pub ai_turns: u32,
    /// Unsure AI answers in a row.
    #[oai(default)]
    pub unsure_streak: u32,
    /// The newest visitor message, for inbox previews and search.
    #[oai(default)]
    pub preview: String,
    /// Last time the visitor's widget was connected (for "the visitor has left" emails).
    pub visitor_seen_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Union)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[oai(discriminator_name = "kind", rename_all = "snake_case")]
pub enum Author {
    Visitor(AuthorVisitor),
    Ai(AuthorAi),
    Agent(AuthorAgent),
    System(AuthorSystem),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct AuthorVisitor {}
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct AuthorAi {}
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct AuthorSystem {}
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct AuthorAgent {
    pub id: UserId,
    pub name: String,
}

impl Author {
    pub fn visitor() -> Self {
        Author::Visitor(AuthorVisitor {})
    }
    pub fn ai() -> Self {
        Author::Ai(AuthorAi {})
    }
    pub fn system() -> Self {
        Author::System(AuthorSystem {})
    }
    pub fn agent(id: UserId, name: impl Into<String>) -> Self {
        Author::Agent(AuthorAgent { id, name: name.into() })
    }
}

/// The content of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Union)]
#[serde(tag = "type", rename_all = "snake_case")]
#[oai(discriminator_name = "type", rename_all = "snake_case")]
pub enum Body {
    /// Plain text from the visitor or an agent.
    Text(TextBody),
    /// An AI answer with its sources and confidence.
    Answer(AnswerBody),
    /// A state change or other event line (handoff, assignment, hand-back, email left…).
    Event(EventBody),
    /// A private note between agents; never sent to the visitor.
    Note(TextBody),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct TextBody {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct AnswerBody {
    pub answer: Answer,
    /// `seq` of the visitor message this answers.
    pub reply_to: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct EventBody {
    /// e.g. `handoff`, `assigned`, `handed_back`, `resolved`, `reopened`, `state`, `email_left`, `rule_reply`.
    pub event: String,
    /// Human-readable line shown in the thread.
    pub text: String,
    /// Machine-readable details (trigger, topic, from/to state, agent…).
    #[oai(default)]
    pub data: serde_json::Value,
}

/// A visitor's rating of one AI answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Rating {
    Helpful,
    NotHelpful,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct Message {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub author: Author,
    pub body: Body,
    /// The page the visitor was on when sending.
    pub page: Option<PageRef>,
    /// The visitor's rating (AI answers only).
    pub rating: Option<Rating>,
    /// Client-chosen id used to make retries idempotent.
    #[oai(default)]
    pub client_id: String,
}

impl Conversation {
    /// A new conversation with the AI, nothing said yet.
    pub fn blank(visitor: VisitorId, context: VisitorContext, now: DateTime<Utc>) -> Conversation {
        Conversation {
            id: ConversationId::random(),
            visitor,
            state: State::Bot,
            created_at: now,
            updated_at: now,
            last_seq: 0,
            assignee: None,
            assignee_name: String::new(),
            team: String::new(),
            context,
            handoff: None,
            follow_up: None,
            csat: None,
            waiting_since: None,
            first_human_reply_at: None,
            resolved_at: None,
            ai_turns: 0,
            unsure_streak: 0,
            preview: String::new(),
            visitor_seen_at: Some(now),
        }
    }
}

impl Message {
    /// Whether the visitor may see this message (private notes are for agents only).
    pub fn visible_to_visitor(&self) -> bool {
        !matches!(self.body, Body::Note(_))
    }

    pub fn text(&self) -> &str {
        match &self.body {
            Body::Text(t) | Body::Note(t) => &t.text,
            Body::Answer(a) => &a.answer.text,
            Body::Event(e) => &e.text,
        }
    }
}

/// A message to append; `seq` and `at` are assigned by [`append`].
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub author: Author,
    pub body: Body,
    pub page: Option<PageRef>,
    pub client_id: String,
}

impl NewMessage {
    pub fn text(author: Author, text: impl Into<String>) -> Self {
        NewMessage {
            author,
            body: Body::Text(TextBody { text: text.into() }),
            page: None,
            client_id: String::new(),
        }
    }

    pub fn event(event: &str, text: impl Into<String>, data: serde_json::Value) -> Self {
        NewMessage {
            author: Author::system(),
            body: Body::Event(EventBody { event: event.to_owned(), text: text.into(), data }),
            page: None,
            client_id: String::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Store operations.

/// Creates a visitor and returns the token to hand to its browser.
pub fn create_visitor(store: &Store) -> Result<(VisitorToken, Visitor)> {
    let token = VisitorToken::generate();
    let visitor =
        Visitor { id: VisitorId::random(), created_at: Utc::now(), conversation: None, history: Vec::new() };
    store.put_json(VISITORS, &token.hash(), &visitor)?;
    Ok((token, visitor))
}

pub fn visitor_by_token(store: &Store, token: &VisitorToken) -> Result<Option<Visitor>> {
    store.get_json(VISITORS, &token.hash())
}

pub fn get(store: &Store, id: &ConversationId) -> Result<Conversation> {
    store.get_json(CONVERSATIONS, id.as_str())?.ok_or(Error::NotFound("conversation"))
}

/// Every conversation (for the inbox, metrics and retention), unordered.
pub fn list(store: &Store) -> Result<Vec<Conversation>> {
    Ok(store.list_json::<Conversation>(CONVERSATIONS)?.into_iter().map(|(_, c)| c).collect())
}

/// The visitor's open conversation, created on first use.
pub fn open_for_visitor(
    store: &Store,
    hub: &Hub,
    token: &VisitorToken,
    context: VisitorContext,
) -> Result<Conversation> {
    let created = store.write(|tx| {
        let mut visitors = tx.open_table(VISITORS)?;
        let mut visitor: Visitor =
            store::get_json(&visitors, &token.hash())?.ok_or(Error::Unauthenticated)?;
        let mut convs = tx.open_table(CONVERSATIONS)?;
        if let Some(id) = &visitor.conversation {
            if let Some(c) = store::get_json::<Conversation>(&convs, id.as_str())? {
                if c.state != State::Resolved {
                    return Ok((c, false));
                }
            }
        }
        let now = Utc::now();
        let conv = Conversation::blank(visitor.id.clone(), context, now);
        if let Some(old) = visitor.conversation.replace(conv.id.clone()) {
            visitor.history.push(old);
        }
        store::put_json(&mut visitors, &token.hash(), &visitor)?;
        store::put_json(&mut convs, conv.id.as_str(), &conv)?;
        Ok((conv, true))
    })?;
    if created.1 {
        hub.publish(HubEvent::Conversation { conversation: Box::new(created.0.clone()) });
    }
    Ok(created.0)
}

/// Appends a message: assigns the next `seq`, commits durably, then publishes.
///
/// A non-empty `client_id` that was already used in this conversation returns the stored
/// message instead of appending a second copy (retries are idempotent).
pub fn append(store: &Store, hub: &Hub, id: &ConversationId, msg: NewMessage) -> Result<Message> {
    append_with(store, hub, id, msg, |_, _| Ok(()))
}

/// [`append`], and `also` in the same write transaction when the message is new (the reply
/// queue records a visitor's message there, so a stored message always has its pending reply).
pub fn append_with(
    store: &Store,
    hub: &Hub,
    id: &ConversationId,
    msg: NewMessage,
    also: impl FnOnce(&redb::WriteTransaction, &Message) -> Result<()>,
) -> Result<Message> {
    let (message, conv, fresh) = store.write(|tx| {
        let mut convs = tx.open_table(CONVERSATIONS)?;
        let mut conv: Conversation =
            store::get_json(&convs, id.as_str())?.ok_or(Error::NotFound("conversation"))?;
        let mut messages = tx.open_table(MESSAGES)?;
        if !msg.client_id.is_empty() {
            // Recent messages only: retries come within seconds.
            let from = conv.last_seq.saturating_sub(50);
            for row in messages.range((id.as_str(), from)..=(id.as_str(), conv.last_seq))? {
                let (_, v) = row?;
                let m: Message = serde_json::from_slice(v.value())?;
                if m.client_id == msg.client_id {
                    return Ok((m, conv, false));
                }
            }
        }
        let now = Utc::now();
        conv.last_seq += 1;
        conv.updated_at = now;
        let message = Message {
            seq: conv.last_seq,
            at: now,
            author: msg.author,
            body: msg.body,
            page: msg.page,
            rating: None,
            client_id: msg.client_id,
        };
        if let (Author::Visitor(_), Body::Text(t)) = (&message.author, &message.body) {
            conv.preview = t.text.chars().take(200).collect();
            conv.visitor_seen_at = Some(now);
            if let Some(p) = &message.page {
                if conv.context.pages.last().map(|l| l.url != p.url).unwrap_or(true) {
                    conv.context.pages.push(p.clone());
                    if conv.context.pages.len() > 50 {
                        conv.context.pages.remove(0);
                    }
                }
            }
        }
        if let (Author::Agent(_), Body::Text(_)) = (&message.author, &message.body) {
            if conv.first_human_reply_at.is_none() {
                conv.first_human_reply_at = Some(now);
            }
            conv.waiting_since = None;
        }
        if let Body::Answer(a) = &message.body {
            conv.ai_turns += 1;
            conv.unsure_streak = if a.answer.unsure { conv.unsure_streak + 1 } else { 0 };
        }
        let bytes = serde_json::to_vec(&message)?;
        messages.insert((id.as_str(), message.seq), bytes.as_slice())?;
        store::put_json(&mut convs, id.as_str(), &conv)?;
        also(tx, &message)?;
        Ok((message, conv, true))
    })?;
    if fresh {
        hub.publish(HubEvent::Message { conversation: id.clone(), message: message.clone() });
        hub.publish(HubEvent::Conversation { conversation: Box::new(conv) });
    }
    Ok(message)
}

/// Messages with `seq > after`, in order.
pub fn messages_after(store: &Store, id: &ConversationId, after: u64) -> Result<Vec<Message>> {
    store.read(|tx| {
        let t = tx.open_table(MESSAGES)?;
        let mut out = Vec::new();
        for row in t.range((id.as_str(), after.saturating_add(1))..=(id.as_str(), u64::MAX))? {
            let (_, v) = row?;
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok(out)
    })
}

/// Read-modify-write of a conversation's record in one transaction; publishes the result.
pub fn update<R>(
    store: &Store,
    hub: &Hub,
    id: &ConversationId,
    f: impl FnOnce(&mut Conversation) -> Result<R>,
) -> Result<(Conversation, R)> {
    let (conv, r) = store.write(|tx| {
        let mut convs = tx.open_table(CONVERSATIONS)?;
        let mut conv: Conversation =
            store::get_json(&convs, id.as_str())?.ok_or(Error::NotFound("conversation"))?;
        let r = f(&mut conv)?;
        conv.updated_at = Utc::now();
        store::put_json(&mut convs, id.as_str(), &conv)?;
        Ok((conv, r))
    })?;
    hub.publish(HubEvent::Conversation { conversation: Box::new(conv.clone()) });
    Ok((conv, r))
}

/// Moves the conversation to `to` (checked against the state machine) and appends an event
/// line. `apply` may adjust other fields in the same transaction (assignee, handoff…).
pub fn transition(
    store: &Store,
    hub: &Hub,
    id: &ConversationId,
    to: State,
    event: NewMessage,
    apply: impl FnOnce(&mut Conversation),
) -> Result<(Conversation, Message)> {
    let (conv, _) = update(store, hub, id, |c| {
        if c.state != to && !c.state.can_become(to) {
            return Err(Error::Conflict(format!("cannot go from {} to {}", c.state.as_str(), to.as_str())));
        }
        let now = Utc::now();
        match to {
            State::WaitingForHuman if c.state != State::WaitingForHuman => c.waiting_since = Some(now),
            State::Resolved => {
                c.resolved_at = Some(now);
                c.waiting_since = None;
            }
            State::Bot => c.waiting_since = None,
            _ => {}
        }
        if c.state == State::Resolved && to != State::Resolved {
            c.resolved_at = None;
            c.csat = None;
        }
        c.state = to;
        apply(c);
        Ok(())
    })?;
    let message = append(store, hub, id, event)?;
    Ok((get(store, id).unwrap_or(conv), message))
}

/// Sets the visitor's rating on one AI answer.
pub fn rate(store: &Store, hub: &Hub, id: &ConversationId, seq: u64, rating: Rating) -> Result<Message> {
    let msg = store.write(|tx| {
        let mut t = tx.open_table(MESSAGES)?;
        let mut m: Message = match t.get((id.as_str(), seq))? {
            Some(v) => serde_json::from_slice(v.value())?,
            None => return Err(Error::NotFound("message")),
        };
        if !matches!(m.body, Body::Answer(_)) {
            return Err(Error::bad_request("only AI answers can be rated"));
        }
        m.rating = Some(rating);
        let bytes = serde_json::to_vec(&m)?;
        t.insert((id.as_str(), seq), bytes.as_slice())?;
        Ok(m)
    })?;
    hub.publish(HubEvent::Message { conversation: id.clone(), message: msg.clone() });
    Ok(msg)
}

/// Deletes a conversation and its messages (retention, erasure).
pub fn delete(store: &Store, id: &ConversationId) -> Result<()> {
    store.write(|tx| {
        tx.open_table(CONVERSATIONS)?.remove(id.as_str())?;
        let mut t = tx.open_table(MESSAGES)?;
        let keys: Vec<u64> = t
            .range((id.as_str(), 0)..=(id.as_str(), u64::MAX))?
            .map(|r| r.map(|(k, _)| k.value().1))
            .collect::<std::result::Result<_, _>>()?;
        for k in keys {
            t.remove((id.as_str(), k))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, Store, Hub) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), false).unwrap();
        (dir, store, Hub::default())
    }

    #[test]
    fn one_open_thread_per_visitor_and_a_new_one_after_resolve() {
        let (_d, store, hub) = setup();
        let (token, _) = create_visitor(&store).unwrap();
        let a = open_for_visitor(&store, &hub, &token, VisitorContext::default()).unwrap();
        let b = open_for_visitor(&store, &hub, &token, VisitorContext::default()).unwrap();
        assert_eq!(a.id, b.id);
        transition(
            &store,
            &hub,
            &a.id,
            State::Resolved,
            NewMessage::event("resolved", "Resolved", Default::default()),
            |_| {},
        )
        .unwrap();
        let c = open_for_visitor(&store, &hub, &token, VisitorContext::default()).unwrap();
        assert_ne!(a.id, c.id);
        let v = visitor_by_token(&store, &token).unwrap().unwrap();
        assert_eq!(v.history, vec![a.id]);
    }

    #[test]
    fn seq_is_gapless_and_client_ids_deduplicate() {
        let (_d, store, hub) = setup();
        let (token, _) = create_visitor(&store).unwrap();
        let conv = open_for_visitor(&store, &hub, &token, VisitorContext::default()).unwrap();
        let mut m = NewMessage::text(Author::visitor(), "hello");
        m.client_id = "c1".into();
        let first = append(&store, &hub, &conv.id, m.clone()).unwrap();
        let again = append(&store, &hub, &conv.id, m).unwrap();
        assert_eq!(first.seq, again.seq, "a retried message is stored once");
        append(&store, &hub, &conv.id, NewMessage::text(Author::visitor(), "second")).unwrap();
        let all = messages_after(&store, &conv.id, 0).unwrap();
        assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(messages_after(&store, &conv.id, 1).unwrap().len(), 1);
        assert_eq!(get(&store, &conv.id).unwrap().preview, "second");
    }

    #[test]
    fn the_state_machine_refuses_illegal_moves() {
        let (_d, store, hub) = setup();
        let (token, _) = create_visitor(&store).unwrap();
        let conv = open_for_visitor(&store, &hub, &token, VisitorContext::default()).unwrap();
        let ev = || NewMessage::event("state", "x", Default::default());
        let (c, _) = transition(&store, &hub, &conv.id, State::WaitingForHuman, ev(), |_| {}).unwrap();
        assert!(c.waiting_since.is_some());
        transition(&store, &hub, &conv.id, State::WithAgent, ev(), |_| {}).unwrap();
        transition(&store, &hub, &conv.id, State::Resolved, ev(), |_| {}).unwrap();
        assert!(!State::Resolved.can_become(State::WithAgent));
        let err = transition(&store, &hub, &conv.id, State::WithAgent, ev(), |_| {}).unwrap_err();
        assert_eq!(err.code(), "conflict");
        let (c, _) = transition(&store, &hub, &conv.id, State::Bot, ev(), |_| {}).unwrap();
        assert_eq!(c.state, State::Bot);
        assert!(c.resolved_at.is_none());
        // Every transition left an event line in the thread.
        assert_eq!(messages_after(&store, &conv.id, 0).unwrap().len(), 4);
    }
}
