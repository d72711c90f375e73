//! The learned half of the message classifier: one calibrated logistic head per trigger over
//! the e5 vector Baton already computes for every visitor message.
//!
//! Trained offline by `benches/triggers/train.py` on the labelled multilingual messages in
//! `benches/triggers/data/` (held-out figures in `benches/triggers/heldout.json` and
//! `BENCHMARKS.md`) and shipped as `head.json`. A head is `p = sigmoid(a · (w · x + b) + c)`:
//! the logistic score, Platt-calibrated on out-of-fold scores, so a threshold is a probability.
//!
//! A long message is also scored clause by clause ([`segments`]) and a head takes the best of
//! the whole message and its clauses: "…I read the article twice and still don't get it, can
//! someone call me?" is a request for a person even though most of its words are not.

use std::sync::OnceLock;

use serde::Deserialize;

/// At most this many clauses of one message are embedded and scored.
pub const MAX_SEGMENTS: usize = 4;
/// Messages shorter than this are scored whole only.
const MIN_SEGMENTED_CHARS: usize = 60;
/// A clause shorter than this is merged into the next one.
const MIN_SEGMENT_CHARS: usize = 25;

/// The clauses a long message is also scored by: split after sentence ends and at commas and
/// dashes between clauses, fragments merged forward; the last [`MAX_SEGMENTS`] are kept
/// (requests tend to come last). Empty when the message is short or one clause.
pub fn segments(text: &str) -> Vec<String> {
    let text = text.trim();
    if text.chars().count() < MIN_SEGMENTED_CHARS {
        return Vec::new();
    }
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        cur.push(c);
        let next = chars.get(i + 1).copied();
        let boundary = match c {
            '.' | '!' | '?' | ';' | '…' => next.is_none_or(char::is_whitespace),
            '。' | '？' | '！' => true,
            ',' => {
                next.is_some_and(char::is_whitespace) && chars.get(i + 2).is_some_and(|c| c.is_alphanumeric())
            }
            '-' | '–' | '—' => {
                i > 0 && chars[i - 1].is_whitespace() && next.is_some_and(char::is_whitespace)
            }
            _ => false,
        };
        if boundary {
            let t = cur.trim().trim_end_matches([',', '-', '–', '—']).trim().to_owned();
            if !t.is_empty() {
                parts.push(t);
            }
            cur.clear();
        }
    }
    let t = cur.trim().to_owned();
    if !t.is_empty() {
        parts.push(t);
    }
    let mut merged: Vec<String> = Vec::new();
    for p in parts {
        match merged.last_mut() {
            Some(last) if last.chars().count() < MIN_SEGMENT_CHARS => {
                last.push(' ');
                last.push_str(&p);
            }
            _ => merged.push(p),
        }
    }
    if merged.len() < 2 {
        return Vec::new();
    }
    let skip = merged.len().saturating_sub(MAX_SEGMENTS);
    merged.into_iter().skip(skip).collect()
}

/// One calibrated head.
#[derive(Debug, Clone, Deserialize)]
pub struct Head {
    pub w: Vec<f32>,
    pub b: f32,
    /// Platt scaling of the logistic score.
    pub a: f32,
    pub c: f32,
    /// Operating point: fire when `p >= threshold`.
    pub threshold: f32,
    /// Lower operating point when a weak lexicon cue agrees.
    pub cue_threshold: f32,
    /// Whether clauses of a long message count (chosen on held-out folds per label).
    #[serde(default)]
    pub segments: bool,
}

impl Head {
    pub fn probability(&self, x: &[f32]) -> f32 {
        let s: f32 = self.w.iter().zip(x).map(|(w, x)| w * x).sum::<f32>() + self.b;
        1.0 / (1.0 + (-(self.a * s + self.c)).exp())
    }
}

/// A multinomial head over the sensitive topics, for the topic of a sensitive message.
#[derive(Debug, Clone, Deserialize)]
pub struct TopicHead {
    pub topics: Vec<String>,
    /// One weight row per topic.
    pub w: Vec<Vec<f32>>,
    pub b: Vec<f32>,
}

impl TopicHead {
    /// Topic scores (softmax probabilities), in `topics` order.
    pub fn probabilities(&self, x: &[f32]) -> Vec<f32> {
        let z: Vec<f32> = self
            .w
            .iter()
            .zip(&self.b)
            .map(|(w, b)| w.iter().zip(x).map(|(w, x)| w * x).sum::<f32>() + b)
            .collect();
        let m = z.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f32> = z.iter().map(|z| (z - m).exp()).collect();
        let sum: f32 = e.iter().sum();
        e.into_iter().map(|v| v / sum).collect()
    }
}

/// Centroid of one kind of positive message ("asked for a call", "describes an account
/// takeover"), for the reason shown to agents.
#[derive(Debug, Clone, Deserialize)]
pub struct Kind {
    pub label: String,
    pub name: String,
    pub reason: String,
    pub centroid: Vec<f32>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Heads {
    pub dim: usize,
    pub human_request: Head,
    pub sensitive: Head,
    pub frustration: Head,
    pub topic: TopicHead,
    #[serde(default)]
    pub kinds: Vec<Kind>,
}

impl Heads {
    /// The most similar kind of `label` to `x`, if any.
    pub fn kind(&self, label: &str, x: &[f32]) -> Option<&Kind> {
        self.kinds
            .iter()
            .filter(|k| k.label == label)
            .map(|k| (k, k.centroid.iter().zip(x).map(|(a, b)| a * b).sum::<f32>()))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(k, _)| k)
    }
}

/// The shipped heads, parsed once; `None` when the file is missing or malformed (then the
/// exemplar margins decide, as before).
pub fn shipped() -> Option<&'static Heads> {
    static H: OnceLock<Option<Heads>> = OnceLock::new();
    H.get_or_init(|| {
        let h: Heads = match serde_json::from_str(include_str!("head.json")) {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "src/handoff/head.json does not parse; using exemplar margins");
                return None;
            }
        };
        let ok = [&h.human_request, &h.sensitive, &h.frustration].iter().all(|x| x.w.len() == h.dim)
            && h.topic.w.len() == h.topic.topics.len()
            && h.topic.w.iter().all(|r| r.len() == h.dim);
        ok.then_some(h)
    })
    .as_ref()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_messages_are_one_segment() {
        assert!(segments("can I talk to a person?").is_empty());
        assert!(segments("I have a question about my invoice from March, please.").is_empty());
    }

    #[test]
    fn long_messages_split_into_clauses_and_keep_the_last() {
        let s = segments(
            "So I've been trying to figure out why my invoice shows two charges. I read the help \
             article about prorating and I still don't get it, could someone from billing call me?",
        );
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s.last().unwrap(), "could someone from billing call me?");
        let many = "One thing is wrong here. Another thing is wrong too. A third thing is also wrong. \
                    A fourth thing broke today. And a fifth: can a person call me?";
        let s = segments(many);
        assert_eq!(s.len(), MAX_SEGMENTS);
        assert!(s.last().unwrap().ends_with("call me?"));
    }

    #[test]
    fn decimals_and_hyphens_do_not_split() {
        let s = segments("the price went from 9.99 to 12.50 on my well-known plan, why is that so high now");
        assert!(s.iter().all(|p| !p.starts_with("99") && !p.starts_with("known")), "{s:?}");
    }
}
