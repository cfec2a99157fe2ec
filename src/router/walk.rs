//! How one command moves through the tiers: L1 first, then each lower tier, promoting what a
//! lower tier found into the tiers above it. Runs in a task the router spawns, never in the
//! router's handler, so a slow tier holds up only the request that needs it.

use std::sync::Arc;

use bytes::Bytes;

use super::command::Command;
use crate::config::TtlConfig;
use crate::key::Key;
use crate::protocol::{Ack, ErrorCode, Found, Response, TierName, WireError};
use crate::tier::{Entry, Lookup, Tier, TierError, unix_ms};

pub type Tiers = Arc<[Arc<dyn Tier>]>;

/// What the router learns from a finished command, for its counters.
#[derive(Debug, Default, Clone)]
pub struct Outcome {
    pub answered_by: Vec<TierName>,
    pub misses: u64,
    pub promotions: u64,
    /// Keys answered with an expired copy.
    pub stale: u64,
    pub error: bool,
    /// Hits to copy into the tiers above the one (by depth) that had them, after the answer
    /// is sent: promotion is not on the reader's critical path.
    pub promote: Vec<(usize, Vec<(Key, Entry)>)>,
}

/// Copies the hits of a finished read into the upper tiers.
pub async fn promote(tiers: &Tiers, outcome: &mut Outcome) {
    for (depth, entries) in std::mem::take(&mut outcome.promote) {
        for upper in &tiers[..depth] {
            if upper.put_many(entries.clone()).await.is_ok() {
                outcome.promotions += entries.len() as u64;
            }
        }
    }
}

pub async fn execute(command: Command, tiers: Tiers, ttl: Arc<TtlConfig>) -> (Response, Outcome) {
    let mut outcome = Outcome::default();
    let now = unix_ms();
    let expiry = |key: &Key, ttl_given: Option<std::time::Duration>| {
        let ttl_given = ttl_given.unwrap_or_else(|| ttl.for_kind(key.kind()));
        Some(now.saturating_add(ttl_given.as_millis() as u64))
    };
    let response = match command {
        Command::Ping => match tiers[0].ping().await {
            Ok(()) => Response::Pong,
            Err(e) => error_response(e),
        },
        Command::Get(key) => match get_many(&tiers, vec![key], &mut outcome).await {
            Ok((mut found, mut absent)) => match (found.pop().flatten(), absent.pop().flatten()) {
                (None, Some(message)) => {
                    Response::Error(WireError::new(ErrorCode::NotFound, message))
                }
                (found, _) => Response::Value(found),
            },
            Err(e) => error_response(e),
        },
        Command::MGet(keys) => match get_many(&tiers, keys, &mut outcome).await {
            Ok((found, _)) => Response::Values(found),
            Err(e) => error_response(e),
        },
        Command::Set { key, value, ttl } => {
            let expires = expiry(&key, ttl);
            put(&tiers, vec![(key, value, expires)], now).await
        }
        Command::MSet(entries) => {
            let entries = entries
                .into_iter()
                .map(|(key, value, ttl)| {
                    let expires = expiry(&key, ttl);
                    (key, value, expires)
                })
                .collect();
            put(&tiers, entries, now).await
        }
        Command::Delete(key) => match each(&tiers, |t| t.delete_many(vec![key.clone()])).await {
            Ok(counts) => Response::Deleted(counts.iter().any(|n| *n > 0)),
            Err(e) => error_response(e),
        },
        Command::Has(key) => match first_meta(&tiers, &key).await {
            Ok(found) => Response::Has(found.is_some()),
            Err(e) => error_response(e),
        },
        Command::Metadata(key) => match first_meta(&tiers, &key).await {
            Ok(found) => Response::Metadata(found.map(|(tier, meta)| meta.info(tier, now))),
            Err(e) => error_response(e),
        },
        Command::RefreshTtl(key, ttl) => {
            let expires = expiry(&key, ttl);
            match each(&tiers, |t| t.touch(key.clone(), expires)).await {
                Ok(touched) => Response::Refreshed(touched.iter().any(|t| *t)),
                Err(e) => error_response(e),
            }
        }
        Command::Keys(glob) => match each_available(&tiers, |t| t.keys(glob.clone())).await {
            Ok(lists) => {
                let mut keys: Vec<String> = lists
                    .into_iter()
                    .flatten()
                    .map(|k| k.as_str().to_owned())
                    .collect();
                keys.sort_unstable();
                keys.dedup();
                Response::Keys(keys)
            }
            Err(e) => error_response(e),
        },
        Command::Clear => match each(&tiers, |t| t.clear()).await {
            Ok(counts) => Response::Cleared(counts.into_iter().max().unwrap_or(0)),
            Err(e) => error_response(e),
        },
        Command::Size => match each_available(&tiers, |t| t.stats()).await {
            // The tier holding the most entries: lower tiers hold what upper tiers evicted.
            Ok(stats) => {
                let biggest = stats.iter().max_by_key(|s| s.entries);
                Response::Size {
                    entries: biggest.map_or(0, |s| s.entries),
                    bytes: biggest.map_or(0, |s| s.bytes),
                }
            }
            Err(e) => error_response(e),
        },
        Command::Stats => unreachable!("the router answers Stats itself"),
    };
    outcome.error = matches!(response, Response::Error(_));
    (response, outcome)
}

