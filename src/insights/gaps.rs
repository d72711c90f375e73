//! The gaps report: questions the knowledge base could not answer, grouped by meaning.
//!
//! **Inputs** ([`candidates`]): visitor questions whose AI answer was unsure, whose answer was
//! rated "not helpful", or that led to a handoff. For a handoff the question is the latest
//! visitor message before it that the AI answered (a "can I talk to a person?" is not a
//! question for the docs); for `sensitive` and `rule` handoffs the message itself counts.
//!
//! **Vectors** are query embeddings cached in `QUESTION_VECTORS` by `(conversation, seq)`, so
//! a question is embedded once, however often the report is opened.
//!
//! **Grouping** ([`cluster`]) works across languages because the embedding model is
//! multilingual. Raw e5 cosines crowd into 0.75–0.97 for any two support questions ("delete my
//! account" vs "change my password" scores 0.93, above many translations), so vectors are first
//! *centred*: the mean of a fixed set of generic support questions in several languages
//! ([`BACKGROUND`]) is subtracted and the result re-normalised. In that space translations of
//! one question score 0.68–0.86 and different questions about the same product below 0.5.
//! A greedy pass then assigns each question to the most similar group centroid when the cosine
//! is at least [`SAME_MEANING`], else starts a group; a second pass moves every question to its
//! best centroid. The representative is the medoid (the member most similar to the others).
//! Loose paraphrases with different words ("download my bills" for "export my invoices") can
//! still land in separate groups: splitting a gap in two is preferred over hiding one.
//!
//! **Identity and status.** Groups are stored in `GAPS` with their centroid. On every report a
//! fresh group takes the id (and status) of the stored group whose centroid is at least
//! [`SAME_MEANING`] similar. A dismissed, resolved or covered group keeps the centroid it had
//! when its status was set, so new members that mean the same thing keep it dismissed, while a
//! drift in meaning makes a new, open group.
//!
//! **Impact** = Σ over members of `0.5^(age / 14 days)`: every question counts 1 when asked
//! today, ½ when two weeks old. Groups are sorted by impact, highest first.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, Utc};
use poem_openapi::{Enum, Object};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::metrics::Thread;
use crate::conversation::{Author, Body, Rating};
use crate::embed::Kind;
use crate::error::{Error, Result};
use crate::ids::{ConversationId, DocumentId, GapId};
use crate::knowledge::{analyze, decode_vector, encode_vector};
use crate::state::AppState;
use crate::store::{self, GAPS, QUESTION_VECTORS};

/// Two questions at least this similar (cosine of centred e5 query embeddings) ask the same thing.
pub const SAME_MEANING: f32 = 0.55;

/// Generic support questions whose mean embedding is the "every question looks like this"
/// direction removed before comparing (see the module docs). Changing it changes stored
/// centroids' meaning: keep it fixed.
pub const BACKGROUND: [&str; 16] = [
    "How do I reset my password?",
    "What does the pro plan cost?",
    "Where can I see my invoices?",
    "Can I invite my team?",
    "Wie ändere ich meine E-Mail-Adresse?",
    "Comment annuler mon abonnement ?",
    "Is my data stored in the EU?",
    "How do I connect my calendar?",
    "¿Puedo usar la app sin conexión?",
    "Why is the sync slow?",
    "Hoe kan ik mijn account verwijderen?",
    "Come posso esportare i miei dati?",
    "Do you have an API?",
    "How do I add a user?",
    "Can I change the language?",
    "Jak mogę zmienić hasło?",
];

static BACKGROUND_MEAN: tokio::sync::OnceCell<Vec<f32>> = tokio::sync::OnceCell::const_new();

/// The mean of the [`BACKGROUND`] questions' embeddings (computed once per process).
pub async fn background_mean(state: &AppState) -> Result<Vec<f32>> {
    let mean = BACKGROUND_MEAN
        .get_or_try_init(|| async {
            let texts = BACKGROUND.iter().map(|s| s.to_string()).collect();
            let vecs = state.embedder.embed(texts, Kind::Query).await?;
            let dim = vecs.first().map(|v| v.len()).unwrap_or(0);
            let mut m = vec![0.0f32; dim];
            for v in &vecs {
                for (a, b) in m.iter_mut().zip(v) {
                    *a += b / vecs.len() as f32;
                }
            }
            Ok::<_, Error>(m)
        })
        .await?;
    Ok(mean.clone())
}

