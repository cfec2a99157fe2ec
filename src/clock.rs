//! The daemon's wall clock, in Unix milliseconds: what entries' timestamps and TTLs, the
//! breakers' windows and GitHub's rate-limit resets are measured in (they outlive the process,
//! so `Instant` will not do). Tests move it forward instead of sleeping until a TTL runs out:
//! a daemon started with `SHADCACHE_TEST_CLOCK=1` takes `Request::AdvanceClock`; any other
//! refuses it, so nothing can move a real daemon's clock.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The environment variable that lets tests move the clock.
pub const TEST_CLOCK_VAR: &str = "SHADCACHE_TEST_CLOCK";

/// How far tests have moved this process's clock.
static AHEAD_MS: AtomicU64 = AtomicU64::new(0);

pub fn unix_ms() -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    now.saturating_add(AHEAD_MS.load(Relaxed))
}

/// Moves this process's clock forward by `by`; it never goes back.
pub fn advance(by: Duration) {
    AHEAD_MS.fetch_add(u64::try_from(by.as_millis()).unwrap_or(u64::MAX), Relaxed);
}

/// Whether this daemon's environment lets tests move its clock.
pub fn movable(env: &[(String, String)]) -> bool {
    env.iter().any(|(k, v)| k == TEST_CLOCK_VAR && v == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_test_daemon_takes_clock_moves() {
        let var = |v: &str| vec![(TEST_CLOCK_VAR.to_owned(), v.to_owned())];
        assert!(movable(&var("1")));
        assert!(!movable(&var("0")) && !movable(&[]));
    }
}
