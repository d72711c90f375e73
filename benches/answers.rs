//! The knowledge engine end to end: ingest time of a corpus, then query-to-answer latency
//! (question embedding + hybrid search + answer composition, as `POST /api/answers` does it) at
//! the corpus's own size and with the corpus replicated to about 10k chunks, and peak RSS.
//!
//! `cargo bench --bench answers -- [CORPUS_DIR] [QUESTIONS_JSONL] [TARGET_CHUNKS]`
//!
//! Defaults: the shared dev corpus and its questions when they exist (else Baton's own `docs/`
//! with a few built-in questions), 10,000 chunks. Replicas are exact copies of the stored chunks
//! and vectors under new document ids, so the search does the same work as over 10k distinct
//! chunks (every vector is scored, every posting list is ten times longer) without embedding
//! the same text ten times.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use baton::embed::Embedder;
use baton::eval::read_questions;
use baton::ids::{ChunkId, DocumentId};
use baton::knowledge::{Chunk, Document, Knowledge};
use baton::store::{self, Store, CHUNKS, DOCUMENTS, VECTORS};
use redb::ReadableTable;

const THRESHOLD: f32 = 0.5;
const CITATIONS: usize = 3;
const PASSES: usize = 3;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .map_or(0.0, |kib: f64| kib / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn latency(k: &Knowledge, questions: &[String], label: &str) {
    // One warm-up pass (the background vectors are embedded on the first question).
    for q in questions {
        k.answer(q, THRESHOLD, CITATIONS).await.expect("answer");
    }
    let mut times = Vec::new();
    for _ in 0..PASSES {
        for q in questions {
            let t = Instant::now();
            k.answer(q, THRESHOLD, CITATIONS).await.expect("answer");
            times.push(t.elapsed());
        }
    }
    times.sort();
    println!(
        "{{\"bench\":\"answer\",\"index\":\"{label}\",\"chunks\":{},\"queries\":{},\"p50_ms\":{:.1},\"p99_ms\":{:.1},\"max_ms\":{:.1}}}",
        k.chunk_count(),
        times.len(),
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        percentile(&times, 1.0)
    );
}

/// Adds `copies - 1` copies of every stored document, chunk and vector under new ids.
fn replicate(store: &Store, copies: usize) -> baton::error::Result<()> {
    let docs: Vec<(String, Document)> = store.list_json(DOCUMENTS)?;
    store.write(|tx| {
        let mut dt = tx.open_table(DOCUMENTS)?;
        let mut ct = tx.open_table(CHUNKS)?;
        let mut vt = tx.open_table(VECTORS)?;
        for (_, doc) in &docs {
            for c in 1..copies {
                let mut copy = doc.clone();
                copy.id = DocumentId::from(format!("{}-copy{c}", doc.id.as_str()));
                copy.path = format!("copy{c}/{}", doc.path);
                copy.chunks.clear();
                for cid in &doc.chunks {
                    let new = ChunkId(cid.0.wrapping_add((c as u64) << 48));
                    let raw = ct.get(cid.0)?.map(|g| g.value().to_vec());
                    let vector = vt.get(cid.0)?.map(|g| g.value().to_vec());
                    let (Some(raw), Some(vector)) = (raw, vector) else { continue };
                    let mut chunk: Chunk = serde_json::from_slice(&raw)?;
                    chunk.id = new;
                    chunk.document = copy.id.clone();
                    ct.insert(new.0, serde_json::to_vec(&chunk)?.as_slice())?;
                    vt.insert(new.0, vector.as_slice())?;
                    copy.chunks.push(new);
                }
                store::put_json(&mut dt, copy.id.as_str(), &copy)?;
            }
        }
        Ok(())
    })
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let shared = Path::new("/work/shared/eval");
    let corpus = args.first().map(PathBuf::from).unwrap_or_else(|| shared.join("corpus/plausible-docs"));
    let (corpus, questions) = if corpus.is_dir() {
        let file = args.get(1).map(PathBuf::from).unwrap_or_else(|| shared.join("questions.dev.jsonl"));
        let qs = read_questions(&file).expect("questions").into_iter().map(|q| q.q).collect();
        (corpus, qs)
    } else {
        let own = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs");
        let qs =
            ["How do I install Baton?", "Does any data leave the server?", "Wie übergebe ich an das Team?"];
        (own, qs.iter().map(|s| s.to_string()).collect::<Vec<String>>())
    };
    let target: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);

    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open(dir.path(), false).expect("store");
    let embedder = Embedder::load_default(64).expect("model");
    let k = Knowledge::open(store.clone(), embedder.clone()).expect("knowledge");

    let t = Instant::now();
    let id = k.ingest_path(&corpus, None).expect("ingest");
    let status = k.wait(&id).await.expect("ingest");
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{{\"bench\":\"ingest\",\"corpus\":{:?},\"documents\":{},\"chunks\":{},\"seconds\":{secs:.1},\"chunks_per_s\":{:.2},\"errors\":{}}}",
        corpus.display().to_string(),
        status.documents,
        k.chunk_count(),
        k.chunk_count() as f64 / secs,
        status.error_count
    );

    latency(&k, &questions, "corpus").await;

    let copies = target.div_ceil(k.chunk_count().max(1)).max(1);
    if copies > 1 {
        replicate(&store, copies).expect("replicate");
        drop(k);
        let t = Instant::now();
        let k = Knowledge::open(store, embedder).expect("knowledge");
        println!(
            "{{\"bench\":\"open\",\"chunks\":{},\"seconds\":{:.2}}}",
            k.chunk_count(),
            t.elapsed().as_secs_f64()
        );
        latency(&k, &questions, "replicated").await;
    }
    println!("{{\"bench\":\"peak_rss\",\"mib\":{:.0}}}", peak_rss_mib());
}
