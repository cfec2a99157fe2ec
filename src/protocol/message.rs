//! What travels on the socket: the handshake, requests and responses. Plain data with serde,
//! no behaviour. Keys travel as strings and are validated by the dispatcher, so a bad key gets
//! an `InvalidKey` answer naming it instead of an undecodable frame.
//!
//! Changing any type here changes the wire format: bump [`PROTOCOL_VERSION`].

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

pub const PROTOCOL_VERSION: u32 = 1;
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
    Clear,
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
    Stats(Stats),
    /// Response to `Request::Migrate`: every known migration and whether it is applied.
    Migrations(Vec<MigrationInfo>),
    /// Response to `Request::Maintenance`.
    Maintenance(MaintenanceReport),
    /// Response to any request that failed.
    Error(WireError),
}

/// How durable an acknowledged write is (DESIGN.md, "Acknowledged").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TierName {
    Memory,
    Database,
    Github,
}

impl TierName {
    pub fn label(self) -> &'static str {
        match self {
            TierName::Memory => "L1 memory",
            TierName::Database => "L2 database",
            TierName::Github => "L3 github",
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
    /// Past its TTL: served because nothing fresher could be had.
    pub stale: bool,
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
    /// Keys answered with an expired copy because nothing fresher could be had.
    pub stale_answers: u64,
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
}
