//! Handoff: deciding when a person should take over, and doing it honestly.
//!
//! [`after_visitor_message`] is the pipeline every visitor message goes through once it is
//! stored:
//!
//! 1. **Triggers.** The classifier ([`classify`]: learned heads over the message's e5 vector
//!    ([`head`]) plus lexicons) looks for a request for a person, a sensitive topic and
//!    frustration; the thread is read for pings while waiting, unsure answers in a row and a
//!    bad rating followed by a message ([`signals`]), for loops (the visitor asking the same
//!    thing again, by embedding similarity) and answers rated unhelpful; then admin rules
//!    ([`rules`]) may hand off, route to a team, suppress handoff or reply with a fixed text.
//!    Every switch and threshold is in `[handoff]`.
//! 2. **Handoff.** [`hand_off`] moves the conversation to `waiting_for_human`, records trigger,
//!    topic, reason and team on `Conversation.handoff`, appends the event line agents see (with
//!    machine-readable `data`), tells the visitor honestly what happens next ([`timing`]:
//!    "connecting you, usually N minutes" or "our team is offline, back Monday at 09:00, leave
//!    your email"), and broadcasts a [`DomainEvent::Handoff`] with the reason and the AI's
//!    sources for the inbox and webhooks.
//! 3. **The AI keeps helping** while `State::ai_answers()` (bot, waiting for a human), labelled
//!    as AI. Nobody answers twice: the AI's answer has `client_id = ai-<seq>` (deduplicated) and
//!    is appended by [`append_if`], which re-checks the state *inside the write transaction*, so
//!    an agent who joins while the AI is still computing wins and the late AI answer is dropped.
//!
//! Presence ([`presence`]), support hours ([`hours`]) and the offline email loop ([`notify`])
//! live beside it. `baton eval --triggers FILE` ([`eval`]) measures the classifier.

pub mod classify;
pub mod eval;
pub mod head;
pub mod hours;
pub mod lexicon;
pub mod notify;
pub mod presence;
pub mod rules;
pub mod signals;
pub mod timing;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::answer::Citation;
use crate::conversation::{
    self, AnswerBody, Author, Body, Conversation, Handoff, Message, NewMessage, Rating, State,
};
use crate::error::{Error, Result};
use crate::hub::HubEvent;
use crate::ids::{ConversationId, VisitorId};
use crate::state::AppState;
use crate::store::{self, CONVERSATIONS, MESSAGES};
use redb::ReadableTable;

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

/// Domain events for the inbox and future webhooks (durable facts are in the store; this is
/// the notification).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    /// `conversation.handoff`: a conversation was handed to the team.
    #[serde(rename = "conversation.handoff")]
    Handoff {
        conversation: ConversationId,
        handoff: Handoff,
        /// Machine-readable evidence (`lexicon:short_request`, `embedding`, `rule:<name>`…).
        evidence: String,
        /// The sources of the AI's latest answer, so the agent starts where the AI stopped.
        sources: Vec<Citation>,
        /// Confidence of the AI's latest answer, if any.
        confidence: Option<f32>,
    },
}

/// Handoff's in-memory runtime, one per process, on [`AppState::handoff`].
pub struct Runtime {
    pub presence: presence::Presence,
    pub classifier: classify::Classifier,
    events: broadcast::Sender<DomainEvent>,
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime {
            presence: presence::Presence::default(),
            classifier: classify::Classifier::default(),
            events: broadcast::channel(256).0,
        }
    }
}

impl Runtime {
    /// Domain events (`conversation.handoff`), for the inbox and webhooks.
    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.events.subscribe()
    }

    pub fn emit(&self, e: DomainEvent) {
        let _ = self.events.send(e);
    }
}

/// A trigger that fired, with its machine-readable evidence.
#[derive(Debug, Clone)]
pub struct Fired {
    pub signal: Signal,
    pub evidence: String,
}

/// What the triggers decided for one visitor message.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    /// Triggers that fired, most important first.
    pub fired: Vec<Fired>,
    /// A rule said never hand off automatically.
    pub suppressed_by: Option<String>,
    /// A rule's fixed reply (replaces the AI answer).
    pub reply: Option<String>,
}

impl Decision {
    pub fn handoff(&self) -> Option<&Fired> {
        if self.suppressed_by.is_some() {
            return None;
        }
        self.fired.first()
    }
}