/// `v - mean`, re-normalised.
pub fn center(v: &[f32], mean: &[f32]) -> Vec<f32> {
    let mut c: Vec<f32> = v.iter().zip(mean).map(|(a, b)| a - b).collect();
    let n = c.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        c.iter_mut().for_each(|x| *x /= n);
    }
    c
}
/// Half-life of a question's weight in the impact score.
pub const HALF_LIFE_DAYS: f64 = 14.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum Reason {
    Unsure,
    Handoff,
    Unhelpful,
}

/// A question that shows a gap.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub conversation: ConversationId,
    pub seq: u64,
    pub text: String,
    pub at: DateTime<Utc>,
    pub reasons: BTreeSet<Reason>,
    /// The handoff trigger, when it led to one.
    pub trigger: String,
    /// Documents the AI cited when answering it: (document, title, url).
    pub tried: Vec<(DocumentId, String, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum GapStatus {
    Open,
    Dismissed,
    Resolved,
    /// A snippet written from a conversation answers it.
    Covered,
}

/// A group as stored in `GAPS`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredGap {
    pub id: GapId,
    pub status: GapStatus,
    pub centroid: Vec<f32>,
    pub status_at: Option<DateTime<Utc>>,
    /// The snippet that covers it.
    pub snippet: Option<DocumentId>,
    /// Members at the last report, `(conversation, seq)`.
    pub members: Vec<(ConversationId, u64)>,
    pub first_seen: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct Example {
    pub conversation: ConversationId,
    pub text: String,
    pub at: DateTime<Utc>,
    /// `#/inbox/<id>`
    pub link: String,
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct SourceRef {
    pub document: DocumentId,
    pub title: String,
    pub url: String,
    /// How many answers cited it (tried sources) or its retrieval score (closest pages).
    pub weight: f32,
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct GapReport {
    pub id: GapId,
    pub status: GapStatus,
    /// The medoid question.
    pub representative: String,
    pub count: u32,
    /// Members in the current period (the last `period_days`) and the one before.
    pub current: u32,
    pub previous: u32,
    /// Members asked after the status was set (for dismissed, resolved and covered groups).
    pub new_since_status: u32,
    pub impact: f64,
    pub languages: Vec<String>,
    /// Why its questions count: unsure, handoff, unhelpful, with counts.
    pub reasons: Vec<super::metrics::Count>,
    pub examples: Vec<Example>,
    /// Sources the AI cited when it tried to answer.
    pub tried_sources: Vec<SourceRef>,
    /// The existing pages closest to the question: the content to improve.
    pub closest: Vec<SourceRef>,
    pub snippet: Option<DocumentId>,
    pub last_asked: DateTime<Utc>,
}

fn is_visitor_text(author: &Author, body: &Body) -> bool {
    matches!((author, body), (Author::Visitor(_), Body::Text(_)))
}

fn meaningful(text: &str) -> bool {
    text.trim().chars().count() >= 8 && text.split_whitespace().count() >= 2
}

/// Gap questions of all threads.
pub fn candidates(threads: &[Thread]) -> Vec<Candidate> {
    let mut out: BTreeMap<(ConversationId, u64), Candidate> = BTreeMap::new();
    for t in threads {
        let msgs = &t.messages;
        let answers: HashMap<u64, &crate::conversation::Message> = msgs
            .iter()
            .filter_map(|m| match &m.body {
                Body::Answer(a) => Some((a.reply_to, m)),
                _ => None,
            })
            .collect();
        let mut add = |seq: u64, reason: Reason, trigger: &str| {
            let Some(m) = msgs.iter().find(|m| m.seq == seq) else { return };
            if !meaningful(m.text()) {
                return;
            }
            let c = out.entry((t.conversation.id.clone(), seq)).or_insert_with(|| Candidate {
                conversation: t.conversation.id.clone(),
                seq,
                text: m.text().trim().to_owned(),
                at: m.at,
                reasons: BTreeSet::new(),
                trigger: String::new(),
                tried: answers
                    .get(&seq)
                    .and_then(|a| match &a.body {
                        Body::Answer(a) => Some(
                            a.answer
                                .citations
                                .iter()
                                .map(|c| (c.document.clone(), c.title.clone(), c.url.clone()))
                                .collect(),
                        ),
                        _ => None,
                    })
                    .unwrap_or_default(),
            });
            c.reasons.insert(reason);
            if !trigger.is_empty() {
                c.trigger = trigger.to_owned();
            }
        };
        for m in msgs {
            if is_visitor_text(&m.author, &m.body) {
                if let Some(Body::Answer(a)) = answers.get(&m.seq).map(|a| &a.body) {
                    if a.answer.unsure {
                        add(m.seq, Reason::Unsure, "");
                    }
                }
                if answers.get(&m.seq).and_then(|a| a.rating) == Some(Rating::NotHelpful) {
                    add(m.seq, Reason::Unhelpful, "");
                }
            }
            if let Body::Event(e) = &m.body {
                if e.event != "handoff" {
                    continue;
                }
                let trigger = e.data.get("trigger").and_then(|v| v.as_str()).unwrap_or("").to_owned();
                let itself = matches!(trigger.as_str(), "sensitive" | "rule");
                let question = msgs.iter().rev().filter(|q| q.seq < m.seq).find(|q| {
                    is_visitor_text(&q.author, &q.body) && (itself || answers.contains_key(&q.seq))
                });
                if let Some(q) = question {
                    add(q.seq, Reason::Handoff, &trigger);
                }
            }
        }
    }
    out.into_values().collect()
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let (mut dot, mut na, mut nb) = (0.0f32, 0.0f32, 0.0f32);
    for (x, y) in a.iter().zip(b) {
        dot += x * y;
        na += x * x;
        nb += y * y;
    }
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na.sqrt() * nb.sqrt())
    }
}

fn mean(vecs: &[&[f32]]) -> Vec<f32> {
    let dim = vecs.first().map(|v| v.len()).unwrap_or(0);
    let mut m = vec![0.0f32; dim];
    for v in vecs {
        for (a, b) in m.iter_mut().zip(v.iter()) {
            *a += b;
        }
    }
    let norm = m.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        m.iter_mut().for_each(|x| *x /= norm);
    }
    m
}

