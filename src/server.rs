//! Starting and stopping the HTTP server, and the background jobs that run beside it.

use std::net::SocketAddr;

use poem::listener::{Acceptor, Listener, TcpListener};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::state::AppState;

/// A running server (used by `serve` and by tests, which bind port 0).
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    pub handle: JoinHandle<std::io::Result<()>>,
}

/// Binds, starts background jobs and serves until `shutdown` resolves.
pub async fn start(
    state: AppState,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Running> {
    let acceptor = TcpListener::bind(addr)
        .into_acceptor()
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))?;
    // Request heads hyper would refuse with an empty body get the JSON error instead.
    let acceptor = crate::http::edge::EdgeAcceptor(acceptor);
    let local = acceptor.local_addr().first().and_then(|a| a.as_socket_addr().copied()).unwrap_or(addr);
    let app = crate::http::build_app(state.clone());
    // The reply queue works while the server runs, and lets go of the state when it stops.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    crate::answer_queue::spawn(state.clone(), stop_rx);
    let shutdown = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    let handle = tokio::spawn(async move {
        // Open SSE streams end on shutdown by themselves; the timeout bounds anything else.
        poem::Server::new_with_acceptor(acceptor)
            .run_with_graceful_shutdown(app, shutdown, Some(std::time::Duration::from_secs(5)))
            .await
    });
    Ok(Running { addr: local, state, handle })
}

/// `baton serve`: the whole product.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let addr = config.addr;
    let state = AppState::new(config, true)?;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    };
    let running = start(state, addr, shutdown).await?;
    if let Err(e) = crate::knowledge::demo::load_if_empty(&running.state) {
        tracing::warn!(error = %e, "cannot load the demo knowledge");
    }
    let knowledge = running.state.knowledge.clone();
    tokio::spawn(async move {
        if let Err(e) = knowledge.warm_up().await {
            tracing::warn!(error = %e, "cannot warm up the answer model");
        }
    });
    // Deletes conversations after `security.retention_days` (hourly; off when 0).
    crate::admin::retention::spawn(running.state.clone());
    let url = running.state.config().public_url();
    tracing::info!(addr = %running.addr, "Baton is listening");
    println!("\n  Baton is running: {url}/ (demo page with the widget), {url}/app (team inbox), {url}/api/docs (API)\n");
    // First run: a one-time link that creates the owner's account (a fresh one on each start
    // until it is used).
    match crate::accounts::setup_link(&running.state.store, &url) {
        Ok(Some(link)) => println!("  First run: create the owner's account at {link}\n"),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "cannot create the setup link"),
    }
    crate::accounts::spawn_sweeper(running.state.store.clone());
    running.handle.await??;
    Ok(())
}
