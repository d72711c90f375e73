//! `baton eval`: measures answers on a corpus and a questions file.
//!
//! The corpus is ingested into a temporary store (or `--store DIR`, which makes repeated runs
//! incremental), then every question is asked. Metrics over in-scope questions: hit@1, hit@3 and
//! MRR (a hit is an expected file, path relative to the corpus root, among the citations) and
//! `answered_in_scope` (share answered with `unsure = false`); over out-of-scope questions:
//! `declined_out_of_scope` (share with `unsure = true`). With `--json` the last line printed is one
//! JSON object with those keys and `questions`.
//!
//! With `--nuggets FILE` the answer **text** is judged too: each in-scope question has nugget
//! groups (lists of alternative strings); an answer passes when, for every group, its text
//! contains at least one alternative (lower case, accents removed by NFKD, plain substring) and
//! the text is at most [`NUGGET_MAX_CHARS`] characters. The metrics gain `answer_pass` (share of
//! in-scope questions that pass) and `answer_chars_p50`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::answer::Features;
use crate::config::Config;
use crate::embed::Embedder;
use crate::ids::SourceId;
use crate::knowledge::{JobStatus, Knowledge, SourceStatus};
use crate::store::Store;

/// Options of `baton eval`.
#[derive(Debug, Clone, Default)]
pub struct EvalArgs {
    pub corpus: Option<PathBuf>,
    pub questions: Option<PathBuf>,
    pub nuggets: Option<PathBuf>,
    pub triggers: Option<PathBuf>,
    pub json: bool,
    /// Reuse (and keep) this store instead of a temporary one.
    pub store: Option<PathBuf>,
    /// Evaluate these dense weights instead of the default one.
    pub dense_weights: Vec<f32>,
    /// Write per-question confidence features (JSON lines) here.
    pub features: Option<PathBuf>,
}

/// One line of a questions file.
#[derive(Debug, Clone, Deserialize)]
pub struct Question {
    pub q: String,
    #[serde(default)]
    pub expect: Vec<String>,
    #[serde(default)]
    pub out_of_scope: bool,
    #[serde(default)]
    pub lang: Option<String>,
}

/// The metrics, as printed with `--json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Metrics {
    pub hit_at_1: f64,
    pub hit_at_3: f64,
    pub mrr: f64,
    pub answered_in_scope: f64,
    pub declined_out_of_scope: f64,
    pub questions: usize,
    /// Share of in-scope questions whose answer text passes its nuggets (with `--nuggets`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_pass: Option<f64>,
    /// Median answer length in characters over in-scope questions (with `--nuggets`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer_chars_p50: Option<f64>,
}

/// Longest answer text that can pass its nuggets.
pub const NUGGET_MAX_CHARS: usize = 1000;

/// One line of a nuggets file.
#[derive(Debug, Clone, Deserialize)]
pub struct Nuggets {
    pub q: String,
    pub nuggets: Vec<Vec<String>>,
}

/// Lower case, accents removed (NFKD, combining marks dropped).
pub fn fold(s: &str) -> String {
    s.nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .collect::<String>()
        .to_lowercase()
}

/// Whether an answer text passes its nugget groups.
pub fn passes(text: &str, groups: &[Vec<String>]) -> bool {
    if text.chars().count() > NUGGET_MAX_CHARS {
        return false;
    }
    let t = fold(text);
    groups.iter().all(|g| g.iter().any(|alt| t.contains(&fold(alt))))
}

pub fn read_nuggets(path: &Path) -> anyhow::Result<Vec<Nuggets>> {
    read_lines(path)
}

/// One question's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub q: String,
    pub in_scope: bool,
    /// 1-based rank of the first expected document among the citations.
    pub rank: Option<usize>,
    /// Rank of the first expected document in retrieval, before citation filtering.
    pub retrieval_rank: Option<usize>,
    pub unsure: bool,
    pub confidence: f32,
    pub features: Features,
    pub cited: Vec<String>,
    /// The answer text.
    pub answer: String,
    /// Path of the source the answer's first quoted block comes from (answer-level label for
    /// calibration: is the quoted block from an expected document?).
    pub quoted: Option<String>,
    /// Whether the text passes its nuggets (with `--nuggets`, in-scope questions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pass: Option<bool>,
}

pub fn read_questions(path: &Path) -> anyhow::Result<Vec<Question>> {
    read_lines(path)
}

