//! Console-editable settings: views without secrets, validated updates.
//!
//! Handoff and hours are exchanged as the JSON of their config sections (`[handoff]`,
//! `[hours]`), so the console follows whatever the handoff module defines; they are parsed
//! into the typed config (unknown keys are refused) and validated before they are stored.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::config::{Config, HandoffConfig, HoursConfig, WidgetConfig};
use crate::error::{Error, Result};
use crate::handoff::hours::Schedule;
use crate::state::AppState;

/// SMTP settings as the console sees them: the password is never sent back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Object)]
pub struct SmtpView {
    pub host: String,
    pub port: u16,
    pub username: String,
    /// Whether a password is stored (it is write-only).
    pub password_set: bool,
    /// `starttls`, `tls` or `none`.
    pub security: String,
    pub from: String,
}

/// A change to the SMTP settings. `password`: absent keeps the stored one, `""` clears it.
#[derive(Debug, Clone, Deserialize, Object)]
pub struct SmtpUpdate {
    pub host: String,
    pub port: u16,
    #[oai(default)]
    pub username: String,
    pub password: Option<String>,
    pub security: String,
    pub from: String,
}

/// Security and data settings as the console sees them (no secret inside).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Object)]
pub struct SecurityView {
    /// Origins allowed to embed the widget; empty allows any.
    pub allowed_origins: Vec<String>,
    /// Whether an identity-verification secret is set (it is write-only).
    pub identity_secret_set: bool,
    pub secure_cookies: bool,
    /// Conversations are deleted this many days after their last activity; 0 keeps them.
    pub retention_days: u32,
}

/// A change to the security settings. `identity_secret`: absent keeps it, `""` clears it.
#[derive(Debug, Clone, Deserialize, Object)]
pub struct SecurityUpdate {
    pub allowed_origins: Vec<String>,
    pub identity_secret: Option<String>,
    pub secure_cookies: bool,
    pub retention_days: u32,
}

/// Answer settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Object)]
pub struct AnswerView {
    /// Below this confidence (0..1) an answer is marked unsure.
    pub confidence_threshold: f32,
    pub max_citations: u32,
}

/// Everything the console edits, in one document.
#[derive(Debug, Clone, Serialize, Object)]
pub struct SettingsView {
    pub public_url: String,
    pub widget: WidgetConfig,
    /// The `[handoff]` section as JSON (triggers, thresholds, topics, rules).
    pub handoff: serde_json::Value,
    /// The `[hours]` section as JSON (time zone, weekly hours, holidays, teams).
    pub hours: serde_json::Value,
    pub smtp: SmtpView,
    pub security: SecurityView,
    pub answer: AnswerView,
    /// The HTML to paste into a website to show the widget.
    pub install_snippet: String,
    /// Largest upload, in bytes.
    pub max_upload_bytes: u64,
}

pub fn view(config: &Config) -> Result<SettingsView> {
    Ok(SettingsView {
        public_url: config.public_url(),
        widget: config.widget.clone(),
        handoff: tidy_floats(serde_json::to_value(&config.handoff)?),
        hours: serde_json::to_value(&config.hours)?,
        smtp: SmtpView {
            host: config.smtp.host.clone(),
            port: config.smtp.port,
            username: config.smtp.username.clone(),
            password_set: !config.smtp.password.is_empty(),
            security: config.smtp.security.clone(),
            from: config.smtp.from.clone(),
        },
        security: SecurityView {
            allowed_origins: config.security.allowed_origins.clone(),
            identity_secret_set: !config.security.identity_secret.is_empty(),
            secure_cookies: config.security.secure_cookies,
            retention_days: config.security.retention_days,
        },
        answer: AnswerView {
            confidence_threshold: config.answer.confidence_threshold,
            max_citations: config.answer.max_citations as u32,
        },
        install_snippet: install_snippet(config),
        max_upload_bytes: config.limits.max_upload_bytes as u64,
    })
}

