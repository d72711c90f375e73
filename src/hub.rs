//! The event hub: live fan-out of what happens in conversations.
//!
//! Everything durable is in the store first; the hub only carries notifications. A visitor's
//! stream subscribes to its conversation's channel, the inbox subscribes to the team channel.
//! Streams subscribe *before* they replay stored messages after `Last-Event-ID`, then drop live
//! events whose `seq` they already sent, so nothing is lost or duplicated across a reconnect.
//! Channels are `tokio::sync::broadcast` with a bounded buffer; a listener that falls behind
//! gets `Lagged` and re-reads from the store.

use std::collections::HashMap;

use parking_lot::Mutex;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::conversation::{Conversation, Message};
use crate::ids::{ConversationId, UserId};

/// Per-conversation buffer. Small on purpose: a slow listener gets `Lagged` and re-reads from
/// the store, and thousands of open widgets each hold one channel.
const CHANNEL_CAPACITY: usize = 32;

/// Something that happened, as sent to live listeners.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HubEvent {
    /// A message (or event line) was appended to a conversation.
    Message { conversation: ConversationId, message: Message },
    /// A conversation's state, assignment or metadata changed.
    Conversation { conversation: Box<Conversation> },
    /// Someone is typing (not stored).
    Typing { conversation: ConversationId, who: Typist, typing: bool },
    /// An agent opened or left a conversation (collision prevention; not stored).
    Viewing { conversation: ConversationId, agent: UserId, name: String, viewing: bool },
    /// An agent went online, away or offline.
    Presence { agent: UserId, status: String },
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Typist {
    Visitor,
    Agent { id: UserId, name: String },
}

impl HubEvent {
    fn conversation_id(&self) -> Option<&ConversationId> {
        match self {
            HubEvent::Message { conversation, .. }
            | HubEvent::Typing { conversation, .. }
            | HubEvent::Viewing { conversation, .. } => Some(conversation),
            HubEvent::Conversation { conversation } => Some(&conversation.id),
            HubEvent::Presence { .. } => None,
        }
    }
}

pub struct Hub {
    conversations: Mutex<HashMap<ConversationId, broadcast::Sender<HubEvent>>>,
    team: broadcast::Sender<HubEvent>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub { conversations: Mutex::new(HashMap::new()), team: broadcast::channel(CHANNEL_CAPACITY * 32).0 }
    }
}

impl Hub {
    /// Live events of one conversation (for the visitor's stream).
    pub fn subscribe_conversation(&self, id: &ConversationId) -> broadcast::Receiver<HubEvent> {
        let mut map = self.conversations.lock();
        map.entry(id.clone()).or_insert_with(|| broadcast::channel(CHANNEL_CAPACITY).0).subscribe()
    }

    /// Live events of every conversation (for the team inbox).
    pub fn subscribe_team(&self) -> broadcast::Receiver<HubEvent> {
        self.team.subscribe()
    }

    /// Delivers an event to the conversation's listeners and to the team.
    pub fn publish(&self, event: HubEvent) {
        if let Some(id) = event.conversation_id() {
            let mut map = self.conversations.lock();
            if let Some(tx) = map.get(id) {
                if tx.receiver_count() == 0 {
                    map.remove(id);
                } else {
                    let _ = tx.send(event.clone());
                }
            }
        }
        let _ = self.team.send(event);
    }

    /// Number of conversations with live listeners (for metrics and tests).
    pub fn live_conversations(&self) -> usize {
        self.conversations.lock().values().filter(|tx| tx.receiver_count() > 0).count()
    }
}
