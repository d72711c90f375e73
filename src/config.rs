//! The one typed configuration.
//!
//! Layers, later wins: built-in defaults < `baton.toml` < `BATON_*` environment < command-line
//! flags. The file is `--config PATH`, else `./baton.toml`, else `<data dir>/baton.toml`.
//! Environment variables name a key as `BATON_<KEY>` for top-level keys (`BATON_ADDR`,
//! `BATON_DATA_DIR`) and `BATON_<SECTION>__<KEY>` inside a section
//! (`BATON_SMTP__HOST=mail.example.com`). Unknown variables are warned about, never ignored
//! silently. Secrets are redacted from `Debug` output and from logs.
//!
//! Settings that admins edit in the console (widget, handoff, hours, smtp, security, retention)
//! start from this config and are then stored in the database: see [`crate::state::AppState::update_config`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the database and uploads live.
    pub data_dir: PathBuf,
    /// Address to listen on.
    pub addr: SocketAddr,
    /// The URL visitors and agents reach Baton at, used in emails and the install snippet.
    /// Defaults to `http://<addr>`.
    pub public_url: Option<String>,
    /// Load Baton's own docs as demo knowledge when the knowledge base is empty.
    pub demo_knowledge: bool,
    pub limits: Limits,
    pub answer: AnswerConfig,
    pub widget: WidgetConfig,
    pub handoff: HandoffConfig,
    pub hours: HoursConfig,
    pub smtp: SmtpConfig,
    pub security: SecurityConfig,
    pub crawl: CrawlConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./data"),
            addr: "127.0.0.1:8080".parse().expect("valid default addr"),
            public_url: None,
            demo_knowledge: true,
            limits: Limits::default(),
            answer: AnswerConfig::default(),
            widget: WidgetConfig::default(),
            handoff: HandoffConfig::default(),
            hours: HoursConfig::default(),
            smtp: SmtpConfig::default(),
            security: SecurityConfig::default(),
            crawl: CrawlConfig::default(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Longest visitor or agent message, in characters.
    pub max_message_chars: usize,
    /// Largest JSON request body, in bytes.
    pub max_json_bytes: usize,
    /// Largest file upload, in bytes.
    pub max_upload_bytes: usize,
    /// Messages a visitor may send per minute.
    pub visitor_messages_per_minute: u32,
    /// Requests one IP may make to the visitor API per minute.
    pub ip_requests_per_minute: u32,
    /// Batches waiting for the embedding model before callers get 429.
    pub embed_queue: usize,
    /// A visitor whose reply is still queued after this many seconds is told it takes longer
    /// than usual.
    pub reply_notice_secs: u64,
    /// A reply still queued after this many seconds goes to the team instead.
    pub reply_handoff_secs: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_chars: 4000,
            max_json_bytes: 64 * 1024,
            max_upload_bytes: 20 * 1024 * 1024,
            visitor_messages_per_minute: 20,
            ip_requests_per_minute: 300,
            embed_queue: 64,
            reply_notice_secs: 20,
            reply_handoff_secs: 120,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AnswerConfig {
    /// Below this confidence (0..1) an answer is marked `unsure`.
    pub confidence_threshold: f32,
    /// How many sources an answer cites at most.
    pub max_citations: usize,
}

impl Default for AnswerConfig {
    fn default() -> Self {
        AnswerConfig { confidence_threshold: 0.5, max_citations: 3 }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, poem_openapi::Object)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetConfig {
    /// Accent colour, CSS hex.
    pub color: String,
    /// `right` or `left`.
    pub position: String,
    /// First message the visitor sees; empty uses the built-in greeting in the visitor's language.
    pub greeting: String,
    pub team_name: String,
    /// URL or data: URI of the team avatar; empty shows initials.
    pub avatar_url: String,
}

impl Default for WidgetConfig {
    fn default() -> Self {
        WidgetConfig {
            color: "#2563eb".into(),
            position: "right".into(),
            greeting: String::new(),
            team_name: "Support".into(),
            avatar_url: String::new(),
        }
    }
}

/// Trigger switches and thresholds. See [`crate::handoff`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HandoffConfig {
    pub unsure: bool,
    /// Hand off after this many unsure answers in a row (1 = the first unsure answer).
    pub unsure_streak: u32,
    pub human_request: bool,
    pub sensitive: bool,
    pub frustration: bool,
    pub rules: bool,
    /// How much closer (cosine) a message must be to the human-request exemplars than to
    /// ordinary questions to count as a request for a person.
    pub human_request_margin: f32,
    /// The same margin for sensitive topics.
    pub sensitive_margin: f32,
    /// The same margin for frustration.
    pub frustration_margin: f32,
    /// The margin when a lexicon cue (a person noun next to "talk to", a topic keyword, an
    /// anger word) supports the label.
    pub cue_margin: f32,
    /// Two visitor questions at least this similar (cosine) count as asking the same thing again.
    pub loop_similarity: f32,
    /// Hand off after this many AI answers rated "not helpful" in one conversation (0 = off).
    pub unhelpful_ratings: u32,
    /// Sensitive topics; the four built-in ones use the exemplars in `src/handoff/defaults.toml`
    /// plus any `examples` given here. Admins add topics with a few example phrases.
    pub topics: std::collections::BTreeMap<String, crate::handoff::rules::TopicConfig>,
    /// Admin rules, checked in order: `[[handoff.rule]]`. See [`crate::handoff::rules`].
    pub rule: Vec<crate::handoff::rules::Rule>,
    /// The visitor counts as gone (reply by email) when the widget was last seen this long ago.
    pub email_after_secs: u64,
    /// How long the "continue the conversation" link in follow-up emails stays valid.
    pub resume_link_hours: u64,
    /// An agent without a heartbeat for this long counts as offline.
    pub presence_timeout_secs: u64,
}

impl Default for HandoffConfig {
    fn default() -> Self {
        HandoffConfig {
            unsure: true,
            unsure_streak: 1,
            human_request: true,
            sensitive: true,
            frustration: true,
            rules: true,
            human_request_margin: 0.03,
            sensitive_margin: 0.02,
            frustration_margin: 0.03,
            cue_margin: -0.01,
            loop_similarity: 0.94,
            unhelpful_ratings: 2,
            topics: crate::handoff::rules::default_topics(),
            rule: Vec::new(),
            email_after_secs: 120,
            resume_link_hours: 24 * 7,
            presence_timeout_secs: 60,
        }
    }
}

/// Support hours. See [`crate::handoff::hours`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct HoursConfig {
    /// IANA time zone, e.g. `Europe/Berlin`.
    pub timezone: String,
    /// Opening hours per weekday, e.g. `mon = ["09:00-17:00"]`. Missing days are closed.
    pub weekly: std::collections::BTreeMap<String, Vec<String>>,
    /// Closed dates, `YYYY-MM-DD`.
    pub holidays: Vec<String>,
    /// Shown when nobody is available, e.g. "We usually reply within one business day."
    pub reply_promise: String,
    /// Teams with their own schedule (`[hours.teams.billing]`, same keys as above); teams not
    /// listed use the default schedule.
    pub teams: std::collections::BTreeMap<String, crate::handoff::hours::TeamHours>,
}

