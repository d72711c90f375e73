//! Admin rules and sensitive topics: data, not code.
//!
//! A rule is a set of conditions (all must hold) and one action. Rules live in the config
//! (`[[handoff.rule]]` in `baton.toml`, or edited in the console through
//! `PUT /api/admin/handoff/settings`) and are checked in order; the first matching rule decides.
//!
//! ```toml
//! [[handoff.rule]]
//! name = "Enterprise billing goes to the finance team"
//! action = "hand_off_to_team"     # hand_off | hand_off_to_team | never_hand_off | reply
//! team = "finance"
//! [handoff.rule.when]
//! keywords = ["invoice", "Rechnung"]  # any of these words (case-insensitive)
//! attributes = { plan = "enterprise" } # visitor attributes from Baton.identify / setAttributes
//!
//! [[handoff.rule]]
//! name = "Night shift"
//! action = "reply"
//! reply = "We are closed now; leave your email and we answer in the morning."
//! [handoff.rule.when]
//! time = "22:00-07:00"               # in the team's time zone; may wrap midnight
//! regex = "(?i)\\burgent\\b"
//! ```
//!
//! Conditions: `keywords`, `regex`, `topic` (a sensitive topic the classifier saw),
//! `trigger` (a trigger that fired: `human_request`, `frustration`…), `attributes`
//! (exact match on visitor attributes), `identified`, `page` (substring of the visitor's page
//! URL), `min_ai_turns` / `max_ai_turns`, `time` (`HH:MM-HH:MM` in the team's time zone) and
//! `within_hours` (true = during support hours, false = outside).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::conversation::Conversation;

/// A sensitive topic. The built-in ones (`billing`, `account_access`, `privacy_legal`,
/// `security`) bring their own exemplars; `examples` add to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
#[serde(default, deny_unknown_fields)]
pub struct TopicConfig {
    pub enabled: bool,
    /// Readable name, e.g. "billing dispute".
    #[oai(default)]
    pub label: String,
    /// A few phrases a visitor would write about this topic, in any language.
    #[oai(default)]
    pub examples: Vec<String>,
    /// Words that support this topic when the message is close to it.
    #[oai(default)]
    pub keywords: Vec<String>,
}

impl Default for TopicConfig {
    fn default() -> Self {
        TopicConfig { enabled: true, label: String::new(), examples: Vec::new(), keywords: Vec::new() }
    }
}

/// The four built-in topics, all on.
pub fn default_topics() -> BTreeMap<String, TopicConfig> {
    [
        ("billing", "billing dispute"),
        ("account_access", "account access"),
        ("privacy_legal", "privacy or legal request"),
        ("security", "security report"),
    ]
    .into_iter()
    .map(|(k, label)| (k.to_owned(), TopicConfig { label: label.to_owned(), ..TopicConfig::default() }))
    .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Action {
    /// Hand the conversation to the team.
    HandOff,
    /// Hand off and route to `team`.
    HandOffToTeam,
    /// Never hand off automatically (the visitor's button still works).
    NeverHandOff,
    /// Reply with `reply` instead of an AI answer.
    Reply,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
#[serde(default, deny_unknown_fields)]
pub struct Conditions {
    #[oai(default)]
    pub keywords: Vec<String>,
    #[oai(default)]
    pub regex: String,
    #[oai(default)]
    pub topic: String,
    #[oai(default)]
    pub trigger: String,
    #[oai(default)]
    pub attributes: BTreeMap<String, String>,
    pub identified: Option<bool>,
    #[oai(default)]
    pub page: String,
    pub min_ai_turns: Option<u32>,
    pub max_ai_turns: Option<u32>,
    #[oai(default)]
    pub time: String,
    pub within_hours: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    #[serde(default)]
    #[oai(default)]
    pub name: String,
    #[serde(default = "yes")]
    #[oai(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    #[oai(default)]
    pub when: Conditions,
    pub action: Action,
    #[serde(default)]
    #[oai(default)]
    pub team: String,
    #[serde(default)]
    #[oai(default)]
    pub reply: String,
}

fn yes() -> bool {
    true
}

/// What a rule looks at.
pub struct RuleInput<'a> {
    pub text: &'a str,
    pub conversation: &'a Conversation,
    /// Sensitive topics the classifier detected.
    pub topics: &'a [String],
    /// Triggers that fired for this message.
    pub triggers: &'a [String],
    pub now: DateTime<Utc>,
    /// The team's time zone, for `time`.
    pub tz: chrono_tz::Tz,
    /// Whether support hours are open now, for `within_hours`.
    pub within_hours: bool,
}

impl Rule {
    /// Checks the rule's shape (regex compiles, time parses, fields the action needs).
    pub fn validate(&self) -> Result<(), String> {
        if !self.when.regex.is_empty() {
            regex::Regex::new(&self.when.regex)
                .map_err(|e| format!("rule {:?}: bad regex: {e}", self.name))?;
        }
        if !self.when.time.is_empty() && parse_range(&self.when.time).is_none() {
            return Err(format!("rule {:?}: time must look like 09:00-17:00", self.name));
        }
        match self.action {
            Action::HandOffToTeam if self.team.trim().is_empty() => {
                Err(format!("rule {:?}: hand_off_to_team needs a team", self.name))
            }
            Action::Reply if self.reply.trim().is_empty() => {
                Err(format!("rule {:?}: reply needs a text", self.name))
            }
            _ => Ok(()),
        }
    }

    /// Whether every condition holds.
    pub fn matches(&self, input: &RuleInput<'_>) -> bool {
        if !self.enabled {
            return false;
        }
        let w = &self.when;
        let lower = input.text.to_lowercase();
        if !w.keywords.is_empty() && !w.keywords.iter().any(|k| contains_word(&lower, &k.to_lowercase())) {
            return false;
        }
        if !w.regex.is_empty() {
            match regex::Regex::new(&w.regex) {
                Ok(re) if re.is_match(input.text) => {}
                _ => return false,
            }
        }
        if !w.topic.is_empty() && !input.topics.iter().any(|t| t == &w.topic) {
            return false;
        }
        if !w.trigger.is_empty() && !input.triggers.iter().any(|t| t == &w.trigger) {
            return false;
        }
        let ctx = &input.conversation.context;
        for (k, want) in &w.attributes {
            let got = match ctx.attributes.get(k) {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Null) | None => return false,
                Some(other) => other.to_string(),
            };
            if !got.eq_ignore_ascii_case(want) {
                return false;
            }
        }
        if let Some(id) = w.identified {
            if ctx.identified != id {
                return false;
            }
        }
        if !w.page.is_empty() {
            let url = ctx.pages.last().map(|p| p.url.as_str()).unwrap_or("");
            if !url.contains(&w.page) {
                return false;
            }
        }
        if w.min_ai_turns.is_some_and(|m| input.conversation.ai_turns < m) {
            return false;
        }
        if w.max_ai_turns.is_some_and(|m| input.conversation.ai_turns > m) {
            return false;
        }
        if !w.time.is_empty() {
            let Some((from, to)) = parse_range(&w.time) else { return false };
            let local = input.now.with_timezone(&input.tz).time();
            let inside = if from <= to { local >= from && local < to } else { local >= from || local < to };
            if !inside {
                return false;
            }
        }
        if w.within_hours.is_some_and(|want| want != input.within_hours) {
            return false;
        }
        true
    }
}

