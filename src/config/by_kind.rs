//! The settings given per key kind: `[ttl]` and `[strategy]`, one value for each kind that
//! has its own and `default` for the rest.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Time to live by key kind (the key's first segment), for sets that name no TTL.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct TtlConfig {
    #[serde(with = "humantime_serde")]
    pub default: Duration,
    #[serde(with = "humantime_serde")]
    pub component: Duration,
    #[serde(with = "humantime_serde")]
    pub demo: Duration,
    #[serde(with = "humantime_serde")]
    pub metadata: Duration,
    #[serde(with = "humantime_serde")]
    pub block: Duration,
    #[serde(with = "humantime_serde")]
    pub list: Duration,
    #[serde(with = "humantime_serde")]
    pub tree: Duration,
    /// `theme:*`: tweakcn's theme presets.
    #[serde(with = "humantime_serde")]
    pub theme: Duration,
}

const HOUR: Duration = Duration::from_secs(3600);

impl Default for TtlConfig {
    fn default() -> Self {
        TtlConfig {
            default: 24 * HOUR,
            component: 24 * HOUR,
            demo: 24 * HOUR,
            metadata: 24 * HOUR,
            block: 24 * HOUR,
            list: 6 * HOUR,
            tree: 12 * HOUR,
            theme: 24 * HOUR,
        }
    }
}

/// The key kinds that `[ttl]` and `[strategy]` set one by one; any other kind takes `default`.
const KINDS: [&str; 7] = [
    "component",
    "demo",
    "metadata",
    "block",
    "list",
    "tree",
    "theme",
];

/// The value for `kind` among per-kind values given in the order of [`KINDS`].
fn for_kind<T: Copy>(kind: &str, default: T, by_kind: [T; 7]) -> T {
    KINDS
        .iter()
        .position(|k| *k == kind)
        .map_or(default, |i| by_kind[i])
}

impl TtlConfig {
    pub fn for_kind(&self, kind: &str) -> Duration {
        for_kind(kind, self.default, self.by_kind())
    }

    fn by_kind(&self) -> [Duration; 7] {
        [
            self.component,
            self.demo,
            self.metadata,
            self.block,
            self.list,
            self.tree,
            self.theme,
        ]
    }
}

/// How writes and fetched values reach the tiers (README, "Write strategies").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// A miss is fetched from GitHub, answered, then stored in L1 and L2; a set is in L1 and
    /// L2 before it is acknowledged (`Stored`).
    ReadThrough,
    /// As read-through, but a fetched value is in L2 before it is answered.
    WriteThrough,
    /// Sets and fetched values go to L1 at once and to L2 through a bounded queue, flushed in
    /// batches; a set is acknowledged `Queued`.
    WriteBehind,
    /// The cache never fetches: a miss is a miss, and the client stores what it fetched.
    CacheAside,
}

/// The strategy by key kind, as `[ttl]` gives the TTL by kind; `default` covers plain keys.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StrategyConfig {
    pub default: Strategy,
    pub component: Strategy,
    pub demo: Strategy,
    pub metadata: Strategy,
    pub block: Strategy,
    pub list: Strategy,
    pub tree: Strategy,
    pub theme: Strategy,
    /// Answer an expired copy at once and refresh it in the background; off, a read waits
    /// for GitHub and gets the expired copy only if GitHub fails (stale-if-error).
    pub stale_while_revalidate: bool,
}

impl Default for StrategyConfig {
    fn default() -> Self {
        StrategyConfig {
            default: Strategy::ReadThrough,
            component: Strategy::ReadThrough,
            demo: Strategy::ReadThrough,
            metadata: Strategy::ReadThrough,
            block: Strategy::ReadThrough,
            list: Strategy::ReadThrough,
            tree: Strategy::ReadThrough,
            theme: Strategy::ReadThrough,
            stale_while_revalidate: true,
        }
    }
}

impl StrategyConfig {
    pub fn for_kind(&self, kind: &str) -> Strategy {
        for_kind(kind, self.default, self.by_kind())
    }

    /// Whether any kind (or the default) uses `strategy`.
    pub fn any(&self, strategy: Strategy) -> bool {
        self.default == strategy || self.by_kind().contains(&strategy)
    }

    fn by_kind(&self) -> [Strategy; 7] {
        [
            self.component,
            self.demo,
            self.metadata,
            self.block,
            self.list,
            self.tree,
            self.theme,
        ]
    }
}
