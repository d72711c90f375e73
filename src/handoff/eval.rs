//! `baton eval --triggers FILE [--json]`: measures the message classifier.
//!
//! The file has one labelled message a line: `{"text", "lang", "expect": "human_request" |
//! "sensitive" | "frustration" | "none", "topic"?}`. A labelled message counts as recalled when
//! its label fires (and, for `sensitive`, the expected topic is among the sensitive findings of
//! the top label); a `none` message is a false escalation when anything fires. With `--json`
//! the last line printed is one JSON object: `{"recall": {"human_request", "sensitive",
//! "frustration"}, "false_escalation", "messages", ...}`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::classify::{self, Classifier, Finding};
use super::Trigger;
use crate::config::{Config, HandoffConfig};
use crate::embed::Embedder;

#[derive(Debug, Clone, Deserialize)]
pub struct Labelled {
    pub text: String,
    #[serde(default)]
    pub lang: String,
    pub expect: String,
    #[serde(default)]
    pub topic: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub recall: BTreeMap<String, f64>,
    pub false_escalation: f64,
    pub messages: usize,
    /// Share of `sensitive` messages whose topic was right.
    pub topic_accuracy: f64,
    pub per_lang: BTreeMap<String, LangRow>,
    #[serde(skip)]
    pub misses: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct LangRow {
    pub messages: usize,
    pub correct: usize,
}

pub fn read(path: &Path) -> anyhow::Result<Vec<Labelled>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

fn label(t: Trigger) -> &'static str {
    t.as_str()
}

/// Scores already-classified messages.
pub fn score(rows: &[(Labelled, Vec<Finding>)]) -> Report {
    let mut hit: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for l in ["human_request", "sensitive", "frustration"] {
        hit.insert(l.to_owned(), (0, 0));
    }
    let (mut none_total, mut none_fired) = (0usize, 0usize);
    let (mut topic_total, mut topic_ok) = (0usize, 0usize);
    let mut per_lang: BTreeMap<String, LangRow> = BTreeMap::new();
    let mut misses = Vec::new();
    for (m, found) in rows {
        let ok = if m.expect == "none" {
            none_total += 1;
            if !found.is_empty() {
                none_fired += 1;
            }
            found.is_empty()
        } else {
            let e = hit.entry(m.expect.clone()).or_insert((0, 0));
            e.1 += 1;
            let yes = found.iter().any(|f| label(f.trigger) == m.expect);
            if yes {
                e.0 += 1;
            }
            if m.expect == "sensitive" {
                if let Some(t) = &m.topic {
                    topic_total += 1;
                    if found.iter().any(|f| f.trigger == Trigger::Sensitive && &f.topic == t) {
                        topic_ok += 1;
                    }
                }
            }
            yes
        };
        let row = per_lang.entry(m.lang.clone()).or_default();
        row.messages += 1;
        if ok {
            row.correct += 1;
        } else {
            let got: Vec<String> = found
                .iter()
                .map(|f| {
                    format!(
                        "{}{}",
                        label(f.trigger),
                        if f.topic.is_empty() { String::new() } else { format!(":{}", f.topic) }
                    )
                })
                .collect();
            misses.push(format!("[{}] expected {} got {:?}: {}", m.lang, m.expect, got, m.text));
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    Report {
        recall: hit.into_iter().map(|(k, (a, b))| (k, ratio(a, b))).collect(),
        false_escalation: if none_total == 0 { 0.0 } else { none_fired as f64 / none_total as f64 },
        messages: rows.len(),
        topic_accuracy: ratio(topic_ok, topic_total),
        per_lang,
        misses,
    }
}

/// Classifies every message with the real model (or the lexicon alone when it is missing).
pub async fn evaluate(embedder: &Embedder, cfg: &HandoffConfig, messages: Vec<Labelled>) -> Report {
    let classifier = Classifier::default();
    let index = match classifier.index(embedder, cfg).await {
        Ok(ix) => Some(ix),
        Err(e) => {
            eprintln!("warning: embedding model unavailable ({e}); measuring the lexicon alone");
            None
        }
    };
    let texts: Vec<String> = messages.iter().map(|m| m.text.clone()).collect();
    let vectors = match &index {
        Some(_) => classify::embed_messages(embedder, &texts).await.ok(),
        None => None,
    };
    let rows: Vec<(Labelled, Vec<Finding>)> = messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| {
            let v = vectors
                .as_ref()
                .and_then(|v| v.get(i))
                .map(|(w, s)| classify::Vectors { whole: w, segments: s });
            let f = classify::classify(&m.text, v, index.as_deref(), cfg);
            (m, f)
        })
        .collect();
    score(&rows)
}

/// Writes, per message, what the learned heads see: the message vector, its clauses' vectors
/// and the lexicon cues (JSON lines, for `benches/triggers/train.py`).
pub async fn dump_features(
    embedder: &Embedder,
    cfg: &HandoffConfig,
    messages: &[Labelled],
    out: &Path,
) -> anyhow::Result<()> {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(out)?);
    let texts: Vec<String> = messages.iter().map(|m| m.text.clone()).collect();
    let vectors = classify::embed_messages(embedder, &texts).await?;
    for (m, (whole, segments)) in messages.iter().zip(vectors) {
        let cues: Vec<serde_json::Value> = super::lexicon::cues(&m.text, &cfg.topics)
            .into_iter()
            .map(|c| serde_json::json!({"label": c.label, "name": c.name, "strong": c.strong}))
            .collect();
        let line = serde_json::json!({"text": m.text, "vector": whole, "segments": segments, "cues": cues});
        writeln!(f, "{line}")?;
    }
    f.flush()?;
    Ok(())
}

