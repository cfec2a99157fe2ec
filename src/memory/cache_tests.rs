//! MemoryCache: unit tests, and properties checked against a model with proptest.

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

/// Property tests: whatever sequence of operations, the cache never holds more than its
/// budget, never answers an expired entry, and its byte count matches what it holds.
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
