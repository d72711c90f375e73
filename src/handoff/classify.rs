//! The message classifier behind the `human_request`, `sensitive` and `frustration` triggers.
//!
//! Three kinds of evidence, combined per label:
//!
//! 1. **Learned heads** ([`super::head`]): a calibrated logistic head per label over the
//!    message's e5 vector (multilingual-e5-small, `query:`), and over each clause of a long
//!    message, trained on a labelled multilingual set (`benches/triggers/`). A label fires when
//!    its probability clears the head's threshold; a sensitive message gets its topic from the
//!    topic head, and the nearest kind ("asked for a call", "describes an account takeover")
//!    gives the reason agents read.
//! 2. **Small multilingual lexicons** ([`super::lexicon`]): a short request that is just a
//!    person noun ("human", "Mensch bitte", "humano"), a talk/connect verb with a person noun,
//!    topic keywords, anger cues (shouting in capitals, `!!!`, insults). A strong cue fires on
//!    its own; a weak cue lowers the head's threshold to its `cue_threshold`.
//! 3. **Exemplars and a margin** for topics an admin adds (and for everything when the heads
//!    are missing): the mean cosine of the two nearest exemplars minus that of the two nearest
//!    `neutral` questions must clear `[handoff] *_margin`.
//!
//! Exemplars are embedded once, lazily, and cached; the cache key is the topic configuration,
//! so an admin adding a topic rebuilds it. When the model is unavailable the lexicon alone
//! decides (and says so in the reason).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;

use super::head;
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

/// A message's vectors: the whole message and, for a long one, its clauses
/// ([`head::segments`]), all from one embedding call.
#[derive(Debug, Clone, Copy)]
pub struct Vectors<'a> {
    pub whole: &'a [f32],
    pub segments: &'a [Vec<f32>],
}

/// A head's verdict: the calibrated probability (best of the whole message and its clauses)
/// and the vector that scored it.
fn head_score<'a>(h: &head::Head, v: Vectors<'a>) -> (f32, &'a [f32]) {
    let mut best = (h.probability(v.whole), v.whole);
    if h.segments {
        for s in v.segments {
            let p = h.probability(s);
            if p > best.0 {
                best = (p, s.as_slice());
            }
        }
    }
    best
}

/// Whether a learned head fires: a strong lexicon cue decides alone; otherwise the head's
/// probability must clear its threshold, or the lower cue threshold when a weak cue agrees.
fn head_decides(h: &head::Head, p: Option<f32>, cue: Option<&Cue>) -> Option<(String, f32)> {
    if let Some(c) = cue.filter(|c| c.strong) {
        return Some((format!("lexicon:{}", c.name), p.unwrap_or(1.0).max(h.threshold)));
    }
    let p = p?;
    match cue {
        Some(c) if p >= h.cue_threshold => Some((format!("model+lexicon:{}", c.name), p)),
        _ if p >= h.threshold => Some(("model".to_owned(), p)),
        _ => None,
    }
}

/// The agent-facing sentence for a head's finding: the nearest kind's reason, or `fallback`.
fn kind_reason(heads: &head::Heads, label: &str, x: &[f32], fallback: &str) -> String {
    heads
        .kind(label, x)
        .map(|k| k.reason.clone())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| fallback.to_owned())
}

fn with_detail(reason: &str, cue: Option<&Cue>, prefix: &str) -> String {
    let base = reason.trim_end_matches('.');
    match cue {
        Some(c) if !c.detail.is_empty() => format!("{base} ({prefix}{}).", c.detail),
        _ => format!("{base}."),
    }
}

/// Classifies one message. `vectors` are the message's query vectors and `index` the exemplar
/// index; either may be missing (model unavailable), then only the lexicon decides.
/// With vectors, the shipped heads ([`head`]) decide `human_request`, `frustration` and the
/// built-in sensitive topics; topics an admin added are matched against their examples
/// (exemplar margins). Returns every label that fired, strongest evidence first.
pub fn classify(
    text: &str,
    vectors: Option<Vectors>,
    index: Option<&Index>,
    cfg: &HandoffConfig,
) -> Vec<Finding> {
    classify_with(text, vectors, index, cfg, head::shipped())
}

