//! The redb store: every table of Baton in one file.
//!
//! All tables are declared here, as `TableDefinition` constants named after what they map, and
//! created on first open. Values are JSON (`serde_json`) so that adding an optional field to a
//! record needs no migration; anything that changes the meaning of stored data bumps
//! [`SCHEMA_VERSION`] and adds an explicit step to [`Store::migrate`].
//!
//! Writes that acknowledge something to a user (a visitor's message, an agent's reply) commit
//! with `Durability::Immediate` before the HTTP response goes out. Tests may open the store with
//! `durable = false` to skip the fsync.

use std::path::Path;
use std::sync::Arc;

use redb::{
    Database, Durability, ReadTransaction, ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction,
};
use serde::{de::DeserializeOwned, Serialize};

use crate::error::{Error, Result};

/// Bump when stored data changes meaning; add the step to [`Store::migrate`].
pub const SCHEMA_VERSION: u64 = 1;

/// A table from a string key to a JSON value.
pub type JsonTable = TableDefinition<'static, &'static str, &'static [u8]>;

/// `"schema_version"` and other single values.
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
/// Editable settings (the admin console), as one JSON document under the key `"settings"`.
pub const SETTINGS: JsonTable = TableDefinition::new("settings");

// Knowledge.
/// SourceId -> knowledge::Source
pub const SOURCES: JsonTable = TableDefinition::new("sources");
/// DocumentId -> knowledge::Document
pub const DOCUMENTS: JsonTable = TableDefinition::new("documents");
/// ChunkId -> knowledge::Chunk (JSON)
pub const CHUNKS: TableDefinition<u64, &[u8]> = TableDefinition::new("chunks");
/// ChunkId -> passage embedding, 384 little-endian f32
pub const VECTORS: TableDefinition<u64, &[u8]> = TableDefinition::new("vectors");
/// ChunkId -> one passage embedding per block of the chunk (n x 384 little-endian f32), for
/// chunks of more than one block; read at answer time for the candidate chunks only.
pub const BLOCK_VECTORS: TableDefinition<u64, &[u8]> = TableDefinition::new("block_vectors");

// Conversations.
/// ConversationId -> conversation::Conversation
pub const CONVERSATIONS: JsonTable = TableDefinition::new("conversations");
/// (ConversationId, seq) -> conversation::Message
pub const MESSAGES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("messages");
/// sha256(visitor token) hex -> conversation::Visitor
pub const VISITORS: JsonTable = TableDefinition::new("visitors");
/// VisitorId -> conversation::VisitorContext learnt before the first message (visitor::profile)
pub const VISITOR_PROFILES: JsonTable = TableDefinition::new("visitor_profiles");

// Team.
/// UserId -> accounts::User
pub const USERS: JsonTable = TableDefinition::new("users");
/// sha256(session token) hex -> accounts::Session
pub const SESSIONS: JsonTable = TableDefinition::new("sessions");
/// sha256(invite/setup token) hex -> accounts::Invite
pub const INVITES: JsonTable = TableDefinition::new("invites");

// Learning.
/// GapId -> insights::GapGroup
pub const GAPS: JsonTable = TableDefinition::new("gaps");
/// (ConversationId, seq) -> query embedding of a visitor question, 384 little-endian f32
/// (the gaps report's cache, so questions are embedded once).
pub const QUESTION_VECTORS: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("question_vectors");

// Replies.
/// (ConversationId, seq of a visitor message) -> answer_queue::Pending: a reply still owed.
pub const PENDING_REPLIES: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("pending_replies");

#[derive(Clone)]
pub struct Store {
    db: Arc<Database>,
    durable: bool,
}

