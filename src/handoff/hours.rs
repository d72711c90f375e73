//! Support hours: a weekly schedule in a time zone, with holidays, per team.
//!
//! `[hours]` is the default team's schedule; `[hours.teams.<name>]` gives a team its own. All
//! arithmetic happens in the team's local time (`chrono-tz`), so opening at 09:00 stays 09:00
//! across daylight-saving changes; a local time that does not exist (the spring-forward gap)
//! opens at the first instant after the gap.

use std::collections::BTreeMap;

use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::config::HoursConfig;

/// A team's own schedule (`[hours.teams.<name>]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TeamHours {
    pub timezone: String,
    pub weekly: BTreeMap<String, Vec<String>>,
    pub holidays: Vec<String>,
    /// Empty uses the default promise.
    pub reply_promise: String,
}

impl Default for TeamHours {
    fn default() -> Self {
        let d = HoursConfig::default();
        TeamHours {
            timezone: d.timezone,
            weekly: d.weekly,
            holidays: Vec::new(),
            reply_promise: String::new(),
        }
    }
}

/// A parsed schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub tz: Tz,
    /// Index 0 = Monday.
    days: [Vec<(NaiveTime, Option<NaiveTime>)>; 7],
    holidays: Vec<NaiveDate>,
    pub reply_promise: String,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Schedule {
    /// The schedule of `team` (empty = default); unknown teams use the default.
    pub fn for_team(hours: &HoursConfig, team: &str) -> Schedule {
        match hours.teams.get(team) {
            Some(t) if !team.is_empty() => {
                let promise =
                    if t.reply_promise.is_empty() { &hours.reply_promise } else { &t.reply_promise };
                Schedule::parse(&t.timezone, &t.weekly, &t.holidays, promise)
            }
            _ => Schedule::parse(&hours.timezone, &hours.weekly, &hours.holidays, &hours.reply_promise),
        }
    }

    /// Parses leniently: bad entries are logged and skipped so a typo never takes the widget down.
    pub fn parse(
        timezone: &str,
        weekly: &BTreeMap<String, Vec<String>>,
        holidays: &[String],
        promise: &str,
    ) -> Schedule {
        let tz = timezone.parse::<Tz>().unwrap_or_else(|_| {
            tracing::warn!(timezone, "unknown time zone in [hours], using UTC");
            Tz::UTC
        });
        let mut days: [Vec<(NaiveTime, Option<NaiveTime>)>; 7] = Default::default();
        for (day, ranges) in weekly {
            let Some(i) = DAYS.iter().position(|d| day.to_ascii_lowercase().starts_with(d)) else {
                tracing::warn!(day, "unknown weekday in [hours.weekly]");
                continue;
            };
            for r in ranges {
                match parse_range(r) {
                    Some(x) => days[i].push(x),
                    None => tracing::warn!(range = %r, "bad opening hours, expected HH:MM-HH:MM"),
                }
            }
            days[i].sort_by_key(|x| x.0);
        }
        let holidays =
            holidays.iter().filter_map(|h| NaiveDate::parse_from_str(h.trim(), "%Y-%m-%d").ok()).collect();
        Schedule { tz, days, holidays, reply_promise: promise.to_owned() }
    }

    /// Errors in a schedule, for the settings API.
    pub fn validate(
        timezone: &str,
        weekly: &BTreeMap<String, Vec<String>>,
        holidays: &[String],
    ) -> Result<(), String> {
        timezone.parse::<Tz>().map_err(|_| format!("unknown time zone {timezone:?}"))?;
        for (day, ranges) in weekly {
            if !DAYS.iter().any(|d| day.to_ascii_lowercase().starts_with(d)) {
                return Err(format!("unknown weekday {day:?}"));
            }
            for r in ranges {
                parse_range(r).ok_or_else(|| format!("bad hours {r:?}, expected HH:MM-HH:MM"))?;
            }
        }
        for h in holidays {
            NaiveDate::parse_from_str(h.trim(), "%Y-%m-%d")
                .map_err(|_| format!("bad holiday {h:?}, expected YYYY-MM-DD"))?;
        }
        Ok(())
    }

    fn is_holiday(&self, d: NaiveDate) -> bool {
        self.holidays.contains(&d)
    }

    /// Whether the team is open at `at`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        let local = at.with_timezone(&self.tz).naive_local();
        let date = local.date();
        if self.is_holiday(date) {
            return false;
        }
        let t = local.time();
        self.days[date.weekday().num_days_from_monday() as usize]
            .iter()
            .any(|(from, to)| t >= *from && to.is_none_or(|to| t < to))
    }

    /// The next opening at or after `at` (None when the schedule has no hours at all). When
    /// open now, returns `at`.
    pub fn next_open(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.is_open(at) {
            return Some(at);
        }
        let local = at.with_timezone(&self.tz).naive_local();
        for offset in 0..=400 {
            let date = local.date() + Duration::days(offset);
            if self.is_holiday(date) {
                continue;
            }
            for (from, _) in &self.days[date.weekday().num_days_from_monday() as usize] {
                let naive = NaiveDateTime::new(date, *from);
                if offset == 0 && naive <= local {
                    continue;
                }
                if let Some(utc) = self.resolve(naive) {
                    if utc > at {
                        return Some(utc);
                    }
                }
            }
        }
        None
    }

    /// Local wall time to an instant; a time inside the DST gap moves to the end of the gap.
    fn resolve(&self, naive: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.tz.from_local_datetime(&naive) {
            LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(a, _) => Some(a.with_timezone(&Utc)),
            LocalResult::None => {
                (1..=180).find_map(|m| match self.tz.from_local_datetime(&(naive + Duration::minutes(m))) {
                    LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
                    LocalResult::None => None,
                })
            }
        }
    }
}

