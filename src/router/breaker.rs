//! The circuit breaker in front of the origin: closed, open, half-open. Pure state, owned by
//! the router actor; every transition is logged with its reason.
//!
//! ```text
//!   Closed --(failures >= min_failures and >= failure_rate of the window)--> Open
//!   Open   --(cool-down elapsed, at the next fetch)--> HalfOpen
//!   HalfOpen --(a probe succeeds)--> Closed      HalfOpen --(a probe fails)--> Open
//! ```
//! Only failures of GitHub itself count (5xx, timeouts, connection errors: `TierError::is_failure`);
//! a not-found or a rate-limit answer is GitHub working, and counts as a success.

use std::collections::VecDeque;
use std::time::Duration;

use crate::config::BreakerConfig;
use crate::protocol::{BreakerState, BreakerStats};

pub struct Breaker {
    config: BreakerConfig,
    state: State,
    /// (Unix ms, failed) of the answers within the window, oldest first.
    window: VecDeque<(u64, bool)>,
    stats: BreakerStats,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed,
    Open { until_ms: u64 },
    HalfOpen { probes_out: u64 },
}

/// What a fetch may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Go,
    /// Go, as one of the half-open state's probes: its outcome decides.
    Probe,
    Refused {
        retry_in: Duration,
    },
}

impl Breaker {
    pub fn new(config: BreakerConfig) -> Breaker {
        Breaker {
            config,
            state: State::Closed,
            window: VecDeque::new(),
            stats: BreakerStats::default(),
        }
    }

    pub fn reconfigure(&mut self, config: BreakerConfig) {
        self.config = config;
    }

    /// Closed: the origin is well, and speculative fetches may go.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Open and still cooling down: what [`Breaker::admit`] would refuse, asked without
    /// side effects.
    pub fn cooling_down(&self, now_ms: u64) -> bool {
        matches!(self.state, State::Open { until_ms } if now_ms < until_ms)
    }

    /// Whether a fetch may call the origin now. An admitted probe must be followed by
    /// [`Breaker::record`] with `probe: true`.
    pub fn admit(&mut self, now_ms: u64) -> Admission {
        match self.state {
            State::Closed => Admission::Go,
            State::Open { until_ms } if now_ms < until_ms => {
                self.stats.rejected += 1;
                Admission::Refused {
                    retry_in: Duration::from_millis(until_ms - now_ms),
                }
            }
            State::Open { .. } => {
                self.transition(State::HalfOpen { probes_out: 1 }, "cool-down over");
                Admission::Probe
            }
            State::HalfOpen { probes_out } if probes_out < self.config.probes => {
                self.state = State::HalfOpen {
                    probes_out: probes_out + 1,
                };
                Admission::Probe
            }
            State::HalfOpen { .. } => {
                self.stats.rejected += 1;
                Admission::Refused {
                    retry_in: Duration::from_secs(1),
                }
            }
        }
    }

    /// One fetch's outcome: `failed` when GitHub itself failed it.
    pub fn record(&mut self, now_ms: u64, failed: bool, probe: bool) {
        match self.state {
            State::HalfOpen { .. } if probe => {
                if failed {
                    self.open(now_ms, "a half-open probe failed");
                } else {
                    self.window.clear();
                    self.transition(State::Closed, "a half-open probe succeeded");
                }
            }
            State::Closed => {
                self.window.push_back((now_ms, failed));
                self.expire(now_ms);
                let calls = self.window.len() as u64;
                let failures = self.window.iter().filter(|(_, f)| *f).count() as u64;
                if failed
                    && failures >= self.config.min_failures
                    && failures as f64 >= self.config.failure_rate * calls as f64
                {
                    self.open(
                        now_ms,
                        &format!("{failures} of the last {calls} GitHub answers failed"),
                    );
                }
            }
            // Answers of fetches started before the breaker opened, or non-probes: ignored.
            State::Open { .. } | State::HalfOpen { .. } => {}
        }
    }

