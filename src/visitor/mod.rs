//! The visitor's side: what the embeddable widget may see and change.
//!
//! This module owns the rules of the visitor API; `src/http/widget.rs` only parses and maps.
//!
//! - **What a visitor sees.** [`WidgetConversation`] and [`for_visitor`] are the visitor's view
//!   of a conversation and its messages: private notes are dropped, and event lines lose the
//!   internal details agents see (trigger evidence, the classifier's reason), keeping only what
//!   the widget renders (state, the agent's name, availability).
//! - **Profile.** What the widget learns before the first message (locale, time zone, referrer,
//!   `Baton.identify`, `Baton.setAttributes`) is kept per visitor in `VISITOR_PROFILES` and
//!   becomes the conversation's `context` when the thread starts; later changes update both.
//! - **Identity verification.** With `security.identity_secret` set, `identify` must carry
//!   `hex(HMAC-SHA256(secret, user_id))` or it is refused (compare: Chatwoot #9493, where an
//!   unsigned identify could take over a thread).
//! - **Presence of the visitor.** [`seen`] records `Conversation.visitor_seen_at` while the
//!   widget's stream is connected, in batches and without publishing an event (it would wake
//!   every inbox every 20 seconds); the email loop in [`crate::handoff::notify`] reads it.
//! - **Rate limits** live in [`ratelimit`].

pub mod ratelimit;
pub mod seen;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::conversation::{
    self, Body, Conversation, Csat, FollowUp, Message, NewMessage, PageRef, State, Visitor, VisitorContext,
};
use crate::error::{Error, Result};
use crate::hub::Hub;
use crate::ids::{ConversationId, VisitorId};
use crate::store::{self, Store, VISITOR_PROFILES};

/// Longest attribute map the widget may store (keys), and longest value (serialised chars).
const MAX_ATTRIBUTES: usize = 50;
const MAX_ATTRIBUTE_CHARS: usize = 1000;

/// The visitor's view of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct WidgetConversation {
    pub id: ConversationId,
    pub state: State,
    /// The agent who joined, empty while none has.
    pub agent_name: String,
    /// The email the visitor left for a reply, empty if none.
    pub follow_up_email: String,
    /// The visitor's rating of the team, once given.
    pub csat: Option<Csat>,
    pub created_at: DateTime<Utc>,
    /// `seq` of the newest message (including ones the visitor does not see).
    pub last_seq: u64,
}

impl WidgetConversation {
    pub fn of(c: &Conversation) -> Self {
        WidgetConversation {
            id: c.id.clone(),
            state: c.state,
            agent_name: if c.state == State::WithAgent || c.assignee.is_some() {
                c.assignee_name.clone()
            } else {
                String::new()
            },
            follow_up_email: c.follow_up.as_ref().map(|f| f.email.clone()).unwrap_or_default(),
            csat: c.csat.clone(),
            created_at: c.created_at,
            last_seq: c.last_seq,
        }
    }

    /// The fields whose change the widget shows (used to skip no-op updates on the stream).
    pub fn visible_key(&self) -> (State, &str, &str, bool) {
        (self.state, &self.agent_name, &self.follow_up_email, self.csat.is_some())
    }
}

/// Keys of an event's `data` the widget may see.
const VISIBLE_EVENT_KEYS: &[&str] =
    &["to", "from", "state", "agent", "agent_name", "name", "email", "score", "online", "ask_email"];

/// The message as the visitor may see it, or `None` for private notes.
pub fn for_visitor(m: &Message) -> Option<Message> {
    if !m.visible_to_visitor() {
        return None;
    }
    let mut m = m.clone();
    if let Body::Event(e) = &mut m.body {
        match e.event.as_str() {
            // The availability line is written for the visitor; keep it whole.
            "availability" => {}
            "handoff" => {
                e.text = "Handed to the team".into();
                e.data = serde_json::Value::Object(Default::default());
            }
            _ => {
                if let serde_json::Value::Object(map) = &mut e.data {
                    map.retain(|k, _| VISIBLE_EVENT_KEYS.contains(&k.as_str()));
                } else {
                    e.data = serde_json::Value::Object(Default::default());
                }
            }
        }
    }
    Some(m)
}

/// The visitor's messages after `after`, as they may see them.
pub fn messages_for_visitor(store: &Store, id: &ConversationId, after: u64) -> Result<Vec<Message>> {
    Ok(conversation::messages_after(store, id, after)?.iter().filter_map(for_visitor).collect())
}

