//! The write path: each entry to the local tiers its kind's strategy names, and the
//! acknowledgement that tells the client how durable the write is.

use std::sync::Arc;

use bytes::Bytes;

use super::walk::{Walk, error_response};
use crate::config::Strategy;
use crate::key::Key;
use crate::protocol::{Ack, Response, TierName};
use crate::tier::{Entry, Tier, TierError};

impl Walk {
    /// Writes by strategy: L1 always; L2 before the acknowledgement (`Stored`), or the
    /// write-behind queue for write-behind kinds (`Queued`). `Memory` when only L1 took it;
    /// an error only if no tier took it.
    pub(super) async fn put(&self, entries: Vec<(Key, Bytes, Option<u64>)>, now: u64) -> Response {
        let entries: Vec<(Key, Entry, Strategy)> = entries
            .into_iter()
            .map(|(key, value, expires)| {
                let strategy = self.policy.strategy(&key);
                (key, Entry::new(value, now, expires), strategy)
            })
            .collect();
        let (ack, error) = store(&self.tiers.local, &entries).await;
        match (ack, error) {
            (Some(ack), _) => Response::Stored(ack),
            (None, Some(e)) => error_response(e),
            (None, None) => Response::Stored(Ack::Memory),
        }
    }
}

/// Which local tier a write of this strategy goes to.
pub fn takes(tier: TierName, strategy: Strategy) -> bool {
    match tier {
        TierName::Memory => true,
        TierName::Queue => strategy == Strategy::WriteBehind,
        TierName::Database => strategy != Strategy::WriteBehind,
        TierName::Github | TierName::Registry => false,
    }
}

/// Stores entries in the local tiers their strategies name, in read order. Returns the
/// weakest acknowledgement any entry got (`None` if one got none) and the first refusal.
pub async fn store(
    local: &[Arc<dyn Tier>],
    entries: &[(Key, Entry, Strategy)],
) -> (Option<Ack>, Option<TierError>) {
    let mut best: Vec<Option<Ack>> = vec![None; entries.len()];
    let mut first_error = None;
    for tier in local {
        let name = tier.name();
        let chosen: Vec<usize> = (0..entries.len())
            .filter(|&i| takes(name, entries[i].2))
            .collect();
        if chosen.is_empty() {
            continue;
        }
        let batch = chosen
            .iter()
            .map(|&i| (entries[i].0.clone(), entries[i].1.clone()))
            .collect();
        match tier.put_many(batch).await {
            Ok(()) => {
                let ack = match name {
                    TierName::Database if tier.persistent() => Ack::Stored,
                    TierName::Queue => Ack::Queued,
                    _ => Ack::Memory,
                };
                for i in chosen {
                    best[i] = Some(best[i].map_or(ack, |b| b.max(ack)));
                }
            }
            Err(e) => {
                tracing::warn!(tier = name.label(), error = %e, "tier refused a write");
                first_error.get_or_insert(e);
            }
        }
    }
    let weakest = best
        .into_iter()
        .try_fold(None, |acc: Option<Ack>, ack| {
            ack.map(|ack| Some(acc.map_or(ack, |a| a.min(ack))))
        })
        .flatten();
    (weakest, first_error)
}