fn priority(t: Trigger) -> u8 {
    match t {
        Trigger::Button => 0,
        Trigger::Rule => 1,
        Trigger::HumanRequest => 2,
        Trigger::Sensitive => 3,
        Trigger::Frustration => 4,
        Trigger::Unsure => 5,
    }
}

/// Checks every trigger for a visitor message (does not change anything).
pub async fn decide(state: &AppState, conv: &Conversation, msg: &Message) -> Result<Decision> {
    let cfg = state.config();
    let h = &cfg.handoff;
    let text = msg.text();
    let mut fired: Vec<Fired> = Vec::new();
    let mut qvec = None;
    if h.human_request || h.sensitive || h.frustration || h.rules {
        let (findings, q) =
            classify::classify_text(&state.handoff.classifier, &state.embedder, text, h).await;
        qvec = q;
        fired.extend(findings.into_iter().map(|f| Fired {
            signal: Signal { trigger: f.trigger, topic: f.topic, reason: f.reason, team: String::new() },
            evidence: f.evidence,
        }));
    }
    let history = conversation::messages_after(&state.store, &conv.id, msg.seq.saturating_sub(40))?;
    for s in signals::signals(&history, msg) {
        let on = match s.trigger {
            Trigger::HumanRequest => h.human_request,
            Trigger::Frustration => h.frustration,
            _ => true,
        };
        if on && !fired.iter().any(|f| f.signal.trigger == s.trigger) {
            fired.push(Fired {
                signal: Signal {
                    trigger: s.trigger,
                    topic: String::new(),
                    reason: s.reason,
                    team: String::new(),
                },
                evidence: s.evidence.to_owned(),
            });
        }
    }
    if h.frustration && !fired.iter().any(|f| f.signal.trigger == Trigger::Frustration) {
        if let Some(f) = conversation_frustration(state, conv, msg, qvec.as_deref()).await? {
            fired.push(f);
        }
    }
    Ok(apply_rules(&cfg, conv, text, fired))
}

/// Admin rules over what fired: a rule may hand off (to a team), suppress handoff or reply.
fn apply_rules(
    cfg: &crate::config::Config,
    conv: &Conversation,
    text: &str,
    mut fired: Vec<Fired>,
) -> Decision {
    let h = &cfg.handoff;
    let mut decision = Decision::default();
    if h.rules && !h.rule.is_empty() {
        let schedule = hours::Schedule::for_team(&cfg.hours, &conv.team);
        let now = Utc::now();
        let topics: Vec<String> =
            fired.iter().filter(|f| !f.signal.topic.is_empty()).map(|f| f.signal.topic.clone()).collect();
        let triggers: Vec<String> = fired.iter().map(|f| f.signal.trigger.as_str().to_owned()).collect();
        let input = rules::RuleInput {
            text,
            conversation: conv,
            topics: &topics,
            triggers: &triggers,
            now,
            tz: schedule.tz,
            within_hours: schedule.is_open(now),
        };
        if let Some(rule) = rules::first_match(&h.rule, &input) {
            let name = if rule.name.is_empty() { "unnamed rule".to_owned() } else { rule.name.clone() };
            match rule.action {
                rules::Action::HandOff | rules::Action::HandOffToTeam => fired.push(Fired {
                    signal: Signal {
                        trigger: Trigger::Rule,
                        topic: topics.first().cloned().unwrap_or_default(),
                        reason: format!("The rule \"{name}\" matched."),
                        team: if rule.action == rules::Action::HandOffToTeam {
                            rule.team.clone()
                        } else {
                            String::new()
                        },
                    },
                    evidence: format!("rule:{name}"),
                }),
                rules::Action::NeverHandOff => decision.suppressed_by = Some(name),
                rules::Action::Reply => decision.reply = Some(rule.reply.clone()),
            }
        }
    }
    fired.sort_by_key(|f| priority(f.signal.trigger));
    decision.fired = fired;
    decision
}

/// What the console's test box shows for a message typed by an admin.
#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
pub struct TriggerTest {
    /// Triggers that fired, the one that would hand off first.
    pub fired: Vec<TriggerTestHit>,
    /// Whether this message would hand a new conversation to the team.
    pub hands_off: bool,
    /// The rule that suppressed handoff, if any.
    pub suppressed_by: Option<String>,
    /// A rule's fixed reply, if one matched.
    pub reply: Option<String>,
    /// The learned heads' probabilities and thresholds (empty without the model).
    pub probabilities: Vec<classify::Probability>,
}