/// What the widget sends about the visitor (all optional; absent fields are left as they are).
#[derive(Debug, Clone, Default, Serialize, Deserialize, poem_openapi::Object)]
pub struct ContextUpdate {
    pub locale: Option<String>,
    pub timezone: Option<String>,
    pub referrer: Option<String>,
    pub user_agent: Option<String>,
    /// The page the visitor is on now.
    pub page: Option<PageRef>,
    /// `Baton.setAttributes`: merged into the existing attributes; `null` removes a key.
    pub attributes: Option<BTreeMap<String, serde_json::Value>>,
    /// `Baton.identify`.
    pub identify: Option<Identify>,
}

/// `Baton.identify({id, email, name, ...}, identityHash)`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, poem_openapi::Object)]
pub struct Identify {
    /// The user's id in the customer's product.
    pub user_id: String,
    #[oai(default)]
    pub email: String,
    #[oai(default)]
    pub name: String,
    /// `hex(HMAC-SHA256(identity_secret, user_id))`, required when a secret is configured.
    #[oai(default)]
    pub identity_hash: String,
    /// Further fields passed to `identify` (plan, company…), stored as attributes.
    #[oai(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
}

/// `hex(HMAC-SHA256(secret, user_id))`, what the customer's server computes for `identify`.
pub fn identity_hash(secret: &str, user_id: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(user_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks an identify call against the secret (constant-time). No secret: accepted, unverified.
pub fn verify_identity(secret: &str, id: &Identify) -> Result<bool> {
    if id.user_id.trim().is_empty() || id.user_id.len() > 256 {
        return Err(Error::InvalidInput("identify needs a user id of at most 256 bytes".into()));
    }
    if secret.is_empty() {
        return Ok(false);
    }
    let refused =
        || Error::Forbidden("identity verification failed: identify needs a valid identity hash".into());
    let sig = hex::decode(id.identity_hash.trim()).map_err(|_| refused())?;
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(id.user_id.as_bytes());
    mac.verify_slice(&sig).map_err(|_| refused())?;
    Ok(true)
}

fn clip(s: &str, n: usize) -> String {
    s.trim().chars().take(n).collect()
}

fn check_attributes(attrs: &BTreeMap<String, serde_json::Value>) -> Result<()> {
    if attrs.len() > MAX_ATTRIBUTES {
        return Err(Error::InvalidInput(format!("at most {MAX_ATTRIBUTES} attributes")));
    }
    for (k, v) in attrs {
        if k.is_empty() || k.len() > 64 {
            return Err(Error::InvalidInput("attribute names are 1 to 64 bytes".into()));
        }
        if v.to_string().chars().count() > MAX_ATTRIBUTE_CHARS {
            return Err(Error::InvalidInput(format!(
                "attribute {k} is longer than {MAX_ATTRIBUTE_CHARS} characters"
            )));
        }
    }
    Ok(())
}

/// Applies an update to a context. `secret` is `security.identity_secret`.
pub fn apply(ctx: &mut VisitorContext, up: &ContextUpdate, secret: &str) -> Result<()> {
    if let Some(id) = &up.identify {
        let verified = verify_identity(secret, id)?;
        check_attributes(&id.attributes)?;
        // A verified identity may not be replaced by an unverified one.
        if ctx.identified && !secret.is_empty() && !verified {
            return Err(Error::Forbidden("identity verification failed".into()));
        }
        if ctx.identified && !ctx.user_id.is_empty() && ctx.user_id != id.user_id.trim() && !verified {
            return Err(Error::Forbidden(
                "this visitor is already identified as another user; call Baton.reset() first".into(),
            ));
        }
        ctx.identified = true;
        ctx.user_id = clip(&id.user_id, 256);
        if !id.email.trim().is_empty() {
            ctx.email = valid_email(&id.email)?;
        }
        if !id.name.trim().is_empty() {
            ctx.name = clip(&id.name, 200);
        }
        for (k, v) in &id.attributes {
            ctx.attributes.insert(k.clone(), v.clone());
        }
        ctx.attributes.insert("identity_verified".into(), serde_json::Value::Bool(verified));
    }
    if let Some(attrs) = &up.attributes {
        check_attributes(attrs)?;
        for (k, v) in attrs {
            if k == "identity_verified" {
                continue;
            }
            if v.is_null() {
                ctx.attributes.remove(k);
            } else {
                ctx.attributes.insert(k.clone(), v.clone());
            }
        }
        if ctx.attributes.len() > MAX_ATTRIBUTES {
            return Err(Error::InvalidInput(format!("at most {MAX_ATTRIBUTES} attributes")));
        }
    }
    if let Some(v) = &up.locale {
        ctx.locale = clip(v, 35);
    }
    if let Some(v) = &up.timezone {
        ctx.timezone = clip(v, 64);
    }
    if let Some(v) = &up.referrer {
        ctx.referrer = clip(v, 2000);
    }
    if let Some(v) = &up.user_agent {
        ctx.user_agent = clip(v, 400);
    }
    if let Some(p) = &up.page {
        let p = clean_page(p);
        if !p.url.is_empty() && ctx.pages.last().map(|l| l.url != p.url).unwrap_or(true) {
            ctx.pages.push(p);
            if ctx.pages.len() > 50 {
                ctx.pages.remove(0);
            }
        }
    }
    Ok(())
}

/// A page reference with bounded lengths.
pub fn clean_page(p: &PageRef) -> PageRef {
    PageRef { url: clip(&p.url, 2000), title: clip(&p.title, 300) }
}

/// The stored profile of a visitor (empty when none yet).
pub fn profile(store: &Store, visitor: &VisitorId) -> Result<VisitorContext> {
    Ok(store.get_json(VISITOR_PROFILES, visitor.as_str())?.unwrap_or_default())
}

/// Updates the visitor's profile and, when there is one, their open conversation's context.
pub fn update_context(
    store: &Store,
    hub: &Hub,
    visitor: &VisitorId,
    conv: Option<&ConversationId>,
    up: &ContextUpdate,
    secret: &str,
) -> Result<VisitorContext> {
    let ctx = store.write(|tx| {
        let mut t = tx.open_table(VISITOR_PROFILES)?;
        let mut ctx: VisitorContext = store::get_json(&t, visitor.as_str())?.unwrap_or_default();
        apply(&mut ctx, up, secret)?;
        store::put_json(&mut t, visitor.as_str(), &ctx)?;
        Ok(ctx)
    })?;
    if let Some(id) = conv {
        conversation::update(store, hub, id, |c| apply(&mut c.context, up, secret))?;
    }
    Ok(ctx)
}

/// A syntactically valid email address (via `lettre`'s parser), trimmed.
pub fn valid_email(raw: &str) -> Result<String> {
    let e = raw.trim();
    if e.len() > 254
        || e.parse::<lettre::Address>().is_err()
        || !e.rsplit('@').next().unwrap_or("").contains('.')
    {
        return Err(Error::InvalidInput("that does not look like an email address".into()));
    }
    Ok(e.to_owned())
}

/// The visitor leaves an email for a reply: stored with the consent text they saw, plus an
/// `email_left` line in the thread.
pub fn leave_email(
    store: &Store,
    hub: &Hub,
    id: &ConversationId,
    email: &str,
    consent_text: &str,
) -> Result<Conversation> {
    let email = valid_email(email)?;
    let consent = clip(consent_text, 1000);
    if consent.is_empty() {
        return Err(Error::InvalidInput("the consent text shown to the visitor is required".into()));
    }
    let (conv, _) = conversation::update(store, hub, id, |c| {
        c.follow_up = Some(FollowUp { email: email.clone(), consent_text: consent.clone(), at: Utc::now() });
        if c.context.email.is_empty() {
            c.context.email = email.clone();
        }
        Ok(())
    })?;
    conversation::append(
        store,
        hub,
        id,
        NewMessage::event(
            "email_left",
            format!("The visitor left {email} for a reply."),
            serde_json::json!({ "email": email, "consent_text": consent }),
        ),
    )?;
    Ok(conversation::get(store, id).unwrap_or(conv))
}

/// The visitor rates the team (1 to 5) after the conversation was resolved.
pub fn rate_team(
    store: &Store,
    hub: &Hub,
    id: &ConversationId,
    score: u8,
    comment: &str,
) -> Result<Conversation> {
    if !(1..=5).contains(&score) {
        return Err(Error::InvalidInput("the rating is 1 to 5".into()));
    }
    let comment = clip(comment, 2000);
    let (conv, _) = conversation::update(store, hub, id, |c| {
        if c.state != State::Resolved {
            return Err(Error::Conflict("the conversation can be rated once it is resolved".into()));
        }
        c.csat = Some(Csat { score, comment: comment.clone(), at: Utc::now() });
        Ok(())
    })?;
    Ok(conv)
}

/// A follow-up email's resume link (`?baton_resume=…`, see [`crate::handoff::notify`]) opened
/// in a browser: a new token for the same visitor, whose open thread is the linked one.
pub fn resume(
    state: &crate::state::AppState,
    resume_token: &str,
) -> Result<(conversation::VisitorToken, Visitor)> {
    let (visitor_id, conv_id) = crate::handoff::notify::verify_resume(state, resume_token)?;
    let conv = conversation::get(&state.store, &conv_id)?;
    if conv.visitor != visitor_id {
        return Err(Error::Forbidden("this link is invalid or has expired".into()));
    }
    let token = conversation::VisitorToken::generate();
    let visitor = state.store.write(|tx| {
        let mut t = tx.open_table(crate::store::VISITORS)?;
        let mut found: Option<Visitor> = None;
        for row in redb::ReadableTable::iter(&t)? {
            let (_, v) = row?;
            let v: Visitor = serde_json::from_slice(v.value())?;
            if v.id == visitor_id {
                found = Some(v);
                break;
            }
        }
        let mut v = found.ok_or(Error::NotFound("visitor"))?;
        if v.conversation.as_ref() != Some(&conv_id) {
            if let Some(old) = v.conversation.replace(conv_id.clone()) {
                v.history.push(old);
            }
        }
        store::put_json(&mut t, &token.hash(), &v)?;
        Ok(v)
    })?;
    Ok((token, visitor))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{Author, EventBody, TextBody};

    #[test]
    fn identity_hash_is_required_when_a_secret_is_set() {
        let mut id = Identify { user_id: "u-42".into(), ..Default::default() };
        assert!(!verify_identity("", &id).unwrap(), "no secret: accepted but not verified");
        assert_eq!(verify_identity("k", &id).unwrap_err().code(), "forbidden", "unsigned is refused");
        id.identity_hash = identity_hash("other", "u-42");
        assert_eq!(verify_identity("k", &id).unwrap_err().code(), "forbidden", "wrong key is refused");
        id.identity_hash = identity_hash("k", "u-43");
        assert!(verify_identity("k", &id).is_err(), "hash of another user is refused");
        id.identity_hash = identity_hash("k", "u-42");
        assert!(verify_identity("k", &id).unwrap());
    }

    #[test]
    fn an_identified_visitor_cannot_be_taken_over_without_a_signature() {
        let mut ctx = VisitorContext::default();
        let up = |uid: &str| ContextUpdate {
            identify: Some(Identify { user_id: uid.into(), name: "Ada".into(), ..Default::default() }),
            ..Default::default()
        };
        apply(&mut ctx, &up("a"), "").unwrap();
        assert_eq!((ctx.user_id.as_str(), ctx.name.as_str(), ctx.identified), ("a", "Ada", true));
        assert_eq!(apply(&mut ctx, &up("b"), "").unwrap_err().code(), "forbidden");
    }

    #[test]
    fn notes_are_hidden_and_handoff_details_stripped() {
        let mk = |body| Message {
            seq: 1,
            at: Utc::now(),
            author: Author::system(),
            body,
            page: None,
            rating: None,
            client_id: String::new(),
        };
        assert!(for_visitor(&mk(Body::Note(TextBody { text: "secret".into() }))).is_none());
        let ev = mk(Body::Event(EventBody {
            event: "handoff".into(),
            text: "Handed to the team (frustration): angry".into(),
            data: serde_json::json!({"trigger": "frustration", "evidence": "lexicon"}),
        }));
        let seen = for_visitor(&ev).unwrap();
        assert!(!seen.text().contains("frustration"));
        let Body::Event(e) = seen.body else { panic!() };
        assert_eq!(e.data, serde_json::json!({}));
    }

    #[test]
    fn emails_are_validated() {
        assert_eq!(valid_email(" ada@example.com ").unwrap(), "ada@example.com");
        for bad in ["", "ada", "ada@", "@example.com", "a b@example.com", "ada@localhost"] {
            assert!(valid_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn attributes_merge_and_null_removes() {
        let mut ctx = VisitorContext::default();
        let mut a = BTreeMap::new();
        a.insert("plan".to_owned(), serde_json::json!("pro"));
        a.insert("seats".to_owned(), serde_json::json!(3));
        apply(&mut ctx, &ContextUpdate { attributes: Some(a), ..Default::default() }, "").unwrap();
        let mut b = BTreeMap::new();
        b.insert("seats".to_owned(), serde_json::Value::Null);
        b.insert("identity_verified".to_owned(), serde_json::json!(true));
        apply(&mut ctx, &ContextUpdate { attributes: Some(b), ..Default::default() }, "").unwrap();
        assert_eq!(ctx.attributes.len(), 1, "{:?}", ctx.attributes);
        assert_eq!(ctx.attributes["plan"], "pro");
    }
}
