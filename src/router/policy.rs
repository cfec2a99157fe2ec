//! TTLs and strategies by key kind, as the router applies them.

use crate::config::{PrefetchConfig, RefreshAheadConfig, Strategy, StrategyConfig, TtlConfig};
use crate::key::Key;

/// TTLs, strategies and what is fetched ahead, replaced whole on SIGHUP.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub ttl: TtlConfig,
    pub strategy: StrategyConfig,
    pub prefetch: PrefetchConfig,
    pub refresh_ahead: RefreshAheadConfig,
}

impl Policy {
    pub fn strategy(&self, key: &Key) -> Strategy {
        self.strategy.for_kind(key.kind())
    }

    /// Whether a read of this key may go to its origin (cache-aside kinds never do).
    pub(super) fn fetches(&self, key: &Key) -> bool {
        self.strategy(key) != Strategy::CacheAside
    }
}
