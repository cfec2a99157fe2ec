//! Fetching before a client asks, for the router actor: the keys a fetched value names as
//! what comes next (dependency prefetch), and hot keys about to expire (refresh-ahead). Both
//! find what the local tiers lack in a task of their own, then hand it to the actor as a
//! speculative fetch (`Purpose::Prefetch`, `Purpose::RefreshAhead`), which the actor starts
//! only toward an origin that is well, within `prefetch.max_in_flight`, and cancels when the
//! origin fails (`fetch.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures::future::join_all;
use tokio::sync::oneshot;

use super::fetch::Fetches;
use super::message::{Purpose, ToRouter, Want};
use super::walk::Walk;
use crate::key::Key;
use crate::protocol::TierName;
use crate::tier::{Entry, Lookup, Tier, unix_ms};

/// After a fetch's answers went to the clients: the keys its hits name next, one level
/// deeper, that no fetch holds and no local tier has fresh, are fetched in the background;
/// then, where a catalog lists what those name in turn, every level below them down to
/// `prefetch.depth` at once, without waiting for their values.
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
    // `depth` is at most `prefetch.depth`, itself at most 8.
    let levels = (config.depth - u64::from(depth)) as u8;
    let follows = &walk.tiers.follows;
    let (mut named, mut catalogs): (Vec<Key>, Vec<Key>) = (Vec::new(), Vec::new());
    for (key, entry) in hits {
        for key in (follows.named)(key, &entry.value, config) {
            if !hits.iter().any(|(hit, _)| *hit == key) && !named.contains(&key) {
                named.push(key);
            }
        }
        if let Some(catalog) = (follows.catalog)(key).filter(|_| levels > 0)
            && !catalogs.contains(&catalog)
        {
            catalogs.push(catalog);
        }
    }
    named.truncate(config.max_keys as usize);
    let next: Vec<Key> = named
        .iter()
        .filter(|key| !fetches.in_flight(key))
        .cloned()
        .collect();
    if named.is_empty() {
        return;
    }
    let (walk, max_keys) = (walk.clone(), config.max_keys as usize);
    tokio::spawn(async move {
        fetch_missing(&walk, next, Purpose::Prefetch { depth }).await;
        for catalog in catalogs {
            let Some(body) = catalog_body(&walk, catalog, depth).await else {
                continue;
            };
            let mut below = (walk.tiers.follows.listed)(&body, &named, levels);
            below.truncate(max_keys);
            let depth = depth + levels;
            fetch_missing(&walk, below, Purpose::Prefetch { depth }).await;
        }
    });
}

/// With a client's read the origin is asked for: the catalogs that list what its keys name,
/// fetched alongside (the task's fetch reaches the actor after the read's), so that when the
/// first value comes in, [`prefetch`] can look past the keys it names without waiting for
/// theirs.
pub(super) fn accompany(walk: &Walk, fetches: &Fetches, read: &[Want]) {
    let config = &walk.policy.prefetch;
    if !config.enabled || config.depth < 2 {
        return;
    }
    let mut catalogs: Vec<Key> = Vec::new();
    for catalog in read
        .iter()
        .filter_map(|want| (walk.tiers.follows.catalog)(&want.key))
    {
        if !fetches.in_flight(&catalog)
            && !read.iter().any(|want| want.key == catalog)
            && !catalogs.contains(&catalog)
        {
            catalogs.push(catalog);
        }
    }
    if catalogs.is_empty() {
        return;
    }
    let walk = walk.clone();
    tokio::spawn(async move {
        fetch_missing(&walk, catalogs, Purpose::Prefetch { depth: 1 }).await;
    });
}

/// Fetches ahead what no local tier holds fresh.
async fn fetch_missing(walk: &Walk, keys: Vec<Key>, purpose: Purpose) {
    if keys.is_empty() {
        return;
    }
    let missing = not_fresh(&walk.tiers.local, keys).await;
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
    speculate(walk, wanted, purpose);
}

/// A catalog's body: a local tier's fresh copy, or the origin's (joining the fetch that
/// [`accompany`] started, when it is still on its way). `None` when neither has one.
async fn catalog_body(walk: &Walk, key: Key, depth: u8) -> Option<Bytes> {
    let now = unix_ms();
    for tier in walk
        .tiers
        .local
        .iter()
        .filter(|t| t.name() != TierName::Queue)
    {
        if let Ok(mut found) = tier.get_many(vec![key.clone()]).await
            && let Some(Lookup::Hit(entry)) = found.pop()
            && !entry.meta.is_expired(now)
        {
            return Some(entry.value);
        }
    }
    let (answer, fetched) = oneshot::channel();
    let want = Want {
        key,
        stale: None,
        answer: Some(answer),
    };
    speculate(walk, vec![want], Purpose::Prefetch { depth });
    match fetched.await {
        Ok(Lookup::Hit(entry)) => Some(entry.value),
        _ => None,
    }
}

