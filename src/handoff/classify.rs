//! The message classifier behind the `human_request`, `sensitive` and `frustration` triggers.
//!
//! Two kinds of evidence, combined per label:
//!
//! 1. **Exemplars and a margin.** The message is embedded (multilingual-e5-small, `query:`) and
//!    compared with exemplar phrases per label (`defaults.toml` plus admin topics) and with a
//!    `neutral` set of ordinary questions, including ones that mention billing, passwords or
//!    humans without asking for a person. A label's score is the mean cosine of its two nearest
//!    exemplars minus that of the two nearest neutral ones. Because the neutral set holds the
//!    look-alikes, "How do I reset my password?" sits closer to neutral than to account access.
//!    The label fires when the score clears its margin (`[handoff] *_margin`).
//! 2. **Small multilingual lexicons** ([`super::lexicon`]): a short request that is just a
//!    person noun ("human", "Mensch bitte", "humano"), a talk/connect verb with a person noun,
//!    topic keywords, anger cues (shouting in capitals, `!!!`, insults). A short request or an
//!    anger cue fires on its own; other cues lower the margin to `cue_margin`, so they only count
//!    when the message is also at least as close to the label as to ordinary questions.
//!
//! Exemplars are embedded once, lazily, and cached; the cache key is the topic configuration,
//! so an admin adding a topic rebuilds it. When the model is unavailable the lexicon alone
//! decides (and says so in the reason).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use super::lexicon::{self, Cue};
use super::Trigger;
use crate::config::HandoffConfig;
use crate::embed::{Embedder, Kind};
use crate::handoff::rules::TopicConfig;

const K: usize = 2;

/// The exemplar phrases shipped with Baton.
#[derive(Debug, Clone, Deserialize)]
pub struct Exemplars {
    pub human_request: Vec<String>,
    pub frustration: Vec<String>,
    pub neutral: Vec<String>,
    pub topics: BTreeMap<String, TopicConfig>,
}

pub fn builtin() -> &'static Exemplars {
    static E: std::sync::OnceLock<Exemplars> = std::sync::OnceLock::new();
    E.get_or_init(|| {
        toml::from_str(include_str!("defaults.toml")).expect("src/handoff/defaults.toml is valid")
    })
}

/// Embedded exemplar sets.
pub struct Index {
    key: String,
    human_request: Vec<Vec<f32>>,
    frustration: Vec<Vec<f32>>,
    neutral: Vec<Vec<f32>>,
    /// topic name -> vectors
    topics: Vec<(String, Vec<Vec<f32>>)>,
}

/// A label the classifier found, with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub trigger: Trigger,
    pub topic: String,
    /// Machine-readable: `lexicon:<cue>`, `embedding`, `embedding+lexicon:<cue>`.
    pub evidence: String,
    pub score: f32,
    /// A sentence for the agent.
    pub reason: String,
}

/// The cached classifier (one per process, on [`super::Runtime`]).
#[derive(Default)]
pub struct Classifier {
    index: tokio::sync::Mutex<Option<Arc<Index>>>,
}

fn topic_key(topics: &BTreeMap<String, TopicConfig>) -> String {
    serde_json::to_string(topics).unwrap_or_default()
}

fn topic_examples(name: &str, cfg: &TopicConfig) -> Vec<String> {
    let mut v: Vec<String> = builtin().topics.get(name).map(|t| t.examples.clone()).unwrap_or_default();
    v.extend(cfg.examples.iter().filter(|e| !e.trim().is_empty()).cloned());
    v
}

impl Classifier {
    /// The exemplar index for this topic configuration, embedding it on first use.
    pub async fn index(
        &self,
        embedder: &Embedder,
        cfg: &HandoffConfig,
    ) -> Result<Arc<Index>, crate::embed::EmbedError> {
        let key = topic_key(&cfg.topics);
        let mut guard = self.index.lock().await;
        if let Some(ix) = guard.as_ref() {
            if ix.key == key {
                return Ok(ix.clone());
            }
        }
        let ix = Arc::new(build_index(embedder, cfg, key).await?);
        *guard = Some(ix.clone());
        Ok(ix)
    }
}

