//! How one command moves through the tiers: L1, the write-behind queue and L2 first (the
//! local tiers), then the origin that serves the key for what they did not have fresh. Runs in
//! a task the router spawns, never in the router's handler, so a slow tier holds up only the
//! request that needs it. This file holds what a walk carries; `execute.rs` runs a command,
//! `read.rs` is the read path and `write.rs` the write path.

use std::sync::Arc;

use ractor::ActorRef;

use super::message::{Outcome, ToRouter};
use super::policy::Policy;
use crate::config::PrefetchConfig;
use crate::key::Key;
use crate::protocol::{ErrorCode, Response, TierName, WireError};
use crate::tier::{Origin, Tier, TierError};

/// The tiers the router walks.
pub struct Tiers {
    /// Read order: L1, the write-behind queue (when some kind is write-behind), L2.
    pub local: Vec<Arc<dyn Tier>>,
    /// The sources of truth, each asked for the keys it serves (the first that serves a key
    /// is its origin). Each has its own breaker and rate limit in the router.
    pub origins: Vec<Arc<dyn Origin>>,
    /// Whether a key is a copy of upstream content, even with no origin enabled to serve it:
    /// its expired copy is then answered (marked no-upstream) rather than missed.
    pub upstream: fn(&Key) -> bool,
    /// What dependency prefetch fetches.
    pub follows: Follows,
}

/// What a fetched value names as the keys a client asks for next.
pub struct Follows {
    /// The keys a value names (a registry item's dependencies, a block's components).
    pub named: fn(&Key, &[u8], &PrefetchConfig) -> Vec<Key>,
    /// The file that lists what many keys name (a registry style's catalog), fetched with
    /// the first read of any of them, so that prefetch sees several levels down at once.
    pub catalog: fn(&Key) -> Option<Key>,
    /// What a catalog's body says these keys name, so many levels down.
    pub listed: fn(&[u8], &[Key], u8) -> Vec<Key>,
}

#[cfg(test)]
impl Follows {
    /// Nothing is named: prefetch has nothing to do.
    pub const NONE: Follows = Follows {
        named: |_, _, _| Vec::new(),
        catalog: |_| None,
        listed: |_, _, _| Vec::new(),
    };
}

impl Tiers {
    /// The origin that serves `key`, with its place in [`Tiers::origins`].
    pub fn origin_for(&self, key: &Key) -> Option<(usize, &Arc<dyn Origin>)> {
        self.origins.iter().enumerate().find(|(_, o)| o.serves(key))
    }
}

/// Everything a walk needs; cheap to clone.
#[derive(Clone)]
pub struct Walk {
    pub tiers: Arc<Tiers>,
    pub policy: Arc<Policy>,
    pub router: ActorRef<ToRouter>,
}

impl Walk {
    /// Copies the local hits of a finished read into the tiers above them (never into the
    /// write-behind queue: the value is in L2 already).
    pub async fn promote(&self, outcome: &mut Outcome) {
        for (depth, entries) in std::mem::take(&mut outcome.promote) {
            for upper in &self.tiers.local[..depth] {
                if upper.name() == TierName::Queue {
                    continue;
                }
                if upper.put_many(entries.clone()).await.is_ok() {
                    outcome.promotions += entries.len() as u64;
                }
            }
        }
    }
}

pub fn error_response(e: TierError) -> Response {
    let code = match &e {
        TierError::Unavailable { .. } | TierError::BreakerOpen { .. } => ErrorCode::Unavailable,
        TierError::BadUpstream(_) => ErrorCode::BadUpstream,
        TierError::Timeout { .. } => ErrorCode::Timeout,
        TierError::TooLarge(_) => ErrorCode::ValueTooLarge,
        TierError::RateLimited { .. } => ErrorCode::RateLimited,
        TierError::QueueFull(_) => ErrorCode::Busy,
    };
    Response::Error(WireError::new(code, e.to_string()))
}
