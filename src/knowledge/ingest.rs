//! The ingestion pipeline: raw bytes -> parsed -> chunked -> embedded -> stored -> indexed.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::Utc;
use sha2::{Digest, Sha256};

use super::block::{Block, Section};
use super::chunk::{self, passage};
use super::parse::{self, Format, Parsed};
use super::{encode_vector, Chunk, DocError, DocKind, Document, Knowledge, SNIPPETS_SOURCE};
use crate::embed::Kind;
use crate::error::{Error, Result};
use crate::ids::{ChunkId, DocumentId, SourceId};
use redb::ReadableTable;

use crate::store::{get_json, put_json, BLOCK_VECTORS, CHUNKS, DOCUMENTS, META, VECTORS};

/// Passages embedded per call to the model.
const EMBED_BATCH: usize = 32;

/// One thing to ingest.
pub(crate) struct Item {
    /// Path relative to the source root, or the page URL.
    pub path: String,
    pub url: String,
    pub kind: DocKind,
    pub format: Format,
    pub bytes: Vec<u8>,
}

pub(crate) enum Outcome {
    Changed,
    Unchanged,
}

/// Part of every document's content hash: bump it when parsing or chunking changes what a file
/// becomes, so the next ingest of unchanged files re-chunks them instead of skipping them.
const PIPELINE_VERSION: &[u8] = b"chunks-3 (blocks and block vectors)";

