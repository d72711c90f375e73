//! One integration-test binary (short link times); each area is a module under `tests/integration/`.

mod admin;
mod common;
mod handoff;
mod insights;
mod knowledge;
mod system;
mod widget;