/// The first enabled rule that matches.
pub fn first_match<'r>(rules: &'r [Rule], input: &RuleInput<'_>) -> Option<&'r Rule> {
    rules.iter().find(|r| r.matches(input))
}

/// `HH:MM-HH:MM`.
pub fn parse_range(s: &str) -> Option<(NaiveTime, NaiveTime)> {
    let (a, b) = s.split_once('-')?;
    let from = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
    let to = if b.trim() == "24:00" {
        NaiveTime::from_hms_opt(23, 59, 59)?
    } else {
        NaiveTime::parse_from_str(b.trim(), "%H:%M").ok()?
    };
    Some((from, to))
}

/// Word-boundary containment (a keyword with spaces matches as a phrase).
fn contains_word(haystack: &str, needle: &str) -> bool {
    if needle.is_empty() {
        return false;
    }
    let mut start = 0;
    while let Some(pos) = haystack[start..].find(needle) {
        let i = start + pos;
        let before = haystack[..i].chars().next_back().is_none_or(|c| !c.is_alphanumeric());
        let after = haystack[i + needle.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric());
        if before && after {
            return true;
        }
        start = i + needle.len();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::{PageRef, VisitorContext};
    use crate::ids::VisitorId;

    fn conv() -> Conversation {
        let now = Utc::now();
        let mut context = VisitorContext::default();
        context.attributes.insert("plan".into(), serde_json::json!("Enterprise"));
        context.pages.push(PageRef { url: "https://shop.example/pricing".into(), title: String::new() });
        Conversation {
            ai_turns: 2,
            visitor_seen_at: None,
            ..Conversation::blank(VisitorId::random(), context, now)
        }
    }

    fn input<'a>(text: &'a str, c: &'a Conversation, now: DateTime<Utc>) -> RuleInput<'a> {
        RuleInput {
            text,
            conversation: c,
            topics: &[],
            triggers: &[],
            now,
            tz: chrono_tz::Europe::Berlin,
            within_hours: true,
        }
    }

    #[test]
    fn rules_are_toml_data_and_match_on_all_conditions() {
        let toml_text = r#"
            [[rule]]
            name = "enterprise invoices"
            action = "hand_off_to_team"
            team = "finance"
            [rule.when]
            keywords = ["invoice"]
            attributes = { plan = "enterprise" }
            page = "/pricing"
            min_ai_turns = 1

            [[rule]]
            name = "night"
            action = "reply"
            reply = "We are closed."
            [rule.when]
            time = "22:00-07:00"
        "#;
        #[derive(Deserialize)]
        struct F {
            rule: Vec<Rule>,
        }
        let rules = toml::from_str::<F>(toml_text).unwrap().rule;
        rules.iter().for_each(|r| r.validate().unwrap());
        let c = conv();
        let noon = "2025-03-03T11:00:00Z".parse().unwrap();
        let night = "2025-03-03T23:30:00Z".parse().unwrap();
        let hit = first_match(&rules, &input("Where is my Invoice?", &c, noon)).unwrap();
        assert_eq!(hit.team, "finance");
        assert!(first_match(&rules, &input("invoices please", &c, noon)).is_none(), "whole words only");
        assert_eq!(
            first_match(&rules, &input("hello", &c, night)).unwrap().action,
            Action::Reply,
            "wraps midnight"
        );
        let mut free = conv();
        free.context.attributes.insert("plan".into(), serde_json::json!("free"));
        assert!(first_match(&rules, &input("invoice", &free, noon)).is_none());
    }

    #[test]
    fn invalid_rules_are_explained() {
        let r = Rule {
            name: "x".into(),
            enabled: true,
            when: Conditions { regex: "(".into(), ..Default::default() },
            action: Action::HandOff,
            team: String::new(),
            reply: String::new(),
        };
        assert!(r.validate().unwrap_err().contains("bad regex"));
        let r = Rule { when: Conditions::default(), action: Action::HandOffToTeam, ..r };
        assert!(r.validate().unwrap_err().contains("needs a team"));
    }
}
