//! A real browser for end-to-end tests: Debian's `chromium` driven by `chromedriver` through
//! fantoccini.
//!
//! [`Browser::start`] starts chromedriver on a free port, opens headless Chromium with a fresh
//! profile and the team's flags, and installs nothing else. Without chromium/chromedriver the
//! test is skipped with a loud message, except in CI (`CI` set), where it fails.
//!
//! Helpers: [`Browser::screenshot`] writes a PNG to /tmp, [`Browser::js`] runs a script and
//! returns its JSON value, [`Browser::wait_js`] polls a script until it returns something truthy
//! and [`Browser::console_errors`] reads the browser's console log (SEVERE entries).

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};

pub const CHROMIUM: &str = "/usr/bin/chromium";
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Options {
    pub width: u32,
    pub height: u32,
    /// Emulate `prefers-color-scheme: dark`.
    pub dark: bool,
    /// `navigator.language`.
    pub lang: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Options { width: 1280, height: 800, dark: false, lang: "en-US" }
    }
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    driver_url: String,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// A fresh headless browser, or `None` (after a loud message) when none is installed locally.
    pub async fn start(opts: Options) -> Option<Browser> {
        let installed = Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists();
        if !installed {
            assert!(
                std::env::var("CI").is_err(),
                "CI must have {CHROMIUM} and {CHROMEDRIVER} for the browser tests"
            );
            eprintln!("\n*** SKIPPING browser test: {CHROMIUM} or {CHROMEDRIVER} is not installed ***\n");
            return None;
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver_url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not open port {port}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        args.push(format!("--window-size={},{}", opts.width, opts.height));
        args.push(format!("--lang={}", opts.lang));
        if opts.dark {
            args.push("--force-dark-mode".into());
            args.push("--blink-settings=preferredColorScheme=0".into());
        }
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": args,
                "prefs": {"intl.accept_languages": opts.lang},
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        });
        let caps = match caps {
            Value::Object(m) => m,
            _ => unreachable!(),
        };
        // Both ring and aws-lc-rs are in the dependency tree; pick one for the TLS client.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ClientBuilder::rustls()
            .expect("tls")
            .capabilities(caps)
            .connect(&driver_url)
            .await
            .expect("chromedriver session");
        // Headless windows ignore --window-size on some versions; set it explicitly.
        let _ = client.set_window_size(opts.width, opts.height).await;
        Some(Browser { client, driver, driver_url, _profile: profile })
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client.execute(script, args).await.unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `script` until it returns a truthy value; returns it. Panics after `timeout`.
    pub async fn wait_js(&self, what: &str, script: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.js(script, vec![]).await;
            let truthy = !matches!(&v, Value::Null | Value::Bool(false))
                && v.as_str() != Some("")
                && v.as_array().is_none_or(|a| !a.is_empty());
            if truthy {
                return v;
            }
            if Instant::now() > deadline {
                let _ = self.screenshot(&format!("timeout-{}", what.replace(' ', "-"))).await;
                panic!("timed out waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Saves a PNG to `/tmp/baton-<name>.png` and returns the path.
    pub async fn screenshot(&self, name: &str) -> std::path::PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = std::env::temp_dir().join(format!("baton-{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// SEVERE entries of the browser console since the last call (chromedriver's log endpoint).
    pub async fn console_errors(&self) -> Vec<String> {
        let Ok(Some(id)) = self.client.session_id().await else { return Vec::new() };
        let r = reqwest::Client::new()
            .post(format!("{}/session/{id}/se/log", self.driver_url))
            .json(&json!({"type": "browser"}))
            .send()
            .await;
        let Ok(r) = r else { return Vec::new() };
        let v: Value = r.json().await.unwrap_or(Value::Null);
        v["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e["level"] == "SEVERE")
                    .filter_map(|e| e["message"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
