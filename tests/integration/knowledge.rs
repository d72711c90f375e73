//! The knowledge engine end to end: ingestion of every format, eval metrics on a small corpus,
//! re-ingest, snippets, cross-lingual retrieval, the crawler and its SSRF guard, the answers API.

use std::path::{Path, PathBuf};

use baton::eval::{evaluate, read_questions};
use baton::knowledge::{JobStatus, Knowledge, SourceKind};

use crate::common::TestServer;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knowledge")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

async fn ingest(k: &Knowledge, dir: &Path) -> baton::knowledge::SourceStatus {
    let id = k.ingest_path(dir, None).unwrap();
    k.wait(&id).await.unwrap()
}

#[tokio::test]
async fn fixture_corpus_is_answered_and_off_topic_is_declined() {
    let s = TestServer::start().await;
    let k = &s.state.knowledge;
    let status = ingest(k, &fixtures().join("corpus")).await;
    assert_eq!(status.status, JobStatus::Done, "{status:?}");
    // The broken PDF is a per-document error; everything else is in.
    assert_eq!(status.error_count, 1, "{:?}", status.errors);
    assert_eq!(status.errors[0].item, "broken.pdf");
    assert!(status.errors[0].message.contains("PDF"), "{:?}", status.errors);
    assert_eq!(status.documents, 9);

    let docs = k.documents(&status.id).unwrap();
    let export = docs.iter().find(|d| d.path == "export.html").unwrap();
    assert_eq!(export.title, "Exporting notes");
    assert!(export.headings.contains(&"Export formats".to_owned()));
    let gs = docs.iter().find(|d| d.path == "getting-started.md").unwrap();
    assert_eq!(gs.title, "Getting started with Lumen Notes", "front matter title is kept");

    let questions = read_questions(&fixtures().join("questions.jsonl")).unwrap();
    let (m, rows) = evaluate(k, &questions, None, 0.5, 3).await.unwrap();
    let failed: Vec<_> = rows.iter().filter(|r| r.in_scope && r.rank.is_none_or(|x| x > 3)).collect();
    assert!(m.hit_at_3 >= 0.9, "{m:?} {failed:#?}");
    assert!(m.hit_at_1 >= 0.7, "{m:?} {rows:#?}");
    assert!(m.answered_in_scope >= 0.7, "{m:?} {rows:#?}");
    assert_eq!(m.declined_out_of_scope, 1.0, "{rows:#?}");

    // A confident answer quotes the source and numbers it.
    let a = k.answer("How do I reset my password?", 0.5, 3).await.unwrap();
    assert!(!a.unsure, "{a:?}");
    assert!(a.text.contains("[1]") && a.text.contains("Forgot password"), "{}", a.text);
    assert_eq!(a.citations[0].path, "account-security.md");
    assert_eq!(a.citations[0].section, "Reset a forgotten password");

    // Off topic: honest, offers the team, cites nothing unrelated.
    let a = k.answer("What is the best recipe for lasagna?", 0.5, 3).await.unwrap();
    assert!(a.unsure && a.text.contains("not sure") && a.text.contains("team"), "{a:?}");
}

#[tokio::test]
async fn german_question_finds_the_english_page() {
    let s = TestServer::start().await;
    let k = &s.state.knowledge;
    ingest(k, &fixtures().join("corpus")).await;
    let a = k.answer("Wie setze ich mein vergessenes Passwort zurück?", 0.5, 3).await.unwrap();
    assert_eq!(a.citations.first().map(|c| c.path.as_str()), Some("account-security.md"), "{a:?}");
    let a = k.answer("Wo werden meine Daten gespeichert?", 0.5, 3).await.unwrap();
    assert_eq!(a.citations.first().map(|c| c.path.as_str()), Some("privacy.md"), "{a:?}");
}

#[tokio::test]
async fn a_german_knowledge_base_answers_german_questions_and_declines_off_topic_ones() {
    // The confidence compares a question with the docs and with off-topic passages in the
    // docs' own language; a German knowledge base gets the German ones.
    let s = TestServer::start().await;
    let k = &s.state.knowledge;
    let de = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knowledge-de");
    let status = ingest(k, &de.join("corpus")).await;
    assert_eq!((status.status, status.documents), (JobStatus::Done, 6), "{status:?}");
    let questions = read_questions(&de.join("questions.jsonl")).unwrap();
    let (m, rows) = evaluate(k, &questions, None, 0.5, 3).await.unwrap();
    assert!(m.hit_at_1 >= 0.85, "{m:?} {rows:#?}");
    assert!(m.answered_in_scope >= 0.75, "{m:?} {rows:#?}");
    assert_eq!(m.declined_out_of_scope, 1.0, "{rows:#?}");
    let a = k.answer("Wo trage ich unsere Umsatzsteuer-ID ein?", 0.5, 3).await.unwrap();
    assert!(!a.unsure && a.text.contains("Firmendaten"), "{a:?}");
    assert_eq!(a.citations[0].path, "abrechnung.md");
}

