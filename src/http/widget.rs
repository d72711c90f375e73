//! The visitor API under `/api/widget/…`, used by `assets/widget.js`.
//!
//! Every route except `config`, `session` and `resume` takes the [`Visitor`] extractor: the
//! `Authorization: Bearer <visitor token>` header (or `?token=` on the stream, because
//! `EventSource` cannot set headers). A token only ever reaches the conversation it owns: no
//! route takes a conversation id from the client.
//!
//! [`WidgetGuard`] wraps the whole app and acts on `/api/widget/` paths: CORS from
//! `security.allowed_origins` (re-read on every request, so console edits apply at once;
//! same-origin is always allowed), the per-IP rate limit, and the body size limit (413 before
//! the body is parsed, never a hang). Errors it produces are the usual JSON.
//!
//! **The live stream** (`GET /api/widget/stream`, server-sent events) delivers the thread
//! without loss or duplicates across reconnects and restarts:
//! 1. subscribe to the conversation's hub channel *first*;
//! 2. replay stored messages after `Last-Event-ID` (header or `?last_event_id=`);
//! 3. forward live messages, skipping `seq <= last sent`; a gap (`seq > last + 1`, two appends
//!    published out of order) or `Lagged` re-reads the store instead.
//!
//! Message events carry `id: <seq>`; `conversation` (state, agent joined…) and `typing` events
//! carry no id and are not replayed. A comment line every 20 s keeps proxies from closing the
//! connection, and `Conversation.visitor_seen_at` is kept fresh while the stream is open
//! ([`crate::visitor::seen`]). On
//! Ctrl-C streams end, so the graceful shutdown (which waits for open connections) finishes.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use poem::http::{header, HeaderValue, Method, StatusCode};
use poem::web::sse::Event;
use poem::web::Data;
use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{EventStream, Json};
use poem_openapi::types::ToJSON;
use poem_openapi::{Object, OpenApi, SecurityScheme, Tags};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::config::WidgetConfig;
use crate::conversation::{
    self, Author, Body, Conversation, Message, NewMessage, PageRef, Rating, TextBody, VisitorToken,
};
use crate::error::{json_error_response, Error};
use crate::handoff::{self, Signal, Trigger};
use crate::hub::{HubEvent, Typist};
use crate::ids::{ConversationId, VisitorId};
use crate::state::AppState;
use crate::visitor::seen::SeenTracker;
use crate::visitor::{self, ratelimit::RateLimiter, ContextUpdate, WidgetConversation};

const HEARTBEAT: Duration = Duration::from_secs(20);
/// How often an idle stream checks that its visitor and conversation still exist.
const STREAM_RECHECK: Duration = Duration::from_secs(5);

#[derive(Tags)]
pub enum WidgetTag {
    /// The visitor's side: the embeddable widget's API.
    Widget,
}

/// An authenticated visitor: who they are and the token they hold.
pub struct VisitorSession {
    pub token: VisitorToken,
    pub visitor: conversation::Visitor,
}

