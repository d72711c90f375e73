//! Answer text, judged as a visitor reads it: the right block of the right page, whole (steps
//! stay steps, a lead-in brings its list, a table row its header), no template markup, no meta
//! sentences, every part of a two-part question, and the confidence of the answer.

use std::path::{Path, PathBuf};

use baton::answer::{Answer, BlockKind};
use baton::knowledge::{JobStatus, Knowledge};

use crate::common::TestServer;

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/answers/corpus")
}

async fn ingested() -> TestServer {
    let s = TestServer::start().await;
    let id = s.state.knowledge.ingest_path(&corpus(), None).unwrap();
    let status = s.state.knowledge.wait(&id).await.unwrap();
    assert_eq!(status.status, JobStatus::Done, "{status:?}");
    assert_eq!(status.error_count, 0, "{:?}", status.errors);
    s
}

async fn ask(k: &Knowledge, q: &str) -> Answer {
    let a = k.answer(q, 0.5, 3).await.unwrap();
    assert!(a.text.chars().count() <= 1000, "too long: {}", a.text);
    for bad in ["{%", "%}", "{{", "}}", "This article explains", "In this guide"] {
        assert!(!a.text.contains(bad), "{bad:?} in the answer to {q:?}: {}", a.text);
    }
    a
}

#[tokio::test]
async fn answers_quote_the_block_that_answers() {
    let s = ingested().await;
    let k = &s.state.knowledge;

    // Steps: the lead-in with its numbered list, not the neighbouring paragraph about security.
    let a = ask(k, "How do I install the widget on my site?").await;
    assert!(!a.unsure, "{a:?}");
    assert_eq!(a.citations[0].path, "install-widget.md");
    assert!(a.text.contains("1. Open Settings > Widget"), "{}", a.text);
    assert!(a.text.contains("4. Reload your site"), "{}", a.text);
    assert!(!a.text.contains("Allowed domains"), "{}", a.text);
    let steps = a.blocks.iter().find(|b| b.kind == BlockKind::Steps).expect("a steps block");
    assert_eq!(steps.items.len(), 4, "{steps:?}");
    assert!(steps.items[0].contains("**Settings > Widget**"), "bold survives in blocks: {steps:?}");
    assert!(a.text.contains("[1]"), "{}", a.text);

    // The security paragraph answers the security question.
    let a = ask(k, "Can I stop other websites from embedding my chat?").await;
    assert!(a.text.contains("Allowed domains"), "{}", a.text);

    // A page that opens with a meta sentence is quoted from its content.
    let a = ask(k, "How can I export my conversations?").await;
    assert!(a.text.contains("Settings > Data > Export"), "{}", a.text);

    // Lost phone: the recovery code paragraph, not the set-up steps.
    let a = ask(k, "I lost my phone with the authenticator app, how do I log in?").await;
    assert!(a.text.contains("recovery code"), "{}", a.text);
}

#[tokio::test]
async fn tables_keep_their_header_and_two_part_questions_get_both_parts() {
    let s = ingested().await;
    let k = &s.state.knowledge;
    let a = ask(k, "How much does the Team plan cost per month?").await;
    assert!(!a.unsure, "{a:?}");
    let table = a.blocks.iter().find(|b| b.kind == BlockKind::Table).expect("a table block");
    assert_eq!(table.rows[0], vec!["Plan", "Price", "Agents"], "the header comes along: {table:?}");
    assert!(a.text.contains("Team | 29 €"), "{}", a.text);
    assert!(!a.text.contains("{{<"), "{}", a.text);

    let a = ask(k, "What are your prices and do I get an invoice?").await;
    assert!(a.text.contains("29 €"), "the price part: {}", a.text);
    assert!(a.text.contains("Invoices"), "the invoice part: {}", a.text);

    // Each part is matched by its own vector: the price table and the payment methods.
    let a = ask(k, "How much is the Team plan per month, and can I pay with my credit card?").await;
    assert!(!a.unsure, "{a:?}");
    assert!(a.text.contains("29 €"), "the price part: {}", a.text);
    assert!(a.text.contains("credit cards and PayPal"), "the payment part: {}", a.text);
}

#[tokio::test]
async fn off_topic_is_declined_and_a_foreign_question_is_introduced() {
    let s = ingested().await;
    let k = &s.state.knowledge;
    let a = k.answer("What is the best recipe for lasagna?", 0.5, 3).await.unwrap();
    assert!(a.unsure, "{a:?}");
    let a = k.answer("Wie installiere ich das Chat-Widget auf meiner Website?", 0.5, 3).await.unwrap();
    if !a.unsure {
        assert_eq!(a.blocks[0].kind, BlockKind::Intro, "{a:?}");
        assert!(a.blocks[0].text.contains("Englisch"), "{a:?}");
    }
}

#[tokio::test]
async fn setting_paths_from_other_sections_and_every_numbered_step() {
    let s = ingested().await;
    let k = &s.state.knowledge;

    // "Can I…?" wants the setting: the page's opening names the Visibility section, even when
    // retrieval found the section about who can see the dashboard.
    let a = ask(k, "Can I let people without an account see my dashboard?").await;
    assert_eq!(a.citations[0].path, "public-dashboard.md", "{a:?}");
    assert!(a.text.contains("Visibility"), "{}", a.text);

    // A numbered step section brings the steps after it, each under its heading.
    let a = ask(k, "How do I open the site settings to make the dashboard public?").await;
    assert_eq!(a.citations[0].path, "public-dashboard.md", "{a:?}");
    for needle in
        ["Site settings", "Step 2: Turn on public access", "Make dashboard public", "Step 3: Share the link"]
    {
        assert!(a.text.contains(needle), "{needle:?} missing from: {}", a.text);
    }
    // "What does … mean?" gets the opening of the section named after it: the definition.
    let a = ask(k, "What are unique visitors in the dashboard stats?").await;
    assert!(a.text.contains("different people"), "{}", a.text);

    let a = ask(k, "How do I open the site settings to make the dashboard public?").await;
    let step2 = a.text.find("Step 2").unwrap();
    let step3 = a.text.find("Step 3").unwrap();
    assert!(step2 < step3, "steps keep their order: {}", a.text);
}