/// Groups vectors by meaning: indices of each group, largest first.
pub fn cluster(vecs: &[Vec<f32>], threshold: f32) -> Vec<Vec<usize>> {
    let mut centroids: Vec<Vec<f32>> = Vec::new();
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, v) in vecs.iter().enumerate() {
        let best =
            centroids.iter().enumerate().map(|(g, c)| (g, cosine(c, v))).max_by(|a, b| a.1.total_cmp(&b.1));
        match best {
            Some((g, s)) if s >= threshold => {
                groups[g].push(i);
                let members: Vec<&[f32]> = groups[g].iter().map(|&j| vecs[j].as_slice()).collect();
                centroids[g] = mean(&members);
            }
            _ => {
                groups.push(vec![i]);
                centroids.push(mean(&[v.as_slice()]));
            }
        }
    }
    // Refinement: every item to its best centroid (early items were placed before later ones
    // moved the centroids).
    let mut refined: Vec<Vec<usize>> = vec![Vec::new(); centroids.len()];
    for (i, v) in vecs.iter().enumerate() {
        let g = centroids
            .iter()
            .enumerate()
            .map(|(g, c)| (g, cosine(c, v)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(g, _)| g)
            .unwrap_or(0);
        refined[g].push(i);
    }
    refined.retain(|g| !g.is_empty());
    refined.sort_by(|a, b| b.len().cmp(&a.len()).then(a[0].cmp(&b[0])));
    refined
}