    pub fn stats(&mut self, now_ms: u64) -> BreakerStats {
        self.expire(now_ms);
        let mut stats = self.stats.clone();
        stats.state = match self.state {
            State::Closed => BreakerState::Closed,
            State::Open { until_ms } => BreakerState::Open {
                retry_in: Duration::from_millis(until_ms.saturating_sub(now_ms)),
            },
            State::HalfOpen { .. } => BreakerState::HalfOpen,
        };
        stats.window_calls = self.window.len() as u64;
        stats.window_failures = self.window.iter().filter(|(_, f)| *f).count() as u64;
        stats
    }

    fn open(&mut self, now_ms: u64, why: &str) {
        self.window.clear();
        self.stats.opened += 1;
        let until_ms = now_ms + self.config.cooldown.as_millis() as u64;
        self.transition(State::Open { until_ms }, why);
    }

    fn expire(&mut self, now_ms: u64) {
        let horizon = now_ms.saturating_sub(self.config.window.as_millis() as u64);
        while self.window.front().is_some_and(|(at, _)| *at < horizon) {
            self.window.pop_front();
        }
    }

    fn transition(&mut self, to: State, why: &str) {
        let from = self.state;
        self.state = to;
        self.stats.transitions += 1;
        match to {
            State::Open { .. } => {
                tracing::warn!(?from, to = "open", cooldown = ?self.config.cooldown, why, "GitHub circuit breaker")
            }
            _ => tracing::info!(?from, ?to, why, "GitHub circuit breaker"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breaker() -> Breaker {
        Breaker::new(BreakerConfig {
            failure_rate: 0.5,
            min_failures: 3,
            window: Duration::from_secs(10),
            cooldown: Duration::from_secs(5),
            probes: 1,
        })
    }

    fn state(b: &mut Breaker, now: u64) -> BreakerState {
        b.stats(now).state
    }

    #[test]
    fn opens_on_enough_failures_at_the_rate_and_not_before() {
        let mut b = breaker();
        for now in 0..10 {
            b.record(now, false, false);
        }
        b.record(10, true, false);
        b.record(11, true, false);
        assert_eq!(
            state(&mut b, 12),
            BreakerState::Closed,
            "2 failures < min 3"
        );
        b.record(12, true, false);
        // 3 failures of 13 answers: under the 50 % rate.
        assert_eq!(state(&mut b, 13), BreakerState::Closed);
        let mut b = breaker();
        b.record(0, false, false);
        for now in 1..4 {
            b.record(now, true, false);
        }
        assert!(matches!(state(&mut b, 4), BreakerState::Open { .. }));
        assert_eq!(b.stats(4).opened, 1);
    }

    #[test]
    fn old_answers_leave_the_window() {
        let mut b = breaker();
        b.record(0, true, false);
        b.record(1, true, false);
        // Ten seconds later the first two are gone: one more failure is not three.
        b.record(10_500, true, false);
        assert_eq!(state(&mut b, 10_500), BreakerState::Closed);
        assert_eq!(b.stats(10_500).window_calls, 1);
    }

    #[test]
    fn open_refuses_then_half_open_probes_decide() {
        let mut b = breaker();
        for now in 0..3 {
            b.record(now, true, false);
        }
        assert!(
            matches!(b.admit(100), Admission::Refused { retry_in } if retry_in == Duration::from_millis(4_902))
        );
        // After the cool-down: one probe, the next fetch waits for its outcome.
        assert_eq!(b.admit(5_002), Admission::Probe);
        assert!(matches!(b.admit(5_003), Admission::Refused { .. }));
        assert_eq!(state(&mut b, 5_003), BreakerState::HalfOpen);
        b.record(5_010, true, true);
        assert!(matches!(state(&mut b, 5_010), BreakerState::Open { .. }));
        assert_eq!(b.admit(10_010), Admission::Probe);
        b.record(10_020, false, true);
        assert_eq!(state(&mut b, 10_020), BreakerState::Closed);
        assert_eq!(b.admit(10_021), Admission::Go);
        // closed -> open -> half-open -> open -> half-open -> closed
        assert_eq!(b.stats(10_021).transitions, 5);
        assert_eq!(b.stats(10_021).rejected, 2);
    }

    #[test]
    fn answers_that_are_not_failures_never_open_it() {
        let mut b = breaker();
        for now in 0..100 {
            b.record(now, false, false);
        }
        assert_eq!(state(&mut b, 100), BreakerState::Closed);
    }
}
