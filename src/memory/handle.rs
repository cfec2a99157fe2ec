//! The public face of L1: a cheap, clonable handle implementing the [`Tier`] contract.

use std::time::Duration;

use futures::FutureExt;

use super::actor::{Store, ToMemory};
use crate::glob::Glob;
use crate::key::Key;
use crate::protocol::{TierName, TierStats};
use crate::slot::Slot;
use crate::tier::{Entry, EntryMeta, Lookup, Reply, Tier, TierError, TierFuture, unix_ms};

#[derive(Clone)]
pub struct MemoryHandle {
    slot: Slot<ToMemory>,
    store: Store,
    timeout: Duration,
}

impl MemoryHandle {
    pub(crate) fn new(slot: Slot<ToMemory>, store: Store, timeout: Duration) -> MemoryHandle {
        MemoryHandle {
            slot,
            store,
            timeout,
        }
    }

    /// Reads in the caller's task: one short lock, no message. A read counts as an access
    /// (SIEVE's visited bit, the entry's access count), as it would through the actor.
    pub fn get_now(&self, keys: &[Key]) -> Result<Vec<Lookup>, TierError> {
        let now = unix_ms();
        self.store
            .with(|cache| {
                keys.iter()
                    .map(|key| Lookup::from(cache.get(key, now)))
                    .collect()
            })
            .ok_or_else(|| TierError::Unavailable {
                tier: "memory tier",
                reason: "not running (restarting?)".into(),
            })
    }

    #[cfg(test)]
    pub(crate) fn inject_panic(&self) {
        let _ = self.slot.cast(ToMemory::Panic);
    }

    fn ask<T: Send + 'static>(
        &self,
        build: impl FnOnce(Reply<T>) -> ToMemory + Send + 'static,
    ) -> TierFuture<T> {
        self.slot.ask(build, self.timeout, TierName::Memory)
    }
}

impl Tier for MemoryHandle {
    fn name(&self) -> TierName {
        TierName::Memory
    }

    fn get_many(&self, keys: Vec<Key>) -> TierFuture<Vec<Lookup>> {
        futures::future::ready(self.get_now(&keys)).boxed()
    }

    fn put_many(&self, entries: Vec<(Key, Entry)>) -> TierFuture<()> {
        self.ask(|reply| ToMemory::PutMany(entries, reply))
    }

    fn delete_many(&self, keys: Vec<Key>) -> TierFuture<u64> {
        self.ask(|reply| ToMemory::DeleteMany(keys, reply))
    }

    fn peek(&self, key: Key) -> TierFuture<Option<EntryMeta>> {
        self.ask(|reply| ToMemory::Peek(key, reply))
    }

    fn touch(&self, key: Key, expires_ms: Option<u64>) -> TierFuture<bool> {
        self.ask(move |reply| ToMemory::Touch(key, expires_ms, reply))
    }

    fn keys(&self, glob: Glob) -> TierFuture<Vec<Key>> {
        self.ask(|reply| ToMemory::Keys(glob, reply))
    }

    fn expiring(
        &self,
        before_ms: u64,
        min_reads: u64,
        limit: usize,
    ) -> TierFuture<Vec<(Key, Entry)>> {
        let now = unix_ms();
        let found = self
            .store
            .with(|cache| cache.expiring(now, before_ms, min_reads, limit));
        Box::pin(async move {
            found.ok_or_else(|| TierError::Unavailable {
                tier: "memory tier",
                reason: "not running (restarting?)".into(),
            })
        })
    }

    fn clear(&self) -> TierFuture<u64> {
        self.ask(ToMemory::Clear)
    }

    fn stats(&self) -> TierFuture<TierStats> {
        self.ask(ToMemory::Stats)
    }

    fn ping(&self) -> TierFuture<()> {
        self.ask(ToMemory::Ping)
    }
}
