//! One command's way through the tiers: reads take the read path (`read.rs`), writes the write
//! path (`write.rs`); the rest visit every local tier alike (delete, touch, keys, clear, ...).

use std::sync::Arc;
use std::time::Duration;

use super::command::Command;
use super::message::Outcome;
use super::read::Answer;
use super::walk::{Walk, error_response};
use crate::key::Key;
use crate::protocol::{ErrorCode, Response, StaleReason, TierName, WireError};
use crate::tier::{EntryMeta, Tier, TierError, unix_ms};

impl Walk {
    /// `l1_checked`: L1 was already asked for this `get` (the handle's fast path missed), so
    /// the walk starts below it.
    pub async fn execute(&self, command: Command, l1_checked: bool) -> (Response, Outcome) {
        let mut outcome = Outcome::default();
        let now = unix_ms();
        let local = &self.tiers.local;
        let expiry = |key: &Key, ttl_given: Option<Duration>| {
            let ttl_given = ttl_given.unwrap_or_else(|| self.policy.ttl.ttl(key.kind()));
            Some(now.saturating_add(ttl_given.as_millis() as u64))
        };
        let response = match command {
            Command::Ping => match local[0].ping().await {
                Ok(()) => Response::Pong,
                Err(e) => error_response(e),
            },
            Command::Get(key) => {
                let skip = usize::from(l1_checked);
                let mut read = self.read(vec![key], skip, &mut outcome).await;
                match read.pop() {
                    Some(Answer::Found(found)) => Response::Value(Some(found)),
                    Some(Answer::Absent(why)) => {
                        Response::Error(WireError::new(ErrorCode::NotFound, why))
                    }
                    Some(Answer::Failed(e)) => error_response(e),
                    Some(Answer::Miss) | None => Response::Value(None),
                }
            }
            Command::MGet(keys) => {
                let read = self.read(keys, 0, &mut outcome).await;
                let failed = read
                    .iter()
                    .filter(|a| matches!(a, Answer::Failed(_)))
                    .count();
                match read.iter().find_map(Answer::error) {
                    // Every key failed the same way: that is the answer, not a row of misses.
                    Some(e) if failed == read.len() => error_response(e.clone()),
                    _ => Response::Values(read.into_iter().map(Answer::found).collect()),
                }
            }
            Command::Set { key, value, ttl } => {
                let expires = expiry(&key, ttl);
                self.put(vec![(key, value, expires)], now).await
            }
            Command::MSet(entries) => {
                let entries = entries
                    .into_iter()
                    .map(|(key, value, ttl)| {
                        let expires = expiry(&key, ttl);
                        (key, value, expires)
                    })
                    .collect();
                self.put(entries, now).await
            }
            Command::Delete(key) => match each(local, |t| t.delete_many(vec![key.clone()])).await {
                Ok(counts) => Response::Deleted(counts.iter().any(|n| *n > 0)),
                Err(e) => error_response(e),
            },
            Command::Has(key) => match first_meta(local, &key).await {
                Ok(found) => Response::Has(found.is_some()),
                Err(e) => error_response(e),
            },
            Command::Metadata(key) => match first_meta(local, &key).await {
                Ok(found) => Response::Metadata(
                    found.map(|(tier, meta)| meta.info(tier, now, Some(StaleReason::Expired))),
                ),
                Err(e) => error_response(e),
            },
            Command::RefreshTtl(key, ttl) => {
                let expires = expiry(&key, ttl);
                match each(local, |t| t.touch(key.clone(), expires)).await {
                    Ok(touched) => Response::Refreshed(touched.iter().any(|t| *t)),
                    Err(e) => error_response(e),
                }
            }
            Command::Keys(glob) => match each_available(local, |t| t.keys(glob.clone())).await {
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
            Command::Clear { shared: false } if local.iter().any(|t| t.shared()) => {
                Response::Error(WireError::new(
                    ErrorCode::InvalidRequest,
                    "L2 is shared by a team (l2.backend = \"postgres\"): `clear --shared` clears it \
                     for everyone; nothing was cleared",
                ))
            }
            Command::Clear { .. } => match each(local, |t| t.clear()).await {
                Ok(counts) => Response::Cleared(counts.into_iter().max().unwrap_or(0)),
                Err(e) => error_response(e),
            },
            Command::Size => match each_available(local, |t| t.stats()).await {
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
}

/// The first tier that has the key, stale copies included (they can still be served).
async fn first_meta(
    tiers: &[Arc<dyn Tier>],
    key: &Key,
) -> Result<Option<(TierName, EntryMeta)>, TierError> {
    let mut last_error = None;
    for tier in tiers {
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
    tiers: &[Arc<dyn Tier>],
    op: impl Fn(&dyn Tier) -> crate::tier::TierFuture<T>,
) -> Result<Vec<T>, TierError> {
    let mut results = Vec::with_capacity(tiers.len());
    let mut last_error = None;
    for tier in tiers {
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
    tiers: &[Arc<dyn Tier>],
    op: impl Fn(&dyn Tier) -> crate::tier::TierFuture<T>,
) -> Result<Vec<T>, TierError> {
    let mut results = Vec::with_capacity(tiers.len());
    for tier in tiers {
        results.push(op(tier.as_ref()).await?);
    }
    Ok(results)
}
