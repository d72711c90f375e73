//! Answers: what the AI says to a question, with the sources it cites and how sure it is.
//!
//! The [`Answer`] type is shared by the widget, the handoff triggers and the inbox: text,
//! numbered citations, a calibrated confidence in 0..1 and the `unsure` flag (confidence below
//! the configured threshold).

mod compose;

use serde::{Deserialize, Serialize};

pub use compose::{compose, confidence, Features};

use crate::ids::DocumentId;

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
    /// Plain text with `[n]` markers that refer to `citations`.
    pub text: String,
    pub citations: Vec<Citation>,
    /// Calibrated probability that the answer is right (0..1).
    pub confidence: f32,
    /// True when confidence is below the threshold: Baton says it is not sure.
    pub unsure: bool,
}
