//! Knowledge: sources, documents, chunks, the retrieval index and answers.
//!
//! ## What lives where
//! - [`parse`] turns files and pages into sectioned text, [`chunk`] cuts it into model-sized
//!   passages, [`analyze`] is the lexical analyzer, [`index`] the in-memory hybrid index,
//!   [`crawl`] the website crawler, [`demo`] Baton's own docs embedded in the binary.
//! - Storage: `SOURCES`, `DOCUMENTS`, `CHUNKS` and `VECTORS` in the redb store. The index is
//!   rebuilt from them at [`Knowledge::open`] and updated in place as documents change.
//!
//! ## Concurrency
//! Ingestion jobs ([`Knowledge::ingest_path`], [`Knowledge::crawl_site`], [`Knowledge::recrawl`])
//! run as tokio tasks and return a [`SourceId`] at once. Parsing runs on the parser threads of
//! [`sandbox`] (a known, large stack; PDFs in a child process, [`pdf`]),
//! embedding goes through the embedder's bounded queue (back-pressure is the queue, so an ingest
//! slows down rather than starving visitors' questions of the model), each document is committed
//! in its own write transaction and then swapped into the index under a short write lock.
//! Progress (status, done/total, per-document errors) is kept in memory, persisted at milestones
//! and read with [`Knowledge::sources`]. A broken file or dead link is recorded as a
//! [`DocError`] on its source and never stops the job.
//!
//! Re-ingesting a source skips documents whose content hash is unchanged and removes documents
//! that are no longer there.

pub mod analyze;
pub mod background;
pub mod block;
pub mod chunk;
pub mod crawl;
pub mod demo;
pub mod html;
pub mod index;
mod ingest;
pub mod parse;
pub mod pdf;
pub mod sandbox;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};

use crate::answer::Answer;
use crate::config::CrawlConfig;
use crate::embed::{Embedder, Kind};
use crate::error::{Error, Result};
use crate::ids::{ChunkId, DocumentId, SourceId};
use crate::store::{Store, BLOCK_VECTORS, CHUNKS, DOCUMENTS, SOURCES, VECTORS};
use analyze::Lang;

pub use index::DEFAULT_DENSE_WEIGHT;

/// The built-in source that holds the team's Q&A snippets.
pub const SNIPPETS_SOURCE: &str = "snippets";
/// Per-document errors kept on a source (the rest are counted).
const MAX_ERRORS: usize = 200;
/// Parts of a multi-part question embedded besides the question itself.
const MAX_PARTS: usize = 3;

/// What a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// A local folder or file.
    Folder,
    /// A website, crawled from a start URL.
    Site,
    /// Q&A snippets written by the team.
    Snippets,
    /// Baton's own docs, loaded as demo knowledge.
    Demo,
}

/// Where an ingestion job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Idle,
    Running,
    Done,
    Failed,
}

/// A document that could not be ingested, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocError {
    /// The file path or URL.
    pub item: String,
    pub message: String,
}

/// A knowledge source and the progress of its last ingestion (what the admin UI shows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Source {
    pub id: SourceId,
    pub kind: SourceKind,
    pub name: String,
    /// Folder path or start URL.
    pub location: String,
    pub status: JobStatus,
    /// Items processed and found in the current or last run.
    pub done: usize,
    pub total: usize,
    /// Documents added or changed / unchanged / removed in the last run.
    pub changed: usize,
    pub unchanged: usize,
    pub removed: usize,
    pub errors: Vec<DocError>,
    pub error_count: usize,
    /// A job-level failure (the folder vanished, the site refused us).
    pub message: String,
    pub documents: usize,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

/// What the admin UI reads to show progress.
pub type SourceStatus = Source;

/// What a document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    File,
    Page,
    Snippet,
}

