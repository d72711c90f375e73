//! Support metrics for a period, as pure functions over conversations and their messages.
//!
//! Definitions (what the console shows, and what the tests check by hand):
//! - **Conversations**: created in `[from, to)` with at least one visitor message.
//! - **Handed off**: has at least one `handoff` event line; its trigger is the first handoff's
//!   `data.trigger` (falling back to `Conversation.handoff`).
//! - **AI-resolved**: not handed off, no AI answer rated "not helpful", at least one AI answer.
//! - **Time to first human response**: first handoff event → first agent text after it.
//! - **Time to resolution**: `created_at` → `resolved_at`, for conversations resolved.
//! - Percentiles use the nearest-rank method (`p50` of 1,2,3,4 is 2; `p90` of 1..=10 is 9).
//! - **Queue size**: at the end of each bucket, how many conversations were waiting for a
//!   human: after a handoff event and before the next agent text, `resolved` or
//!   `handed_back` event. Every conversation counts, also those created before the period.
//! - **Answer ratings**: AI answers given in the period, by the visitor's rating.
//! - **Top topics**: topics of handoffs (sensitive topics, rule topics), most frequent first.
//! - **CSAT**: the 1–5 rating of conversations created in the period; "satisfied" is 4 or 5.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use poem_openapi::Object;
use serde::Serialize;

use crate::conversation::{Author, Body, Conversation, Message, Rating};

/// A conversation with its whole thread.
#[derive(Debug, Clone)]
pub struct Thread {
    pub conversation: Conversation,
    pub messages: Vec<Message>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Object)]
pub struct Durations {
    /// How many values.
    pub count: u32,
    /// Median, seconds (nearest rank); absent without values.
    pub median_secs: Option<i64>,
    /// 90th percentile, seconds (nearest rank).
    pub p90_secs: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct Count {
    pub key: String,
    pub count: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Object)]
pub struct Ratings {
    pub helpful: u32,
    pub not_helpful: u32,
    pub unrated: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Object)]
pub struct CsatSummary {
    pub count: u32,
    /// Mean score, 1..5.
    pub average: Option<f64>,
    /// Ratings of 1, 2, 3, 4, 5.
    pub distribution: Vec<u32>,
    /// Share of 4 and 5 (0..1).
    pub satisfied_share: Option<f64>,
}

/// One bucket of the time series.
#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct Point {
    pub start: DateTime<Utc>,
    pub conversations: u32,
    pub handed_off: u32,
    pub ai_resolved: u32,
    /// Conversations waiting for a human at the end of the bucket.
    pub queue: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Object)]
pub struct Metrics {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub conversations: u32,
    pub ai_resolved: u32,
    /// `ai_resolved / conversations` (0..1).
    pub ai_resolved_share: f64,
    pub handed_off: u32,
    /// `handed_off / conversations` (0..1).
    pub handoff_rate: f64,
    /// Handoffs by trigger, most frequent first.
    pub handoffs_by_trigger: Vec<Count>,
    pub first_response: Durations,
    pub resolution: Durations,
    pub ratings: Ratings,
    pub top_topics: Vec<Count>,
    pub csat: CsatSummary,
    pub bucket_secs: i64,
    pub series: Vec<Point>,
}

/// The nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

fn durations(mut v: Vec<i64>) -> Durations {
    v.sort_unstable();
    Durations { count: v.len() as u32, median_secs: percentile(&v, 50.0), p90_secs: percentile(&v, 90.0) }
}

fn is_visitor_text(m: &Message) -> bool {
    matches!((&m.author, &m.body), (Author::Visitor(_), Body::Text(_)))
}

fn is_agent_text(m: &Message) -> bool {
    matches!((&m.author, &m.body), (Author::Agent(_), Body::Text(_)))
}

fn event_name(m: &Message) -> Option<&str> {
    match &m.body {
        Body::Event(e) => Some(e.event.as_str()),
        _ => None,
    }
}

/// What one thread says, independent of the period.
struct Facts<'a> {
    t: &'a Thread,
    first_handoff: Option<&'a Message>,
    trigger: String,
    unhelpful: bool,
    answered: bool,
}

