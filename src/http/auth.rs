//! Team sign-in and the auth extractors every agent/admin route takes.
//!
//! [`AgentAuth`] (any signed-in team member) and [`AdminAuth`] (admin or owner; 403 for agents)
//! are poem-openapi security schemes over the `baton_session` cookie. Their checkers load the
//! session ([`accounts::authenticate`]) and, for every method other than GET/HEAD/OPTIONS,
//! require the `X-CSRF-Token` header to equal the session's CSRF token (403 `csrf_failed`
//! otherwise). A handler cannot forget auth: it cannot reach the user without taking one of
//! these types, and every route that takes one is listed with its scheme in the OpenAPI
//! document (`agent_session` or `admin_session`), which the integration tests walk.
//!
//! Routes: `/api/auth/…` (sign-in, setup and invite links, me, log out, log out everywhere,
//! password) and `/api/team/…` (members and invites; changes need an admin).

use poem::http::Method;
use poem::web::Data;
use poem::Request;
use poem_openapi::auth::ApiKey;
use poem_openapi::param::Path;
use poem_openapi::payload::{Json, Response};
use poem_openapi::{Object, OpenApi, SecurityScheme, Tags};

use crate::accounts::{self, InviteKind, InviteView, NewAccount, Role, Session, User, UserUpdate, UserView};
use crate::error::Error;
use crate::ids::UserId;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "baton_session";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// A signed-in team member, as handlers see it.
#[derive(Debug, Clone)]
pub struct Authed {
    pub user: User,
    pub session: Session,
    /// SHA-256 of the session token (the `SESSIONS` key).
    pub session_key: String,
}

fn authed(req: &Request, key: &ApiKey) -> poem::Result<Authed> {
    let state = req.data::<AppState>().ok_or_else(|| Error::internal(anyhow::anyhow!("no AppState")))?;
    let (user, session, session_key) = accounts::authenticate(&state.store, &key.key)?;
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        let sent = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !accounts::same_secret(sent, &session.csrf) {
            return Err(Error::Csrf.into());
        }
    }
    Ok(Authed { user, session, session_key })
}

async fn agent_checker(req: &Request, key: ApiKey) -> poem::Result<Authed> {
    authed(req, &key)
}

async fn admin_checker(req: &Request, key: ApiKey) -> poem::Result<Authed> {
    let a = authed(req, &key)?;
    if !a.user.role.is_admin() {
        return Err(Error::Forbidden("this needs an admin; ask your team's owner".into()).into());
    }
    Ok(a)
}

/// Any signed-in team member (owner, admin or agent). Non-GET requests also need `X-CSRF-Token`.
#[derive(SecurityScheme)]
#[oai(
    rename = "agent_session",
    ty = "api_key",
    key_name = "baton_session",
    key_in = "cookie",
    checker = "agent_checker"
)]
pub struct AgentAuth(pub Authed);

/// An admin or the owner; agents get 403. Non-GET requests also need `X-CSRF-Token`.
#[derive(SecurityScheme)]
#[oai(
    rename = "admin_session",
    ty = "api_key",
    key_name = "baton_session",
    key_in = "cookie",
    checker = "admin_checker"
)]
pub struct AdminAuth(pub Authed);

macro_rules! authed_accessors {
    ($t:ty) => {
        impl $t {
            pub fn user(&self) -> &User {
                &self.0.user
            }
            pub fn id(&self) -> &UserId {
                &self.0.user.id
            }
            /// The display name, for event lines ("Ada joined").
            pub fn name(&self) -> String {
                self.0.user.name.clone()
            }
            pub fn role(&self) -> Role {
                self.0.user.role
            }
        }
    };
}
authed_accessors!(AgentAuth);
authed_accessors!(AdminAuth);

#[derive(Tags)]
enum AuthTag {
    /// Team sign-in, sessions, setup and invite links.
    Auth,
    /// Team members and invites.
    Team,
}

/// The signed-in user and the CSRF token to send as `X-CSRF-Token` on non-GET requests.
#[derive(Debug, Object)]
pub struct Me {
    pub user: UserView,
    pub csrf_token: String,
    /// Sessions this user has open (this one included).
    pub sessions: u32,
}

#[derive(Debug, Object)]
pub struct AuthStatus {
    /// No account exists yet: open the setup link printed by `baton serve`.
    pub setup_needed: bool,
    /// The request carries a valid session (then `GET /auth/me` gives the user and CSRF token).
    pub signed_in: bool,
}

#[derive(Debug, Object)]
pub struct Login {
    pub email: String,
    #[oai(write_only)]
    pub password: String,
}

#[derive(Debug, Object)]
pub struct InviteInfo {
    pub kind: InviteKind,
    pub role: Role,
    /// Pre-filled email, may be empty.
    pub email: String,
}

