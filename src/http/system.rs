//! Health and version.

use poem::{handler, web::Data, web::Json};
use poem_openapi::{payload::Json as OJson, Object, OpenApi, Tags};

use crate::state::AppState;

#[derive(Tags)]
pub enum SystemTag {
    /// Health and version.
    System,
}

#[derive(Debug, Object, serde::Serialize)]
pub struct Health {
    pub status: String,
    pub version: String,
    /// Chunks in the knowledge index.
    pub chunks: u64,
    /// Visitor messages whose reply is still being worked on (the durable reply queue).
    pub reply_queue_depth: u64,
    /// How long the oldest of them has waited, in seconds.
    pub reply_queue_oldest_wait_secs: f64,
}

fn health(state: &AppState) -> Health {
    let chunks = state.knowledge.chunk_count() as u64;
    let queue = crate::answer_queue::stats(&state.store).unwrap_or_default();
    Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        chunks,
        reply_queue_depth: queue.depth,
        reply_queue_oldest_wait_secs: queue.oldest_wait_secs,
    }
}

/// `GET /healthz`, for load balancers and test fixtures.
#[handler]
pub fn healthz(state: Data<&AppState>) -> Json<Health> {
    Json(health(&state))
}

pub struct SystemApi;

#[OpenApi(tag = "SystemTag::System")]
impl SystemApi {
    /// Health of the server.
    #[oai(path = "/health", method = "get")]
    async fn health(&self, state: poem::web::Data<&AppState>) -> OJson<Health> {
        OJson(health(&state))
    }
}
