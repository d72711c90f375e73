//! Insights with the real embedding model: gap grouping across languages, and the loop from an
//! agent's answer to a snippet the AI answers with.

use std::path::PathBuf;

use baton::answer::Answer;
use baton::conversation::{self, AnswerBody, Author, Body, NewMessage, VisitorContext};
use baton::ids::ConversationId;
use baton::insights::{self, gaps};
use baton::AppState;
use chrono::Utc;

use crate::common::TestServer;

/// A conversation where the visitor asked `question` and the AI answered `answer`.
pub fn asked(state: &AppState, question: &str, answer: Answer) -> ConversationId {
    let (token, _) = conversation::create_visitor(&state.store).unwrap();
    let conv =
        conversation::open_for_visitor(&state.store, &state.hub, &token, VisitorContext::default()).unwrap();
    let q = conversation::append(
        &state.store,
        &state.hub,
        &conv.id,
        NewMessage::text(Author::visitor(), question),
    )
    .unwrap();
    let reply = NewMessage {
        author: Author::ai(),
        body: Body::Answer(AnswerBody { answer, reply_to: q.seq }),
        page: None,
        client_id: String::new(),
    };
    conversation::append(&state.store, &state.hub, &conv.id, reply).unwrap();
    conv.id
}

fn unsure() -> Answer {
    Answer { text: "I am not sure.".into(), blocks: vec![], citations: vec![], confidence: 0.2, unsure: true }
}

#[tokio::test]
async fn gaps_group_translations_together_and_keep_other_questions_apart() {
    let s = TestServer::start().await;
    let invoices = [
        "How do I export my invoices as PDF?",
        "Wie kann ich meine Rechnungen als PDF exportieren?",
        "Comment exporter mes factures en PDF ?",
        "¿Cómo puedo exportar mis facturas en PDF?",
    ];
    let others =
        ["How can I export my data to CSV?", "How do I delete my account?", "Do you integrate with Slack?"];
    for q in invoices.iter().chain(others.iter()) {
        asked(&s.state, q, unsure());
    }
    // A confident, unrated answer is not a gap.
    asked(
        &s.state,
        "What are your opening hours?",
        Answer { text: "9 to 5.".into(), blocks: vec![], citations: vec![], confidence: 0.9, unsure: false },
    );

    let threads = insights::load_threads(&s.state, None).unwrap();
    let report = gaps::report(&s.state, &threads, Utc::now(), 30, false, 50).await.unwrap();
    let sizes: Vec<u32> = report.iter().map(|g| g.count).collect();
    assert_eq!(
        sizes,
        vec![4, 1, 1, 1],
        "{:#?}",
        report.iter().map(|g| &g.representative).collect::<Vec<_>>()
    );
    let big = &report[0];
    assert!(invoices.contains(&big.representative.as_str()), "{}", big.representative);
    for lang in ["en", "de", "fr", "es"] {
        assert!(big.languages.iter().any(|l| l == lang), "{lang} missing from {:?}", big.languages);
    }
    assert_eq!(big.examples.len(), 4);
    assert!(big.examples.iter().all(|e| e.link.starts_with("#/inbox/")));
    assert_eq!(big.reasons[0].key, "unsure");
    let singles: Vec<&str> = report[1..].iter().map(|g| g.representative.as_str()).collect();
    for q in others {
        assert!(singles.contains(&q), "{q} should be its own group: {singles:?}");
    }
    assert!(!report.iter().any(|g| g.representative.contains("opening hours")));

    // Dismissed groups stay dismissed when the same question comes again in another language.
    gaps::set_status(&s.state, &big.id, gaps::GapStatus::Dismissed, None).unwrap();
    asked(&s.state, "Come posso esportare le mie fatture in PDF?", unsure());
    let threads = insights::load_threads(&s.state, None).unwrap();
    let open = gaps::report(&s.state, &threads, Utc::now(), 30, false, 50).await.unwrap();
    assert_eq!(open.len(), 3, "the invoice group is hidden while dismissed");
    let all = gaps::report(&s.state, &threads, Utc::now(), 30, true, 50).await.unwrap();
    let dismissed = all.iter().find(|g| g.id == big.id).expect("same group id");
    assert_eq!(dismissed.count, 5);
    assert_eq!(dismissed.new_since_status, 1);
}

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/knowledge/corpus")
}

#[tokio::test]
async fn an_agents_answer_becomes_a_snippet_the_ai_answers_with() {
    let s = TestServer::start().await;
    let k = &s.state.knowledge;
    let id = k.ingest_path(&corpus(), None).unwrap();
    k.wait(&id).await.unwrap();
    let cfg = s.state.config();
    let (threshold, cites) = (cfg.answer.confidence_threshold, cfg.answer.max_citations);

    let question = "Can I switch the app to dark mode?";
    let before = k.answer(question, threshold, cites).await.unwrap();
    assert!(before.unsure, "the corpus has nothing about dark mode: {before:?}");
    let conv = asked(&s.state, question, before);
    conversation::append(
        &s.state.store,
        &s.state.hub,
        &conv,
        NewMessage::text(
            Author::agent("u1".into(), "Ana"),
            "Yes: open Settings → Appearance → Theme and pick Dark.",
        ),
    )
    .unwrap();

    let threads = insights::load_threads(&s.state, None).unwrap();
    let report = gaps::report(&s.state, &threads, Utc::now(), 30, false, 50).await.unwrap();
    assert_eq!(report.len(), 1);
    let gap = report[0].id.clone();

    // The dialog is pre-filled with the visitor's question and the agent's reply.
    let draft = insights::draft(&s.state, &conv).unwrap();
    assert_eq!(draft.question, question);
    assert!(draft.answer.contains("Appearance"));

    let created = insights::snippet_from_conversation(
        &s.state,
        insights::SnippetRequest {
            conversation: Some(conv.clone()),
            question: draft.question,
            answer: "Yes. Open Settings → Appearance → Theme and choose Dark; the app follows your system theme by default."
                .into(),
        },
        "Ana",
    )
    .await
    .unwrap();
    assert_eq!(created.covered_gap.as_ref(), Some(&gap));

    let threads = insights::load_threads(&s.state, None).unwrap();
    assert!(gaps::report(&s.state, &threads, Utc::now(), 30, false, 50).await.unwrap().is_empty(), "covered");

    // The same question and a paraphrase are answered from the snippet.
    for again in [question, "Is there a dark theme?"] {
        let a = k.answer(again, threshold, cites).await.unwrap();
        assert!(!a.unsure, "{again}: {a:?}");
        assert_eq!(a.citations.first().map(|c| &c.document), Some(&created.document), "{again}: {a:?}");
        assert!(a.text.contains("Appearance"), "{again}: {}", a.text);
    }

    // In other languages the snippet is the best match, although the answer's confidence
    // (the knowledge engine's calibration) is still below the threshold for some of them.
    for other in ["Gibt es einen dunklen Modus in der App?", "Est-ce que l'application a un mode sombre ?"] {
        let hits = k.retrieve(other).await.unwrap().hits;
        assert_eq!(hits.first().map(|h| &h.doc.id), Some(&created.document), "{other}");
    }
}