/// [`classify`] with explicit heads (`None`: exemplar margins for everything, as before the
/// heads existed).
pub fn classify_with(
    text: &str,
    vectors: Option<Vectors>,
    index: Option<&Index>,
    cfg: &HandoffConfig,
    heads: Option<&head::Heads>,
) -> Vec<Finding> {
    let cues = lexicon::cues(text, &cfg.topics);
    let scores = match (vectors, index) {
        (Some(v), Some(ix)) => Some(ix.scores(v.whole)),
        _ => None,
    };
    let heads = heads.filter(|h| vectors.is_some_and(|v| v.whole.len() == h.dim));
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

    // One label without topics: the head (or the exemplar margin) decides, a cue may help.
    let label = |trigger: Trigger, name: &str, fallback: &str, margin_score: Option<f32>, margin: f32| {
        let cue = cues.iter().find(|c| c.label == name);
        let found = match (heads, vectors) {
            (Some(h), Some(v)) => {
                let head = if trigger == Trigger::HumanRequest { &h.human_request } else { &h.frustration };
                let (p, x) = head_score(head, v);
                head_decides(head, Some(p), cue).map(|(e, s)| (e, s, kind_reason(h, name, x, fallback)))
            }
            _ => decide(margin_score, margin, cue).map(|(e, s)| (e, s, fallback.to_owned())),
        };
        found.map(|(evidence, score, reason)| Finding {
            trigger,
            topic: String::new(),
            reason: with_detail(&reason, cue, ""),
            evidence,
            score,
        })
    };
    if cfg.human_request {
        out.extend(label(
            Trigger::HumanRequest,
            "human_request",
            "The visitor asked to talk to a person.",
            scores.as_ref().map(|s| s.human_request),
            cfg.human_request_margin,
        ));
    }
    if cfg.sensitive {
        out.extend(sensitive(&cues, scores.as_ref(), vectors, heads, cfg, &decide));
    }
    if cfg.frustration {
        out.extend(label(
            Trigger::Frustration,
            "frustration",
            "The visitor sounds frustrated.",
            scores.as_ref().map(|s| s.frustration),
            cfg.frustration_margin,
        ));
    }
    // Strongest first: lexicon-strong and big margins lead.
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

type Decide<'a> = dyn Fn(Option<f32>, f32, Option<&Cue>) -> Option<(String, f32)> + 'a;

/// The sensitive finding, if any: the head decides whether the message is sensitive and its
/// topic head which built-in topic (a strong topic cue names the topic itself); admin topics
/// are matched by their examples. The strongest enabled candidate wins.
fn sensitive(
    cues: &[Cue],
    scores: Option<&Scores>,
    vectors: Option<Vectors>,
    heads: Option<&head::Heads>,
    cfg: &HandoffConfig,
    decide: &Decide,
) -> Option<Finding> {
    let mut best: Option<Finding> = None;
    let mut offer = |f: Finding| {
        if best.as_ref().is_none_or(|b| f.score > b.score) {
            best = Some(f);
        }
    };
    let enabled = |t: &str| cfg.topics.get(t).is_some_and(|c| c.enabled);
    let cue_for = |t: &str| cues.iter().find(|c| c.label == format!("topic:{t}"));
    if let (Some(h), Some(v)) = (heads, vectors) {
        let (p, x) = head_score(&h.sensitive, v);
        let any_cue = h.topic.topics.iter().filter(|t| enabled(t)).find_map(|t| cue_for(t));
        let strong =
            h.topic.topics.iter().filter(|t| enabled(t)).find_map(|t| cue_for(t).filter(|c| c.strong));
        let cue = strong.or(any_cue);
        if let Some((evidence, score)) = head_decides(&h.sensitive, Some(p), cue) {
            let topic = match strong {
                Some(c) => c.label.trim_start_matches("topic:").to_owned(),
                None => {
                    let probs = h.topic.probabilities(x);
                    h.topic
                        .topics
                        .iter()
                        .zip(probs)
                        .filter(|(t, _)| enabled(t))
                        .max_by(|a, b| a.1.total_cmp(&b.1))
                        .map(|(t, _)| t.clone())
                        .unwrap_or_default()
                }
            };
            if !topic.is_empty() {
                let what = h
                    .kind("sensitive", x)
                    .map(|k| format!("; the visitor {}", k.reason))
                    .filter(|_| strong.is_none())
                    .unwrap_or_default();
                let why = cue.map(|c| format!(" (mentions {})", c.detail)).unwrap_or_default();
                offer(Finding {
                    trigger: Trigger::Sensitive,
                    reason: format!(
                        "Sensitive topic: {}{why}{what}; a person should handle it.",
                        topic_label(cfg, &topic)
                    ),
                    topic,
                    evidence,
                    score,
                });
            }
        }
    }
    for (topic, tcfg) in &cfg.topics {
        let learned = heads.is_some_and(|h| h.topic.topics.contains(topic)) && vectors.is_some();
        if !tcfg.enabled || learned {
            continue;
        }
        let cue = cue_for(topic);
        let score = scores.and_then(|s| s.topics.iter().find(|(t, _)| t == topic).map(|x| x.1));
        if let Some((evidence, score)) = decide(score, cfg.sensitive_margin, cue) {
            let why = cue.map(|c| format!(" (mentions {})", c.detail)).unwrap_or_default();
            offer(Finding {
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
    best
}

/// A learned head's view of a message, for the console's test box.
#[derive(Debug, Clone, serde::Serialize, poem_openapi::Object)]
pub struct Probability {
    pub trigger: String,
    /// Calibrated probability (best of the message and its clauses).
    pub probability: f32,
    /// Fires at or above this; with a weak lexicon cue at or above `cue_threshold`.
    pub threshold: f32,
    pub cue_threshold: f32,
}

/// [`classify_text`] plus the heads' probabilities.
pub async fn classify_explained(
    classifier: &Classifier,
    embedder: &Embedder,
    text: &str,
    cfg: &HandoffConfig,
) -> (Vec<Finding>, Vec<Probability>) {
    let index = classifier.index(embedder, cfg).await.ok();
    let vectors = match &index {
        Some(_) => embed_message(embedder, text).await.ok(),
        None => None,
    };
    let v = vectors.as_ref().map(|(w, s)| Vectors { whole: w, segments: s });
    let mut probs = Vec::new();
    if let (Some(h), Some(v)) = (head::shipped(), v) {
        for (name, head) in [
            ("human_request", &h.human_request),
            ("sensitive", &h.sensitive),
            ("frustration", &h.frustration),
        ] {
            probs.push(Probability {
                trigger: name.to_owned(),
                probability: head_score(head, v).0,
                threshold: head.threshold,
                cue_threshold: head.cue_threshold,
            });
        }
    }
    (classify(text, v, index.as_deref(), cfg), probs)
}

/// Embeds a message and its clauses in one call: `(whole, clauses)`.
pub async fn embed_message(
    embedder: &Embedder,
    text: &str,
) -> Result<(Vec<f32>, Vec<Vec<f32>>), crate::embed::EmbedError> {
    let mut texts = vec![text.to_owned()];
    texts.extend(head::segments(text));
    let mut v = embedder.embed(texts, Kind::Query).await?;
    if v.is_empty() {
        return Err(crate::embed::EmbedError::Model("no vector for the message".into()));
    }
    let whole = v.remove(0);
    Ok((whole, v))
}

/// [`embed_message`] for many messages, in batches of 64 messages.
pub async fn embed_messages(
    embedder: &Embedder,
    texts: &[String],
) -> Result<Vec<(Vec<f32>, Vec<Vec<f32>>)>, crate::embed::EmbedError> {
    let mut out = Vec::with_capacity(texts.len());
    for chunk in texts.chunks(64) {
        let mut all = Vec::new();
        let mut spans = Vec::new();
        for t in chunk {
            let start = all.len();
            all.push(t.clone());
            all.extend(head::segments(t));
            spans.push(start..all.len());
        }
        let v = embedder.embed(all, Kind::Query).await?;
        for span in spans {
            let (Some(whole), Some(segs)) = (v.get(span.start), v.get(span.start + 1..span.end)) else {
                return Err(crate::embed::EmbedError::Model("fewer vectors than texts".into()));
            };
            out.push((whole.clone(), segs.to_vec()));
        }
    }
    Ok(out)
}

/// Classifies with the model when it is available (embedding the exemplars on first use).
/// Returns the findings and the message's vector (for the loop check).
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
    let vectors = match &index {
        Some(_) => embed_message(embedder, text).await.ok(),
        None => None,
    };
    let v = vectors.as_ref().map(|(w, s)| Vectors { whole: w, segments: s });
    let findings = classify(text, v, index.as_deref(), cfg);
    (findings, vectors.map(|(w, _)| w))
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
    fn the_shipped_heads_load_and_are_calibrated() {
        let h = head::shipped().expect("src/handoff/head.json parses and has the model's width");
        assert_eq!(h.dim, 384);
        for head in [&h.human_request, &h.sensitive, &h.frustration] {
            assert!(head.a > 0.0, "Platt slope must keep the score's direction");
            assert!(0.0 < head.cue_threshold && head.cue_threshold < head.threshold && head.threshold < 1.0);
            assert!(head.w.iter().any(|w| *w != 0.0));
        }
        let mut topics = h.topic.topics.clone();
        topics.sort();
        assert_eq!(topics, ["account_access", "billing", "privacy_legal", "security"]);
        assert!(h.kinds.iter().all(|k| !k.reason.is_empty() && k.centroid.len() == 384));
    }

    /// A toy head along axis 0 of a 3-d space, to check the decision rule without the model.
    fn toy_heads() -> head::Heads {
        let head = |w: [f32; 3]| head::Head {
            w: w.to_vec(),
            b: 0.0,
            a: 10.0,
            c: -5.0,
            threshold: 0.6,
            cue_threshold: 0.2,
            segments: true,
        };
        head::Heads {
            dim: 3,
            human_request: head([1.0, 0.0, 0.0]),
            sensitive: head([0.0, 0.0, 1.0]),
            frustration: head([0.0, -1.0, 0.0]),
            topic: head::TopicHead {
                topics: vec!["billing".into(), "security".into()],
                w: vec![vec![0.0, 0.0, 1.0], vec![0.0, 0.0, -1.0]],
                b: vec![0.0, 0.0],
            },
            kinds: vec![head::Kind {
                label: "human_request".into(),
                name: "call_or_meeting".into(),
                reason: "The visitor asked for a call or a meeting with a person.".into(),
                centroid: vec![1.0, 0.0, 0.0],
            }],
        }
    }

    #[test]
    fn heads_decide_with_thresholds_clauses_and_cues() {
        let cfg = HandoffConfig::default();
        let h = toy_heads();
        let run = |t: &str, whole: [f32; 3], segs: &[[f32; 3]]| {
            let segs: Vec<Vec<f32>> = segs.iter().map(|s| s.to_vec()).collect();
            classify_with(t, Some(Vectors { whole: &whole, segments: &segs }), None, &cfg, Some(&h))
        };
        // p = sigmoid(10·x0 − 5): 0.9 → 0.98 fires; 0.4 → 0.27 does not.
        let f = run("could we do a quick video call", [0.9, 0.1, 0.0], &[]);
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].trigger, f[0].evidence.as_str()), (Trigger::HumanRequest, "model"));
        assert_eq!(f[0].reason, "The visitor asked for a call or a meeting with a person.");
        assert!(run("what are your prices", [0.4, 0.5, 0.0], &[]).is_empty());
        // One clause of a long message is enough.
        let f = run("long message", [0.4, 0.5, 0.0], &[[0.1, 0.9, 0.0], [0.95, 0.0, 0.0]]);
        assert_eq!(f[0].trigger, Trigger::HumanRequest);
        // The sensitive head fires and its topic head names the topic.
        let f = run("the card was charged twice", [0.0, 0.1, 0.9], &[]);
        assert_eq!((f[0].trigger, f[0].topic.as_str()), (Trigger::Sensitive, "billing"));
        let mut off = cfg.clone();
        off.topics.get_mut("billing").unwrap().enabled = false;
        let v = [0.0f32, 0.1, 0.9];
        let f = classify_with("x", Some(Vectors { whole: &v, segments: &[] }), None, &off, Some(&h));
        assert!(f.iter().all(|f| f.topic != "billing"), "a disabled topic never fires: {f:?}");
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
        let c = |t: &str, v: [f32; 3], cfg: &HandoffConfig| {
            let v = n(v);
            classify_with(t, Some(Vectors { whole: &v, segments: &[] }), Some(&ix), cfg, None)
        };
        let f = c("could you help", [0.8, 0.6, 0.0], &cfg);
        assert_eq!(f[0].trigger, Trigger::HumanRequest);
        assert_eq!(f[0].evidence, "embedding");
        assert!(c("could you help", [0.6, 0.8, 0.0], &cfg).is_empty());
        let f = c("refund", [0.0, 0.6, 0.8], &cfg);
        assert_eq!((f[0].trigger, f[0].topic.as_str()), (Trigger::Sensitive, "billing"));
        let mut off = cfg.clone();
        off.topics.get_mut("billing").unwrap().enabled = false;
        assert!(c("refund", [0.0, 0.6, 0.8], &off).is_empty(), "a topic can be switched off");
    }
}
