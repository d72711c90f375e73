//! Visitor data (GDPR): find everything about one visitor, export it, erase it.
//!
//! A visitor is found by visitor id, by email (given to `Baton.identify` or the offline
//! follow-up form) or by one of their conversation ids. All conversations of the visitors
//! found are included: a visitor is one browser, so every thread it started belongs to the
//! same person.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use crate::conversation::{self, Conversation, Message, Visitor, VisitorContext};
use crate::error::{Error, Result};
use crate::ids::{ConversationId, VisitorId};
use crate::state::AppState;
use crate::store::{self, VISITORS, VISITOR_PROFILES};

/// How to find a visitor; exactly one field is used (the first one given).
#[derive(Debug, Clone, Default, Deserialize, Object)]
pub struct VisitorQuery {
    pub visitor: Option<String>,
    pub email: Option<String>,
    pub conversation: Option<String>,
}

/// One conversation with its whole thread.
#[derive(Debug, Clone, Serialize, Object)]
pub struct ConversationExport {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
}

/// A visitor record, without the hash of its browser token, with the profile the site gave
/// (`Baton.identify`, attributes), if any.
#[derive(Debug, Clone, Serialize, Object)]
pub struct VisitorRecord {
    pub id: VisitorId,
    pub created_at: DateTime<Utc>,
    pub profile: Option<VisitorContext>,
}

/// Everything Baton stores about a visitor.
#[derive(Debug, Clone, Serialize, Object)]
pub struct VisitorExport {
    pub exported_at: DateTime<Utc>,
    pub visitors: Vec<VisitorRecord>,
    pub conversations: Vec<ConversationExport>,
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct Erased {
    pub visitors: u32,
    pub conversations: u32,
    pub messages: u32,
}

struct Found {
    /// Every visitor id found (some may have a profile but no record left).
    ids: BTreeSet<VisitorId>,
    /// Token hash -> visitor.
    visitors: Vec<(String, Visitor)>,
    conversations: Vec<Conversation>,
}

fn find(state: &AppState, q: &VisitorQuery) -> Result<Found> {
    let clean = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let all = conversation::list(&state.store)?;
    let mut ids: BTreeSet<VisitorId> = BTreeSet::new();
    if let Some(v) = clean(&q.visitor) {
        ids.insert(VisitorId::from(v));
    } else if let Some(email) = clean(&q.email) {
        let email = email.to_lowercase();
        for c in &all {
            let follow = c.follow_up.as_ref().map(|f| f.email.to_lowercase());
            if c.context.email.to_lowercase() == email || follow.as_deref() == Some(email.as_str()) {
                ids.insert(c.visitor.clone());
            }
        }
        for (id, profile) in state.store.list_json::<VisitorContext>(VISITOR_PROFILES)? {
            if profile.email.to_lowercase() == email {
                ids.insert(VisitorId::from(id));
            }
        }
    } else if let Some(conv) = clean(&q.conversation) {
        let c = conversation::get(&state.store, &ConversationId::from(conv))?;
        ids.insert(c.visitor);
    } else {
        return Err(Error::InvalidInput("give a visitor id, an email or a conversation id".into()));
    }
    let visitors: Vec<(String, Visitor)> = state
        .store
        .list_json::<Visitor>(VISITORS)?
        .into_iter()
        .filter(|(_, v)| ids.contains(&v.id))
        .collect();
    let mut conversations: Vec<Conversation> = all.into_iter().filter(|c| ids.contains(&c.visitor)).collect();
    conversations.sort_by_key(|c| c.created_at);
    let has_profile = ids.iter().any(
        |id| matches!(crate::visitor::profile(&state.store, id), Ok(p) if p != VisitorContext::default()),
    );
    if visitors.is_empty() && conversations.is_empty() && !has_profile {
        return Err(Error::NotFound("visitor"));
    }
    Ok(Found { ids, visitors, conversations })
}

/// All data about the visitor, as JSON-ready records.
pub fn export(state: &AppState, q: &VisitorQuery) -> Result<VisitorExport> {
    let found = find(state, q)?;
    let mut conversations = Vec::new();
    for c in found.conversations {
        let messages = conversation::messages_after(&state.store, &c.id, 0)?;
        conversations.push(ConversationExport { conversation: c, messages });
    }
    Ok(VisitorExport {
        exported_at: Utc::now(),
        visitors: found
            .visitors
            .into_iter()
            .map(|(_, v)| {
                let profile = crate::visitor::profile(&state.store, &v.id)
                    .ok()
                    .filter(|p| *p != VisitorContext::default());
                VisitorRecord { id: v.id, created_at: v.created_at, profile }
            })
            .collect(),
        conversations,
    })
}

/// Deletes the visitor's conversations, messages, cached question vectors, visitor record and
/// profile.
pub fn erase(state: &AppState, q: &VisitorQuery) -> Result<Erased> {
    let found = find(state, q)?;
    let mut out = Erased { visitors: 0, conversations: 0, messages: 0 };
    for c in &found.conversations {
        out.messages += c.last_seq as u32;
        conversation::delete(&state.store, &c.id)?;
        crate::insights::forget_conversation(state, &c.id)?;
        out.conversations += 1;
    }
    state.store.write(|tx| {
        let mut t = tx.open_table(VISITORS)?;
        for (hash, _) in &found.visitors {
            if t.remove(hash.as_str())?.is_some() {
                out.visitors += 1;
            }
        }
        let mut profiles = tx.open_table(VISITOR_PROFILES)?;
        for id in &found.ids {
            profiles.remove(id.as_str())?;
        }
        Ok(())
    })?;
    tracing::info!(
        visitors = out.visitors,
        conversations = out.conversations,
        "visitor data erased on an admin's request"
    );
    Ok(out)
}

/// Removes deleted conversations from visitor records (after retention deleted them).
pub fn unlink_conversations(state: &AppState, deleted: &BTreeSet<ConversationId>) -> Result<()> {
    if deleted.is_empty() {
        return Ok(());
    }
    state.store.write(|tx| {
        let mut t = tx.open_table(VISITORS)?;
        let mut changed: Vec<(String, Visitor)> = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let mut visitor: Visitor = serde_json::from_slice(v.value())?;
            let before = (visitor.conversation.clone(), visitor.history.len());
            if visitor.conversation.as_ref().is_some_and(|c| deleted.contains(c)) {
                visitor.conversation = None;
            }
            visitor.history.retain(|c| !deleted.contains(c));
            if (visitor.conversation.clone(), visitor.history.len()) != before {
                changed.push((k.value().to_owned(), visitor));
            }
        }
        for (k, v) in changed {
            store::put_json(&mut t, &k, &v)?;
        }
        Ok(())
    })
}
