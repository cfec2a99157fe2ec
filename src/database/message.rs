//! What the DatabaseTier actor is told: the tier contract's operations, the operator commands,
//! and what its own tasks and timers report back. Its own file so that the query tasks depend
//! on it and not on the actor.

use std::sync::Arc;

use ractor::RpcReplyPort;

use super::db::Db;
use super::error::L2Error;
use super::migrate::{MigrateAction, MigrationInfo};
use super::report::MaintenanceReport;
use crate::glob::Glob;
use crate::key::Key;
use crate::protocol::TierStats;
use crate::tier::{Entry, EntryMeta, Reply};

/// A write held while the database opens, with the port its answer goes to.
pub(super) type WaitingWrite = (Vec<(Key, Entry)>, Reply<()>);
/// An operator command's answer: its own errors, for the wire's codes.
type CommandReply<T> = RpcReplyPort<Result<T, L2Error>>;

pub enum ToDatabase {
    GetMany(Vec<Key>, Reply<Vec<Option<Entry>>>),
    PutMany(Vec<(Key, Entry)>, Reply<()>),
    DeleteMany(Vec<Key>, Reply<u64>),
    Peek(Key, Reply<Option<EntryMeta>>),
    Touch(Key, Option<u64>, Reply<bool>),
    Keys(Glob, Reply<Vec<Key>>),
    /// Refresh-ahead's candidates: `(before_ms, min_reads, limit)`.
    Expiring(u64, u64, usize, Reply<Vec<(Key, Entry)>>),
    Clear(Reply<u64>),
    Stats(Reply<TierStats>),
    Ping(Reply<()>),
    Migrate(MigrateAction, CommandReply<Vec<MigrationInfo>>),
    Maintenance(CommandReply<MaintenanceReport>),
    /// From the opening task.
    Opened(u64, Result<Arc<Db>, L2Error>),
    /// From the connection task: the database went away.
    ConnectionLost(u64, String),
    /// Timers.
    Reopen,
    ExpireWaiting,
    FlushAccess,
    MaintenanceTick,
    SyncTick,
    /// From query tasks: keys read (for access tracking) and outcomes (for stats).
    Accessed {
        keys: Vec<Key>,
        at: u64,
        misses: u64,
    },
    QueryFailed,
    #[cfg(test)]
    Panic,
}
