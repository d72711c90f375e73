//! Answers: what the AI says to a question, with the sources it cites and how sure it is.
//!
//! The [`Answer`] type is shared by the widget, the handoff triggers and the inbox: text,
//! numbered citations, a calibrated confidence in 0..1 and the `unsure` flag (confidence below
//! the configured threshold). `blocks` carries the same content as structure (paragraphs, steps,
//! lists, code, tables) for the widget and the inbox; `text` stays the plain version for email,
//! webhooks and API clients.

mod compose;
mod continuation;
mod lang;
mod question;
mod wording;

use serde::{Deserialize, Serialize};

pub use compose::{
    candidate_chunks, compose, compose_explained, confidence, plain_text, whole_documents, Context, Features,
    MAX_CHARS, WHOLE_DOC_CHUNKS,
};
pub use question::parts;

use crate::ids::DocumentId;
use crate::knowledge::block::{strip_marks, Block};

/// One cited source, numbered as in the answer text (`[1]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct Citation {
    pub n: u32,
    pub title: String,
    /// Link to the source: a URL (with `#anchor` when known) or empty for files without one.
    pub url: String,
    /// The section heading the cited passage sits under.
    pub section: String,
    /// Path of the source relative to its root (files) or the page URL (sites).
    pub path: String,
    pub document: DocumentId,
    /// The cited passage, plain text.
    pub snippet: String,
    /// Retrieval score of this source (0..1).
    pub score: f32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct Answer {
    /// Plain text with `[n]` markers that refer to `citations` (list items and table rows on
    /// lines of their own).
    pub text: String,
    /// The answer as blocks, for rich rendering: inline text may hold `**bold**`, `` `code` ``
    /// and `[n]` markers, nothing else (render it as text, never as HTML). Empty on answers
    /// stored before blocks existed: render `text` then.
    #[serde(default)]
    #[oai(default)]
    pub blocks: Vec<AnswerBlock>,
    pub citations: Vec<Citation>,
    /// Calibrated probability that the answer is right (0..1).
    pub confidence: f32,
    /// True when confidence is below the threshold: Baton says it is not sure.
    pub unsure: bool,
}

/// What an answer block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, poem_openapi::Enum)]
#[serde(rename_all = "snake_case")]
#[oai(rename_all = "snake_case")]
pub enum BlockKind {
    Paragraph,
    /// An ordered list, numbered from `start`.
    Steps,
    List,
    /// Preformatted text: show as is, in a monospace font.
    Code,
    /// `rows[0]` is the header when the source table has one.
    Table,
    /// A callout or a closing remark ("The rest is in [1].").
    Note,
    /// A one-line lead-in (for example: the passage below is from the docs in English).
    Intro,
}

/// One block of an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, poem_openapi::Object)]
pub struct AnswerBlock {
    pub kind: BlockKind,
    /// Inline text (paragraph, note, intro, code).
    #[serde(default)]
    #[oai(default)]
    pub text: String,
    /// Items (steps, list).
    #[serde(default)]
    #[oai(default)]
    pub items: Vec<String>,
    /// Table rows, the header first.
    #[serde(default)]
    #[oai(default)]
    pub rows: Vec<Vec<String>>,
    /// First number of `steps`.
    #[serde(default = "one")]
    #[oai(default = "one")]
    pub start: u32,
    /// The citation this block quotes (`n`), 0 for none.
    #[serde(default)]
    #[oai(default)]
    pub cite: u32,
}

fn one() -> u32 {
    1
}

impl AnswerBlock {
    pub fn paragraph(text: &str, cite: u32) -> AnswerBlock {
        AnswerBlock {
            kind: BlockKind::Paragraph,
            text: text.to_owned(),
            items: Vec::new(),
            rows: Vec::new(),
            start: 1,
            cite,
        }
    }

    /// A knowledge block, quoted from citation `cite`.
    pub fn from_block(b: &Block, cite: u32) -> AnswerBlock {
        let base = AnswerBlock::paragraph("", cite);
        match b {
            Block::Paragraph { text } => AnswerBlock { text: text.clone(), ..base },
            Block::List { ordered, start, items } => AnswerBlock {
                kind: if *ordered { BlockKind::Steps } else { BlockKind::List },
                items: items.clone(),
                start: *start,
                ..base
            },
            Block::Table { header, rows } => {
                let mut all = Vec::with_capacity(rows.len() + 1);
                if !header.is_empty() {
                    all.push(header.clone());
                }
                all.extend(rows.iter().cloned());
                AnswerBlock { kind: BlockKind::Table, rows: all, ..base }
            }
            Block::Code { text } => AnswerBlock { kind: BlockKind::Code, text: text.clone(), ..base },
            Block::Note { label, text } => AnswerBlock {
                kind: BlockKind::Note,
                text: if label.is_empty() { text.clone() } else { format!("**{label}:** {text}") },
                ..base
            },
        }
    }

    /// Plain text of the block (marks removed), list items and rows on their own lines.
    pub fn plain(&self) -> String {
        match self.kind {
            BlockKind::Steps => self
                .items
                .iter()
                .enumerate()
                .map(|(i, it)| format!("{}. {}", self.start as usize + i, strip_marks(it)))
                .collect::<Vec<_>>()
                .join("\n"),
            BlockKind::List => {
                self.items.iter().map(|it| format!("- {}", strip_marks(it))).collect::<Vec<_>>().join("\n")
            }
            BlockKind::Table => self
                .rows
                .iter()
                .map(|r| r.iter().map(|c| strip_marks(c)).collect::<Vec<_>>().join(" | "))
                .collect::<Vec<_>>()
                .join("\n"),
            BlockKind::Code => self.text.clone(),
            _ => strip_marks(&self.text),
        }
    }

    pub fn chars(&self) -> usize {
        self.plain().chars().count()
    }
}
