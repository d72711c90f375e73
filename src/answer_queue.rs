//! The durable reply queue: every stored visitor message ends in an answer, an honest "this is
//! taking longer than usual" line, or a handoff to the team, in order per conversation, across
//! restarts.
//!
//! # Why
//! The reply work (triggers, retrieval, the AI answer, handoff) needs the embedding model,
//! whose queue is bounded and answers `Overloaded` at once when full. That is right for the
//! public `/api/answers` endpoint (the caller gets a 429 and retries), but a visitor's message
//! has already been acknowledged with a 200: dropping its reply left the visitor talking to
//! nobody. So the reply is owed, and the debt is written down.
//!
//! # How
//! - **Enqueue.** [`append_visitor_message`] stores the message and a [`Pending`] row in
//!   `PENDING_REPLIES` keyed `(conversation, seq)` in the *same* write transaction, committed
//!   durably before the 200: a message without its pending reply cannot exist, even across a
//!   crash.
//! - **Dispatch.** One dispatcher task per server ([`spawn`]) scans the table whenever a row is
//!   added or a job finishes (and every second), takes for each conversation that is not busy
//!   its *lowest* pending seq (so replies come in order), oldest first, and runs up to
//!   [`CONCURRENCY`] of them at once: the queue never floods the model itself.
//! - **Work.** A job runs [`crate::handoff::after_visitor_message`]. A transient failure (the
//!   model's queue is full, a rate limit) is retried with backoff. After
//!   `limits.reply_notice_secs` the visitor gets one honest line ("This is taking longer than
//!   usual…", event `reply_delayed`); after `limits.reply_handoff_secs`, or after
//!   [`MAX_ATTEMPTS`] hard failures, the conversation is handed to the team (trigger `unsure`,
//!   evidence `reply_queue:…`) with a line saying so (event `reply_failed`). Only then is the
//!   row deleted. The widget shows both lines in the visitor's language.
//! - **Idempotence.** A job can run twice (a crash after the answer, before the delete): the AI's
//!   answer has `client_id = ai-<seq>`, the notice `delay-<seq>`, and handoff is idempotent, so
//!   a rerun adds nothing.
//! - **Restart.** Rows survive in the store; the dispatcher picks them up on start, and the
//!   notice/handoff deadlines count from the original `enqueued_at`.
//!
//! [`stats`] (depth, oldest wait) is shown on `/healthz` and `/api/health`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use tokio::sync::{watch, Notify, Semaphore};

use crate::conversation::{self, Message, NewMessage};
use crate::embed::EmbedError;
use crate::error::{Error, Result};
use crate::handoff::{self, Signal, Trigger};
use crate::ids::ConversationId;
use crate::state::AppState;
use crate::store::{Store, MESSAGES, PENDING_REPLIES};

/// Replies worked on at once (each needs the model).
pub const CONCURRENCY: usize = 4;
/// Hard (non-transient) failures of one reply before the team takes over.
pub const MAX_ATTEMPTS: u32 = 3;
/// Longest pause between two retries of one reply.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// A reply still owed to a visitor message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    /// When the visitor's message was stored.
    pub enqueued_at: DateTime<Utc>,
    /// Hard failures so far.
    #[serde(default)]
    pub attempts: u32,
    /// The "taking longer than usual" line was sent.
    #[serde(default)]
    pub notified: bool,
}

/// The queue's in-memory side, on [`AppState::replies`].
#[derive(Default)]
pub struct Runtime {
    wake: Notify,
    /// Conversations with a job running (one at a time each, for order).
    busy: Mutex<HashSet<ConversationId>>,
}

/// Queue depth and the wait of the oldest pending reply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Stats {
    pub depth: u64,
    pub oldest_wait_secs: f64,
}

/// Stores a visitor's message and its pending reply in one durable transaction, then wakes the
/// dispatcher. A retried `client_id` returns the stored message and enqueues nothing.
pub fn append_visitor_message(state: &AppState, id: &ConversationId, msg: NewMessage) -> Result<Message> {
    let message = conversation::append_with(&state.store, &state.hub, id, msg, |tx, m| {
        let pending = Pending { enqueued_at: m.at, attempts: 0, notified: false };
        tx.open_table(PENDING_REPLIES)?
            .insert((id.as_str(), m.seq), serde_json::to_vec(&pending)?.as_slice())?;
        Ok(())
    })?;
    state.replies.wake.notify_one();
    Ok(message)
}

