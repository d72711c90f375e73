//! One integration-test binary (short link times); each area is a module under `tests/integration/`.

mod accounts;
mod admin;
mod answers;
mod browser;
mod browser_support;
mod common;
mod e2e;
mod edge;
mod handoff;
mod hardening;
mod inbox;
mod insights;
mod knowledge;
mod replies;
mod system;
mod widget;
