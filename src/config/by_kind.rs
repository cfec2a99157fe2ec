//! The settings given per key kind: `[ttl]` and `[strategy]`, one value for each kind that
//! has its own and `default` for the rest, as one generic [`ByKind`].

use std::time::Duration;

use serde::de::{Deserializer, Error as _};
use serde::{Deserialize, Serialize};

/// One value per key kind (the key's first segment) that the config sets one by one; any
/// other kind takes `default`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[serde(bound(deserialize = "T: Deserialize<'de>, ByKind<T>: Default"))]
pub struct ByKind<T> {
    pub default: T,
    pub component: T,
    pub demo: T,
    pub metadata: T,
    pub block: T,
    pub list: T,
    pub tree: T,
    /// `theme:*`: tweakcn's theme presets.
    pub theme: T,
    /// `registry:*`: files of the shadcn registry protocol (items, catalogs, indexes).
    pub registry: T,
}

impl<T: Copy> ByKind<T> {
    pub fn for_kind(&self, kind: &str) -> T {
        match kind {
            "component" => self.component,
            "demo" => self.demo,
            "metadata" => self.metadata,
            "block" => self.block,
            "list" => self.list,
            "tree" => self.tree,
            "theme" => self.theme,
            "registry" => self.registry,
            _ => self.default,
        }
    }

    /// Every value with its key in the config (`default` first).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, T)> {
        [
            ("default", self.default),
            ("component", self.component),
            ("demo", self.demo),
            ("metadata", self.metadata),
            ("block", self.block),
            ("list", self.list),
            ("tree", self.tree),
            ("theme", self.theme),
            ("registry", self.registry),
        ]
        .into_iter()
    }

    /// The same value for every kind.
    const fn all(value: T) -> ByKind<T> {
        ByKind {
            default: value,
            component: value,
            demo: value,
            metadata: value,
            block: value,
            list: value,
            tree: value,
            theme: value,
            registry: value,
        }
    }
}

/// A time to live, written as humantime text (`24h`, `90s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ttl(#[serde(with = "humantime_serde")] pub Duration);

/// Time to live by key kind, for sets that name no TTL and for fetched values.
pub type TtlConfig = ByKind<Ttl>;

const HOUR: Duration = Duration::from_secs(3600);

impl Default for ByKind<Ttl> {
    fn default() -> Self {
        ByKind {
            list: Ttl(6 * HOUR),
            tree: Ttl(12 * HOUR),
            // Rebuilt on every deploy of the site; a revalidation that finds no change
            // costs a 304.
            registry: Ttl(6 * HOUR),
            ..ByKind::all(Ttl(24 * HOUR))
        }
    }
}

impl ByKind<Ttl> {
    pub fn ttl(&self, kind: &str) -> Duration {
        self.for_kind(kind).0
    }
}

/// How writes and fetched values reach the tiers (README, "Write strategies").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// A miss is fetched from its origin, answered, then stored in L1 and L2; a set is in L1
    /// and L2 before it is acknowledged (`Stored`).
    ReadThrough,
    /// As read-through, but a fetched value is in L2 before it is answered.
    WriteThrough,
    /// Sets and fetched values go to L1 at once and to L2 through a bounded queue, flushed in
    /// batches; a set is acknowledged `Queued`.
    WriteBehind,
    /// The cache never fetches: a miss is a miss, and the client stores what it fetched.
    CacheAside,
}

impl Default for ByKind<Strategy> {
    fn default() -> Self {
        ByKind::all(Strategy::ReadThrough)
    }
}

/// `[strategy]`: the strategy by key kind, and whether expired copies are answered while
/// they are refreshed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategyConfig {
    #[serde(flatten)]
    pub kinds: ByKind<Strategy>,
    /// Answer an expired copy at once and refresh it in the background; off, a read waits
    /// for its origin and gets the expired copy only if the origin fails (stale-if-error).
    pub stale_while_revalidate: bool,
}

impl Default for StrategyConfig {
    fn default() -> Self {
        StrategyConfig {
            kinds: ByKind::default(),
            stale_while_revalidate: true,
        }
    }
}

impl StrategyConfig {
    pub fn for_kind(&self, kind: &str) -> Strategy {
        self.kinds.for_kind(kind)
    }

    /// Whether any kind (or the default) uses `strategy`.
    pub fn any(&self, strategy: Strategy) -> bool {
        self.kinds.iter().any(|(_, s)| s == strategy)
    }
}

/// By hand: serde cannot flatten into a struct that refuses unknown fields, and a misspelt
/// kind must be refused.
impl<'de> Deserialize<'de> for StrategyConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut table = toml::Table::deserialize(deserializer)?;
        let stale_while_revalidate = match table.remove("stale_while_revalidate") {
            Some(value) => bool::deserialize(value).map_err(D::Error::custom)?,
            None => StrategyConfig::default().stale_while_revalidate,
        };
        let kinds = ByKind::deserialize(toml::Value::Table(table)).map_err(D::Error::custom)?;
        Ok(StrategyConfig {
            kinds,
            stale_while_revalidate,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kind_without_its_own_value_takes_the_default() {
        let ttl = TtlConfig::default();
        assert_eq!(ttl.ttl("list"), 6 * HOUR);
        assert_eq!(ttl.ttl("note"), 24 * HOUR);
        let strategy: StrategyConfig =
            toml::from_str("block = \"write-behind\"\nstale_while_revalidate = false").unwrap();
        assert_eq!(strategy.for_kind("block"), Strategy::WriteBehind);
        assert_eq!(strategy.for_kind("note"), Strategy::ReadThrough);
        assert!(strategy.any(Strategy::WriteBehind) && !strategy.stale_while_revalidate);
        let err = toml::from_str::<StrategyConfig>("blocks = \"write-behind\"").unwrap_err();
        assert!(err.to_string().contains("unknown field `blocks`"), "{err}");
    }
}