/// Pending replies and the oldest one's wait.
pub fn stats(store: &Store) -> Result<Stats> {
    store.read(|tx| {
        let t = tx.open_table(PENDING_REPLIES)?;
        let depth = t.len()?;
        let mut oldest: Option<DateTime<Utc>> = None;
        for row in t.iter()? {
            let (_, v) = row?;
            let p: Pending = serde_json::from_slice(v.value())?;
            oldest = Some(oldest.map_or(p.enqueued_at, |o| o.min(p.enqueued_at)));
        }
        let oldest_wait_secs =
            oldest.map_or(0.0, |o| (Utc::now() - o).num_milliseconds().max(0) as f64 / 1000.0);
        Ok(Stats { depth, oldest_wait_secs })
    })
}

/// Starts the dispatcher; it stops when `stop` turns true (server shutdown).
pub fn spawn(state: AppState, stop: watch::Receiver<bool>) {
    tokio::spawn(dispatch(state, stop));
}

/// One job: the lowest pending seq of a conversation.
struct Job {
    conversation: ConversationId,
    seq: u64,
    pending: Pending,
}

async fn dispatch(state: AppState, mut stop: watch::Receiver<bool>) {
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    loop {
        if *stop.borrow() {
            return;
        }
        match heads(&state) {
            Ok(jobs) => {
                for job in jobs {
                    let Ok(slot) = slots.clone().try_acquire_owned() else { break };
                    state.replies.busy.lock().insert(job.conversation.clone());
                    let (st, stop) = (state.clone(), stop.clone());
                    tokio::spawn(async move {
                        let conv = job.conversation.clone();
                        work(&st, job, stop).await;
                        st.replies.busy.lock().remove(&conv);
                        drop(slot);
                        st.replies.wake.notify_one();
                    });
                }
            }
            Err(e) => tracing::error!(error = ?e, "cannot read the reply queue"),
        }
        tokio::select! {
            _ = state.replies.wake.notified() => {}
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            // A dropped sender (the server is gone) stops the dispatcher too.
            changed = stop.changed() => if changed.is_err() { return },
        }
    }
}

/// For every conversation without a running job, its lowest pending seq; oldest first.
fn heads(state: &AppState) -> Result<Vec<Job>> {
    let busy = state.replies.busy.lock().clone();
    let mut jobs: Vec<Job> = state.store.read(|tx| {
        let t = tx.open_table(PENDING_REPLIES)?;
        let mut out: Vec<Job> = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let (conv, seq) = k.value();
            // Keys are ordered by (conversation, seq): the first row of each is its head.
            if out.last().is_some_and(|j| j.conversation.as_str() == conv) {
                continue;
            }
            let conversation = ConversationId::from(conv.to_owned());
            let pending: Pending = serde_json::from_slice(v.value())?;
            out.push(Job { conversation, seq, pending });
        }
        Ok(out)
    })?;
    jobs.retain(|j| !busy.contains(&j.conversation));
    jobs.sort_by_key(|j| j.pending.enqueued_at);
    Ok(jobs)
}

/// Failures worth waiting out: the model or a limit is busy, not broken.
fn transient(e: &Error) -> bool {
    matches!(e, Error::Embed(EmbedError::Overloaded) | Error::RateLimited { .. } | Error::Unavailable(_))
}

