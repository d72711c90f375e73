//! Team accounts: users (owner, admin, agent), password hashes, sessions, invites and the
//! first-run setup link.
//!
//! **Passwords** are hashed with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes) on
//! a blocking thread, never on the async workers. **Sessions** are random 256-bit tokens held
//! in the `baton_session` cookie (HttpOnly, SameSite=Strict, Secure unless turned off); the
//! store only keeps the token's SHA-256, so a leaked database does not leak live sessions.
//! Each session carries its own CSRF token (synchronizer pattern): the app reads it from
//! `GET /api/auth/me` and sends it as `X-CSRF-Token` on every non-GET request; the extractors
//! in [`crate::http::auth`] refuse a mismatch with 403. Sessions end after [`IDLE`] without use
//! or [`MAX_AGE`] after sign-in, whichever comes first; "log out everywhere" deletes them all.
//!
//! **Invites** are one-time tokens (only the hash is stored, in `INVITES`). When there is no
//! user at all, [`setup_link`] creates a *setup* invite that makes its holder the owner; `baton
//! serve` prints it. Owners and admins invite admins and agents the same way.
//!
//! **Login rate limits**: per client IP (all attempts), and wrong passwords per (account, client
//! IP) with a softer per-account limit ([`lockout`]), answered with [`Error::RateLimited`]
//! before the password is even hashed. Nobody can lock a member out by guessing: only the
//! guessing address waits.

use std::time::Duration as StdDuration;

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{DateTime, Duration, Utc};
use redb::{ReadableTable, ReadableTableMetadata};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::ids::{random_hex, UserId};
use crate::store::{self, Store, INVITES, SESSIONS, USERS};
use crate::visitor::ratelimit::RateLimiter;

pub mod lockout;

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::days(7);
/// A session ends this long after sign-in regardless of use.
pub const MAX_AGE: Duration = Duration::days(30);
/// How often `last_seen_at` is written back (not on every request).
const TOUCH_EVERY: Duration = Duration::minutes(10);
/// Invite links stay valid this long.
pub const INVITE_VALID: Duration = Duration::days(7);
/// Wrong passwords per account from one client IP per minute (see [`lockout`]).
pub const LOGIN_PER_ACCOUNT: u32 = lockout::PAIR_FAILURES;
/// Sign-in attempts per client IP per minute.
pub const LOGIN_PER_IP: u32 = 20;
/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// Per-process state of the accounts module (on [`crate::state::AppState`]).
#[derive(Default)]
pub struct Runtime {
    /// Sign-in attempts per client IP, keyed `ip:<addr>`.
    pub login_limiter: RateLimiter,
    /// Wrong passwords per (account, client IP) and per account.
    pub lockout: lockout::Lockout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Admin,
    Owner,
}

impl Role {
    pub fn is_admin(self) -> bool {
        self >= Role::Admin
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Admin => "admin",
            Role::Owner => "owner",
        }
    }
}

/// A team member. `password_hash` is a PHC string (argon2id) and never leaves the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub disabled: bool,
    /// Teams the user works in (routing of handoffs; see `[hours.teams]` and rules).
    #[serde(default)]
    pub teams: Vec<String>,
    #[serde(default)]
    pub last_login_at: Option<DateTime<Utc>>,
}

