//! The contract the router walks: every cache tier (L1 memory now; L2 database and L3 GitHub
//! later) answers the same few operations through a handle. The router holds the tiers in
//! order as `Arc<dyn Tier>`, so adding one is a change of the list, not of the walk.
//!
//! A miss, an unavailable tier or a timeout are normal answers (`Ok(None)` or `TierError`):
//! only a broken actor panics or returns `Err` from a handler.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::future::BoxFuture;

use crate::glob::Glob;
use crate::key::Key;
use crate::protocol::{EntryInfo, TierName, TierStats};

pub type TierFuture<T> = BoxFuture<'static, Result<T, TierError>>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    #[error("{tier} is unavailable: {reason}")]
    Unavailable { tier: &'static str, reason: String },
    #[error("{tier} did not answer within {after:?}")]
    Timeout { tier: &'static str, after: Duration },
    #[error("value too large: {0}")]
    TooLarge(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryMeta {
    pub created_ms: u64,
    pub last_access_ms: u64,
    pub access_count: u64,
    pub expires_ms: Option<u64>,
    pub size: u64,
}

impl EntryMeta {
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_ms.is_some_and(|at| now_ms >= at)
    }

    pub fn info(&self, tier: TierName, now_ms: u64) -> EntryInfo {
        EntryInfo {
            stale: self.is_expired(now_ms),
            size: self.size,
            created_ms: self.created_ms,
            last_access_ms: self.last_access_ms,
            access_count: self.access_count,
            ttl_remaining: self
                .expires_ms
                .map(|at| Duration::from_millis(at.saturating_sub(now_ms))),
            tier,
        }
    }
}

/// One key's answer from a tier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Hit(Entry),
    /// Not here; a lower tier may have it.
    Miss,
    /// The source of truth says this does not exist, and why (with a suggestion when one fits).
    Absent(String),
}

impl From<Option<Entry>> for Lookup {
    fn from(entry: Option<Entry>) -> Lookup {
        entry.map_or(Lookup::Miss, Lookup::Hit)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub value: Bytes,
    pub meta: EntryMeta,
}

impl Entry {
    pub fn new(value: Bytes, now_ms: u64, expires_ms: Option<u64>) -> Entry {
        let size = value.len() as u64;
        Entry {
            value,
            meta: EntryMeta {
                created_ms: now_ms,
                last_access_ms: now_ms,
                access_count: 0,
                expires_ms,
                size,
            },
        }
    }
}

pub trait Tier: Send + Sync + 'static {
    fn name(&self) -> TierName;
    /// Whether a write stored here survives a restart (what `Ack::Stored` promises).
    fn persistent(&self) -> bool {
        false
    }
    /// Counts as an access; one answer per key, in order.
    fn get_many(&self, keys: Vec<Key>) -> TierFuture<Vec<Lookup>>;
    /// All or nothing.
    fn put_many(&self, entries: Vec<(Key, Entry)>) -> TierFuture<()>;
    fn delete_many(&self, keys: Vec<Key>) -> TierFuture<u64>;
    /// Entry metadata without counting an access. A tier that keeps stale copies returns
    /// them too; the caller compares `expires_ms` with the time.
    fn peek(&self, key: Key) -> TierFuture<Option<EntryMeta>>;
    fn touch(&self, key: Key, expires_ms: Option<u64>) -> TierFuture<bool>;
    fn keys(&self, glob: Glob) -> TierFuture<Vec<Key>>;
    fn clear(&self) -> TierFuture<u64>;
    fn stats(&self) -> TierFuture<TierStats>;
    /// A liveness round trip through the tier's mailbox.
    fn ping(&self) -> TierFuture<()>;
}

/// Wall-clock milliseconds since the Unix epoch: what timestamps on entries are measured in,
/// because they outlive the process (L2).
pub fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
