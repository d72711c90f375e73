//! Handoff: deciding when a person should take over, and doing it.
//!
//! [`after_visitor_message`] is the pipeline every visitor message goes through once it is
//! stored: check the triggers, let the AI answer while the state allows it, and hand off when a
//! trigger fires. [`hand_off`] moves the conversation to `waiting_for_human`, records the
//! trigger and reason and appends the event line agents see.

use serde::{Deserialize, Serialize};

use crate::conversation::{self, AnswerBody, Author, Body, Conversation, Handoff, Message, NewMessage, State};
use crate::error::Result;
use crate::ids::ConversationId;
use crate::state::AppState;

/// Why a handoff happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    Unsure,
    HumanRequest,
    Sensitive,
    Frustration,
    Rule,
    /// The widget's "Talk to the team" button.
    Button,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Unsure => "unsure",
            Trigger::HumanRequest => "human_request",
            Trigger::Sensitive => "sensitive",
            Trigger::Frustration => "frustration",
            Trigger::Rule => "rule",
            Trigger::Button => "button",
        }
    }
}

/// A fired trigger with its explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Signal {
    pub trigger: Trigger,
    /// Topic for `sensitive` triggers.
    pub topic: String,
    /// A sentence for the agent.
    pub reason: String,
    /// Team to route to, when a rule chose one.
    pub team: String,
}

/// Runs after a visitor's message is stored: triggers, AI answer, handoff.
pub async fn after_visitor_message(state: &AppState, id: &ConversationId, msg: &Message) -> Result<()> {
    let conv = conversation::get(&state.store, id)?;
    if !conv.state.ai_answers() {
        return Ok(());
    }
    let question = msg.text().to_owned();
    let config = state.config();
    let answer = state
        .knowledge
        .answer(&question, config.answer.confidence_threshold, config.answer.max_citations)
        .await?;
    let unsure = answer.unsure;
    let reply = NewMessage {
        author: Author::ai(),
        body: Body::Answer(AnswerBody { answer, reply_to: msg.seq }),
        page: None,
        client_id: format!("ai-{}", msg.seq),
    };
    let stored = conversation::append(&state.store, &state.hub, id, reply)?;
    let _ = stored;
    let conv = conversation::get(&state.store, id)?;
    if unsure && config.handoff.unsure && conv.state == State::Bot && conv.unsure_streak >= config.handoff.unsure_streak
    {
        hand_off(
            state,
            id,
            Signal {
                trigger: Trigger::Unsure,
                topic: String::new(),
                reason: "The AI could not find a confident answer in the knowledge base.".into(),
                team: String::new(),
            },
        )
        .await?;
    }
    Ok(())
}

/// Hands the conversation to the team (idempotent while already waiting or with an agent).
pub async fn hand_off(state: &AppState, id: &ConversationId, signal: Signal) -> Result<Conversation> {
    let conv = conversation::get(&state.store, id)?;
    if matches!(conv.state, State::WaitingForHuman | State::WithAgent) {
        return Ok(conv);
    }
    let handoff = Handoff {
        trigger: signal.trigger.as_str().to_owned(),
        topic: signal.topic.clone(),
        reason: signal.reason.clone(),
        at: chrono::Utc::now(),
        team: signal.team.clone(),
    };
    let event = NewMessage::event(
        "handoff",
        format!("Handed to the team ({}): {}", signal.trigger.as_str(), signal.reason),
        serde_json::json!({"trigger": signal.trigger.as_str(), "topic": signal.topic, "reason": signal.reason, "team": signal.team}),
    );
    let (conv, _) = conversation::transition(&state.store, &state.hub, id, State::WaitingForHuman, event, |c| {
        c.handoff = Some(handoff);
        if !signal.team.is_empty() {
            c.team = signal.team.clone();
        }
    })?;
    Ok(conv)
}
