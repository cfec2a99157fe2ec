//! What the GitHub tier's actor and its tasks tell each other: the actor's messages, the tree
//! state they carry, and `report`, through which every answer's rate-limit headers reach the
//! actor. Its own file so that the read and listing tasks depend on it and not on the actor.

use std::sync::Arc;

use ractor::ActorRef;

use super::http::{Fetched, Origin};
use super::quota::Headers;
use super::tree::RegistryTree;
use crate::key::Key;
use crate::protocol::{TierName, TierStats};
use crate::shadcn::framework::Framework;
use crate::tier::{Entry, Lookup, Reply, TierError, Urgency, unix_ms};

pub(super) const LABEL: &str = "L3 github";

/// The key under which the quota state is served (DESIGN.md).
pub const RATE_LIMIT_KEY: &str = "metadata:github_rate_limit";
pub enum ToGithub {
    /// Keys with the stale copy the cache holds, if any (see [`crate::tier::Origin`]).
    Fetch(Vec<(Key, Option<Entry>)>, Urgency, Reply<Vec<Lookup>>),
    Stats(Reply<TierStats>),
    /// From read tasks: the framework's tree, fetched or revalidated when stale.
    Tree(&'static Framework, Reply<TreeAnswer>),
    /// From the tree task.
    TreeDone(&'static str, Result<CachedTree, TierError>),
    /// From any task: an answer's rate-limit headers.
    Observed {
        origin: Origin,
        headers: Headers,
        rate_limited: bool,
    },
    /// From read tasks: outcomes, for stats.
    Answered(Counts),
}

/// What read tasks found, for stats.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub(super) found: u64,
    /// Stale copies confirmed current by their blob sha or ETag: nothing downloaded.
    pub(super) unchanged: u64,
    pub(super) not_found: u64,
    pub(super) failed: u64,
}

/// The tree a read plans against, and why it is not a fresh one if it is not: a tree GitHub
/// could not confirm still locates files, but cannot confirm a stale copy.
#[derive(Clone)]
pub struct TreeAnswer {
    pub(super) tree: Arc<RegistryTree>,
    pub(super) unconfirmed: Option<TierError>,
}

pub(super) type Pacer = governor::DefaultDirectRateLimiter;

#[derive(Clone)]
pub struct CachedTree {
    /// Every root's listing in one.
    pub(super) tree: Arc<RegistryTree>,
    /// Each root's own, in the order of `Framework::roots`.
    pub(super) roots: Vec<RootListing>,
    pub(super) fetched_ms: u64,
}

#[derive(Clone)]
pub struct RootListing {
    pub(super) tree: Arc<RegistryTree>,
    /// ETag of the parent directory listing that named the root's sha.
    pub(super) etag: Option<String>,
}

pub(super) fn unavailable(reason: &str) -> TierError {
    TierError::Unavailable {
        tier: LABEL,
        reason: reason.to_owned(),
    }
}

/// Sends the headers of an answer to the actor and turns the answer into a plain result.
pub(super) fn report(
    myself: &ActorRef<ToGithub>,
    origin: Origin,
    (outcome, headers): (Result<Fetched, super::http::FetchError>, Headers),
) -> Result<Fetched, TierError> {
    let rate_limited = matches!(outcome, Ok(Fetched::RateLimited));
    let _ = myself.send_message(ToGithub::Observed {
        origin,
        headers: headers.clone(),
        rate_limited,
    });
    match outcome {
        Ok(Fetched::RateLimited) => Err(TierError::RateLimited {
            origin: TierName::Github,
            retry_in: headers.wait_hint(unix_ms()),
        }),
        Ok(fetched) => Ok(fetched),
        Err(e) if e.is_upstream_failure() => Err(unavailable(&e.to_string())),
        Err(e) => Err(TierError::BadUpstream(e.to_string())),
    }
}
