//! The L1 store as plain data: a byte-budgeted map with per-entry expiry and SIEVE eviction.
//! No actor, no clock: every call that needs the time takes `now_ms`, so tests drive time.
//!
//! Entries live in a slab threaded by a doubly linked list, newest at the head. SIEVE (Zhang et
//! al., NSDI '24) marks an entry on a hit and lets a hand sweep from the oldest end, sparing
//! marked entries once; unlike LRU, a hit never reorders the list. `Policy::Lru` is kept for
//! the hit-ratio comparison in `bench/l1_hit_ratio.rs` (numbers in actors.md).

use std::collections::HashMap;

use bytes::Bytes;

use crate::glob::Glob;
use crate::key::Key;
use crate::tier::{Entry, EntryMeta, Validator};

/// Bookkeeping charged per entry on top of key and value bytes: the slot, the map entry and
/// the allocations' headers, rounded up.
pub const ENTRY_OVERHEAD: u64 = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    Sieve,
    Lru,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an entry of {cost} bytes cannot fit the L1 budget of {budget} bytes")]
pub struct TooLarge {
    pub cost: u64,
    pub budget: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counters {
    pub hits: u64,
    pub misses: u64,
    pub evictions: u64,
    pub expirations: u64,
}

struct Slot {
    key: Key,
    value: Bytes,
    meta: EntryMeta,
    validator: Validator,
    visited: bool,
    newer: Option<usize>,
    older: Option<usize>,
}

pub struct MemoryCache {
    index: HashMap<Key, usize>,
    slots: Vec<Option<Slot>>,
    free: Vec<usize>,
    newest: Option<usize>,
    oldest: Option<usize>,
    hand: Option<usize>,
    policy: Policy,
    bytes: u64,
    budget: u64,
    counters: Counters,
}

fn cost(key: &Key, value: &Bytes) -> u64 {
    key.as_str().len() as u64 + value.len() as u64 + ENTRY_OVERHEAD
}

impl MemoryCache {
    pub fn new(budget: u64, policy: Policy) -> MemoryCache {
        MemoryCache {
            index: HashMap::new(),
            slots: Vec::new(),
            free: Vec::new(),
            newest: None,
            oldest: None,
            hand: None,
            policy,
            bytes: 0,
            budget,
            counters: Counters::default(),
        }
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    pub fn budget(&self) -> u64 {
        self.budget
    }

    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// A read that counts: updates access tracking and the eviction policy. Expired entries
    /// are dropped and reported as misses; stale copies are L2's job, not L1's.
    pub fn get(&mut self, key: &Key, now_ms: u64) -> Option<Entry> {
        let Some(&index) = self.index.get(key) else {
            self.counters.misses += 1;
            return None;
        };
        if self.slot(index).meta.is_expired(now_ms) {
            self.remove_index(index);
            self.counters.expirations += 1;
            self.counters.misses += 1;
            return None;
        }
        self.counters.hits += 1;
        self.mark_used(index);
        let slot = self.slot_mut(index);
        slot.meta.last_access_ms = now_ms;
        slot.meta.access_count += 1;
        Some(Entry {
            value: slot.value.clone(),
            meta: slot.meta,
            validator: slot.validator.clone(),
        })
    }

    /// A read that does not count as an access (for `has` and `metadata`).
    pub fn peek(&self, key: &Key, now_ms: u64) -> Option<EntryMeta> {
        let index = *self.index.get(key)?;
        let meta = self.slot(index).meta;
        (!meta.is_expired(now_ms)).then_some(meta)
    }

    /// Inserts or replaces, then evicts until the budget holds. Returns how many entries the
    /// insert evicted.
    pub fn insert(&mut self, key: Key, entry: Entry) -> Result<u64, TooLarge> {
        let cost = cost(&key, &entry.value);
        if cost > self.budget {
            return Err(TooLarge {
                cost,
                budget: self.budget,
            });
        }
        if let Some(&index) = self.index.get(&key) {
            let old = cost_of(self.slot(index));
            let slot = self.slot_mut(index);
            slot.value = entry.value;
            slot.meta = entry.meta;
            slot.validator = entry.validator;
            self.bytes = self.bytes - old + cost;
            self.mark_used(index);
        } else {
            let slot = Slot {
                key: key.clone(),
                value: entry.value,
                meta: entry.meta,
                validator: entry.validator,
                visited: false,
                newer: None,
                older: self.newest,
            };
            let index = match self.free.pop() {
                Some(index) => {
                    self.slots[index] = Some(slot);
                    index
                }
                None => {
                    self.slots.push(Some(slot));
                    self.slots.len() - 1
                }
            };
            if let Some(newest) = self.newest {
                self.slot_mut(newest).newer = Some(index);
            }
            self.newest = Some(index);
            if self.oldest.is_none() {
                self.oldest = Some(index);
            }
            self.index.insert(key.clone(), index);
            self.bytes += cost;
        }
        Ok(self.evict_to(self.budget, Some(&key)))
    }

    pub fn remove(&mut self, key: &Key) -> bool {
        match self.index.get(key) {
            Some(&index) => {
                self.remove_index(index);
                true
            }
            None => false,
        }
    }

    /// Sets a new expiry on a live entry; false when absent or already expired.
    pub fn touch(&mut self, key: &Key, expires_ms: Option<u64>, now_ms: u64) -> bool {
        let Some(&index) = self.index.get(key) else {
            return false;
        };
        if self.slot(index).meta.is_expired(now_ms) {
            return false;
        }
        self.slot_mut(index).meta.expires_ms = expires_ms;
        true
    }

    pub fn keys(&self, glob: &Glob, now_ms: u64) -> Vec<Key> {
        self.slots
            .iter()
            .flatten()
            .filter(|slot| !slot.meta.is_expired(now_ms) && glob.matches(slot.key.as_str()))
            .map(|slot| slot.key.clone())
            .collect()
    }

    /// Refresh-ahead's candidates (`Tier::expiring`), most read first. Not an access.
    pub fn expiring(
        &self,
        now_ms: u64,
        before_ms: u64,
        min_reads: u64,
        limit: usize,
    ) -> Vec<(Key, Entry)> {
        let mut found: Vec<&Slot> = self
            .slots
            .iter()
            .flatten()
            .filter(|slot| {
                let m = &slot.meta;
                !m.is_expired(now_ms)
                    && m.expires_ms.is_some_and(|at| at <= before_ms)
                    && m.access_count >= min_reads
            })
            .collect();
        found.sort_by_key(|slot| std::cmp::Reverse(slot.meta.access_count));
        found
            .into_iter()
            .take(limit)
            .map(|slot| {
                let entry = Entry {
                    value: slot.value.clone(),
                    meta: slot.meta,
                    validator: slot.validator.clone(),
                };
                (slot.key.clone(), entry)
            })
            .collect()
    }

    pub fn clear(&mut self) -> u64 {
        let removed = self.index.len() as u64;
        self.index.clear();
        self.slots.clear();
        self.free.clear();
        self.newest = None;
        self.oldest = None;
        self.hand = None;
        self.bytes = 0;
        removed
    }

    /// Drops every expired entry; returns how many.
    pub fn sweep(&mut self, now_ms: u64) -> u64 {
        let expired: Vec<usize> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().filter(|s| s.meta.is_expired(now_ms)).map(|_| i))
            .collect();
        for &index in &expired {
            self.remove_index(index);
        }
        self.counters.expirations += expired.len() as u64;
        expired.len() as u64
    }

