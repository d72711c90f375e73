//! The team inbox: which conversations need a person, the full context of one, and working it.
//!
//! **Lists** ([`list`]) filter every conversation into *waiting for a human*, *mine*,
//! *unassigned*, *handled by AI* and *resolved*, count each filter, search previews and message
//! text (case- and accent-insensitive) and sort by how long the visitor has waited, longest first.
//!
//! **A conversation** ([`view`]) is the whole thread (AI answers with citations and confidence,
//! event lines, private notes), the visitor's context, the sources the AI cited, who else is
//! looking at it, and an extractive [`Summary`]: the visitor's question, the AI's last answer and
//! why it was handed off, each taken verbatim from the thread.
//!
//! **Collision prevention.** Replying claims the conversation in the same write transaction
//! that checks it ([`reply`]): when someone else holds it, the reply is refused with
//! `Error::Conflict` unless the agent explicitly takes over, which is recorded in the thread.
//! Agents who have a conversation open are announced with `HubEvent::Viewing` (kept in
//! [`Runtime`], forgotten after [`VIEW_TTL`] without a refresh) and typing with `HubEvent::Typing`.
//!
//! **Agent assist** ([`suggest`]) asks the knowledge base the visitor's latest questions and
//! returns an editable draft with its sources, plus the sources the AI already cited.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use parking_lot::Mutex;
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use crate::accounts::User;
use crate::answer::Citation;
use crate::conversation::{
    self, Author, Body, Conversation, Message, NewMessage, State, TextBody, VisitorContext,
};
use crate::error::{Error, Result};
use crate::handoff::lexicon::fold;
use crate::hub::{HubEvent, Typist};
use crate::ids::{ConversationId, UserId};
use crate::state::AppState;
use crate::store::MESSAGES;

/// An agent counts as viewing a conversation this long after their last "viewing" ping.
pub const VIEW_TTL: Duration = Duration::from_secs(45);

/// Agents viewing one conversation: name and last ping.
type ViewersOf = HashMap<UserId, (String, Instant)>;

/// Who has which conversation open (in memory; not stored).
#[derive(Default)]
pub struct Runtime {
    viewers: Mutex<HashMap<ConversationId, ViewersOf>>,
}

impl Runtime {
    /// Records (or clears) that `agent` has the conversation open; returns whether it changed.
    pub fn set_viewing(&self, conv: &ConversationId, agent: &UserId, name: &str, viewing: bool) -> bool {
        let mut map = self.viewers.lock();
        let entry = map.entry(conv.clone()).or_default();
        let changed = if viewing {
            entry.insert(agent.clone(), (name.to_owned(), Instant::now())).is_none()
        } else {
            entry.remove(agent).is_some()
        };
        if entry.is_empty() {
            map.remove(conv);
        }
        changed
    }

    /// Agents viewing the conversation now.
    pub fn viewers(&self, conv: &ConversationId) -> Vec<Viewer> {
        let mut map = self.viewers.lock();
        let Some(entry) = map.get_mut(conv) else { return Vec::new() };
        entry.retain(|_, (_, at)| at.elapsed() < VIEW_TTL);
        let mut out: Vec<Viewer> =
            entry.iter().map(|(id, (name, _))| Viewer { agent: id.clone(), name: name.clone() }).collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, poem_openapi::Object)]
#[oai(rename = "InboxViewer")]
pub struct Viewer {
    pub agent: UserId,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Filter {
    /// Handed off, no agent has replied yet.
    Waiting,
    /// Open and assigned to me.
    Mine,
    /// Open, needs a person, nobody assigned.
    Unassigned,
    /// The AI is handling it (never handed off, or handed back).
    Ai,
    Resolved,
    /// Everything.
    All,
}

impl Filter {
    pub const COUNTED: [Filter; 5] =
        [Filter::Waiting, Filter::Mine, Filter::Unassigned, Filter::Ai, Filter::Resolved];

