//! Newtype IDs for every entity that crosses a module boundary.
//!
//! IDs are opaque strings on the wire. Random IDs are 128 bits from the OS RNG, hex-encoded,
//! so they are unguessable; none of them is ever a secret on its own (visitor tokens are
//! separate, see [`crate::conversation::VisitorToken`]).

use rand::RngCore;
use serde::{Deserialize, Serialize};

/// A fresh random hex string with `bytes` bytes of entropy.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, poem_openapi::NewType)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// A new random ID.
            pub fn random() -> Self {
                Self(random_hex(16))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

string_id!(
    /// One conversation (thread) between a visitor, the AI and the team.
    ConversationId
);
string_id!(
    /// A visitor (one browser, identified by its token).
    VisitorId
);
string_id!(
    /// A team member's account (owner, admin or agent).
    UserId
);
string_id!(
    /// A knowledge document: a page, a file or a Q&A snippet.
    DocumentId
);
string_id!(
    /// A knowledge source: a crawled site, an uploaded folder, the demo docs.
    SourceId
);
string_id!(
    /// A group in the gaps report.
    GapId
);
string_id!(
    /// A team (for routing handoffs).
    TeamId
);

/// A chunk of a document in the retrieval index.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, poem_openapi::NewType,
)]
#[serde(transparent)]
pub struct ChunkId(pub u64);
