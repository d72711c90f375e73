//! Data retention: conversations are deleted `security.retention_days` after their last
//! activity (`Conversation.updated_at`, which every message and state change moves forward).
//! 0 keeps everything. [`spawn`] runs [`sweep_once`] at start-up and then every hour.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::task::JoinHandle;

use crate::conversation;
use crate::error::Result;
use crate::ids::ConversationId;
use crate::state::AppState;

const EVERY: Duration = Duration::from_secs(3600);

/// One pass: deletes conversations whose last activity is older than the retention period.
/// Returns how many were deleted.
pub fn sweep_once(state: &AppState, now: DateTime<Utc>) -> Result<usize> {
    let days = state.config().security.retention_days;
    if days == 0 {
        return Ok(0);
    }
    let cutoff = now - chrono::Duration::days(i64::from(days));
    let mut deleted = BTreeSet::new();
    for c in conversation::list(&state.store)? {
        if c.updated_at < cutoff {
            conversation::delete(&state.store, &c.id)?;
            crate::insights::forget_conversation(state, &c.id)?;
            deleted.insert(c.id);
        }
    }
    super::gdpr::unlink_conversations(state, &deleted)?;
    if !deleted.is_empty() {
        tracing::info!(count = deleted.len(), days, "retention: deleted old conversations");
    }
    Ok(deleted.len())
}

/// Runs the sweeper in the background until the process ends.
pub fn spawn(state: AppState) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(EVERY);
        loop {
            tick.tick().await;
            let s = state.clone();
            match tokio::task::spawn_blocking(move || sweep_once(&s, Utc::now())).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "retention sweep failed"),
                Err(e) => tracing::warn!(error = %e, "retention sweep panicked"),
            }
        }
    })
}

/// The ids of conversations a sweep at `now` would delete (for the console's preview).
pub fn due(state: &AppState, now: DateTime<Utc>) -> Result<Vec<ConversationId>> {
    let days = state.config().security.retention_days;
    if days == 0 {
        return Ok(Vec::new());
    }
    let cutoff = now - chrono::Duration::days(i64::from(days));
    Ok(conversation::list(&state.store)?
        .into_iter()
        .filter(|c| c.updated_at < cutoff)
        .map(|c| c.id)
        .collect())
}
