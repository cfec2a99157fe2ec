//! Fetching before a client asks, for the router actor: the keys a fetched value names as
//! what comes next (dependency prefetch), and hot keys about to expire (refresh-ahead). Both
//! find what the local tiers lack in a task of their own, then hand it to the actor as a
//! speculative fetch (`Purpose::Prefetch`, `Purpose::RefreshAhead`), which the actor starts
//! only toward an origin that is well, within `prefetch.max_in_flight`, and cancels when the
//! origin fails (`fetch.rs`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use futures::future::join_all;
use tokio::sync::oneshot;

use super::fetch::Fetches;
use super::message::{Purpose, ToRouter, Want};
use super::walk::Walk;
use crate::key::Key;
use crate::protocol::TierName;
use crate::tier::{Entry, Tier, unix_ms};

/// After a fetch's answers went to the clients: the keys its hits name next, one level
/// deeper, that no fetch holds and no local tier has fresh, are fetched in the background.
pub(super) fn prefetch(walk: &Walk, fetches: &Fetches, purpose: Purpose, hits: &[(Key, Entry)]) {
    let config = &walk.policy.prefetch;
    let depth = match purpose {
        Purpose::Read | Purpose::Prefetch { .. } if config.enabled => purpose.depth() + 1,
        // A refresh's dependencies are refreshed when they are read.
        _ => return,
    };
    if u64::from(depth) > config.depth {
        return;
    }
    let mut next: Vec<Key> = Vec::new();
    for (key, entry) in hits {
        for key in (walk.tiers.follows)(key, &entry.value, config) {
            let fetched_now = hits.iter().any(|(hit, _)| *hit == key);
            if !fetched_now && !fetches.in_flight(&key) && !next.contains(&key) {
                next.push(key);
            }
        }
    }
    next.truncate(config.max_keys as usize);
    if next.is_empty() {
        return;
    }
    let walk = walk.clone();
    tokio::spawn(async move {
        let missing = not_fresh(&walk.tiers.local, next).await;
        if missing.is_empty() {
            return;
        }
        let wanted = missing
            .into_iter()
            .map(|key| Want {
                key,
                stale: None,
                answer: None,
            })
            .collect();
        speculate(&walk, wanted, Purpose::Prefetch { depth });
    });
}

/// Keys refresh-ahead has refreshed: a key once hot stays a candidate while it is read at
/// least once in each life, so a popular key that happened to be read fewer than
/// `min_reads` times in one TTL (reads are random) is still never answered stale.
pub(super) type Hot = Arc<Mutex<HashSet<Key>>>;

/// At most this many keys are remembered as hot; past it the memory starts over.
const HOT_KEYS: usize = 10_000;

/// The refresh-ahead timer: the keys of the local tiers that expire within
/// `refresh_ahead.ahead` and were read since they were stored, at least `min_reads` times
/// (or at all, for a key refreshed ahead before), are revalidated, most read first (their
/// copies go with them, so an unchanged value costs a 304 or nothing), at most the scan's
/// share of `max_per_minute`.
pub(super) fn refresh_ahead(walk: &Walk, hot: &Hot) {
    let config = &walk.policy.refresh_ahead;
    let limit = config.per_scan();
    if !config.enabled || limit == 0 || walk.tiers.origins.is_empty() {
        return;
    }
    let (ahead, min_reads) = (config.ahead, config.min_reads);
    let (walk, known) = (walk.clone(), hot.clone());
    tokio::spawn(async move {
        let before = unix_ms() + ahead.as_millis() as u64;
        let mut found: HashMap<Key, Entry> = HashMap::new();
        for tier in &walk.tiers.local {
            // Read once since stored: the hot keys of before qualify with that.
            let Ok(expiring) = tier.expiring(before, 1, limit.saturating_mul(8)).await else {
                continue;
            };
            for (key, entry) in expiring {
                // The tier that counted more reads of it knows it better.
                match found.get(&key) {
                    Some(seen) if seen.meta.access_count >= entry.meta.access_count => {}
                    _ => {
                        found.insert(key, entry);
                    }
                }
            }
        }
        let mut hot: Vec<(Key, Entry)> = {
            let known = known.lock().unwrap_or_else(|e| e.into_inner());
            found
                .into_iter()
                .filter(|(key, entry)| entry.meta.access_count >= min_reads || known.contains(key))
                .filter(|(key, _)| walk.tiers.origin_for(key).is_some() && walk.policy.fetches(key))
                .collect()
        };
        hot.sort_by_key(|(_, entry)| std::cmp::Reverse(entry.meta.access_count));
        hot.truncate(limit);
        if hot.is_empty() {
            return;
        }
        {
            let mut known = known.lock().unwrap_or_else(|e| e.into_inner());
            if known.len() + hot.len() > HOT_KEYS {
                known.clear();
            }
            known.extend(hot.iter().map(|(key, _)| key.clone()));
        }
        tracing::debug!(keys = hot.len(), "refreshing hot keys ahead of expiry");
        let wanted = hot
            .into_iter()
            .map(|(key, entry)| Want {
                key,
                stale: Some(entry),
                answer: None,
            })
            .collect();
        speculate(&walk, wanted, Purpose::RefreshAhead);
    });
}

fn speculate(walk: &Walk, wanted: Vec<Want>, purpose: Purpose) {
    // Nobody waits on the admission: a refusal only means it is not fetched.
    let (admission, _) = oneshot::channel();
    let _ = walk.router.send_message(ToRouter::Fetch {
        wanted,
        purpose,
        admission,
    });
}

/// The keys no local tier holds fresh (a tier that cannot answer holds nothing).
async fn not_fresh(tiers: &[std::sync::Arc<dyn Tier>], keys: Vec<Key>) -> Vec<Key> {
    let now = unix_ms();
    let checks = keys.into_iter().map(|key| async move {
        for tier in tiers.iter().filter(|t| t.name() != TierName::Queue) {
            if let Ok(Some(meta)) = tier.peek(key.clone()).await
                && !meta.is_expired(now)
            {
                return None;
            }
        }
        Some(key)
    });
    join_all(checks).await.into_iter().flatten().collect()
}