    pub fn matches(self, c: &Conversation, me: &UserId) -> bool {
        match self {
            Filter::Waiting => c.state == State::WaitingForHuman,
            Filter::Mine => c.state != State::Resolved && c.assignee.as_ref() == Some(me),
            Filter::Unassigned => {
                matches!(c.state, State::WaitingForHuman | State::WithAgent) && c.assignee.is_none()
            }
            Filter::Ai => c.state == State::Bot,
            Filter::Resolved => c.state == State::Resolved,
            Filter::All => true,
        }
    }
}

/// One row of the inbox list.
#[derive(Debug, Clone, Serialize, Deserialize, poem_openapi::Object)]
#[oai(rename = "InboxListItem")]
pub struct ListItem {
    pub id: ConversationId,
    pub state: State,
    /// Name, email or "Visitor ab12".
    pub visitor: String,
    pub preview: String,
    pub waiting_since: Option<DateTime<Utc>>,
    /// Seconds the visitor has been waiting for a person (0 when not waiting).
    pub waiting_secs: u64,
    pub updated_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub assignee: Option<UserId>,
    pub assignee_name: String,
    pub team: String,
    /// The latest handoff's trigger (`unsure`, `human_request`, …), empty when none.
    pub trigger: String,
    pub reason: String,
    pub locale: String,
    pub last_seq: u64,
}

impl ListItem {
    pub fn of(c: &Conversation, now: DateTime<Utc>) -> ListItem {
        ListItem {
            id: c.id.clone(),
            state: c.state,
            visitor: visitor_label(c),
            preview: c.preview.clone(),
            waiting_since: c.waiting_since,
            waiting_secs: c.waiting_since.map(|w| (now - w).num_seconds().max(0) as u64).unwrap_or(0),
            updated_at: c.updated_at,
            created_at: c.created_at,
            assignee: c.assignee.clone(),
            assignee_name: c.assignee_name.clone(),
            team: c.team.clone(),
            trigger: c.handoff.as_ref().map(|h| h.trigger.clone()).unwrap_or_default(),
            reason: c.handoff.as_ref().map(|h| h.reason.clone()).unwrap_or_default(),
            locale: c.context.locale.clone(),
            last_seq: c.last_seq,
        }
    }
}

/// How agents name a visitor.
pub fn visitor_label(c: &Conversation) -> String {
    let ctx: &VisitorContext = &c.context;
    if !ctx.name.trim().is_empty() {
        ctx.name.trim().to_owned()
    } else if !ctx.email.trim().is_empty() {
        ctx.email.trim().to_owned()
    } else {
        let id = c.visitor.as_str();
        format!("Visitor {}", &id[id.len().saturating_sub(4)..])
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, poem_openapi::Object)]
#[oai(rename = "InboxCounts")]
pub struct Counts {
    pub waiting: u32,
    pub mine: u32,
    pub unassigned: u32,
    pub ai: u32,
    pub resolved: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, poem_openapi::Object)]
#[oai(rename = "InboxPage")]
pub struct ListPage {
    pub items: Vec<ListItem>,
    /// Conversations per filter (with the search applied).
    pub counts: Counts,
}

/// Conversation ids whose preview or any visitor/AI/agent text or note matches `q`.
fn search_ids(state: &AppState, convs: &[Conversation], q: &str) -> Result<HashSet<ConversationId>> {
    let needle = fold(q.trim());
    let mut hits: HashSet<ConversationId> = convs
        .iter()
        .filter(|c| fold(&c.preview).contains(&needle) || fold(&visitor_label(c)).contains(&needle))
        .map(|c| c.id.clone())
        .collect();
    state.store.read(|tx| {
        let t = tx.open_table(MESSAGES)?;
        for row in t.iter()? {
            let (k, v) = row?;
            let (id, _) = k.value();
            if hits.contains(&ConversationId::from(id)) {
                continue;
            }
            let m: Message = serde_json::from_slice(v.value())?;
            if matches!(m.body, Body::Event(_)) {
                continue;
            }
            if fold(m.text()).contains(&needle) {
                hits.insert(ConversationId::from(id));
            }
        }
        Ok(())
    })?;
    Ok(hits)
}

