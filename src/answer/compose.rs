//! Extractive answers, built from blocks chosen by meaning, and their confidence.
//!
//! Baton does not generate text: it quotes the docs and numbers the sources `[1]`, `[2]` so every
//! statement can be checked. Chunk hits are aggregated to documents (one citation per document).
//! What is quoted is chosen block by block:
//!
//! 1. **Candidates.** The blocks (paragraphs, lists, tables, code, callouts; see
//!    [`crate::knowledge::block`]) of the best chunks of the cited documents.
//! 2. **Scored by meaning.** Each block has its own passage vector, embedded at ingest; its score
//!    is its cosine with the question, plus the IDF-weighted share of the question's terms it
//!    contains, plus a little of its document's retrieval rank. Meta sentences ("This article
//!    explains…") and fragments are held back; they are quoted only when nothing better exists.
//! 3. **Quoted whole.** The best block is quoted with what it needs to stand alone: a sentence
//!    that ends with ":" brings the list, table or code it introduces, a list brings its lead-in,
//!    a table its header. A close runner-up from the same page that says something more is added;
//!    a second page is quoted only for a part of the question the first does not cover
//!    (multi-part questions are split and each part answered).
//! 4. **Concise.** The text stays under [`MAX_CHARS`]; a long list is cut at an item boundary
//!    with "The rest is in [n]". Snippets written by the team are quoted whole.
//!
//! When the question's language differs from the docs', one line in the question's language says
//! that the passage comes from the documentation in the docs' language.
//!
//! ## Confidence
//! A logistic function of retrieval and answer features that carry over to unseen corpora and
//! languages:
//! - `lift`: the best dense cosine between the question and a passage minus the best cosine
//!   between the question and a fixed background of everyday off-topic passages in the
//!   knowledge base's language ([`crate::knowledge::background`]).
//! - `cosine`: the best dense cosine itself (how specific the match is).
//! - `unit`: the cosine between the question and the block that is quoted (does the quoted
//!   text, not only its page, match the question).
//!
//! Lexical features (`coverage`, `unknown`) are computed for `baton ask --explain` but not
//! used: they punish questions in another language than the docs. The coefficients in
//! [`confidence`] were fitted by class-balanced logistic regression; see BENCHMARKS.md.

use std::collections::{HashMap, HashSet};

use super::continuation::{continue_lead_in, continue_steps, list_start};
use super::lang::{maybe_related, not_sure, quoted_from};
use super::question::{is_definition, is_howto, parts};
use super::wording::{is_aside, is_meta, is_pointer};
use super::{Answer, AnswerBlock, BlockKind, Citation};
use crate::knowledge::analyze::{detect, words, Lang};
use crate::knowledge::block::{sentences, strip_marks, Block};
use crate::knowledge::index::{dot, Hit, Results};
use crate::knowledge::DocKind;

/// The most characters of answer text (markers included) before material is cut.
pub const MAX_CHARS: usize = 950;
/// Chunks of each cited document whose blocks are candidates.
const CHUNKS_PER_DOC: usize = 3;
/// Documents whose blocks are candidates.
const CANDIDATE_DOCS: usize = 3;
/// Weight of the lexical coverage in a block's score.
const W_LEX: f32 = 0.06;
/// Weight of the document's relative retrieval score.
const W_DOC: f32 = 0.2;
/// Weight of the chunk's own retrieval score relative to the best chunk (its section's fit).
const W_CHUNK: f32 = 0.0;
/// Held back a little: a code block alone (its lead-in brings it along when that is the answer).
const CODE_PENALTY: f32 = 0.03;
/// For "how"/"where" questions: steps and text that names UI elements (bold in the docs).
const HOWTO_BONUS: f32 = 0.02;
/// How far below the best block a block with steps or UI names may score and still be added
/// to a how-to answer whose best block only describes.
const UI_MARGIN: f32 = 0.1;
/// Held back: meta sentences and fragments.
const META_PENALTY: f32 = 0.05;
const SHORT_PENALTY: f32 = 0.03;
/// For "what is / what does … mean" questions: the first block of the section whose heading the
/// question names (usually the definition).
const DEFINITION_BONUS: f32 = 0.04;
/// Held back a little: a callout is an aside, rarely the whole answer on its own.
const NOTE_PENALTY: f32 = 0.03;
/// Share of the question's (IDF-weighted) terms the next section must hold to complete a short
/// quote.
const NEXT_SECTION_COVERAGE: f32 = 0.3;
/// Held back a little: a block that sends the reader elsewhere ("Learn more about it here").
const POINTER_PENALTY: f32 = 0.02;
/// How much closer to a part of the question a block must be than everything quoted so far
/// to be added for that part.
const PART_MARGIN: f32 = 0.01;
/// A quote shorter than this is completed with the blocks that follow it in its section.
const SHORT_ANSWER: usize = 300;

