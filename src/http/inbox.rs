//! The team inbox API under `/api/inbox/…` (every route takes [`AgentAuth`]).
//!
//! Thin handlers over [`crate::inbox`]. The live stream `GET /api/inbox/stream` forwards the
//! team channel of the hub (`message`, `conversation`, `typing`, `viewing`, `presence` events,
//! JSON in `data`); the app reloads what it shows from the REST routes, so a dropped event only
//! delays an update. It ends on Ctrl-C so graceful shutdown is not held up.

use std::time::Duration;

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use poem::web::sse::Event;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::{EventStream, Json};
use poem_openapi::{Object, OpenApi, Tags};
use tokio::sync::broadcast::error::RecvError;

use crate::accounts;
use crate::conversation::{Conversation, Message};
use crate::handoff::presence;
use crate::http::auth::AgentAuth;
use crate::hub::HubEvent;
use crate::ids::{ConversationId, UserId};
use crate::inbox::{self, Assign, ConversationView, Filter, ListPage, Suggestion, Viewer};
use crate::state::AppState;

const KEEP_ALIVE: Duration = Duration::from_secs(20);
/// How often an idle stream checks that its session still exists.
const SESSION_RECHECK: Duration = Duration::from_secs(2);

/// The session behind a long-lived stream.
struct LiveSession {
    state: AppState,
    key: String,
}

impl LiveSession {
    fn alive(&self) -> bool {
        accounts::session_alive(&self.state.store, &self.key)
    }
}

#[derive(Tags)]
enum InboxTag {
    /// The team inbox: conversations, replies, notes, assignment, live updates.
    Inbox,
}

#[derive(Debug, Object)]
#[oai(rename = "InboxReply")]
pub struct Reply {
    pub text: String,
    /// Client-chosen id; a retried send with the same id is stored once.
    #[oai(default)]
    pub client_id: String,
    /// Reply even though another agent holds the conversation (recorded as a takeover).
    #[oai(default)]
    pub takeover: bool,
}

#[derive(Debug, Object)]
#[oai(rename = "InboxNote")]
pub struct Note {
    pub text: String,
}

#[derive(Debug, Object)]
#[oai(rename = "InboxToggle")]
pub struct Toggle {
    pub on: bool,
}

#[derive(Debug, Object)]
#[oai(rename = "InboxHeartbeat")]
pub struct Heartbeat {
    /// The agent set themselves away.
    #[oai(default)]
    pub away: bool,
}

#[derive(Debug, Object)]
#[oai(rename = "AgentPresence")]
pub struct PresenceView {
    pub agent: UserId,
    pub name: String,
    /// `online`, `away` or `offline`.
    pub status: String,
}

/// One live event; `kind` is the SSE event name, `data` the JSON of [`HubEvent`].
#[derive(Debug, Object)]
pub struct InboxEvent {
    pub kind: String,
    pub data: serde_json::Value,
}

fn kind_of(e: &HubEvent) -> &'static str {
    match e {
        HubEvent::Message { .. } => "message",
        HubEvent::Conversation { .. } => "conversation",
        HubEvent::Typing { .. } => "typing",
        HubEvent::Viewing { .. } => "viewing",
        HubEvent::Presence { .. } => "presence",
    }
}

pub struct InboxApi;

#[OpenApi(prefix_path = "/inbox", tag = "InboxTag::Inbox")]
impl InboxApi {
    /// Conversations for one filter (default: waiting for a human), longest wait first, with
    /// counts per filter; `q` searches previews and message text.
    #[oai(path = "/conversations", method = "get")]
    async fn list(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        filter: Query<Option<Filter>>,
        q: Query<Option<String>>,
        limit: Query<Option<u32>>,
    ) -> poem::Result<Json<ListPage>> {
        let limit = limit.0.unwrap_or(200).clamp(1, 1000) as usize;
        Ok(Json(inbox::list(&state, auth.id(), filter.0.unwrap_or(Filter::Waiting), q.0.as_deref(), limit)?))
    }