/// The inbox list for `me`: one filter, optionally searched, longest wait first.
pub fn list(
    state: &AppState,
    me: &UserId,
    filter: Filter,
    q: Option<&str>,
    limit: usize,
) -> Result<ListPage> {
    let now = Utc::now();
    let mut convs = conversation::list(&state.store)?;
    if let Some(q) = q.filter(|q| !q.trim().is_empty()) {
        let hits = search_ids(state, &convs, q)?;
        convs.retain(|c| hits.contains(&c.id));
    }
    let mut counts = Counts::default();
    for c in &convs {
        for f in Filter::COUNTED {
            if f.matches(c, me) {
                let slot = match f {
                    Filter::Waiting => &mut counts.waiting,
                    Filter::Mine => &mut counts.mine,
                    Filter::Unassigned => &mut counts.unassigned,
                    Filter::Ai => &mut counts.ai,
                    Filter::Resolved => &mut counts.resolved,
                    Filter::All => continue,
                };
                *slot += 1;
            }
        }
    }
    convs.retain(|c| filter.matches(c, me));
    sort_for_inbox(&mut convs, filter);
    let items = convs.iter().take(limit).map(|c| ListItem::of(c, now)).collect();
    Ok(ListPage { items, counts })
}

/// Longest waiting first; then the rest by latest activity. Resolved: most recently resolved first.
pub fn sort_for_inbox(convs: &mut [Conversation], filter: Filter) {
    if filter == Filter::Resolved {
        convs.sort_by(|a, b| {
            b.resolved_at.unwrap_or(b.updated_at).cmp(&a.resolved_at.unwrap_or(a.updated_at))
        });
        return;
    }
    convs.sort_by(|a, b| match (a.waiting_since, b.waiting_since) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => b.updated_at.cmp(&a.updated_at),
    });
}

/// The short, extractive summary at the top of a conversation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, poem_openapi::Object)]
#[oai(rename = "InboxSummary")]
pub struct Summary {
    /// What the visitor asked (their first question, and the latest if it differs).
    pub asked: String,
    /// The AI's latest answer, first sentences, without citation markers.
    pub answered: String,
    /// Confidence of that answer (0..1), when there is one.
    pub confidence: Option<f32>,
    /// Why it was handed off ("human_request: …"), empty when it was not.
    pub handoff: String,
    pub trigger: String,
}

fn clip(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        return s;
    }
    let cut: String = s.chars().take(max).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => &cut[..],
    };
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.']))
}

/// Strips `[1]`-style citation markers.
fn strip_markers(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '[' {
            let mut digits = String::new();
            while let Some(d) = chars.peek().copied().filter(|d| d.is_ascii_digit()) {
                digits.push(d);
                chars.next();
            }
            if !digits.is_empty() && chars.peek() == Some(&']') {
                chars.next();
                continue;
            }
            out.push('[');
            out.push_str(&digits);
            continue;
        }
        out.push(c);
    }
    out.replace(" .", ".").replace(" ,", ",").replace("  ", " ")
}

/// The first sentence or two, up to `max` characters.
fn first_sentences(s: &str, max: usize) -> String {
    let s = s.trim();
    let mut end = 0;
    for (i, c) in s.char_indices() {
        if matches!(c, '.' | '!' | '?' | '\n') && i > 0 {
            end = i + c.len_utf8();
            if end >= max / 2 {
                break;
            }
        }
    }
    clip(if end > 0 { &s[..end] } else { s }, max)
}

