//! Local CPU text embeddings: multilingual-e5-small, 384 dimensions, about 100 languages.
//!
//! The weights (`models/e5-small-q4.bin`, 4-bit Q4_0 linear layers) and the tokenizer
//! (`models/tokenizer.json`) are compiled into the binary with rust-embed; `models/README.md`
//! says where they come from.
//!
//! # Concurrency
//!
//! The model runs on one dedicated OS thread (the *backend*), never on the async workers. Callers
//! hold a cheap [`Embedder`] handle and send batches over a bounded channel; each request carries
//! its own reply channel. The backend takes the oldest request plus the short ones (questions,
//! up to [`GROUP_JOIN_TOKENS`]) that queued behind it while the model was busy, up to
//! [`BATCH_TOKENS`] tokens in all, so that questions asked at the same time share forward passes
//! instead of waiting for each other's (a pass over 16 short questions costs little more than
//! over one), while a question never waits for a bulk request that arrived after it. It cuts
//! their texts into packed batches under that token budget and runs the forward pass on each;
//! the matrix products and the fused kernels between them use rayon's thread pool (all cores).
//! Requests are answered in arrival order.
//!
//! Back-pressure is explicit: [`Embedder::embed`] (async, for HTTP handlers) fails at once with
//! [`EmbedError::Overloaded`] when the queue is full, which the HTTP layer turns into a 429;
//! [`Embedder::embed_blocking`] (CLI, ingestion threads) waits for a slot instead.

mod kernels;
mod model;
#[cfg(test)]
mod tests;

use std::sync::mpsc;
use std::sync::Arc;

use rust_embed::RustEmbed;
use tokenizers::Tokenizer;

use model::Model;

/// Dimension of every vector.
pub const DIM: usize = 384;

/// Longest input the model sees, special tokens included; longer texts are truncated.
const MAX_TOKENS: usize = 512;
/// Upper bound on tokens per forward pass (batches are packed, not padded): bounds the memory of
/// the activations (the FFN's `[tokens, 1536]` f32 is 25 MB at 4096) while keeping the matrix
/// products large enough to use every core.
const BATCH_TOKENS: usize = 4096;
/// Largest request (in tokens) that joins the shared passes of requests queued before it.
const GROUP_JOIN_TOKENS: usize = 256;
const BOS: u32 = 0;
const EOS: u32 = 2;

/// What a text is, which selects e5's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A question or search: `"query: "`.
    Query,
    /// A document chunk: `"passage: "`.
    Passage,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Query => "query: ",
            Kind::Passage => "passage: ",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum EmbedError {
    #[error("the embedding queue is full, try again shortly")]
    Overloaded,
    #[error("embedding model error: {0}")]
    Model(String),
}

#[derive(RustEmbed)]
#[folder = "models/"]
#[include = "e5-small-q4.bin"]
#[include = "tokenizer.json"]
struct ModelFiles;

/// Where the backend sends a result.
enum Reply {
    Async(tokio::sync::oneshot::Sender<Result<Vec<Vec<f32>>, EmbedError>>),
    Blocking(mpsc::SyncSender<Result<Vec<Vec<f32>>, EmbedError>>),
}

struct Request {
    texts: Vec<String>,
    kind: Kind,
    reply: Reply,
}

/// Handle to the embedding backend; clones share the same model thread and queue.
#[derive(Clone)]
pub struct Embedder {
    queue: mpsc::SyncSender<Request>,
    tokenizer: Arc<Tokenizer>,
}

impl Embedder {
    /// Loads the model embedded in the binary (rust-embed over `models/`) and starts the backend thread.
    pub fn load_default(queue_capacity: usize) -> Result<Embedder, EmbedError> {
        let weights = ModelFiles::get("e5-small-q4.bin")
            .ok_or_else(|| EmbedError::Model("e5-small-q4.bin is not embedded".into()))?;
        let tokenizer = ModelFiles::get("tokenizer.json")
            .ok_or_else(|| EmbedError::Model("tokenizer.json is not embedded".into()))?;
        let tokenizer = Tokenizer::from_bytes(&tokenizer.data)
            .map_err(|e| EmbedError::Model(format!("tokenizer.json: {e}")))?;
        let model = Model::from_bytes(weights.data)?;
        if model.config().hidden != DIM {
            return Err(EmbedError::Model("the model's dimension is not 384".into()));
        }
        Ok(Self::start(model, tokenizer, queue_capacity))
    }

    fn start(model: Model, tokenizer: Tokenizer, queue_capacity: usize) -> Embedder {
        let tokenizer = Arc::new(tokenizer);
        let (queue, requests) = mpsc::sync_channel::<Request>(queue_capacity.max(1));
        let backend = Backend { model, tokenizer: tokenizer.clone() };
        std::thread::Builder::new()
            .name("embed-backend".into())
            .spawn(move || backend.run(requests))
            .expect("spawning the embedding thread");
        Embedder { queue, tokenizer }
    }