impl Store {
    /// Opens (or creates) `baton.redb` in `data_dir`, creates every table, checks the schema.
    pub fn open(data_dir: &Path, durable: bool) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            Error::internal(anyhow::anyhow!("cannot create data dir {}: {e}", data_dir.display()))
        })?;
        let path = data_dir.join("baton.redb");
        let db = Database::create(&path).map_err(|e| {
            Error::internal(anyhow::anyhow!(
                "cannot open {}: {e}. Is another Baton running on the same data dir?",
                path.display()
            ))
        })?;
        let store = Store { db: Arc::new(db), durable };
        store.init()?;
        Ok(store)
    }

    fn init(&self) -> Result<()> {
        let tx = self.db.begin_write()?;
        let found = {
            let mut meta = tx.open_table(META)?;
            let found = meta.get("schema_version")?.map(|v| v.value());
            if found.is_none() {
                meta.insert("schema_version", SCHEMA_VERSION)?;
            }
            found
        };
        for t in [
            SETTINGS,
            SOURCES,
            DOCUMENTS,
            CONVERSATIONS,
            VISITORS,
            VISITOR_PROFILES,
            USERS,
            SESSIONS,
            INVITES,
            GAPS,
        ] {
            tx.open_table(t)?;
        }
        tx.open_table(CHUNKS)?;
        tx.open_table(VECTORS)?;
        tx.open_table(BLOCK_VECTORS)?;
        tx.open_table(MESSAGES)?;
        tx.open_table(QUESTION_VECTORS)?;
        tx.open_table(PENDING_REPLIES)?;
        tx.commit()?;
        match found {
            None => Ok(()),
            Some(v) if v == SCHEMA_VERSION => Ok(()),
            Some(v) if v < SCHEMA_VERSION => self.migrate(v),
            Some(v) => Err(Error::internal(anyhow::anyhow!(
                "the data dir was written by a newer Baton (schema {v}, this binary knows {SCHEMA_VERSION}); \
                 upgrade Baton or point --data-dir elsewhere"
            ))),
        }
    }

    /// Explicit migrations, one step per version. There are none yet.
    fn migrate(&self, from: u64) -> Result<()> {
        Err(Error::internal(anyhow::anyhow!(
            "no migration from schema {from} to {SCHEMA_VERSION}; restore a backup or use a new data dir"
        )))
    }

    /// Runs `f` in one write transaction and commits it (durably unless opened for tests).
    pub fn write<R>(&self, f: impl FnOnce(&WriteTransaction) -> Result<R>) -> Result<R> {
        let mut tx = self.db.begin_write()?;
        if !self.durable {
            tx.set_durability(Durability::None).map_err(|e| Error::internal(anyhow::anyhow!("{e}")))?;
        }
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Runs `f` in one read transaction (a consistent snapshot).
    pub fn read<R>(&self, f: impl FnOnce(&ReadTransaction) -> Result<R>) -> Result<R> {
        let tx = self.db.begin_read()?;
        f(&tx)
    }

    pub fn get_json<T: DeserializeOwned>(&self, table: JsonTable, key: &str) -> Result<Option<T>> {
        self.read(|tx| get_json(&tx.open_table(table)?, key))
    }

    pub fn put_json<T: Serialize>(&self, table: JsonTable, key: &str, value: &T) -> Result<()> {
        self.write(|tx| {
            let mut t = tx.open_table(table)?;
            put_json(&mut t, key, value)
        })
    }

    pub fn delete(&self, table: JsonTable, key: &str) -> Result<bool> {
        self.write(|tx| Ok(tx.open_table(table)?.remove(key)?.is_some()))
    }

    /// Every `(key, value)` of a JSON table, in key order.
    pub fn list_json<T: DeserializeOwned>(&self, table: JsonTable) -> Result<Vec<(String, T)>> {
        self.read(|tx| {
            let t = tx.open_table(table)?;
            let mut out = Vec::new();
            for row in t.iter()? {
                let (k, v) = row?;
                out.push((k.value().to_owned(), serde_json::from_slice(v.value())?));
            }
            Ok(out)
        })
    }
}

/// Reads one JSON value from an open table.
pub fn get_json<T: DeserializeOwned>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
) -> Result<Option<T>> {
    match table.get(key)? {
        Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
        None => Ok(None),
    }
}

/// Writes one JSON value into an open table.
pub fn put_json<T: Serialize>(
    table: &mut redb::Table<&'static str, &'static [u8]>,
    key: &str,
    value: &T,
) -> Result<()> {
    let bytes = serde_json::to_vec(value)?;
    table.insert(key, bytes.as_slice())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_is_checked_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), false).unwrap();
        store
            .write(|tx| {
                tx.open_table(META)?.insert("schema_version", SCHEMA_VERSION + 1)?;
                Ok(())
            })
            .unwrap();
        drop(store);
        let err = Store::open(dir.path(), false).err().expect("newer schema must be refused");
        assert!(format!("{:?}", err).contains("newer Baton"), "{err:?}");
    }

    #[test]
    fn json_roundtrip_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path(), true).unwrap();
            store.put_json(SETTINGS, "k", &vec![1, 2, 3]).unwrap();
        }
        let store = Store::open(dir.path(), true).unwrap();
        assert_eq!(store.get_json::<Vec<i32>>(SETTINGS, "k").unwrap(), Some(vec![1, 2, 3]));
        assert_eq!(store.list_json::<Vec<i32>>(SETTINGS).unwrap().len(), 1);
        assert!(store.delete(SETTINGS, "k").unwrap());
        assert_eq!(store.get_json::<Vec<i32>>(SETTINGS, "k").unwrap(), None);
    }
}
