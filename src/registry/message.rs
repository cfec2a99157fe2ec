//! What the registry origin's actor and its read tasks tell each other.

use std::collections::HashMap;
use std::sync::Arc;

use crate::key::Key;
use crate::protocol::{RegistryStats, TierName, TierStats};
use crate::tier::{Entry, Lookup, Reply, TierError, Urgency};

pub(super) const LABEL: &str = TierName::Registry.label();

/// Namespace (without `@`) → URL template, from the shadcn directory.
pub type Directory = Arc<HashMap<String, String>>;

pub enum ToRegistry {
    /// Keys with the stale copy the cache holds, if any (see [`crate::tier::Origin`]).
    Fetch(Vec<(Key, Option<Entry>)>, Urgency, Reply<Vec<Lookup>>),
    Stats(Reply<TierStats>),
    /// Requests, fetches and 304s per registry, for `stats`.
    Sources(Reply<Vec<RegistryStats>>),
    /// From read tasks: the shadcn directory, fetched when stale.
    Directory(Reply<Directory>),
    /// From the directory task.
    DirectoryDone(Result<Directory, TierError>),
    /// From read tasks: what each key's fetch came to, by registry.
    Answered(Vec<(String, Outcome)>),
}

/// How one key's fetch ended, for stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A body, downloaded and checked.
    Fetched,
    /// A 304: the cached copy is current, nothing downloaded.
    Unchanged,
    NotFound,
    Failed,
}

pub(super) fn unavailable(reason: impl Into<String>) -> TierError {
    TierError::Unavailable {
        tier: LABEL,
        reason: reason.into(),
    }
}
