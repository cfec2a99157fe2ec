//! The queue as a [`Tier`] between L1 and L2: reads see queued writes, deletes and clears drop
//! them, and a put queues (waiting for room when full). The router writes here instead of
//! L2 for kinds whose strategy is write-behind.

use std::time::Duration;

use crate::tier::Reply;
use futures::FutureExt;

use super::actor::ToWriteBehind;
use crate::glob::Glob;
use crate::key::Key;
use crate::protocol::{TierName, TierStats, WriteBehindStats};
use crate::slot::Slot;
use crate::tier::{Entry, EntryMeta, Lookup, Tier, TierFuture};

#[derive(Clone)]
pub struct WriteBehindHandle {
    slot: Slot<ToWriteBehind>,
    timeout: Duration,
    /// A put may wait this long for room before the queue refuses it.
    full_wait: Duration,
}

impl WriteBehindHandle {
    pub(crate) fn new(
        slot: Slot<ToWriteBehind>,
        timeout: Duration,
        full_wait: Duration,
    ) -> WriteBehindHandle {
        WriteBehindHandle {
            slot,
            timeout,
            full_wait,
        }
    }

    fn ask<T: Send + 'static>(
        &self,
        build: impl FnOnce(Reply<T>) -> ToWriteBehind + Send + 'static,
        timeout: Duration,
    ) -> TierFuture<T> {
        self.slot.ask(build, timeout, TierName::Queue)
    }

    pub fn queue_stats(&self) -> TierFuture<WriteBehindStats> {
        self.ask(ToWriteBehind::Stats, self.timeout)
    }

    /// Flushes everything; resolves when the queue is empty.
    pub fn drain(&self, within: Duration) -> TierFuture<()> {
        self.ask(ToWriteBehind::Drain, within)
    }
}

impl Tier for WriteBehindHandle {
    fn name(&self) -> TierName {
        TierName::Queue
    }

    fn get_many(&self, keys: Vec<Key>) -> TierFuture<Vec<Lookup>> {
        let found = self.ask(|reply| ToWriteBehind::Get(keys, reply), self.timeout);
        async move { Ok(found.await?.into_iter().map(Lookup::from).collect()) }.boxed()
    }

    fn put_many(&self, entries: Vec<(Key, Entry)>) -> TierFuture<()> {
        self.ask(
            |reply| ToWriteBehind::Enqueue(entries, reply),
            self.full_wait + self.timeout,
        )
    }

    fn delete_many(&self, keys: Vec<Key>) -> TierFuture<u64> {
        self.ask(|reply| ToWriteBehind::Forget(keys, reply), self.timeout)
    }

    fn peek(&self, key: Key) -> TierFuture<Option<EntryMeta>> {
        self.ask(|reply| ToWriteBehind::Peek(key, reply), self.timeout)
    }

    fn touch(&self, key: Key, expires_ms: Option<u64>) -> TierFuture<bool> {
        self.ask(
            move |reply| ToWriteBehind::Touch(key, expires_ms, reply),
            self.timeout,
        )
    }

    fn keys(&self, glob: Glob) -> TierFuture<Vec<Key>> {
        self.ask(|reply| ToWriteBehind::Keys(glob, reply), self.timeout)
    }

    fn clear(&self) -> TierFuture<u64> {
        self.ask(ToWriteBehind::Clear, self.timeout)
    }

    fn stats(&self) -> TierFuture<TierStats> {
        let stats = self.queue_stats();
        async move {
            let q = stats.await?;
            Ok(TierStats {
                entries: q.depth,
                capacity_bytes: 0,
                errors: q.failed_flushes,
                ..TierStats::empty(TierName::Queue, "up")
            })
        }
        .boxed()
    }

    fn ping(&self) -> TierFuture<()> {
        let stats = self.queue_stats();
        async move { stats.await.map(|_| ()) }.boxed()
    }
}