#[derive(Debug, Clone, Serialize, poem_openapi::Object)]
pub struct TriggerTestHit {
    pub trigger: String,
    pub topic: String,
    pub reason: String,
    /// `model`, `lexicon:<cue>`, `model+lexicon:<cue>`, `embedding`, `rule:<name>`…
    pub evidence: String,
}

/// Runs a message through the classifier and the admin rules as if it opened a new
/// conversation (thread signals need a thread, so they are not shown). Changes nothing.
pub async fn test_message(state: &AppState, text: &str) -> Result<TriggerTest> {
    let cfg = state.config();
    let h = &cfg.handoff;
    let text = text.trim();
    if text.is_empty() || text.chars().count() > 4000 {
        return Err(Error::InvalidInput("type a message of 1 to 4000 characters".into()));
    }
    let (findings, probabilities) =
        classify::classify_explained(&state.handoff.classifier, &state.embedder, text, h).await;
    let fired: Vec<Fired> = findings
        .into_iter()
        .map(|f| Fired {
            signal: Signal { trigger: f.trigger, topic: f.topic, reason: f.reason, team: String::new() },
            evidence: f.evidence,
        })
        .collect();
    let conv = Conversation::blank(VisitorId::random(), Default::default(), Utc::now());
    let d = apply_rules(&cfg, &conv, text, fired);
    Ok(TriggerTest {
        hands_off: d.handoff().is_some(),
        fired: d
            .fired
            .iter()
            .map(|f| TriggerTestHit {
                trigger: f.signal.trigger.as_str().to_owned(),
                topic: f.signal.topic.clone(),
                reason: f.signal.reason.clone(),
                evidence: f.evidence.clone(),
            })
            .collect(),
        suppressed_by: d.suppressed_by,
        reply: d.reply,
        probabilities,
    })
}

/// Loops (the same question again) and answers rated unhelpful.
async fn conversation_frustration(
    state: &AppState,
    conv: &Conversation,
    msg: &Message,
    q: Option<&[f32]>,
) -> Result<Option<Fired>> {
    let cfg = state.config();
    let history = conversation::messages_after(&state.store, &conv.id, msg.seq.saturating_sub(40))?;
    let unhelpful = history.iter().filter(|m| m.rating == Some(Rating::NotHelpful)).count() as u32;
    if cfg.handoff.unhelpful_ratings > 0 && unhelpful >= cfg.handoff.unhelpful_ratings {
        return Ok(Some(Fired {
            signal: Signal {
                trigger: Trigger::Frustration,
                topic: String::new(),
                reason: format!("The visitor rated {unhelpful} AI answers as not helpful."),
                team: String::new(),
            },
            evidence: "ratings:not_helpful".into(),
        }));
    }
    let Some(q) = q else { return Ok(None) };
    let earlier: Vec<String> = history
        .iter()
        .filter(|m| m.seq < msg.seq && matches!((&m.author, &m.body), (Author::Visitor(_), Body::Text(_))))
        .rev()
        .take(4)
        .map(|m| m.text().to_owned())
        .filter(|t| t.split_whitespace().count() >= 3)
        .collect();
    if earlier.is_empty() || msg.text().split_whitespace().count() < 3 {
        return Ok(None);
    }
    let vecs = match state.embedder.embed(earlier.clone(), crate::embed::Kind::Query).await {
        Ok(v) => v,
        Err(e) => {
            tracing::debug!(error = %e, "loop check skipped");
            return Ok(None);
        }
    };
    let best = vecs.iter().map(|v| classify::cosine(v, q)).fold(f32::MIN, f32::max);
    if best >= cfg.handoff.loop_similarity {
        return Ok(Some(Fired {
            signal: Signal {
                trigger: Trigger::Frustration,
                topic: String::new(),
                reason: "The visitor asked the same question again; the AI's answers did not help.".into(),
                team: String::new(),
            },
            evidence: format!("loop:similarity={best:.3}"),
        }));
    }
    Ok(None)
}

