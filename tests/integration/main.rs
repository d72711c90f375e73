//! One integration-test binary (short link times); each area is a module under `tests/integration/`.

mod accounts;
mod admin;
mod answers;
mod browser;
mod browser_support;
mod common;
mod e2e;
mod handoff;
mod inbox;
mod insights;
mod knowledge;
mod system;
mod widget;