async fn build_index(
    embedder: &Embedder,
    cfg: &HandoffConfig,
    key: String,
) -> Result<Index, crate::embed::EmbedError> {
    let b = builtin();
    let embed = |v: Vec<String>| async move {
        if v.is_empty() {
            Ok(Vec::new())
        } else {
            embedder.embed(v, Kind::Query).await
        }
    };
    let human_request = embed(b.human_request.clone()).await?;
    let frustration = embed(b.frustration.clone()).await?;
    let neutral = embed(b.neutral.clone()).await?;
    let mut topics = Vec::new();
    for (name, t) in &cfg.topics {
        let ex = topic_examples(name, t);
        if !ex.is_empty() {
            topics.push((name.clone(), embed(ex).await?));
        }
    }
    Ok(Index { key, human_request, frustration, neutral, topics })
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Mean cosine of the `K` nearest vectors (vectors are L2-normalised).
fn nearest(set: &[Vec<f32>], q: &[f32]) -> f32 {
    if set.is_empty() {
        return -1.0;
    }
    let mut s: Vec<f32> = set.iter().map(|v| dot(v, q)).collect();
    s.sort_by(|a, b| b.total_cmp(a));
    let k = K.min(s.len());
    s[..k].iter().sum::<f32>() / k as f32
}

/// Cosine similarity of two normalised vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b)
}

/// Margins of the message over the neutral set, per label.
pub struct Scores {
    pub human_request: f32,
    pub frustration: f32,
    pub topics: Vec<(String, f32)>,
}

impl Index {
    /// An index from precomputed vectors (tests, offline tools).
    pub fn from_parts(
        human_request: Vec<Vec<f32>>,
        frustration: Vec<Vec<f32>>,
        neutral: Vec<Vec<f32>>,
        topics: Vec<(String, Vec<Vec<f32>>)>,
    ) -> Index {
        Index { key: String::new(), human_request, frustration, neutral, topics }
    }

    pub fn scores(&self, q: &[f32]) -> Scores {
        let n = nearest(&self.neutral, q);
        Scores {
            human_request: nearest(&self.human_request, q) - n,
            frustration: nearest(&self.frustration, q) - n,
            topics: self.topics.iter().map(|(t, v)| (t.clone(), nearest(v, q) - n)).collect(),
        }
    }
}

fn topic_label(cfg: &HandoffConfig, topic: &str) -> String {
    cfg.topics
        .get(topic)
        .map(|t| t.label.clone())
        .filter(|l| !l.is_empty())
        .unwrap_or_else(|| topic.replace('_', " "))
}