pub fn summarize(conv: &Conversation, messages: &[Message]) -> Summary {
    let questions: Vec<&str> = messages
        .iter()
        .filter(|m| matches!((&m.author, &m.body), (Author::Visitor(_), Body::Text(_))))
        .map(|m| m.text())
        .collect();
    let asked = match (questions.first(), questions.last()) {
        (Some(first), Some(last)) if questions.len() > 1 && fold(first) != fold(last) => {
            format!("{} … latest: {}", clip(first, 160), clip(last, 160))
        }
        (Some(first), _) => clip(first, 240),
        _ => String::new(),
    };
    let last_answer = messages.iter().rev().find_map(|m| match &m.body {
        Body::Answer(a) => Some(&a.answer),
        _ => None,
    });
    let (answered, confidence) = match last_answer {
        Some(a) => (first_sentences(&strip_markers(&a.text), 220), Some(a.confidence)),
        None => (String::new(), None),
    };
    let (handoff, trigger) = match &conv.handoff {
        Some(h) => (clip(&h.reason, 240), h.trigger.clone()),
        None => (String::new(), String::new()),
    };
    Summary { asked, answered, confidence, handoff, trigger }
}

/// Every source the AI cited in the thread, once each (by document), most recent first.
pub fn cited_sources(messages: &[Message]) -> Vec<Citation> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for m in messages.iter().rev() {
        if let Body::Answer(a) = &m.body {
            for c in &a.answer.citations {
                if seen.insert((c.document.clone(), c.section.clone())) {
                    out.push(c.clone());
                }
            }
        }
    }
    out
}

/// A conversation as the inbox shows it.
#[derive(Debug, Clone, Serialize, Deserialize, poem_openapi::Object)]
#[oai(rename = "InboxConversation")]
pub struct ConversationView {
    pub conversation: Conversation,
    pub visitor: String,
    pub messages: Vec<Message>,
    pub summary: Summary,
    /// Sources the AI cited in this thread.
    pub sources: Vec<Citation>,
    /// Other agents who have it open.
    pub viewers: Vec<Viewer>,
    /// Earlier conversations of the same visitor, most recent first (id, preview).
    pub history: Vec<ListItem>,
}

pub fn view(state: &AppState, me: &UserId, id: &ConversationId) -> Result<ConversationView> {
    let conv = conversation::get(&state.store, id)?;
    let messages = conversation::messages_after(&state.store, id, 0)?;
    let now = Utc::now();
    let mut history: Vec<ListItem> = conversation::list(&state.store)?
        .into_iter()
        .filter(|c| c.visitor == conv.visitor && c.id != conv.id)
        .map(|c| ListItem::of(&c, now))
        .collect();
    history.sort_by_key(|h| std::cmp::Reverse(h.created_at));
    Ok(ConversationView {
        visitor: visitor_label(&conv),
        summary: summarize(&conv, &messages),
        sources: cited_sources(&messages),
        viewers: state.inbox.viewers(id).into_iter().filter(|v| &v.agent != me).collect(),
        history,
        messages,
        conversation: conv,
    })
}

fn check_text(state: &AppState, text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::InvalidInput("write something first".into()));
    }
    let max = state.config().limits.max_message_chars;
    if text.chars().count() > max {
        return Err(Error::InvalidInput(format!("messages are limited to {max} characters")));
    }
    Ok(text.to_owned())
}

fn event(name: &str, text: String, data: serde_json::Value) -> NewMessage {
    NewMessage::event(name, text, data)
}

/// Takes the conversation for `actor` (atomically). Someone else's conversation is only taken
/// with `takeover`; the previous holder's name is returned when it changed hands.
fn claim(
    state: &AppState,
    actor: &User,
    id: &ConversationId,
    takeover: bool,
) -> Result<(Conversation, Option<String>)> {
    conversation::update(&state.store, &state.hub, id, |c| {
        match &c.assignee {
            Some(a) if a == &actor.id => return Ok(None),
            Some(_) if !takeover => {
                let who = if c.assignee_name.is_empty() { "another agent" } else { c.assignee_name.as_str() };
                return Err(Error::Conflict(format!(
                    "{who} is handling this conversation; take over to reply"
                )));
            }
            _ => {}
        }
        let previous = c.assignee.as_ref().map(|_| c.assignee_name.clone());
        c.assignee = Some(actor.id.clone());
        c.assignee_name = actor.name.clone();
        Ok(previous)
    })
}