/// Rounds numbers to 4 decimals: thresholds are f32, and 0.03 would show as 0.029999999329447746.
fn tidy_floats(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => {
            let x = (n.as_f64().unwrap_or(0.0) * 10_000.0).round() / 10_000.0;
            serde_json::Number::from_f64(x).map(Value::Number).unwrap_or(Value::Null)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(tidy_floats).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, tidy_floats(v))).collect()),
        other => other,
    }
}

/// `<script src=".../widget.js" defer></script>` with the appearance as data attributes
/// (the widget also reads the live settings from the server; the attributes make the first
/// paint right and document what can be overridden per page).
pub fn install_snippet(config: &Config) -> String {
    let w = &config.widget;
    let mut s = format!("<script src=\"{}/widget.js\" defer", attr(&config.public_url()));
    s.push_str(&format!(" data-color=\"{}\"", attr(&w.color)));
    s.push_str(&format!(" data-position=\"{}\"", attr(&w.position)));
    if !w.team_name.is_empty() {
        s.push_str(&format!(" data-team-name=\"{}\"", attr(&w.team_name)));
    }
    s.push_str("></script>");
    s
}

/// Escapes a value for a double-quoted HTML attribute.
fn attr(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

fn is_hex_colour(s: &str) -> bool {
    let Some(hex) = s.strip_prefix('#') else { return false };
    matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit())
}

pub fn update_widget(state: &AppState, w: WidgetConfig) -> Result<SettingsView> {
    if !is_hex_colour(&w.color) {
        return Err(Error::InvalidInput("the colour must be a hex colour like #2563eb".into()));
    }
    if w.position != "right" && w.position != "left" {
        return Err(Error::InvalidInput("the position must be \"right\" or \"left\"".into()));
    }
    if w.team_name.chars().count() > 80 || w.greeting.chars().count() > 500 {
        return Err(Error::InvalidInput("the team name or greeting is too long".into()));
    }
    let url = w.avatar_url.trim();
    if !(url.is_empty()
        || url.starts_with("https://")
        || url.starts_with("http://")
        || url.starts_with("data:image/"))
    {
        return Err(Error::InvalidInput("the avatar must be an http(s) URL or a data:image/ URI".into()));
    }
    let c = state.update_config(|c| c.widget = w)?;
    view(&c)
}

pub fn update_handoff(state: &AppState, value: serde_json::Value) -> Result<SettingsView> {
    let h: HandoffConfig = serde_json::from_value(value)
        .map_err(|e| Error::InvalidInput(format!("invalid handoff settings: {e}")))?;
    for (name, margin) in [
        ("human_request_margin", h.human_request_margin),
        ("sensitive_margin", h.sensitive_margin),
        ("frustration_margin", h.frustration_margin),
        ("cue_margin", h.cue_margin),
    ] {
        if !(-1.0..=1.0).contains(&margin) {
            return Err(Error::InvalidInput(format!("{name} must be between -1 and 1")));
        }
    }
    if !(0.0..=1.0).contains(&h.loop_similarity) {
        return Err(Error::InvalidInput("loop_similarity must be between 0 and 1".into()));
    }
    for rule in &h.rule {
        rule.validate().map_err(Error::InvalidInput)?;
    }
    for name in h.topics.keys() {
        if name.trim().is_empty() {
            return Err(Error::InvalidInput("a topic needs a name".into()));
        }
    }
    let c = state.update_config(|c| c.handoff = h)?;
    view(&c)
}

pub fn update_hours(state: &AppState, value: serde_json::Value) -> Result<SettingsView> {
    let h: HoursConfig = serde_json::from_value(value)
        .map_err(|e| Error::InvalidInput(format!("invalid support hours: {e}")))?;
    Schedule::validate(&h.timezone, &h.weekly, &h.holidays).map_err(Error::InvalidInput)?;
    for (team, t) in &h.teams {
        Schedule::validate(&t.timezone, &t.weekly, &t.holidays)
            .map_err(|e| Error::InvalidInput(format!("team {team}: {e}")))?;
    }
    let c = state.update_config(|c| c.hours = h)?;
    view(&c)
}

