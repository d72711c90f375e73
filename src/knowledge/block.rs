//! Blocks: the structure a document keeps from parse to answer.
//!
//! Every parser ([`super::parse`], [`super::html`]) turns a document into sections of
//! [`Block`]s: paragraphs, ordered and unordered lists with their items, tables with their
//! header, code blocks and callouts (admonitions). Chunks store their blocks, each block gets its
//! own vector at ingest, and the answer composer ([`crate::answer`]) quotes whole blocks: a list
//! stays a list, a table row keeps its header, a sentence that ends with ":" brings what it
//! introduces.
//!
//! Inline text inside a block uses a tiny, safe format: `**bold**` and `` `code` `` and nothing
//! else (links are reduced to their text, images and markup are dropped). [`Block::plain`] is the
//! text without those marks, which is what gets embedded and indexed.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

/// One block of a document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Block {
    /// A paragraph of inline text.
    Paragraph { text: String },
    /// A list; `ordered` lists are steps, numbered from `start`.
    List { ordered: bool, start: u32, items: Vec<String> },
    /// A table; `header` may be empty.
    Table { header: Vec<String>, rows: Vec<Vec<String>> },
    /// Preformatted text, line breaks kept.
    Code { text: String },
    /// An admonition or callout (`:::tip`, `> [!NOTE]`, `<aside class="note">`), flattened.
    Note { label: String, text: String },
}

impl Block {
    pub fn paragraph(text: impl Into<String>) -> Block {
        Block::Paragraph { text: text.into() }
    }

    /// The block as plain text, one line per item or row (what is embedded and indexed).
    pub fn plain(&self) -> String {
        match self {
            Block::Paragraph { text } => strip_marks(text),
            Block::List { ordered, start, items } => items
                .iter()
                .enumerate()
                .map(|(i, it)| {
                    if *ordered {
                        format!("{}. {}", *start as usize + i, strip_marks(it))
                    } else {
                        format!("- {}", strip_marks(it))
                    }
                })
                .collect::<Vec<_>>()
                .join("\n"),
            Block::Table { header, rows } => {
                let mut lines = Vec::with_capacity(rows.len() + 1);
                if !header.is_empty() {
                    lines.push(header.iter().map(|c| strip_marks(c)).collect::<Vec<_>>().join(" | "));
                }
                for r in rows {
                    lines.push(r.iter().map(|c| strip_marks(c)).collect::<Vec<_>>().join(" | "));
                }
                lines.join("\n")
            }
            Block::Code { text } => text.clone(),
            Block::Note { label, text } => {
                if label.is_empty() {
                    strip_marks(text)
                } else {
                    format!("{}: {}", strip_marks(label), strip_marks(text))
                }
            }
        }
    }

    /// True when the block is a paragraph that introduces what follows ("Do this:").
    pub fn is_lead_in(&self) -> bool {
        static HOW: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
            regex::Regex::new(
                r"(?i)(?:here'?s how|here is how|as follows|following steps|these steps|so geht'?s|wie folgt|voici comment|comme suit|así es como|de la siguiente manera|ecco come|als volgt|så här|(?:shown |described )?(?:in the next steps?|below))\W*$",
            )
            .expect("regex")
        });
        matches!(self, Block::Paragraph { text } if {
            let t = text.trim_end().trim_end_matches("**");
            t.ends_with(':') || HOW.is_match(t)
        })
    }

    /// True for blocks a lead-in introduces.
    pub fn is_structured(&self) -> bool {
        matches!(self, Block::List { .. } | Block::Table { .. } | Block::Code { .. })
    }

    /// Length in characters of the plain text.
    pub fn chars(&self) -> usize {
        self.plain().chars().count()
    }
}

/// Removes the inline marks (`**`, backticks) of the block format.
pub fn strip_marks(s: &str) -> String {
    if !s.contains(['*', '`']) {
        return s.to_owned();
    }
    s.replace("**", "").replace('`', "")
}

/// Sentences of `text`, trimmed, empty ones dropped.
pub fn sentences(text: &str) -> Vec<&str> {
    text.split_sentence_bounds().map(str::trim).filter(|s| !s.is_empty()).collect()
}

/// Collapses runs of white space to one space.
pub fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text under one heading.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    /// Heading path from the top (`["Install", "Docker"]`); empty for text before any heading.
    pub headings: Vec<String>,
    /// Anchor of the innermost heading (`docker`), empty before any heading.
    pub anchor: String,
    pub blocks: Vec<Block>,
}

