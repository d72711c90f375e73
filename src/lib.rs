//! Baton: a self-hosted AI support desk in one binary.
//!
//! See the README's architecture section for how a message flows from the widget to an answer
//! and on to the team inbox.

pub mod accounts;
pub mod admin;
pub mod answer;
pub mod answer_queue;
pub mod cli;
pub mod config;
pub mod conversation;
pub mod embed;
pub mod error;
pub mod eval;
pub mod handoff;
pub mod http;
pub mod hub;
pub mod ids;
pub mod inbox;
pub mod insights;
pub mod knowledge;
pub mod server;
pub mod state;
pub mod store;
pub mod visitor;

pub use config::Config;
pub use error::{Error, Result};
pub use state::AppState;
