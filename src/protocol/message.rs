//! What travels on the socket: the handshake, requests and responses. Plain data with serde,
//! no behaviour. Keys travel as strings and are validated by the dispatcher, so a bad key gets
//! an `InvalidKey` answer naming it instead of an undecodable frame.
//!
//! Changing any type here changes the wire format: bump [`PROTOCOL_VERSION`].

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::names::{StaleReason, TierName};
use super::stats::{RegistryInfo, Stats};

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
