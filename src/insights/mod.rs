//! Insights: learning from every escalation.
//!
//! - [`gaps`]: the gaps report. Questions the AI could not answer (unsure, handed off, rated
//!   unhelpful), grouped by meaning across languages with the embedding model, with the
//!   sources the AI tried and the pages that came closest; admins dismiss or resolve groups.
//! - One click from answer to knowledge ([`snippet_from_conversation`]): an agent turns the
//!   visitor's question and their own reply into a Q&A snippet; it is indexed at once and the
//!   gap group it answers is marked covered.
//! - [`metrics`]: pure functions over conversations and messages (conversations, AI-resolved
//!   share, handoffs by trigger, response and resolution times, queue, ratings, topics, CSAT)
//!   and a CSV export.
//!
//! Everything is computed on request from the store (fine at a small team's scale); the only
//! cache is the question vectors (`QUESTION_VECTORS`), so nothing is embedded twice.

pub mod gaps;
pub mod metrics;

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::conversation::{self, Author, Body};
use crate::embed::Kind;
use crate::error::{Error, Result};
use crate::ids::{ConversationId, DocumentId, GapId};
use crate::state::AppState;
use metrics::Thread;

/// Every conversation with its messages (created before `until`, when given).
pub fn load_threads(state: &AppState, until: Option<DateTime<Utc>>) -> Result<Vec<Thread>> {
    let mut out = Vec::new();
    for c in conversation::list(&state.store)? {
        if until.is_some_and(|u| c.created_at >= u) {
            continue;
        }
        let messages = conversation::messages_after(&state.store, &c.id, 0)?;
        out.push(Thread { conversation: c, messages });
    }
    out.sort_by_key(|t| t.conversation.created_at);
    Ok(out)
}

/// Forgets a deleted conversation (its cached question vectors and gap memberships).
pub fn forget_conversation(state: &AppState, id: &ConversationId) -> Result<()> {
    gaps::forget(state, id)
}

/// A suggested snippet from a conversation: the visitor's question and the agent's answer.
#[derive(Debug, Clone, Serialize, Object)]
pub struct SnippetDraft {
    pub conversation: ConversationId,
    pub question: String,
    pub answer: String,
}

/// The snippet to save.
#[derive(Debug, Clone, Deserialize, Object)]
pub struct SnippetRequest {
    /// The conversation it comes from (its gap group is marked covered).
    pub conversation: Option<ConversationId>,
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct SnippetCreated {
    pub document: DocumentId,
    /// The gap group now covered by this snippet, if one matched.
    pub covered_gap: Option<GapId>,
}

/// The latest agent reply and the visitor question before it (what the dialog pre-fills).
pub fn draft(state: &AppState, id: &ConversationId) -> Result<SnippetDraft> {
    let msgs = conversation::messages_after(&state.store, id, 0)?;
    let reply = msgs.iter().rev().find(|m| matches!((&m.author, &m.body), (Author::Agent(_), Body::Text(_))));
    let before = reply.map(|r| r.seq).unwrap_or(u64::MAX);
    let question = msgs.iter().rev().filter(|m| m.seq < before).find(|m| {
        matches!((&m.author, &m.body), (Author::Visitor(_), Body::Text(_))) && gaps_meaningful(m.text())
    });
    Ok(SnippetDraft {
        conversation: id.clone(),
        question: question.map(|m| m.text().trim().to_owned()).unwrap_or_default(),
        answer: reply.map(|m| m.text().trim().to_owned()).unwrap_or_default(),
    })
}

fn gaps_meaningful(t: &str) -> bool {
    t.split_whitespace().count() >= 2
}

/// Saves an agent's answer as a Q&A snippet (indexed at once) and marks the gap it answers.
pub async fn snippet_from_conversation(
    state: &AppState,
    req: SnippetRequest,
    author: &str,
) -> Result<SnippetCreated> {
    let limit = state.config().limits.max_message_chars;
    if req.question.chars().count() > limit || req.answer.chars().count() > limit * 2 {
        return Err(Error::PayloadTooLarge("the snippet is too long".into()));
    }
    if let Some(c) = &req.conversation {
        conversation::get(&state.store, c)?;
    }
    let document = state.knowledge.add_snippet(&req.question, &req.answer, author).await?;
    let qvec = match state.embedder.embed(vec![req.question.trim().to_owned()], Kind::Query).await {
        Ok(mut v) => match (v.pop(), gaps::background_mean(state).await) {
            (Some(q), Ok(mean)) => Some(gaps::center(&q, &mean)),
            _ => None,
        },
        Err(e) => {
            tracing::debug!(error = %e, "cannot embed the snippet question; matching by conversation only");
            None
        }
    };
    // Refresh the stored groups so a gap nobody has looked at yet is found too (vectors are
    // cached, so this embeds only new questions).
    if qvec.is_some() {
        let threads = load_threads(state, None)?;
        if let Err(e) = gaps::report(state, &threads, Utc::now(), 30, true, 0).await {
            tracing::debug!(error = %e, "cannot refresh the gaps report");
        }
    }
    let conv = req.conversation.clone().unwrap_or_else(|| ConversationId::from(""));
    let covered_gap = gaps::group_for(state, &conv, qvec.as_deref())?;
    if let Some(g) = &covered_gap {
        gaps::set_status(state, g, gaps::GapStatus::Covered, Some(document.clone()))?;
    }
    Ok(SnippetCreated { document, covered_gap })
}