/// What the API shows about a user.
#[derive(Debug, Clone, Serialize, Deserialize, poem_openapi::Object)]
pub struct UserView {
    pub id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    pub teams: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        UserView {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role,
            disabled: u.disabled,
            teams: u.teams.clone(),
            created_at: u.created_at,
            last_login_at: u.last_login_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub user: UserId,
    /// The synchronizer token the app sends back as `X-CSRF-Token`.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    #[serde(default)]
    pub ip: String,
}

impl Session {
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        now - self.last_seen_at > IDLE || now - self.created_at > MAX_AGE
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum InviteKind {
    /// First run: makes its holder the owner.
    Setup,
    Invite,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Invite {
    pub kind: InviteKind,
    pub role: Role,
    /// Pre-filled email (optional).
    #[serde(default)]
    pub email: String,
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// An open invite as listed to admins (`id` is a prefix of the token's hash, enough to revoke).
#[derive(Debug, Clone, Serialize, Deserialize, poem_openapi::Object)]
pub struct InviteView {
    pub id: String,
    pub kind: InviteKind,
    pub role: Role,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn validate_new_user(name: &str, email: &str, password: &str) -> Result<()> {
    let email = email.trim();
    if name.trim().is_empty() || name.chars().count() > 100 {
        return Err(Error::InvalidInput("enter a name (up to 100 characters)".into()));
    }
    if email.len() > 254 || !email.contains('@') || email.starts_with('@') || email.ends_with('@') {
        return Err(Error::InvalidInput("enter a valid email address".into()));
    }
    validate_password(password)
}

fn validate_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(Error::InvalidInput(format!("the password needs at least {MIN_PASSWORD} characters")));
    }
    if password.len() > 1024 {
        return Err(Error::InvalidInput("the password is too long".into()));
    }
    Ok(())
}

/// Hashes a password with argon2id on a blocking thread.
pub async fn hash_password(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::internal(anyhow::anyhow!("argon2: {e}")))
    })
    .await
    .map_err(Error::internal)?
}

/// Checks a password against a PHC hash on a blocking thread.
pub async fn verify_password(password: String, hash: String) -> Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| Error::internal(anyhow::anyhow!("argon2: {e}")))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .map_err(Error::internal)?
}

// ---------------------------------------------------------------------------------------------
// Users.

pub fn list_users(store: &Store) -> Result<Vec<User>> {
    let mut users: Vec<User> = store.list_json::<User>(USERS)?.into_iter().map(|(_, u)| u).collect();
    users.sort_by(|a, b| b.role.cmp(&a.role).then(a.name.to_lowercase().cmp(&b.name.to_lowercase())));
    Ok(users)
}

pub fn get_user(store: &Store, id: &UserId) -> Result<User> {
    store.get_json(USERS, id.as_str())?.ok_or(Error::NotFound("user"))
}

pub fn user_by_email(store: &Store, email: &str) -> Result<Option<User>> {
    let email = normalize_email(email);
    Ok(store.list_json::<User>(USERS)?.into_iter().map(|(_, u)| u).find(|u| u.email == email))
}

pub fn has_users(store: &Store) -> Result<bool> {
    store.read(|tx| Ok(!tx.open_table(USERS)?.is_empty()?))
}

/// What an admin may change about a user.
#[derive(Debug, Clone, Default, Deserialize, poem_openapi::Object)]
pub struct UserUpdate {
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub teams: Option<Vec<String>>,
    pub name: Option<String>,
}

/// Changes a user. Owners cannot be changed by others, nobody changes their own role or
/// disables themselves, and only an owner makes someone an owner. Disabling ends all sessions.
pub fn update_user(store: &Store, actor: &User, id: &UserId, up: UserUpdate) -> Result<User> {
    let user = store.write(|tx| {
        let mut users = tx.open_table(USERS)?;
        let mut user: User = store::get_json(&users, id.as_str())?.ok_or(Error::NotFound("user"))?;
        let is_self = user.id == actor.id;
        if user.role == Role::Owner && !is_self {
            return Err(Error::Forbidden("the owner's account can only be changed by the owner".into()));
        }
        if let Some(role) = up.role {
            if role != user.role {
                if is_self {
                    return Err(Error::Forbidden("you cannot change your own role".into()));
                }
                if role == Role::Owner && actor.role != Role::Owner {
                    return Err(Error::Forbidden("only the owner can make someone an owner".into()));
                }
                user.role = role;
            }
        }
        if let Some(d) = up.disabled {
            if d && is_self {
                return Err(Error::Forbidden("you cannot disable your own account".into()));
            }
            user.disabled = d;
        }
        if let Some(teams) = up.teams {
            let mut teams: Vec<String> =
                teams.into_iter().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect();
            teams.sort();
            teams.dedup();
            user.teams = teams;
        }
        if let Some(name) = up.name {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 {
                return Err(Error::InvalidInput("enter a name (up to 100 characters)".into()));
            }
            user.name = name.to_owned();
        }
        store::put_json(&mut users, id.as_str(), &user)?;
        Ok(user)
    })?;
    if user.disabled {
        logout_everywhere(store, &user.id)?;
    }
    Ok(user)
}

