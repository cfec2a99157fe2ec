//! The MemoryTier actor: owns the L1 [`MemoryCache`]. It creates the map, and makes every
//! write, removal, sweep and budget change; handles read it directly through the [`Store`]
//! with one short lock, so a get costs no mailbox round trip (BENCHMARKS.md has the numbers
//! that led here). Every handler is a few microseconds of map work, so nothing is offloaded.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::task::JoinHandle;

use super::cache::{MemoryCache, Policy};
use crate::glob::Glob;
use crate::key::Key;
use crate::protocol::{TierName, TierStats};
use crate::tier::{Entry, EntryMeta, Reply, TierError, unix_ms};

/// L1's map, shared by the MemoryTier actor and its handles. `None` while no MemoryTier runs,
/// and unreadable (poisoned) if a handler panicked while holding it, until the restarted actor
/// installs a fresh map.
#[derive(Clone, Default)]
pub struct Store(Arc<Mutex<Option<MemoryCache>>>);

impl Store {
    /// Runs `f` on the map; `None` when there is no usable map.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut MemoryCache) -> T) -> Option<T> {
        self.0.lock().ok()?.as_mut().map(f)
    }

    fn install(&self, cache: Option<MemoryCache>) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = cache;
        self.0.clear_poison();
    }
}

pub enum ToMemory {
    PutMany(Vec<(Key, Entry)>, Reply<()>),
    DeleteMany(Vec<Key>, Reply<u64>),
    Peek(Key, Reply<Option<EntryMeta>>),
    Touch(Key, Option<u64>, Reply<bool>),
    Keys(Glob, Reply<Vec<Key>>),
    Clear(Reply<u64>),
    Stats(Reply<TierStats>),
    Ping(Reply<()>),
    /// Timer: drop expired entries.
    Sweep,
    /// Config reload.
    Reconfigure {
        budget: u64,
    },
    /// Test hook: a handler panic, to exercise supervision.
    #[cfg(test)]
    Panic,
}

pub struct MemoryTier;

pub struct MemoryArgs {
    pub budget: u64,
    pub sweep_interval: Duration,
    pub store: Store,
}

pub struct MemoryState {
    store: Store,
    sweeper: JoinHandle<()>,
}

impl Actor for MemoryTier {
    type Msg = ToMemory;
    type State = MemoryState;
    type Arguments = MemoryArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<ToMemory>,
        args: MemoryArgs,
    ) -> Result<MemoryState, ActorProcessingErr> {
        let sweeper = myself.send_interval(args.sweep_interval, || ToMemory::Sweep);
        // A restart after a panic starts empty: the old map may be half-changed.
        args.store
            .install(Some(MemoryCache::new(args.budget, Policy::Sieve)));
        Ok(MemoryState {
            store: args.store,
            sweeper,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ToMemory>,
        state: &mut MemoryState,
    ) -> Result<(), ActorProcessingErr> {
        state.sweeper.abort();
        state.store.install(None);
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<ToMemory>,
        message: ToMemory,
        state: &mut MemoryState,
    ) -> Result<(), ActorProcessingErr> {
        let store = state.store.clone();
        store
            .with(|cache| apply(cache, message))
            .ok_or_else(|| ActorProcessingErr::from("the L1 map is gone"))
    }
}

fn apply(cache: &mut MemoryCache, message: ToMemory) {
    let now = unix_ms();
    // A dropped reply port means the caller gave up; that is not the actor's failure.
    match message {
        ToMemory::PutMany(entries, reply) => {
            let _ = reply.send(put_all(cache, entries));
        }
        ToMemory::DeleteMany(keys, reply) => {
            let removed = keys.iter().filter(|k| cache.remove(k)).count();
            let _ = reply.send(Ok(removed as u64));
        }
        ToMemory::Peek(key, reply) => {
            let _ = reply.send(Ok(cache.peek(&key, now)));
        }
        ToMemory::Touch(key, expires_ms, reply) => {
            let _ = reply.send(Ok(cache.touch(&key, expires_ms, now)));
        }
        ToMemory::Keys(glob, reply) => {
            let _ = reply.send(Ok(cache.keys(&glob, now)));
        }
        ToMemory::Clear(reply) => {
            let _ = reply.send(Ok(cache.clear()));
        }
        ToMemory::Stats(reply) => {
            let counters = cache.counters();
            let _ = reply.send(Ok(TierStats {
                entries: cache.len() as u64,
                bytes: cache.bytes(),
                capacity_bytes: cache.budget(),
                hits: counters.hits,
                misses: counters.misses,
                evictions: counters.evictions,
                expirations: counters.expirations,
                ..TierStats::empty(TierName::Memory, "up")
            }));
        }
        ToMemory::Ping(reply) => {
            let _ = reply.send(Ok(()));
        }
        ToMemory::Sweep => {
            let swept = cache.sweep(now);
            if swept > 0 {
                tracing::debug!(swept, "L1 dropped expired entries");
            }
        }
        ToMemory::Reconfigure { budget } => {
            let evicted = cache.set_budget(budget);
            tracing::info!(budget, evicted, "L1 budget changed");
        }
        #[cfg(test)]
        // While holding the map's lock, the worst place: the lock is poisoned, readers
        // get `Unavailable`, and the restarted actor installs a fresh map.
        ToMemory::Panic => panic!("injected panic in MemoryTier"),
    }
}

/// All or nothing: a batch that could not fit as a whole is refused before anything is written.
fn put_all(cache: &mut MemoryCache, entries: Vec<(Key, Entry)>) -> Result<(), TierError> {
    let total: u64 = entries
        .iter()
        .map(|(k, e)| k.as_str().len() as u64 + e.value.len() as u64 + super::cache::ENTRY_OVERHEAD)
        .sum();
    if total > cache.budget() {
        return Err(TierError::TooLarge(format!(
            "{total} bytes cannot fit the L1 budget of {} bytes (l1.max_bytes)",
            cache.budget()
        )));
    }
    for (key, entry) in entries {
        cache
            .insert(key, entry)
            .map_err(|e| TierError::TooLarge(e.to_string()))?;
    }
    Ok(())
}
