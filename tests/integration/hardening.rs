//! Hostile input: documents nested to crash a recursive parser, deeply nested JSON bodies, and
//! seeded generators of random input per parser. Nothing may take the server down; a bad
//! document is that document's error.

use std::time::{Duration, Instant};

use baton::knowledge::parse::{parse, Format};
use baton::knowledge::JobStatus;
use serde_json::{json, Value};

use crate::common::TestServer;

/// 20,000 nested `<div>` (about 220 KB): overflowed a tokio worker's stack and aborted Baton.
pub fn deep_html() -> String {
    let n = 20_000;
    let mut s = String::with_capacity(n * 11 + 200);
    s.push_str("<html><head><title>Deep</title></head><body><main><h1>Deep page</h1><p>Top text.</p>");
    for _ in 0..n {
        s.push_str("<div>");
    }
    s.push_str("innermost words");
    for _ in 0..n {
        s.push_str("</div>");
    }
    s.push_str("</main></body></html>");
    s
}

/// A small valid PDF (one page of Helvetica text) whose catalog carries `extra`.
pub fn pdf_with_catalog(extra: &str, text: &str) -> Vec<u8> {
    let content = format!("BT /F1 12 Tf 72 720 Td ({text}) Tj ET");
    let objects = [
        format!("<< /Type /Catalog /Pages 2 0 R {extra} >>"),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_owned(),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n", objects.len() + 1)
            .as_bytes(),
    );
    out
}

/// About 4 KB: a catalog that nests 2,000 arrays (or dictionaries).
pub fn deep_pdf(dicts: bool) -> Vec<u8> {
    let (open, close) = if dicts { ("<< /A ", " >>") } else { ("[", "]") };
    let n = if dicts { 400 } else { 2_000 };
    let deep = format!("/Deep {}{}", open.repeat(n), close.repeat(n));
    pdf_with_catalog(&deep, "Deep catalog text")
}

/// Blockquotes, lists and emphasis nested thousands deep.
pub fn deep_markdown() -> String {
    let mut s = String::from("# Deep\n\nIntro paragraph.\n\n");
    s.push_str(&">".repeat(50_000));
    s.push_str(" quoted words\n\n");
    for i in 0..1_000 {
        s.push_str(&" ".repeat(i));
        s.push_str("- item\n");
    }
    s.push_str(&"*".repeat(20_000));
    s.push_str("emphasis");
    s.push_str(&"*".repeat(20_000));
    s.push_str("\n\n");
    s.push_str(&"[".repeat(20_000));
    s.push_str("\n\nLast paragraph.\n");
    s
}

fn setup_pdf_reader() {
    baton::knowledge::pdf::set_helper(env!("CARGO_BIN_EXE_baton"));
}

#[test]
fn deeply_nested_documents_parse_on_a_small_stack() {
    // Run on a thread with tokio's 2 MiB blocking stack: the parsers themselves must be
    // bounded, whatever thread they end up on.
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let html = deep_html();
            assert!(html.len() > 200_000);
            let p = parse(Format::Html, html.as_bytes(), "x").expect("deep HTML parses");
            let all = format!("{:?}", p.sections);
            assert!(all.contains("Top text.") && all.contains("innermost words"), "text is kept");

            let md = deep_markdown();
            let p = parse(Format::Markdown, md.as_bytes(), "x").expect("deep Markdown parses");
            let all = format!("{:?}", p.sections);
            assert!(all.contains("Intro paragraph.") && all.contains("Last paragraph."), "{}", all.len());
        })
        .unwrap()
        .join()
        .expect("no stack overflow");
}

#[test]
fn deeply_nested_pdfs_are_an_error_or_text_never_a_crash() {
    setup_pdf_reader();
    for dicts in [false, true] {
        let pdf = deep_pdf(dicts);
        assert!(pdf.len() < 5_000, "{}", pdf.len());
        match parse(Format::Pdf, &pdf, "x") {
            Ok(p) => assert!(format!("{p:?}").contains("Deep catalog text"), "{p:?}"),
            Err(e) => assert!(e.contains("PDF"), "{e}"),
        }
    }
    // The reader still works for a normal PDF after the hostile ones.
    let p = parse(Format::Pdf, &pdf_with_catalog("", "Refunds within thirty days"), "x").unwrap();
    assert!(format!("{p:?}").contains("Refunds within thirty days"), "{p:?}");
}