/// Chunks of a whole document the composer may read (a long page's tail is left out).
pub const WHOLE_DOC_CHUNKS: usize = 24;
/// How many of the best documents are read whole.
const WHOLE_DOCS: usize = 1;

/// What the composer reads besides the retrieval results.
pub struct Context<'a> {
    /// Analyzed terms of a text (as the index sees them).
    pub terms: &'a dyn Fn(&str) -> Vec<String>,
    /// IDF of an analyzed term.
    pub idf: &'a dyn Fn(&str) -> f32,
    /// Block vectors of candidate chunks ([`candidate_chunks`]), by chunk id.
    pub block_vectors: &'a HashMap<u64, Vec<Vec<f32>>>,
    /// The other chunks of the best documents ([`whole_documents`]), not among the hits, as
    /// hits with their cosine only; their blocks are scored like the retrieved ones.
    pub whole: &'a [Hit],
    /// The chunk after a chunk in its document (a lead-in at a chunk's end continues there).
    pub next_chunk: &'a dyn Fn(u64) -> Option<std::sync::Arc<crate::knowledge::Chunk>>,
    /// The chunk before a chunk in its document (a list split across chunks starts there).
    pub prev_chunk: &'a dyn Fn(u64) -> Option<std::sync::Arc<crate::knowledge::Chunk>>,
    /// The knowledge base's language.
    pub docs_lang: Option<Lang>,
}

/// The features the confidence model reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Features {
    pub cosine: f32,
    pub coverage: f32,
    pub unknown: f32,
    /// Best cosine minus the best cosine to the off-topic background.
    pub lift: f32,
    /// Cosine between the question and the quoted block (0 before composition).
    pub unit: f32,
}

impl Features {
    pub fn from_results(r: &Results) -> Features {
        let best = r.hits.iter().max_by(|a, b| a.cosine.total_cmp(&b.cosine));
        let cosine = best.map_or(0.0, |h| h.cosine);
        let coverage = r.hits.iter().take(3).map(|h| h.coverage).fold(0.0f32, f32::max);
        let unknown = if r.query_terms == 0 { 0.0 } else { 1.0 - r.corpus_coverage };
        let lift = if best.is_some() { cosine - r.background } else { 0.0 };
        Features { cosine, coverage, unknown, lift, unit: 0.0 }
    }
}

/// Calibrated probability that the answer is right: fitted by `benches/fit_answer_confidence.py`
/// on answer-level labels (in scope *and* quoted from an expected page) over the dev, calibration
/// and Mastodon sets, on-topic unanswerable questions among the negatives; the intercept is
/// shifted by +0.6 so that plain in-scope questions stay answered (BENCHMARKS.md).
pub fn confidence(f: &Features) -> f32 {
    let z = 12.7 * f.lift + 14.9 * (f.cosine - 0.85) + 24.1 * (f.unit - 0.85) - 0.95;
    1.0 / (1.0 + (-z).exp())
}

/// Weight of a document's second-best passage in its rank (0 = rank by best passage only).
const DOC_SECOND_WEIGHT: f32 = 0.75;

struct DocHit<'a> {
    best: &'a Hit,
    second: Option<&'a Hit>,
}

fn doc_hits(results: &Results) -> Vec<DocHit<'_>> {
    let mut docs: Vec<DocHit> = Vec::new();
    for h in &results.hits {
        match docs.iter_mut().find(|d| d.best.doc.id == h.doc.id) {
            Some(d) => {
                if d.second.is_none() {
                    d.second = Some(h);
                }
            }
            None => docs.push(DocHit { best: h, second: None }),
        }
    }
    // A document with a second strong passage is more likely about the question as a whole.
    docs.sort_by(|a, b| doc_score(b).total_cmp(&doc_score(a)));
    docs
}

