//! `Conversation.visitor_seen_at` for connected widgets, written in batches.
//!
//! Every open stream registers its conversation here. The time is written when a stream opens
//! and when the last stream of a conversation closes, and every [`FLUSH`] for all connected
//! conversations in *one* write transaction, so 5,000 connected visitors cost one commit every
//! 20 seconds instead of 250 a second. The email loop ([`crate::handoff::notify`]) treats a
//! visitor as gone after `handoff.email_after_secs` (120 s by default), well above [`FLUSH`].
//!
//! The flush task holds only a `Weak` reference: when the app is dropped (server stopped), the
//! tracker and its store handle go with it, so a restart can reopen the database at once.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use chrono::Utc;
use parking_lot::Mutex;

use crate::conversation::Conversation;
use crate::error::Result;
use crate::ids::ConversationId;
use crate::store::{self, Store, CONVERSATIONS};

/// How often connected conversations are marked as seen.
pub const FLUSH: Duration = Duration::from_secs(20);

#[derive(Default)]
pub struct SeenTracker {
    live: Mutex<HashMap<ConversationId, usize>>,
    store: Mutex<Option<Store>>,
}

impl SeenTracker {
    /// A stream for `id` opened: marks it seen now and keeps it fresh while connected.
    pub fn connect(self: &Arc<Self>, store: &Store, id: &ConversationId) {
        *self.live.lock().entry(id.clone()).or_insert(0) += 1;
        let start = {
            let mut s = self.store.lock();
            let first = s.is_none();
            if first {
                *s = Some(store.clone());
            }
            first
        };
        if start {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(flush_loop(Arc::downgrade(self)));
            }
        }
        write_later(store.clone(), vec![id.clone()]);
    }

    /// A stream for `id` closed; the last one marks it seen a final time.
    pub fn disconnect(&self, id: &ConversationId) {
        let last = {
            let mut live = self.live.lock();
            match live.get_mut(id) {
                Some(n) if *n > 1 => {
                    *n -= 1;
                    false
                }
                Some(_) => {
                    live.remove(id);
                    true
                }
                None => false,
            }
        };
        if last {
            if let Some(store) = self.store.lock().clone() {
                write_later(store, vec![id.clone()]);
            }
        }
    }

    /// Conversations with at least one open stream.
    pub fn connected(&self) -> Vec<ConversationId> {
        self.live.lock().keys().cloned().collect()
    }
}

async fn flush_loop(tracker: Weak<SeenTracker>) {
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + FLUSH, FLUSH);
    loop {
        tick.tick().await;
        let Some(t) = tracker.upgrade() else { return };
        let (ids, store) = (t.connected(), t.store.lock().clone());
        drop(t);
        if let (false, Some(store)) = (ids.is_empty(), store) {
            write_later(store, ids);
        }
    }
}

fn write_later(store: Store, ids: Vec<ConversationId>) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
    rt.spawn_blocking(move || {
        if let Err(e) = mark_seen(&store, &ids) {
            tracing::warn!(error = %e, conversations = ids.len(), "cannot record visitors as seen");
        }
    });
}

/// Sets `visitor_seen_at = now` on the conversations, in one transaction. Not published (it
/// would wake every inbox each time).
pub fn mark_seen(store: &Store, ids: &[ConversationId]) -> Result<()> {
    let now = Utc::now();
    store.write(|tx| {
        let mut t = tx.open_table(CONVERSATIONS)?;
        for id in ids {
            if let Some(mut c) = store::get_json::<Conversation>(&t, id.as_str())? {
                c.visitor_seen_at = Some(now);
                store::put_json(&mut t, id.as_str(), &c)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connected_conversations_are_counted_per_stream() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), false).unwrap();
        let t = Arc::new(SeenTracker::default());
        let (a, b) = (ConversationId::from("a"), ConversationId::from("b"));
        t.connect(&store, &a);
        t.connect(&store, &a);
        t.connect(&store, &b);
        t.disconnect(&a);
        let mut c = t.connected();
        c.sort();
        assert_eq!(c, vec![a.clone(), b.clone()], "a still has one stream");
        t.disconnect(&a);
        t.disconnect(&b);
        assert!(t.connected().is_empty());
    }
}