impl<'a> Facts<'a> {
    fn of(t: &'a Thread) -> Facts<'a> {
        let first_handoff = t.messages.iter().find(|m| event_name(m) == Some("handoff"));
        let trigger = first_handoff
            .and_then(|m| match &m.body {
                Body::Event(e) => e.data.get("trigger").and_then(|v| v.as_str()).map(str::to_owned),
                _ => None,
            })
            .or_else(|| t.conversation.handoff.as_ref().map(|h| h.trigger.clone()))
            .unwrap_or_default();
        Facts {
            t,
            first_handoff,
            trigger,
            unhelpful: t.messages.iter().any(|m| m.rating == Some(Rating::NotHelpful)),
            answered: t.messages.iter().any(|m| matches!(m.body, Body::Answer(_))),
        }
    }

    fn handed_off(&self) -> bool {
        self.first_handoff.is_some() || self.t.conversation.handoff.is_some()
    }

    fn ai_resolved(&self) -> bool {
        !self.handed_off() && !self.unhelpful && self.answered
    }

    fn counted(&self) -> bool {
        self.t.messages.iter().any(is_visitor_text)
    }

    /// Intervals during which the conversation waited for a human.
    fn waiting(&self) -> Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> {
        let mut out = Vec::new();
        let mut start: Option<DateTime<Utc>> = None;
        for m in &self.t.messages {
            match event_name(m) {
                Some("handoff") if start.is_none() => start = Some(m.at),
                Some("resolved") | Some("handed_back") => {
                    if let Some(s) = start.take() {
                        out.push((s, Some(m.at)));
                    }
                }
                _ => {
                    if is_agent_text(m) {
                        if let Some(s) = start.take() {
                            out.push((s, Some(m.at)));
                        }
                    }
                }
            }
        }
        if let Some(s) = start {
            out.push((s, None));
        }
        out
    }
}

fn share(a: u32, b: u32) -> f64 {
    if b == 0 {
        0.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

fn sorted_counts(map: BTreeMap<String, u32>, limit: usize) -> Vec<Count> {
    let mut v: Vec<Count> = map.into_iter().map(|(key, count)| Count { key, count }).collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    v.truncate(limit);
    v
}

/// A bucket size that gives a readable chart: hours up to 2 days, days up to 92 days, else weeks.
pub fn bucket_for(from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
    let span = to - from;
    if span <= Duration::days(2) {
        Duration::hours(1)
    } else if span <= Duration::days(92) {
        Duration::days(1)
    } else {
        Duration::weeks(1)
    }
}

/// All metrics for `[from, to)`, with a time series in buckets of `bucket`.
pub fn compute(threads: &[Thread], from: DateTime<Utc>, to: DateTime<Utc>, bucket: Duration) -> Metrics {
    let facts: Vec<Facts> = threads.iter().map(Facts::of).collect();
    let in_period = |at: DateTime<Utc>| at >= from && at < to;
    let period: Vec<&Facts> =
        facts.iter().filter(|f| f.counted() && in_period(f.t.conversation.created_at)).collect();

    let conversations = period.len() as u32;
    let ai_resolved = period.iter().filter(|f| f.ai_resolved()).count() as u32;
    let handed_off = period.iter().filter(|f| f.handed_off()).count() as u32;

    let mut by_trigger = BTreeMap::new();
    let mut topics = BTreeMap::new();
    let mut first_response = Vec::new();
    let mut resolution = Vec::new();
    let mut csat = CsatSummary { distribution: vec![0; 5], ..Default::default() };
    let mut csat_sum = 0u32;
    for f in &period {
        if f.handed_off() {
            let trigger = if f.trigger.is_empty() { "unknown".to_owned() } else { f.trigger.clone() };
            *by_trigger.entry(trigger).or_insert(0) += 1;
        }
        for m in &f.t.messages {
            if let Body::Event(e) = &m.body {
                if e.event == "handoff" {
                    if let Some(topic) =
                        e.data.get("topic").and_then(|v| v.as_str()).filter(|t| !t.is_empty())
                    {
                        *topics.entry(topic.to_owned()).or_insert(0) += 1;
                    }
                }
            }
        }
        if let Some(h) = f.first_handoff {
            if let Some(reply) = f.t.messages.iter().find(|m| m.seq > h.seq && is_agent_text(m)) {
                first_response.push((reply.at - h.at).num_seconds());
            }
        }
        if let Some(r) = f.t.conversation.resolved_at {
            resolution.push((r - f.t.conversation.created_at).num_seconds());
        }
        if let Some(c) = &f.t.conversation.csat {
            if (1..=5).contains(&c.score) {
                csat.count += 1;
                csat_sum += u32::from(c.score);
                csat.distribution[usize::from(c.score) - 1] += 1;
            }
        }
    }
    if csat.count > 0 {
        csat.average = Some(f64::from(csat_sum) / f64::from(csat.count));
        csat.satisfied_share = Some(share(csat.distribution[3] + csat.distribution[4], csat.count));
    }

    let mut ratings = Ratings::default();
    for f in &facts {
        for m in &f.t.messages {
            if matches!(m.body, Body::Answer(_)) && in_period(m.at) {
                match m.rating {
                    Some(Rating::Helpful) => ratings.helpful += 1,
                    Some(Rating::NotHelpful) => ratings.not_helpful += 1,
                    None => ratings.unrated += 1,
                }
            }
        }
    }

    let waiting: Vec<(DateTime<Utc>, Option<DateTime<Utc>>)> =
        facts.iter().flat_map(|f| f.waiting()).collect();
    let bucket = if bucket <= Duration::zero() { bucket_for(from, to) } else { bucket };
    let mut series = Vec::new();
    let mut start = from;
    while start < to {
        let end = (start + bucket).min(to);
        let in_bucket: Vec<&&Facts> = period
            .iter()
            .filter(|f| f.t.conversation.created_at >= start && f.t.conversation.created_at < end)
            .collect();
        // "At the end of the bucket": waiting started before `end` and had not ended by then.
        let queue = waiting.iter().filter(|(s, e)| *s < end && e.map(|e| e >= end).unwrap_or(true)).count();
        series.push(Point {
            start,
            conversations: in_bucket.len() as u32,
            handed_off: in_bucket.iter().filter(|f| f.handed_off()).count() as u32,
            ai_resolved: in_bucket.iter().filter(|f| f.ai_resolved()).count() as u32,
            queue: queue as u32,
        });
        start = end;
    }

    Metrics {
        from,
        to,
        conversations,
        ai_resolved,
        ai_resolved_share: share(ai_resolved, conversations),
        handed_off,
        handoff_rate: share(handed_off, conversations),
        handoffs_by_trigger: sorted_counts(by_trigger, 20),
        first_response: durations(first_response),
        resolution: durations(resolution),
        ratings,
        top_topics: sorted_counts(topics, 10),
        csat,
        bucket_secs: bucket.num_seconds(),
        series,
    }
}

fn csv_field(s: &str) -> String {
    // Leading =, +, -, @ would be formulas in a spreadsheet.
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn opt(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The metrics as CSV: a `metric,value` table, then the time series.
pub fn to_csv(m: &Metrics) -> String {
    let mut rows: Vec<(String, String)> = vec![
        ("from".into(), m.from.to_rfc3339()),
        ("to".into(), m.to.to_rfc3339()),
        ("conversations".into(), m.conversations.to_string()),
        ("ai_resolved".into(), m.ai_resolved.to_string()),
        ("ai_resolved_share".into(), format!("{:.4}", m.ai_resolved_share)),
        ("handed_off".into(), m.handed_off.to_string()),
        ("handoff_rate".into(), format!("{:.4}", m.handoff_rate)),
        ("first_response_median_secs".into(), opt(m.first_response.median_secs)),
        ("first_response_p90_secs".into(), opt(m.first_response.p90_secs)),
        ("resolution_median_secs".into(), opt(m.resolution.median_secs)),
        ("resolution_p90_secs".into(), opt(m.resolution.p90_secs)),
        ("ratings_helpful".into(), m.ratings.helpful.to_string()),
        ("ratings_not_helpful".into(), m.ratings.not_helpful.to_string()),
        ("ratings_unrated".into(), m.ratings.unrated.to_string()),
        ("csat_count".into(), m.csat.count.to_string()),
        ("csat_average".into(), opt(m.csat.average.map(|a| format!("{a:.2}")))),
    ];
    for c in &m.handoffs_by_trigger {
        rows.push((format!("handoffs_trigger_{}", c.key), c.count.to_string()));
    }
    for c in &m.top_topics {
        rows.push((format!("topic_{}", c.key), c.count.to_string()));
    }
    let mut out = String::from("metric,value\r\n");
    for (k, v) in rows {
        out.push_str(&format!("{},{}\r\n", csv_field(&k), csv_field(&v)));
    }
    out.push_str("\r\nbucket_start,conversations,handed_off,ai_resolved,queue\r\n");
    for p in &m.series {
        out.push_str(&format!(
            "{},{},{},{},{}\r\n",
            p.start.to_rfc3339(),
            p.conversations,
            p.handed_off,
            p.ai_resolved,
            p.queue
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Answer;
    use crate::conversation::{AnswerBody, Csat, EventBody, Handoff, TextBody, VisitorContext};
    use crate::ids::{ConversationId, UserId, VisitorId};

    fn t0() -> DateTime<Utc> {
        "2026-03-02T00:00:00Z".parse().unwrap()
    }

    struct B {
        t: Thread,
    }

    impl B {
        fn new(id: &str, created: DateTime<Utc>) -> B {
            B {
                t: Thread {
                    conversation: Conversation {
                        id: ConversationId::from(id),
                        visitor_seen_at: None,
                        ..Conversation::blank(VisitorId::from("v"), VisitorContext::default(), created)
                    },
                    messages: Vec::new(),
                },
            }
        }
        fn push(mut self, at: DateTime<Utc>, author: Author, body: Body, rating: Option<Rating>) -> B {
            let seq = self.t.messages.len() as u64 + 1;
            self.t.messages.push(Message {
                seq,
                at,
                author,
                body,
                page: None,
                rating,
                client_id: String::new(),
            });
            self.t.conversation.last_seq = seq;
            self
        }
        fn visitor(self, at: DateTime<Utc>) -> B {
            self.push(at, Author::visitor(), Body::Text(TextBody { text: "How do I do this?".into() }), None)
        }
        fn answer(self, at: DateTime<Utc>, unsure: bool, rating: Option<Rating>) -> B {
            let answer = Answer {
                text: "Like so.".into(),
                blocks: vec![],
                citations: vec![],
                confidence: 0.4,
                unsure,
            };
            let reply_to = self.t.messages.len() as u64;
            self.push(at, Author::ai(), Body::Answer(AnswerBody { answer, reply_to }), rating)
        }
        fn handoff(mut self, at: DateTime<Utc>, trigger: &str, topic: &str) -> B {
            self.t.conversation.handoff = Some(Handoff {
                trigger: trigger.into(),
                topic: topic.into(),
                reason: "r".into(),
                at,
                team: String::new(),
            });
            let data = serde_json::json!({"trigger": trigger, "topic": topic});
            self.push(
                at,
                Author::system(),
                Body::Event(EventBody { event: "handoff".into(), text: "Handed off".into(), data }),
                None,
            )
        }
        fn agent(self, at: DateTime<Utc>) -> B {
            self.push(
                at,
                Author::agent(UserId::from("u"), "Ana"),
                Body::Text(TextBody { text: "Hi, I can help.".into() }),
                None,
            )
        }
        fn resolved(mut self, at: DateTime<Utc>, csat: Option<u8>) -> B {
            self.t.conversation.resolved_at = Some(at);
            self.t.conversation.csat = csat.map(|score| Csat { score, comment: String::new(), at });
            self.push(
                at,
                Author::system(),
                Body::Event(EventBody {
                    event: "resolved".into(),
                    text: "Resolved".into(),
                    data: Default::default(),
                }),
                None,
            )
        }
    }

    /// A fixed history; every expected value below is computed by hand in the comments.
    fn history() -> Vec<Thread> {
        let (h, m, d) = (Duration::hours, Duration::minutes, Duration::days);
        let t = t0();
        vec![
            // A: answered, rated helpful, no handoff -> AI-resolved.
            B::new("A", t + h(1)).visitor(t + h(1)).answer(t + h(1), false, Some(Rating::Helpful)).t,
            // B: unsure -> handoff; agent after 600 s; resolved after 3600 s; CSAT 5.
            B::new("B", t + h(2))
                .visitor(t + h(2))
                .answer(t + h(2), true, None)
                .handoff(t + h(2) + m(1), "unsure", "")
                .agent(t + h(2) + m(11))
                .resolved(t + h(3), Some(5))
                .t,
            // C: sensitive billing handoff; answer rated unhelpful; agent after 1800 s;
            // resolved after 7200 s; CSAT 2.
            B::new("C", t + d(1))
                .visitor(t + d(1))
                .handoff(t + d(1), "sensitive", "billing")
                .answer(t + d(1), false, Some(Rating::NotHelpful))
                .agent(t + d(1) + m(30))
                .resolved(t + d(1) + h(2), Some(2))
                .t,
            // D: answer rated unhelpful, no handoff: neither AI-resolved nor handed off.
            B::new("D", t + d(1) + h(5))
                .visitor(t + d(1) + h(5))
                .answer(t + d(1) + h(5), false, Some(Rating::NotHelpful))
                .t,
            // H: frustration handoff at day 1 21:00, agent at day 2 01:00 (14400 s): waiting at the end of day 1.
            B::new("H", t + d(1) + h(20))
                .visitor(t + d(1) + h(20))
                .handoff(t + d(1) + h(21), "frustration", "")
                .agent(t + d(2) + h(1))
                .t,
            // E: human request on day 2, nobody answered yet: waiting at the end of day 2.
            B::new("E", t + d(2)).visitor(t + d(2)).handoff(t + d(2) + m(10), "human_request", "").t,
            // F: created before the period; not counted, but waits in the queue until 01:30 on day 0.
            B::new("F", t - d(1))
                .visitor(t - d(1))
                .handoff(t - d(1) + h(1), "button", "")
                .agent(t + h(1) + m(30))
                .t,
            // G: the widget was opened but nothing was asked: not counted.
            B::new("G", t + h(10)).t,
        ]
    }

    #[test]
    fn metrics_on_a_fixed_history_match_hand_computed_values() {
        let m = compute(&history(), t0(), t0() + Duration::days(3), Duration::days(1));
        assert_eq!(m.conversations, 6, "A B C D H E");
        assert_eq!(m.ai_resolved, 1, "only A");
        assert!((m.ai_resolved_share - 1.0 / 6.0).abs() < 1e-9);
        assert_eq!(m.handed_off, 4, "B C H E");
        assert!((m.handoff_rate - 4.0 / 6.0).abs() < 1e-9);
        let triggers: Vec<(&str, u32)> =
            m.handoffs_by_trigger.iter().map(|c| (c.key.as_str(), c.count)).collect();
        assert_eq!(triggers, vec![("frustration", 1), ("human_request", 1), ("sensitive", 1), ("unsure", 1)]);
        // First responses 600, 1800, 14400: nearest-rank p50 = 2nd value, p90 = 3rd.
        assert_eq!(m.first_response, Durations { count: 3, median_secs: Some(1800), p90_secs: Some(14400) });
        // Resolutions 3600, 7200: p50 = 1st, p90 = 2nd.
        assert_eq!(m.resolution, Durations { count: 2, median_secs: Some(3600), p90_secs: Some(7200) });
        assert_eq!(m.ratings, Ratings { helpful: 1, not_helpful: 2, unrated: 1 });
        assert_eq!(m.top_topics, vec![Count { key: "billing".into(), count: 1 }]);
        assert_eq!(m.csat.count, 2);
        assert_eq!(m.csat.average, Some(3.5));
        assert_eq!(m.csat.distribution, vec![0, 1, 0, 0, 1]);
        assert_eq!(m.csat.satisfied_share, Some(0.5));
        let series: Vec<(u32, u32, u32, u32)> =
            m.series.iter().map(|p| (p.conversations, p.handed_off, p.ai_resolved, p.queue)).collect();
        // Day 0: A, B (B handed off, A AI-resolved); F and B waited but not at midnight.
        // Day 1: C, D, H (C, H handed off); H waits at midnight. Day 2: E, still waiting.
        assert_eq!(series, vec![(2, 1, 1, 0), (3, 2, 0, 1), (1, 1, 0, 1)]);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
        assert_eq!(percentile(&(1..=10).collect::<Vec<_>>(), 90.0), Some(9));
        assert_eq!(percentile(&[7], 90.0), Some(7));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn csv_has_the_numbers_and_is_safe_for_spreadsheets() {
        let m = compute(&history(), t0(), t0() + Duration::days(3), Duration::days(1));
        let csv = to_csv(&m);
        assert!(csv.starts_with("metric,value\r\n"));
        assert!(csv.contains("conversations,6\r\n"), "{csv}");
        assert!(csv.contains("first_response_median_secs,1800\r\n"));
        assert!(csv.contains("topic_billing,1\r\n"));
        assert!(csv.contains("2026-03-03T00:00:00+00:00,3,2,0,1\r\n"), "{csv}");
        assert_eq!(csv_field(r#"=HYPERLINK("x")"#), r#""'=HYPERLINK(""x"")""#);
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