fn doc_score(d: &DocHit) -> f32 {
    d.best.score + DOC_SECOND_WEIGHT * d.second.map_or(0.0, |h| h.score)
}

/// The chunks whose blocks the composer may quote: the best chunks of the best documents.
pub fn candidate_chunks(results: &Results) -> Vec<u64> {
    let docs = doc_hits(results);
    let mut out = Vec::new();
    for d in docs.iter().take(CANDIDATE_DOCS) {
        out.extend(
            results
                .hits
                .iter()
                .filter(|h| h.doc.id == d.best.doc.id)
                .take(CHUNKS_PER_DOC)
                .map(|h| h.chunk.id.0),
        );
    }
    out
}

/// The documents whose every chunk the composer may quote: the best cited ones.
pub fn whole_documents(results: &Results) -> Vec<crate::ids::DocumentId> {
    doc_hits(results).iter().take(WHOLE_DOCS).map(|d| d.best.doc.id.clone()).collect()
}

/// A block that may be quoted, with its score.
pub(super) struct Unit<'a> {
    pub(super) doc: usize,
    pub(super) hit: &'a Hit,
    pub(super) blocks: std::rc::Rc<Vec<Block>>,
    pub(super) index: usize,
    /// The block's vector, when stored.
    vector: Option<&'a [f32]>,
    cosine: f32,
    score: f32,
}

/// Builds the answer for `question` from retrieval results.
pub fn compose<'a>(
    question: &str,
    results: &'a Results,
    threshold: f32,
    max_citations: usize,
    ctx: &Context<'a>,
) -> Answer {
    compose_explained(question, results, threshold, max_citations, ctx).0
}

/// [`compose`], with the features its confidence was computed from.
pub fn compose_explained<'a>(
    question: &str,
    results: &'a Results,
    threshold: f32,
    max_citations: usize,
    ctx: &Context<'a>,
) -> (Answer, Features) {
    let lang = detect(&words(question));
    let mut features = Features::from_results(results);
    let docs = doc_hits(results);
    let top = docs.first().map_or(0.0, |d| d.best.score);
    let cited: Vec<&DocHit> =
        docs.iter().filter(|d| d.best.score >= top * 0.5).take(max_citations.max(1)).collect();

    // Choose what to quote first: the answer's own fit counts in the confidence.
    let qterms = weighted_terms(question, ctx);
    let units = score_units(question, results, &cited, &qterms, ctx);
    let best = units.iter().enumerate().max_by(|a, b| a.1.score.total_cmp(&b.1.score)).map(|(i, _)| i);
    features.unit = best.map_or(0.0, |i| units[i].cosine);
    let confidence = if results.hits.is_empty() { 0.0 } else { confidence(&features) };
    let unsure = confidence < threshold;

    let citations_of = |cited: &[&DocHit]| -> Vec<Citation> {
        cited
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let h = d.best;
                let url = match (h.doc.url.is_empty(), h.chunk.anchor.is_empty()) {
                    (false, false) => format!("{}#{}", h.doc.url, h.chunk.anchor),
                    (false, true) => h.doc.url.clone(),
                    _ => String::new(),
                };
                Citation {
                    n: i as u32 + 1,
                    title: h.doc.title.clone(),
                    url,
                    section: h.chunk.headings.last().cloned().unwrap_or_default(),
                    path: h.doc.path.clone(),
                    document: h.doc.id.clone(),
                    snippet: truncate(&h.chunk.text.replace('\n', " "), 300),
                    score: h.score.clamp(0.0, 1.0),
                }
            })
            .collect()
    };

    if unsure {
        // Far from anything we know: do not point at unrelated pages.
        let shown: Vec<&DocHit> = if confidence < threshold * 0.5 { Vec::new() } else { cited.clone() };
        let citations = citations_of(&shown);
        let lang = lang.unwrap_or(Lang::En);
        let mut blocks = vec![AnswerBlock::paragraph(not_sure(lang), 0)];
        if !citations.is_empty() {
            let refs: Vec<String> = citations.iter().map(|c| format!("[{}] {}", c.n, c.title)).collect();
            blocks.push(AnswerBlock::paragraph(&format!("{} {}", maybe_related(lang), refs.join(", ")), 0));
        }
        return (Answer { text: plain_text(&blocks), blocks, citations, confidence, unsure }, features);
    }

    let citations = citations_of(&cited);
    let mut blocks = Vec::new();
    if let (Some(q), Some(d)) = (lang, ctx.docs_lang) {
        if q != d {
            blocks.push(AnswerBlock {
                kind: BlockKind::Intro,
                ..AnswerBlock::paragraph(&quoted_from(q, d), 0)
            });
        }
    }
    let mut quoted = Vec::new();
    if let Some(b) = best {
        quoted = quote(&units, b, question, &qterms, &results.parts, ctx);
    }
    if quoted.is_empty() {
        // No block to choose from (nothing cited): the lead of the best passage.
        if let Some(d) = cited.first() {
            let text = sentences(&d.best.chunk.text).into_iter().take(2).collect::<Vec<_>>().join(" ");
            quoted.push(AnswerBlock::paragraph(&text, 1));
        }
    }
    blocks.extend(quoted);
    let blocks = fit(blocks, MAX_CHARS);
    (Answer { text: plain_text(&blocks), blocks, citations, confidence, unsure }, features)
}