pub fn update_smtp(state: &AppState, u: SmtpUpdate) -> Result<SettingsView> {
    if !["starttls", "tls", "none"].contains(&u.security.as_str()) {
        return Err(Error::InvalidInput("SMTP security must be starttls, tls or none".into()));
    }
    if !u.host.trim().is_empty() && !u.from.contains('@') {
        return Err(Error::InvalidInput("the sender address must be an email address".into()));
    }
    let c = state.update_config(|c| {
        c.smtp.host = u.host.trim().to_owned();
        c.smtp.port = u.port;
        c.smtp.username = u.username;
        if let Some(p) = u.password {
            c.smtp.password = p;
        }
        c.smtp.security = u.security;
        c.smtp.from = u.from.trim().to_owned();
    })?;
    view(&c)
}

pub fn update_security(state: &AppState, u: SecurityUpdate) -> Result<SettingsView> {
    let mut origins = Vec::new();
    for o in u.allowed_origins.iter().map(|o| o.trim().trim_end_matches('/')).filter(|o| !o.is_empty()) {
        let parsed =
            url::Url::parse(o).map_err(|_| Error::InvalidInput(format!("{o:?} is not an origin")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() || parsed.path() != "/"
        {
            return Err(Error::InvalidInput(format!(
                "{o:?} is not an origin; write it like https://www.example.com"
            )));
        }
        origins.push(o.to_owned());
    }
    if let Some(s) = &u.identity_secret {
        if !s.is_empty() && s.len() < 16 {
            return Err(Error::InvalidInput("the identity secret must have at least 16 characters".into()));
        }
    }
    if u.retention_days > 36_500 {
        return Err(Error::InvalidInput("retention is at most 100 years".into()));
    }
    let c = state.update_config(|c| {
        c.security.allowed_origins = origins;
        if let Some(s) = u.identity_secret {
            c.security.identity_secret = s;
        }
        c.security.secure_cookies = u.secure_cookies;
        c.security.retention_days = u.retention_days;
    })?;
    view(&c)
}

pub fn update_answer(state: &AppState, a: AnswerView) -> Result<SettingsView> {
    if !(0.0..=1.0).contains(&a.confidence_threshold) {
        return Err(Error::InvalidInput("the confidence threshold must be between 0 and 1".into()));
    }
    if !(1..=10).contains(&a.max_citations) {
        return Err(Error::InvalidInput("between 1 and 10 citations".into()));
    }
    let c = state.update_config(|c| {
        c.answer.confidence_threshold = a.confidence_threshold;
        c.answer.max_citations = a.max_citations as usize;
    })?;
    view(&c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_never_contain_secrets() {
        let mut c = Config::default();
        c.smtp.password = "hunter2-password".into();
        c.security.identity_secret = "a-very-secret-identity-key".into();
        let v = view(&c).unwrap();
        let json = serde_json::to_string(&v).unwrap();
        assert!(!json.contains("hunter2") && !json.contains("very-secret"), "{json}");
        assert!(v.smtp.password_set && v.security.identity_secret_set);
        assert_eq!(v.handoff["human_request_margin"], serde_json::json!(0.03));
    }

    #[test]
    fn the_install_snippet_escapes_attributes() {
        let mut c = Config { public_url: Some("https://help.example.com/".into()), ..Config::default() };
        c.widget.team_name = "Tom & \"Jerry\"".into();
        let s = install_snippet(&c);
        assert!(s.starts_with("<script src=\"https://help.example.com/widget.js\" defer"), "{s}");
        assert!(s.contains("data-team-name=\"Tom &amp; &quot;Jerry&quot;\""), "{s}");
        assert!(s.ends_with("></script>"));
    }

    #[test]
    fn colours_are_checked() {
        assert!(is_hex_colour("#2563eb") && is_hex_colour("#fff"));
        assert!(!is_hex_colour("red") && !is_hex_colour("#12345") && !is_hex_colour("#gggggg"));
    }
}