impl Default for HoursConfig {
    fn default() -> Self {
        let weekly = ["mon", "tue", "wed", "thu", "fri"]
            .into_iter()
            .map(|d| (d.to_owned(), vec!["09:00-17:00".to_owned()]))
            .collect();
        HoursConfig {
            timezone: "Europe/Berlin".into(),
            weekly,
            holidays: Vec::new(),
            reply_promise: "We usually reply within one business day.".into(),
            teams: std::collections::BTreeMap::new(),
        }
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// SMTP server; empty disables email.
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    /// `starttls`, `tls` or `none` (only for a local relay).
    pub security: String,
    pub from: String,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            host: String::new(),
            port: 587,
            username: String::new(),
            password: String::new(),
            security: "starttls".into(),
            from: "support@localhost".into(),
        }
    }
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &redact(&self.password))
            .field("security", &self.security)
            .field("from", &self.from)
            .finish()
    }
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct SecurityConfig {
    /// Origins allowed to embed the widget (CORS). Empty allows any origin.
    pub allowed_origins: Vec<String>,
    /// HMAC-SHA256 key for `Baton.identify`; when set, identities must be signed.
    pub identity_secret: String,
    /// Send session cookies with `Secure` (turn off only for plain-HTTP local testing).
    pub secure_cookies: bool,
    /// Delete conversations this many days after their last activity; 0 keeps them forever.
    pub retention_days: u32,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            allowed_origins: Vec::new(),
            identity_secret: String::new(),
            secure_cookies: true,
            retention_days: 0,
        }
    }
}

