//! The in-memory hybrid retrieval index: BM25 over analyzed terms plus dense cosine similarity.
//!
//! Built from redb at open and updated as documents are (re)ingested or removed. Both
//! retrievers score every chunk they can (the dense one scores all chunks: a dot product over
//! 384 floats is about 100 ns, so 10k chunks take about a millisecond; no ANN structure is
//! needed at support-desk scale).
//!
//! ## Fusion
//! Scores are fused by weight, not by rank: `fused = w * dense' + (1 - w) * bm25'` where
//! `bm25' = bm25 / top bm25` and `dense' = (cos - floor) / (top cos - floor)` with `floor` the
//! cosine of the 50th best chunk. The e5 model's cosines live in a narrow band (0.75..0.9), so
//! dense scores are stretched between "as good as the best" and "as good as the 50th"; BM25
//! scores only need scaling by the top one. Unlike reciprocal-rank fusion this keeps *how much*
//! better a chunk is, which matters when one retriever is confident and the other is not (an
//! exact product term, or a question in another language where BM25 sees nothing).
//! [`DEFAULT_DENSE_WEIGHT`] was tuned on the dev set (see BENCHMARKS.md, `## Knowledge`). A
//! question whose (stop-word detected) language differs from the corpus's is ranked by the
//! dense score alone.

use std::collections::HashMap;
use std::sync::Arc;

use super::analyze::{Analyzer, Lang};
use super::{Chunk, Document};
use crate::ids::DocumentId;

/// Weight of the dense retriever in the fused score.
pub const DEFAULT_DENSE_WEIGHT: f32 = 0.6;
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// The rank whose cosine is the dense score's zero.
const DENSE_FLOOR_RANK: usize = 50;

struct Entry {
    chunk: Arc<Chunk>,
    vector: Vec<f32>,
    terms: HashMap<String, u32>,
    len: u32,
}

/// One scored chunk.
#[derive(Debug, Clone)]
pub struct Hit {
    pub chunk: Arc<Chunk>,
    pub doc: Arc<Document>,
    /// Raw cosine between query and passage.
    pub cosine: f32,
    /// Raw BM25.
    pub bm25: f32,
    /// Fused score, 0..1.
    pub score: f32,
    /// IDF-weighted share of the query's terms that occur in the chunk (0..1).
    pub coverage: f32,
}

/// The whole result of a search, with what the confidence model needs.
#[derive(Debug, Clone, Default)]
pub struct Results {
    /// Chunks by fused score, best first.
    pub hits: Vec<Hit>,
    /// Number of analyzed query terms.
    pub query_terms: usize,
    /// IDF-weighted share of query terms that occur anywhere in the corpus.
    pub corpus_coverage: f32,
    /// The best cosine between the question and [`super::background`] (filled in by
    /// `Knowledge::retrieve`).
    pub background: f32,
    /// The question's embedding (filled in by `Knowledge::retrieve`), for scoring blocks.
    pub query: Vec<f32>,
    /// The embeddings of a multi-part question's parts ([`crate::answer::parts`]), in order;
    /// empty for a question of one part.
    pub parts: Vec<Vec<f32>>,
}

#[derive(Default)]
pub struct Index {
    analyzer: Analyzer,
    entries: HashMap<u64, Entry>,
    postings: HashMap<String, HashMap<u64, u32>>,
    total_len: u64,
    langs: HashMap<Lang, usize>,
    docs: HashMap<DocumentId, Arc<Document>>,
}

impl Index {
    pub fn chunk_count(&self) -> usize {
        self.entries.len()
    }

    pub fn doc_count(&self) -> usize {
        self.docs.len()
    }

    /// The language most chunks are in (stop-word detection), if any.
    pub fn dominant_lang(&self) -> Option<Lang> {
        self.langs.iter().max_by_key(|(_, n)| **n).map(|(l, _)| *l)
    }

