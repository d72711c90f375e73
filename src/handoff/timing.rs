//! Honest timing: who is there, how long people usually wait, when the team is back.
//!
//! The typical wait is the median of recent real waits (`first_human_reply_at - handoff.at`
//! over the latest handed-off conversations of the last 30 days), never a constant; with no
//! history Baton says "shortly" rather than invent a number.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::hours::{describe_opening, Schedule};
use super::presence;
use crate::conversation::{self, Conversation};
use crate::error::Result;
use crate::state::AppState;

/// How many recent handoffs the median looks at.
const RECENT: usize = 50;

/// What the widget shows about the team right now (`GET /api/widget/availability`).
#[derive(Debug, Clone, PartialEq, Serialize, poem_openapi::Object)]
pub struct Availability {
    /// Someone can take the conversation now.
    pub online: bool,
    pub agents_online: u32,
    /// Within support hours now.
    pub open_now: bool,
    /// Median first-response time of recent handoffs, in seconds (absent without history).
    pub typical_wait_secs: Option<u64>,
    /// Next opening (absent when open now or no hours are configured).
    pub next_open: Option<DateTime<Utc>>,
    /// The sentence for the visitor.
    pub message: String,
    /// The widget should offer the email form.
    pub ask_email: bool,
    pub reply_promise: String,
}

/// Median of recent waits in seconds.
pub fn typical_wait(convs: &[Conversation], now: DateTime<Utc>) -> Option<u64> {
    let since = now - Duration::days(30);
    let mut recent: Vec<(DateTime<Utc>, i64)> = convs
        .iter()
        .filter_map(|c| {
            let h = c.handoff.as_ref()?;
            let first = c.first_human_reply_at?;
            (first >= h.at && h.at >= since).then(|| (h.at, (first - h.at).num_seconds()))
        })
        .collect();
    recent.sort_by_key(|x| std::cmp::Reverse(x.0));
    recent.truncate(RECENT);
    let mut waits: Vec<i64> = recent.into_iter().map(|x| x.1).collect();
    if waits.is_empty() {
        return None;
    }
    waits.sort_unstable();
    let n = waits.len();
    let median = if n % 2 == 1 { waits[n / 2] } else { (waits[n / 2 - 1] + waits[n / 2]) / 2 };
    Some(median.max(0) as u64)
}

/// "under a minute", "about 4 minutes", "about 2 hours".
pub fn describe_wait(secs: u64) -> String {
    match secs {
        0..=59 => "under a minute".to_owned(),
        60..=119 => "about a minute".to_owned(),
        120..=3599 => format!("about {} minutes", (secs + 30) / 60),
        3600..=7199 => "about an hour".to_owned(),
        _ => format!("about {} hours", (secs + 1800) / 3600),
    }
}

/// Pure composition of the visitor message (tested at the edges).
pub fn compose(
    agents_online: u32,
    schedule: &Schedule,
    typical: Option<u64>,
    now: DateTime<Utc>,
    visitor_tz: &str,
) -> Availability {
    let open_now = schedule.is_open(now);
    let online = agents_online > 0;
    let next_open = if open_now { None } else { schedule.next_open(now) };
    let promise = schedule.reply_promise.trim().to_owned();
    let (message, ask_email) = if online {
        let wait = match typical {
            Some(s) => format!(" A person usually replies in {}.", describe_wait(s)),
            None => " Someone will join shortly.".to_owned(),
        };
        (format!("Connecting you with the team.{wait} I'll keep helping until they join."), false)
    } else if open_now || next_open.is_none() {
        let p = if promise.is_empty() { String::new() } else { format!(" {promise}") };
        (
            format!("Nobody from the team is online right now.{p} Leave your email and we'll reply there."),
            true,
        )
    } else {
        let back = next_open.map(|t| describe_opening(t, now, visitor_tz, schedule.tz)).unwrap_or_default();
        let p = if promise.is_empty() { String::new() } else { format!(" {promise}") };
        (
            format!(
                "Our team is offline right now and back {back}.{p} Leave your email and we'll reply there."
            ),
            true,
        )
    };
    Availability {
        online,
        agents_online,
        open_now,
        typical_wait_secs: typical,
        next_open,
        message,
        ask_email,
        reply_promise: promise,
    }
}

/// Availability of `team` (empty = default) now, phrased for a visitor in `visitor_tz`.
pub fn availability(state: &AppState, team: &str, visitor_tz: &str) -> Result<Availability> {
    let cfg = state.config();
    let schedule = Schedule::for_team(&cfg.hours, team);
    let now = Utc::now();
    let convs = conversation::list(&state.store)?;
    let typical = typical_wait(&convs, now);
    Ok(compose(presence::online_agents(state).len() as u32, &schedule, typical, now, visitor_tz))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HoursConfig;

    #[test]
    fn messages_match_the_situation() {
        let s = Schedule::for_team(&HoursConfig::default(), "");
        let monday_noon: DateTime<Utc> = "2025-03-03T11:00:00Z".parse().unwrap();
        let friday_night: DateTime<Utc> = "2025-03-07T20:00:00Z".parse().unwrap();
        let a = compose(2, &s, Some(240), monday_noon, "");
        assert!(a.online && !a.ask_email);
        assert!(
            a.message.contains("Connecting you") && a.message.contains("about 4 minutes"),
            "{}",
            a.message
        );
        let a = compose(1, &s, None, monday_noon, "");
        assert!(a.message.contains("shortly"), "no history, no invented number: {}", a.message);
        let a = compose(0, &s, Some(240), monday_noon, "");
        assert!(a.ask_email && a.message.contains("Nobody from the team is online"), "{}", a.message);
        let a = compose(0, &s, Some(240), friday_night, "Europe/Lisbon");
        assert!(a.ask_email && !a.open_now);
        assert!(
            a.message.contains("offline") && a.message.contains("Monday at 08:00 (Europe/Lisbon)"),
            "{}",
            a.message
        );
        assert!(a.message.contains("one business day"));
    }

    #[test]
    fn typical_wait_is_the_median_of_recent_real_waits() {
        use crate::conversation::{Handoff, State, VisitorContext};
        use crate::ids::{ConversationId, VisitorId};
        let now: DateTime<Utc> = "2025-03-03T12:00:00Z".parse().unwrap();
        let mk = |ago_days: i64, wait: Option<i64>| {
            let at = now - Duration::days(ago_days);
            Conversation {
                id: ConversationId::random(),
                visitor: VisitorId::random(),
                state: State::Resolved,
                created_at: at,
                updated_at: at,
                last_seq: 0,
                assignee: None,
                assignee_name: String::new(),
                team: String::new(),
                context: VisitorContext::default(),
                handoff: Some(Handoff {
                    trigger: "button".into(),
                    topic: String::new(),
                    reason: String::new(),
                    at,
                    team: String::new(),
                }),
                follow_up: None,
                csat: None,
                waiting_since: None,
                first_human_reply_at: wait.map(|w| at + Duration::seconds(w)),
                resolved_at: None,
                ai_turns: 0,
                unsure_streak: 0,
                preview: String::new(),
                visitor_seen_at: None,
            }
        };
        assert_eq!(typical_wait(&[], now), None);
        let convs =
            vec![mk(1, Some(60)), mk(2, Some(300)), mk(3, Some(120)), mk(4, None), mk(90, Some(9000))];
        assert_eq!(
            typical_wait(&convs, now),
            Some(120),
            "median of 60/120/300; old and unanswered ones ignored"
        );
        assert_eq!(describe_wait(45), "under a minute");
        assert_eq!(describe_wait(7300), "about 2 hours");
    }
}
