//! [`AppState`]: everything a request handler needs, cheap to clone.

use std::sync::Arc;

use parking_lot::RwLock;

use crate::config::Config;
use crate::embed::Embedder;
use crate::error::Result;
use crate::hub::Hub;
use crate::knowledge::Knowledge;
use crate::store::{Store, SETTINGS};

#[derive(Clone)]
pub struct AppState {
    config: Arc<RwLock<Arc<Config>>>,
    pub store: Store,
    pub embedder: Embedder,
    pub knowledge: Knowledge,
    pub hub: Arc<Hub>,
    /// Presence, the trigger classifier's cache and `conversation.handoff` events.
    pub handoff: Arc<crate::handoff::Runtime>,
    /// Sign-in rate limits (see [`crate::accounts`]).
    pub accounts: Arc<crate::accounts::Runtime>,
    /// Who is viewing which conversation in the inbox (see [`crate::inbox`]).
    pub inbox: Arc<crate::inbox::Runtime>,
    /// The durable reply queue's dispatcher state (see [`crate::answer_queue`]).
    pub replies: Arc<crate::answer_queue::Runtime>,
}

/// The key under which admin-edited settings are stored.
const SETTINGS_KEY: &str = "config";

impl AppState {
    /// Opens the store and the model and builds the state. Settings edited in the console
    /// (stored in the database) override the file/env config, except the boot keys
    /// (`data_dir`, `addr`), which always come from the command line and file.
    pub fn new(boot: Config, durable: bool) -> Result<AppState> {
        let store = Store::open(&boot.data_dir, durable)?;
        let embedder = Embedder::load_default(boot.limits.embed_queue)?;
        let config = match store.get_json::<Config>(SETTINGS, SETTINGS_KEY)? {
            Some(mut saved) => {
                saved.data_dir = boot.data_dir.clone();
                saved.addr = boot.addr;
                saved.public_url = boot.public_url.clone().or(saved.public_url);
                saved
            }
            None => boot,
        };
        let knowledge = Knowledge::open(store.clone(), embedder.clone())?;
        Ok(AppState {
            config: Arc::new(RwLock::new(Arc::new(config))),
            store,
            embedder,
            knowledge,
            hub: Arc::new(Hub::default()),
            handoff: Arc::new(crate::handoff::Runtime::default()),
            accounts: Arc::new(crate::accounts::Runtime::default()),
            inbox: Arc::new(crate::inbox::Runtime::default()),
            replies: Arc::new(crate::answer_queue::Runtime::default()),
        })
    }

    /// A snapshot of the current configuration.
    pub fn config(&self) -> Arc<Config> {
        self.config.read().clone()
    }

    /// Changes settings (admin console) and persists them.
    pub fn update_config(&self, f: impl FnOnce(&mut Config)) -> Result<Arc<Config>> {
        let mut guard = self.config.write();
        let mut next = (**guard).clone();
        f(&mut next);
        self.store.put_json(SETTINGS, SETTINGS_KEY, &next)?;
        let next = Arc::new(next);
        *guard = next.clone();
        Ok(next)
    }
}