/// The question's analyzed terms with their IDF weights (duplicates removed).
/// None for a question in another language than the docs: the words they share are noise
/// ("post", "plan"), so blocks are then compared by meaning alone, as in retrieval.
fn weighted_terms(question: &str, ctx: &Context) -> Vec<(String, f32)> {
    if let (Some(q), Some(d)) = (detect(&words(question)), ctx.docs_lang) {
        if q != d {
            return Vec::new();
        }
    }
    let mut seen = HashSet::new();
    (ctx.terms)(question)
        .into_iter()
        .filter(|t| seen.insert(t.clone()))
        .map(|t| {
            let w = (ctx.idf)(&t);
            (t, w)
        })
        .collect()
}

/// IDF-weighted share of the question's terms that `text` contains.
fn coverage(text: &str, qterms: &[(String, f32)], ctx: &Context) -> f32 {
    let total: f32 = qterms.iter().map(|(_, w)| w).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let ts: HashSet<String> = (ctx.terms)(text).into_iter().collect();
    qterms.iter().filter(|(t, _)| ts.contains(t)).map(|(_, w)| w).sum::<f32>() / total
}

fn score_units<'a>(
    question: &str,
    results: &'a Results,
    cited: &[&DocHit<'a>],
    qterms: &[(String, f32)],
    ctx: &Context<'a>,
) -> Vec<Unit<'a>> {
    let top = cited.first().map_or(1.0, |d| doc_score(d)).max(1e-6);
    let howto = is_howto(question);
    let definition = is_definition(question);
    let top_hit = results.hits.first().map_or(1.0, |h| h.score).max(1e-6);
    let mut units = Vec::new();
    for (di, d) in cited.iter().enumerate().take(CANDIDATE_DOCS) {
        let rel = doc_score(d) / top;
        let retrieved = results.hits.iter().filter(|h| h.doc.id == d.best.doc.id).take(CHUNKS_PER_DOC);
        let rest = ctx.whole.iter().filter(|h| h.doc.id == d.best.doc.id);
        for hit in retrieved.chain(rest) {
            let blocks = std::rc::Rc::new(hit.chunk.blocks());
            let vectors = ctx.block_vectors.get(&hit.chunk.id.0);
            for (i, b) in blocks.iter().enumerate() {
                let vector = vectors.and_then(|v| v.get(i)).map(Vec::as_slice);
                let cosine = match vector {
                    Some(v) if !results.query.is_empty() => dot(&results.query, v),
                    _ => hit.cosine,
                };
                let plain = b.plain();
                let chunk_rel = hit.score / top_hit;
                let mut score =
                    cosine + W_LEX * coverage(&plain, qterms, ctx) + W_DOC * rel + W_CHUNK * chunk_rel;
                if is_pointer(&plain) {
                    score -= POINTER_PENALTY;
                }
                if is_meta(&plain) || is_summary(hit, b) {
                    score -= META_PENALTY;
                }
                if plain.chars().count() < 30 && !b.is_structured() {
                    score -= SHORT_PENALTY;
                }
                if matches!(b, Block::Code { .. }) {
                    score -= CODE_PENALTY;
                }
                if matches!(b, Block::Note { .. }) || is_aside(&plain) {
                    score -= NOTE_PENALTY;
                }
                if howto && (matches!(b, Block::List { ordered: true, .. }) || names_ui(b)) {
                    score += HOWTO_BONUS;
                }
                // "What does bounce rate mean?": the opening of the section named after it.
                if definition && i == 0 && opens_section(hit, ctx) {
                    let heading = hit.chunk.headings.last().map_or("", String::as_str);
                    if coverage(heading, qterms, ctx) >= 0.5 {
                        score += DEFINITION_BONUS;
                    }
                }
                units.push(Unit { doc: di, hit, blocks: blocks.clone(), index: i, vector, cosine, score });
            }
        }
    }
    units
}

