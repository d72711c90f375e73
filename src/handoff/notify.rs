//! The offline email loop: an agent's reply reaches a visitor who has left.
//!
//! When an agent replies ([`on_agent_reply`], called by the inbox after the reply is appended),
//! the visitor left an email (`Conversation.follow_up`) and their widget has not been seen for
//! `handoff.email_after_secs`, the reply is sent over SMTP (`[smtp]`) with a link that reopens
//! the same thread.
//!
//! **Resume links.** `<public_url>/?baton_resume=<token>`. The token is
//! `base64url(conversation_id "." visitor_id "." expires_unix) "." base64url(HMAC-SHA256)`,
//! signed with a random server key kept in the database (never in config or logs), valid for
//! `handoff.resume_link_hours`. The widget reads `baton_resume` from the page URL, posts it to
//! the visitor API, which calls [`verify_resume`] to get the visitor and conversation back and
//! opens that thread for the browser. A token only ever grants the one visitor's own thread.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use lettre::message::{header::ContentType, Mailbox};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sha2::Sha256;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

use crate::config::SmtpConfig;
use crate::conversation::{self, Author, Message, NewMessage};
use crate::error::{Error, Result};
use crate::ids::{random_hex, ConversationId, VisitorId};
use crate::state::AppState;
use crate::store::SETTINGS;

const SECRET_KEY: &str = "handoff.resume_secret";

fn secret(state: &AppState) -> Result<Vec<u8>> {
    if let Some(s) = state.store.get_json::<String>(SETTINGS, SECRET_KEY)? {
        return hex::decode(s).map_err(Error::internal);
    }
    let fresh = random_hex(32);
    // First writer wins; read back so concurrent callers agree.
    state.store.write(|tx| {
        let mut t = tx.open_table(SETTINGS)?;
        if crate::store::get_json::<String>(&t, SECRET_KEY)?.is_none() {
            crate::store::put_json(&mut t, SECRET_KEY, &fresh)?;
        }
        Ok(())
    })?;
    let s: String = state.store.get_json(SETTINGS, SECRET_KEY)?.unwrap_or(fresh);
    hex::decode(s).map_err(Error::internal)
}

fn sign(key: &[u8], payload: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// A signed, expiring token that reopens `conversation` for `visitor`.
pub fn resume_token(
    state: &AppState,
    visitor: &VisitorId,
    conversation: &ConversationId,
    expires: DateTime<Utc>,
) -> Result<String> {
    let payload = format!("{}.{}.{}", conversation, visitor, expires.timestamp());
    let key = secret(state)?;
    Ok(format!("{}.{}", B64.encode(&payload), B64.encode(sign(&key, &payload))))
}

/// Who a resume token belongs to, if it is genuine and not expired.
pub fn verify_resume(state: &AppState, token: &str) -> Result<(VisitorId, ConversationId)> {
    let bad = || Error::Forbidden("this link is invalid or has expired".into());
    let (p, s) = token.split_once('.').ok_or_else(bad)?;
    let payload = String::from_utf8(B64.decode(p).map_err(|_| bad())?).map_err(|_| bad())?;
    let sig = B64.decode(s).map_err(|_| bad())?;
    let key = secret(state)?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    mac.verify_slice(&sig).map_err(|_| bad())?;
    let mut parts = payload.split('.');
    let (Some(c), Some(v), Some(exp), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let exp: i64 = exp.parse().map_err(|_| bad())?;
    if Utc::now().timestamp() > exp {
        return Err(bad());
    }
    Ok((VisitorId::from(v), ConversationId::from(c)))
}

/// The link put into follow-up emails.
pub fn resume_link(state: &AppState, visitor: &VisitorId, conversation: &ConversationId) -> Result<String> {
    let cfg = state.config();
    let exp = Utc::now() + Duration::hours(cfg.handoff.resume_link_hours.max(1) as i64);
    Ok(format!("{}/?baton_resume={}", cfg.public_url(), resume_token(state, visitor, conversation, exp)?))
}

fn transport(smtp: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    let builder = match smtp.security.as_str() {
        "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host).map_err(Error::internal)?,
        _ => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host).map_err(Error::internal)?,
    };
    let mut builder = builder.port(smtp.port).timeout(Some(std::time::Duration::from_secs(20)));
    if !smtp.username.is_empty() {
        builder = builder.credentials(Credentials::new(smtp.username.clone(), smtp.password.clone()));
    }
    Ok(builder.build())
}

/// Sends one plain-text email.
pub async fn send_email(smtp: &SmtpConfig, to: &str, subject: &str, body: String) -> Result<()> {
    let from: Mailbox = smtp.from.parse().map_err(|e| Error::InvalidInput(format!("smtp.from: {e}")))?;
    let to: Mailbox = to.parse().map_err(|e| Error::InvalidInput(format!("follow-up email: {e}")))?;
    let email = lettre::Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(Error::internal)?;
    transport(smtp)?.send(email).await.map_err(Error::internal)?;
    Ok(())
}

/// Whether the visitor's widget has been gone long enough to email them.
pub fn visitor_has_left(seen: Option<DateTime<Utc>>, now: DateTime<Utc>, after_secs: u64) -> bool {
    seen.is_none_or(|s| now - s >= Duration::seconds(after_secs as i64))
}

/// Call after an agent's reply was appended. Emails it when the visitor has left and gave an
/// email; returns whether an email went out. Failures are logged and noted in the thread (for
/// agents only), never returned to the agent's request as an error.
pub async fn on_agent_reply(state: &AppState, id: &ConversationId, message: &Message) -> Result<bool> {
    let cfg = state.config();
    let conv = conversation::get(&state.store, id)?;
    let Some(follow) = &conv.follow_up else { return Ok(false) };
    if cfg.smtp.host.is_empty()
        || !matches!(message.author, Author::Agent(_))
        || !message.visible_to_visitor()
    {
        return Ok(false);
    }
    if !visitor_has_left(conv.visitor_seen_at, Utc::now(), cfg.handoff.email_after_secs) {
        return Ok(false);
    }
    let agent = match &message.author {
        Author::Agent(a) => a.name.clone(),
        _ => String::new(),
    };
    let team = &cfg.widget.team_name;
    let link = resume_link(state, &conv.visitor, id)?;
    let body = format!(
        "{agent} from {team} replied to your conversation:\n\n{}\n\nContinue the conversation: {link}\n\n\
         You receive this email because you left your address in the chat. Reply in the chat to answer.\n",
        message.text()
    );
    let subject = format!("{team} replied to your message");
    match send_email(&cfg.smtp, &follow.email, &subject, body).await {
        Ok(()) => {
            let note = NewMessage::event(
                "email_sent",
                "The reply was emailed to the visitor.",
                serde_json::json!({"seq": message.seq}),
            );
            conversation::append(&state.store, &state.hub, id, note)?;
            Ok(true)
        }
        Err(e) => {
            tracing::warn!(conversation = %id, error = ?e, "follow-up email failed");
            let note = NewMessage {
                author: Author::system(),
                body: conversation::Body::Note(conversation::TextBody {
                    text: "Emailing the reply to the visitor failed; check the SMTP settings.".into(),
                }),
                page: None,
                client_id: String::new(),
            };
            conversation::append(&state.store, &state.hub, id, note)?;
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visitor_has_left_after_the_grace_period() {
        let now = Utc::now();
        assert!(visitor_has_left(None, now, 120));
        assert!(!visitor_has_left(Some(now - Duration::seconds(30)), now, 120));
        assert!(visitor_has_left(Some(now - Duration::seconds(121)), now, 120));
    }
}