#[tokio::test]
async fn reingest_skips_unchanged_updates_changed_and_removes_deleted() {
    let s = TestServer::start().await;
    let k = &s.state.knowledge;
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("corpus"), dir.path());
    std::fs::remove_file(dir.path().join("broken.pdf")).unwrap();
    let first = ingest(k, dir.path()).await;
    assert_eq!((first.changed, first.documents), (9, 9));
    let chunks_before = k.chunk_count();

    std::fs::write(
        dir.path().join("offline-sync.txt"),
        "Offline mode\n\nLumen Notes stores up to 30 days of edits offline and syncs them within seconds of reconnecting.\n",
    )
    .unwrap();
    std::fs::remove_file(dir.path().join("shortcuts.html")).unwrap();
    let second = ingest(k, dir.path()).await;
    assert_eq!(first.id, second.id, "the same folder is the same source");
    assert_eq!((second.changed, second.unchanged, second.removed), (1, 7, 1), "{second:?}");
    assert_eq!(second.documents, 8);
    assert!(k.chunk_count() < chunks_before);

    let a = k.answer("How many days of offline edits are kept?", 0.0, 3).await.unwrap();
    assert!(a.text.contains("30 days"), "updated content is answered: {}", a.text);
    let a = k.answer("Which keyboard shortcut opens quick search?", 0.0, 3).await.unwrap();
    assert!(a.citations.iter().all(|c| c.path != "shortcuts.html"), "deleted page is gone: {a:?}");

    // Survives a restart: the index is rebuilt from the store.
    let config = s.state.config().as_ref().clone();
    let data = s.stop();
    // The old server lets go of the database once its graceful shutdown has finished.
    let db = data.path().join("baton.redb");
    let t0 = std::time::Instant::now();
    while let Err(e) = redb::Database::create(&db) {
        assert!(t0.elapsed().as_secs() < 120, "the old server never released the database: {e}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let s2 = TestServer::start_in(data, config, false).await;
    assert_eq!(s2.state.knowledge.document_count(), 8);
    let health: serde_json::Value =
        s2.client.get(s2.url("/healthz")).send().await.unwrap().json().await.unwrap();
    assert!(health["chunks"].as_u64().unwrap() > 0, "{health}");
}

#[tokio::test]
async fn snippets_are_answered_at_once_and_can_be_deleted() {
    let s = TestServer::start().await;
    let k = &s.state.knowledge;
    ingest(k, &fixtures().join("corpus")).await;
    let q = "Do you offer a discount for schools and universities?";
    let before = k.answer(q, 0.5, 3).await.unwrap();
    assert!(before.unsure, "{before:?}");
    let id = k
        .add_snippet(
            "Is there an education discount?",
            "Yes. Schools and universities get 50% off the Team plan. Write to edu@lumen.example from your school address.",
            "agent@lumen.example",
        )
        .await
        .unwrap();
    let after = k.answer(q, 0.5, 3).await.unwrap();
    assert!(!after.unsure && after.text.contains("50%"), "{after:?}");
    assert_eq!(after.citations[0].document, id);
    let snippets = k.snippets().unwrap();
    assert_eq!(snippets.len(), 1);
    assert_eq!(snippets[0].author, "agent@lumen.example");
    assert!(k.sources().iter().any(|s| s.kind == SourceKind::Snippets));

    k.delete_document(&id).unwrap();
    assert!(k.snippets().unwrap().is_empty());
    let gone = k.answer(q, 0.5, 3).await.unwrap();
    assert!(gone.citations.iter().all(|c| c.document != id));
}

#[tokio::test]
async fn answers_endpoint_returns_cited_answers() {
    let s = TestServer::start().await;
    ingest(&s.state.knowledge, &fixtures().join("corpus")).await;
    let r = s
        .client
        .post(s.url("/api/answers"))
        .json(&serde_json::json!({"question": "Where can I download my invoices?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let a: serde_json::Value = r.json().await.unwrap();
    assert_eq!(a["citations"][0]["path"], "billing.md", "{a}");
    assert_eq!(a["citations"][0]["n"], 1);
    assert!(a["confidence"].as_f64().unwrap() > 0.0);
    assert!(a["text"].as_str().unwrap().contains("[1]"), "{a}");

    let r = s
        .client
        .post(s.url("/api/answers"))
        .json(&serde_json::json!({"question": "  "}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

#[tokio::test]
async fn demo_docs_answer_questions_about_baton() {
    let s = TestServer::start_with(|c| c.demo_knowledge = true).await;
    let id = baton::knowledge::demo::load_if_empty(&s.state).unwrap().expect("demo load starts");
    let status = s.state.knowledge.wait(&id).await.unwrap();
    assert_eq!((status.status, status.error_count), (JobStatus::Done, 0), "{status:?}");
    let a = s.state.knowledge.answer("How do I add the chat widget to my website?", 0.5, 3).await.unwrap();
    assert_eq!(a.citations[0].path, "widget.md", "{a:?}");
    assert!(!a.unsure);
    // Not loaded twice.
    assert!(baton::knowledge::demo::load_if_empty(&s.state).unwrap().is_none());
}

/// A tiny website: sitemap, robots.txt, linked pages, a dead link, a disallowed page.
async fn tiny_site() -> (String, tokio::sync::oneshot::Sender<()>) {
    use poem::{handler, listener::TcpListener, web::Html, Route};
    #[handler]
    fn robots() -> &'static str {
        "User-agent: *\nDisallow: /help/secret\n"
    }
    #[handler]
    fn index() -> Html<&'static str> {
        Html(
            r#"<html><head><title>Help</title></head><body><nav>menu</nav><main><h1>Help centre</h1>
<p>Welcome to the Acme help centre.</p><a href="/help/install">Install</a> <a href="/help/dead">Dead</a>
<a href="/help/secret">Secret</a> <a href="https://elsewhere.example/x">Elsewhere</a></main></body></html>"#,
        )
    }
    #[handler]
    fn install() -> Html<&'static str> {
        Html(
            r#"<html><head><title>Install Acme</title></head><body><main><h1>Install Acme</h1>
<h2 id="docker">Docker</h2><p>Run the Acme container with docker run acme/acme and open port 9000.</p></main></body></html>"#,
        )
    }
    #[handler]
    fn secret() -> Html<&'static str> {
        Html("<html><body><h1>Secret</h1><p>Never crawl me.</p></body></html>")
    }
    let acceptor = poem::listener::Listener::into_acceptor(TcpListener::bind("127.0.0.1:0")).await.unwrap();
    let addr = poem::listener::Acceptor::local_addr(&acceptor)[0].as_socket_addr().copied().unwrap();
    let app = Route::new()
        .at("/robots.txt", poem::get(robots))
        .at("/help/", poem::get(index))
        .at("/help/install", poem::get(install))
        .at("/help/secret", poem::get(secret));
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        poem::Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(
                app,
                async move {
                    let _ = rx.await;
                },
                None,
            )
            .await
    });
    (format!("http://{addr}"), tx)
}

#[tokio::test]
async fn crawler_learns_a_site_and_reports_dead_links() {
    let (base, _stop) = tiny_site().await;
    let s = TestServer::start().await;
    let k = &s.state.knowledge;
    let mut crawl = s.state.config().crawl.clone();
    crawl.allow_private = true;
    let id = k.crawl_site(&format!("{base}/help/"), &crawl).unwrap();
    let status = k.wait(&id).await.unwrap();
    assert_eq!(status.status, JobStatus::Done, "{status:?}");
    let docs = k.documents(&id).unwrap();
    let paths: Vec<&str> = docs.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(docs.len(), 2, "{paths:?}");
    assert!(paths.iter().all(|p| !p.contains("secret")), "robots.txt is obeyed: {paths:?}");
    assert!(
        status.errors.iter().any(|e| e.item.ends_with("/help/dead") && e.message.contains("404")),
        "{status:?}"
    );

    let a = k.answer("Which port does the Acme docker container use?", 0.0, 3).await.unwrap();
    assert_eq!(a.citations[0].url, format!("{base}/help/install#docker"), "{a:?}");
}

#[tokio::test]
async fn crawler_refuses_loopback_by_default() {
    let (base, _stop) = tiny_site().await;
    let s = TestServer::start().await;
    let k = &s.state.knowledge;
    let crawl = s.state.config().crawl.clone();
    assert!(!crawl.allow_private);
    let err = k.crawl_site(&format!("{base}/help/"), &crawl).unwrap_err();
    assert!(err.to_string().contains("refusing"), "{err}");
    // A host name that resolves to loopback is refused too, when the job resolves it.
    let port = base.rsplit(':').next().unwrap();
    let id = k.crawl_site(&format!("http://localhost:{port}/help/"), &crawl).unwrap();
    let status = k.wait(&id).await.unwrap();
    assert_eq!(status.status, JobStatus::Failed, "{status:?}");
    assert!(k.documents(&id).unwrap().is_empty());
    let all = format!("{} {:?}", status.message, status.errors);
    assert!(all.contains("refusing"), "{all}");
}