/// One document: a file, a page or a Q&A snippet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub id: DocumentId,
    pub source: SourceId,
    pub kind: DocKind,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Page URL (sites); empty for files.
    pub url: String,
    /// Path relative to the source root (files), the URL (pages), empty for snippets.
    pub path: String,
    /// sha256 of the raw content.
    pub hash: String,
    pub headings: Vec<String>,
    pub chunks: Vec<ChunkId>,
    pub updated: DateTime<Utc>,
    /// Snippets: who wrote it, and the question/answer as entered.
    #[serde(default)]
    pub author: String,
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub answer: String,
}

/// A passage of a document, the unit of retrieval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chunk {
    pub id: ChunkId,
    pub document: DocumentId,
    pub headings: Vec<String>,
    pub anchor: String,
    /// Plain text of the blocks, one block per line (what BM25 and the model read).
    pub text: String,
    /// The chunk's blocks; empty for chunks stored before blocks existed (their `text` lines are
    /// read as paragraphs).
    #[serde(default)]
    pub blocks: Vec<block::Block>,
}

impl Chunk {
    /// The chunk's blocks, or its text lines as paragraphs for chunks stored without blocks.
    pub fn blocks(&self) -> Vec<block::Block> {
        if self.blocks.is_empty() {
            self.text.lines().filter(|l| !l.trim().is_empty()).map(block::Block::paragraph).collect()
        } else {
            self.blocks.clone()
        }
    }
}

/// Shared, read-only embedding vectors.
type Vectors = Arc<Vec<Vec<f32>>>;

/// Handle to the knowledge base, cheap to clone.
#[derive(Clone)]
pub struct Knowledge {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    embedder: Embedder,
    index: RwLock<index::Index>,
    sources: Mutex<HashMap<SourceId, Source>>,
    changed: tokio::sync::Notify,
    dense_weight: Mutex<f32>,
    /// Vectors of the [`background`] passages per knowledge-base language, embedded on first use.
    background: Mutex<HashMap<Option<Lang>, Vectors>>,
}

