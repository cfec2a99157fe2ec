//! The public face of L3. GitHub is read-only to the cache: writes, deletes and key listings
//! are no-ops here, answered at once.

use std::time::Duration;

use futures::FutureExt;

use super::actor::ToGithub;
use crate::glob::Glob;
use crate::key::Key;
use crate::protocol::{TierName, TierStats};
use crate::supervisor::Slot;
use crate::tier::{Entry, EntryMeta, Lookup, Tier, TierFuture};

#[derive(Clone)]
pub struct GithubHandle {
    slot: Slot<ToGithub>,
    timeout: Duration,
}

impl GithubHandle {
    pub(crate) fn new(slot: Slot<ToGithub>, timeout: Duration) -> GithubHandle {
        GithubHandle { slot, timeout }
    }
}

fn done<T: Send + 'static>(value: T) -> TierFuture<T> {
    async move { Ok(value) }.boxed()
}

impl Tier for GithubHandle {
    fn name(&self) -> TierName {
        TierName::Github
    }

    fn get_many(&self, keys: Vec<Key>) -> TierFuture<Vec<Lookup>> {
        let slot = self.slot.clone();
        let timeout = self.timeout;
        async move {
            slot.call(|reply| ToGithub::GetMany(keys, reply), timeout)
                .await
                .map_err(|e| e.for_tier(TierName::Github))?
        }
        .boxed()
    }

    fn put_many(&self, _: Vec<(Key, Entry)>) -> TierFuture<()> {
        done(())
    }

    fn delete_many(&self, _: Vec<Key>) -> TierFuture<u64> {
        done(0)
    }

    fn peek(&self, _: Key) -> TierFuture<Option<EntryMeta>> {
        done(None)
    }

    fn touch(&self, _: Key, _: Option<u64>) -> TierFuture<bool> {
        done(false)
    }

    fn keys(&self, _: Glob) -> TierFuture<Vec<Key>> {
        done(Vec::new())
    }

    fn clear(&self) -> TierFuture<u64> {
        done(0)
    }

    fn stats(&self) -> TierFuture<TierStats> {
        let slot = self.slot.clone();
        let timeout = self.timeout;
        async move {
            slot.call(ToGithub::Stats, timeout)
                .await
                .map_err(|e| e.for_tier(TierName::Github))
        }
        .boxed()
    }

    fn ping(&self) -> TierFuture<()> {
        let slot = self.slot.clone();
        let timeout = self.timeout;
        async move {
            slot.call(ToGithub::Ping, timeout)
                .await
                .map_err(|e| e.for_tier(TierName::Github))?
        }
        .boxed()
    }
}
