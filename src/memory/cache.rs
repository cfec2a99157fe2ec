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
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    fn entry(len: usize, expires_ms: Option<u64>) -> Entry {
        Entry::new(Bytes::from(vec![b'x'; len]), 0, expires_ms)
    }

    #[test]
    fn get_set_remove() {
        let mut c = MemoryCache::new(1 << 20, Policy::Sieve);
        c.insert(key("a:1"), entry(10, None)).unwrap();
        assert_eq!(c.get(&key("a:1"), 5).unwrap().value.len(), 10);
        assert_eq!(c.peek(&key("a:1"), 5).unwrap().access_count, 1);
        assert!(c.get(&key("a:2"), 5).is_none());
        assert_eq!(c.counters().hits, 1);
        assert_eq!(c.counters().misses, 1);
        assert!(c.remove(&key("a:1")));
        assert!(!c.remove(&key("a:1")));
        assert_eq!(c.bytes(), 0);
        assert!(c.is_empty());
    }

    #[test]
    fn replacing_adjusts_bytes() {
        let mut c = MemoryCache::new(1 << 20, Policy::Sieve);
        c.insert(key("a:1"), entry(100, None)).unwrap();
        c.insert(key("a:1"), entry(10, None)).unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c.bytes(), 3 + 10 + ENTRY_OVERHEAD);
    }

    #[test]
    fn evicts_instead_of_failing_and_never_exceeds_budget() {
        for policy in [Policy::Sieve, Policy::Lru] {
            let budget = 10 * (1000 + 8 + ENTRY_OVERHEAD);
            let mut c = MemoryCache::new(budget, policy);
            for i in 0..100 {
                c.insert(key(&format!("k:{i:04}")), entry(1000, None))
                    .unwrap();
                assert!(c.bytes() <= budget, "{policy:?} over budget");
            }
            assert_eq!(c.len(), 10);
            assert_eq!(c.counters().evictions, 90);
            // The newest entry always survives its own insertion.
            assert!(c.peek(&key("k:0099"), 0).is_some());
        }
    }

    #[test]
    fn sieve_spares_entries_that_were_read() {
        let unit = 1000 + 8 + ENTRY_OVERHEAD;
        let mut c = MemoryCache::new(3 * unit, Policy::Sieve);
        for name in ["k:0001", "k:0002", "k:0003"] {
            c.insert(key(name), entry(1000, None)).unwrap();
        }
        c.get(&key("k:0001"), 0);
        c.insert(key("k:0004"), entry(1000, None)).unwrap();
        assert!(c.peek(&key("k:0001"), 0).is_some(), "hot entry evicted");
        assert!(c.peek(&key("k:0002"), 0).is_none(), "cold entry kept");
    }

    #[test]
    fn lru_evicts_least_recently_used() {
        let unit = 1000 + 8 + ENTRY_OVERHEAD;
        let mut c = MemoryCache::new(3 * unit, Policy::Lru);
        for name in ["k:0001", "k:0002", "k:0003"] {
            c.insert(key(name), entry(1000, None)).unwrap();
        }
        c.get(&key("k:0001"), 0);
        c.get(&key("k:0002"), 0);
        c.insert(key("k:0004"), entry(1000, None)).unwrap();
        assert!(c.peek(&key("k:0003"), 0).is_none());
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn too_large_is_refused_without_evicting() {
        let mut c = MemoryCache::new(1000, Policy::Sieve);
        c.insert(key("a:1"), entry(10, None)).unwrap();
        assert!(c.insert(key("a:2"), entry(2000, None)).is_err());
        assert_eq!(c.len(), 1);
    }

    #[test]
    fn ttl_is_respected() {
        let mut c = MemoryCache::new(1 << 20, Policy::Sieve);
        c.insert(key("a:1"), entry(1, Some(100))).unwrap();
        c.insert(key("a:2"), entry(1, Some(200))).unwrap();
        c.insert(key("a:3"), entry(1, None)).unwrap();
        assert!(c.get(&key("a:1"), 99).is_some());
        assert!(c.get(&key("a:1"), 100).is_none());
        assert!(c.peek(&key("a:2"), 250).is_none());
        assert_eq!(c.keys(&Glob::any(), 250), vec![key("a:3")]);
        assert_eq!(c.sweep(250), 1);
        assert_eq!(c.len(), 1);
        assert_eq!(c.counters().expirations, 2);
        assert!(c.touch(&key("a:3"), Some(300), 250));
        assert!(c.get(&key("a:3"), 301).is_none());
    }

    #[test]
    fn shrinking_the_budget_evicts() {
        let mut c = MemoryCache::new(1 << 20, Policy::Sieve);
        for i in 0..50 {
            c.insert(key(&format!("k:{i}")), entry(1000, None)).unwrap();
        }
        c.set_budget(10_000);
        assert!(c.bytes() <= 10_000);
        assert!(c.len() < 10);
    }

    #[test]
    fn slots_are_reused_after_removal() {
        let mut c = MemoryCache::new(1 << 20, Policy::Lru);
        for round in 0..3 {
            for i in 0..10 {
                c.insert(key(&format!("k:{round}-{i}")), entry(1, None))
                    .unwrap();
            }
            assert_eq!(c.clear(), 10);
        }
        for i in 0..10 {
            c.insert(key(&format!("k:{i}")), entry(1, None)).unwrap();
        }
        for i in 0..10 {
            assert!(c.remove(&key(&format!("k:{i}"))));
        }
        c.insert(key("k:x"), entry(1, None)).unwrap();
        assert!(c.slots.len() <= 10);
    }
}

