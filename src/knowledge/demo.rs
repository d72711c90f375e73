//! Baton's own documentation (`docs/` in the repository), embedded in the binary and loaded as
//! demo knowledge so a fresh install answers questions about Baton offline, out of the box.

use rust_embed::RustEmbed;

use super::SourceKind;
use crate::error::Result;
use crate::ids::SourceId;
use crate::state::AppState;

#[derive(RustEmbed)]
#[folder = "docs/"]
#[include = "*.md"]
struct DemoDocs;

/// Name (and location) of the demo source.
pub const DEMO_SOURCE: &str = "Baton documentation (demo)";

/// The embedded docs as `(path, bytes)`, by path.
pub fn files() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = DemoDocs::iter()
        .filter_map(|p| DemoDocs::get(&p).map(|f| (p.to_string(), f.data.into_owned())))
        .collect();
    v.sort();
    v
}

/// Starts loading the demo docs in the background when `demo_knowledge` is on and the knowledge
/// base is empty. Returns the demo source when a load was started.
pub fn load_if_empty(state: &AppState) -> Result<Option<SourceId>> {
    if !state.config().demo_knowledge || state.knowledge.document_count() > 0 {
        return Ok(None);
    }
    let files = files();
    if files.is_empty() {
        return Ok(None);
    }
    tracing::info!(files = files.len(), "loading Baton's own docs as demo knowledge");
    state.knowledge.ingest_files(SourceKind::Demo, DEMO_SOURCE, files).map(Some)
}
