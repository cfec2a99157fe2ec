//! `[prefetch]` and `[refresh_ahead]`: what the daemon fetches before it is asked. Both are
//! reloaded on SIGHUP with the TTLs (the router applies them).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Dependency prefetch: when an origin answers a value that names what comes next (a registry
/// item's `registryDependencies`, a block's components, a component's demo), those keys are
/// fetched at once, in the background, so the requests that follow are hits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PrefetchConfig {
    pub enabled: bool,
    /// How far down the dependencies it goes: 1 is the item's own dependencies, 2 theirs too.
    pub depth: u64,
    /// At most this many keys started by one fetched value.
    pub max_keys: u64,
    /// At most this many prefetched keys in flight per origin; more are dropped.
    pub max_in_flight: u64,
    /// The base colors (`colors/<name>.json`, comma-separated) fetched with a built-in
    /// registry's items: `shadcn add` asks for the project's color file after the items.
    /// Empty: none.
    pub base_colors: String,
}

impl Default for PrefetchConfig {
    fn default() -> Self {
        PrefetchConfig {
            enabled: true,
            depth: 2,
            max_keys: 32,
            max_in_flight: 64,
            base_colors: "neutral".into(),
        }
    }
}

impl PrefetchConfig {
    pub fn base_colors(&self) -> impl Iterator<Item = &str> {
        self.base_colors
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
    }
}

/// Refresh-ahead: keys read often are revalidated shortly before they expire, so a hot key
/// is never answered stale. Candidates come from the access counts L1 and L2 keep.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RefreshAheadConfig {
    pub enabled: bool,
    /// A key qualifies when it was read at least this many times since it was last stored...
    pub min_reads: u64,
    /// ...and expires within this long.
    #[serde(with = "humantime_serde")]
    pub ahead: Duration,
    /// How often the tiers are asked for such keys.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// At most this many refreshes a minute (spread over the scans of that minute).
    pub max_per_minute: u64,
}

impl Default for RefreshAheadConfig {
    fn default() -> Self {
        RefreshAheadConfig {
            enabled: true,
            min_reads: 3,
            ahead: Duration::from_secs(600),
            interval: Duration::from_secs(60),
            max_per_minute: 60,
        }
    }
}

impl RefreshAheadConfig {
    /// How many keys one scan may refresh: the minute's bound shared by its scans.
    pub fn per_scan(&self) -> usize {
        let share = self.max_per_minute as f64 * self.interval.as_secs_f64() / 60.0;
        (share.floor() as usize).max(usize::from(self.max_per_minute > 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_scan_gets_its_share_of_the_minute() {
        let mut c = RefreshAheadConfig::default();
        assert_eq!(c.per_scan(), 60);
        c.interval = Duration::from_secs(10);
        assert_eq!(c.per_scan(), 10);
        c.interval = Duration::from_millis(100);
        assert_eq!(c.per_scan(), 1, "never zero while refreshes are allowed");
        c.max_per_minute = 0;
        assert_eq!(c.per_scan(), 0);
    }

    #[test]
    fn base_colors_are_a_comma_list() {
        let c = PrefetchConfig {
            base_colors: " neutral, zinc,,".into(),
            ..PrefetchConfig::default()
        };
        assert_eq!(c.base_colors().collect::<Vec<_>>(), ["neutral", "zinc"]);
    }
}