/// Removes a user and their sessions (returns how many ended). Their conversations keep the
/// name they were assigned under.
pub fn remove_user(store: &Store, actor: &User, id: &UserId) -> Result<usize> {
    let user = get_user(store, id)?;
    if user.id == actor.id {
        return Err(Error::Forbidden("you cannot remove your own account".into()));
    }
    if user.role == Role::Owner {
        return Err(Error::Forbidden("the owner cannot be removed".into()));
    }
    let n = logout_everywhere(store, id)?;
    store.delete(USERS, id.as_str())?;
    Ok(n)
}

/// Changes one's own password (the current one is required) and ends every other session.
pub async fn change_password(
    store: &Store,
    user: &User,
    current: String,
    new: String,
    keep: &str,
) -> Result<()> {
    validate_password(&new)?;
    if !verify_password(current, user.password_hash.clone()).await? {
        return Err(Error::Forbidden("the current password is wrong".into()));
    }
    let hash = hash_password(new).await?;
    let id = user.id.clone();
    store.write(|tx| {
        let mut users = tx.open_table(USERS)?;
        let mut u: User = store::get_json(&users, id.as_str())?.ok_or(Error::NotFound("user"))?;
        u.password_hash = hash;
        store::put_json(&mut users, id.as_str(), &u)?;
        Ok(())
    })?;
    delete_sessions_where(store, |k, s| s.user == id && k != keep)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Invites and first-run setup.

/// When there is no user yet: a fresh one-time setup link (earlier setup links stop working).
/// `None` once an owner exists.
pub fn setup_link(store: &Store, public_url: &str) -> Result<Option<String>> {
    if has_users(store)? {
        return Ok(None);
    }
    let token = create_setup_token(store)?;
    Ok(Some(format!("{}/app/#/setup/{token}", public_url.trim_end_matches('/'))))
}

/// Creates the setup token (replacing older ones). Prefer [`setup_link`].
pub fn create_setup_token(store: &Store) -> Result<String> {
    let token = random_hex(32);
    let now = Utc::now();
    let invite = Invite {
        kind: InviteKind::Setup,
        role: Role::Owner,
        email: String::new(),
        created_by: None,
        created_at: now,
        expires_at: now + Duration::days(2),
    };
    store.write(|tx| {
        let mut t = tx.open_table(INVITES)?;
        let mut old = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let i: Invite = serde_json::from_slice(v.value())?;
            if i.kind == InviteKind::Setup {
                old.push(k.value().to_owned());
            }
        }
        for k in old {
            t.remove(k.as_str())?;
        }
        store::put_json(&mut t, &hash_token(&token), &invite)
    })?;
    Ok(token)
}

/// Creates an invite link token for `role` (admin or agent).
pub fn create_invite(store: &Store, actor: &User, role: Role, email: &str) -> Result<String> {
    if role == Role::Owner {
        return Err(Error::InvalidInput("invite an admin or an agent; there is one owner".into()));
    }
    let token = random_hex(32);
    let now = Utc::now();
    let invite = Invite {
        kind: InviteKind::Invite,
        role,
        email: normalize_email(email),
        created_by: Some(actor.id.clone()),
        created_at: now,
        expires_at: now + INVITE_VALID,
    };
    store.put_json(INVITES, &hash_token(&token), &invite)?;
    Ok(token)
}