/// The member most similar to all others.
pub fn medoid(vecs: &[Vec<f32>], members: &[usize]) -> usize {
    members
        .iter()
        .copied()
        .max_by(|&a, &b| {
            let sa: f32 = members.iter().map(|&j| cosine(&vecs[a], &vecs[j])).sum();
            let sb: f32 = members.iter().map(|&j| cosine(&vecs[b], &vecs[j])).sum();
            sa.total_cmp(&sb).then(b.cmp(&a))
        })
        .unwrap_or(members[0])
}

/// A light language guess from stop words (`en`, `de`, …), `?` when unsure.
pub fn guess_language(text: &str) -> String {
    match analyze::detect(&analyze::words(text)) {
        Some(l) => format!("{l:?}").to_lowercase(),
        None => "?".to_owned(),
    }
}

/// Impact of one question asked at `at`, seen at `now`.
pub fn weight(at: DateTime<Utc>, now: DateTime<Utc>) -> f64 {
    let age_days = (now - at).num_seconds().max(0) as f64 / 86_400.0;
    0.5f64.powf(age_days / HALF_LIFE_DAYS)
}

/// Query vectors for the candidates, from the cache or embedded now (and cached).
async fn vectors(state: &AppState, cands: &[Candidate]) -> Result<Vec<Vec<f32>>> {
    let mut out: Vec<Option<Vec<f32>>> = state.store.read(|tx| {
        let t = tx.open_table(QUESTION_VECTORS)?;
        cands
            .iter()
            .map(|c| Ok(t.get((c.conversation.as_str(), c.seq))?.map(|v| decode_vector(v.value()))))
            .collect()
    })?;
    let missing: Vec<usize> = (0..cands.len()).filter(|&i| out[i].is_none()).collect();
    for batch in missing.chunks(32) {
        let texts: Vec<String> = batch.iter().map(|&i| cands[i].text.clone()).collect();
        let vecs = state.embedder.embed(texts, Kind::Query).await?;
        state.store.write(|tx| {
            let mut t = tx.open_table(QUESTION_VECTORS)?;
            for (&i, v) in batch.iter().zip(&vecs) {
                let bytes = encode_vector(v);
                t.insert((cands[i].conversation.as_str(), cands[i].seq), bytes.as_slice())?;
            }
            Ok(())
        })?;
        for (&i, v) in batch.iter().zip(vecs) {
            out[i] = Some(v);
        }
    }
    let mean = background_mean(state).await?;
    Ok(out.into_iter().map(|v| center(&v.unwrap_or_default(), &mean)).collect())
}

