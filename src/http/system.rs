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
}

fn health(state: &AppState) -> Health {
    let chunks = state.knowledge.chunk_count() as u64;
    Health { status: "ok".into(), version: env!("CARGO_PKG_VERSION").into(), chunks }
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
