//! Live conversations under load: many visitors holding SSE streams while they send messages.
//!
//! `cargo bench --bench load` (env: `BATON_LOAD_VISITORS`, default 1000; `BATON_LOAD_MESSAGES`,
//! default 2000; `BATON_LOAD_CONCURRENCY`, default 32).
//!
//! The real server runs in this process on port 0 with a durable store (fsync per message, as in
//! production). Each visitor gets a token and a conversation that an agent has joined (so the AI
//! stays silent: this measures delivery, not the model), then holds one live stream, like a
//! second tab. Messages are posted through `POST /api/widget/messages`; the latency is from
//! just before the POST to the moment the message arrives on that visitor's stream.
//!
//! Memory is the process's resident set before and after the streams are open, divided by the
//! number of streams. Client and server share the process, so it is an upper bound for the
//! server's cost per connection.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use baton::conversation::{self, NewMessage, State};
use baton::ids::ConversationId;
use baton::{server, AppState, Config};
use futures_util::StreamExt;
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::sync::Semaphore;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

type Sent = Arc<Mutex<HashMap<String, Instant>>>;

/// Reads one visitor's stream, recording the arrival of each message it is waiting for.
async fn listen(
    resp: reqwest::Response,
    sent: Sent,
    latencies: Arc<Mutex<Vec<Duration>>>,
    ready: tokio::sync::mpsc::Sender<()>,
) {
    let mut stream = resp.bytes_stream();
    let mut buf = String::new();
    let mut said_ready = false;
    while let Some(Ok(chunk)) = stream.next().await {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(pos) = buf.find("\n\n") {
            let block: String = buf.drain(..pos + 2).collect();
            if !said_ready && block.contains("event: hello") {
                said_ready = true;
                let _ = ready.send(()).await;
            }
            let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: ")) else { continue };
            let Ok(v) = serde_json::from_str::<Value>(data) else { continue };
            if let Some(cid) = v["message"]["client_id"].as_str() {
                if let Some(t0) = sent.lock().remove(cid) {
                    latencies.lock().push(t0.elapsed());
                }
            }
        }
    }
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let visitors = env_usize("BATON_LOAD_VISITORS", 1000);
    let messages = env_usize("BATON_LOAD_MESSAGES", 2000);
    let concurrency = env_usize("BATON_LOAD_CONCURRENCY", 32);

    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        data_dir: dir.path().to_path_buf(),
        addr: "127.0.0.1:0".parse().unwrap(),
        ..Config::default()
    };
    config.demo_knowledge = false;
    // This bench is about the stream, not about abuse protection.
    config.limits.ip_requests_per_minute = 0;
    config.limits.visitor_messages_per_minute = 0;
    let state = AppState::new(config.clone(), true).expect("state");
    let (_stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let running = server::start(state, config.addr, async move {
        let _ = stop_rx.await;
    })
    .await
    .expect("server starts");
    let base = format!("http://{}", running.addr);
    let state = running.state.clone();
    let http = reqwest::Client::builder().pool_max_idle_per_host(concurrency * 2).build().unwrap();

    // Visitors with a conversation an agent has joined.
    let t = Instant::now();
    let mut tokens: Vec<(String, ConversationId)> = Vec::with_capacity(visitors);
    for _ in 0..visitors {
        let (token, _) = conversation::create_visitor(&state.store).unwrap();
        let conv =
            conversation::open_for_visitor(&state.store, &state.hub, &token, Default::default()).unwrap();
        conversation::transition(
            &state.store,
            &state.hub,
            &conv.id,
            State::WithAgent,
            NewMessage::event("assigned", "Dana joined", json!({"agent_name": "Dana"})),
            |c| c.assignee_name = "Dana".into(),
        )
        .unwrap();
        tokens.push((token.0, conv.id));
    }
    eprintln!("{visitors} visitors set up in {:?}", t.elapsed());

    // Open the streams.
    let rss_before = rss_kib();
    let sent: Sent = Arc::new(Mutex::new(HashMap::new()));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(messages)));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(visitors.max(1));
    let t = Instant::now();
    let stream_client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    for (token, _) in &tokens {
        let resp = stream_client
            .get(format!("{base}/api/widget/stream?token={token}"))
            .send()
            .await
            .expect("stream opens");
        assert_eq!(resp.status(), 200);
        tokio::spawn(listen(resp, sent.clone(), latencies.clone(), ready_tx.clone()));
    }
    for _ in 0..visitors {
        ready_rx.recv().await.expect("every stream says hello");
    }
    let open_time = t.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = rss_kib();
    let live = state.hub.live_conversations();
    eprintln!("{live} live streams open in {open_time:?}");

    // Send messages from random visitors, `concurrency` at a time.
    let sem = Arc::new(Semaphore::new(concurrency));
    let post_times = Arc::new(Mutex::new(Vec::with_capacity(messages)));
    let t = Instant::now();
    let mut tasks = Vec::with_capacity(messages);
    for i in 0..messages {
        let permit = sem.clone().acquire_owned().await.unwrap();
        let (token, _) = tokens[(i * 7919) % tokens.len()].clone();
        let (http, base, sent, post_times) = (http.clone(), base.clone(), sent.clone(), post_times.clone());
        tasks.push(tokio::spawn(async move {
            let cid = format!("load-{i}");
            let t0 = Instant::now();
            sent.lock().insert(cid.clone(), t0);
            let r = http
                .post(format!("{base}/api/widget/messages"))
                .bearer_auth(&token)
                .json(&json!({"text": format!("message {i}"), "client_id": cid}))
                .send()
                .await
                .expect("post");
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
            post_times.lock().push(t0.elapsed());
            drop(permit);
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let send_time = t.elapsed();
    // Let the last deliveries land.
    let deadline = Instant::now() + Duration::from_secs(10);
    while latencies.lock().len() < messages && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let mut lat = latencies.lock().clone();
    lat.sort();
    let mut posts = post_times.lock().clone();
    posts.sort();
    let lost = messages - lat.len();
    let per_conn = (rss_after.saturating_sub(rss_before)) as f64 / visitors.max(1) as f64;
    println!(
        "\n## Live conversations load ({} cores)",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    println!("streams held:            {live} (opened in {:.2} s)", open_time.as_secs_f64());
    println!(
        "hub event size:          {} bytes (each conversation's broadcast buffer holds 32 of them)",
        std::mem::size_of::<baton::hub::HubEvent>()
    );
    println!(
        "memory:                  {:.1} MiB before, {:.1} MiB with the streams open: {per_conn:.1} KiB per stream (client + server)",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0
    );
    println!(
        "messages:                {messages} in {:.2} s ({:.0}/s, {concurrency} in flight), {lost} not delivered",
        send_time.as_secs_f64(),
        messages as f64 / send_time.as_secs_f64()
    );
    println!(
        "POST /messages (durable):  p50 {:.1} ms, p99 {:.1} ms",
        percentile(&posts, 0.5).as_secs_f64() * 1e3,
        percentile(&posts, 0.99).as_secs_f64() * 1e3
    );
    println!(
        "send -> stream delivery: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    assert_eq!(lost, 0, "every message reached its stream");
    std::process::exit(0);
}
