//! End to end in real headless Chromium: a visitor asks in the widget on the demo page and asks
//! for the team; an agent signs in to the inbox in a second browser, sees the conversation with
//! the transcript, the cited sources and the trigger, replies, and the visitor sees the reply.
//! Screenshots of the inbox at laptop and tablet widths, light and dark, go to /tmp.

use std::time::{Duration, Instant};

use fantoccini::elements::{Element, ElementRef};
use fantoccini::Locator;
use serde_json::Value;

use crate::accounts::{owner, PASSWORD};
use crate::browser_support::{Browser, Options};
use crate::common::TestServer;

const ROOT: &str = "const r = document.querySelector('#baton-widget').shadowRoot;";

async fn shadow_el(b: &Browser, selector: &str) -> Element {
    let v = b.js(&format!("{ROOT} return r.querySelector({selector:?});"), vec![]).await;
    let id = v
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no element {selector}: {v}"));
    Element::from_element_id(b.client.clone(), ElementRef::from(id.to_owned()))
}

/// Clicks the first element matching `selector` from inside the page. The inbox re-renders its
/// lists and threads on live updates, so a WebDriver element found a moment earlier can be
/// stale by the time it is clicked.
async fn click(b: &Browser, selector: &str) {
    let script = format!(
        "const e = document.querySelector({sel}); if (!e) return false; e.click(); return true;",
        sel = serde_json::to_string(selector).unwrap()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while b.js(&script, vec![]).await != serde_json::Value::Bool(true) {
        assert!(Instant::now() < deadline, "nothing to click at {selector}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn sign_in(b: &Browser, s: &TestServer) {
    b.client.goto(&s.url("/app/")).await.unwrap();
    let email = b.client.wait().for_element(Locator::Css("input[name=email]")).await.unwrap();
    email.send_keys("owner@example.eu").await.unwrap();
    b.client.find(Locator::Css("input[name=password]")).await.unwrap().send_keys(PASSWORD).await.unwrap();
    b.client.find(Locator::Css("form button[type=submit]")).await.unwrap().click().await.unwrap();
    b.wait_js(
        "the inbox",
        "return !!document.querySelector('.inbox .ib-item, .inbox .ib-empty');",
        Duration::from_secs(15),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handoff_reaches_the_inbox_and_the_agents_reply_reaches_the_visitor() {
    let s = TestServer::start().await;
    let cfg =
        baton::config::CrawlConfig { max_pages: 1, max_depth: 0, allow_private: true, ..Default::default() };
    let job = s.state.knowledge.crawl_site(&s.url("/"), &cfg).expect("crawl starts");
    s.state.knowledge.wait(&job).await.expect("crawl finishes");
    assert!(s.state.knowledge.chunk_count() > 0, "the demo page is the knowledge");
    owner(&s).await;

    // The visitor.
    let Some(visitor) = Browser::start(Options::default()).await else { return };
    visitor.client.goto(&s.url("/")).await.unwrap();
    visitor
        .wait_js("the widget", "return !!(window.Baton && window.Baton.ready);", Duration::from_secs(10))
        .await;
    shadow_el(&visitor, ".launcher").await.click().await.unwrap();
    let question = "Does any data leave the server, like telemetry or a CDN?";
    shadow_el(&visitor, "#baton-input").await.send_keys(&format!("{question}\n")).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    while !baton::conversation::list(&s.state.store).unwrap().iter().any(|c| c.ai_turns > 0) {
        assert!(Instant::now() < deadline, "the AI never answered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    visitor
        .wait_js(
            "the AI answer in the widget",
            &format!("{ROOT} return r.querySelectorAll('.msg[data-seq] .sources a').length > 0;"),
            Duration::from_secs(10),
        )
        .await;
    shadow_el(&visitor, ".talk").await.click().await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let conv = loop {
        if let Some(c) =
            baton::conversation::list(&s.state.store).unwrap().into_iter().find(|c| c.handoff.is_some())
        {
            break c;
        }
        assert!(Instant::now() < deadline, "no handoff");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };

    // The agent, in a second browser.
    let Some(agent) = Browser::start(Options { width: 1366, height: 850, ..Default::default() }).await else {
        return;
    };
    sign_in(&agent, &s).await;
    let row = agent
        .wait_js(
            "the waiting conversation in the list",
            "const a = document.querySelector('.ib-item'); return a && a.textContent;",
            Duration::from_secs(10),
        )
        .await;
    assert!(row.as_str().unwrap().contains(question), "the list previews the question: {row}");
    assert!(row.as_str().unwrap().contains("Talk to the team"), "the list shows the trigger: {row}");
    click(&agent, ".ib-item").await;
    agent
        .wait_js(
            "the thread",
            "return document.querySelectorAll('.ib-msgs .msg').length >= 2;",
            Duration::from_secs(10),
        )
        .await;
    let seen = agent
        .js(
            "return {
                visitor: [...document.querySelectorAll('.ib-msgs .msg.visitor .text')].map(x => x.textContent),
                ai: [...document.querySelectorAll('.ib-msgs .msg.ai .text')].map(x => x.textContent),
                cites: [...document.querySelectorAll('.ib-msgs .msg.ai .cites a')].map(a => a.href),
                conf: document.querySelector('.ib-msgs .msg.ai .conf').textContent,
                handoff: document.querySelector('.ib-msgs .event.handoff').textContent,
                summary: document.querySelector('.ib-summary').textContent,
                sources: [...document.querySelectorAll('.ib-side .sources-box .source a')].map(a => a.href),
                side: document.querySelector('.ib-side').textContent,
            };",
            vec![],
        )
        .await;
    assert_eq!(seen["visitor"][0], question);
    assert!(!seen["ai"][0].as_str().unwrap().is_empty());
    assert!(seen["cites"][0].as_str().unwrap().starts_with(&s.base), "AI answer cites its source: {seen}");
    assert!(seen["conf"].as_str().unwrap().starts_with("confidence "), "{seen}");
    assert!(
        seen["handoff"].as_str().unwrap().contains("Talk to the team"),
        "trigger on the handoff line: {seen}"
    );
    assert!(seen["summary"].as_str().unwrap().contains(question), "{seen}");
    assert!(seen["summary"].as_str().unwrap().contains("Handed off"), "{seen}");
    assert!(!seen["sources"].as_array().unwrap().is_empty(), "sources beside the thread: {seen}");
    let reason = &conv.handoff.as_ref().unwrap().reason;
    assert!(seen["side"].as_str().unwrap().contains(reason.as_str()), "the reason is shown: {reason}");
    agent.screenshot("inbox-laptop-light").await;

    // Reply.
    let reply = "Hi, this is Olivia from the team. Nothing leaves your server: no telemetry, no CDN.";
    let ta = agent.client.find(Locator::Css(".ib-compose textarea")).await.unwrap();
    ta.send_keys(reply).await.unwrap();
    agent.client.find(Locator::Css(".ib-compose .send button.primary")).await.unwrap().click().await.unwrap();
    agent
        .wait_js(
            "the reply in the thread",
            "return [...document.querySelectorAll('.ib-msgs .msg.agent .text')].some(x => x.textContent.startsWith('Hi, this is Olivia'));",
            Duration::from_secs(10),
        )
        .await;
    let c = baton::conversation::get(&s.state.store, &conv.id).unwrap();
    assert_eq!(c.state, baton::conversation::State::WithAgent);
    assert_eq!(c.assignee_name, "Olivia Owner");

    // The visitor sees it, live.
    visitor
        .wait_js(
            "the agent's reply in the widget",
            &format!("{ROOT} return [...r.querySelectorAll('.msg.them .bubble')].some(x => x.textContent.startsWith('Hi, this is Olivia'));"),
            Duration::from_secs(10),
        )
        .await;
    visitor.screenshot("e2e-visitor-reply").await;

    // One click turns the agent's reply into knowledge the AI answers with next time.
    click(&agent, ".ib-msgs .msg.agent .learn").await;
    agent
        .wait_js(
            "the save-as-knowledge dialog",
            "return !!document.querySelector('dialog.ins-dialog[open]');",
            Duration::from_secs(10),
        )
        .await;
    let prefilled = agent
        .js("return [...document.querySelectorAll('dialog.ins-dialog textarea')].map(t => t.value);", vec![])
        .await;
    assert_eq!(prefilled[0], question, "the question before the reply is pre-filled");
    assert!(prefilled[1].as_str().unwrap().starts_with("Hi, this is Olivia"), "{prefilled}");
    agent.screenshot("inbox-save-as-knowledge").await;
    click(&agent, "dialog.ins-dialog button.primary").await;
    agent
        .wait_js(
            "the dialog closes after saving",
            "return !document.querySelector('dialog.ins-dialog');",
            Duration::from_secs(10),
        )
        .await;
    let cfg = s.state.config();
    let again = s
        .state
        .knowledge
        .answer(question, cfg.answer.confidence_threshold, cfg.answer.max_citations)
        .await
        .unwrap();
    assert!(
        again.citations.iter().any(|c| c.snippet.contains("Nothing leaves your server")),
        "the saved reply is now knowledge: {again:?}"
    );
    // The console and insights pages render (and get looked at).
    for (hash, ready, shot) in [
        ("#/admin/knowledge", ".adm-card", "console-knowledge"),
        ("#/admin/handoff", ".adm-card", "console-handoff"),
        ("#/admin/widget", ".adm-card", "console-widget"),
        ("#/insights/gaps", ".adm-tabs", "insights-gaps"),
        ("#/insights/metrics", ".ins-chart", "insights-metrics"),
    ] {
        agent.js(&format!("location.hash = '{hash}'; return true;"), vec![]).await;
        agent
            .wait_js(shot, &format!("return !!document.querySelector('{ready}');"), Duration::from_secs(10))
            .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        agent.screenshot(shot).await;
    }
    // The handoff page's "Try a message" box explains what fires, in the page itself.
    agent.js("location.hash = '#/admin/handoff'; return true;", vec![]).await;
    let try_box = "document.querySelector('textarea[aria-label=\"Message to try\"]')";
    agent.wait_js("the try box", &format!("return !!{try_box};"), Duration::from_secs(10)).await;
    agent
        .js(
            &format!(
                "const t = {try_box}; t.value = 'could someone from your team give me a call tomorrow?'; \
                 t.scrollIntoView(); [...document.querySelectorAll('button')].find((b) => b.textContent === 'Try it').click(); \
                 return true;"
            ),
            vec![],
        )
        .await;
    let verdict = agent
        .wait_js(
            "the try verdict",
            "const e = document.querySelector('.adm-try p'); return e ? e.textContent : null;",
            Duration::from_secs(20),
        )
        .await;
    assert_eq!(verdict.as_str(), Some("Hands off to the team."), "{verdict}");
    let reason = agent.js("return document.querySelector('.adm-try li')?.textContent || '';", vec![]).await;
    assert!(
        reason.as_str().is_some_and(|r| r.starts_with("human request") && r.contains("call")),
        "{reason}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    agent.screenshot("console-try-message").await;
    agent.js("location.hash = '#/inbox'; return true;", vec![]).await;
    let errors = agent.console_errors().await;
    assert!(errors.is_empty(), "no console errors in the inbox, console or insights: {errors:?}");
    visitor.close().await;

    // Screenshots: tablet light, then laptop and tablet dark.
    agent.client.set_window_size(820, 1180).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    agent.screenshot("inbox-tablet-light").await;
    let list_hidden_on_tablet =
        agent.js("return getComputedStyle(document.querySelector('.ib-side')).display;", vec![]).await;
    assert_eq!(list_hidden_on_tablet, "none", "the context panel folds away at tablet width");
    agent.close().await;

    let Some(dark) =
        Browser::start(Options { width: 1366, height: 850, dark: true, ..Default::default() }).await
    else {
        return;
    };
    sign_in(&dark, &s).await;
    click(&dark, ".ib-filters button:nth-child(2)").await;
    dark.wait_js("mine", "return !!document.querySelector('.ib-item');", Duration::from_secs(10)).await;
    click(&dark, ".ib-item").await;
    dark.wait_js(
        "the thread",
        "return document.querySelectorAll('.ib-msgs .msg').length >= 3;",
        Duration::from_secs(10),
    )
    .await;
    let bg = dark.js("return getComputedStyle(document.body).backgroundColor;", vec![]).await;
    assert_eq!(bg, "rgb(15, 18, 23)", "dark colours follow the OS");
    dark.screenshot("inbox-laptop-dark").await;
    dark.client.set_window_size(820, 1180).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    dark.screenshot("inbox-tablet-dark").await;
    dark.close().await;
}