impl Knowledge {
    /// Loads sources, documents, chunks and vectors and builds the index.
    pub fn open(store: Store, embedder: Embedder) -> Result<Knowledge> {
        let mut idx = index::Index::default();
        let docs: Vec<(String, Document)> = store.list_json(DOCUMENTS)?;
        store.read(|tx| {
            let chunks = tx.open_table(CHUNKS)?;
            let vectors = tx.open_table(VECTORS)?;
            for (_, doc) in docs {
                let mut items = Vec::with_capacity(doc.chunks.len());
                for cid in &doc.chunks {
                    let (Some(c), Some(v)) = (chunks.get(cid.0)?, vectors.get(cid.0)?) else { continue };
                    let chunk: Chunk = serde_json::from_slice(c.value())?;
                    items.push((chunk, decode_vector(v.value())));
                }
                idx.upsert(doc, items);
            }
            Ok(())
        })?;
        let mut sources = HashMap::new();
        for (_, mut s) in store.list_json::<Source>(SOURCES)? {
            if s.status == JobStatus::Running {
                s.status = JobStatus::Failed;
                s.message = "interrupted by a restart; run it again".into();
            }
            sources.insert(s.id.clone(), s);
        }
        tracing::info!(documents = idx.doc_count(), chunks = idx.chunk_count(), "knowledge index loaded");
        Ok(Knowledge {
            inner: Arc::new(Inner {
                store,
                embedder,
                index: RwLock::new(idx),
                sources: Mutex::new(sources),
                changed: tokio::sync::Notify::new(),
                dense_weight: Mutex::new(DEFAULT_DENSE_WEIGHT),
                background: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// Answers a question from the knowledge base.
    pub async fn answer(&self, question: &str, threshold: f32, max_citations: usize) -> Result<Answer> {
        let results = self.retrieve(question).await?;
        self.compose(question, &results, threshold, max_citations)
    }

    /// Composes the answer from retrieval results: reads the block vectors of the candidate
    /// chunks and lets [`crate::answer::compose`] choose what to quote.
    pub fn compose(
        &self,
        question: &str,
        results: &index::Results,
        threshold: f32,
        max_citations: usize,
    ) -> Result<Answer> {
        self.compose_explained(question, results, threshold, max_citations).map(|(a, _)| a)
    }

    /// [`Knowledge::compose`] with the confidence features (evaluation, `baton ask --explain`).
    pub fn compose_explained(
        &self,
        question: &str,
        results: &index::Results,
        threshold: f32,
        max_citations: usize,
    ) -> Result<(Answer, crate::answer::Features)> {
        let mut ids = crate::answer::candidate_chunks(results);
        // The whole of the best page may be quoted: the menu path is often in another section
        // than the passage retrieval found.
        let whole: Vec<index::Hit> = {
            let ix = self.inner.index.read();
            crate::answer::whole_documents(results)
                .iter()
                .flat_map(|d| ix.document_hits(d, &results.query, crate::answer::WHOLE_DOC_CHUNKS))
                .filter(|h| !ids.contains(&h.chunk.id.0))
                .collect()
        };
        ids.extend(whole.iter().map(|h| h.chunk.id.0));
        let mut vectors = self.block_vectors(&ids)?;
        // A chunk of one block has no block vectors: its own vector is the block's.
        {
            let ix = self.inner.index.read();
            for id in &ids {
                if !vectors.contains_key(id) {
                    if let Some(v) = ix.chunk_vector(*id) {
                        vectors.insert(*id, vec![v]);
                    }
                }
            }
        }
        let ctx = crate::answer::Context {
            terms: &|t| self.terms(t),
            idf: &|t| self.inner.index.read().term_idf(t),
            block_vectors: &vectors,
            whole: &whole,
            next_chunk: &|id| self.inner.index.read().next_chunk(id),
            prev_chunk: &|id| self.inner.index.read().prev_chunk(id),
            docs_lang: self.inner.index.read().dominant_lang(),
        };
        Ok(crate::answer::compose_explained(question, results, threshold, max_citations, &ctx))
    }

    /// The per-block vectors of these chunks (chunks of one block have none: their chunk vector
    /// is the block's).
    pub fn block_vectors(&self, ids: &[u64]) -> Result<HashMap<u64, Vec<Vec<f32>>>> {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        self.inner.store.read(|tx| {
            let t = tx.open_table(BLOCK_VECTORS)?;
            for id in ids {
                if let Some(v) = t.get(*id)? {
                    let flat = decode_vector(v.value());
                    let dim = crate::embed::DIM;
                    out.insert(*id, flat.chunks(dim).map(<[f32]>::to_vec).collect());
                }
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// Scores the knowledge base's chunks for a question (best first).
    pub async fn retrieve(&self, question: &str) -> Result<index::Results> {
        let question = question.trim();
        if question.is_empty() || self.chunk_count() == 0 {
            return Ok(index::Results::default());
        }
        // A question of several parts: each part is embedded in the same call, so that each
        // gets the block that answers it.
        let parts = crate::answer::parts(question);
        let mut texts = vec![question.to_owned()];
        if parts.len() > 1 {
            texts.extend(parts.iter().take(MAX_PARTS).cloned());
        }
        let mut vectors = self.inner.embedder.embed(texts, Kind::Query).await?.into_iter();
        let qvec = vectors.next().ok_or_else(|| Error::internal(anyhow::anyhow!("no query vector")))?;
        let background = self.background().await?;
        let w = *self.inner.dense_weight.lock();
        let mut results = self.inner.index.read().search(question, &qvec, w, 100);
        results.background = background.iter().map(|b| index::dot(&qvec, b)).fold(0.0f32, f32::max);
        results.parts = vectors.collect();

        Ok(results)
    }

    /// Vectors of the off-topic background in the knowledge base's language, embedded once per
    /// language.
    async fn background(&self) -> Result<Vectors> {
        let lang = self.inner.index.read().dominant_lang();
        if let Some(v) = self.inner.background.lock().get(&lang) {
            return Ok(v.clone());
        }
        let passages = background::passages(lang).into_iter().map(str::to_owned).collect();
        let vectors = Arc::new(self.inner.embedder.embed(passages, Kind::Passage).await?);
        self.inner.background.lock().insert(lang, vectors.clone());
        Ok(vectors)
    }

    /// Embeds what the first question would otherwise wait for (the background, about half a
    /// second on two cores); `serve` runs it in the background at start.
    pub async fn warm_up(&self) -> Result<()> {
        self.background().await.map(|_| ())
    }

    /// Analyzed terms, as the index sees them.
    pub fn terms(&self, text: &str) -> Vec<String> {
        self.inner.index.read().terms(text)
    }

    /// Changes the fusion weight of the dense retriever (evaluation and tuning).
    pub fn set_dense_weight(&self, w: f32) {
        *self.inner.dense_weight.lock() = w.clamp(0.0, 1.0);
    }

    pub fn chunk_count(&self) -> usize {
        self.inner.index.read().chunk_count()
    }

    pub fn document_count(&self) -> usize {
        self.inner.index.read().doc_count()
    }

    /// Every source with its progress, newest first.
    pub fn sources(&self) -> Vec<SourceStatus> {
        let mut v: Vec<Source> = self.inner.sources.lock().values().cloned().collect();
        v.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
        v
    }

    pub fn source(&self, id: &SourceId) -> Option<SourceStatus> {
        self.inner.sources.lock().get(id).cloned()
    }

    /// Documents of a source, by path.
    pub fn documents(&self, source: &SourceId) -> Result<Vec<Document>> {
        let mut docs: Vec<Document> = self
            .inner
            .store
            .list_json::<Document>(DOCUMENTS)?
            .into_iter()
            .map(|(_, d)| d)
            .filter(|d| &d.source == source)
            .collect();
        docs.sort_by(|a, b| a.path.cmp(&b.path).then(a.title.cmp(&b.title)));
        Ok(docs)
    }

    pub fn document(&self, id: &DocumentId) -> Result<Document> {
        self.inner.store.get_json(DOCUMENTS, id.as_str())?.ok_or(Error::NotFound("document"))
    }

    /// The team's Q&A snippets, newest first.
    pub fn snippets(&self) -> Result<Vec<Document>> {
        let mut v = self.documents(&SourceId::from(SNIPPETS_SOURCE))?;
        v.sort_by_key(|d| std::cmp::Reverse(d.updated));
        Ok(v)
    }

    /// Adds a question and its answer, written by the team, as a document; indexed at once.
    pub async fn add_snippet(&self, question: &str, answer: &str, author: &str) -> Result<DocumentId> {
        let (question, answer) = (question.trim(), answer.trim());
        if question.is_empty() || answer.is_empty() {
            return Err(Error::InvalidInput("a snippet needs a question and an answer".into()));
        }
        self.ensure_snippets_source()?;
        let id = DocumentId::random();
        ingest::add_snippet(self, id.clone(), question, answer, author).await?;
        self.update_source(&SourceId::from(SNIPPETS_SOURCE), |s| s.documents += 1);
        Ok(id)
    }

    /// Deletes one document (a snippet, or a page until the next re-ingest).
    pub fn delete_document(&self, id: &DocumentId) -> Result<()> {
        let doc = self.document(id)?;
        ingest::remove_documents(self, std::slice::from_ref(&doc))?;
        self.update_source(&doc.source, |s| s.documents = s.documents.saturating_sub(1));
        Ok(())
    }

    /// Ingests a local folder (or one file) in the background. Ingesting a folder that is
    /// already a source re-ingests that source.
    pub fn ingest_path(&self, path: &Path, name: Option<String>) -> Result<SourceId> {
        let root = std::fs::canonicalize(path)
            .map_err(|e| Error::InvalidInput(format!("cannot read {}: {e}", path.display())))?;
        let location = root.display().to_string();
        let existing = self.find_source(SourceKind::Folder, &location);
        let id = match existing {
            Some(id) => id,
            None => {
                let name = name.unwrap_or_else(|| {
                    root.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| location.clone())
                });
                self.create_source(SourceKind::Folder, name, location)?
            }
        };
        self.start_job(&id, None)?;
        Ok(id)
    }

    /// Crawls a website in the background. Crawling a start URL that is already a source
    /// re-crawls it.
    pub fn crawl_site(&self, start: &str, config: &CrawlConfig) -> Result<SourceId> {
        let url = crawl::parse_start_url(start)?;
        crawl::check_url(&url, config.allow_private).map_err(Error::InvalidInput)?;
        let location = url.to_string();
        let id = match self.find_source(SourceKind::Site, &location) {
            Some(id) => id,
            None => {
                self.create_source(SourceKind::Site, url.host_str().unwrap_or("site").to_owned(), location)?
            }
        };
        self.start_job(&id, Some(config.clone()))?;
        Ok(id)
    }

    /// Runs a source's ingestion again (unchanged documents are skipped by content hash).
    pub fn recrawl(&self, id: &SourceId, config: &CrawlConfig) -> Result<()> {
        self.source(id).ok_or(Error::NotFound("source"))?;
        self.start_job(id, Some(config.clone()))
    }

    /// Deletes a source and all its documents.
    pub fn delete_source(&self, id: &SourceId) -> Result<()> {
        let s = self.source(id).ok_or(Error::NotFound("source"))?;
        if s.status == JobStatus::Running {
            return Err(Error::Conflict("the source is being ingested; wait for it to finish".into()));
        }
        let docs = self.documents(id)?;
        ingest::remove_documents(self, &docs)?;
        self.inner.store.delete(SOURCES, id.as_str())?;
        self.inner.sources.lock().remove(id);
        Ok(())
    }

    /// Waits until the source's job has finished and returns its final status.
    pub async fn wait(&self, id: &SourceId) -> Result<SourceStatus> {
        loop {
            let notified = self.inner.changed.notified();
            let s = self.source(id).ok_or(Error::NotFound("source"))?;
            if s.status != JobStatus::Running {
                return Ok(s);
            }
            let _ = tokio::time::timeout(std::time::Duration::from_millis(500), notified).await;
        }
    }

    /// Loads in-memory files (the embedded demo docs) as a source, in the background.
    pub(crate) fn ingest_files(
        &self,
        kind: SourceKind,
        name: &str,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<SourceId> {
        let id = match self.find_source(kind, name) {
            Some(id) => id,
            None => self.create_source(kind, name.to_owned(), name.to_owned())?,
        };
        self.begin(&id)?;
        let k = self.clone();
        let job_id = id.clone();
        tokio::spawn(async move {
            let result = ingest::run_files(&k, &job_id, files).await;
            k.finish(&job_id, result);
        });
        Ok(id)
    }

    fn find_source(&self, kind: SourceKind, location: &str) -> Option<SourceId> {
        self.inner
            .sources
            .lock()
            .values()
            .find(|s| s.kind == kind && s.location == location)
            .map(|s| s.id.clone())
    }

    fn create_source(&self, kind: SourceKind, name: String, location: String) -> Result<SourceId> {
        let now = Utc::now();
        let id = SourceId::random();
        let s = Source {
            id: id.clone(),
            kind,
            name,
            location,
            status: JobStatus::Idle,
            done: 0,
            total: 0,
            changed: 0,
            unchanged: 0,
            removed: 0,
            errors: Vec::new(),
            error_count: 0,
            message: String::new(),
            documents: 0,
            created: now,
            updated: now,
        };
        self.inner.store.put_json(SOURCES, id.as_str(), &s)?;
        self.inner.sources.lock().insert(id.clone(), s);
        Ok(id)
    }

    fn ensure_snippets_source(&self) -> Result<()> {
        let id = SourceId::from(SNIPPETS_SOURCE);
        if self.source(&id).is_some() {
            return Ok(());
        }
        let now = Utc::now();
        let s = Source {
            id: id.clone(),
            kind: SourceKind::Snippets,
            name: "Q&A snippets".into(),
            location: String::new(),
            status: JobStatus::Idle,
            done: 0,
            total: 0,
            changed: 0,
            unchanged: 0,
            removed: 0,
            errors: Vec::new(),
            error_count: 0,
            message: String::new(),
            documents: 0,
            created: now,
            updated: now,
        };
        self.inner.store.put_json(SOURCES, id.as_str(), &s)?;
        self.inner.sources.lock().insert(id, s);
        Ok(())
    }

    /// Marks a source as running (refusing a second concurrent job).
    fn begin(&self, id: &SourceId) -> Result<()> {
        let mut map = self.inner.sources.lock();
        let s = map.get_mut(id).ok_or(Error::NotFound("source"))?;
        if s.status == JobStatus::Running {
            return Err(Error::Conflict("this source is already being ingested".into()));
        }
        s.status = JobStatus::Running;
        s.done = 0;
        s.total = 0;
        s.changed = 0;
        s.unchanged = 0;
        s.removed = 0;
        s.errors.clear();
        s.error_count = 0;
        s.message.clear();
        s.updated = Utc::now();
        let snapshot = s.clone();
        drop(map);
        self.inner.store.put_json(SOURCES, id.as_str(), &snapshot)
    }

    fn start_job(&self, id: &SourceId, crawl: Option<CrawlConfig>) -> Result<()> {
        let kind = self.source(id).ok_or(Error::NotFound("source"))?.kind;
        if matches!(kind, SourceKind::Snippets | SourceKind::Demo) {
            return Err(Error::InvalidInput("this source cannot be re-ingested".into()));
        }
        self.begin(id)?;
        let k = self.clone();
        let id = id.clone();
        tokio::spawn(async move {
            let result = match kind {
                SourceKind::Site => ingest::run_site(&k, &id, crawl.unwrap_or_default()).await,
                _ => ingest::run_folder(&k, &id).await,
            };
            k.finish(&id, result);
        });
        Ok(())
    }

    fn finish(&self, id: &SourceId, result: Result<(), String>) {
        let documents = self.documents(id).map(|d| d.len()).unwrap_or(0);
        self.update_source(id, |s| {
            s.documents = documents;
            match &result {
                Ok(()) => s.status = JobStatus::Done,
                Err(e) => {
                    s.status = JobStatus::Failed;
                    s.message = e.clone();
                }
            }
        });
        if let Err(e) = &result {
            tracing::warn!(source = %id, error = %e, "ingestion failed");
        }
        self.inner.changed.notify_waiters();
    }

    /// Changes a source's status in memory and persists it.
    fn update_source(&self, id: &SourceId, f: impl FnOnce(&mut Source)) {
        let snapshot = {
            let mut map = self.inner.sources.lock();
            let Some(s) = map.get_mut(id) else { return };
            f(s);
            s.updated = Utc::now();
            s.clone()
        };
        if let Err(e) = self.inner.store.put_json(SOURCES, id.as_str(), &snapshot) {
            tracing::warn!(error = %e, "cannot save source status");
        }
        self.inner.changed.notify_waiters();
    }

    /// Progress inside a job: kept in memory, persisted every few documents.
    fn progress(&self, id: &SourceId, f: impl FnOnce(&mut Source)) {
        let persist = {
            let mut map = self.inner.sources.lock();
            let Some(s) = map.get_mut(id) else { return };
            f(s);
            s.errors.truncate(MAX_ERRORS);
            s.done % 20 == 0
        };
        if persist {
            self.update_source(id, |_| {});
        }
    }
}

pub(crate) fn decode_vector(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

pub(crate) fn encode_vector(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