/// Whether the hit's chunk is the first of its section (the previous chunk has another heading).
fn opens_section(hit: &Hit, ctx: &Context) -> bool {
    match (ctx.prev_chunk)(hit.chunk.id.0) {
        Some(prev) => prev.headings.last() != hit.chunk.headings.last(),
        None => true,
    }
}

/// Text that names an element of the product's interface: bold labels or a menu path.
fn names_ui(b: &Block) -> bool {
    let text = match b {
        Block::Paragraph { text } | Block::Note { text, .. } => text.as_str(),
        Block::List { items, .. } => items.first().map_or("", String::as_str),
        _ => "",
    };
    text.contains("**") || text.contains(" > ") || text.contains(" → ")
}

/// The document's own summary chunk (its front-matter description): what the page is about,
/// rarely the answer.
fn is_summary(hit: &Hit, b: &Block) -> bool {
    hit.chunk.headings.is_empty()
        && !hit.doc.description.is_empty()
        && strip_marks(&b.plain()).trim() == hit.doc.description.trim()
}

/// The blocks to quote around the best unit: what it needs to stand alone, a close runner-up
/// from the same page, and a second page only for a part of the question the first leaves out.
fn quote(
    units: &[Unit],
    best: usize,
    question: &str,
    qterms: &[(String, f32)],
    part_vectors: &[Vec<f32>],
    ctx: &Context,
) -> Vec<AnswerBlock> {
    let b = &units[best];
    let n = b.doc as u32 + 1;
    // Snippets are the team's own answer: quoted whole.
    if b.hit.doc.kind == DocKind::Snippet {
        return b.blocks.iter().map(|x| AnswerBlock::from_block(x, n)).collect();
    }
    let mut picked: Vec<(usize, usize)> = Vec::new(); // (unit's chunk id, block index)
    let mut out: Vec<AnswerBlock> = Vec::new();
    let take = |u: &Unit, out: &mut Vec<AnswerBlock>, picked: &mut Vec<(usize, usize)>| {
        for i in standalone(&u.blocks, u.index) {
            let key = (u.hit.chunk.id.0 as usize, i);
            if !picked.contains(&key) {
                picked.push(key);
                out.push(AnswerBlock::from_block(&u.blocks[i], u.doc as u32 + 1));
            }
        }
    };
    // Steps that continue a list from the previous chunk ("3. …") need the first steps.
    if let Some(start) = list_start(b, ctx) {
        out.extend(start);
    }
    take(b, &mut out, &mut picked);
    let chars = |out: &[AnswerBlock]| out.iter().map(|x| x.chars()).sum::<usize>();
    let continued = continue_lead_in(b, &mut out, ctx);
    let last_chunk = continued.as_deref().unwrap_or(b.hit.chunk.as_ref());
    continue_steps(last_chunk, b.doc, &mut out, ctx);

    // A close runner-up from the same page adds what the best block leaves out.
    let covered = |out: &[AnswerBlock]| {
        let text: String = out.iter().map(AnswerBlock::plain).collect::<Vec<_>>().join(" ");
        coverage(&text, qterms, ctx)
    };
    let mut rest: Vec<&Unit> = units
        .iter()
        .filter(|u| u.doc == b.doc && !picked.contains(&(u.hit.chunk.id.0 as usize, u.index)))
        .collect();
    rest.sort_by(|x, y| y.score.total_cmp(&x.score));
    let howto = is_howto(question);
    let has_steps =
        |out: &[AnswerBlock]| out.iter().any(|x| x.kind == BlockKind::Steps || x.text.contains("**"));
    let acts = |u: &Unit| {
        matches!(u.blocks[u.index], Block::List { ordered: true, .. }) || names_ui(&u.blocks[u.index])
    };
    // A how-to answer needs the action: the best block that gives it comes before runner-ups
    // that only describe.
    if howto && !has_steps(&out) {
        if let Some(i) = rest.iter().position(|u| acts(u) && u.score >= b.score - UI_MARGIN) {
            let u = rest.remove(i);
            rest.insert(0, u);
        }
    }
    for u in rest.into_iter().take(4) {
        // For a how-to question whose best block only describes, the steps (or the block that
        // names the menu or setting) may be a little further down.
        let ui = howto && !has_steps(&out) && acts(u);
        let margin = if ui { UI_MARGIN } else { 0.025 };
        if chars(&out) > 420 || u.score < b.score - margin {
            continue;
        }
        let before = covered(&out);
        let mut more = Vec::new();
        let mut more_picked = picked.clone();
        take(u, &mut more, &mut more_picked);
        let adds = {
            let mut all = out.clone();
            all.extend(more.iter().cloned());
            covered(&all) > before + 0.05
        };
        let adjacent = u.hit.chunk.id == b.hit.chunk.id && u.index.abs_diff(b.index) == 1;
        if (adds || adjacent || ui)
            && chars(&out) + more.iter().map(|x| x.chars()).sum::<usize>() <= MAX_CHARS
        {
            out.extend(more);
            picked = more_picked;
            continue_lead_in(u, &mut out, ctx);
        }
    }

    // Too short to act on (and no steps, list or table, which stand on their own): the blocks
    // that follow in the same section complete the thought.
    let structured = out.iter().any(|x| !matches!(x.kind, BlockKind::Paragraph | BlockKind::Intro));
    if continued.is_none() && !structured {
        let mut next = standalone(&b.blocks, b.index).into_iter().max().unwrap_or(b.index) + 1;
        while chars(&out) < SHORT_ANSWER && next < b.blocks.len() {
            let group = standalone(&b.blocks, next);
            let skip = is_meta(&b.blocks[next].plain())
                || (matches!(b.blocks[next], Block::Code { .. }) && group.len() == 1);
            if !skip {
                for i in &group {
                    if picked.contains(&(b.hit.chunk.id.0 as usize, *i)) {
                        continue;
                    }
                    picked.push((b.hit.chunk.id.0 as usize, *i));
                    out.push(AnswerBlock::from_block(&b.blocks[*i], n));
                }
            }
            next = group.into_iter().max().unwrap_or(next) + 1;
        }
        // The section ended: the next one, under its heading.
        if chars(&out) < SHORT_ANSWER {
            if let Some(c) = (ctx.next_chunk)(b.hit.chunk.id.0) {
                let blocks = c.blocks();
                // Only a section about the question: its heading and first block share its terms.
                let on_topic = |x: &Block| {
                    let text = format!("{} {}", c.headings.last().map_or("", String::as_str), x.plain());
                    coverage(&text, qterms, ctx) >= NEXT_SECTION_COVERAGE
                };
                let first = blocks.iter().position(|x| !is_meta(&x.plain()) && x.chars() >= 30);
                if let Some(first) = first.filter(|i| on_topic(&blocks[*i])) {
                    if let Some(h) = c.headings.last().filter(|h| Some(*h) != b.hit.chunk.headings.last()) {
                        out.push(AnswerBlock::paragraph(&format!("**{h}**"), n));
                    }
                    out.extend(
                        standalone(&blocks, first)
                            .into_iter()
                            .map(|i| AnswerBlock::from_block(&blocks[i], n)),
                    );
                }
            }
        }
    }
    // A multi-part question: each part that the quote does not answer gets its own block,
    // the one closest to the part in meaning (its own vector) and words.
    let parts = parts(question);
    for (pi, part) in parts.iter().enumerate().filter(|_| parts.len() > 1) {
        let pterms: Vec<(String, f32)> = weighted_terms(part, ctx);
        let pvec = part_vectors.get(pi);
        let lex = |u: &Unit| coverage(&u.blocks[u.index].plain(), &pterms, ctx);
        let fit = |u: &Unit| match (pvec, u.vector) {
            (Some(p), Some(v)) => dot(p, v) + W_LEX * lex(u),
            _ => lex(u),
        };
        let is_picked = |u: &Unit| picked.contains(&(u.hit.chunk.id.0 as usize, u.index));
        let answered = units.iter().filter(|u| is_picked(u)).map(fit).fold(f32::MIN, f32::max);
        let best_part = units.iter().filter(|u| !is_picked(u)).max_by(|x, y| fit(x).total_cmp(&fit(y)));
        let Some(u) = best_part else { continue };
        let better = match (pvec, u.vector) {
            (Some(_), Some(_)) => fit(u) > answered + PART_MARGIN,
            // Without vectors, by words alone.
            _ => {
                let text = out.iter().map(AnswerBlock::plain).collect::<Vec<_>>().join(" ");
                !pterms.is_empty() && coverage(&text, &pterms, ctx) < 0.5 && lex(u) >= 0.5
            }
        };
        let mut more = Vec::new();
        let mut more_picked = picked.clone();
        take(u, &mut more, &mut more_picked);
        if better && chars(&out) + more.iter().map(|x| x.chars()).sum::<usize>() <= MAX_CHARS {
            out.extend(more);
            picked = more_picked;
        }
    }
    out
}

