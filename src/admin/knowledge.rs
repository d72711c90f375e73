//! Knowledge sources as the console sees them, and the console's snippet editing.
//!
//! The knowledge engine ([`crate::knowledge::Knowledge`]) owns sources, documents and jobs;
//! this module only shapes them for the console and adds "edit a snippet" (remove and add,
//! indexed at once).

use chrono::{DateTime, Utc};
use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ids::{DocumentId, SourceId};
use crate::knowledge::{DocKind, Document, Source, SNIPPETS_SOURCE};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, Object)]
pub struct DocErrorView {
    pub item: String,
    pub message: String,
}

/// A source with the progress of its last ingestion.
#[derive(Debug, Clone, Serialize, Object)]
pub struct SourceView {
    pub id: SourceId,
    /// `folder`, `site`, `snippets` or `demo`.
    pub kind: String,
    pub name: String,
    pub location: String,
    /// `idle`, `running`, `done` or `failed`.
    pub status: String,
    pub done: u64,
    pub total: u64,
    pub changed: u64,
    pub unchanged: u64,
    pub removed: u64,
    pub errors: Vec<DocErrorView>,
    pub error_count: u64,
    pub message: String,
    pub documents: u64,
    /// Whether it can be re-crawled / re-ingested from the console.
    pub refreshable: bool,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

fn name_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

impl From<Source> for SourceView {
    fn from(s: Source) -> Self {
        let kind = name_of(&s.kind);
        SourceView {
            id: s.id,
            refreshable: kind == "site" || kind == "folder",
            kind,
            name: s.name,
            location: s.location,
            status: name_of(&s.status),
            done: s.done as u64,
            total: s.total as u64,
            changed: s.changed as u64,
            unchanged: s.unchanged as u64,
            removed: s.removed as u64,
            errors: s.errors.into_iter().map(|e| DocErrorView { item: e.item, message: e.message }).collect(),
            error_count: s.error_count as u64,
            message: s.message,
            documents: s.documents as u64,
            created: s.created,
            updated: s.updated,
        }
    }
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct DocumentView {
    pub id: DocumentId,
    pub title: String,
    pub url: String,
    pub path: String,
    pub chunks: u32,
    pub updated: DateTime<Utc>,
}

impl From<Document> for DocumentView {
    fn from(d: Document) -> Self {
        DocumentView {
            id: d.id,
            title: d.title,
            url: d.url,
            path: d.path,
            chunks: d.chunks.len() as u32,
            updated: d.updated,
        }
    }
}

#[derive(Debug, Clone, Serialize, Object)]
pub struct SnippetView {
    pub id: DocumentId,
    pub question: String,
    pub answer: String,
    pub author: String,
    pub updated: DateTime<Utc>,
}

impl From<Document> for SnippetView {
    fn from(d: Document) -> Self {
        SnippetView { id: d.id, question: d.question, answer: d.answer, author: d.author, updated: d.updated }
    }
}

#[derive(Debug, Clone, Deserialize, Object)]
pub struct SnippetInput {
    pub question: String,
    pub answer: String,
}

pub fn sources(state: &AppState) -> Vec<SourceView> {
    state.knowledge.sources().into_iter().map(SourceView::from).collect()
}

pub fn source(state: &AppState, id: &SourceId) -> Result<SourceView> {
    state.knowledge.source(id).map(SourceView::from).ok_or(Error::NotFound("source"))
}

fn check_snippet(state: &AppState, s: &SnippetInput) -> Result<()> {
    let limit = state.config().limits.max_message_chars;
    if s.question.chars().count() > limit || s.answer.chars().count() > limit * 2 {
        return Err(Error::PayloadTooLarge("the snippet is too long".into()));
    }
    Ok(())
}

pub async fn add_snippet(state: &AppState, s: SnippetInput, author: &str) -> Result<SnippetView> {
    check_snippet(state, &s)?;
    let id = state.knowledge.add_snippet(&s.question, &s.answer, author).await?;
    Ok(state.knowledge.document(&id)?.into())
}

fn snippet(state: &AppState, id: &DocumentId) -> Result<Document> {
    let d = state.knowledge.document(id)?;
    if d.kind != DocKind::Snippet || d.source.as_str() != SNIPPETS_SOURCE {
        return Err(Error::NotFound("snippet"));
    }
    Ok(d)
}

/// Replaces a snippet (it gets a new id; the old one is removed from the index).
pub async fn edit_snippet(
    state: &AppState,
    id: &DocumentId,
    s: SnippetInput,
    author: &str,
) -> Result<SnippetView> {
    check_snippet(state, &s)?;
    snippet(state, id)?;
    let new = state.knowledge.add_snippet(&s.question, &s.answer, author).await?;
    state.knowledge.delete_document(id)?;
    Ok(state.knowledge.document(&new)?.into())
}

pub fn delete_snippet(state: &AppState, id: &DocumentId) -> Result<()> {
    snippet(state, id)?;
    state.knowledge.delete_document(id)
}
