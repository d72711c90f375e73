//! Cost of the handoff classifier per visitor message: `cargo bench --bench triggers [-- FILE]`.
//!
//! FILE: labelled messages (JSON lines with `text`; default `tests/fixtures/triggers.jsonl`).
//! Measures, per message, with the real model:
//!
//! - `classify`: the classifier alone on the message's vectors (heads, clauses, lexicons,
//!   exemplar margins for admin topics): what the heads add to every message;
//! - `embed_whole`: embedding the message alone (what Baton computed before the heads);
//! - `embed_with_clauses`: embedding the message and its clauses in one call (what it computes
//!   now), so the clause scoring's extra embedding cost is visible.
//!
//! Prints p50/p99 in milliseconds as one JSON line per measurement.

use std::time::Instant;

use baton::config::HandoffConfig;
use baton::embed::{Embedder, Kind};
use baton::handoff::classify::{self, Classifier, Vectors};

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn main() {
    let path = std::env::args()
        .skip(1)
        .find(|a| a != "--bench")
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/triggers.jsonl").into());
    let texts: Vec<String> = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let embedder = Embedder::load_default(64).expect("model loads");
    let cfg = HandoffConfig::default();
    let classifier = Classifier::default();
    let index = rt.block_on(classifier.index(&embedder, &cfg)).expect("exemplars embed");
    let vectors = rt.block_on(classify::embed_messages(&embedder, &texts)).expect("messages embed");

    let mut classify_ms = Vec::new();
    for _ in 0..20 {
        for (t, (w, s)) in texts.iter().zip(&vectors) {
            let start = Instant::now();
            let f = classify::classify(t, Some(Vectors { whole: w, segments: s }), Some(&index), &cfg);
            classify_ms.push(start.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(f);
        }
    }
    let (mut whole_ms, mut clauses_ms) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        for t in &texts {
            let start = Instant::now();
            embedder.embed_blocking(vec![t.clone()], Kind::Query).unwrap();
            whole_ms.push(start.elapsed().as_secs_f64() * 1e3);
            let start = Instant::now();
            let mut all = vec![t.clone()];
            all.extend(baton::handoff::head::segments(t));
            embedder.embed_blocking(all, Kind::Query).unwrap();
            clauses_ms.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    let long = texts.iter().filter(|t| !baton::handoff::head::segments(t).is_empty()).count();
    for (what, v) in
        [("classify", classify_ms), ("embed_whole", whole_ms), ("embed_with_clauses", clauses_ms)]
    {
        println!(
            "{{\"what\":\"{what}\",\"messages\":{},\"with_clauses\":{long},\"samples\":{},\"p50_ms\":{:.3},\"p99_ms\":{:.3}}}",
            texts.len(),
            v.len(),
            pct(v.clone(), 0.5),
            pct(v, 0.99)
        );
    }
}