fn hex_hash(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

/// The stable ID of a document: its source and path.
pub(crate) fn document_id(source: &SourceId, path: &str) -> DocumentId {
    DocumentId(hex_hash(&[source.as_str().as_bytes(), path.as_bytes()])[..32].to_owned())
}

fn file_title(path: &str) -> String {
    let stem = path.rsplit('/').next().unwrap_or(path);
    let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
    let t = stem.replace(['-', '_'], " ");
    let mut c = t.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// Parses, chunks, embeds and stores one item; unchanged content is skipped.
pub(crate) async fn ingest_item(k: &Knowledge, source: &SourceId, item: Item) -> Result<Outcome, String> {
    let id = document_id(source, &item.path);
    let hash = hex_hash(&[PIPELINE_VERSION, &item.bytes]);
    let existing: Option<Document> =
        k.inner.store.get_json(DOCUMENTS, id.as_str()).map_err(|e| e.to_string())?;
    if existing.as_ref().is_some_and(|d| d.hash == hash) {
        return Ok(Outcome::Unchanged);
    }
    let fallback = file_title(&item.path);
    let embedder = k.inner.embedder.clone();
    let (format, bytes) = (item.format, item.bytes);
    // On a parser thread (a known, large stack, panics caught): a hostile file is this
    // document's error, never the server's.
    let (parsed, drafts) = super::sandbox::run(move || {
        let parsed = parse::parse(format, &bytes, &fallback)?;
        if parsed.is_empty() {
            return Err("no readable text in this document".to_owned());
        }
        let drafts = chunk::chunk(&parsed, &|t| embedder.count_tokens(t));
        Ok((parsed, drafts))
    })
    .await??;
    let doc = Document {
        id,
        source: source.clone(),
        kind: item.kind,
        title: parsed.title.clone(),
        description: parsed.description.clone(),
        url: item.url,
        path: item.path,
        hash,
        headings: parsed.headings(),
        chunks: Vec::new(),
        updated: Utc::now(),
        author: String::new(),
        question: String::new(),
        answer: String::new(),
    };
    store_document(k, doc, drafts).await.map_err(|e| e.public_message_for_job())?;
    Ok(Outcome::Changed)
}

trait JobMessage {
    fn public_message_for_job(&self) -> String;
}

impl JobMessage for Error {
    fn public_message_for_job(&self) -> String {
        match self {
            Error::Internal(e) => format!("{e:#}"),
            other => other.to_string(),
        }
    }
}

/// Embeds the drafts (and, for chunks of several blocks, each block) and commits the document
/// with its chunks, replacing an older version.
async fn store_document(k: &Knowledge, mut doc: Document, drafts: Vec<chunk::Draft>) -> Result<()> {
    let mut passages: Vec<String> =
        drafts.iter().map(|d| passage(&doc.title, &d.headings, &d.text)).collect();
    // Block passages follow the chunk passages, in draft order.
    for d in drafts.iter().filter(|d| d.blocks.len() > 1) {
        passages.extend(d.blocks.iter().map(|b| passage(&doc.title, &d.headings, &b.plain())));
    }
    let mut vectors = Vec::with_capacity(passages.len());
    for batch in passages.chunks(EMBED_BATCH) {
        vectors.extend(k.inner.embedder.embed(batch.to_vec(), Kind::Passage).await?);
    }
    if vectors.len() != passages.len() {
        return Err(Error::internal(anyhow::anyhow!(
            "the model returned {} vectors for {} passages",
            vectors.len(),
            passages.len()
        )));
    }
    let mut block_vectors = vectors.split_off(drafts.len()).into_iter();
    let old: Option<Document> = k.inner.store.get_json(DOCUMENTS, doc.id.as_str())?;
    let n = drafts.len() as u64;
    let items = k.inner.store.write(|tx| {
        let first = {
            let mut meta = tx.open_table(META)?;
            let first = meta.get("next_chunk_id")?.map_or(1, |v| v.value());
            meta.insert("next_chunk_id", first + n)?;
            first
        };
        let mut chunks_t = tx.open_table(CHUNKS)?;
        let mut vectors_t = tx.open_table(VECTORS)?;
        let mut blocks_t = tx.open_table(BLOCK_VECTORS)?;
        if let Some(old) = &old {
            for c in &old.chunks {
                chunks_t.remove(c.0)?;
                vectors_t.remove(c.0)?;
                blocks_t.remove(c.0)?;
            }
        }
        let mut items = Vec::with_capacity(drafts.len());
        for (i, (d, v)) in drafts.into_iter().zip(vectors).enumerate() {
            let c = Chunk {
                id: ChunkId(first + i as u64),
                document: doc.id.clone(),
                headings: d.headings,
                anchor: d.anchor,
                text: d.text,
                blocks: d.blocks,
            };
            if c.blocks.len() > 1 {
                let flat: Vec<f32> = block_vectors.by_ref().take(c.blocks.len()).flatten().collect();
                blocks_t.insert(c.id.0, encode_vector(&flat).as_slice())?;
            }
            chunks_t.insert(c.id.0, serde_json::to_vec(&c)?.as_slice())?;
            vectors_t.insert(c.id.0, encode_vector(&v).as_slice())?;
            doc.chunks.push(c.id);
            items.push((c, v));
        }
        let mut docs_t = tx.open_table(DOCUMENTS)?;
        put_json(&mut docs_t, doc.id.as_str(), &doc)?;
        Ok(items)
    })?;
    k.inner.index.write().upsert(doc, items);
    Ok(())
}

/// Deletes documents from the store and the index.
pub(crate) fn remove_documents(k: &Knowledge, docs: &[Document]) -> Result<()> {
    if docs.is_empty() {
        return Ok(());
    }
    k.inner.store.write(|tx| {
        let mut docs_t = tx.open_table(DOCUMENTS)?;
        let mut chunks_t = tx.open_table(CHUNKS)?;
        let mut vectors_t = tx.open_table(VECTORS)?;
        let mut blocks_t = tx.open_table(BLOCK_VECTORS)?;
        for d in docs {
            let stored: Option<Document> = get_json(&docs_t, d.id.as_str())?;
            for c in stored.map(|s| s.chunks).unwrap_or_default() {
                chunks_t.remove(c.0)?;
                vectors_t.remove(c.0)?;
                blocks_t.remove(c.0)?;
            }
            docs_t.remove(d.id.as_str())?;
        }
        Ok(())
    })?;
    let mut idx = k.inner.index.write();
    for d in docs {
        idx.remove(&d.id);
    }
    Ok(())
}

/// Records the outcome of one item on the source's progress.
fn record(k: &Knowledge, source: &SourceId, item: &str, outcome: Result<Outcome, String>) -> bool {
    let ok = outcome.is_ok();
    k.progress(source, |s| {
        s.done += 1;
        match outcome {
            Ok(Outcome::Changed) => s.changed += 1,
            Ok(Outcome::Unchanged) => s.unchanged += 1,
            Err(message) => {
                s.error_count += 1;
                s.errors.push(DocError { item: item.to_owned(), message });
            }
        }
    });
    ok
}

/// Removes the source's documents whose path is not in `keep`.
fn remove_missing(k: &Knowledge, source: &SourceId, keep: &HashSet<String>) -> Result<(), String> {
    let docs = k.documents(source).map_err(|e| e.to_string())?;
    let gone: Vec<Document> = docs.into_iter().filter(|d| !keep.contains(&d.path)).collect();
    remove_documents(k, &gone).map_err(|e| e.to_string())?;
    let n = gone.len();
    k.progress(source, |s| s.removed = n);
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok()).collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        let ft = e.file_type()?;
        if ft.is_dir() {
            walk(&path, out)?;
        } else if ft.is_file() && Format::from_path(&path.to_string_lossy()).is_some() {
            out.push(path);
        }
    }
    Ok(())
}

