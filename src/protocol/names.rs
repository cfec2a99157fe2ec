//! The names stats and answers are given by: the tiers, and why a copy was stale.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TierName {
    Memory,
    Database,
    Github,
    /// The write-behind queue between L1 and L2.
    Queue,
    /// The shadcn registry over HTTP (the second origin).
    Registry,
}

impl TierName {
    pub const fn label(self) -> &'static str {
        match self {
            TierName::Memory => "L1 memory",
            TierName::Database => "L2 database",
            TierName::Github => "L3 github",
            TierName::Queue => "write-behind queue",
            TierName::Registry => "L3 registry",
        }
    }

    /// Short, lower case and stable: how metrics label a tier.
    pub const fn id(self) -> &'static str {
        match self {
            TierName::Memory => "memory",
            TierName::Queue => "queue",
            TierName::Database => "database",
            TierName::Github => "github",
            TierName::Registry => "registry",
        }
    }

    /// How messages name an origin's upstream service.
    pub const fn upstream(self) -> &'static str {
        match self {
            TierName::Github => "GitHub",
            TierName::Registry => "the shadcn registry",
            other => other.label(),
        }
    }
}

/// Why an expired copy was the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StaleReason {
    /// Served at once while one background refresh runs (stale-while-revalidate).
    Revalidating,
    /// GitHub failed to answer the refresh (stale-if-error).
    UpstreamFailed,
    /// GitHub's quota is spent; no call before its reset.
    RateLimited,
    /// The circuit breaker is open after repeated GitHub failures.
    BreakerOpen,
    /// Nothing to refresh from: GitHub is off, or the kind's strategy is cache-aside.
    NoUpstream,
    /// Past its TTL, as `metadata` reports it: no read, so no refresh.
    Expired,
}

impl StaleReason {
    pub const ALL: [StaleReason; 6] = [
        StaleReason::Revalidating,
        StaleReason::UpstreamFailed,
        StaleReason::RateLimited,
        StaleReason::BreakerOpen,
        StaleReason::NoUpstream,
        StaleReason::Expired,
    ];

    /// Snake case: how metrics label a reason.
    pub fn id(self) -> &'static str {
        match self {
            StaleReason::Revalidating => "revalidating",
            StaleReason::UpstreamFailed => "upstream_failed",
            StaleReason::RateLimited => "rate_limited",
            StaleReason::BreakerOpen => "breaker_open",
            StaleReason::NoUpstream => "no_upstream",
            StaleReason::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StaleReason::Revalidating => "revalidating",
            StaleReason::UpstreamFailed => "upstream failed",
            StaleReason::RateLimited => "rate limited",
            StaleReason::BreakerOpen => "breaker open",
            StaleReason::NoUpstream => "no upstream",
            StaleReason::Expired => "expired",
        }
    }
}