/// A GitHub-style heading slug: lower case, punctuation dropped, spaces to hyphens.
pub fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                Some(c)
            } else if c == ' ' {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// Hands out unique anchors like GitHub does (`faq`, `faq-1`, `faq-2`).
#[derive(Default)]
pub(crate) struct Anchors(HashMap<String, usize>);

impl Anchors {
    pub(crate) fn unique(&mut self, base: String) -> String {
        let n = self.0.entry(base.clone()).or_insert(0);
        let out = if *n == 0 { base.clone() } else { format!("{base}-{n}") };
        *n += 1;
        out
    }
}

/// Builds sections of blocks while a parser walks a document.
#[derive(Default)]
pub(crate) struct Sections {
    sections: Vec<Section>,
    stack: Vec<(usize, String)>,
    anchors: Anchors,
}

impl Sections {
    /// Starts a section under a heading of `level` (1..6).
    pub(crate) fn heading(&mut self, level: usize, text: &str, anchor: Option<String>) {
        let text = squash(&strip_marks(text));
        if text.is_empty() {
            return;
        }
        while self.stack.last().is_some_and(|(l, _)| *l >= level) {
            self.stack.pop();
        }
        self.stack.push((level, text.clone()));
        let anchor = anchor.unwrap_or_else(|| self.anchors.unique(slug(&text)));
        self.sections.push(Section {
            headings: self.stack.iter().map(|(_, h)| h.clone()).collect(),
            anchor,
            blocks: Vec::new(),
        });
    }

    /// Adds a block to the current section; empty blocks are dropped.
    pub(crate) fn push(&mut self, block: Block) {
        let empty = match &block {
            Block::Paragraph { text } | Block::Code { text } => text.trim().is_empty(),
            Block::List { items, .. } => items.is_empty(),
            Block::Table { rows, .. } => rows.is_empty(),
            Block::Note { text, .. } => text.trim().is_empty(),
        };
        if empty {
            return;
        }
        if self.sections.is_empty() {
            self.sections.push(Section::default());
        }
        self.sections.last_mut().expect("a section").blocks.push(block);
    }

    pub(crate) fn finish(self) -> Vec<Section> {
        self.sections.into_iter().filter(|s| !s.blocks.is_empty()).collect()
    }
}

/// Accumulates inline text: white space folded, `**` and backticks balanced by the caller.
#[derive(Default)]
pub(crate) struct Inline {
    buf: String,
}

impl Inline {
    pub(crate) fn push(&mut self, t: &str) {
        if t.is_empty() {
            return;
        }
        let starts_ws = t.starts_with(char::is_whitespace);
        let ends_ws = t.ends_with(char::is_whitespace);
        let core = squash(t);
        if starts_ws && !self.buf.is_empty() && !self.buf.ends_with(' ') {
            self.buf.push(' ');
        }
        self.buf.push_str(&core);
        if ends_ws && !core.is_empty() {
            self.buf.push(' ');
        }
    }

    /// Adds a mark (`**`, a backtick) verbatim.
    pub(crate) fn mark(&mut self, m: &str) {
        self.buf.push_str(m);
    }

    pub(crate) fn space(&mut self) {
        if !self.buf.is_empty() && !self.buf.ends_with(' ') {
            self.buf.push(' ');
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.trim().is_empty()
    }

    /// The text so far, cleaned; the buffer is emptied.
    pub(crate) fn take(&mut self) -> String {
        let s = std::mem::take(&mut self.buf);
        tidy(&s)
    }
}

struct ListCtx {
    ordered: bool,
    start: u32,
    items: Vec<String>,
    /// An item is open (text goes into `items.last()`).
    open: bool,
}

#[derive(Default)]
struct TableCtx {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    row: Vec<String>,
    head: bool,
}

/// The first paragraph of a callout prepared from an admonition (`:::tip Title`) starts with this
/// sentinel, then `kind|title` (it never occurs in real text).
pub(crate) const NOTE_OPEN: &str = "\u{27e6}note\u{27e7}";

/// Deeper nesting than this is flattened into the enclosing block: a hostile document cannot
/// make the parsers' state grow without bound.
pub(crate) const MAX_NESTING: usize = 64;

/// The one place where parser events become blocks, shared by the Markdown and HTML walkers:
/// paragraphs, lists (nested lists fold into their parent item), tables, code, callouts
/// (everything inside a callout is flattened into its text) and headings.
#[derive(Default)]
pub(crate) struct Sink {
    pub(crate) sections: Sections,
    inline: Inline,
    lists: Vec<ListCtx>,
    /// Open callouts: (label, text so far).
    notes: Vec<(String, Vec<String>)>,
    table: Option<TableCtx>,
    heading: Option<(usize, Option<String>)>,
}

impl Sink {
    pub(crate) fn text(&mut self, t: &str) {
        self.inline.push(t);
    }

    pub(crate) fn mark(&mut self, m: &str) {
        self.inline.mark(m);
    }

    pub(crate) fn space(&mut self) {
        self.inline.space();
    }

    /// Ends the current paragraph (a block boundary).
    pub(crate) fn end_paragraph(&mut self) {
        if self.heading.is_some() || self.in_cell() {
            return;
        }
        if self.inline.is_empty() {
            self.inline.take();
            return;
        }
        let text = self.inline.take();
        self.commit(text);
    }

    fn in_cell(&self) -> bool {
        self.table.is_some()
    }

    /// Puts finished inline text where it belongs: the open list item, the open callout, or a
    /// paragraph of its own.
    fn commit(&mut self, text: String) {
        if text.is_empty() {
            return;
        }
        if let Some(l) = self.lists.last_mut() {
            if !l.open {
                l.items.push(String::new());
                l.open = true;
            }
            let item = l.items.last_mut().expect("an item");
            if !item.is_empty() {
                item.push(' ');
            }
            item.push_str(&text);
            return;
        }
        if let Some((label, parts)) = self.notes.last_mut() {
            if let Some(rest) = text.strip_prefix(NOTE_OPEN) {
                if parts.is_empty() {
                    let (kind, title) = rest.split_once('|').unwrap_or((rest, ""));
                    *label = if title.trim().is_empty() {
                        capitalise(kind.trim())
                    } else {
                        upper_first(title.trim())
                    };
                }
                return;
            }
            parts.push(text);
            return;
        }
        self.sections.push(Block::Paragraph { text });
    }

    pub(crate) fn heading_start(&mut self, level: usize, id: Option<String>) {
        self.end_paragraph();
        if self.lists.is_empty() && self.notes.is_empty() && self.table.is_none() {
            self.heading = Some((level, id));
        }
    }

    pub(crate) fn heading_end(&mut self) -> Option<String> {
        let (level, id) = self.heading.take()?;
        let text = self.inline.take();
        self.sections.heading(level, &text, id);
        Some(text)
    }

    pub(crate) fn list_start(&mut self, ordered: bool, start: u32) {
        self.end_paragraph();
        if self.lists.len() >= MAX_NESTING {
            return;
        }
        if let Some(l) = self.lists.last_mut() {
            // The parent item's text so far stays in the parent item.
            l.open = l.open || !l.items.is_empty();
        }
        self.lists.push(ListCtx { ordered, start, items: Vec::new(), open: false });
    }

    pub(crate) fn item_start(&mut self) {
        self.end_paragraph();
        if let Some(l) = self.lists.last_mut() {
            l.items.push(String::new());
            l.open = true;
        }
    }

    pub(crate) fn item_end(&mut self) {
        self.end_paragraph();
        if let Some(l) = self.lists.last_mut() {
            l.open = false;
            if l.items.last().is_some_and(|i| i.trim().is_empty()) {
                l.items.pop();
            }
        }
    }

    pub(crate) fn list_end(&mut self) {
        self.end_paragraph();
        let Some(l) = self.lists.pop() else { return };
        let items: Vec<String> = l.items.into_iter().map(|i| tidy(&i)).filter(|i| !i.is_empty()).collect();
        if items.is_empty() {
            return;
        }
        if let Some(parent) = self.lists.last_mut() {
            // A nested list folds into its parent item: "Settings: Billing; Invoices".
            if parent.items.is_empty() {
                parent.items.push(String::new());
            }
            let item = parent.items.last_mut().expect("an item");
            let joined = items.join("; ");
            if item.is_empty() {
                item.push_str(&joined);
            } else if item.ends_with([':', '.', ';', '!', '?']) {
                item.push(' ');
                item.push_str(&joined);
            } else {
                item.push_str(": ");
                item.push_str(&joined);
            }
            parent.open = true;
            return;
        }
        if let Some((_, parts)) = self.notes.last_mut() {
            parts.push(items.join("; "));
            return;
        }
        self.sections.push(Block::List { ordered: l.ordered, start: l.start, items });
    }

    pub(crate) fn note_start(&mut self, label: &str) {
        self.end_paragraph();
        if self.notes.len() >= MAX_NESTING {
            return;
        }
        self.notes.push((squash(label), Vec::new()));
    }

    pub(crate) fn note_end(&mut self) {
        self.end_paragraph();
        let Some((label, parts)) = self.notes.pop() else { return };
        let text = tidy(&parts.join(" "));
        if let Some((_, outer)) = self.notes.last_mut() {
            outer.push(if label.is_empty() { text } else { format!("{label}: {text}") });
            return;
        }
        if text.is_empty() {
            // A callout with only a title ("Not what you need?") reads as a paragraph.
            if !label.is_empty() {
                self.commit(label);
            }
            return;
        }
        if !self.lists.is_empty() {
            self.commit(text);
            return;
        }
        self.sections.push(Block::Note { label, text });
    }

    pub(crate) fn code(&mut self, code: &str) {
        self.end_paragraph();
        let code = code.trim_matches('\n');
        if code.trim().is_empty() {
            return;
        }
        if !self.lists.is_empty() || !self.notes.is_empty() || self.table.is_some() {
            let one_line = squash(code);
            self.commit(format!("`{one_line}`"));
            return;
        }
        self.sections.push(Block::Code { text: code.to_owned() });
    }

    pub(crate) fn table_start(&mut self) {
        self.end_paragraph();
        if self.table.is_none() {
            self.table = Some(TableCtx::default());
        }
    }

    pub(crate) fn row_start(&mut self, head: bool) {
        if let Some(t) = &mut self.table {
            t.row.clear();
            t.head = head;
        }
    }

    /// The current row has header cells (`<th>`).
    pub(crate) fn mark_header_row(&mut self) {
        if let Some(t) = &mut self.table {
            t.head = true;
        }
    }

    pub(crate) fn cell_end(&mut self) {
        let text = self.inline.take();
        if let Some(t) = &mut self.table {
            t.row.push(text);
        }
    }

    pub(crate) fn row_end(&mut self) {
        if !self.inline.is_empty() {
            self.cell_end();
        }
        if let Some(t) = &mut self.table {
            let row = std::mem::take(&mut t.row);
            if row.iter().all(|c| c.is_empty()) {
                return;
            }
            if t.head && t.header.is_empty() && t.rows.is_empty() {
                t.header = row;
            } else {
                t.rows.push(row);
            }
        }
    }

    pub(crate) fn table_end(&mut self) {
        let Some(t) = self.table.take() else { return };
        let TableCtx { header, rows, .. } = t;
        if rows.is_empty() && header.is_empty() {
            return;
        }
        let (header, rows) = if rows.is_empty() { (Vec::new(), vec![header]) } else { (header, rows) };
        if !self.lists.is_empty() || !self.notes.is_empty() {
            let text = rows.iter().map(|r| r.join(", ")).collect::<Vec<_>>().join("; ");
            self.commit(text);
            return;
        }
        self.sections.push(Block::Table { header, rows });
    }

    pub(crate) fn finish(mut self) -> Vec<Section> {
        self.end_paragraph();
        while self.table.is_some() {
            self.table_end();
        }
        while !self.lists.is_empty() {
            self.list_end();
        }
        while !self.notes.is_empty() {
            self.note_end();
        }
        self.sections.finish()
    }
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c.flat_map(char::to_lowercase)).collect()).unwrap_or_default()
}