/// An agent's reply to the visitor. Claims the conversation (409 when another agent holds it,
/// unless `takeover`), moves it to `with_agent` on the first reply, appends the message
/// durably, and emails it when the visitor has left (in the background).
pub async fn reply(
    state: &AppState,
    actor: &User,
    id: &ConversationId,
    text: &str,
    client_id: &str,
    takeover: bool,
) -> Result<Message> {
    let text = check_text(state, text)?;
    let current = conversation::get(&state.store, id)?;
    if current.state == State::Resolved {
        return Err(Error::Conflict("this conversation is resolved; reopen it to reply".into()));
    }
    let (conv, previous) = claim(state, actor, id, takeover)?;
    if let Some(prev) = previous {
        let line = if prev.is_empty() {
            format!("{} took over the conversation", actor.name)
        } else {
            format!("{} took over from {prev}", actor.name)
        };
        conversation::append(
            &state.store,
            &state.hub,
            id,
            event(
                "assigned",
                line,
                serde_json::json!({"agent": actor.id, "name": actor.name, "takeover": true}),
            ),
        )?;
    }
    if matches!(conv.state, State::Bot | State::WaitingForHuman) {
        let line = format!("{} joined the conversation", actor.name);
        let (agent, name) = (actor.id.clone(), actor.name.clone());
        conversation::transition(
            &state.store,
            &state.hub,
            id,
            State::WithAgent,
            event(
                "agent_joined",
                line,
                serde_json::json!({"agent": agent, "name": name, "from": conv.state.as_str()}),
            ),
            move |c| {
                c.assignee = Some(agent);
                c.assignee_name = name;
            },
        )?;
    }
    let mut msg = NewMessage::text(Author::agent(actor.id.clone(), actor.name.clone()), text);
    msg.client_id = client_id.chars().take(64).collect();
    let message = conversation::append(&state.store, &state.hub, id, msg)?;
    state.hub.publish(HubEvent::Typing {
        conversation: id.clone(),
        who: Typist::Agent { id: actor.id.clone(), name: actor.name.clone() },
        typing: false,
    });
    let (st, cid, m) = (state.clone(), id.clone(), message.clone());
    tokio::spawn(async move {
        if let Err(e) = crate::handoff::notify::on_agent_reply(&st, &cid, &m).await {
            tracing::warn!(conversation = %cid, error = ?e, "follow-up email step failed");
        }
    });
    Ok(message)
}

/// A private note for the team (never shown to the visitor).
pub fn note(state: &AppState, actor: &User, id: &ConversationId, text: &str) -> Result<Message> {
    let text = check_text(state, text)?;
    conversation::get(&state.store, id)?;
    let msg = NewMessage {
        author: Author::agent(actor.id.clone(), actor.name.clone()),
        body: Body::Note(TextBody { text }),
        page: None,
        client_id: String::new(),
    };
    conversation::append(&state.store, &state.hub, id, msg)
}

/// Assignment: to an agent (yourself to claim), to a team, or nobody.
#[derive(Debug, Clone, Default, Deserialize, poem_openapi::Object)]
#[oai(rename = "InboxAssign")]
pub struct Assign {
    /// The agent; omit (with no team) to unassign.
    pub agent: Option<UserId>,
    /// The team; an empty string clears it.
    pub team: Option<String>,
}

