//! Where a quote continues beyond its chunk: a lead-in into the next chunk, a numbered step
//! section into the steps after it, a list that began in the previous chunk back to its first
//! steps. Chunks end at headings and size limits; a visitor's answer should not.

use std::sync::{Arc, LazyLock};

use regex::Regex;

use super::compose::{standalone, Context, Unit, MAX_CHARS};
use super::wording::is_meta;
use super::AnswerBlock;
use crate::knowledge::block::Block;
use crate::knowledge::Chunk;

/// A lead-in at the end of its chunk ("Here's how:" before a "Step 1" heading): what it
/// introduces starts the next chunk of the page.
/// Returns the chunk it continued into.
pub(super) fn continue_lead_in(u: &Unit, out: &mut Vec<AnswerBlock>, ctx: &Context) -> Option<Arc<Chunk>> {
    let last = standalone(&u.blocks, u.index).into_iter().max().unwrap_or(u.index);
    let asides_only = u.blocks[last + 1..].iter().all(|b| matches!(b, Block::Note { .. }));
    if !asides_only || !u.blocks[last].is_lead_in() {
        return None;
    }
    let next = (ctx.next_chunk)(u.hit.chunk.id.0)?;
    let n = u.doc as u32 + 1;
    let size = |out: &[AnswerBlock]| out.iter().map(AnswerBlock::chars).sum::<usize>();
    if let Some(h) = next.headings.last().filter(|h| Some(*h) != u.hit.chunk.headings.last()) {
        out.push(AnswerBlock::paragraph(&format!("**{h}**"), n));
    }
    for (i, x) in next.blocks().iter().enumerate() {
        let a = AnswerBlock::from_block(x, n);
        if i > 0 && size(out) + a.chars() > MAX_CHARS * 3 / 4 {
            break;
        }
        out.push(a);
    }
    Some(next)
}

/// When `u` opens its chunk with an ordered list that does not start at 1, the end of the
/// previous chunk holds the first steps: that list and its lead-in.
pub(super) fn list_start(u: &Unit, ctx: &Context) -> Option<Vec<AnswerBlock>> {
    let first = standalone(&u.blocks, u.index).into_iter().min()?;
    if first != 0 || !matches!(u.blocks[0], Block::List { ordered: true, start, .. } if start > 1) {
        return None;
    }
    let prev = (ctx.prev_chunk)(u.hit.chunk.id.0)?;
    let blocks = prev.blocks();
    let last = blocks.len().checked_sub(1)?;
    if !matches!(blocks[last], Block::List { ordered: true, .. }) {
        return None;
    }
    let n = u.doc as u32 + 1;
    Some(standalone(&blocks, last).into_iter().map(|i| AnswerBlock::from_block(&blocks[i], n)).collect())
}

/// A numbered step heading: "Step 2: Create a goal", "Schritt 2", "Étape 2"…
fn is_step_heading(h: &str) -> bool {
    static STEP: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"(?i)^\s*(?:step|schritt|étape|etape|paso|passo|stap|steg|krok|trin|vaihe|fase)\s*\d+\b")
            .expect("regex")
    });
    STEP.is_match(h)
}

/// The quote ends in a numbered step section ("Step 1: …"): the following steps come along,
/// each as its heading and its first block, while they fit. A visitor needs every step.
pub(super) fn continue_steps(from: &Chunk, doc: usize, out: &mut Vec<AnswerBlock>, ctx: &Context) {
    if !from.headings.last().is_some_and(|h| is_step_heading(h)) {
        return;
    }
    let n = doc as u32 + 1;
    let size = |out: &[AnswerBlock]| out.iter().map(AnswerBlock::chars).sum::<usize>();
    let mut id = from.id.0;
    let mut heading = from.headings.last().cloned();
    for _ in 0..6 {
        let Some(next) = (ctx.next_chunk)(id) else { return };
        id = next.id.0;
        let Some(h) = next.headings.last().filter(|h| is_step_heading(h)) else { return };
        if Some(h) == heading.as_ref() {
            continue; // the same step, split into several chunks
        }
        heading = Some(h.clone());
        let blocks = next.blocks();
        let Some(first) = blocks.iter().position(|b| !is_meta(&b.plain())) else { continue };
        let mut add = vec![AnswerBlock::paragraph(&format!("**{h}**"), n)];
        add.extend(standalone(&blocks, first).into_iter().map(|i| AnswerBlock::from_block(&blocks[i], n)));
        if size(out) + add.iter().map(AnswerBlock::chars).sum::<usize>() > MAX_CHARS {
            return;
        }
        out.extend(add);
    }
}