fn read_lines<T: serde::de::DeserializeOwned>(path: &Path) -> anyhow::Result<Vec<T>> {
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

/// Asks every question and computes the metrics.
pub async fn evaluate(
    k: &Knowledge,
    questions: &[Question],
    nuggets: Option<&[Nuggets]>,
    threshold: f32,
    max_citations: usize,
) -> anyhow::Result<(Metrics, Vec<Row>)> {
    let mut rows = Vec::new();
    for q in questions {
        let groups = nuggets.and_then(|n| n.iter().find(|x| x.q.trim() == q.q.trim()));
        let results = k.retrieve(&q.q).await?;
        let (answer, features) = k.compose_explained(&q.q, &results, threshold, max_citations)?;
        let cited: Vec<String> = answer.citations.iter().map(|c| c.path.clone()).collect();
        let rank = cited.iter().position(|p| q.expect.contains(p)).map(|i| i + 1);
        let mut docs: Vec<&str> = Vec::new();
        for h in &results.hits {
            if !docs.contains(&h.doc.path.as_str()) {
                docs.push(&h.doc.path);
            }
        }
        let retrieval_rank = docs.iter().position(|p| q.expect.iter().any(|e| e == p)).map(|i| i + 1);
        rows.push(Row {
            q: q.q.clone(),
            in_scope: !q.out_of_scope,
            rank,
            retrieval_rank,
            unsure: answer.unsure,
            confidence: answer.confidence,
            features,
            cited,
            pass: match (groups, q.out_of_scope) {
                (Some(g), false) => Some(passes(&answer.text, &g.nuggets)),
                _ => None,
            },
            quoted: answer
                .blocks
                .iter()
                .find(|b| b.cite > 0)
                .and_then(|b| answer.citations.iter().find(|c| c.n == b.cite))
                .map(|c| c.path.clone()),
            answer: answer.text,
        });
    }
    let mut m = metrics(&rows);
    if nuggets.is_some() {
        let inside: Vec<&Row> = rows.iter().filter(|r| r.in_scope).collect();
        let passed = inside.iter().filter(|r| r.pass == Some(true)).count();
        m.answer_pass =
            Some(if inside.is_empty() { 0.0 } else { round(passed as f64 / inside.len() as f64) });
        let mut lens: Vec<usize> = inside.iter().map(|r| r.answer.chars().count()).collect();
        lens.sort_unstable();
        m.answer_chars_p50 = Some(lens.get(lens.len() / 2).map_or(0.0, |n| *n as f64));
    }
    Ok((m, rows))
}

pub fn metrics(rows: &[Row]) -> Metrics {
    let inside: Vec<&Row> = rows.iter().filter(|r| r.in_scope).collect();
    let outside: Vec<&Row> = rows.iter().filter(|r| !r.in_scope).collect();
    let share = |n: usize, d: usize| if d == 0 { 0.0 } else { round(n as f64 / d as f64) };
    Metrics {
        hit_at_1: share(inside.iter().filter(|r| r.rank == Some(1)).count(), inside.len()),
        hit_at_3: share(inside.iter().filter(|r| r.rank.is_some_and(|x| x <= 3)).count(), inside.len()),
        mrr: if inside.is_empty() {
            0.0
        } else {
            round(
                inside.iter().map(|r| r.rank.map_or(0.0, |x| 1.0 / x as f64)).sum::<f64>()
                    / inside.len() as f64,
            )
        },
        answered_in_scope: share(inside.iter().filter(|r| !r.unsure).count(), inside.len()),
        declined_out_of_scope: share(outside.iter().filter(|r| r.unsure).count(), outside.len()),
        questions: rows.len(),
        answer_pass: None,
        answer_chars_p50: None,
    }
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Follows an ingestion job, with a progress bar on a terminal, until it ends.
pub async fn follow(k: &Knowledge, id: &SourceId, bar: bool) -> anyhow::Result<SourceStatus> {
    let pb = if bar {
        let pb = indicatif::ProgressBar::new(0);
        pb.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Some(pb)
    } else {
        None
    };
    loop {
        let s = k.source(id).ok_or_else(|| anyhow::anyhow!("the source disappeared"))?;
        if let Some(pb) = &pb {
            pb.set_length(s.total.max(s.done) as u64);
            pb.set_position(s.done as u64);
            pb.set_message(format!("{} errors", s.error_count));
        }
        if s.status != JobStatus::Running {
            if let Some(pb) = &pb {
                pb.finish_and_clear();
            }
            return Ok(s);
        }
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
}

/// Prints what an ingestion did, errors included.
pub fn print_source(s: &SourceStatus) {
    eprintln!(
        "{}: {} documents ({} new or changed, {} unchanged, {} removed), {} errors",
        s.name, s.documents, s.changed, s.unchanged, s.removed, s.error_count
    );
    for e in &s.errors {
        eprintln!("  {}: {}", e.item, e.message);
    }
    if !s.message.is_empty() {
        eprintln!("  {}", s.message);
    }
}

/// `baton eval`.
pub async fn run(config: &Config, args: EvalArgs) -> anyhow::Result<()> {
    if let (Some(triggers), None) = (&args.triggers, &args.questions) {
        return crate::handoff::eval::run(config, triggers, args.json, args.features.as_deref())
            .await
            .map(|_| ());
    }
    let (Some(corpus), Some(questions)) = (&args.corpus, &args.questions) else {
        anyhow::bail!("give --corpus DIR and --questions FILE");
    };
    let questions = read_questions(questions)?;
    let nuggets = args.nuggets.as_deref().map(read_nuggets).transpose()?;
    let tmp = tempfile_dir()?;
    let dir = args.store.clone().unwrap_or_else(|| tmp.clone());
    let store = Store::open(&dir, false)?;
    let embedder = Embedder::load_default(config.limits.embed_queue)?;
    let k = Knowledge::open(store, embedder)?;
    let started = std::time::Instant::now();
    let id = k.ingest_path(corpus, None)?;
    let status = follow(&k, &id, !args.json && std::io::IsTerminal::is_terminal(&std::io::stderr())).await?;
    print_source(&status);
    eprintln!("ingested in {:.1} s, {} chunks", started.elapsed().as_secs_f32(), k.chunk_count());
    if status.status == JobStatus::Failed {
        anyhow::bail!("ingestion failed: {}", status.message);
    }
    let threshold = config.answer.confidence_threshold;
    let max_citations = config.answer.max_citations.max(3);
    let weights = if args.dense_weights.is_empty() {
        vec![crate::knowledge::DEFAULT_DENSE_WEIGHT]
    } else {
        args.dense_weights.clone()
    };
    let mut last = Metrics::default();
    for w in weights {
        k.set_dense_weight(w);
        let (m, rows) = evaluate(&k, &questions, nuggets.as_deref(), threshold, max_citations).await?;
        if !args.json {
            for r in &rows {
                let pass = match r.pass {
                    Some(true) => "PASS ",
                    Some(false) => "fail ",
                    None => "",
                };
                let mark = match (r.in_scope, r.rank, r.unsure) {
                    (true, Some(1), false) => "ok ",
                    (true, Some(_), false) => "ok~",
                    (true, _, true) => "UNS",
                    (true, None, false) => "MIS",
                    (false, _, true) => "ok ",
                    (false, _, false) => "ANS",
                };
                println!("{pass}{mark} {:.2} {:?} {}  -> {:?}", r.confidence, r.retrieval_rank, r.q, r.cited);
                if r.pass == Some(false) && std::env::var_os("BATON_EVAL_SHOW").is_some() {
                    println!("    {}", r.answer.replace('\n', "\n    "));
                }
            }
        }
        if let Some(path) = &args.features {
            let lines: Vec<String> = rows.iter().filter_map(|r| serde_json::to_string(r).ok()).collect();
            std::fs::write(path, lines.join("\n") + "\n")?;
        }
        eprintln!("dense weight {w:.2}: {m:?}");
        last = m;
    }
    if args.store.is_none() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    if args.json {
        println!("{}", serde_json::to_string(&last)?);
    } else {
        println!(
            "hit@1 {:.3}  hit@3 {:.3}  MRR {:.3}  answered_in_scope {:.3}  declined_out_of_scope {:.3}  ({} questions)",
            last.hit_at_1, last.hit_at_3, last.mrr, last.answered_in_scope, last.declined_out_of_scope, last.questions
        );
        if let (Some(p), Some(c)) = (last.answer_pass, last.answer_chars_p50) {
            println!("answer_pass {p:.3}  answer_chars_p50 {c:.0}");
        }
    }
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("baton-eval-{}", crate::ids::random_hex(6)));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nuggets_fold_case_and_accents_and_cap_length() {
        let g = vec![vec!["paramètres".to_owned(), "settings".to_owned()], vec!["Facture".to_owned()]];
        assert!(passes("Ouvrez les PARAMETRES puis la facture.", &g));
        assert!(!passes("Ouvrez les paramètres.", &g));
        let long = format!("settings facture {}", "x".repeat(NUGGET_MAX_CHARS));
        assert!(!passes(&long, &g));
    }
}