/// Builds the report: groups with their stored status, sorted by impact.
pub async fn report(
    state: &AppState,
    threads: &[Thread],
    now: DateTime<Utc>,
    period_days: i64,
    include_closed: bool,
    limit: usize,
) -> Result<Vec<GapReport>> {
    let cands = candidates(threads);
    let vecs = vectors(state, &cands).await?;
    let groups = cluster(&vecs, SAME_MEANING);
    let mut stored: Vec<StoredGap> =
        state.store.list_json::<StoredGap>(GAPS)?.into_iter().map(|(_, g)| g).collect();
    let mut taken: BTreeSet<GapId> = BTreeSet::new();
    let period = Duration::days(period_days.max(1));
    let mut reports = Vec::new();
    let mut to_store = Vec::new();
    for members in &groups {
        let refs: Vec<&[f32]> = members.iter().map(|&i| vecs[i].as_slice()).collect();
        let centroid = mean(&refs);
        let matched = stored
            .iter_mut()
            .filter(|g| !taken.contains(&g.id))
            .map(|g| {
                let s = cosine(&g.centroid, &centroid);
                (g, s)
            })
            .filter(|(_, s)| *s >= SAME_MEANING)
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(g, _)| g.clone());
        let mut gap = matched.unwrap_or_else(|| StoredGap {
            id: GapId::random(),
            status: GapStatus::Open,
            centroid: centroid.clone(),
            status_at: None,
            snippet: None,
            members: Vec::new(),
            first_seen: now,
        });
        taken.insert(gap.id.clone());
        if gap.status == GapStatus::Open {
            gap.centroid = centroid;
        }
        gap.members = members.iter().map(|&i| (cands[i].conversation.clone(), cands[i].seq)).collect();
        to_store.push(gap.clone());

        if !include_closed && gap.status != GapStatus::Open {
            continue;
        }
        let rep = medoid(&vecs, members);
        let mut langs: BTreeMap<String, u32> = BTreeMap::new();
        let mut reasons: BTreeMap<String, u32> = BTreeMap::new();
        let mut tried: BTreeMap<DocumentId, (String, String, u32)> = BTreeMap::new();
        let (mut current, mut previous, mut new_since, mut impact) = (0, 0, 0, 0.0);
        let mut last = cands[members[0]].at;
        for &i in members {
            let c = &cands[i];
            *langs.entry(guess_language(&c.text)).or_insert(0) += 1;
            for r in &c.reasons {
                let key = match r {
                    Reason::Handoff if !c.trigger.is_empty() => format!("handoff:{}", c.trigger),
                    other => serde_json::to_value(other)?.as_str().unwrap_or_default().to_owned(),
                };
                *reasons.entry(key).or_insert(0) += 1;
            }
            for (d, title, url) in &c.tried {
                tried.entry(d.clone()).or_insert_with(|| (title.clone(), url.clone(), 0)).2 += 1;
            }
            if c.at > now - period {
                current += 1;
            } else if c.at > now - period - period {
                previous += 1;
            }
            if gap.status_at.is_some_and(|s| c.at > s) {
                new_since += 1;
            }
            impact += weight(c.at, now);
            last = last.max(c.at);
        }
        let mut examples: Vec<Example> = members
            .iter()
            .map(|&i| &cands[i])
            .map(|c| Example {
                conversation: c.conversation.clone(),
                text: c.text.clone(),
                at: c.at,
                link: format!("#/inbox/{}", c.conversation),
            })
            .collect();
        examples.sort_by_key(|e| std::cmp::Reverse(e.at));
        examples.dedup_by(|a, b| a.conversation == b.conversation);
        examples.truncate(5);
        let mut languages: Vec<(String, u32)> = langs.into_iter().collect();
        languages.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut tried_sources: Vec<SourceRef> = tried
            .into_iter()
            .map(|(document, (title, url, n))| SourceRef { document, title, url, weight: n as f32 })
            .collect();
        tried_sources.sort_by(|a, b| b.weight.total_cmp(&a.weight));
        tried_sources.truncate(5);
        reports.push(GapReport {
            id: gap.id.clone(),
            status: gap.status,
            representative: cands[rep].text.clone(),
            count: members.len() as u32,
            current,
            previous,
            new_since_status: new_since,
            impact,
            languages: languages.into_iter().map(|(l, _)| l).collect(),
            reasons: reasons.into_iter().map(|(key, count)| super::metrics::Count { key, count }).collect(),
            examples,
            tried_sources,
            closest: Vec::new(),
            snippet: gap.snippet.clone(),
            last_asked: last,
        });
    }
    state.store.write(|tx| {
        let mut t = tx.open_table(GAPS)?;
        for g in &to_store {
            store::put_json(&mut t, g.id.as_str(), g)?;
        }
        Ok(())
    })?;
    reports.sort_by(|a, b| b.impact.total_cmp(&a.impact).then(b.count.cmp(&a.count)));
    reports.truncate(limit);
    for r in &mut reports {
        r.closest = closest_pages(state, &r.representative).await?;
    }
    Ok(reports)
}

/// The documents that come closest to a question (what to improve).
pub async fn closest_pages(state: &AppState, question: &str) -> Result<Vec<SourceRef>> {
    let results = state.knowledge.retrieve(question).await?;
    let mut out: Vec<SourceRef> = Vec::new();
    for hit in results.hits {
        if out.iter().any(|s| s.document == hit.doc.id) {
            continue;
        }
        out.push(SourceRef {
            document: hit.doc.id.clone(),
            title: hit.doc.title.clone(),
            url: hit.doc.url.clone(),
            weight: hit.score,
        });
        if out.len() == 3 {
            break;
        }
    }
    Ok(out)
}