/// `baton eval --triggers FILE [--json] [--features OUT]`.
pub async fn run(
    config: &Config,
    path: &Path,
    json: bool,
    features: Option<&Path>,
) -> anyhow::Result<Report> {
    let messages = read(path)?;
    let embedder = Embedder::load_default(config.limits.embed_queue)?;
    if let Some(out) = features {
        dump_features(&embedder, &config.handoff, &messages, out).await?;
    }
    let report = evaluate(&embedder, &config.handoff, messages).await;
    for m in &report.misses {
        println!("miss {m}");
    }
    for (k, v) in &report.recall {
        println!("recall {k:<14} {v:.3}");
    }
    println!("false escalation    {:.3}", report.false_escalation);
    println!("sensitive topic ok  {:.3}", report.topic_accuracy);
    for (lang, r) in &report.per_lang {
        println!("lang {lang:<3} {}/{}", r.correct, r.messages);
    }
    println!("messages            {}", report.messages);
    if json {
        println!("{}", serde_json::to_string(&report)?);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(t: Trigger, topic: &str) -> Finding {
        Finding {
            trigger: t,
            topic: topic.into(),
            evidence: String::new(),
            score: 0.1,
            reason: String::new(),
        }
    }

    #[test]
    fn recall_and_false_escalation_are_counted() {
        let l = |expect: &str, topic: Option<&str>| Labelled {
            text: "x".into(),
            lang: "en".into(),
            expect: expect.into(),
            topic: topic.map(Into::into),
        };
        let rows = vec![
            (l("human_request", None), vec![f(Trigger::HumanRequest, "")]),
            (l("human_request", None), vec![]),
            (l("sensitive", Some("billing")), vec![f(Trigger::Sensitive, "security")]),
            (l("none", None), vec![]),
            (l("none", None), vec![f(Trigger::Frustration, "")]),
        ];
        let r = score(&rows);
        assert_eq!(r.recall["human_request"], 0.5);
        assert_eq!(r.recall["sensitive"], 1.0);
        assert_eq!(r.topic_accuracy, 0.0);
        assert_eq!(r.recall["frustration"], 1.0, "no examples counts as nothing missed");
        assert_eq!(r.false_escalation, 0.5);
        let json: serde_json::Value = serde_json::to_value(&r).unwrap();
        assert!(json["recall"]["sensitive"].is_number() && json["messages"] == 5);
    }
}
