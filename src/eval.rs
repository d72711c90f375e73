//! `baton eval`: measures answers on a corpus and a questions file.
//!
//! The corpus is ingested into a temporary store (or `--store DIR`, which makes repeated runs
//! incremental), then every question is asked. Metrics over in-scope questions: hit@1, hit@3 and
//! MRR (a hit is an expected file, path relative to the corpus root, among the citations) and
//! `answered_in_scope` (share answered with `unsure = false`); over out-of-scope questions:
//! `declined_out_of_scope` (share with `unsure = true`). With `--json` the last line printed is one
//! JSON object with exactly those keys and `questions`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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
}

pub fn read_questions(path: &Path) -> anyhow::Result<Vec<Question>> {
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
    threshold: f32,
    max_citations: usize,
) -> anyhow::Result<(Metrics, Vec<Row>)> {
    let mut rows = Vec::new();
    for q in questions {
        let results = k.retrieve(&q.q).await?;
        let answer = crate::answer::compose(&q.q, &results, threshold, max_citations, &|t| k.terms(t));
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
            features: Features::from_results(&results),
            cited,
        });
    }
    Ok((metrics(&rows), rows))
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
        return crate::handoff::eval::run(config, triggers, args.json).await.map(|_| ());
    }
    let (Some(corpus), Some(questions)) = (&args.corpus, &args.questions) else {
        anyhow::bail!("give --corpus DIR and --questions FILE");
    };
    let questions = read_questions(questions)?;
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
        let (m, rows) = evaluate(&k, &questions, threshold, max_citations).await?;
        if !args.json {
            for r in &rows {
                let mark = match (r.in_scope, r.rank, r.unsure) {
                    (true, Some(1), false) => "ok ",
                    (true, Some(_), false) => "ok~",
                    (true, _, true) => "UNS",
                    (true, None, false) => "MIS",
                    (false, _, true) => "ok ",
                    (false, _, false) => "ANS",
                };
                println!("{mark} {:.2} {:?} {}  -> {:?}", r.confidence, r.retrieval_rank, r.q, r.cited);
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
    }
    Ok(())
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("baton-eval-{}", crate::ids::random_hex(6)));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