/// A valid, unexpired invite by its token.
pub fn invite_by_token(store: &Store, token: &str) -> Result<Invite> {
    if token.is_empty() || token.len() > 128 {
        return Err(Error::NotFound("invite"));
    }
    let invite: Invite = store.get_json(INVITES, &hash_token(token))?.ok_or(Error::NotFound("invite"))?;
    if invite.expires_at < Utc::now() {
        return Err(Error::NotFound("invite"));
    }
    Ok(invite)
}

pub fn list_invites(store: &Store) -> Result<Vec<InviteView>> {
    let now = Utc::now();
    let mut out: Vec<InviteView> = store
        .list_json::<Invite>(INVITES)?
        .into_iter()
        .filter(|(_, i)| i.kind == InviteKind::Invite && i.expires_at > now)
        .map(|(k, i)| InviteView {
            id: k[..16].to_owned(),
            kind: i.kind,
            role: i.role,
            email: i.email,
            created_at: i.created_at,
            expires_at: i.expires_at,
        })
        .collect();
    out.sort_by_key(|b| std::cmp::Reverse(b.created_at));
    Ok(out)
}

pub fn revoke_invite(store: &Store, id: &str) -> Result<()> {
    if id.len() < 16 {
        return Err(Error::NotFound("invite"));
    }
    let key = store
        .list_json::<Invite>(INVITES)?
        .into_iter()
        .map(|(k, _)| k)
        .find(|k| k.starts_with(id))
        .ok_or(Error::NotFound("invite"))?;
    store.delete(INVITES, &key)?;
    Ok(())
}

/// What someone accepting an invite (or the setup link) fills in.
#[derive(Debug, Clone, Deserialize, poem_openapi::Object)]
pub struct NewAccount {
    pub name: String,
    pub email: String,
    #[oai(write_only)]
    pub password: String,
}

/// Uses an invite (once): creates the user. The setup invite only works while there is no user.
pub async fn accept_invite(store: &Store, token: &str, account: NewAccount) -> Result<User> {
    validate_new_user(&account.name, &account.email, &account.password)?;
    // Fail fast before hashing; checked again inside the transaction.
    invite_by_token(store, token)?;
    let hash = hash_password(account.password).await?;
    let key = hash_token(token);
    let email = normalize_email(&account.email);
    store.write(|tx| {
        let mut invites = tx.open_table(INVITES)?;
        let invite: Invite = store::get_json(&invites, &key)?.ok_or(Error::NotFound("invite"))?;
        if invite.expires_at < Utc::now() {
            return Err(Error::NotFound("invite"));
        }
        let mut users = tx.open_table(USERS)?;
        if invite.kind == InviteKind::Setup && !users.is_empty()? {
            invites.remove(key.as_str())?;
            return Err(Error::Conflict("Baton is already set up; sign in instead".into()));
        }
        for row in users.iter()? {
            let (_, v) = row?;
            let u: User = serde_json::from_slice(v.value())?;
            if u.email == email {
                return Err(Error::Conflict("an account with this email exists; sign in instead".into()));
            }
        }
        let user = User {
            id: UserId::random(),
            email: email.clone(),
            name: account.name.trim().to_owned(),
            role: invite.role,
            password_hash: hash,
            created_at: Utc::now(),
            disabled: false,
            teams: Vec::new(),
            last_login_at: None,
        };
        store::put_json(&mut users, user.id.as_str(), &user)?;
        invites.remove(key.as_str())?;
        Ok(user)
    })
}

// ---------------------------------------------------------------------------------------------
// Sessions.

/// A new session for `user`; returns the cookie token (the store keeps only its hash).
pub fn create_session(store: &Store, user: &User, ip: &str) -> Result<(String, Session)> {
    let token = random_hex(32);
    let now = Utc::now();
    let session = Session {
        user: user.id.clone(),
        csrf: random_hex(32),
        created_at: now,
        last_seen_at: now,
        ip: ip.to_owned(),
    };
    let id = user.id.clone();
    store.write(|tx| {
        store::put_json(&mut tx.open_table(SESSIONS)?, &hash_token(&token), &session)?;
        let mut users = tx.open_table(USERS)?;
        if let Some(mut u) = store::get_json::<User>(&users, id.as_str())? {
            u.last_login_at = Some(now);
            store::put_json(&mut users, id.as_str(), &u)?;
        }
        Ok(())
    })?;
    Ok((token, session))
}