/// The block indexes a block needs to stand alone, in reading order.
pub(super) fn standalone(blocks: &[Block], i: usize) -> Vec<usize> {
    let mut out = vec![i];
    let b = &blocks[i];
    if b.is_lead_in() {
        // What a lead-in introduces comes after any aside (a tip box) between them; when only
        // asides follow, it is in the next chunk ([`continue_lead_in`]).
        if let Some(j) = (i + 1..blocks.len()).find(|j| !matches!(blocks[*j], Block::Note { .. })) {
            let next = &blocks[j];
            out.push(j);
            // "Do this:" followed by a paragraph and then the steps.
            if !next.is_structured()
                && next.is_lead_in()
                && blocks.get(j + 1).is_some_and(Block::is_structured)
            {
                out.push(j + 1);
            }
        }
    } else if b.is_structured() && i > 0 {
        let prev = &blocks[i - 1];
        if prev.is_lead_in()
            || (matches!(prev, Block::Paragraph { .. }) && prev.chars() < 160 && !is_meta(&prev.plain()))
        {
            out.insert(0, i - 1);
        }
    }
    out
}

/// Cuts the answer to `max` characters at block boundaries; a long list keeps its first items
/// and says where the rest is.
fn fit(blocks: Vec<AnswerBlock>, max: usize) -> Vec<AnswerBlock> {
    let mut out = Vec::new();
    let mut used = 0;
    for mut b in blocks {
        let n = b.chars() + 6;
        if used + n <= max {
            used += n;
            out.push(b);
            continue;
        }
        let room = max.saturating_sub(used + 40);
        let cite = b.cite;
        match b.kind {
            BlockKind::Steps | BlockKind::List if room > 80 => {
                let mut keep = Vec::new();
                let mut size = 0;
                for it in std::mem::take(&mut b.items) {
                    if size + it.chars().count() + 4 > room {
                        break;
                    }
                    size += it.chars().count() + 4;
                    keep.push(it);
                }
                if !keep.is_empty() {
                    b.items = keep;
                    out.push(b);
                }
            }
            BlockKind::Table if room > 80 => {
                let mut keep = vec![b.rows[0].clone()];
                let mut size = b.rows[0].iter().map(|c| c.chars().count() + 3).sum::<usize>();
                for r in b.rows.iter().skip(1) {
                    let rn = r.iter().map(|c| c.chars().count() + 3).sum::<usize>();
                    if size + rn > room {
                        break;
                    }
                    size += rn;
                    keep.push(r.clone());
                }
                if keep.len() > 1 {
                    b.rows = keep;
                    out.push(b);
                }
            }
            BlockKind::Paragraph | BlockKind::Note if room > 80 && out.is_empty() => {
                // The first paragraph alone is too long: cut at a sentence.
                let mut text = String::new();
                for s in sentences(&b.text) {
                    if text.chars().count() + s.chars().count() + 1 > room {
                        break;
                    }
                    if !text.is_empty() {
                        text.push(' ');
                    }
                    text.push_str(s);
                }
                if !text.is_empty() {
                    b.text = text;
                    out.push(b);
                }
            }
            _ => {}
        }
        if cite > 0 {
            out.push(AnswerBlock { kind: BlockKind::Note, ..AnswerBlock::paragraph(&rest_is_in(cite), 0) });
        }
        break;
    }
    out
}