/// Property tests: whatever sequence of operations, the cache never holds more than its
/// budget, never answers an expired entry, and its byte count matches what it holds.
#[cfg(test)]
mod properties {
    use bytes::Bytes;
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, Clone)]
    enum Op {
        Insert { key: u8, len: u16, ttl: Option<u8> },
        Get { key: u8 },
        Remove { key: u8 },
        Touch { key: u8, ttl: Option<u8> },
        Sweep,
        Budget { kib: u8 },
        Tick { ms: u8 },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), 0..4000u16, proptest::option::of(1..50u8))
                .prop_map(|(key, len, ttl)| Op::Insert { key, len, ttl }),
            3 => any::<u8>().prop_map(|key| Op::Get { key }),
            1 => any::<u8>().prop_map(|key| Op::Remove { key }),
            1 => (any::<u8>(), proptest::option::of(1..50u8))
                .prop_map(|(key, ttl)| Op::Touch { key, ttl }),
            1 => Just(Op::Sweep),
            1 => (8..128u8).prop_map(|kib| Op::Budget { kib }),
            2 => (0..30u8).prop_map(|ms| Op::Tick { ms }),
        ]
    }

    fn key(k: u8) -> Key {
        Key::parse(&format!("p:{k}")).unwrap()
    }

    proptest! {
        // Each case runs up to 300 operations and checks the byte count after each.
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn never_over_budget_and_never_answers_expired(
            policy in prop_oneof![Just(Policy::Sieve), Just(Policy::Lru)],
            ops in proptest::collection::vec(op(), 1..300),
        ) {
            let mut cache = MemoryCache::new(64 * 1024, policy);
            let mut now = 1_000u64;
            for op in ops {
                match op {
                    Op::Insert { key: k, len, ttl } => {
                        let expires = ttl.map(|t| now + u64::from(t));
                        let entry = Entry::new(Bytes::from(vec![b'v'; len as usize]), now, expires);
                        let _ = cache.insert(key(k), entry);
                    }
                    Op::Get { key: k } => {
                        if let Some(entry) = cache.get(&key(k), now) {
                            prop_assert!(!entry.meta.is_expired(now), "answered an expired entry");
                        }
                    }
                    Op::Remove { key: k } => {
                        cache.remove(&key(k));
                    }
                    Op::Touch { key: k, ttl } => {
                        cache.touch(&key(k), ttl.map(|t| now + u64::from(t)), now);
                    }
                    Op::Sweep => {
                        cache.sweep(now);
                    }
                    Op::Budget { kib } => {
                        cache.set_budget(u64::from(kib) * 1024);
                    }
                    Op::Tick { ms } => now += u64::from(ms),
                }
                prop_assert!(cache.bytes() <= cache.budget(), "{} over {}", cache.bytes(), cache.budget());
                let held: u64 = (0..=255u8)
                    .filter_map(|k| cache.peek(&key(k), 0).map(|m| m.size + cost(&key(k), &Bytes::new())))
                    .sum();
                prop_assert_eq!(held, cache.bytes(), "byte count drifted from what is held");
            }
        }
    }
}
