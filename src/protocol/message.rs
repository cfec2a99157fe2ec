//! What travels on the socket: the handshake, requests and responses. Plain data with serde,
//! no behaviour. Keys travel as strings and are validated by the dispatcher, so a bad key gets
//! an `InvalidKey` answer naming it instead of an undecodable frame.
//!
//! Changing any type here changes the wire format: bump [`PROTOCOL_VERSION`].

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

pub const PROTOCOL_VERSION: u32 = 5;
pub const MAGIC: [u8; 4] = *b"SHDC";

/// The first frame a client sends. Its layout must never change, so that any two versions
/// can at least tell each other that they differ.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hello {
    pub magic: [u8; 4],
    pub protocol: u32,
    pub client: String,
}

/// The daemon's answer to [`Hello`], sent as `Result<HelloReply, WireError>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelloReply {
    pub protocol: u32,
    pub daemon_version: String,
    pub pid: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Request {
    Ping,
    Get {
        key: String,
    },
    /// `ttl: None` takes the TTL configured for the key's kind.
    Set {
        key: String,
        value: Bytes,
        ttl: Option<Duration>,
    },
    Delete {
        key: String,
    },
    Has {
        key: String,
    },
    /// `pattern: None` lists every key.
    Keys {
        pattern: Option<String>,
    },
    MGet {
        keys: Vec<String>,
    },
    /// All or nothing: every key is validated before any is written.
    MSet {
        entries: Vec<SetEntry>,
    },
    /// Empties the cache. `shared`: also an L2 that a team shares (`l2.backend = postgres`);
    /// without it, a daemon on a shared L2 refuses.
    Clear {
        shared: bool,
    },
    Size,
    Metadata {
        key: String,
    },
    /// Restarts the entry's TTL from now; `ttl: None` takes the kind's TTL.
    RefreshTtl {
        key: String,
        ttl: Option<Duration>,
    },
    Stats,
    /// L2 schema migrations.
    Migrate(MigrateAction),
    /// L2 maintenance now: drop long-stale rows, evict to the size budget.
    Maintenance,
    /// A shadcn domain request (what the MCP tools ask), for `framework` or the daemon's
    /// configured one. Answered `Value` with the tool's text, or `NotFound` with why.
    Shadcn {
        framework: Option<String>,
        query: Query,
    },
    /// Tests only: moves the daemon's clock forward (TTLs, breakers, rate limits) instead of
    /// sleeping. Answered `Pong` by a daemon started with `SHADCACHE_TEST_CLOCK=1`, refused
    /// `InvalidRequest` by any other.
    AdvanceClock(Duration),
    /// Where the registry listener serves (`shadcache registry url|env|components-json`).
    Registry,
}

/// What a domain request asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Query {
    Component {
        name: String,
    },
    Demo {
        name: String,
    },
    Metadata {
        name: String,
    },
    Block {
        name: String,
        include_components: bool,
    },
    ListComponents,
    ListBlocks {
        category: Option<String>,
    },
    /// The registry's directory structure; `path` narrows it, `owner`/`repo`/`branch` must
    /// name the framework's own repository (only those in the framework table are served).
    Structure {
        path: Option<String>,
        owner: Option<String>,
        repo: Option<String>,
        branch: Option<String>,
    },
}