/// Runs after a visitor's message is stored: triggers, AI answer, handoff. The reply queue
/// ([`crate::answer_queue`]) calls it, in order per conversation, and retries it when it fails
/// because the model is busy; it must stay idempotent (the answer's `client_id` is `ai-<seq>`).
pub async fn after_visitor_message(state: &AppState, id: &ConversationId, msg: &Message) -> Result<()> {
    let conv = conversation::get(&state.store, id)?;
    if !conv.state.ai_answers() {
        return Ok(());
    }
    let decision = decide(state, &conv, msg).await?;
    let mut skip_answer = false;
    if let Some(f) = decision.handoff() {
        if conv.state == State::Bot {
            hand_off_with(state, id, f.signal.clone(), &f.evidence).await?;
        }
        // "Can I talk to a person?" and "this is useless" are not questions for the docs.
        skip_answer = matches!(f.signal.trigger, Trigger::HumanRequest | Trigger::Frustration);
    }
    if let Some(text) = &decision.reply {
        let reply = NewMessage {
            author: Author::ai(),
            body: Body::Text(conversation::TextBody { text: text.clone() }),
            page: None,
            client_id: format!("ai-{}", msg.seq),
        };
        append_if(state, id, reply, |c| c.state.ai_answers())?;
        return Ok(());
    }
    if skip_answer {
        return Ok(());
    }
    let config = state.config();
    let answer = state
        .knowledge
        .answer(msg.text(), config.answer.confidence_threshold, config.answer.max_citations)
        .await?;
    let unsure = answer.unsure;
    let reply = NewMessage {
        author: Author::ai(),
        body: Body::Answer(AnswerBody { answer, reply_to: msg.seq }),
        page: None,
        client_id: format!("ai-{}", msg.seq),
    };
    // Re-checked in the same write transaction: an agent who joined meanwhile wins.
    if append_if(state, id, reply, |c| c.state.ai_answers())?.is_none() {
        tracing::debug!(conversation = %id, "an agent joined while the AI was answering; the AI stays silent");
        return Ok(());
    }
    let conv = conversation::get(&state.store, id)?;
    if unsure
        && config.handoff.unsure
        && decision.suppressed_by.is_none()
        && conv.state == State::Bot
        && conv.unsure_streak >= config.handoff.unsure_streak.max(1)
    {
        let reason = if conv.unsure_streak > 1 {
            format!("The AI was unsure {} times in a row.", conv.unsure_streak)
        } else {
            "The AI could not find a confident answer in the knowledge base.".to_owned()
        };
        hand_off_with(
            state,
            id,
            Signal { trigger: Trigger::Unsure, topic: String::new(), reason, team: String::new() },
            &format!("unsure_streak:{}", conv.unsure_streak),
        )
        .await?;
    }
    Ok(())
}

/// Runs after the visitor rated an answer (the widget calls it): enough "not helpful"
/// ratings hand the conversation off as frustration.
pub async fn after_rating(state: &AppState, id: &ConversationId) -> Result<Option<Conversation>> {
    let cfg = state.config();
    let conv = conversation::get(&state.store, id)?;
    if !cfg.handoff.frustration || cfg.handoff.unhelpful_ratings == 0 || conv.state != State::Bot {
        return Ok(None);
    }
    let msgs = conversation::messages_after(&state.store, id, 0)?;
    let n = msgs.iter().filter(|m| m.rating == Some(Rating::NotHelpful)).count() as u32;
    if n < cfg.handoff.unhelpful_ratings {
        return Ok(None);
    }
    let signal = Signal {
        trigger: Trigger::Frustration,
        topic: String::new(),
        reason: format!("The visitor rated {n} AI answers as not helpful."),
        team: String::new(),
    };
    Ok(Some(hand_off_with(state, id, signal, "ratings:not_helpful").await?))
}

/// Hands the conversation to the team (idempotent while already waiting or with an agent).
pub async fn hand_off(state: &AppState, id: &ConversationId, signal: Signal) -> Result<Conversation> {
    let evidence = match signal.trigger {
        Trigger::Button => "button",
        other => other.as_str(),
    };
    hand_off_with(state, id, signal, evidence).await
}