    /// Adds (or replaces) a document and its chunks with their vectors.
    pub fn upsert(&mut self, doc: Document, chunks: Vec<(Chunk, Vec<f32>)>) {
        self.remove(&doc.id);
        let doc = Arc::new(doc);
        for (chunk, vector) in chunks {
            let text = super::chunk::passage(&doc.title, &chunk.headings, &chunk.text);
            let (terms_list, lang) = self.analyzer.terms(&text, self.dominant_lang());
            if let Some(l) = lang {
                *self.langs.entry(l).or_default() += 1;
            }
            let mut terms: HashMap<String, u32> = HashMap::new();
            for t in terms_list {
                *terms.entry(t).or_default() += 1;
            }
            let len = terms.values().sum::<u32>();
            for (t, tf) in &terms {
                self.postings.entry(t.clone()).or_default().insert(chunk.id.0, *tf);
            }
            self.total_len += u64::from(len);
            self.entries.insert(chunk.id.0, Entry { chunk: Arc::new(chunk), vector, terms, len });
        }
        self.docs.insert(doc.id.clone(), doc);
    }

    /// Removes a document and its chunks.
    pub fn remove(&mut self, id: &DocumentId) {
        let Some(doc) = self.docs.remove(id) else { return };
        for cid in &doc.chunks {
            if let Some(e) = self.entries.remove(&cid.0) {
                self.total_len -= u64::from(e.len);
                for t in e.terms.keys() {
                    if let Some(p) = self.postings.get_mut(t) {
                        p.remove(&cid.0);
                        if p.is_empty() {
                            self.postings.remove(t);
                        }
                    }
                }
            }
        }
    }

    /// The chunk that follows `id` in its document, if any.
    pub fn next_chunk(&self, id: u64) -> Option<Arc<Chunk>> {
        let e = self.entries.get(&id)?;
        let doc = self.docs.get(&e.chunk.document)?;
        let pos = doc.chunks.iter().position(|c| c.0 == id)?;
        let next = doc.chunks.get(pos + 1)?;
        self.entries.get(&next.0).map(|e| e.chunk.clone())
    }

    /// Every chunk of a document as a hit with only its cosine to `qvec` (no lexical score):
    /// what the composer may quote besides the retrieved passages.
    pub fn document_hits(&self, id: &DocumentId, qvec: &[f32], limit: usize) -> Vec<Hit> {
        let Some(doc) = self.docs.get(id) else { return Vec::new() };
        doc.chunks
            .iter()
            .take(limit)
            .filter_map(|c| self.entries.get(&c.0))
            .map(|e| Hit {
                chunk: e.chunk.clone(),
                doc: doc.clone(),
                cosine: if qvec.len() == e.vector.len() { dot(qvec, &e.vector) } else { 0.0 },
                bm25: 0.0,
                score: 0.0,
                coverage: 0.0,
            })
            .collect()
    }

    /// The chunk before a chunk in its document.
    pub fn prev_chunk(&self, id: u64) -> Option<Arc<Chunk>> {
        let e = self.entries.get(&id)?;
        let doc = self.docs.get(&e.chunk.document)?;
        let pos = doc.chunks.iter().position(|c| c.0 == id)?;
        let prev = doc.chunks.get(pos.checked_sub(1)?)?;
        self.entries.get(&prev.0).map(|e| e.chunk.clone())
    }

    /// A chunk's own vector.
    pub fn chunk_vector(&self, id: u64) -> Option<Vec<f32>> {
        self.entries.get(&id).map(|e| e.vector.clone())
    }

    pub fn document(&self, id: &DocumentId) -> Option<Arc<Document>> {
        self.docs.get(id).cloned()
    }

    /// Inverse document frequency of an analyzed term (0 for a term the corpus lacks entirely is
    /// not special-cased: it gets the highest weight, as in BM25).
    /// IDF of a term, 0 for a term no chunk contains: no passage can cover it, so it weighs
    /// nothing when passages are compared by the question's terms they share.
    pub fn term_idf(&self, term: &str) -> f32 {
        if self.postings.contains_key(term) {
            self.idf(term)
        } else {
            0.0
        }
    }