/// Classifies one message. `embedding` is the message's query vector and `index` the exemplar
/// index; either may be missing (model unavailable), then only the lexicon decides.
/// Returns every label that fired, strongest evidence first.
pub fn classify(
    text: &str,
    embedding: Option<&[f32]>,
    index: Option<&Index>,
    cfg: &HandoffConfig,
) -> Vec<Finding> {
    let cues = lexicon::cues(text, &cfg.topics);
    let scores = match (embedding, index) {
        (Some(q), Some(ix)) => Some(ix.scores(q)),
        _ => None,
    };
    let mut out = Vec::new();

    let decide = |score: Option<f32>, margin: f32, cue: Option<&Cue>| -> Option<(String, f32)> {
        if let Some(c) = cue.filter(|c| c.strong) {
            return Some((format!("lexicon:{}", c.name), score.unwrap_or(1.0)));
        }
        let s = score?;
        match cue {
            Some(c) if s >= cfg.cue_margin.min(margin) => Some((format!("embedding+lexicon:{}", c.name), s)),
            _ if s >= margin => Some(("embedding".to_owned(), s)),
            _ => None,
        }
    };

    if cfg.human_request {
        let cue = cues.iter().find(|c| c.label == "human_request");
        if let Some((evidence, score)) =
            decide(scores.as_ref().map(|s| s.human_request), cfg.human_request_margin, cue)
        {
            let why = cue.map(|c| format!(" ({})", c.detail)).unwrap_or_default();
            out.push(Finding {
                trigger: Trigger::HumanRequest,
                topic: String::new(),
                reason: format!("The visitor asked to talk to a person{why}."),
                evidence,
                score,
            });
        }
    }
    if cfg.sensitive {
        let mut best: Option<Finding> = None;
        for (topic, tcfg) in &cfg.topics {
            if !tcfg.enabled {
                continue;
            }
            let cue = cues.iter().find(|c| c.label == format!("topic:{topic}"));
            let score = scores.as_ref().and_then(|s| s.topics.iter().find(|(t, _)| t == topic).map(|x| x.1));
            if let Some((evidence, score)) = decide(score, cfg.sensitive_margin, cue) {
                if best.as_ref().is_none_or(|b| score > b.score) {
                    let why = cue.map(|c| format!(" (mentions {})", c.detail)).unwrap_or_default();
                    best = Some(Finding {
                        trigger: Trigger::Sensitive,
                        topic: topic.clone(),
                        reason: format!(
                            "Sensitive topic: {}{why}; a person should handle it.",
                            topic_label(cfg, topic)
                        ),
                        evidence,
                        score,
                    });
                }
            }
        }
        out.extend(best);
    }
    if cfg.frustration {
        let cue = cues.iter().find(|c| c.label == "frustration");
        if let Some((evidence, score)) =
            decide(scores.as_ref().map(|s| s.frustration), cfg.frustration_margin, cue)
        {
            let why = cue.map(|c| format!(" ({})", c.detail)).unwrap_or_default();
            out.push(Finding {
                trigger: Trigger::Frustration,
                topic: String::new(),
                reason: format!("The visitor sounds frustrated{why}."),
                evidence,
                score,
            });
        }
    }
    // Strongest first: lexicon-strong and big margins lead.
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

/// Classifies with the model when it is available (embedding the exemplars on first use).
pub async fn classify_text(
    classifier: &Classifier,
    embedder: &Embedder,
    text: &str,
    cfg: &HandoffConfig,
) -> (Vec<Finding>, Option<Vec<f32>>) {
    let index = match classifier.index(embedder, cfg).await {
        Ok(ix) => Some(ix),
        Err(e) => {
            tracing::warn!(error = %e, "handoff classifier: embedding model unavailable, using the lexicon only");
            None
        }
    };
    let q = match &index {
        Some(_) => embedder.embed(vec![text.to_owned()], Kind::Query).await.ok().and_then(|mut v| v.pop()),
        None => None,
    };
    (classify(text, q.as_deref(), index.as_deref(), cfg), q)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_exemplars_parse_and_cover_every_default_topic() {
        let b = builtin();
        assert!(b.human_request.len() >= 20 && b.neutral.len() >= 40);
        for t in crate::handoff::rules::default_topics().keys() {
            assert!(b.topics.get(t).is_some_and(|x| x.examples.len() >= 10), "{t}");
        }
    }

    #[test]
    fn without_the_model_the_lexicon_still_catches_the_clear_cases() {
        let cfg = HandoffConfig::default();
        let labels =
            |t: &str| classify(t, None, None, &cfg).into_iter().map(|f| f.trigger).collect::<Vec<_>>();
        assert_eq!(labels("human"), vec![Trigger::HumanRequest]);
        assert_eq!(labels("Mensch, bitte!"), vec![Trigger::HumanRequest]);
        assert_eq!(labels("WHY DOES NOTHING WORK HERE"), vec![Trigger::Frustration]);
        assert_eq!(labels("How do I reset my password?"), vec![]);
        assert_eq!(labels("Can I invite a human colleague as an agent?"), vec![]);
    }

    #[test]
    fn margins_decide_when_vectors_exist() {
        // A toy index in 3-d: axis 0 = human request, axis 1 = neutral, axis 2 = billing.
        let ix = Index {
            key: String::new(),
            human_request: vec![vec![1.0, 0.0, 0.0]],
            frustration: vec![vec![0.0, 0.0, -1.0]],
            neutral: vec![vec![0.0, 1.0, 0.0]],
            topics: vec![("billing".into(), vec![vec![0.0, 0.0, 1.0]])],
        };
        let cfg = HandoffConfig::default();
        let n = |v: [f32; 3]| {
            let l = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            v.map(|x| x / l)
        };
        let f = classify("could you help", Some(&n([0.8, 0.6, 0.0])), Some(&ix), &cfg);
        assert_eq!(f[0].trigger, Trigger::HumanRequest);
        assert_eq!(f[0].evidence, "embedding");
        assert!(classify("could you help", Some(&n([0.6, 0.8, 0.0])), Some(&ix), &cfg).is_empty());
        let f = classify("refund", Some(&n([0.0, 0.6, 0.8])), Some(&ix), &cfg);
        assert_eq!((f[0].trigger, f[0].topic.as_str()), (Trigger::Sensitive, "billing"));
        let mut off = cfg.clone();
        off.topics.get_mut("billing").unwrap().enabled = false;
        assert!(
            classify("refund", Some(&n([0.0, 0.6, 0.8])), Some(&ix), &off).is_empty(),
            "a topic can be switched off"
        );
    }
}