/// Signs in with email and password. Rate limited per IP, and per (account, IP) and account
/// failures ([`lockout`]), before any hashing; the same answer for an unknown email and a wrong
/// password.
pub async fn login(
    store: &Store,
    rt: &Runtime,
    email: &str,
    password: &str,
    ip: &str,
) -> Result<(String, User, Session)> {
    let email = normalize_email(email);
    rt.login_limiter.check(&format!("ip:{ip}"), LOGIN_PER_IP)?;
    rt.lockout.check(&email, ip)?;
    let wrong = || Error::Unauthenticated;
    let user = user_by_email(store, &email)?;
    // Hash even for unknown emails so timing does not reveal which accounts exist.
    let hash = match &user {
        Some(u) => u.password_hash.clone(),
        None => dummy_hash().to_owned(),
    };
    let ok = verify_password(password.to_owned(), hash).await?;
    let user = match user {
        Some(u) if ok => u,
        _ => {
            rt.lockout.failed(&email, ip);
            return Err(wrong());
        }
    };
    rt.lockout.succeeded(&email, ip);
    if user.disabled {
        return Err(Error::Forbidden("this account is disabled; ask an admin".into()));
    }
    let (token, session) = create_session(store, &user, ip)?;
    Ok((token, user, session))
}

fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default().hash_password(b"not a password", &salt).map(|h| h.to_string()).unwrap_or_default()
    })
}

/// The user and session behind a cookie token; `Unauthenticated` when unknown, expired, or the
/// user is disabled or removed. Refreshes `last_seen_at` at most every few minutes.
pub fn authenticate(store: &Store, token: &str) -> Result<(User, Session, String)> {
    if token.is_empty() || token.len() > 128 {
        return Err(Error::Unauthenticated);
    }
    let key = hash_token(token);
    let (session, user) = store.read(|tx| {
        let session: Option<Session> = store::get_json(&tx.open_table(SESSIONS)?, &key)?;
        let Some(session) = session else { return Ok((None, None)) };
        let user: Option<User> = store::get_json(&tx.open_table(USERS)?, session.user.as_str())?;
        Ok((Some(session), user))
    })?;
    let Some(mut session) = session else { return Err(Error::Unauthenticated) };
    let now = Utc::now();
    let user = match user {
        Some(u) if !u.disabled && !session.expired_at(now) => u,
        _ => {
            store.delete(SESSIONS, &key)?;
            return Err(Error::Unauthenticated);
        }
    };
    if now - session.last_seen_at > TOUCH_EVERY {
        session.last_seen_at = now;
        store.put_json(SESSIONS, &key, &session)?;
    }
    Ok((user, session, key))
}

/// Whether a session (by the hash of its token) is still live: it exists, has not expired, and
/// its user exists and is not disabled. Read-only and cheap: long-lived streams ask it on every
/// event and every few seconds, so logging out, "log out everywhere", disabling or removing a
/// member ends their open streams too.
pub fn session_alive(store: &Store, session_key: &str) -> bool {
    let now = Utc::now();
    store
        .read(|tx| {
            let session: Option<Session> = store::get_json(&tx.open_table(SESSIONS)?, session_key)?;
            let Some(session) = session else { return Ok(false) };
            let user: Option<User> = store::get_json(&tx.open_table(USERS)?, session.user.as_str())?;
            Ok(user.is_some_and(|u| !u.disabled) && !session.expired_at(now))
        })
        .unwrap_or(false)
}

/// Ends one session (by the hash of its token).
pub fn logout(store: &Store, session_key: &str) -> Result<()> {
    store.delete(SESSIONS, session_key)?;
    Ok(())
}