/// Sets a group's status (dismiss, resolve, reopen, cover).
pub fn set_status(
    state: &AppState,
    id: &GapId,
    status: GapStatus,
    snippet: Option<DocumentId>,
) -> Result<()> {
    state.store.write(|tx| {
        let mut t = tx.open_table(GAPS)?;
        let mut g: StoredGap = store::get_json(&t, id.as_str())?.ok_or(Error::NotFound("gap group"))?;
        g.status = status;
        g.status_at = if status == GapStatus::Open { None } else { Some(Utc::now()) };
        if snippet.is_some() {
            g.snippet = snippet;
        }
        store::put_json(&mut t, id.as_str(), &g)
    })
}

/// The stored group a question belongs to: the one that holds the conversation's question,
/// else the one whose centroid is closest (at least [`SAME_MEANING`]).
pub fn group_for(
    state: &AppState,
    conversation: &ConversationId,
    qvec: Option<&[f32]>,
) -> Result<Option<GapId>> {
    let stored: Vec<StoredGap> =
        state.store.list_json::<StoredGap>(GAPS)?.into_iter().map(|(_, g)| g).collect();
    if let Some(g) = stored.iter().find(|g| g.members.iter().any(|(c, _)| c == conversation)) {
        if let Some(q) = qvec {
            if cosine(&g.centroid, q) >= SAME_MEANING - 0.05 {
                return Ok(Some(g.id.clone()));
            }
        } else {
            return Ok(Some(g.id.clone()));
        }
    }
    let Some(q) = qvec else { return Ok(None) };
    Ok(stored
        .iter()
        .map(|g| (g, cosine(&g.centroid, q)))
        .filter(|(_, s)| *s >= SAME_MEANING)
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(g, _)| g.id.clone()))
}

/// Drops a conversation from the cache and from stored groups (erasure, retention).
pub fn forget(state: &AppState, id: &ConversationId) -> Result<()> {
    state.store.write(|tx| {
        let mut v = tx.open_table(QUESTION_VECTORS)?;
        let keys: Vec<u64> = v
            .range((id.as_str(), 0)..=(id.as_str(), u64::MAX))?
            .map(|r| r.map(|(k, _)| k.value().1))
            .collect::<std::result::Result<_, _>>()?;
        for k in keys {
            v.remove((id.as_str(), k))?;
        }
        let mut t = tx.open_table(GAPS)?;
        let mut changed = Vec::new();
        for row in t.iter()? {
            let (k, val) = row?;
            let mut g: StoredGap = serde_json::from_slice(val.value())?;
            let before = g.members.len();
            g.members.retain(|(c, _)| c != id);
            if g.members.len() != before {
                changed.push((k.value().to_owned(), g));
            }
        }
        for (k, g) in changed {
            store::put_json(&mut t, &k, &g)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clustering_groups_close_vectors_and_keeps_far_ones_apart() {
        let a = vec![1.0, 0.0, 0.0];
        let a2 = vec![0.95, 0.1, 0.0];
        let b = vec![0.0, 1.0, 0.0];
        let a3 = vec![0.97, 0.0, 0.05];
        let groups = cluster(&[a, b, a2, a3], 0.9);
        assert_eq!(groups, vec![vec![0, 2, 3], vec![1]]);
    }

    #[test]
    fn the_medoid_is_the_most_central_member() {
        let v = vec![vec![1.0, 0.0], vec![0.9, 0.3], vec![0.8, 0.6]];
        assert_eq!(medoid(&v, &[0, 1, 2]), 1);
    }

    #[test]
    fn weight_halves_every_two_weeks() {
        let now = Utc::now();
        assert!((weight(now, now) - 1.0).abs() < 1e-9);
        assert!((weight(now - Duration::days(14), now) - 0.5).abs() < 1e-9);
        assert!((weight(now - Duration::days(28), now) - 0.25).abs() < 1e-9);
    }

    #[test]
    fn languages_are_guessed_lightly() {
        assert_eq!(guess_language("How do I export my data to a spreadsheet?"), "en");
        assert_eq!(guess_language("Wie kann ich meine Daten exportieren?"), "de");
        assert_eq!(guess_language("export"), "?");
    }
}