    fn idf(&self, term: &str) -> f32 {
        let n = self.entries.len() as f32;
        let df = self.postings.get(term).map_or(0, HashMap::len) as f32;
        ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
    }

    /// Scores every chunk for a query; `qvec` is the query embedding.
    pub fn search(&self, query: &str, qvec: &[f32], dense_weight: f32, limit: usize) -> Results {
        if self.entries.is_empty() {
            return Results::default();
        }
        // A question in another language than the corpus shares only noise words with it
        // ("die", "plan", "service"): rank by meaning alone.
        let dominant = self.dominant_lang();
        let dense_weight = match (super::analyze::detect(&super::analyze::words(query)), dominant) {
            (Some(q), Some(c)) if q != c => 1.0,
            _ => dense_weight,
        };
        let (mut qterms, _) = self.analyzer.terms(query, dominant);
        qterms.sort();
        qterms.dedup();
        let idfs: Vec<f32> = qterms.iter().map(|t| self.idf(t)).collect();
        let idf_total: f32 = idfs.iter().sum();
        let known: f32 = qterms
            .iter()
            .zip(&idfs)
            .filter(|(t, _)| self.postings.contains_key(t.as_str()))
            .map(|(_, i)| i)
            .sum();

        // BM25.
        let avg = self.total_len as f32 / self.entries.len() as f32;
        let mut bm25: HashMap<u64, f32> = HashMap::new();
        for (t, idf) in qterms.iter().zip(&idfs) {
            let Some(p) = self.postings.get(t) else { continue };
            for (cid, tf) in p {
                let len = self.entries[cid].len as f32;
                let tf = *tf as f32;
                *bm25.entry(*cid).or_default() +=
                    idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg.max(1.0)));
            }
        }
        let bm25_top = bm25.values().cloned().fold(0.0f32, f32::max);

        // Dense.
        let mut dense: Vec<(u64, f32)> =
            self.entries.iter().map(|(id, e)| (*id, dot(qvec, &e.vector))).collect();
        dense.sort_by(|a, b| b.1.total_cmp(&a.1));
        let top = dense.first().map_or(0.0, |d| d.1);
        let floor = dense.get(DENSE_FLOOR_RANK.min(dense.len() - 1)).map_or(0.0, |d| d.1);
        let span = (top - floor).max(1e-6);

        let mut hits: Vec<(u64, f32, f32, f32)> = dense
            .into_iter()
            .map(|(id, cos)| {
                let b = bm25.get(&id).copied().unwrap_or(0.0);
                let bn = if bm25_top > 0.0 { b / bm25_top } else { 0.0 };
                let dn = ((cos - floor) / span).clamp(0.0, 1.0);
                (id, cos, b, dense_weight * dn + (1.0 - dense_weight) * bn)
            })
            .collect();
        hits.sort_by(|a, b| b.3.total_cmp(&a.3));
        hits.truncate(limit);
        let hits = hits
            .into_iter()
            .filter_map(|(id, cosine, bm25, score)| {
                let e = &self.entries[&id];
                let doc = self.docs.get(&e.chunk.document)?.clone();
                let covered: f32 = qterms
                    .iter()
                    .zip(&idfs)
                    .filter(|(t, _)| e.terms.contains_key(t.as_str()))
                    .map(|(_, i)| i)
                    .sum();
                let coverage = if idf_total > 0.0 { covered / idf_total } else { 0.0 };
                Some(Hit { chunk: e.chunk.clone(), doc, cosine, bm25, score, coverage })
            })
            .collect();
        Results {
            hits,
            query_terms: qterms.len(),
            corpus_coverage: if idf_total > 0.0 { known / idf_total } else { 0.0 },
            background: 0.0,
            query: qvec.to_vec(),
            parts: Vec::new(),
        }
    }

    /// Analyzed terms of `text` with the corpus' dominant language as fallback.
    pub fn terms(&self, text: &str) -> Vec<String> {
        self.analyzer.terms(text, self.dominant_lang()).0
    }
}

pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
