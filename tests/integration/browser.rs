//! The real widget in a real browser: the demo page, a question, a cited AI answer, "Talk to
//! the team", keyboard and focus, no console errors; screenshots at desktop, phone and dark.

use std::time::Duration;

use fantoccini::elements::{Element, ElementRef};
use serde_json::Value;

use crate::browser_support::{Browser, Options};
use crate::common::TestServer;

const ROOT: &str = "const r = document.querySelector('#baton-widget').shadowRoot;";

/// An element inside the widget's shadow root, for real clicks and typing.
async fn shadow_el(b: &Browser, selector: &str) -> Element {
    let v = b.js(&format!("{ROOT} return r.querySelector({selector:?});"), vec![]).await;
    let id = v
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no element {selector}: {v}"));
    Element::from_element_id(b.client.clone(), ElementRef::from(id.to_owned()))
}

async fn server_with_knowledge() -> TestServer {
    let s = TestServer::start().await;
    // The demo page itself is the knowledge: it has a URL, so citations are links.
    let cfg =
        baton::config::CrawlConfig { max_pages: 1, max_depth: 0, allow_private: true, ..Default::default() };
    let id = s.state.knowledge.crawl_site(&s.url("/"), &cfg).expect("crawl starts");
    let status = s.state.knowledge.wait(&id).await.expect("crawl finishes");
    assert!(s.state.knowledge.chunk_count() > 0, "the demo page was indexed: {status:?}");
    s
}