impl std::fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityConfig")
            .field("allowed_origins", &self.allowed_origins)
            .field("identity_secret", &redact(&self.identity_secret))
            .field("secure_cookies", &self.secure_cookies)
            .field("retention_days", &self.retention_days)
            .finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CrawlConfig {
    /// Pages fetched per crawl at most.
    pub max_pages: usize,
    /// Link depth from the start URL.
    pub max_depth: usize,
    /// Per-request timeout in seconds.
    pub timeout_secs: u64,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Allow crawling loopback and private addresses (off: protects against SSRF).
    pub allow_private: bool,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        CrawlConfig { max_pages: 500, max_depth: 5, timeout_secs: 15, concurrency: 4, allow_private: false }
    }
}

fn redact(s: &str) -> &'static str {
    if s.is_empty() {
        ""
    } else {
        "[redacted]"
    }
}

/// Command-line overrides, the last layer.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub addr: Option<SocketAddr>,
}

impl Config {
    /// The URL Baton is reached at, without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(u) if !u.is_empty() => u.trim_end_matches('/').to_owned(),
            _ => format!("http://{}", self.addr),
        }
    }

    /// Builds the config from all layers.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Config> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::load_from(overrides, &env)
    }

    pub fn load_from(overrides: &Overrides, env: &[(String, String)]) -> anyhow::Result<Config> {
        let mut value = toml::Value::try_from(Config::default())?;

        let file = match &overrides.config_file {
            Some(p) => Some(p.clone()),
            None => {
                let data_dir = overrides.data_dir.clone().unwrap_or_else(|| PathBuf::from("./data"));
                [PathBuf::from("baton.toml"), data_dir.join("baton.toml")].into_iter().find(|p| p.exists())
            }
        };
        if let Some(path) = file {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
            let file_value: toml::Value =
                toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            merge(&mut value, file_value);
            tracing::info!(path = %path.display(), "loaded config file");
        }

        for (key, raw) in env {
            let Some(name) = key.strip_prefix("BATON_") else { continue };
            if name == "LOG" || name == "CONFIG" {
                continue;
            }
            let path: Vec<String> = name.split("__").map(|s| s.to_ascii_lowercase()).collect();
            if !set_path(&mut value, &path, parse_env_value(raw)) {
                tracing::warn!(variable = %key, "unknown BATON_ environment variable, ignored");
            }
        }

        let mut config: Config =
            value.try_into().map_err(|e: toml::de::Error| anyhow::anyhow!("invalid configuration: {e}"))?;
        if let Some(d) = &overrides.data_dir {
            config.data_dir = d.clone();
        }
        if let Some(a) = overrides.addr {
            config.addr = a;
        }
        config.warn_insecure();
        Ok(config)
    }

    fn warn_insecure(&self) {
        if !self.addr.ip().is_loopback() && self.public_url().starts_with("http://") {
            tracing::warn!("listening on a public address without an https public_url; put Baton behind TLS");
        }
        if self.security.allowed_origins.is_empty() {
            tracing::debug!("security.allowed_origins is empty: the widget may be embedded on any site");
        }
    }

    pub fn data_path(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.data_dir.join(rel)
    }
}