fn parse_range(s: &str) -> Option<(NaiveTime, Option<NaiveTime>)> {
    let (a, b) = s.split_once('-')?;
    let from = NaiveTime::parse_from_str(a.trim(), "%H:%M").ok()?;
    let to = match b.trim() {
        "24:00" => None,
        x => Some(NaiveTime::parse_from_str(x, "%H:%M").ok()?),
    };
    if to.is_some_and(|to| to <= from) {
        return None;
    }
    Some((from, to))
}

/// "today at 09:00", "tomorrow at 09:00", "Monday at 09:00", or "on 24 Dec at 09:00", in the
/// visitor's time zone (falls back to the team's).
pub fn describe_opening(at: DateTime<Utc>, now: DateTime<Utc>, visitor_tz: &str, team_tz: Tz) -> String {
    let tz: Tz = visitor_tz.parse().unwrap_or(team_tz);
    let local = at.with_timezone(&tz);
    let today = now.with_timezone(&tz).date_naive();
    let days = (local.date_naive() - today).num_days();
    let time = local.format("%H:%M");
    let zone = tz.name();
    match days {
        0 => format!("today at {time} ({zone})"),
        1 => format!("tomorrow at {time} ({zone})"),
        2..=6 => format!("{} at {time} ({zone})", weekday_name(local.weekday())),
        _ => format!("on {} at {time} ({zone})", local.format("%-d %b")),
    }
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn berlin() -> Schedule {
        let h = HoursConfig { holidays: vec!["2025-12-25".into()], ..HoursConfig::default() };
        Schedule::for_team(&h, "")
    }

    #[test]
    fn opening_edges_are_half_open() {
        let s = berlin();
        // Monday 3 March 2025, Berlin is UTC+1.
        assert!(!s.is_open(utc("2025-03-03T07:59:59Z")));
        assert!(s.is_open(utc("2025-03-03T08:00:00Z")), "09:00 local opens");
        assert!(s.is_open(utc("2025-03-03T15:59:59Z")));
        assert!(!s.is_open(utc("2025-03-03T16:00:00Z")), "17:00 local is closed");
        assert!(!s.is_open(utc("2025-03-08T10:00:00Z")), "Saturday is closed");
    }

    #[test]
    fn dst_changes_in_berlin_keep_local_opening_times() {
        let s = berlin();
        // Spring forward: Sunday 30 March 2025. Monday 31 March opens at 09:00 CEST = 07:00 UTC.
        assert_eq!(s.next_open(utc("2025-03-29T12:00:00Z")).unwrap(), utc("2025-03-31T07:00:00Z"));
        assert!(s.is_open(utc("2025-03-31T07:00:00Z")));
        assert!(!s.is_open(utc("2025-03-31T06:59:00Z")));
        // Fall back: Sunday 26 October 2025. Monday 27 October opens at 09:00 CET = 08:00 UTC.
        assert_eq!(s.next_open(utc("2025-10-25T12:00:00Z")).unwrap(), utc("2025-10-27T08:00:00Z"));
        assert!(!s.is_open(utc("2025-10-27T07:30:00Z")));
    }

    #[test]
    fn a_time_in_the_spring_gap_opens_after_the_gap() {
        let mut weekly = BTreeMap::new();
        weekly.insert("sun".to_owned(), vec!["02:30-05:00".to_owned()]);
        let s = Schedule::parse("Europe/Berlin", &weekly, &[], "");
        // 02:30 does not exist on 30 March 2025 in Berlin; the clock jumps from 02:00 to 03:00 (01:00 UTC).
        assert_eq!(s.next_open(utc("2025-03-29T12:00:00Z")).unwrap(), utc("2025-03-30T01:00:00Z"));
    }

    #[test]
    fn holidays_are_closed_and_skipped() {
        let s = berlin();
        // Thursday 25 December 2025 is a holiday: next opening is Friday 26th 09:00 CET.
        assert!(!s.is_open(utc("2025-12-25T10:00:00Z")));
        assert_eq!(s.next_open(utc("2025-12-24T17:00:00Z")).unwrap(), utc("2025-12-26T08:00:00Z"));
    }

    #[test]
    fn midnight_in_another_time_zone() {
        // A Tokyo team open 00:00-24:00 on Monday only.
        let mut h = HoursConfig::default();
        let mut weekly = BTreeMap::new();
        weekly.insert("mon".to_owned(), vec!["00:00-24:00".to_owned()]);
        h.teams.insert(
            "tokyo".into(),
            TeamHours {
                timezone: "Asia/Tokyo".into(),
                weekly,
                holidays: vec![],
                reply_promise: String::new(),
            },
        );
        let s = Schedule::for_team(&h, "tokyo");
        // Sunday 14:59:59 UTC = Sunday 23:59:59 in Tokyo: closed; one second later it is Monday.
        assert!(!s.is_open(utc("2025-03-02T14:59:59Z")));
        assert!(s.is_open(utc("2025-03-02T15:00:00Z")));
        assert!(s.is_open(utc("2025-03-03T14:59:59Z")), "open until local midnight");
        assert!(!s.is_open(utc("2025-03-03T15:00:00Z")));
        assert_eq!(s.next_open(utc("2025-03-03T15:00:00Z")).unwrap(), utc("2025-03-09T15:00:00Z"));
        // An unknown team falls back to the default schedule.
        assert_eq!(Schedule::for_team(&h, "nope").tz, chrono_tz::Europe::Berlin);
    }

    #[test]
    fn opening_is_described_in_the_visitors_time_zone() {
        let s = berlin();
        let now = utc("2025-03-07T17:00:00Z"); // Friday 18:00 in Berlin
        let next = s.next_open(now).unwrap();
        assert_eq!(describe_opening(next, now, "Europe/Berlin", s.tz), "Monday at 09:00 (Europe/Berlin)");
        assert_eq!(describe_opening(next, now, "Europe/London", s.tz), "Monday at 08:00 (Europe/London)");
        assert_eq!(describe_opening(next, now, "not a zone", s.tz), "Monday at 09:00 (Europe/Berlin)");
        let late = utc("2025-03-03T20:00:00Z");
        assert_eq!(
            describe_opening(s.next_open(late).unwrap(), late, "", s.tz),
            "tomorrow at 09:00 (Europe/Berlin)"
        );
        assert!(Schedule::validate("Mars/Base", &BTreeMap::new(), &[]).is_err());
    }
}