impl VisitorSession {
    /// The visitor's current conversation (open, or the latest resolved one), if any.
    fn current(&self, state: &AppState) -> poem::Result<Option<Conversation>> {
        let Some(id) = &self.visitor.conversation else { return Ok(None) };
        match conversation::get(&state.store, id) {
            Ok(c) => Ok(Some(c)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The current conversation, or `404` when the visitor has none yet.
    fn require_current(&self, state: &AppState) -> poem::Result<Conversation> {
        Ok(self.current(state)?.ok_or(Error::NotFound("conversation"))?)
    }

    /// The open conversation, started (with the visitor's profile as context) when needed.
    fn open(&self, state: &AppState) -> poem::Result<Conversation> {
        let ctx = visitor::profile(&state.store, &self.visitor.id)?;
        Ok(conversation::open_for_visitor(&state.store, &state.hub, &self.token, ctx)?)
    }
}

fn session_for(req: &Request, token: &str) -> poem::Result<VisitorSession> {
    let state = req.data::<AppState>().ok_or_else(|| Error::internal(anyhow::anyhow!("no AppState")))?;
    if token.is_empty() || token.len() > 128 {
        return Err(Error::Unauthenticated.into());
    }
    let token = VisitorToken(token.to_owned());
    let visitor = conversation::visitor_by_token(&state.store, &token)?.ok_or(Error::Unauthenticated)?;
    Ok(VisitorSession { token, visitor })
}

async fn visitor_from_bearer(req: &Request, bearer: Bearer) -> poem::Result<VisitorSession> {
    session_for(req, &bearer.token)
}

async fn visitor_from_query(req: &Request, key: ApiKey) -> poem::Result<VisitorSession> {
    session_for(req, &key.key)
}

/// The visitor extractor: `Authorization: Bearer <token from POST /api/widget/session>`.
#[derive(SecurityScheme)]
#[oai(rename = "visitor_token", ty = "bearer", checker = "visitor_from_bearer")]
pub struct Visitor(pub VisitorSession);

/// The same token as `?token=`, for `EventSource`, which cannot set headers.
#[derive(SecurityScheme)]
#[oai(
    rename = "visitor_token_query",
    ty = "api_key",
    key_name = "token",
    key_in = "query",
    checker = "visitor_from_query"
)]
pub struct VisitorQuery(pub VisitorSession);

/// Header or query token (the stream only).
#[derive(SecurityScheme)]
pub enum StreamVisitor {
    Bearer(Visitor),
    Query(VisitorQuery),
}

impl StreamVisitor {
    fn session(&self) -> &VisitorSession {
        match self {
            StreamVisitor::Bearer(v) => &v.0,
            StreamVisitor::Query(v) => &v.0,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Payloads.

/// What the widget needs before it renders (public).
#[derive(Debug, Object)]
pub struct PublicConfig {
    pub widget: WidgetConfig,
    /// `Baton.identify` must be signed (HMAC-SHA256 of the user id).
    pub identity_verification: bool,
    pub max_message_chars: u64,
}

#[derive(Debug, Object)]
pub struct Session {
    /// Keep it in localStorage; send it as `Authorization: Bearer <token>`.
    pub token: String,
    pub visitor_id: VisitorId,
}

#[derive(Debug, Object)]
pub struct ResumeRequest {
    /// The `baton_resume` parameter of a follow-up email's link.
    pub resume: String,
}

#[derive(Debug, Object)]
pub struct ConversationView {
    /// The current conversation (the open one or the latest resolved one); absent before the
    /// first message.
    pub conversation: Option<WidgetConversation>,
    /// Its messages after `after`, private notes left out.
    pub messages: Vec<Message>,
}

#[derive(Debug, Object)]
pub struct SendMessage {
    pub text: String,
    /// Chosen by the widget per message; a retry with the same id is stored once.
    #[oai(default)]
    pub client_id: String,
    /// The page the visitor is on.
    pub page: Option<PageRef>,
}

#[derive(Debug, Object)]
pub struct Sent {
    pub conversation: WidgetConversation,
    pub message: Message,
}

#[derive(Debug, Object)]
pub struct TypingRequest {
    pub typing: bool,
}

#[derive(Debug, Object)]
pub struct RateRequest {
    pub rating: Rating,
}

#[derive(Debug, Object)]
pub struct FollowUpRequest {
    pub email: String,
    /// The consent sentence the visitor was shown next to the field (stored with the email).
    pub consent_text: String,
}

#[derive(Debug, Object)]
pub struct CsatRequest {
    /// 1 to 5.
    pub score: u8,
    #[oai(default)]
    pub comment: String,
}

#[derive(Debug, Object)]
pub struct Ok_ {
    pub ok: bool,
}

/// Someone typing, as the visitor sees it.
#[derive(Debug, Clone, Object)]
pub struct TypingView {
    /// `agent`.
    pub who: String,
    pub name: String,
    pub typing: bool,
}

/// One event on the stream; `kind` is also the SSE event name.
#[derive(Debug, Clone, Object)]
pub struct WidgetEvent {
    /// `hello` (first, the conversation as it is), `message` (id = seq), `conversation`, `typing`.
    pub kind: String,
    pub message: Option<Message>,
    pub conversation: Option<WidgetConversation>,
    pub typing: Option<TypingView>,
}

impl WidgetEvent {
    fn message(m: Message) -> Self {
        WidgetEvent { kind: "message".into(), message: Some(m), conversation: None, typing: None }
    }
    fn conversation(kind: &str, c: WidgetConversation) -> Self {
        WidgetEvent { kind: kind.into(), message: None, conversation: Some(c), typing: None }
    }
    fn to_sse(&self) -> Event {
        let e = Event::message(self.to_json_string()).event_type(self.kind.clone());
        match &self.message {
            Some(m) if self.kind == "message" => e.id(m.seq.to_string()),
            _ => e,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The API.

pub struct WidgetApi;

#[OpenApi(prefix_path = "/widget", tag = "WidgetTag::Widget")]
impl WidgetApi {
    /// The widget's look and texts as the team configured them (public). The snippet fetches
    /// it on load, so console edits apply without changing the snippet.
    #[oai(path = "/config", method = "get")]
    async fn config(&self, state: Data<&AppState>) -> Json<PublicConfig> {
        let c = state.config();
        Json(PublicConfig {
            widget: c.widget.clone(),
            identity_verification: !c.security.identity_secret.is_empty(),
            max_message_chars: c.limits.max_message_chars as u64,
        })
    }

    /// Creates a visitor and returns its token.
    #[oai(path = "/session", method = "post")]
    async fn session(&self, state: Data<&AppState>) -> poem::Result<Json<Session>> {
        let (token, v) = conversation::create_visitor(&state.store)?;
        Ok(Json(Session { token: token.0, visitor_id: v.id }))
    }

    /// Opens the thread of a follow-up email's link in this browser: a new token for the same
    /// visitor and conversation.
    #[oai(path = "/resume", method = "post")]
    async fn resume(&self, state: Data<&AppState>, body: Json<ResumeRequest>) -> poem::Result<Json<Session>> {
        let (token, v) = visitor::resume(&state, body.0.resume.trim())?;
        Ok(Json(Session { token: token.0, visitor_id: v.id }))
    }

    /// The visitor's conversation and its messages after `after` (default 0).
    #[oai(path = "/conversation", method = "get")]
    async fn conversation(
        &self,
        state: Data<&AppState>,
        v: Visitor,
        after: Query<Option<u64>>,
    ) -> poem::Result<Json<ConversationView>> {
        let Some(conv) = v.0.current(&state)? else {
            return Ok(Json(ConversationView { conversation: None, messages: Vec::new() }));
        };
        let messages = visitor::messages_for_visitor(&state.store, &conv.id, after.0.unwrap_or(0))?;
        Ok(Json(ConversationView { conversation: Some(WidgetConversation::of(&conv)), messages }))
    }

    /// Sends a message. It is stored durably before the response; the AI answer and handoff
    /// triggers run afterwards and arrive on the stream.
    #[oai(path = "/messages", method = "post")]
    async fn send(
        &self,
        state: Data<&AppState>,
        limiter: Data<&Arc<RateLimiter>>,
        v: Visitor,
        body: Json<SendMessage>,
    ) -> poem::Result<Json<Sent>> {
        let cfg = state.config();
        let SendMessage { text, client_id, page } = body.0;
        let text = text.trim().to_owned();
        if text.is_empty() {
            return Err(Error::InvalidInput("the message is empty".into()).into());
        }
        if text.chars().count() > cfg.limits.max_message_chars {
            return Err(Error::InvalidInput(format!(
                "messages are limited to {} characters",
                cfg.limits.max_message_chars
            ))
            .into());
        }
        if client_id.len() > 64 {
            return Err(Error::InvalidInput("client_id is at most 64 bytes".into()).into());
        }
        limiter.check(&format!("visitor:{}", v.0.visitor.id), cfg.limits.visitor_messages_per_minute)?;
        let conv = v.0.open(&state)?;
        let msg = NewMessage {
            author: Author::visitor(),
            body: Body::Text(TextBody { text }),
            page: page.as_ref().map(visitor::clean_page).filter(|p| !p.url.is_empty()),
            client_id,
        };
        // Stored with its pending reply in one durable transaction: the reply queue answers it
        // (or says it is late, or hands off), even across a restart. A retried client_id
        // returns the stored message and queues nothing.
        let message = crate::answer_queue::append_visitor_message(&state, &conv.id, msg)?;
        let conv = conversation::get(&state.store, &conv.id)?;
        Ok(Json(Sent { conversation: WidgetConversation::of(&conv), message }))
    }

    /// The visitor is typing (or stopped). Shown live to agents; not stored.
    #[oai(path = "/typing", method = "post")]
    async fn typing(
        &self,
        state: Data<&AppState>,
        v: Visitor,
        body: Json<TypingRequest>,
    ) -> poem::Result<Json<Ok_>> {
        if let Some(c) = v.0.current(&state)? {
            state.hub.publish(HubEvent::Typing {
                conversation: c.id,
                who: Typist::Visitor,
                typing: body.0.typing,
            });
        }
        Ok(Json(Ok_ { ok: true }))
    }

    /// Rates one AI answer (thumbs up/down). Repeated "not helpful" ratings hand off.
    #[oai(path = "/messages/:seq/rating", method = "post")]
    async fn rate(
        &self,
        state: Data<&AppState>,
        v: Visitor,
        seq: Path<u64>,
        body: Json<RateRequest>,
    ) -> poem::Result<Json<Message>> {
        let conv = v.0.require_current(&state)?;
        let m = conversation::rate(&state.store, &state.hub, &conv.id, seq.0, body.0.rating)?;
        if body.0.rating == Rating::NotHelpful {
            if let Err(e) = handoff::after_rating(&state, &conv.id).await {
                tracing::error!(conversation = %conv.id, error = %e, "rating trigger failed");
            }
        }
        Ok(Json(m))
    }

    /// "Talk to the team": hands the conversation to the team (starting one if needed).
    #[oai(path = "/handoff", method = "post")]
    async fn talk_to_team(
        &self,
        state: Data<&AppState>,
        v: Visitor,
    ) -> poem::Result<Json<WidgetConversation>> {
        let conv = v.0.open(&state)?;
        let signal = Signal {
            trigger: Trigger::Button,
            topic: String::new(),
            reason: "The visitor clicked “Talk to the team”.".into(),
            team: String::new(),
        };
        let conv = handoff::hand_off(&state, &conv.id, signal).await?;
        Ok(Json(WidgetConversation::of(&conv)))
    }

    /// What the widget knows about the visitor: locale, time zone, referrer, user agent, page,
    /// `Baton.identify` (verified by HMAC when a secret is configured) and `Baton.setAttributes`.
    #[oai(path = "/context", method = "post")]
    async fn context(
        &self,
        state: Data<&AppState>,
        v: Visitor,
        body: Json<ContextUpdate>,
    ) -> poem::Result<Json<Ok_>> {
        let secret = state.config().security.identity_secret.clone();
        let open = v.0.current(&state)?.filter(|c| c.state != conversation::State::Resolved).map(|c| c.id);
        visitor::update_context(&state.store, &state.hub, &v.0.visitor.id, open.as_ref(), &body.0, &secret)?;
        Ok(Json(Ok_ { ok: true }))
    }

    /// Leaves an email for a reply when nobody is available.
    #[oai(path = "/follow-up", method = "post")]
    async fn follow_up(
        &self,
        state: Data<&AppState>,
        v: Visitor,
        body: Json<FollowUpRequest>,
    ) -> poem::Result<Json<WidgetConversation>> {
        let conv = v.0.require_current(&state)?;
        let c =
            visitor::leave_email(&state.store, &state.hub, &conv.id, &body.0.email, &body.0.consent_text)?;
        Ok(Json(WidgetConversation::of(&c)))
    }

    /// Rates the team (1 to 5, with an optional comment) once the conversation is resolved.
    #[oai(path = "/csat", method = "post")]
    async fn csat(
        &self,
        state: Data<&AppState>,
        v: Visitor,
        body: Json<CsatRequest>,
    ) -> poem::Result<Json<WidgetConversation>> {
        let conv = v.0.require_current(&state)?;
        let c = visitor::rate_team(&state.store, &state.hub, &conv.id, body.0.score, &body.0.comment)?;
        Ok(Json(WidgetConversation::of(&c)))
    }

    /// Live events of the visitor's conversation (server-sent events; see the module docs).
    #[oai(path = "/stream", method = "get")]
    async fn stream(
        &self,
        state: Data<&AppState>,
        seen: Data<&Arc<SeenTracker>>,
        v: StreamVisitor,
        #[oai(name = "Last-Event-ID")] last_event_header: Header<Option<String>>,
        last_event_id: Query<Option<u64>>,
        /// The conversation the client's `last_event_id` belongs to; when it is not the current
        /// one, the stream replays the current conversation from the start.
        conversation: Query<Option<String>>,
    ) -> poem::Result<EventStream<BoxStream<'static, WidgetEvent>>> {
        let conv = v.session().require_current(&state)?;
        let mut after = last_event_header
            .0
            .as_deref()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .or(last_event_id.0)
            .unwrap_or(0);
        if conversation.0.as_deref().is_some_and(|c| !c.is_empty() && c != conv.id.as_str())
            || after > conv.last_seq
        {
            after = 0;
        }
        seen.connect(&state.store, &conv.id);
        let live = Live::start(state.clone(), &seen, conv, after, v.session().token.clone())?;
        let stream = futures_util::stream::unfold(live, |mut live| async move {
            let ev = live.next().await?;
            Some((ev, live))
        })
        .boxed();
        Ok(EventStream::new(stream).keep_alive(HEARTBEAT).to_event(|e| e.to_sse()))
    }
}

/// One visitor's live stream (see the module docs for the ordering argument).
struct Live {
    state: AppState,
    conv: ConversationId,
    rx: broadcast::Receiver<HubEvent>,
    queue: VecDeque<WidgetEvent>,
    last_sent: u64,
    last_view: WidgetConversation,
    /// Ctrl-C: `baton serve` shuts down gracefully, which waits for open connections; a stream
    /// never ends by itself, so it ends here (the widget reconnects to the next server).
    shutdown: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    /// The visitor's token: the stream ends when the visitor or the conversation is erased
    /// (checked before each event and every few seconds).
    token: VisitorToken,
    recheck: tokio::time::Interval,
    _seen: SeenGuard,
}

impl Live {
    fn start(
        state: AppState,
        seen: &Arc<SeenTracker>,
        conv: Conversation,
        after: u64,
        token: VisitorToken,
    ) -> poem::Result<Live> {
        // Subscribe before reading the store: anything appended from now on is either in the
        // replay or arrives on the channel (or both; duplicates are dropped by seq).
        let rx = state.hub.subscribe_conversation(&conv.id);
        let view = WidgetConversation::of(&conversation::get(&state.store, &conv.id).unwrap_or(conv));
        let mut live = Live {
            conv: view.id.clone(),
            rx,
            queue: VecDeque::new(),
            last_sent: after,
            last_view: view.clone(),
            shutdown: Box::pin(async {
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }),
            _seen: SeenGuard { tracker: seen.clone(), conv: view.id.clone() },
            token,
            recheck: tokio::time::interval(STREAM_RECHECK),
            state,
        };
        live.queue.push_back(WidgetEvent::conversation("hello", view));
        live.catch_up()?;
        Ok(live)
    }

    /// Queues every stored message after the last one sent.
    fn catch_up(&mut self) -> crate::Result<()> {
        for m in conversation::messages_after(&self.state.store, &self.conv, self.last_sent)? {
            self.last_sent = self.last_sent.max(m.seq);
            if let Some(m) = visitor::for_visitor(&m) {
                self.queue.push_back(WidgetEvent::message(m));
            }
        }
        Ok(())
    }

    fn on_event(&mut self, ev: HubEvent) -> crate::Result<()> {
        match ev {
            HubEvent::Message { message, .. } => {
                if message.seq <= self.last_sent {
                    return Ok(());
                }
                if message.seq > self.last_sent + 1 {
                    return self.catch_up();
                }
                self.last_sent = message.seq;
                if let Some(m) = visitor::for_visitor(&message) {
                    self.queue.push_back(WidgetEvent::message(m));
                }
            }
            HubEvent::Conversation { conversation } => {
                let view = WidgetConversation::of(&conversation);
                if view.visible_key() != self.last_view.visible_key() {
                    self.last_view = view.clone();
                    self.queue.push_back(WidgetEvent::conversation("conversation", view));
                }
            }
            HubEvent::Typing { who: Typist::Agent { name, .. }, typing, .. } => {
                self.queue.push_back(WidgetEvent {
                    kind: "typing".into(),
                    message: None,
                    conversation: None,
                    typing: Some(TypingView { who: "agent".into(), name, typing }),
                });
            }
            _ => {}
        }
        Ok(())
    }

    /// The visitor and the conversation still exist.
    fn alive(&self) -> bool {
        let visitor = conversation::visitor_by_token(&self.state.store, &self.token);
        matches!(visitor, Ok(Some(_))) && conversation::get(&self.state.store, &self.conv).is_ok()
    }

    async fn next(&mut self) -> Option<WidgetEvent> {
        loop {
            if let Some(ev) = self.queue.pop_front() {
                if !self.alive() {
                    return None;
                }
                return Some(ev);
            }
            let step = tokio::select! {
                _ = self.recheck.tick() => {
                    if !self.alive() {
                        return None;
                    }
                    Ok(())
                }
                r = self.rx.recv() => match r {
                    Ok(ev) => self.on_event(ev),
                    Err(RecvError::Lagged(n)) => {
                        tracing::debug!(conversation = %self.conv, skipped = n, "stream lagged; re-reading the store");
                        self.catch_up()
                    }
                    Err(RecvError::Closed) => return None,
                },
                _ = &mut self.shutdown => return None,
            };
            if let Err(e) = step {
                tracing::error!(conversation = %self.conv, error = %e, "visitor stream failed");
                return None;
            }
        }
    }
}

/// Registers the stream with the [`SeenTracker`] while it lives.
struct SeenGuard {
    tracker: Arc<SeenTracker>,
    conv: ConversationId,
}

impl Drop for SeenGuard {
    fn drop(&mut self) {
        self.tracker.disconnect(&self.conv);
    }
}

// ---------------------------------------------------------------------------------------------
// CORS, per-IP rate limit and body limit for `/api/widget/`.

/// Middleware for the visitor API; holds the rate limiter and the seen-tracker shared with the
/// handlers (one per app, so servers in one process, like tests, do not share them).
#[derive(Default)]
pub struct WidgetGuard {
    limiter: Arc<RateLimiter>,
    seen: Arc<SeenTracker>,
}

impl WidgetGuard {
    pub fn new() -> Self {
        Self::default()
    }
}

impl<E: Endpoint> Middleware<E> for WidgetGuard {
    type Output = WidgetGuardEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        WidgetGuardEndpoint { inner, limiter: self.limiter.clone(), seen: self.seen.clone() }
    }
}

pub struct WidgetGuardEndpoint<E> {
    inner: E,
    limiter: Arc<RateLimiter>,
    seen: Arc<SeenTracker>,
}

/// Whether `origin` may call the visitor API: any when the list is empty, the listed ones, and
/// always the server's own origin (the demo page).
pub fn origin_allowed(allowed: &[String], origin: &str, host: Option<&str>) -> bool {
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    if allowed.is_empty() {
        return true;
    }
    if allowed.iter().any(|a| a.trim_end_matches('/').eq_ignore_ascii_case(&origin)) {
        return true;
    }
    let authority = origin.split_once("://").map(|(_, a)| a).unwrap_or("");
    host.is_some_and(|h| !authority.is_empty() && h.eq_ignore_ascii_case(authority))
}

fn cors_headers(resp: &mut Response, origin: &str) {
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("Retry-After"));
}

impl<E: Endpoint> Endpoint for WidgetGuardEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        if !req.uri().path().starts_with("/api/widget/") {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        }
        req.extensions_mut().insert(self.limiter.clone());
        req.extensions_mut().insert(self.seen.clone());
        let Some(state) = req.data::<AppState>().cloned() else {
            return self.inner.call(req).await.map(IntoResponse::into_response);
        };
        let cfg = state.config();
        let origin = req.header(header::ORIGIN).map(str::to_owned);
        let allowed = match &origin {
            Some(o) => origin_allowed(&cfg.security.allowed_origins, o, req.header(header::HOST)),
            None => true,
        };
        if !allowed {
            return Ok(Error::Forbidden(
                "this site may not use the chat widget (security.allowed_origins)".into(),
            )
            .as_response_json());
        }
        if req.method() == Method::OPTIONS {
            let mut resp = StatusCode::NO_CONTENT.into_response();
            if let Some(o) = &origin {
                cors_headers(&mut resp, o);
                let h = resp.headers_mut();
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST, OPTIONS"),
                );
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("authorization, content-type, last-event-id"),
                );
                h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
            }
            return Ok(resp);
        }
        let result = async {
            let ip = req.remote_addr().as_socket_addr().map(|a| a.ip().to_string()).unwrap_or_default();
            self.limiter.check(&format!("ip:{ip}"), cfg.limits.ip_requests_per_minute)?;
            if matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH) {
                let max = cfg.limits.max_json_bytes;
                let too_large =
                    || Error::PayloadTooLarge(format!("the request body is larger than {max} bytes"));
                let declared = req.header(header::CONTENT_LENGTH).and_then(|v| v.parse::<usize>().ok());
                if declared.is_some_and(|n| n > max) {
                    return Err(too_large().into());
                }
                let body = req.take_body().into_bytes_limit(max).await.map_err(|_| too_large())?;
                req.set_body(body);
            }
            self.inner.call(req).await.map(IntoResponse::into_response)
        }
        .await;
        let mut resp = result.unwrap_or_else(json_error_response);
        if let Some(o) = &origin {
            cors_headers(&mut resp, o);
        }
        Ok(resp)
    }
}

trait JsonResponse {
    fn as_response_json(&self) -> Response;
}

impl JsonResponse for Error {
    fn as_response_json(&self) -> Response {
        poem::error::ResponseError::as_response(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        let list = vec!["https://shop.example".to_owned()];
        assert!(origin_allowed(&[], "https://any.example", None), "empty list allows any origin");
        assert!(origin_allowed(&list, "https://shop.example/", None));
        assert!(!origin_allowed(&list, "https://evil.example", Some("baton.example")));
        assert!(
            origin_allowed(&list, "http://baton.example:8080", Some("baton.example:8080")),
            "same origin"
        );
        assert!(!origin_allowed(&list, "null", Some("baton.example")));
    }
}