    /// Changes the budget (config reload), evicting at once if it shrank.
    pub fn set_budget(&mut self, budget: u64) -> u64 {
        self.budget = budget;
        self.evict_to(budget, None)
    }

    fn evict_to(&mut self, budget: u64, keep: Option<&Key>) -> u64 {
        let mut evicted = 0;
        while self.bytes > budget {
            let Some(victim) = self.pick_victim(keep) else {
                break;
            };
            self.remove_index(victim);
            evicted += 1;
        }
        self.counters.evictions += evicted;
        evicted
    }

    fn pick_victim(&mut self, keep: Option<&Key>) -> Option<usize> {
        let spared = |cache: &Self, i: usize| keep == Some(&cache.slot(i).key);
        match self.policy {
            Policy::Lru => {
                let mut candidate = self.oldest;
                while let Some(i) = candidate {
                    if !spared(self, i) {
                        return Some(i);
                    }
                    candidate = self.slot(i).newer;
                }
                None
            }
            Policy::Sieve => {
                // At most two passes: the first may only clear marks.
                for _ in 0..2 * self.len() + 1 {
                    let i = self.hand.or(self.oldest)?;
                    let next = self.slot(i).newer;
                    if self.slot(i).visited || spared(self, i) {
                        self.slot_mut(i).visited = false;
                        self.hand = next;
                    } else {
                        self.hand = next;
                        return Some(i);
                    }
                }
                None
            }
        }
    }

    fn mark_used(&mut self, index: usize) {
        match self.policy {
            Policy::Sieve => self.slot_mut(index).visited = true,
            Policy::Lru => {
                if self.newest != Some(index) {
                    self.unlink(index);
                    let newest = self.newest;
                    let slot = self.slot_mut(index);
                    slot.older = newest;
                    slot.newer = None;
                    if let Some(newest) = self.newest {
                        self.slot_mut(newest).newer = Some(index);
                    }
                    self.newest = Some(index);
                    if self.oldest.is_none() {
                        self.oldest = Some(index);
                    }
                }
            }
        }
    }

    fn unlink(&mut self, index: usize) {
        let (newer, older) = {
            let slot = self.slot(index);
            (slot.newer, slot.older)
        };
        match newer {
            Some(n) => self.slot_mut(n).older = older,
            None => self.newest = older,
        }
        match older {
            Some(o) => self.slot_mut(o).newer = newer,
            None => self.oldest = newer,
        }
        if self.hand == Some(index) {
            self.hand = newer;
        }
    }

    fn remove_index(&mut self, index: usize) {
        self.unlink(index);
        let slot = self.slots[index].take().expect("indexed slot is occupied");
        self.bytes -= cost_of(&slot);
        self.index.remove(&slot.key);
        self.free.push(index);
    }

    fn slot(&self, index: usize) -> &Slot {
        self.slots[index].as_ref().expect("linked slot is occupied")
    }

    fn slot_mut(&mut self, index: usize) -> &mut Slot {
        self.slots[index].as_mut().expect("linked slot is occupied")
    }
}

fn cost_of(slot: &Slot) -> u64 {
    cost(&slot.key, &slot.value)
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
