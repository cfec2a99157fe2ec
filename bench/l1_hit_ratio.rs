//! Hit ratio of the L1 eviction policies on skewed (Zipf) key traces: the measurement behind
//! choosing SIEVE over LRU for L1. Run: `cargo run --release --example l1_hit_ratio`.
//!
//! Each trace draws 400,000 requests over 20,000 keys whose value sizes spread from 0.5 to
//! 20 KB (like shadcn components, demos and blocks); a miss inserts the value (cache-aside).

use bytes::Bytes;
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use shadcache::key::Key;
use shadcache::memory::cache::{ENTRY_OVERHEAD, MemoryCache, Policy};
use shadcache::tier::Entry;

const KEYS: usize = 20_000;
const REQUESTS: usize = 400_000;

fn size_of_key(i: usize) -> usize {
    // Deterministic spread, heavier at the small end.
    let h = (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
    let u = (h % 10_000) as f64 / 10_000.0;
    (500.0 * (40f64).powf(u * u)) as usize
}

fn zipf_trace(skew: f64, seed: u64) -> Vec<usize> {
    let mut rng = SmallRng::seed_from_u64(seed);
    // Rank r is drawn with weight 1/r^skew; ranks are shuffled onto keys so popularity is
    // unrelated to size.
    let popularity = WeightedIndex::new((1..=KEYS).map(|r| 1.0 / (r as f64).powf(skew)))
        .expect("positive weights");
    let mut perm: Vec<usize> = (0..KEYS).collect();
    perm.shuffle(&mut rng);
    (0..REQUESTS)
        .map(|_| perm[popularity.sample(&mut rng)])
        .collect()
}

fn hit_ratio(policy: Policy, budget: u64, trace: &[usize], keys: &[Key], values: &[Bytes]) -> f64 {
    let mut cache = MemoryCache::new(budget, policy);
    let mut hits = 0usize;
    for &k in trace {
        if cache.get(&keys[k], 0).is_some() {
            hits += 1;
        } else {
            let _ = cache.insert(keys[k].clone(), Entry::new(values[k].clone(), 0, None));
        }
    }
    hits as f64 / trace.len() as f64
}

fn main() {
    let keys: Vec<Key> = (0..KEYS)
        .map(|i| Key::parse(&format!("component:react:c{i}")).unwrap())
        .collect();
    let values: Vec<Bytes> = (0..KEYS)
        .map(|i| Bytes::from(vec![b'x'; size_of_key(i)]))
        .collect();
    let working_set: u64 = keys
        .iter()
        .zip(&values)
        .map(|(k, v)| k.as_str().len() as u64 + v.len() as u64 + ENTRY_OVERHEAD)
        .sum();
    println!(
        "{KEYS} keys, {REQUESTS} requests, working set {:.1} MiB",
        working_set as f64 / (1 << 20) as f64
    );
    println!("| zipf skew | budget (% of working set) | LRU hit ratio | SIEVE hit ratio |");
    println!("|---|---|---|---|");
    for skew in [0.8, 1.0, 1.2] {
        let trace = zipf_trace(skew, 42);
        for percent in [1u64, 5, 10, 25] {
            let budget = working_set * percent / 100;
            let lru = hit_ratio(Policy::Lru, budget, &trace, &keys, &values);
            let sieve = hit_ratio(Policy::Sieve, budget, &trace, &keys, &values);
            println!(
                "| {skew} | {percent}% | {:.2}% | {:.2}% |",
                lru * 100.0,
                sieve * 100.0
            );
        }
    }
}
