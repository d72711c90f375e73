//! Test fixtures: a real Baton server on a free port with a temporary data dir.

#![allow(dead_code)]

use std::net::SocketAddr;

use baton::{server, AppState, Config};

pub struct TestServer {
    pub addr: SocketAddr,
    pub base: String,
    pub state: AppState,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server with default config (no demo knowledge, no fsync).
    pub async fn start() -> TestServer {
        Self::start_with(|_| {}).await
    }

    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config {
            data_dir: dir.path().to_path_buf(),
            addr: "127.0.0.1:0".parse().unwrap(),
            demo_knowledge: false,
            ..Config::default()
        };
        config.security.secure_cookies = false;
        tweak(&mut config);
        Self::start_in(dir, config, false).await
    }

    /// Starts on an existing data dir (for restart tests).
    pub async fn start_in(dir: tempfile::TempDir, config: Config, durable: bool) -> TestServer {
        // PDFs are read by a child process: the built `baton` binary.
        baton::knowledge::pdf::set_helper(env!("CARGO_BIN_EXE_baton"));
        let state = AppState::new(config.clone(), durable).expect("state");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let running = server::start(state, config.addr, async move {
            let _ = rx.await;
        })
        .await
        .expect("server starts");
        let base = format!("http://{}", running.addr);
        let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
        TestServer { addr: running.addr, base, state: running.state, client, _dir: dir, shutdown: Some(tx) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Stops the server and hands back its data dir.
    pub fn stop(mut self) -> tempfile::TempDir {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self._dir
    }
}