pub fn assign(state: &AppState, actor: &User, id: &ConversationId, req: Assign) -> Result<Conversation> {
    let target = match &req.agent {
        Some(a) => {
            let u = crate::accounts::get_user(&state.store, a)?;
            if u.disabled {
                return Err(Error::InvalidInput(format!("{} is disabled", u.name)));
            }
            Some(u)
        }
        None => None,
    };
    let team = req.team.as_ref().map(|t| t.trim().to_lowercase());
    let (conv, previous) = conversation::update(&state.store, &state.hub, id, |c| {
        let previous = (c.assignee.clone(), c.assignee_name.clone(), c.team.clone());
        if let Some(u) = &target {
            c.assignee = Some(u.id.clone());
            c.assignee_name = u.name.clone();
        } else if team.is_none() {
            c.assignee = None;
            c.assignee_name.clear();
        }
        if let Some(t) = &team {
            c.team = t.clone();
        }
        Ok(previous)
    })?;
    let (prev_id, prev_name, prev_team) = previous;
    let mut lines = Vec::new();
    if conv.assignee != prev_id {
        lines.push(match (&target, prev_id.is_some()) {
            (Some(u), _) if u.id == actor.id && prev_id.is_some() => {
                format!("{} took over from {prev_name}", actor.name)
            }
            (Some(u), _) if u.id == actor.id => format!("{} took the conversation", actor.name),
            (Some(u), _) => format!("{} assigned the conversation to {}", actor.name, u.name),
            (None, _) => format!("{} unassigned the conversation", actor.name),
        });
    }
    if conv.team != prev_team {
        lines.push(if conv.team.is_empty() {
            format!("{} removed the team", actor.name)
        } else {
            format!("{} routed the conversation to team {}", actor.name, conv.team)
        });
    }
    for line in lines {
        let data = serde_json::json!({"agent": conv.assignee, "team": conv.team, "by": actor.id});
        conversation::append(&state.store, &state.hub, id, event("assigned", line, data))?;
    }
    conversation::get(&state.store, id)
}

pub fn resolve(state: &AppState, actor: &User, id: &ConversationId) -> Result<Conversation> {
    let line = format!("{} resolved the conversation", actor.name);
    let data = serde_json::json!({"by": actor.id});
    Ok(conversation::transition(
        &state.store,
        &state.hub,
        id,
        State::Resolved,
        event("resolved", line, data),
        |_| {},
    )?
    .0)
}

/// Back to the AI: unassigned, the AI answers again.
pub fn hand_back(state: &AppState, actor: &User, id: &ConversationId) -> Result<Conversation> {
    let line = format!("{} handed the conversation back to the AI", actor.name);
    let data = serde_json::json!({"by": actor.id});
    Ok(conversation::transition(
        &state.store,
        &state.hub,
        id,
        State::Bot,
        event("handed_back", line, data),
        |c| {
            c.assignee = None;
            c.assignee_name.clear();
        },
    )?
    .0)
}

/// Reopens a resolved conversation for the team (waiting for a human, assigned to the actor).
pub fn reopen(state: &AppState, actor: &User, id: &ConversationId) -> Result<Conversation> {
    let conv = conversation::get(&state.store, id)?;
    if conv.state != State::Resolved {
        return Err(Error::Conflict("only resolved conversations can be reopened".into()));
    }
    let line = format!("{} reopened the conversation", actor.name);
    let data = serde_json::json!({"by": actor.id});
    let (agent, name) = (actor.id.clone(), actor.name.clone());
    Ok(conversation::transition(
        &state.store,
        &state.hub,
        id,
        State::WaitingForHuman,
        event("reopened", line, data),
        |c| {
            c.assignee = Some(agent);
            c.assignee_name = name;
        },
    )?
    .0)
}

/// Announces that `actor` opened or left the conversation (collision prevention).
pub fn viewing(state: &AppState, actor: &User, id: &ConversationId, on: bool) -> Result<Vec<Viewer>> {
    conversation::get(&state.store, id)?;
    state.inbox.set_viewing(id, &actor.id, &actor.name, on);
    state.hub.publish(HubEvent::Viewing {
        conversation: id.clone(),
        agent: actor.id.clone(),
        name: actor.name.clone(),
        viewing: on,
    });
    Ok(state.inbox.viewers(id).into_iter().filter(|v| v.agent != actor.id).collect())
}