/// [`hand_off`] with machine-readable evidence for the event line.
pub async fn hand_off_with(
    state: &AppState,
    id: &ConversationId,
    signal: Signal,
    evidence: &str,
) -> Result<Conversation> {
    let conv = conversation::get(&state.store, id)?;
    if matches!(conv.state, State::WaitingForHuman | State::WithAgent) {
        return Ok(conv);
    }
    let handoff = Handoff {
        trigger: signal.trigger.as_str().to_owned(),
        topic: signal.topic.clone(),
        reason: signal.reason.clone(),
        at: Utc::now(),
        team: signal.team.clone(),
    };
    let event = NewMessage::event(
        "handoff",
        format!("Handed to the team ({}): {}", signal.trigger.as_str(), signal.reason),
        serde_json::json!({
            "trigger": signal.trigger.as_str(),
            "topic": signal.topic,
            "reason": signal.reason,
            "evidence": evidence,
            "team": signal.team,
        }),
    );
    // The state is checked and changed in one transaction: an agent who joined in the meantime
    // keeps the conversation (a late trigger never pulls it back to waiting).
    let stored_handoff = handoff.clone();
    let moved = conversation::update(&state.store, &state.hub, id, |c| {
        if matches!(c.state, State::WaitingForHuman | State::WithAgent) {
            return Ok(false);
        }
        let now = Utc::now();
        if c.state == State::Resolved {
            c.resolved_at = None;
            c.csat = None;
        }
        c.state = State::WaitingForHuman;
        c.waiting_since = Some(now);
        c.handoff = Some(stored_handoff);
        if !signal.team.is_empty() {
            c.team = signal.team.clone();
        }
        Ok(true)
    })?;
    let conv = match moved {
        (c, false) => return Ok(c),
        (c, true) => c,
    };
    conversation::append(&state.store, &state.hub, id, event)?;

    // Tell the visitor what happens next.
    let avail = timing::availability(state, &conv.team, &conv.context.timezone)?;
    let timing_event = NewMessage::event(
        "availability",
        avail.message.clone(),
        serde_json::to_value(&avail).unwrap_or_default(),
    );
    conversation::append(&state.store, &state.hub, id, timing_event)?;

    // The AI's latest answer travels with the handoff.
    let recent = conversation::messages_after(&state.store, id, conv.last_seq.saturating_sub(30))?;
    let last_answer = recent.iter().rev().find_map(|m| match &m.body {
        Body::Answer(a) => Some(&a.answer),
        _ => None,
    });
    state.handoff.emit(DomainEvent::Handoff {
        conversation: id.clone(),
        handoff,
        evidence: evidence.to_owned(),
        sources: last_answer.map(|a| a.citations.clone()).unwrap_or_default(),
        confidence: last_answer.map(|a| a.confidence),
    });
    Ok(conversation::get(&state.store, id).unwrap_or(conv))
}

/// Appends `msg` only if `allowed(conversation)` holds, checked inside the same write
/// transaction that assigns the `seq` (so a concurrent state change cannot slip in between).
/// Returns `None` when not allowed. Like [`conversation::append`], a repeated non-empty
/// `client_id` returns the stored message instead of a second copy.
pub fn append_if(
    state: &AppState,
    id: &ConversationId,
    msg: NewMessage,
    allowed: impl FnOnce(&Conversation) -> bool,
) -> Result<Option<Message>> {
    let out = state.store.write(|tx| {
        let mut convs = tx.open_table(CONVERSATIONS)?;
        let mut conv: Conversation =
            store::get_json(&convs, id.as_str())?.ok_or(Error::NotFound("conversation"))?;
        let mut messages = tx.open_table(MESSAGES)?;
        if !msg.client_id.is_empty() {
            let from = conv.last_seq.saturating_sub(50);
            for row in messages.range((id.as_str(), from)..=(id.as_str(), conv.last_seq))? {
                let (_, v) = row?;
                let m: Message = serde_json::from_slice(v.value())?;
                if m.client_id == msg.client_id {
                    return Ok(Some((m, conv, false)));
                }
            }
        }
        if !allowed(&conv) {
            return Ok(None);
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
        if let Body::Answer(a) = &message.body {
            conv.ai_turns += 1;
            conv.unsure_streak = if a.answer.unsure { conv.unsure_streak + 1 } else { 0 };
        }
        let bytes = serde_json::to_vec(&message)?;
        messages.insert((id.as_str(), message.seq), bytes.as_slice())?;
        store::put_json(&mut convs, id.as_str(), &conv)?;
        Ok(Some((message, conv, true)))
    })?;
    Ok(out.map(|(message, conv, fresh)| {
        if fresh {
            state.hub.publish(HubEvent::Message { conversation: id.clone(), message: message.clone() });
            state.hub.publish(HubEvent::Conversation { conversation: Box::new(conv) });
        }
        message
    }))
}
