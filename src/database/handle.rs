//! The public face of L2: the [`Tier`] contract plus migrations and maintenance.

use std::time::Duration;

use futures::FutureExt;

use super::error::L2Error;
use super::message::ToDatabase;
use super::migrate::{MigrateAction, MigrationInfo};
use super::report::MaintenanceReport;
use crate::glob::Glob;
use crate::key::Key;
use crate::protocol::{TierName, TierStats};
use crate::slot::{CallError, Slot};
use crate::tier::{Entry, EntryMeta, Lookup, Reply, Tier, TierFuture};

#[derive(Clone)]
pub struct DatabaseHandle {
    slot: Slot<ToDatabase>,
    timeout: Duration,
    /// On a PostgreSQL server other daemons share.
    shared: bool,
}

impl DatabaseHandle {
    pub(crate) fn new(slot: Slot<ToDatabase>, timeout: Duration, shared: bool) -> DatabaseHandle {
        DatabaseHandle {
            slot,
            timeout,
            shared,
        }
    }

    fn ask<T: Send + 'static>(
        &self,
        build: impl FnOnce(Reply<T>) -> ToDatabase + Send + 'static,
    ) -> TierFuture<T> {
        self.slot.ask(build, self.timeout, TierName::Database)
    }

    pub async fn migrate(&self, action: MigrateAction) -> Result<Vec<MigrationInfo>, L2Error> {
        self.slot
            .call(|reply| ToDatabase::Migrate(action, reply), self.timeout)
            .await
            .map_err(not_answered)?
    }

    pub async fn maintenance(&self) -> Result<MaintenanceReport, L2Error> {
        self.slot
            .call(ToDatabase::Maintenance, self.timeout)
            .await
            .map_err(not_answered)?
    }

    #[cfg(test)]
    pub(crate) fn inject_panic(&self) {
        let _ = self.slot.cast(ToDatabase::Panic);
    }
}

impl Tier for DatabaseHandle {
    fn name(&self) -> TierName {
        TierName::Database
    }

    fn persistent(&self) -> bool {
        true
    }

    fn shared(&self) -> bool {
        self.shared
    }

    fn get_many(&self, keys: Vec<Key>) -> TierFuture<Vec<Lookup>> {
        let found = self.ask(|reply| ToDatabase::GetMany(keys, reply));
        async move { Ok(found.await?.into_iter().map(Lookup::from).collect()) }.boxed()
    }

    fn put_many(&self, entries: Vec<(Key, Entry)>) -> TierFuture<()> {
        self.ask(|reply| ToDatabase::PutMany(entries, reply))
    }

    fn delete_many(&self, keys: Vec<Key>) -> TierFuture<u64> {
        self.ask(|reply| ToDatabase::DeleteMany(keys, reply))
    }

    fn peek(&self, key: Key) -> TierFuture<Option<EntryMeta>> {
        self.ask(|reply| ToDatabase::Peek(key, reply))
    }

    fn touch(&self, key: Key, expires_ms: Option<u64>) -> TierFuture<bool> {
        self.ask(move |reply| ToDatabase::Touch(key, expires_ms, reply))
    }

    fn keys(&self, glob: Glob) -> TierFuture<Vec<Key>> {
        self.ask(|reply| ToDatabase::Keys(glob, reply))
    }

    fn clear(&self) -> TierFuture<u64> {
        self.ask(ToDatabase::Clear)
    }

    fn expiring(
        &self,
        before_ms: u64,
        min_reads: u64,
        limit: usize,
    ) -> TierFuture<Vec<(Key, Entry)>> {
        self.ask(move |reply| ToDatabase::Expiring(before_ms, min_reads, limit, reply))
    }

    fn stats(&self) -> TierFuture<TierStats> {
        self.ask(ToDatabase::Stats)
    }

    fn ping(&self) -> TierFuture<()> {
        self.ask(ToDatabase::Ping)
    }
}

/// An operator command the actor did not answer: restarting, or slower than the deadline.
fn not_answered(e: CallError) -> L2Error {
    match e {
        CallError::NotRunning(_) => L2Error::Opening,
        CallError::Timeout(_, after) => L2Error::Busy(after),
    }
}
