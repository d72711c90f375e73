//! Files uploaded in the console: saved under `<data dir>/uploads/<batch>/`, then ingested.
//!
//! Each upload batch becomes its own knowledge source (named after the file, or "N files"),
//! so two uploads in a row never wait for each other's ingestion. Deleting such a source
//! also deletes its folder.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ids::{random_hex, SourceId};
use crate::state::AppState;

/// One uploaded file.
pub struct UploadedFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Extensions the parsers read.
const ALLOWED: [&str; 7] = ["md", "mdx", "markdown", "txt", "html", "htm", "pdf"];

/// The folder uploads live in.
pub fn uploads_dir(state: &AppState) -> PathBuf {
    state.config().data_path("uploads")
}

/// A safe file name: the last path component, with anything unusual replaced.
pub fn safe_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') { c } else { '_' })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_owned();
    if cleaned.is_empty() {
        "file".to_owned()
    } else {
        cleaned.chars().take(120).collect()
    }
}

fn extension_ok(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| ALLOWED.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

/// The upload limit in words ("20 MB", "512 KB").
pub fn limit_text(bytes: usize) -> String {
    if bytes >= 1024 * 1024 {
        format!("{} MB", bytes / (1024 * 1024))
    } else if bytes >= 1024 {
        format!("{} KB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// Checks sizes and types, writes the files and starts their ingestion.
pub async fn save_and_ingest(state: &AppState, files: Vec<UploadedFile>) -> Result<SourceId> {
    let limit = state.config().limits.max_upload_bytes;
    if files.is_empty() {
        return Err(Error::InvalidInput("choose at least one file".into()));
    }
    let total: usize = files.iter().map(|f| f.bytes.len()).sum();
    if total > limit {
        return Err(Error::PayloadTooLarge(format!("uploads are limited to {}", limit_text(limit))));
    }
    for f in &files {
        if !extension_ok(&f.name) {
            return Err(Error::InvalidInput(format!(
                "{}: only Markdown, MDX, text, HTML and PDF files can be added",
                safe_name(&f.name)
            )));
        }
    }
    let dir =
        uploads_dir(state).join(format!("{}-{}", chrono::Utc::now().format("%Y%m%d-%H%M%S"), random_hex(4)));
    tokio::fs::create_dir_all(&dir).await?;
    let mut names = Vec::new();
    for f in files {
        let mut name = safe_name(&f.name);
        while names.contains(&name) {
            name = format!("_{name}");
        }
        tokio::fs::write(dir.join(&name), &f.bytes).await?;
        names.push(name);
    }
    let label = if names.len() == 1 { names[0].clone() } else { format!("{} uploaded files", names.len()) };
    state.knowledge.ingest_path(&dir, Some(label))
}

/// Deletes a source; an upload batch's folder goes with it.
pub fn delete_source(state: &AppState, id: &SourceId) -> Result<()> {
    let location = state.knowledge.source(id).map(|s| s.location);
    state.knowledge.delete_source(id)?;
    if let Some(loc) = location {
        let root = std::fs::canonicalize(uploads_dir(state)).ok();
        let path = PathBuf::from(&loc);
        if let Some(root) = root {
            if path.starts_with(&root) && path != root {
                if let Err(e) = std::fs::remove_dir_all(&path) {
                    tracing::warn!(error = %e, path = %path.display(), "cannot delete uploaded files");
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_escape_the_folder() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\docs\\Guide v2.md"), "Guide v2.md");
        assert_eq!(safe_name(".hidden.md"), "hidden.md");
        assert_eq!(safe_name("a<b>.md"), "a_b_.md");
        assert_eq!(safe_name(".."), "file");
        assert!(extension_ok("x.PDF") && !extension_ok("x.exe") && !extension_ok("noext"));
    }
}
