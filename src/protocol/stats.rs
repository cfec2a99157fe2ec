//! What `stats` answers (`Response::Stats`), and what `/metrics` exports: the daemon's
//! counters, each tier's, the router's, the write-behind queue's and the registries'. Part of
//! the wire format like every type of `message.rs`: bump its `PROTOCOL_VERSION` on a change.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::names::{StaleReason, TierName};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub daemon_version: String,
    pub pid: u32,
    pub uptime: Duration,
    pub connections_open: u64,
    pub connections_total: u64,
    pub connections_refused: u64,
    pub requests: u64,
    pub request_errors: u64,
    /// Child actor restarts since start, by actor name.
    pub restarts: Vec<(String, u64)>,
    pub router: RouterStats,
    pub tiers: Vec<TierStats>,
    /// `None` when no kind is configured write-behind.
    pub write_behind: Option<WriteBehindStats>,
    /// The registry listener and origin, per registry; empty when `registry.enabled` is off.
    pub registries: Vec<RegistryStats>,
}

/// One registry of the shadcn registry protocol, as the listener served it and the origin
/// fetched it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegistryStats {
    /// `shadcn`, `svelte`, `vue`, or `@namespace`.
    pub registry: String,
    /// Requests the listener answered for it, by what it answered.
    pub requests: u64,
    pub answered_by: Vec<(TierName, u64)>,
    pub not_modified: u64,
    pub not_found: u64,
    pub errors: u64,
    /// Bodies the origin downloaded, 304s that confirmed a cached copy, upstream 404s, failures.
    pub fetched: u64,
    pub unchanged: u64,
    pub not_found_upstream: u64,
    pub fetch_errors: u64,
}

/// Where the daemon serves the registry protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryInfo {
    /// `http://127.0.0.1:PORT/<secret>`: a source's URL is this, `/`, and its name. `None`
    /// when the listener is off (`registry.enabled = false`) or could not bind.
    pub base_url: Option<String>,
    /// Why there is no listener, when there is none.
    pub problem: Option<String>,
    /// The namespaces configured in `registry.namespaces`, with their `@`, and whether
    /// their URL takes a `{style}`.
    pub namespaces: Vec<(String, bool)>,
    /// Whether the shadcn directory's namespaces are served too.
    pub directory: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RouterStats {
    pub commands: u64,
    pub errors: u64,
    /// Keys answered, by the tier that had them.
    pub answered_by: Vec<(TierName, u64)>,
    /// Keys no tier had.
    pub misses: u64,
    /// Entries copied into an upper tier after a lower tier answered.
    pub promotions: u64,
    /// Keys answered with an expired copy, by why.
    pub stale_answers: Vec<(StaleReason, u64)>,
    /// Keys fetched from the origin, by a client waiting or in the background.
    pub fetched: u64,
    pub refreshed: u64,
    /// Keys fetched ahead: named by a value fetched (dependency prefetch), and hot keys
    /// revalidated before they expired (refresh-ahead).
    pub prefetched: u64,
    pub refreshed_ahead: u64,
    /// Fetches that joined one already in flight for the same key instead of asking again.
    pub coalesced: u64,
    /// Read latency by tier, as the router timed each tier's answers.
    pub latency: Vec<(TierName, Percentiles)>,
    /// The same samples in the buckets of [`LATENCY_BOUNDS_US`], for `/metrics`.
    pub histograms: Vec<(TierName, Histogram)>,
    /// Each origin's circuit breaker.
    pub breakers: Vec<(TierName, BreakerStats)>,
}

/// Upper bounds (µs) of the latency buckets `/metrics` exports; a last bucket holds the rest.
pub const LATENCY_BOUNDS_US: [u64; 16] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 10_000_000,
];

/// Latency samples counted in buckets: `counts[i]` fell in `(LATENCY_BOUNDS_US[i - 1],
/// LATENCY_BOUNDS_US[i]]`, the last one above every bound.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Histogram {
    pub counts: Vec<u64>,
    /// The samples' sum, in µs.
    pub sum_us: u64,
}

/// A latency histogram summarised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub max: Duration,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum BreakerState {
    #[default]
    Closed,
    /// No calls to the origin until the cool-down ends.
    Open { retry_in: Duration },
    /// A bounded number of probes may go; their outcome closes or reopens it.
    HalfOpen,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BreakerStats {
    pub state: BreakerState,
    /// Every change of state since start.
    pub transitions: u64,
    pub opened: u64,
    /// Origin answers in the current window, and how many of them were failures.
    pub window_calls: u64,
    pub window_failures: u64,
    /// Fetches answered "unavailable" without calling the origin.
    pub rejected: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WriteBehindStats {
    pub depth: u64,
    pub capacity: u64,
    pub enqueued: u64,
    /// Writes that replaced a queued write to the same key.
    pub coalesced: u64,
    pub flushed: u64,
    pub flushes: u64,
    pub failed_flushes: u64,
    /// Writes that had to wait for room (backpressure), and those refused after waiting.
    pub waited: u64,
    pub refused: u64,
    pub flush_latency: Percentiles,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierStats {
    pub tier: TierName,
    /// `up`, `down`, `opening`, or a reason it is unavailable.
    pub state: String,
    pub entries: u64,
    pub bytes: u64,
    pub capacity_bytes: u64,
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub expirations: u64,
    pub errors: u64,
    /// Stale copies confirmed current upstream (same blob sha, or a 304): nothing downloaded.
    pub revalidated: u64,
    /// Rows and bytes by key kind (persistent tiers).
    pub kinds: Vec<KindStats>,
    /// Creation times of the oldest and newest entries, Unix ms.
    pub oldest_ms: Option<u64>,
    pub newest_ms: Option<u64>,
    /// An origin's calls left in its rate-limit window, and the window's size, when known
    /// (GitHub's `x-ratelimit-*`).
    pub quota: Option<(u64, u64)>,
}

impl TierStats {
    pub fn empty(tier: TierName, state: impl Into<String>) -> TierStats {
        TierStats {
            tier,
            state: state.into(),
            entries: 0,
            bytes: 0,
            capacity_bytes: 0,
            hits: 0,
            misses: 0,
            evictions: 0,
            expirations: 0,
            errors: 0,
            revalidated: 0,
            kinds: Vec::new(),
            oldest_ms: None,
            newest_ms: None,
            quota: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindStats {
    pub kind: String,
    pub rows: u64,
    pub bytes: u64,
}