async fn open_demo(b: &Browser, s: &TestServer) {
    b.client.goto(&s.url("/")).await.unwrap();
    b.wait_js(
        "the widget",
        "const h = document.querySelector('#baton-widget'); return !!(window.Baton && h && h.shadowRoot && window.Baton.ready);",
        Duration::from_secs(10),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_asks_gets_a_cited_ai_answer_and_reaches_the_team() {
    let s = server_with_knowledge().await;
    let Some(b) = Browser::start(Options::default()).await else { return };
    // Record baton:* events from the moment the page starts.
    b.client.goto(&s.url("/")).await.unwrap();
    b.js(
        "window.__batonEvents = []; ['baton:message','baton:handoff'].forEach(n => window.addEventListener(n, e => window.__batonEvents.push(n)));",
        vec![],
    )
    .await;
    b.wait_js("the widget", "return !!(window.Baton && window.Baton.ready);", Duration::from_secs(10)).await;
    b.screenshot("desktop-closed").await;

    // Open with the launcher: the panel shows, focus lands in the message field.
    shadow_el(&b, ".launcher").await.click().await.unwrap();
    let focused = b
        .wait_js(
            "focus in the input",
            &format!("{ROOT} return r.activeElement && r.activeElement.id;"),
            Duration::from_secs(3),
        )
        .await;
    assert_eq!(focused, "baton-input");
    let labelled = b
        .js(&format!("{ROOT} return [r.querySelector('.panel').getAttribute('role'), r.querySelector('label[for=baton-input]').textContent, r.querySelector('.launcher').getAttribute('aria-expanded')];"), vec![])
        .await;
    assert_eq!(labelled, serde_json::json!(["dialog", "Write a message…", "true"]));

    // Ask: real typing, Enter sends.
    let input = shadow_el(&b, "#baton-input").await;
    input.send_keys("Does any data leave the server, like telemetry or a CDN?\n").await.unwrap();
    // The model shares two cores with everything else: first wait for the server's answer, then
    // give the widget a few seconds to show it (a widget bug fails here, a slow model above).
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let answered = baton::conversation::list(&s.state.store).unwrap().iter().any(|c| c.ai_turns > 0);
        if answered {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the server never answered");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let answer = b
        .wait_js(
            "an AI answer",
            &format!("{ROOT} const m = [...r.querySelectorAll('.msg.them[data-seq]')].filter(x => x.querySelector('.tag')); return m.length ? m[m.length - 1].querySelector('.bubble').textContent : null;"),
            Duration::from_secs(10),
        )
        .await;
    let answer = answer.as_str().unwrap().to_owned();
    assert!(!answer.is_empty());
    let visitor_bubble =
        b.js(&format!("{ROOT} return r.querySelector('.msg.me .bubble').textContent;"), vec![]).await;
    assert_eq!(visitor_bubble, "Does any data leave the server, like telemetry or a CDN?");
    let label = b
        .js(&format!("{ROOT} return r.querySelector('.msg.them[data-seq] .tag').textContent;"), vec![])
        .await;
    assert_eq!(label, "AI", "AI answers are labelled");
    let sources = b
        .js(&format!("{ROOT} return [...r.querySelectorAll('.msg[data-seq] .sources a')].map(a => [a.textContent, a.href, a.target]);"), vec![])
        .await;
    let sources = sources.as_array().unwrap();
    assert!(!sources.is_empty(), "the answer cites its source with a link: {answer}");
    assert!(sources[0][1].as_str().unwrap().starts_with(&s.base), "{sources:?}");
    assert_eq!(sources[0][2], "_blank");
    assert!(!sources[0][0].as_str().unwrap().is_empty(), "the source has a title");
    let thumbs = b
        .js(&format!("{ROOT} return r.querySelectorAll('.msg[data-seq] .rating button').length;"), vec![])
        .await;
    assert_eq!(thumbs, 2, "thumbs up and down");
    b.screenshot("desktop-answer").await;

    // Rate it helpful: the server stores it.
    shadow_el(&b, ".msg[data-seq] .rating button").await.click().await.unwrap();
    b.wait_js(
        "the rating to stick",
        &format!("{ROOT} const x = r.querySelector('.msg[data-seq] .rating button'); return x && x.getAttribute('aria-pressed') === 'true';"),
        Duration::from_secs(5),
    )
    .await;

    // Talk to the team: the state changes to waiting, the button goes away.
    shadow_el(&b, ".talk").await.click().await.unwrap();
    let line = b
        .wait_js(
            "the handoff line",
            &format!("{ROOT} const e = [...r.querySelectorAll('.event')].map(x => x.textContent); return e.find(t => t.includes('connected to the team')) || null;"),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(line, "You're being connected to the team.");
    let status = b
        .wait_js(
            "a status line",
            &format!("{ROOT} return r.querySelector('.status').textContent;"),
            Duration::from_secs(5),
        )
        .await;
    assert!(!status.as_str().unwrap().is_empty());
    let talk_hidden = b.js(&format!("{ROOT} return r.querySelector('.talk').hidden;"), vec![]).await;
    assert_eq!(talk_hidden, true);
    let conv = &baton::conversation::list(&s.state.store).unwrap()[0];
    assert_eq!(conv.state, baton::conversation::State::WaitingForHuman);
    assert_eq!(conv.handoff.as_ref().unwrap().trigger, "button");
    assert_eq!(conv.context.pages[0].url, s.url("/"), "the agent sees the page");
    b.screenshot("desktop-handoff").await;

    // Nobody is online: the widget asks for an email, and the thread records it.
    let email = shadow_el(&b, "#baton-email").await;
    email.send_keys("ada@example.com").await.unwrap();
    shadow_el(&b, "form.card button[type=submit]").await.click().await.unwrap();
    b.wait_js(
        "the email confirmation",
        &format!("{ROOT} return [...r.querySelectorAll('.event')].some(x => x.textContent === \"We'll reply to ada@example.com.\") && !r.querySelector('#baton-email');"),
        Duration::from_secs(10),
    )
    .await;
    let follow_up = baton::conversation::get(&s.state.store, &conv.id).unwrap().follow_up.unwrap();
    assert_eq!(follow_up.email, "ada@example.com");
    assert!(follow_up.consent_text.contains("only to reply"), "the consent shown is stored: {follow_up:?}");

    // An agent joins and replies: the visitor sees the name live.
    let agent = baton::conversation::Author::agent("u1".into(), "Dana");
    baton::conversation::transition(
        &s.state.store,
        &s.state.hub,
        &conv.id,
        baton::conversation::State::WithAgent,
        baton::conversation::NewMessage::event(
            "assigned",
            "Dana joined",
            serde_json::json!({"agent_name": "Dana"}),
        ),
        |c| {
            c.assignee = Some("u1".into());
            c.assignee_name = "Dana".into();
        },
    )
    .unwrap();
    baton::conversation::append(
        &s.state.store,
        &s.state.hub,
        &conv.id,
        baton::conversation::NewMessage::text(agent, "Hi, I'm Dana. Nothing leaves your server."),
    )
    .unwrap();
    let status = b
        .wait_js(
            "the agent joined",
            &format!("{ROOT} const t = r.querySelector('.status').textContent; return t.includes('Dana') ? t : null;"),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(status, "Dana joined the conversation");
    b.wait_js(
        "the agent's reply",
        &format!("{ROOT} return [...r.querySelectorAll('.msg.them .bubble')].some(x => x.textContent.startsWith('Hi, I\\'m Dana'));"),
        Duration::from_secs(10),
    )
    .await;

    let events = b.js("return window.__batonEvents || [];", vec![]).await;
    let events: Vec<&str> = events.as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(
        events.contains(&"baton:handoff") && events.contains(&"baton:message"),
        "SDK events fire: {events:?}"
    );

    // Reload: the conversation survives.
    b.client.refresh().await.unwrap();
    b.wait_js(
        "the thread after a reload",
        &format!("{ROOT} return [...r.querySelectorAll('.msg .bubble')].some(x => x.textContent.startsWith('Hi, I\\'m Dana'));"),
        Duration::from_secs(10),
    )
    .await;

    // Resolved: the visitor rates the team, then can start over.
    baton::conversation::transition(
        &s.state.store,
        &s.state.hub,
        &conv.id,
        baton::conversation::State::Resolved,
        baton::conversation::NewMessage::event("resolved", "Resolved by Dana", serde_json::json!({})),
        |_| {},
    )
    .unwrap();
    b.wait_js(
        "the rating card",
        &format!("{ROOT} return r.querySelectorAll('.stars button').length === 5;"),
        Duration::from_secs(10),
    )
    .await;
    shadow_el(&b, ".stars button:nth-child(5)").await.click().await.unwrap();
    shadow_el(&b, "#baton-csat-comment").await.send_keys("Quick and kind").await.unwrap();
    b.screenshot("desktop-csat").await;
    shadow_el(&b, "form.card button[type=submit]").await.click().await.unwrap();
    b.wait_js(
        "the thanks",
        &format!("{ROOT} return [...r.querySelectorAll('.card p')].some(x => x.textContent === 'Thank you for your rating!');"),
        Duration::from_secs(10),
    )
    .await;
    let csat = baton::conversation::get(&s.state.store, &conv.id).unwrap().csat.unwrap();
    assert_eq!((csat.score, csat.comment.as_str()), (5, "Quick and kind"));
    shadow_el(&b, ".card .link").await.click().await.unwrap();
    let left =
        b.js(&format!("{ROOT} return r.querySelectorAll('.msg[data-seq], .event').length;"), vec![]).await;
    assert_eq!(left, 0, "a fresh conversation view");

    // Esc closes and gives focus back to the launcher.
    let input = shadow_el(&b, "#baton-input").await;
    input.click().await.unwrap();
    input.send_keys("\u{E00C}").await.unwrap();
    let closed = b
        .wait_js(
            "Esc to close",
            &format!("{ROOT} return r.querySelector('.panel').hidden && r.activeElement && r.activeElement.className;"),
            Duration::from_secs(3),
        )
        .await;
    assert_eq!(closed, "launcher");

    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "no console errors: {errors:#?}");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_is_full_screen_on_phones_and_follows_dark_mode() {
    let s = TestServer::start().await;
    let Some(b) = Browser::start(Options { width: 390, height: 844, dark: true, lang: "de-DE" }).await else {
        return;
    };
    open_demo(&b, &s).await;
    b.screenshot("phone-dark-closed").await;
    shadow_el(&b, ".launcher").await.click().await.unwrap();
    let rect = b
        .wait_js(
            "the panel",
            &format!("{ROOT} const p = r.querySelector('.panel'); if (p.hidden) return null; const b = p.getBoundingClientRect(); return [b.width, b.height, innerWidth, innerHeight];"),
            Duration::from_secs(3),
        )
        .await;
    assert_eq!(rect[0], rect[2], "full width on a phone: {rect}");
    assert_eq!(rect[1], rect[3], "full height on a phone: {rect}");
    let dark = b.js(&format!("{ROOT} return [matchMedia('(prefers-color-scheme: dark)').matches, getComputedStyle(r.querySelector('.panel')).backgroundColor];"), vec![]).await;
    assert_eq!(dark[0], true);
    assert_eq!(dark[1], "rgb(17, 24, 39)", "dark background");
    // German from navigator.language; Baton.setLocale switches at once.
    let talk = b.js(&format!("{ROOT} return r.querySelector('.talk').textContent;"), vec![]).await;
    assert_eq!(talk, "Mit dem Team sprechen");
    b.screenshot("phone-dark-open").await;
    b.js("Baton.setLocale('fr');", vec![]).await;
    let talk = b.js(&format!("{ROOT} return r.querySelector('.talk').textContent;"), vec![]).await;
    assert_eq!(talk, "Parler à l'équipe");
    // Dark mode at desktop width, with a sent message.
    b.client.set_window_size(1280, 800).await.unwrap();
    b.js("Baton.setLocale('en');", vec![]).await;
    shadow_el(&b, "#baton-input").await.send_keys("How do I install the widget?\n").await.unwrap();
    b.wait_js(
        "the sent message",
        &format!("{ROOT} return r.querySelector('.msg.me[data-seq]') !== null;"),
        Duration::from_secs(10),
    )
    .await;
    let rect = b
        .js(&format!("{ROOT} const b = r.querySelector('.panel').getBoundingClientRect(); return [b.width, innerWidth];"), vec![])
        .await;
    assert_eq!(rect[0], 380, "a floating panel on desktop: {rect}");
    b.screenshot("desktop-dark").await;
    // Lines the server writes into the thread are shown in the visitor's language.
    b.js("Baton.setLocale('de');", vec![]).await;
    let conv = baton::conversation::list(&s.state.store).unwrap()[0].id.clone();
    let owner = crate::accounts::owner(&s).await;
    let r = owner
        .post(&format!("/api/inbox/conversations/{conv}/reply"), serde_json::json!({"text": "Hallo!"}))
        .await;
    assert_eq!(r.status(), 200);
    let line = b
        .wait_js(
            "the agent-joined line",
            &format!("{ROOT} const e = [...r.querySelectorAll('.event')].map(x => x.textContent); return e.find(t => t.includes('Olivia')) || null;"),
            Duration::from_secs(10),
        )
        .await;
    assert_eq!(line, "Olivia Owner ist dem Gespräch beigetreten");
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "no console errors: {errors:#?}");
    b.close().await;
}

/// Asks through the widget and waits until the `n`th AI answer is shown; returns its bubble.
async fn ask_widget(b: &Browser, s: &TestServer, question: &str, n: usize) {
    let input = shadow_el(b, "#baton-input").await;
    input.send_keys(&format!("{question}\n")).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let turns: u32 = baton::conversation::list(&s.state.store).unwrap().iter().map(|c| c.ai_turns).sum();
        if turns as usize >= n {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the server never answered {question:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    b.wait_js(
        "the answer",
        &format!("{ROOT} return [...r.querySelectorAll('.msg.them[data-seq]')].filter(x => x.querySelector('.tag')).length >= {n};"),
        Duration::from_secs(10),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_render_as_steps_tables_and_text_never_html() {
    let s = TestServer::start().await;
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/answers/corpus");
    let id = s.state.knowledge.ingest_path(&corpus, None).unwrap();
    s.state.knowledge.wait(&id).await.unwrap();
    let Some(b) = Browser::start(Options::default()).await else { return };
    open_demo(&b, &s).await;
    shadow_el(&b, ".launcher").await.click().await.unwrap();

    // Steps are a numbered list in the bubble, bold stays bold, the source is cited.
    ask_widget(&b, &s, "How do I install the widget on my site?", 1).await;
    let shown = b
        .js(&format!("{ROOT} const m = [...r.querySelectorAll('.msg.them[data-seq]')].filter(x => x.querySelector('.tag')).pop(); const ol = m.querySelector('.bubble ol'); return [ol ? ol.querySelectorAll('li').length : 0, !!m.querySelector('.bubble ol strong'), m.querySelectorAll('.bubble .cite').length > 0];"), vec![])
        .await;
    assert_eq!(shown, serde_json::json!([4, true, true]), "steps as a list");
    b.screenshot("answer-steps").await;

    // A yes/no question and a table.
    ask_widget(&b, &s, "Do you accept bank transfers?", 2).await;
    b.js(&format!("{ROOT} [...r.querySelectorAll('.msg.them[data-seq]')].filter(x => x.querySelector('.tag')).pop().scrollIntoView();"), vec![]).await;
    b.screenshot("answer-yes-no").await;
    ask_widget(&b, &s, "How much does the Team plan cost?", 3).await;
    let table = b
        .js(&format!("{ROOT} const m = [...r.querySelectorAll('.msg.them[data-seq]')].filter(x => x.querySelector('.tag')).pop(); return [...m.querySelectorAll('.bubble th')].map(x => x.textContent);"), vec![])
        .await;
    assert_eq!(table, serde_json::json!(["Plan", "Price", "Agents"]), "the table keeps its header");

    // German over English docs: a line in German says where the passage comes from.
    ask_widget(&b, &s, "Wie exportiere ich meine Unterhaltungen?", 4).await;
    b.js(&format!("{ROOT} [...r.querySelectorAll('.msg.them[data-seq]')].filter(x => x.querySelector('.tag')).pop().scrollIntoView();"), vec![]).await;
    b.screenshot("answer-german").await;
    let errors = b.console_errors().await;
    assert!(errors.is_empty(), "{errors:?}");
    b.close().await;
}