impl Query {
    pub fn name(&self) -> &'static str {
        match self {
            Query::Component { .. } => "component",
            Query::Demo { .. } => "demo",
            Query::Metadata { .. } => "metadata",
            Query::Block { .. } => "block",
            Query::ListComponents => "components",
            Query::ListBlocks { .. } => "blocks",
            Query::Structure { .. } => "structure",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetEntry {
    pub key: String,
    pub value: Bytes,
    pub ttl: Option<Duration>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Response {
    /// Response to `Request::Ping`.
    Pong,
    /// Response to `Request::Get`; `None` is a miss.
    Value(Option<Found>),
    /// Response to `Request::Set` and `Request::MSet`.
    Stored(Ack),
    /// Response to `Request::Delete`: whether the key existed.
    Deleted(bool),
    /// Response to `Request::Has`.
    Has(bool),
    /// Response to `Request::Keys`, sorted.
    Keys(Vec<String>),
    /// Response to `Request::MGet`, one slot per requested key, in order.
    Values(Vec<Option<Found>>),
    /// Response to `Request::Clear`: how many entries were removed.
    Cleared(u64),
    /// Response to `Request::Size`.
    Size { entries: u64, bytes: u64 },
    /// Response to `Request::Metadata`; `None` when the key is not cached.
    Metadata(Option<EntryInfo>),
    /// Response to `Request::RefreshTtl`: whether the key existed.
    Refreshed(bool),
    /// Response to `Request::Stats`.
    Stats(Box<Stats>),
    /// Response to `Request::Migrate`: every known migration and whether it is applied.
    Migrations(Vec<MigrationInfo>),
    /// Response to `Request::Maintenance`.
    Maintenance(MaintenanceReport),
    /// Response to `Request::Registry`.
    Registry(RegistryInfo),
    /// Response to any request that failed.
    Error(WireError),
}

/// How durable an acknowledged write is (DESIGN.md, "Acknowledged"), weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Ack {
    /// Held in memory only: no persistent tier is available. Lost on restart.
    Memory,
    /// Queued for the persistent tier (write-behind); lost only within the stated window.
    Queued,
    /// Durably in the persistent tier.
    Stored,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Found {
    pub value: Bytes,
    pub info: EntryInfo,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TierName {
    Memory,
    Database,
    Github,
    /// The write-behind queue between L1 and L2.
    Queue,
    /// The shadcn registry over HTTP (the second origin).
    Registry,
}

impl TierName {
    pub const fn label(self) -> &'static str {
        match self {
            TierName::Memory => "L1 memory",
            TierName::Database => "L2 database",
            TierName::Github => "L3 github",
            TierName::Queue => "write-behind queue",
            TierName::Registry => "L3 registry",
        }
    }

    /// How messages name an origin's upstream service.
    pub const fn upstream(self) -> &'static str {
        match self {
            TierName::Github => "GitHub",
            TierName::Registry => "the shadcn registry",
            other => other.label(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryInfo {
    /// Bytes of the value.
    pub size: u64,
    /// Unix milliseconds.
    pub created_ms: u64,
    pub last_access_ms: u64,
    pub access_count: u64,
    /// `None`: never expires. Zero once expired.
    pub ttl_remaining: Option<Duration>,
    /// The tier that answered.
    pub tier: TierName,
    /// Time since the value was fetched or stored (or last confirmed current upstream).
    pub age: Duration,
    /// `Some` when past its TTL, with why it was served anyway.
    pub stale: Option<StaleReason>,
}

/// Why an expired copy was the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StaleReason {
    /// Served at once while one background refresh runs (stale-while-revalidate).
    Revalidating,
    /// GitHub failed to answer the refresh (stale-if-error).
    UpstreamFailed,
    /// GitHub's quota is spent; no call before its reset.
    RateLimited,
    /// The circuit breaker is open after repeated GitHub failures.
    BreakerOpen,
    /// Nothing to refresh from: GitHub is off, or the kind's strategy is cache-aside.
    NoUpstream,
    /// Past its TTL, as `metadata` reports it: no read, so no refresh.
    Expired,
}

impl StaleReason {
    pub const ALL: [StaleReason; 6] = [
        StaleReason::Revalidating,
        StaleReason::UpstreamFailed,
        StaleReason::RateLimited,
        StaleReason::BreakerOpen,
        StaleReason::NoUpstream,
        StaleReason::Expired,
    ];

    pub fn label(self) -> &'static str {
        match self {
            StaleReason::Revalidating => "revalidating",
            StaleReason::UpstreamFailed => "upstream failed",
            StaleReason::RateLimited => "rate limited",
            StaleReason::BreakerOpen => "breaker open",
            StaleReason::NoUpstream => "no upstream",
            StaleReason::Expired => "expired",
        }
    }
}

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
    /// Each origin's circuit breaker.
    pub breakers: Vec<(TierName, BreakerStats)>,
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
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KindStats {
    pub kind: String,
    pub rows: u64,
    pub bytes: u64,
}

/// Which way `Request::Migrate` moves the L2 schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MigrateAction {
    Status,
    /// Apply pending migrations; `None` applies all.
    Up(Option<u32>),
    /// Revert the newest N applied migrations.
    Down(u32),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationInfo {
    pub version: i64,
    pub name: String,
    /// Unix ms; `None` while pending.
    pub applied_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceReport {
    /// Rows deleted because they had been expired longer than `l2.stale_limit`.
    pub stale_deleted: u64,
    /// Rows evicted, least recently used first, to get under `l2.max_bytes`.
    pub evicted: u64,
    pub rows: u64,
    pub bytes: u64,
    pub took: Duration,
}

/// A failure as the client sees it: a stable code and a human sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct WireError {
    pub code: ErrorCode,
    pub message: String,
}

impl WireError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> WireError {
        WireError {
            code,
            message: message.into(),
        }
    }
}

/// New codes go at the end: bincode encodes the variant index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ErrorCode {
    InvalidKey,
    InvalidRequest,
    BadFrame,
    FrameTooLarge,
    VersionMismatch,
    TooManyConnections,
    PermissionDenied,
    Timeout,
    Unavailable,
    ValueTooLarge,
    ShuttingDown,
    Internal,
    /// The name does not exist upstream; the message says so, with a suggestion if one fits.
    NotFound,
    /// GitHub's quota is spent; the message says when it resets.
    RateLimited,
    /// The write-behind queue stayed full; retry later.
    Busy,
    /// GitHub answered with something unusable (bad JSON, a file the tree lists but the raw
    /// host does not serve); the message says what.
    BadUpstream,
    /// L2's data dir is held by another process; the message names it.
    Locked,
    /// An L2 schema migration failed and was rolled back; the message names it and the
    /// server's reason.
    MigrationFailed,
    /// The filesystem holding L2's data dir is too full to use it; the message says how full.
    NoSpace,
}
