//! The contracts the router walks. Every cache tier (L1 memory, L2 database) answers the same
//! few operations through a handle ([`Tier`]); the router holds them in order as
//! `Arc<dyn Tier>`, so adding one is a change of the list, not of the walk. The source of
//! truth (L3 GitHub) is an [`Origin`]: it is only ever read, and told what copy the cache
//! already has so that an unchanged value costs no download.
//!
//! A miss, an unavailable tier or a timeout are normal answers (`Lookup::Miss`, `TierError`):
//! only a broken actor panics or returns `Err` from a handler.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;

use crate::glob::Glob;
use crate::key::Key;
use crate::protocol::{EntryInfo, StaleReason, TierName, TierStats};

pub type TierFuture<T> = BoxFuture<'static, Result<T, TierError>>;

/// Where a tier actor sends the answer to one of its messages.
pub type Reply<T> = ractor::RpcReplyPort<Result<T, TierError>>;

/// How often an origin's task looks whether its asker is still there.
const ABANDON_POLL: std::time::Duration = std::time::Duration::from_millis(50);

/// Runs an origin's `work` and answers with it, unless the asker goes away first (a
/// cancelled prefetch, a deadline passed): then the work is dropped, and its HTTP requests
/// with it, instead of running on for nobody.
pub async fn answer_unless_abandoned<T>(
    reply: Reply<T>,
    work: impl Future<Output = Result<T, TierError>>,
) {
    let abandoned = async {
        loop {
            tokio::time::sleep(ABANDON_POLL).await;
            if reply.is_closed() {
                return;
            }
        }
    };
    let answer = tokio::select! {
        answer = work => Some(answer),
        () = abandoned => None,
    };
    if let Some(answer) = answer {
        let _ = reply.send(answer);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    #[error("{tier} is unavailable: {reason}")]
    Unavailable { tier: &'static str, reason: String },
    #[error("{tier} did not answer within {after:?}")]
    Timeout { tier: &'static str, after: Duration },
    #[error("value too large: {0}")]
    TooLarge(String),
    /// GitHub's quota is spent (or the background reserve reached): no call before then.
    #[error("{} rate limit reached; retrying in {}", origin.upstream(), whole_seconds(*retry_in))]
    RateLimited {
        origin: TierName,
        retry_in: Duration,
    },
    /// The circuit breaker is open after repeated upstream failures.
    #[error("{} unavailable, retrying in {}", origin.upstream(), whole_seconds(*retry_in))]
    BreakerOpen {
        origin: TierName,
        retry_in: Duration,
    },
    /// GitHub answered, but with something unusable (bad JSON, a truncated index, ...).
    #[error("GitHub's answer was unusable: {0}")]
    BadUpstream(String),
    /// The write-behind queue stayed full for as long as a write may wait.
    #[error("the write-behind queue is full ({0} entries); retry later")]
    QueueFull(u64),
}

impl TierError {
    /// Whether this says the tier itself is failing: what a circuit breaker counts. A rate
    /// limit, a not-found or an unusable answer are not failures of GitHub (DESIGN.md).
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            TierError::Unavailable { .. } | TierError::Timeout { .. }
        )
    }
}

fn whole_seconds(d: Duration) -> String {
    format!("{} s", d.as_secs() + u64::from(d.subsec_nanos() > 0))
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

    /// As a client sees it; `stale` says why an expired copy is the answer.
    pub fn info(&self, tier: TierName, now_ms: u64, stale: Option<StaleReason>) -> EntryInfo {
        EntryInfo {
            stale: stale.filter(|_| self.is_expired(now_ms)),
            age: Duration::from_millis(now_ms.saturating_sub(self.created_ms)),
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
    /// The source of truth could not be asked about this key, and why.
    Failed(TierError),
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
    /// What names the upstream content this value was made from; empty for plain entries.
    pub validator: Validator,
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
            validator: Validator::default(),
        }
    }

    pub fn with_validator(mut self, validator: Validator) -> Entry {
        self.validator = validator;
        self
    }
}

/// How an upstream value is revalidated without downloading it again. Both parts are opaque
/// to every tier but L3, which makes them and stores them with the value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validator {
    /// The blob shas of the files the value was made from (or the tree's sha, for values made
    /// from the listing alone): a sha names content forever.
    pub sha: Option<Arc<str>>,
    /// The HTTP ETag of a single-file value, tagged with the token that fetched it: ETags are
    /// tied to the token (DESIGN.md).
    pub etag: Option<Arc<str>>,
}

/// Whether a client is waiting for a fetch, or it is a refresh nobody waits for (those give
/// way when GitHub's quota runs low).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    Waiting,
    Background,
}

/// The source of truth (L3). Each wanted key comes with the stale copy the cache holds, if
/// any, so that an unchanged value is confirmed (`Hit` with that copy's value and a new
/// expiry) instead of downloaded.
pub trait Origin: Send + Sync + 'static {
    fn name(&self) -> TierName;
    /// One answer per key, in order.
    fn fetch(&self, wanted: Vec<(Key, Option<Entry>)>, urgency: Urgency)
    -> TierFuture<Vec<Lookup>>;
    /// Whether the origin has anything to say about this key; plain cache keys have no
    /// upstream and are never sent.
    fn serves(&self, key: &Key) -> bool;
    /// Whether the key is the origin's live state (GitHub's quota): asked every time, never
    /// cached, never held back by the breaker.
    fn live(&self, _key: &Key) -> bool {
        false
    }
    fn stats(&self) -> TierFuture<TierStats>;
}

pub trait Tier: Send + Sync + 'static {
    fn name(&self) -> TierName;
    /// Whether a write stored here survives a restart (what `Ack::Stored` promises).
    fn persistent(&self) -> bool {
        false
    }
    /// Whether other daemons share this tier (a team's PostgreSQL L2).
    fn shared(&self) -> bool {
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
    /// Refresh-ahead's candidates: entries not yet expired that expire by `before_ms` and
    /// were read at least `min_reads` times since they were stored, most read first, at most
    /// `limit`. Not an access. A tier that keeps no access counts has none.
    fn expiring(
        &self,
        _before_ms: u64,
        _min_reads: u64,
        _limit: usize,
    ) -> TierFuture<Vec<(Key, Entry)>> {
        Box::pin(async { Ok(Vec::new()) })
    }
    fn stats(&self) -> TierFuture<TierStats>;
    /// A liveness round trip through the tier's mailbox.
    fn ping(&self) -> TierFuture<()>;
}

/// Wall-clock milliseconds since the Unix epoch, as the daemon's [`crate::clock`] reads it:
/// what timestamps on entries are measured in, because they outlive the process (L2).
pub use crate::clock::unix_ms;