/// A folder (or single file) source.
pub(crate) async fn run_folder(k: &Knowledge, source: &SourceId) -> Result<(), String> {
    let location = k.source(source).map(|s| s.location).unwrap_or_default();
    let root = PathBuf::from(&location);
    let (base, files) = if root.is_file() {
        (root.parent().map(Path::to_path_buf).unwrap_or_default(), vec![root.clone()])
    } else {
        let r = root.clone();
        let files = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            walk(&r, &mut out).map(|_| out)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("cannot read {location}: {e}"))?;
        (root.clone(), files)
    };
    let total = files.len();
    k.progress(source, |s| s.total = total);
    let mut keep = HashSet::new();
    for file in files {
        let rel = file.strip_prefix(&base).unwrap_or(&file).to_string_lossy().replace('\\', "/");
        keep.insert(rel.clone());
        let outcome = match tokio::fs::read(&file).await {
            Ok(bytes) => {
                let format = Format::from_path(&rel).unwrap_or(Format::Text);
                ingest_item(
                    k,
                    source,
                    Item { path: rel.clone(), url: String::new(), kind: DocKind::File, format, bytes },
                )
                .await
            }
            Err(e) => Err(format!("cannot read the file: {e}")),
        };
        record(k, source, &rel, outcome);
    }
    remove_missing(k, source, &keep)
}

/// In-memory files (the demo docs).
pub(crate) async fn run_files(
    k: &Knowledge,
    source: &SourceId,
    files: Vec<(String, Vec<u8>)>,
) -> Result<(), String> {
    let total = files.len();
    k.progress(source, |s| s.total = total);
    let mut keep = HashSet::new();
    for (path, bytes) in files {
        keep.insert(path.clone());
        let Some(format) = Format::from_path(&path) else { continue };
        let outcome = ingest_item(
            k,
            source,
            Item { path: path.clone(), url: String::new(), kind: DocKind::File, format, bytes },
        )
        .await;
        record(k, source, &path, outcome);
    }
    remove_missing(k, source, &keep)
}

/// A website: pages arrive from the crawler as they are fetched.
pub(crate) async fn run_site(
    k: &Knowledge,
    source: &SourceId,
    config: crate::config::CrawlConfig,
) -> Result<(), String> {
    let start = k.source(source).map(|s| s.location).unwrap_or_default();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<super::crawl::Fetched>(8);
    let crawler = tokio::spawn(super::crawl::crawl(start, config, tx));
    let mut keep = HashSet::new();
    while let Some(page) = rx.recv().await {
        let total = page.discovered;
        k.progress(source, |s| s.total = s.total.max(total));
        match page.result {
            Ok(p) => {
                keep.insert(p.url.clone());
                let outcome = ingest_item(
                    k,
                    source,
                    Item {
                        path: p.url.clone(),
                        url: p.url.clone(),
                        kind: DocKind::Page,
                        format: p.format,
                        bytes: p.body,
                    },
                )
                .await;
                record(k, source, &p.url, outcome);
            }
            Err(e) => {
                if !e.gone {
                    // A timeout or server error: keep what we had rather than forget the page.
                    keep.insert(page.url.clone());
                }
                record(k, source, &page.url, Err(e.message));
            }
        }
    }
    let summary = crawler.await.map_err(|e| e.to_string())??;
    k.progress(source, |s| s.total = s.done.max(summary.discovered.min(s.total)));
    if keep.is_empty() {
        return Err("no page could be fetched from this site".into());
    }
    remove_missing(k, source, &keep)
}

/// A Q&A snippet: the question is the title, the answer the text.
pub(crate) async fn add_snippet(
    k: &Knowledge,
    id: DocumentId,
    question: &str,
    answer: &str,
    author: &str,
) -> Result<()> {
    let parsed = Parsed {
        title: question.to_owned(),
        description: String::new(),
        sections: vec![Section {
            headings: Vec::new(),
            anchor: String::new(),
            // A snippet is the team's own words: it is read as Markdown (so lists stay lists)
            // and quoted whole.
            blocks: snippet_blocks(answer),
        }],
    };
    let embedder = k.inner.embedder.clone();
    let drafts = chunk::chunk(&parsed, &|t| embedder.count_tokens(t));
    let doc = Document {
        id,
        source: SourceId::from(SNIPPETS_SOURCE),
        kind: DocKind::Snippet,
        title: question.to_owned(),
        description: String::new(),
        url: String::new(),
        path: String::new(),
        hash: hex_hash(&[question.as_bytes(), answer.as_bytes()]),
        headings: Vec::new(),
        chunks: Vec::new(),
        updated: Utc::now(),
        author: author.to_owned(),
        question: question.to_owned(),
        answer: answer.to_owned(),
    };
    store_document(k, doc, drafts).await
}

/// The blocks of a snippet's answer: its Markdown structure, or its paragraphs.
fn snippet_blocks(answer: &str) -> Vec<Block> {
    let parsed = parse::parse_markdown(answer);
    let blocks: Vec<Block> = parsed.sections.into_iter().flat_map(|s| s.blocks).collect();
    if !blocks.is_empty() {
        return blocks;
    }
    answer
        .split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .map(Block::paragraph)
        .collect()
}
