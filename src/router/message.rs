//! What the router actor is told: commands from its handle, fetches from walks, answers from
//! fetch tasks. Its own file so that the handle, the walks and the actor all depend on it and
//! not on each other.

use std::time::Duration;

use ractor::RpcReplyPort;
use tokio::sync::oneshot;

use super::command::Command;
use super::policy::Policy;
use crate::config::BreakerConfig;
use crate::key::Key;
use crate::protocol::{Response, StaleReason, TierName};
use crate::tier::{Entry, Lookup, TierError, Urgency};

pub enum ToRouter {
    /// `l1_checked`: the handle's fast path already found nothing fresh in L1.
    Execute {
        command: Command,
        l1_checked: bool,
        reply: RpcReplyPort<Response>,
    },
    /// From a walk: keys to get from their origins. `admission` is answered at once with
    /// whether the origins will be asked; each want's answer comes when its fetch ends.
    Fetch {
        wanted: Vec<Want>,
        purpose: Purpose,
        admission: oneshot::Sender<Result<(), TierError>>,
    },
    /// From a fetch task: an origin's answers (already in L2 for write-through kinds).
    Fetched(Fetched),
    /// From a fetch task: its hits are in the local tiers now.
    Stored(Vec<Key>),
    /// From the task that ran a command, once it has answered.
    Finished(Outcome),
    Reconfigure(Box<Policy>, BreakerConfig),
    /// The refresh-ahead timer: ask the local tiers for hot keys about to expire.
    RefreshAhead,
    #[cfg(test)]
    Panic,
}

/// One key a walk wants from its origin.
pub struct Want {
    pub key: Key,
    /// The expired copy the local tiers hold, so an unchanged value costs no download.
    pub stale: Option<Entry>,
    /// `None` for a background refresh: nobody waits for it.
    pub answer: Option<oneshot::Sender<Lookup>>,
}

/// One origin's answers to one fetch.
pub struct Fetched {
    /// Which origin (its place in `Tiers::origins`).
    pub origin: usize,
    pub answers: Vec<(Key, Lookup)>,
    pub took: Duration,
    /// The fetch was the breaker's probe.
    pub probe: bool,
    pub purpose: Purpose,
    /// The fetch's number among its origin's speculative fetches (prefetch, refresh-ahead),
    /// which are cancelled when the origin fails.
    pub ahead: Option<u64>,
}

/// Why a fetch is made: what the origin is told (a client waits, or not), what it counts as,
/// and what it may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A client waits for it.
    Read,
    /// An expired copy was answered; this brings it up to date (stale-while-revalidate).
    Revalidate,
    /// Named by a value fetched at `depth - 1` (a registry item's dependency, a block's
    /// component), so the read that follows is a hit.
    Prefetch { depth: u8 },
    /// A key read often, about to expire.
    RefreshAhead,
}

impl Purpose {
    pub fn urgency(self) -> Urgency {
        match self {
            Purpose::Read => Urgency::Waiting,
            _ => Urgency::Background,
        }
    }

    /// Nobody asked for it: it never probes a half-open breaker, never waits out a rate
    /// limit, and is cancelled when its origin fails.
    pub fn speculative(self) -> bool {
        matches!(self, Purpose::Prefetch { .. } | Purpose::RefreshAhead)
    }

    /// How deep the values it fetches are in a chain of dependencies (a read is 0).
    pub fn depth(self) -> u8 {
        match self {
            Purpose::Prefetch { depth } => depth,
            _ => 0,
        }
    }
}

/// What the router learns from a finished command, for its counters.
#[derive(Debug, Default)]
pub struct Outcome {
    pub answered_by: Vec<TierName>,
    pub misses: u64,
    pub promotions: u64,
    /// Keys answered with an expired copy, by why.
    pub stale: Vec<StaleReason>,
    pub error: bool,
    /// How long each local tier took to answer a read.
    pub latency: Vec<(TierName, Duration)>,
    /// Hits to copy into the tiers above the one (by depth) that had them, after the answer
    /// is sent: promotion is not on the reader's critical path.
    pub promote: Vec<(usize, Vec<(Key, Entry)>)>,
}