/// Keys refresh-ahead has refreshed, with how they were last seen: a key once hot stays a
/// candidate while it is read in one of any two lives in a row, so a popular key that
/// happened to be read fewer than `min_reads` times in one TTL, or not at all before its
/// refresh was due (reads are random), is still never answered stale.
#[derive(Default)]
pub(super) struct Hot {
    keys: Mutex<HashMap<Key, Heat>>,
    /// A scan is under way: the next waits for it rather than piling up behind a slow L2.
    scanning: AtomicBool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Heat {
    /// The expiry of the copy it was last seen with: scans that see the same copy again
    /// (its refresh failed, or is under way) do not count another life.
    expires_ms: Option<u64>,
    /// Lives in a row it was refreshed without a read.
    idle: u8,
}

/// A hot key is refreshed through this many lives in a row without a read, then dropped.
const IDLE_LIVES: u8 = 1;

/// At most this many keys are remembered as hot; past it the memory starts over.
const HOT_KEYS: usize = 10_000;

/// Whether a key expiring with `entry` is refreshed ahead, and how it is remembered: read
/// `min_reads` times since it was stored, or hot before and not idle too long.
fn heat(known: Option<Heat>, entry: &Entry, min_reads: u64) -> Option<Heat> {
    let (reads, expires_ms) = (entry.meta.access_count, entry.meta.expires_ms);
    if reads >= min_reads.max(1) {
        return Some(Heat {
            expires_ms,
            idle: 0,
        });
    }
    let known = known?;
    let idle = match (reads, known.expires_ms == expires_ms) {
        (1.., _) => 0,
        (0, true) => known.idle,
        (0, false) => known.idle.saturating_add(1),
    };
    (idle <= IDLE_LIVES).then_some(Heat { expires_ms, idle })
}

/// The refresh-ahead timer: the keys of the local tiers that expire within
/// `refresh_ahead.ahead` and are hot (see [`heat`]) are revalidated, most read first (their
/// copies go with them, so an unchanged value costs a 304 or nothing), at most the scan's
/// share of `max_per_minute`.
pub(super) fn refresh_ahead(walk: &Walk, hot: &Arc<Hot>) {
    let config = &walk.policy.refresh_ahead;
    let limit = config.per_scan();
    if !config.enabled || limit == 0 || walk.tiers.origins.is_empty() {
        return;
    }
    if hot.scanning.swap(true, Ordering::AcqRel) {
        return;
    }
    let (ahead, min_reads) = (config.ahead, config.min_reads);
    let (walk, hot) = (walk.clone(), hot.clone());
    tokio::spawn(async move {
        let wanted = {
            let _scanning = Scanning(&hot.scanning);
            scan(&walk, &hot, ahead, min_reads, limit).await
        };
        if wanted.is_empty() {
            return;
        }
        tracing::debug!(keys = wanted.len(), "refreshing hot keys ahead of expiry");
        speculate(&walk, wanted, Purpose::RefreshAhead);
    });
}

/// Marks the end of a scan however it ends.
struct Scanning<'a>(&'a AtomicBool);

impl Drop for Scanning<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// One refresh-ahead scan: the hot keys about to expire, with their copies.
async fn scan(
    walk: &Walk,
    hot: &Hot,
    ahead: std::time::Duration,
    min_reads: u64,
    limit: usize,
) -> Vec<Want> {
    let before = unix_ms() + ahead.as_millis() as u64;
    let mut found: HashMap<Key, Entry> = HashMap::new();
    for tier in &walk.tiers.local {
        // Unread keys too from L1 (a map scan), where a hot key that had an idle life
        // is; L2's query, which carries values, only read ones.
        let reads = u64::from(tier.name() != TierName::Memory);
        let Ok(expiring) = tier.expiring(before, reads, limit.saturating_mul(8)).await else {
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
    let mut chosen: Vec<(Key, Entry)> = {
        let mut known = hot.keys.lock().unwrap_or_else(|e| e.into_inner());
        let candidates = found
            .into_iter()
            .filter(|(key, _)| walk.tiers.origin_for(key).is_some() && walk.policy.fetches(key));
        let mut chosen = Vec::new();
        for (key, entry) in candidates {
            match heat(known.get(&key).copied(), &entry, min_reads) {
                Some(heat) => {
                    if known.len() >= HOT_KEYS && !known.contains_key(&key) {
                        known.clear();
                    }
                    known.insert(key.clone(), heat);
                    chosen.push((key, entry));
                }
                None => {
                    known.remove(&key);
                }
            }
        }
        chosen
    };
    chosen.sort_by_key(|(_, entry)| std::cmp::Reverse(entry.meta.access_count));
    chosen.truncate(limit);
    chosen
        .into_iter()
        .map(|(key, entry)| Want {
            key,
            stale: Some(entry),
            answer: None,
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(reads: u64, expires_ms: u64) -> Entry {
        let mut entry = Entry::new(bytes::Bytes::from_static(b"v"), 0, Some(expires_ms));
        entry.meta.access_count = reads;
        entry
    }

    #[test]
    fn a_key_is_hot_when_read_often_and_stays_hot_through_one_idle_life() {
        // Cold: read fewer than min_reads times, never refreshed before.
        assert_eq!(heat(None, &copy(2, 100), 3), None);
        assert_eq!(heat(None, &copy(0, 100), 3), None);
        let hot = heat(None, &copy(3, 100), 3).unwrap();
        assert_eq!(hot.idle, 0);
        // Known: one read in a life keeps it hot.
        let read_once = heat(Some(hot), &copy(1, 200), 3).unwrap();
        assert_eq!(read_once.idle, 0);
        // A life without a read is forgiven once; scans that see the same copy again do not
        // count another life.
        let idle = heat(Some(read_once), &copy(0, 300), 3).unwrap();
        assert_eq!(idle.idle, 1);
        assert_eq!(heat(Some(idle), &copy(0, 300), 3), Some(idle));
        assert_eq!(heat(Some(idle), &copy(0, 400), 3), None);
        // A read after the idle life starts the count over.
        assert_eq!(heat(Some(idle), &copy(1, 400), 3).unwrap().idle, 0);
    }
}