/// Ends every session of a user; returns how many.
pub fn logout_everywhere(store: &Store, user: &UserId) -> Result<usize> {
    delete_sessions_where(store, |_, s| &s.user == user)
}

/// Deletes expired sessions; returns how many.
pub fn sweep_sessions(store: &Store) -> Result<usize> {
    let now = Utc::now();
    delete_sessions_where(store, |_, s| s.expired_at(now))
}

fn delete_sessions_where(store: &Store, f: impl Fn(&str, &Session) -> bool) -> Result<usize> {
    store.write(|tx| {
        let mut t = tx.open_table(SESSIONS)?;
        let mut gone = Vec::new();
        for row in t.iter()? {
            let (k, v) = row?;
            let s: Session = serde_json::from_slice(v.value())?;
            if f(k.value(), &s) {
                gone.push(k.value().to_owned());
            }
        }
        for k in &gone {
            t.remove(k.as_str())?;
        }
        Ok(gone.len())
    })
}

/// Sessions of a user (count), for the account page.
pub fn session_count(store: &Store, user: &UserId) -> Result<usize> {
    Ok(store.list_json::<Session>(SESSIONS)?.into_iter().filter(|(_, s)| &s.user == user).count())
}

/// Hourly sweep of expired sessions, started by `serve`.
pub fn spawn_sweeper(store: Store) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(StdDuration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = sweep_sessions(&store) {
                tracing::warn!(error = ?e, "session sweep failed");
            }
        }
    });
}

/// Constant-time string comparison (CSRF tokens).
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path(), false).unwrap();
        (dir, s)
    }

    fn account(email: &str) -> NewAccount {
        NewAccount { name: "Ada".into(), email: email.into(), password: "correct horse battery".into() }
    }

    #[tokio::test]
    async fn setup_token_makes_one_owner_once() {
        let (_d, s) = store();
        let link = setup_link(&s, "https://help.example.com/").unwrap().unwrap();
        let token = link.rsplit('/').next().unwrap().to_owned();
        assert!(link.starts_with("https://help.example.com/app/#/setup/"));
        let owner = accept_invite(&s, &token, account("Ada@Example.com")).await.unwrap();
        assert_eq!(owner.role, Role::Owner);
        assert_eq!(owner.email, "ada@example.com");
        assert!(owner.password_hash.starts_with("$argon2id$"), "argon2id PHC string");
        assert_eq!(
            accept_invite(&s, &token, account("b@example.com")).await.unwrap_err().code(),
            "not_found"
        );
        assert!(setup_link(&s, "x").unwrap().is_none(), "no setup link once an owner exists");
    }

    #[tokio::test]
    async fn sessions_store_only_hashes_and_expire() {
        let (_d, s) = store();
        let t = create_setup_token(&s).unwrap();
        let u = accept_invite(&s, &t, account("a@example.com")).await.unwrap();
        let (token, _) = create_session(&s, &u, "1.2.3.4").unwrap();
        let keys: Vec<String> =
            s.list_json::<Session>(SESSIONS).unwrap().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, vec![hash_token(&token)]);
        assert_ne!(keys[0], token);
        assert!(authenticate(&s, &token).is_ok());
        // Age the session past the idle limit.
        let mut sess: Session = s.get_json(SESSIONS, &keys[0]).unwrap().unwrap();
        sess.last_seen_at = Utc::now() - IDLE - Duration::minutes(1);
        s.put_json(SESSIONS, &keys[0], &sess).unwrap();
        assert_eq!(authenticate(&s, &token).unwrap_err().code(), "unauthenticated");
        assert!(s.get_json::<Session>(SESSIONS, &keys[0]).unwrap().is_none(), "expired session removed");
    }

    #[test]
    fn roles_order_and_constant_time_compare() {
        assert!(Role::Owner.is_admin() && Role::Admin.is_admin() && !Role::Agent.is_admin());
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }
}