/// Walks the tiers for every key still missing, then promotes fresh hits into the tiers above
/// the one that had them. An expired copy (only persistent tiers keep them) is remembered and
/// the walk goes on; it is the answer, marked stale, only if no lower tier has a fresh one. A
/// tier that fails is skipped; if every tier failed, that is the answer. Beside the answers:
/// for keys the source of truth says do not exist, why.
async fn get_many(
    tiers: &Tiers,
    keys: Vec<Key>,
    outcome: &mut Outcome,
) -> Result<(Vec<Option<Found>>, Vec<Option<String>>), TierError> {
    let now = unix_ms();
    let mut answers: Vec<Option<Found>> = vec![None; keys.len()];
    let mut absent: Vec<Option<String>> = vec![None; keys.len()];
    let mut stale: Vec<Option<(TierName, Entry)>> = vec![None; keys.len()];
    let mut missing: Vec<usize> = (0..keys.len()).collect();
    let mut last_error = None;
    let mut any_tier_answered = false;
    for (depth, tier) in tiers.iter().enumerate() {
        if missing.is_empty() {
            break;
        }
        let wanted: Vec<Key> = missing.iter().map(|&i| keys[i].clone()).collect();
        let found = match tier.get_many(wanted).await {
            Ok(found) => found,
            Err(e) => {
                tracing::debug!(tier = tier.name().label(), error = %e, "tier skipped for a read");
                last_error = Some(e);
                continue;
            }
        };
        any_tier_answered = true;
        let mut promote = Vec::new();
        let mut still_missing = Vec::new();
        for (&i, entry) in missing.iter().zip(found) {
            match entry {
                Lookup::Hit(entry) if entry.meta.is_expired(now) => {
                    if stale[i].is_none() {
                        stale[i] = Some((tier.name(), entry));
                    }
                    still_missing.push(i);
                }
                Lookup::Hit(entry) => {
                    outcome.answered_by.push(tier.name());
                    answers[i] = Some(Found {
                        value: entry.value.clone(),
                        info: entry.meta.info(tier.name(), now),
                    });
                    promote.push((keys[i].clone(), entry));
                }
                Lookup::Miss => still_missing.push(i),
                Lookup::Absent(why) => {
                    absent[i] = Some(why);
                    still_missing.push(i);
                }
            }
        }
        if !promote.is_empty() && depth > 0 {
            outcome.promote.push((depth, promote));
        }
        missing = still_missing;
    }
    for i in missing {
        match stale[i].take() {
            Some((tier, entry)) => {
                outcome.answered_by.push(tier);
                outcome.stale += 1;
                answers[i] = Some(Found {
                    info: entry.meta.info(tier, now),
                    value: entry.value,
                });
            }
            None => outcome.misses += 1,
        }
    }
    match last_error {
        Some(e) if !any_tier_answered => Err(e),
        _ => Ok((answers, absent)),
    }
}

/// Write-through to every tier. `Stored` once a persistent tier has it; `Memory` when only
/// memory does (L2 down or opening past `l2.open_wait`); an error only if no tier took it.
async fn put(tiers: &Tiers, entries: Vec<(Key, Bytes, Option<u64>)>, now: u64) -> Response {
    let entries: Vec<(Key, Entry)> = entries
        .into_iter()
        .map(|(key, value, expires)| (key, Entry::new(value, now, expires)))
        .collect();
    let mut ack = None;
    let mut first_error = None;
    for tier in tiers.iter() {
        match tier.put_many(entries.clone()).await {
            Ok(()) if tier.persistent() => ack = Some(Ack::Stored),
            Ok(()) => {
                ack.get_or_insert(Ack::Memory);
            }
            Err(e) => {
                tracing::warn!(tier = tier.name().label(), error = %e, "tier refused a write");
                first_error.get_or_insert(e);
            }
        }
    }
    match (ack, first_error) {
        (Some(ack), _) => Response::Stored(ack),
        (None, Some(e)) => error_response(e),
        (None, None) => Response::Stored(Ack::Memory),
    }
}

/// The first tier that has the key, stale copies included (they can still be served).
async fn first_meta(
    tiers: &Tiers,
    key: &Key,
) -> Result<Option<(TierName, crate::tier::EntryMeta)>, TierError> {
    let mut last_error = None;
    for tier in tiers.iter() {
        match tier.peek(key.clone()).await {
            Ok(Some(meta)) => return Ok(Some((tier.name(), meta))),
            Ok(None) => {}
            Err(e) => last_error = Some(e),
        }
    }
    match last_error {
        Some(e) if tiers.len() == 1 => Err(e),
        _ => Ok(None),
    }
}

/// Runs one read-only operation on every tier that answers; fails only if none did.
async fn each_available<T>(
    tiers: &Tiers,
    op: impl Fn(&dyn Tier) -> crate::tier::TierFuture<T>,
) -> Result<Vec<T>, TierError> {
    let mut results = Vec::with_capacity(tiers.len());
    let mut last_error = None;
    for tier in tiers.iter() {
        match op(tier.as_ref()).await {
            Ok(result) => results.push(result),
            Err(e) => last_error = Some(e),
        }
    }
    match (results.is_empty(), last_error) {
        (true, Some(e)) => Err(e),
        _ => Ok(results),
    }
}

/// Runs one operation on every tier, in order; the first failure is the answer.
async fn each<T>(
    tiers: &Tiers,
    op: impl Fn(&dyn Tier) -> crate::tier::TierFuture<T>,
) -> Result<Vec<T>, TierError> {
    let mut results = Vec::with_capacity(tiers.len());
    for tier in tiers.iter() {
        results.push(op(tier.as_ref()).await?);
    }
    Ok(results)
}

pub fn error_response(e: TierError) -> Response {
    let code = match &e {
        TierError::Unavailable { .. } => ErrorCode::Unavailable,
        TierError::Timeout { .. } => ErrorCode::Timeout,
        TierError::TooLarge(_) => ErrorCode::ValueTooLarge,
    };
    Response::Error(WireError::new(code, e.to_string()))
}