fn merge(base: &mut toml::Value, over: toml::Value) {
    match (base, over) {
        (toml::Value::Table(b), toml::Value::Table(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Sets a known key; returns false when the key does not exist in the defaults.
fn set_path(value: &mut toml::Value, path: &[String], new: toml::Value) -> bool {
    let Some((last, parents)) = path.split_last() else { return false };
    let mut cur = value;
    for p in parents {
        match cur.get_mut(p.as_str()) {
            Some(v @ toml::Value::Table(_)) => cur = v,
            _ => return false,
        }
    }
    let toml::Value::Table(t) = cur else { return false };
    // Optional keys (like public_url) are absent from the serialised defaults; allow them.
    let optional = parents.is_empty() && last == "public_url";
    if !optional && !t.contains_key(last.as_str()) {
        return false;
    }
    let new = match (t.get(last.as_str()), new) {
        (Some(toml::Value::String(_)), v) => toml::Value::String(scalar_to_string(v)),
        (Some(toml::Value::Array(_)), toml::Value::String(s)) => toml::Value::Array(
            s.split(',')
                .map(|x| toml::Value::String(x.trim().to_owned()))
                .filter(|v| v.as_str() != Some(""))
                .collect(),
        ),
        (_, v) => v,
    };
    t.insert(last.clone(), new);
    true
}

fn scalar_to_string(v: toml::Value) -> String {
    match v {
        toml::Value::String(s) => s,
        other => other.to_string(),
    }
}

fn parse_env_value(raw: &str) -> toml::Value {
    if let Ok(b) = raw.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = raw.parse::<f64>() {
        return toml::Value::Float(f);
    }
    toml::Value::String(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("baton.toml");
        std::fs::write(
            &file,
            "addr = \"127.0.0.1:9000\"\n[answer]\nconfidence_threshold = 0.7\n[smtp]\nport = 2525\n",
        )
        .unwrap();
        let env = vec![
            ("BATON_SMTP__PORT".to_owned(), "2626".to_owned()),
            ("BATON_SMTP__HOST".to_owned(), "mail.example.com".to_owned()),
            ("BATON_SECURITY__ALLOWED_ORIGINS".to_owned(), "https://a.example, https://b.example".to_owned()),
            ("BATON_NOT_A_THING".to_owned(), "x".to_owned()),
        ];
        let o = Overrides { config_file: Some(file), data_dir: Some("/tmp/x".into()), addr: None };
        let c = Config::load_from(&o, &env).unwrap();
        assert_eq!(c.addr.port(), 9000, "file beats default");
        assert_eq!(c.answer.confidence_threshold, 0.7);
        assert_eq!(c.smtp.port, 2626, "env beats file");
        assert_eq!(c.smtp.host, "mail.example.com");
        assert_eq!(c.security.allowed_origins, vec!["https://a.example", "https://b.example"]);
        assert_eq!(c.data_dir, PathBuf::from("/tmp/x"), "flag beats all");

        let o2 = Overrides { addr: Some("127.0.0.1:9100".parse().unwrap()), ..o };
        assert_eq!(Config::load_from(&o2, &env).unwrap().addr.port(), 9100);
    }

    #[test]
    fn bad_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("baton.toml");
        std::fs::write(&file, "[answer]\nconfidence_treshold = 0.7\n").unwrap();
        let o = Overrides { config_file: Some(file), ..Default::default() };
        let err = Config::load_from(&o, &[]).unwrap_err().to_string();
        assert!(err.contains("confidence_treshold"), "{err}");
    }

    #[test]
    fn secrets_are_redacted() {
        let mut c = Config::default();
        c.smtp.password = "hunter2".into();
        c.security.identity_secret = "s3cret".into();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("hunter2") && !dbg.contains("s3cret"));
    }
}