/// Final clean-up of inline text: folded white space, empty marks removed, no space before
/// punctuation that a dropped element left behind.
pub fn tidy(s: &str) -> String {
    let mut s = squash(s);
    for empty in ["****", "``"] {
        while s.contains(empty) {
            s = s.replace(empty, "");
        }
    }
    for p in [" .", " ,", " :", " ;", " !", " ?", " )"] {
        while s.contains(p) {
            s = s.replace(p, &p[1..]);
        }
    }
    s = s.replace("( ", "(");
    // A lone pair of marks around nothing but spaces.
    s = s.replace("** **", " ");
    squash(&s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_of_blocks() {
        let steps = Block::List {
            ordered: true,
            start: 1,
            items: vec!["Open **Settings**.".into(), "Click `Save`.".into()],
        };
        assert_eq!(steps.plain(), "1. Open Settings.\n2. Click Save.");
        let t = Block::Table {
            header: vec!["Plan".into(), "Price".into()],
            rows: vec![vec!["Growth".into(), "9 €".into()]],
        };
        assert_eq!(t.plain(), "Plan | Price\nGrowth | 9 €");
        assert!(Block::paragraph("Do this:").is_lead_in());
        assert!(Block::paragraph("Do **this:**").is_lead_in());
        assert!(!Block::paragraph("Done.").is_lead_in());
        assert!(Block::paragraph("To exclude your visits, set a flag. Here's how.").is_lead_in());
    }

    #[test]
    fn inline_text_is_tidied() {
        let mut i = Inline::default();
        i.push("Click ");
        i.mark("**");
        i.push("Save");
        i.mark("**");
        i.push(" ( ");
        i.push("or press Enter");
        i.push(" ) .");
        assert_eq!(i.take(), "Click **Save** (or press Enter).");
        assert_eq!(tidy("a **** b"), "a b");
    }

    #[test]
    fn slugs_match_github() {
        assert_eq!(slug("What's new in v2.0?"), "whats-new-in-v20");
        assert_eq!(slug("Über uns"), "über-uns");
        let mut a = Anchors::default();
        assert_eq!(a.unique("faq".into()), "faq");
        assert_eq!(a.unique("faq".into()), "faq-1");
    }
}
