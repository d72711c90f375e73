//! The admin console's domain: editable settings, uploads, visitor data (GDPR) and retention.
//!
//! - [`settings`]: reading and changing the console-editable parts of the config (widget,
//!   handoff, hours, SMTP, security) through [`crate::state::AppState::update_config`], with
//!   validation, and views that never contain a secret (the identity secret and the SMTP
//!   password are write-only: the console only learns whether they are set).
//! - [`uploads`]: files uploaded in the console are written under `<data dir>/uploads/<batch>/`
//!   and ingested as one knowledge source per upload batch; deleting the source deletes them.
//! - [`gdpr`]: finding everything Baton stores about one visitor (by visitor id, email or
//!   conversation id), exporting it as JSON and erasing it.
//! - [`retention`]: deleting conversations `security.retention_days` after their last
//!   activity: [`retention::sweep_once`] does one pass (tests call it with a chosen `now`),
//!   [`retention::spawn`] runs it hourly beside the server.

pub mod gdpr;
pub mod knowledge;
pub mod retention;
pub mod settings;
pub mod uploads;