#[derive(Debug, Object)]
pub struct PasswordChange {
    #[oai(write_only)]
    pub current: String,
    #[oai(write_only)]
    pub new: String,
}

#[derive(Debug, Object)]
#[oai(rename = "SessionsEnded")]
pub struct Ended {
    pub sessions_ended: u32,
}

#[derive(Debug, Object)]
pub struct NewInvite {
    pub role: Role,
    #[oai(default)]
    pub email: String,
}

#[derive(Debug, Object)]
pub struct CreatedInvite {
    /// The link to send to the new member (valid for 7 days, works once).
    pub link: String,
    pub invite: InviteView,
}

fn cookie(state: &AppState, token: &str, max_age: i64) -> String {
    let secure = if state.config().security.secure_cookies { "; Secure" } else { "" };
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

fn client_ip(req: &Request) -> String {
    req.remote_addr().as_socket_addr().map(|a| a.ip().to_string()).unwrap_or_default()
}

fn me(state: &AppState, user: &User, session: &Session) -> poem::Result<Me> {
    let sessions = accounts::session_count(&state.store, &user.id)? as u32;
    Ok(Me { user: UserView::from(user), csrf_token: session.csrf.clone(), sessions })
}

/// Base URL for links: the configured public URL, else the Host the request came to.
fn base_url(state: &AppState, req: &Request) -> String {
    let cfg = state.config();
    if cfg.public_url.as_deref().is_some_and(|u| !u.is_empty()) {
        return cfg.public_url();
    }
    match req.headers().get(poem::http::header::HOST).and_then(|h| h.to_str().ok()) {
        Some(host) => format!("http://{host}"),
        None => cfg.public_url(),
    }
}

fn signed_in(
    state: &AppState,
    user: &User,
    token: &str,
    session: &Session,
) -> poem::Result<Response<Json<Me>>> {
    let body = me(state, user, session)?;
    Ok(Response::new(Json(body)).header("Set-Cookie", cookie(state, token, accounts::MAX_AGE.num_seconds())))
}

pub struct AuthApi;

#[OpenApi(tag = "AuthTag::Auth")]
impl AuthApi {
    /// Whether Baton still needs its first account.
    #[oai(path = "/auth/status", method = "get")]
    async fn status(&self, req: &Request, state: Data<&AppState>) -> poem::Result<Json<AuthStatus>> {
        let signed_in = req
            .cookie()
            .get(SESSION_COOKIE)
            .is_some_and(|c| accounts::authenticate(&state.store, c.value_str()).is_ok());
        Ok(Json(AuthStatus { setup_needed: !accounts::has_users(&state.store)?, signed_in }))
    }

    /// Signs in; sets the `baton_session` cookie. Rate limited per IP and per account.
    #[oai(path = "/auth/login", method = "post")]
    async fn login(
        &self,
        req: &Request,
        state: Data<&AppState>,
        body: Json<Login>,
    ) -> poem::Result<Response<Json<Me>>> {
        let (token, user, session) =
            accounts::login(&state.store, &state.accounts, &body.email, &body.password, &client_ip(req))
                .await
                .map_err(|e| match e {
                    Error::Unauthenticated => Error::Forbidden("wrong email or password".into()),
                    other => other,
                })?;
        signed_in(&state, &user, &token, &session)
    }

    /// What a setup or invite link is for (404 when used, revoked or expired).
    #[oai(path = "/auth/invites/:token", method = "get")]
    async fn invite(&self, state: Data<&AppState>, token: Path<String>) -> poem::Result<Json<InviteInfo>> {
        let i = accounts::invite_by_token(&state.store, &token.0)?;
        Ok(Json(InviteInfo { kind: i.kind, role: i.role, email: i.email }))
    }

    /// Uses a setup or invite link (once): creates the account and signs it in.
    #[oai(path = "/auth/invites/:token/accept", method = "post")]
    async fn accept(
        &self,
        req: &Request,
        state: Data<&AppState>,
        token: Path<String>,
        body: Json<NewAccount>,
    ) -> poem::Result<Response<Json<Me>>> {
        let user = accounts::accept_invite(&state.store, &token.0, body.0).await?;
        tracing::info!(user = %user.id, role = user.role.as_str(), "account created");
        let (token, session) = accounts::create_session(&state.store, &user, &client_ip(req))?;
        signed_in(&state, &user, &token, &session)
    }

    /// The signed-in user and the CSRF token for `X-CSRF-Token`.
    #[oai(path = "/auth/me", method = "get")]
    async fn me(&self, auth: AgentAuth, state: Data<&AppState>) -> poem::Result<Json<Me>> {
        Ok(Json(me(&state, &auth.0.user, &auth.0.session)?))
    }

    /// Ends this session and clears the cookie.
    #[oai(path = "/auth/logout", method = "post")]
    async fn logout(&self, auth: AgentAuth, state: Data<&AppState>) -> poem::Result<Response<Json<Ended>>> {
        accounts::logout(&state.store, &auth.0.session_key)?;
        crate::handoff::presence::went_offline(&state, auth.id());
        Ok(Response::new(Json(Ended { sessions_ended: 1 })).header("Set-Cookie", cookie(&state, "", 0)))
    }

    /// Ends every session of this user, on every device.
    #[oai(path = "/auth/logout-everywhere", method = "post")]
    async fn logout_everywhere(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
    ) -> poem::Result<Response<Json<Ended>>> {
        let n = accounts::logout_everywhere(&state.store, auth.id())?;
        crate::handoff::presence::went_offline(&state, auth.id());
        Ok(Response::new(Json(Ended { sessions_ended: n as u32 }))
            .header("Set-Cookie", cookie(&state, "", 0)))
    }

    /// Changes the password; other sessions end.
    #[oai(path = "/auth/password", method = "post")]
    async fn password(
        &self,
        auth: AgentAuth,
        state: Data<&AppState>,
        body: Json<PasswordChange>,
    ) -> poem::Result<Json<Me>> {
        let b = body.0;
        accounts::change_password(&state.store, &auth.0.user, b.current, b.new, &auth.0.session_key).await?;
        Ok(Json(me(&state, &auth.0.user, &auth.0.session)?))
    }
}

pub struct TeamApi;

#[OpenApi(tag = "AuthTag::Team")]
impl TeamApi {
    /// Team members (every agent sees them, to assign conversations).
    #[oai(path = "/team/users", method = "get")]
    async fn users(&self, _auth: AgentAuth, state: Data<&AppState>) -> poem::Result<Json<Vec<UserView>>> {
        Ok(Json(accounts::list_users(&state.store)?.iter().map(UserView::from).collect()))
    }

    /// Team names known to Baton (members' teams, teams with their own hours, rule targets).
    #[oai(path = "/team/teams", method = "get")]
    async fn teams(&self, _auth: AgentAuth, state: Data<&AppState>) -> poem::Result<Json<Vec<String>>> {
        let cfg = state.config();
        let mut teams: Vec<String> =
            accounts::list_users(&state.store)?.into_iter().flat_map(|u| u.teams).collect();
        teams.extend(cfg.hours.teams.keys().cloned());
        teams.extend(cfg.handoff.rule.iter().map(|r| r.team.clone()).filter(|t| !t.is_empty()));
        teams.sort();
        teams.dedup();
        Ok(Json(teams))
    }

    /// Changes a member's role, teams, name or disables them (disabling ends their sessions).
    #[oai(path = "/team/users/:id", method = "patch")]
    async fn update(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<String>,
        body: Json<UserUpdate>,
    ) -> poem::Result<Json<UserView>> {
        let u = accounts::update_user(&state.store, auth.user(), &UserId::from(id.0), body.0)?;
        Ok(Json(UserView::from(&u)))
    }

    /// Removes a member (not the owner, not yourself).
    #[oai(path = "/team/users/:id", method = "delete")]
    async fn remove(
        &self,
        auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> poem::Result<Json<Ended>> {
        let n = accounts::remove_user(&state.store, auth.user(), &UserId::from(id.0))?;
        Ok(Json(Ended { sessions_ended: n as u32 }))
    }

    /// Open invite links.
    #[oai(path = "/team/invites", method = "get")]
    async fn invites(&self, _auth: AdminAuth, state: Data<&AppState>) -> poem::Result<Json<Vec<InviteView>>> {
        Ok(Json(accounts::list_invites(&state.store)?))
    }

    /// Creates an invite link for an admin or an agent.
    #[oai(path = "/team/invites", method = "post")]
    async fn invite(
        &self,
        req: &Request,
        auth: AdminAuth,
        state: Data<&AppState>,
        body: Json<NewInvite>,
    ) -> poem::Result<Json<CreatedInvite>> {
        let token = accounts::create_invite(&state.store, auth.user(), body.role, &body.email)?;
        let id = accounts::hash_token(&token)[..16].to_owned();
        let invite = accounts::list_invites(&state.store)?
            .into_iter()
            .find(|i| i.id == id)
            .ok_or(Error::NotFound("invite"))?;
        Ok(Json(CreatedInvite { link: format!("{}/app/#/invite/{token}", base_url(&state, req)), invite }))
    }

    /// Revokes an invite link.
    #[oai(path = "/team/invites/:id", method = "delete")]
    async fn revoke(
        &self,
        _auth: AdminAuth,
        state: Data<&AppState>,
        id: Path<String>,
    ) -> poem::Result<Json<Ended>> {
        accounts::revoke_invite(&state.store, &id.0)?;
        Ok(Json(Ended { sessions_ended: 0 }))
    }
}