    /// One conversation: transcript, summary, visitor context, cited sources, who else views it.
    #[oai(path = "/conversations/:id", method = "get")]
    async fn get(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> poem::Result<Json<ConversationView>> {
        Ok(Json(inbox::view(&state, auth.id(), &ConversationId::from(id.0))?))
    }

    /// Replies to the visitor (claims the conversation; 409 when another agent holds it unless
    /// `takeover`).
    #[oai(path = "/conversations/:id/reply", method = "post")]
    async fn reply(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        id: Path<String>,
        body: Json<Reply>,
    ) -> poem::Result<Json<Message>> {
        let b = body.0;
        let m =
            inbox::reply(&state, auth.user(), &ConversationId::from(id.0), &b.text, &b.client_id, b.takeover)
                .await?;
        Ok(Json(m))
    }

    /// Adds a private note (never shown to the visitor).
    #[oai(path = "/conversations/:id/notes", method = "post")]
    async fn note(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        id: Path<String>,
        body: Json<Note>,
    ) -> poem::Result<Json<Message>> {
        Ok(Json(inbox::note(&state, auth.user(), &ConversationId::from(id.0), &body.text)?))
    }

    /// Assigns to an agent (yourself to claim), a team, or nobody.
    #[oai(path = "/conversations/:id/assign", method = "post")]
    async fn assign(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        id: Path<String>,
        body: Json<Assign>,
    ) -> poem::Result<Json<Conversation>> {
        Ok(Json(inbox::assign(&state, auth.user(), &ConversationId::from(id.0), body.0)?))
    }

    #[oai(path = "/conversations/:id/resolve", method = "post")]
    async fn resolve(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> poem::Result<Json<Conversation>> {
        Ok(Json(inbox::resolve(&state, auth.user(), &ConversationId::from(id.0))?))
    }

    /// Hands the conversation back to the AI.
    #[oai(path = "/conversations/:id/hand-back", method = "post")]
    async fn hand_back(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> poem::Result<Json<Conversation>> {
        Ok(Json(inbox::hand_back(&state, auth.user(), &ConversationId::from(id.0))?))
    }

    #[oai(path = "/conversations/:id/reopen", method = "post")]
    async fn reopen(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> poem::Result<Json<Conversation>> {
        Ok(Json(inbox::reopen(&state, auth.user(), &ConversationId::from(id.0))?))
    }

    /// "I have this conversation open" (send every ~20 s while open, `on: false` on leaving).
    /// Returns the other agents viewing it.
    #[oai(path = "/conversations/:id/viewing", method = "post")]
    async fn viewing(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        id: Path<String>,
        body: Json<Toggle>,
    ) -> poem::Result<Json<Vec<Viewer>>> {
        Ok(Json(inbox::viewing(&state, auth.user(), &ConversationId::from(id.0), body.on)?))
    }

    /// The agent is typing a reply (shown to other agents and the visitor).
    #[oai(path = "/conversations/:id/typing", method = "post")]
    async fn typing(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        id: Path<String>,
        body: Json<Toggle>,
    ) -> poem::Result<Json<Toggle>> {
        inbox::typing(&state, auth.user(), &ConversationId::from(id.0), body.on)?;
        Ok(Json(Toggle { on: body.on }))
    }

    /// A suggested reply from the knowledge base, with its sources.
    #[oai(path = "/conversations/:id/suggestion", method = "get")]
    async fn suggestion(
        &self,
        _auth: AgentAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> poem::Result<Json<Suggestion>> {
        Ok(Json(inbox::suggest(&state, &ConversationId::from(id.0)).await?))
    }

    /// The inbox is open (every ~20 s): the agent counts as online for handoff timing.
    #[oai(path = "/heartbeat", method = "post")]
    async fn heartbeat(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        body: Json<Heartbeat>,
    ) -> poem::Result<Json<PresenceView>> {
        presence::heartbeat(&state, auth.id());
        presence::set_away(&state, auth.id(), body.away);
        Ok(Json(PresenceView {
            agent: auth.id().clone(),
            name: auth.name(),
            status: presence::status_of(&state, auth.id()).to_owned(),
        }))
    }

    /// The agent closed the inbox.
    #[oai(path = "/offline", method = "post")]
    async fn offline(&self, auth: AgentAuth, state: Data<&AppState>) -> poem::Result<Json<PresenceView>> {
        presence::went_offline(&state, auth.id());
        Ok(Json(PresenceView { agent: auth.id().clone(), name: auth.name(), status: "offline".into() }))
    }

    /// Every team member's presence.
    #[oai(path = "/presence", method = "get")]
    async fn presence(
        &self,
        _auth: AgentAuth,
        state: Data<&AppState>,
    ) -> poem::Result<Json<Vec<PresenceView>>> {
        let users = accounts::list_users(&state.store)?;
        Ok(Json(
            users
                .into_iter()
                .filter(|u| !u.disabled)
                .map(|u| PresenceView {
                    status: presence::status_of(&state, &u.id).to_owned(),
                    agent: u.id,
                    name: u.name,
                })
                .collect(),
        ))
    }

    /// Live events for the team (server-sent events).
    #[oai(path = "/stream", method = "get")]
    async fn stream(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
    ) -> poem::Result<EventStream<BoxStream<'static, InboxEvent>>> {
        let rx = state.hub.subscribe_team();
        // The stream lives only as long as its session: re-checked before every event and
        // every few seconds while idle (log out, log out everywhere, disabled, removed).
        let session = LiveSession { state: state.clone(), key: auth.0.session_key.clone() };
        let recheck = tokio::time::interval(SESSION_RECHECK);
        let shutdown: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> = Box::pin(async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        });
        let hello = InboxEvent { kind: "hello".into(), data: serde_json::json!({}) };
        let live = futures_util::stream::unfold(
            (rx, shutdown, recheck, session),
            |(mut rx, mut shutdown, mut recheck, session)| async move {
                let got = loop {
                    tokio::select! {
                        _ = &mut shutdown => return None,
                        _ = recheck.tick() => {
                            if !session.alive() {
                                return None;
                            }
                        }
                        got = rx.recv() => break got,
                    }
                };
                if !session.alive() {
                    return None;
                }
                let event = match got {
                    Ok(ev) => InboxEvent {
                        kind: kind_of(&ev).into(),
                        data: serde_json::to_value(&ev).unwrap_or_default(),
                    },
                    // Fell behind: tell the app to reload what it shows.
                    Err(RecvError::Lagged(_)) => {
                        InboxEvent { kind: "resync".into(), data: serde_json::json!({}) }
                    }
                    Err(RecvError::Closed) => return None,
                };
                Some((event, (rx, shutdown, recheck, session)))
            },
        );
        let stream = futures_util::stream::once(async move { hello }).chain(live).boxed();
        Ok(EventStream::new(stream)
            .keep_alive(KEEP_ALIVE)
            .to_event(|e| Event::message(e.data.to_string()).event_type(e.kind)))
    }
}