    /// Async: sends the batch to the backend thread over a bounded channel; returns Overloaded at once when full.
    pub async fn embed(&self, texts: Vec<String>, kind: Kind) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let request = Request { texts, kind, reply: Reply::Async(tx) };
        match self.queue.try_send(request) {
            Ok(()) => {}
            Err(mpsc::TrySendError::Full(_)) => return Err(EmbedError::Overloaded),
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(stopped()),
        }
        rx.await.map_err(|_| stopped())?
    }

    /// Same from non-async code (CLI, ingestion worker threads). Waits for a queue slot rather than failing.
    pub fn embed_blocking(&self, texts: Vec<String>, kind: Kind) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let request = Request { texts, kind, reply: Reply::Blocking(tx) };
        self.queue.send(request).map_err(|_| stopped())?;
        rx.recv().map_err(|_| stopped())?
    }

    /// Number of model tokens in a text (no prefix), for chunk sizing. Cheap, no model run.
    pub fn count_tokens(&self, text: &str) -> usize {
        self.tokenizer.encode_fast(text, false).map(|e| e.len()).unwrap_or_else(|_| text.len())
    }
}

fn stopped() -> EmbedError {
    EmbedError::Model("the embedding thread has stopped".into())
}

/// The model thread's state.
struct Backend {
    model: Model,
    tokenizer: Arc<Tokenizer>,
}

impl Backend {
    fn run(self, requests: mpsc::Receiver<Request>) {
        // A bulk request that could not join the last group starts the next one.
        let mut held: Option<Tokenized> = None;
        loop {
            let first = match held.take() {
                Some(t) => t,
                None => match requests.recv() {
                    Ok(r) => self.tokenized(r),
                    Err(_) => return,
                },
            };
            let mut tokens = first.tokens();
            let mut group = vec![first];
            while tokens < BATCH_TOKENS {
                let Ok(next) = requests.try_recv() else { break };
                let next = self.tokenized(next);
                // Only short requests (questions) join: a question must not wait for a bulk
                // ingestion request that arrived after it.
                if next.tokens() > GROUP_JOIN_TOKENS {
                    held = Some(next);
                    break;
                }
                tokens += next.tokens();
                group.push(next);
            }
            self.serve(group);
        }
    }

    /// A request with its texts tokenised (or the tokenizer's error).
    fn tokenized(&self, r: Request) -> Tokenized {
        let ids = r.texts.iter().map(|t| self.tokenize(r.kind.prefix(), t)).collect();
        Tokenized { reply: r.reply, ids }
    }

    /// Embeds the texts of several requests in shared forward passes and answers each.
    fn serve(&self, group: Vec<Tokenized>) {
        let all: Vec<&[u32]> =
            group.iter().filter_map(|r| r.ids.as_ref().ok()).flatten().map(Vec::as_slice).collect();
        let mut vectors = self.embed(&all).map(Vec::into_iter);
        for Tokenized { reply, ids } in group {
            let result = match (ids, &mut vectors) {
                (Err(e), _) => Err(e),
                (Ok(_), Err(e)) => Err(e.clone()),
                (Ok(ids), Ok(v)) => Ok(v.by_ref().take(ids.len()).collect()),
            };
            // A caller that gave up (dropped its receiver) is not an error.
            match reply {
                Reply::Async(tx) => drop(tx.send(result)),
                Reply::Blocking(tx) => drop(tx.send(result)),
            }
        }
    }

    /// Embeds token sequences in packed batches of at most [`BATCH_TOKENS`], in input order.
    fn embed(&self, ids: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(ids.len());
        let mut batch: Vec<&[u32]> = Vec::new();
        let mut tokens = 0;
        for &seq in ids {
            if !batch.is_empty() && tokens + seq.len() > BATCH_TOKENS {
                out.extend(self.model.embed(&batch)?);
                batch.clear();
                tokens = 0;
            }
            batch.push(seq);
            tokens += seq.len();
        }
        if !batch.is_empty() {
            out.extend(self.model.embed(&batch)?);
        }
        Ok(out)
    }

    fn tokenize(&self, prefix: &str, text: &str) -> Result<Vec<u32>, EmbedError> {
        let input = format!("{prefix}{text}");
        let enc = self
            .tokenizer
            .encode_fast(input.as_str(), false)
            .map_err(|e| EmbedError::Model(format!("tokenizer: {e}")))?;
        let body = enc.get_ids();
        let body = &body[..body.len().min(MAX_TOKENS - 2)];
        let mut ids = Vec::with_capacity(body.len() + 2);
        ids.push(BOS);
        ids.extend_from_slice(body);
        ids.push(EOS);
        Ok(ids)
    }
}

/// A queued request, tokenised.
struct Tokenized {
    reply: Reply,
    ids: Result<Vec<Vec<u32>>, EmbedError>,
}

impl Tokenized {
    fn tokens(&self) -> usize {
        self.ids.as_ref().map_or(0, |ids| ids.iter().map(Vec::len).sum())
    }
}