async fn work(state: &AppState, mut job: Job, mut stop: watch::Receiver<bool>) {
    let id = job.conversation.clone();
    let message = match message(&state.store, &id, job.seq) {
        Ok(Some(m)) => m,
        // The conversation was deleted (retention, GDPR erase): nothing is owed any more.
        Ok(None) => return finish(state, &job),
        Err(e) => {
            tracing::error!(conversation = %id, error = ?e, "cannot read a queued visitor message");
            return;
        }
    };
    let mut backoff = Duration::from_millis(100);
    loop {
        let cfg = state.config();
        let err = match handoff::after_visitor_message(state, &id, &message).await {
            Ok(()) => return finish(state, &job),
            Err(Error::NotFound(_)) => return finish(state, &job),
            Err(e) => e,
        };
        if !transient(&err) {
            job.pending.attempts += 1;
            tracing::warn!(conversation = %id, seq = job.seq, attempt = job.pending.attempts, error = ?err,
                "answering a visitor message failed");
        }
        let waited = (Utc::now() - job.pending.enqueued_at).to_std().unwrap_or_default();
        if job.pending.attempts >= MAX_ATTEMPTS
            || waited >= Duration::from_secs(cfg.limits.reply_handoff_secs)
        {
            let why = if job.pending.attempts >= MAX_ATTEMPTS { "failed" } else { "timeout" };
            match give_up(state, &id, &message, why).await {
                Ok(()) => return finish(state, &job),
                Err(e) => {
                    tracing::error!(conversation = %id, error = ?e, "cannot hand a stuck reply to the team")
                }
            }
        } else if !job.pending.notified && waited >= Duration::from_secs(cfg.limits.reply_notice_secs) {
            match notify_delay(state, &id, &message) {
                Ok(()) => job.pending.notified = true,
                Err(e) => tracing::warn!(conversation = %id, error = ?e, "cannot send the delay notice"),
            }
        }
        if let Err(e) = save(&state.store, &job) {
            tracing::warn!(conversation = %id, error = ?e, "cannot update a pending reply");
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            // Shutting down: the row stays, the next start picks it up.
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

fn message(store: &Store, id: &ConversationId, seq: u64) -> Result<Option<Message>> {
    store.read(|tx| match tx.open_table(MESSAGES)?.get((id.as_str(), seq))? {
        Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
        None => Ok(None),
    })
}

fn save(store: &Store, job: &Job) -> Result<()> {
    store.write(|tx| {
        let mut t = tx.open_table(PENDING_REPLIES)?;
        // Only while still owed (never resurrect a finished row).
        if t.get((job.conversation.as_str(), job.seq))?.is_some() {
            t.insert((job.conversation.as_str(), job.seq), serde_json::to_vec(&job.pending)?.as_slice())?;
        }
        Ok(())
    })
}

fn finish(state: &AppState, job: &Job) {
    let removed = state.store.write(|tx| {
        tx.open_table(PENDING_REPLIES)?.remove((job.conversation.as_str(), job.seq))?;
        Ok(())
    });
    if let Err(e) = removed {
        tracing::error!(conversation = %job.conversation, error = ?e, "cannot remove a finished reply");
    }
}

/// The honest line while the visitor waits (once per message).
fn notify_delay(state: &AppState, id: &ConversationId, msg: &Message) -> Result<()> {
    let mut line = NewMessage::event(
        "reply_delayed",
        "This is taking longer than usual. Your message is safe; the answer follows as soon as possible.",
        serde_json::json!({ "reply_to": msg.seq }),
    );
    line.client_id = format!("delay-{}", msg.seq);
    handoff::append_if(state, id, line, |c| c.state.ai_answers())?;
    Ok(())
}

/// The AI could not answer in time: the team takes the conversation, and the visitor is told.
async fn give_up(state: &AppState, id: &ConversationId, msg: &Message, why: &str) -> Result<()> {
    let conv = conversation::get(&state.store, id)?;
    if !conv.state.ai_answers() {
        return Ok(());
    }
    let reason = match why {
        "failed" => "The AI could not answer this message (an internal error); please reply.",
        _ => "The AI could not answer this message in time (the server is busy); please reply.",
    };
    let signal =
        Signal { trigger: Trigger::Unsure, topic: String::new(), reason: reason.into(), team: String::new() };
    handoff::hand_off_with(state, id, signal, &format!("reply_queue:{why}")).await?;
    let mut line = NewMessage::event(
        "reply_failed",
        "Sorry, this could not be answered in time. The team has your message.",
        serde_json::json!({ "reply_to": msg.seq }),
    );
    line.client_id = format!("ai-{}", msg.seq);
    handoff::append_if(state, id, line, |c| c.state.ai_answers())?;
    Ok(())
}