/// Announces that `actor` is (or stopped) typing a reply; the visitor's widget shows it too.
pub fn typing(state: &AppState, actor: &User, id: &ConversationId, on: bool) -> Result<()> {
    conversation::get(&state.store, id)?;
    state.hub.publish(HubEvent::Typing {
        conversation: id.clone(),
        who: Typist::Agent { id: actor.id.clone(), name: actor.name.clone() },
        typing: on,
    });
    Ok(())
}

/// A suggested reply for the agent, from the knowledge base.
#[derive(Debug, Clone, Serialize, Deserialize, poem_openapi::Object)]
#[oai(rename = "InboxSuggestion")]
pub struct Suggestion {
    /// The question the suggestion answers (the visitor's latest questions).
    pub question: String,
    /// Draft text (without `[n]` markers), editable before sending; empty when nothing fits.
    pub text: String,
    pub confidence: f32,
    pub unsure: bool,
    /// Sources of the draft.
    pub citations: Vec<Citation>,
    /// Sources the AI already cited in the thread.
    pub thread_sources: Vec<Citation>,
}

pub async fn suggest(state: &AppState, id: &ConversationId) -> Result<Suggestion> {
    let messages = conversation::messages_after(&state.store, id, 0)?;
    let questions: Vec<&str> = messages
        .iter()
        .filter(|m| matches!((&m.author, &m.body), (Author::Visitor(_), Body::Text(_))))
        .map(|m| m.text())
        .collect();
    let recent: Vec<&str> = questions.iter().rev().take(2).rev().copied().collect();
    let question = recent.join(" ");
    let thread_sources = cited_sources(&messages);
    if question.trim().is_empty() {
        return Ok(Suggestion {
            question,
            text: String::new(),
            confidence: 0.0,
            unsure: true,
            citations: Vec::new(),
            thread_sources,
        });
    }
    let cfg = state.config();
    let answer =
        state.knowledge.answer(&question, cfg.answer.confidence_threshold, cfg.answer.max_citations).await?;
    let text = if answer.citations.is_empty() {
        String::new()
    } else {
        strip_markers(&answer.text).trim().to_owned()
    };
    Ok(Suggestion {
        question,
        text,
        confidence: answer.confidence,
        unsure: answer.unsure,
        citations: answer.citations,
        thread_sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_stripped_and_text_clipped() {
        assert_eq!(
            strip_markers("Go to Settings [1]. Then Billing [2], done."),
            "Go to Settings. Then Billing, done."
        );
        assert_eq!(strip_markers("an array [x] stays"), "an array [x] stays");
        assert_eq!(clip("one two three four", 9), "one two…");
        assert_eq!(first_sentences("First one. Second one. Third.", 40), "First one. Second one.");
    }

    #[test]
    fn waiting_longest_first_then_recent_activity() {
        let base = Utc::now();
        let mk = |id: &str, waiting: Option<i64>, updated: i64| Conversation {
            id: ConversationId::from(id),
            visitor: "v".into(),
            state: if waiting.is_some() { State::WaitingForHuman } else { State::Bot },
            created_at: base,
            updated_at: base - chrono::Duration::seconds(updated),
            last_seq: 0,
            assignee: None,
            assignee_name: String::new(),
            team: String::new(),
            context: Default::default(),
            handoff: None,
            follow_up: None,
            csat: None,
            waiting_since: waiting.map(|w| base - chrono::Duration::seconds(w)),
            first_human_reply_at: None,
            resolved_at: None,
            ai_turns: 0,
            unsure_streak: 0,
            preview: String::new(),
            visitor_seen_at: None,
        };
        let mut v = vec![mk("a", None, 5), mk("b", Some(60), 0), mk("c", Some(600), 0), mk("d", None, 1)];
        sort_for_inbox(&mut v, Filter::All);
        let order: Vec<&str> = v.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(order, vec!["c", "b", "d", "a"]);
    }
}