#[tokio::test]
async fn hostile_files_are_per_document_errors_and_a_refresh_after_restart_is_safe() {
    setup_pdf_reader();
    let dir = tempfile::tempdir().unwrap();
    let docs = dir.path().join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("deep.html"), deep_html()).unwrap();
    std::fs::write(docs.join("deep.md"), deep_markdown()).unwrap();
    std::fs::write(docs.join("deep-arrays.pdf"), deep_pdf(false)).unwrap();
    std::fs::write(docs.join("deep-dicts.pdf"), deep_pdf(true)).unwrap();
    std::fs::write(docs.join("ok.md"), "# Parking\n\nThe car park opens at seven in the morning.\n").unwrap();
    let data = tempfile::tempdir().unwrap();
    let config = baton::Config {
        data_dir: data.path().to_path_buf(),
        addr: "127.0.0.1:0".parse().unwrap(),
        demo_knowledge: false,
        ..baton::Config::default()
    };
    let s = TestServer::start_in(data, config.clone(), true).await;
    let id = s.state.knowledge.ingest_path(&docs, None).unwrap();
    let status = s.state.knowledge.wait(&id).await.unwrap();
    assert_eq!(status.status, JobStatus::Done, "{status:?}");
    assert!(status.documents >= 3, "{status:?}");
    for e in &status.errors {
        assert!(e.item.ends_with(".pdf") && e.message.contains("PDF"), "{status:?}");
    }
    let a = s.state.knowledge.answer("When does the car park open?", 0.0, 3).await.unwrap();
    assert_eq!(a.citations[0].path, "ok.md", "{a:?}");

    // Restart on the same data dir and ingest the same files again.
    let data = s.stop();
    let db = data.path().join("baton.redb");
    let t0 = Instant::now();
    while let Err(e) = redb::Database::create(&db) {
        assert!(t0.elapsed() < Duration::from_secs(120), "the old server never released the database: {e}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let s = TestServer::start_in(data, config, true).await;
    s.state.knowledge.recrawl(&id, &s.state.config().crawl).unwrap();
    let again = s.state.knowledge.wait(&id).await.unwrap();
    assert_eq!(again.status, JobStatus::Done, "{again:?}");
    assert_eq!(s.client.get(s.url("/healthz")).send().await.unwrap().status(), 200);
}

/// A multipart body with one file, built by hand.
fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "baton-test-boundary-7d1f".to_owned();
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn uploading_hostile_files_leaves_the_server_up() {
    setup_pdf_reader();
    let s = TestServer::start().await;
    let owner = crate::accounts::owner(&s).await;
    for (name, bytes) in [
        ("deep.html", deep_html().into_bytes()),
        ("deep.pdf", deep_pdf(false)),
        ("deep.md", deep_markdown().into_bytes()),
    ] {
        let (ct, body) = multipart(name, &bytes);
        let r = owner
            .client
            .post(s.url("/api/admin/knowledge/uploads"))
            .header("X-CSRF-Token", &owner.csrf)
            .header("Content-Type", ct)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{name}");
        let v: Value = r.json().await.unwrap();
        let id = baton::ids::SourceId::from(v["id"].as_str().unwrap().to_owned());
        let status = s.state.knowledge.wait(&id).await.unwrap();
        assert!(status.status == JobStatus::Done || status.status == JobStatus::Failed, "{status:?}");
        assert_eq!(s.client.get(s.url("/healthz")).send().await.unwrap().status(), 200, "{name}");
    }
}

#[tokio::test]
async fn deeply_nested_json_bodies_are_400_json_errors() {
    let s = TestServer::start().await;
    let session: Value = s
        .client
        .post(s.url("/api/widget/session"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    let arrays = format!("{}{}", "[".repeat(20_000), "]".repeat(20_000));
    let objects = format!("{}1{}", "{\"a\":".repeat(5_000), "}".repeat(5_000));
    for deep in [&arrays, &objects] {
        for (path, body) in [
            ("/api/widget/messages", format!("{{\"text\":{deep}}}")),
            ("/api/widget/messages", deep.clone()),
            ("/api/auth/login", format!("{{\"email\":{deep},\"password\":\"x\"}}")),
            ("/api/answers", format!("{{\"question\":{deep}}}")),
        ] {
            let r = s
                .client
                .post(s.url(path))
                .bearer_auth(&token)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            assert!(status == 400 || status == 413, "{path}: {status}");
            let v: Value = r.json().await.expect("a JSON error body");
            assert!(v["code"].is_string(), "{v}");
        }
    }
    assert_eq!(s.client.get(s.url("/healthz")).send().await.unwrap().status(), 200);
}

/// A small deterministic generator (xorshift64*), so failures reproduce.
pub struct Gen(u64);

impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

fn random_html(g: &mut Gen) -> String {
    const TAGS: &[&str] = &[
        "div", "p", "span", "b", "table", "tr", "td", "ul", "li", "h2", "pre", "nav", "a", "section", "svg",
        "template", "select", "option", "form", "button",
    ];
    let mut s = String::new();
    let mut open = Vec::new();
    for _ in 0..g.below(6_000) {
        match g.below(6) {
            0 | 1 => {
                let t = g.pick(TAGS);
                s.push_str(&format!("<{t} id=\"x{}\">", g.below(100)));
                open.push(t);
            }
            2 => {
                if let Some(t) = open.pop() {
                    s.push_str(&format!("</{t}>"));
                }
            }
            3 => s.push_str(g.pick(&["text ", "&amp; ", "<!-- c -->", "<br>", "&#", "<", "\u{0}", "é "])),
            4 => s.push_str(&"<div>".repeat(g.below(3_000))),
            _ => s.push_str(g.pick(&["</p>", "</table>", "<h1>T</h1>", "<script>x</script>", "<![CDATA["])),
        }
    }
    s
}

fn random_markdown(g: &mut Gen) -> String {
    const LINES: &[&str] = &[
        "# Title",
        "## Sub {#id}",
        "> quote",
        "- item",
        "1. item",
        "```",
        "~~~",
        "| a | b |",
        "|---|---|",
        ":::tip Note",
        ":::",
        "<div",
        ">",
        "import x from 'y'",
        "**bold",
        "[link](",
        "![img](x.png)",
        "text",
        "",
        "---",
        "title: x",
        "<Comp prop={x}>",
        "{/* c */}",
    ];
    let mut s = String::new();
    for _ in 0..g.below(3_000) {
        s.push_str(&" ".repeat(g.below(40)));
        s.push_str(&">".repeat(g.below(4) * g.below(500)));
        s.push_str(g.pick(LINES));
        if g.below(10) == 0 {
            s.push_str(&"*[".repeat(g.below(2_000)));
        }
        s.push('\n');
    }
    s
}

#[test]
fn generated_html_markdown_and_text_never_crash_a_parser() {
    std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let mut g = Gen::new(0x5eed_0001);
            let started = Instant::now();
            // Each case can hold a million nested elements; in a debug build eight of them take about 90 s.
            for case in 0..8 {
                let html = random_html(&mut g);
                let _ = parse(Format::Html, html.as_bytes(), "x");
                let md = random_markdown(&mut g);
                let _ = parse(Format::Markdown, md.as_bytes(), "x");
                let _ = parse(Format::Text, md.as_bytes(), "x");
                // Random bytes as text: an error (not UTF-8) or text, never a panic.
                let bytes: Vec<u8> = (0..g.below(4_000)).map(|_| g.next() as u8).collect();
                let _ = parse(Format::Html, &bytes, "x");
                let _ = parse(Format::Markdown, &bytes, "x");
                assert!(started.elapsed() < Duration::from_secs(120), "case {case} is too slow");
            }
        })
        .unwrap()
        .join()
        .expect("no parser crashed");
}

#[test]
fn generated_pdfs_never_crash_the_server_process() {
    setup_pdf_reader();
    let mut g = Gen::new(0x5eed_0002);
    let base = pdf_with_catalog("", "Random cases");
    for _ in 0..12 {
        let mut pdf = match g.below(3) {
            0 => {
                let (o, c) = if g.below(2) == 0 { ("[", "]") } else { ("<< /K ", " >>") };
                let n = g.below(5_000);
                pdf_with_catalog(&format!("/X {}{}", o.repeat(n), c.repeat(g.below(n + 1))), "x")
            }
            _ => base.clone(),
        };
        for _ in 0..g.below(20) {
            let at = g.below(pdf.len());
            pdf[at] = g.next() as u8;
        }
        if g.below(4) == 0 {
            pdf.truncate(g.below(pdf.len()));
        }
        let _ = parse(Format::Pdf, &pdf, "x");
    }
    // Still alive, and the reader still reads.
    assert!(parse(Format::Pdf, &base, "x").is_ok());
}

fn random_json(g: &mut Gen, depth: usize) -> String {
    if depth == 0 {
        return g.pick(&["1", "\"s\"", "null", "true", "-0.5e9", "\"\\u0000\"", "\"\\ud800\""]).to_owned();
    }
    match g.below(4) {
        0 => {
            format!("[{}]", (0..g.below(3)).map(|_| random_json(g, depth - 1)).collect::<Vec<_>>().join(","))
        }
        1 => format!("{{\"text\":{},\"k{}\":{}}}", random_json(g, depth - 1), g.below(9), random_json(g, 0)),
        2 => format!("{}{}", "[".repeat(g.below(400)), random_json(g, depth - 1)),
        _ => random_json(g, 0),
    }
}

#[tokio::test]
async fn generated_json_bodies_get_json_answers_and_no_5xx() {
    let s = TestServer::start().await;
    let session: Value = s
        .client
        .post(s.url("/api/widget/session"))
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = session["token"].as_str().unwrap().to_owned();
    let mut g = Gen::new(0x5eed_0003);
    for _ in 0..80 {
        let depth = 1 + g.below(8);
        let body = random_json(&mut g, depth);
        let path = g.pick(&["/api/widget/messages", "/api/auth/login", "/api/answers", "/api/widget/typing"]);
        let r = s
            .client
            .post(s.url(path))
            .bearer_auth(&token)
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = r.status();
        assert!(status.as_u16() < 500, "{path} {body}: {status}");
        let _: Value = r.json().await.unwrap_or_else(|e| panic!("{path} {body}: not JSON: {e}"));
    }
    assert_eq!(s.client.get(s.url("/healthz")).send().await.unwrap().status(), 200);
}