fn rest_is_in(n: u32) -> String {
    format!("The rest is in [{n}].")
}

/// The answer's plain text: blocks separated by blank lines, list items and table rows on their
/// own lines, marks removed, `[n]` after the last block quoted from source n.
pub fn plain_text(blocks: &[AnswerBlock]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (i, b) in blocks.iter().enumerate() {
        let mut p = b.plain();
        let last_of_source = b.cite > 0 && blocks.get(i + 1).is_none_or(|n| n.cite != b.cite);
        let marker = format!("[{}]", b.cite);
        if last_of_source && !p.contains(&marker) {
            p.push(' ');
            p.push_str(&marker);
        }
        parts.push(p);
    }
    parts.join("\n\n")
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    match cut.rfind(' ') {
        Some(i) => format!("{}…", &cut[..i]),
        None => format!("{cut}…"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lead_in_brings_what_follows_its_tip_box() {
        let note = Block::Note { label: "tip".into(), text: "We can also do it for you.".into() };
        let steps = Block::List { ordered: true, start: 1, items: vec!["Open settings".into()] };
        let blocks = vec![Block::paragraph("Configure it as follows:"), note.clone(), steps];
        assert_eq!(standalone(&blocks, 0), vec![0, 2]);
        // Only the tip follows: the steps are in the next chunk.
        assert_eq!(standalone(&[Block::paragraph("Here's how:"), note], 0), vec![0]);
    }

    #[test]
    fn two_part_questions_are_split() {
        assert_eq!(
            parts("What does it cost and is there an invoice?"),
            vec!["What does it cost", "there an invoice?"]
        );
        assert_eq!(parts("Was kostet Baton und gibt es eine Rechnung?").len(), 2);
        assert_eq!(parts("How do I add a site?"), vec!["How do I add a site?"]);
    }

    #[test]
    fn long_lists_are_cut_at_an_item_with_a_pointer_to_the_rest() {
        let items: Vec<String> =
            (1..=30).map(|i| format!("Step number {i} of the long procedure.")).collect();
        let list = AnswerBlock { kind: BlockKind::Steps, items, ..AnswerBlock::paragraph("", 2) };
        let out = fit(vec![AnswerBlock::paragraph("Do this:", 2), list], MAX_CHARS);
        let text = plain_text(&out);
        assert!(text.chars().count() <= 1000, "{text}");
        assert!(text.contains("1. Step number 1") && !text.contains("Step number 30"), "{text}");
        assert!(text.ends_with("The rest is in [2]."), "{text}");
    }

    #[test]
    fn plain_text_marks_each_source_once() {
        let blocks = vec![
            AnswerBlock { kind: BlockKind::Intro, ..AnswerBlock::paragraph("Aus der Dokumentation:", 0) },
            AnswerBlock::paragraph("Open **Settings**.", 1),
            AnswerBlock {
                kind: BlockKind::List,
                items: vec!["Cards".into(), "`PayPal`".into()],
                ..AnswerBlock::paragraph("", 1)
            },
            AnswerBlock::paragraph("Invoices are emailed.", 2),
        ];
        assert_eq!(
            plain_text(&blocks),
            "Aus der Dokumentation:\n\nOpen Settings.\n\n- Cards\n- PayPal [1]\n\nInvoices are emailed. [2]"
        );
    }
}
