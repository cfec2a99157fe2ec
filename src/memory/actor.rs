//! The MemoryTier actor: owns the L1 [`MemoryCache`] and is the only code that touches it.
//! Every handler is a few microseconds of map work, so nothing is offloaded.

use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::task::JoinHandle;

use super::cache::{MemoryCache, Policy};
use crate::glob::Glob;
use crate::key::Key;
use crate::protocol::{TierName, TierStats};
use crate::tier::{Entry, EntryMeta, TierError, unix_ms};

pub enum ToMemory {
    GetMany(Vec<Key>, RpcReplyPort<Vec<Option<Entry>>>),
    PutMany(Vec<(Key, Entry)>, RpcReplyPort<Result<(), TierError>>),
    DeleteMany(Vec<Key>, RpcReplyPort<u64>),
    Peek(Key, RpcReplyPort<Option<EntryMeta>>),
    Touch(Key, Option<u64>, RpcReplyPort<bool>),
    Keys(Glob, RpcReplyPort<Vec<Key>>),
    Clear(RpcReplyPort<u64>),
    Stats(RpcReplyPort<TierStats>),
    Ping(RpcReplyPort<()>),
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
}

pub struct MemoryState {
    cache: MemoryCache,
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
        Ok(MemoryState {
            cache: MemoryCache::new(args.budget, Policy::Sieve),
            sweeper,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ToMemory>,
        state: &mut MemoryState,
    ) -> Result<(), ActorProcessingErr> {
        state.sweeper.abort();
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<ToMemory>,
        message: ToMemory,
        state: &mut MemoryState,
    ) -> Result<(), ActorProcessingErr> {
        let cache = &mut state.cache;
        let now = unix_ms();
        // A dropped reply port means the caller gave up; that is not the actor's failure.
        match message {
            ToMemory::GetMany(keys, reply) => {
                let found = keys.iter().map(|k| cache.get(k, now)).collect();
                let _ = reply.send(found);
            }
            ToMemory::PutMany(entries, reply) => {
                let _ = reply.send(put_all(cache, entries));
            }
            ToMemory::DeleteMany(keys, reply) => {
                let removed = keys.iter().filter(|k| cache.remove(k)).count();
                let _ = reply.send(removed as u64);
            }
            ToMemory::Peek(key, reply) => {
                let _ = reply.send(cache.peek(&key, now));
            }
            ToMemory::Touch(key, expires_ms, reply) => {
                let _ = reply.send(cache.touch(&key, expires_ms, now));
            }
            ToMemory::Keys(glob, reply) => {
                let _ = reply.send(cache.keys(&glob, now));
            }
            ToMemory::Clear(reply) => {
                let _ = reply.send(cache.clear());
            }
            ToMemory::Stats(reply) => {
                let counters = cache.counters();
                let _ = reply.send(TierStats {
                    entries: cache.len() as u64,
                    bytes: cache.bytes(),
                    capacity_bytes: cache.budget(),
                    hits: counters.hits,
                    misses: counters.misses,
                    evictions: counters.evictions,
                    expirations: counters.expirations,
                    ..TierStats::empty(TierName::Memory, "up")
                });
            }
            ToMemory::Ping(reply) => {
                let _ = reply.send(());
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
            ToMemory::Panic => panic!("injected panic in MemoryTier"),
        }
        Ok(())
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
