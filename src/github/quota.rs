//! GitHub's quota as state: what the `x-ratelimit-*` headers last said, and when the origin
//! may be called again after a rate-limit answer. Pure: every call takes the time, so the
//! waiting rules (DESIGN.md) are tested without waiting.
//!
//! After a 403/429: wait `retry-after` seconds if given; else, with `remaining` at 0, until
//! `x-ratelimit-reset`; else at least 60 s, doubling on each repeat. Until then no request
//! goes to that origin. Below `reserve` remaining calls, only requests a client is waiting
//! for may go; background refreshes wait for the reset.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::backoff::Backoff;

/// The rate-limit headers of one answer, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub used: Option<u64>,
    /// Unix seconds.
    pub reset: Option<u64>,
    pub resource: Option<String>,
    /// Seconds.
    pub retry_after: Option<u64>,
}

impl Headers {
    /// How long a rate-limit answer with these headers asks us to wait, by GitHub's order:
    /// `retry-after`, else the reset time when none remain, else the minimum back-off.
    pub fn wait_hint(&self, now_ms: u64) -> Duration {
        if let Some(seconds) = self.retry_after {
            Duration::from_secs(seconds)
        } else if self.remaining == Some(0)
            && let Some(reset) = self.reset
        {
            Duration::from_millis(reset.saturating_mul(1000).saturating_sub(now_ms))
                .max(Duration::from_secs(1))
        } else {
            MIN_BACKOFF
        }
    }

    /// From header name/value pairs (names case-insensitive); unparsable values are ignored.
    pub fn parse<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Headers {
        let mut h = Headers::default();
        for (name, value) in pairs {
            let number = || value.trim().parse::<u64>().ok();
            match name.to_ascii_lowercase().as_str() {
                "x-ratelimit-limit" => h.limit = number(),
                "x-ratelimit-remaining" => h.remaining = number(),
                "x-ratelimit-used" => h.used = number(),
                "x-ratelimit-reset" => h.reset = number(),
                "x-ratelimit-resource" => h.resource = Some(value.trim().to_owned()),
                "retry-after" => h.retry_after = number(),
                _ => {}
            }
        }
        h
    }
}

/// What `shadcache stats` shows and `metadata:github_rate_limit` stores.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaState {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub used: Option<u64>,
    pub reset_unix: Option<u64>,
    pub resource: Option<String>,
    /// Unix ms before which no request goes out, after a rate-limit answer.
    pub blocked_until_ms: Option<u64>,
    pub rate_limited_answers: u64,
    /// API answers this daemon received (the ones with rate-limit headers), 304s included,
    /// and how many of them were 304s (which cost no quota).
    pub api_answers: u64,
    /// Files downloaded from the raw host, which the API quota does not count.
    #[serde(default)]
    pub raw_downloads: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A client is waiting for this answer.
    Interactive,
    /// A refresh nobody waits for.
    Background,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("GitHub rate limit: retrying in {}", humantime::format_duration(*.0))]
    RateLimited(Duration),
    #[error("only {remaining} GitHub calls left (reserve {reserve}); background refresh waits {}",
        humantime::format_duration(*.wait))]
    Reserve {
        remaining: u64,
        reserve: u64,
        wait: Duration,
    },
}

impl Refusal {
    /// How long until GitHub may be asked again.
    pub fn retry_in(&self) -> Duration {
        match self {
            Refusal::RateLimited(wait) | Refusal::Reserve { wait, .. } => *wait,
        }
    }
}

/// After a rate-limit answer with no hint: a minute, doubling to an hour.
const MIN_BACKOFF: Duration = Duration::from_secs(60);
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

#[derive(Debug, Clone)]
pub struct Quota {
    state: QuotaState,
    reserve: u64,
    backoff: Backoff,
}

impl Quota {
    pub fn new(reserve: u64) -> Quota {
        Quota {
            state: QuotaState::default(),
            reserve,
            backoff: Backoff::new(MIN_BACKOFF, MAX_BACKOFF),
        }
    }

    pub fn state(&self) -> &QuotaState {
        &self.state
    }

    /// Every answer's headers, whatever its status.
    pub fn observe(&mut self, headers: &Headers) {
        let s = &mut self.state;
        if headers.limit.is_some() || headers.remaining.is_some() {
            s.api_answers += 1;
        }
        s.limit = headers.limit.or(s.limit);
        s.remaining = headers.remaining.or(s.remaining);
        s.used = headers.used.or(s.used);
        s.reset_unix = headers.reset.or(s.reset_unix);
        if headers.resource.is_some() {
            s.resource.clone_from(&headers.resource);
        }
    }

    /// An answer of the raw file host: it costs no API quota, and whatever rate-limit headers
    /// it carries do not describe the API's.
    pub fn downloaded(&mut self) {
        self.state.raw_downloads += 1;
    }

    /// A 403/429 that is a rate limit: blocks the origin and returns how long.
    pub fn rate_limited(&mut self, headers: &Headers, now_ms: u64) -> Duration {
        self.observe(headers);
        self.state.rate_limited_answers += 1;
        let wait = if headers.retry_after.is_some() || headers.remaining == Some(0) {
            headers.wait_hint(now_ms)
        } else {
            self.backoff.fail()
        };
        // Header values are any u64: saturate rather than overflow (or wrap to "not blocked").
        let until = now_ms.saturating_add(u64::try_from(wait.as_millis()).unwrap_or(u64::MAX));
        self.state.blocked_until_ms =
            Some(self.state.blocked_until_ms.map_or(until, |b| b.max(until)));
        wait
    }

    /// A successful answer: the exponential back-off starts over.
    pub fn succeeded(&mut self) {
        self.backoff.reset();
    }

    /// Whether a request may go upstream now.
    pub fn check(&self, priority: Priority, now_ms: u64) -> Result<(), Refusal> {
        if let Some(until) = self.state.blocked_until_ms
            && until > now_ms
        {
            return Err(Refusal::RateLimited(Duration::from_millis(until - now_ms)));
        }
        if priority == Priority::Background
            && let Some(remaining) = self.state.remaining
            && remaining <= self.reserve
        {
            let reset_ms = self.state.reset_unix.unwrap_or(0).saturating_mul(1000);
            if reset_ms > now_ms {
                return Err(Refusal::Reserve {
                    remaining,
                    reserve: self.reserve,
                    wait: Duration::from_millis(reset_ms - now_ms),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        Headers::parse(pairs.iter().copied())
    }

    #[test]
    fn headers_update_the_state() {
        let mut q = Quota::new(5);
        q.observe(&headers(&[
            ("X-RateLimit-Limit", "60"),
            ("x-ratelimit-remaining", "59"),
            ("x-ratelimit-used", "1"),
            ("x-ratelimit-reset", "1700003600"),
            ("x-ratelimit-resource", "core"),
            ("x-ratelimit-remaining-bogus", "7"),
        ]));
        let s = q.state();
        assert_eq!(
            (s.limit, s.remaining, s.used),
            (Some(60), Some(59), Some(1))
        );
        assert_eq!(s.reset_unix, Some(1_700_003_600));
        assert_eq!(s.resource.as_deref(), Some("core"));
        // A later answer without headers (raw host) keeps what is known.
        q.observe(&Headers::default());
        assert_eq!(q.state().remaining, Some(59));
    }

    #[test]
    fn retry_after_wins() {
        let mut q = Quota::new(0);
        let wait = q.rate_limited(
            &headers(&[
                ("retry-after", "30"),
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1700009999"),
            ]),
            NOW,
        );
        assert_eq!(wait, Duration::from_secs(30));
        assert!(q.check(Priority::Interactive, NOW + 29_000).is_err());
        assert!(q.check(Priority::Interactive, NOW + 30_000).is_ok());
    }

    #[test]
    fn exhausted_quota_waits_for_the_reset() {
        let mut q = Quota::new(0);
        let wait = q.rate_limited(
            &headers(&[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "1700000600"),
            ]),
            NOW,
        );
        assert_eq!(wait, Duration::from_secs(600));
        let refusal = q.check(Priority::Interactive, NOW + 1_000).unwrap_err();
        assert!(
            refusal.to_string().contains("retrying in 9m 59s"),
            "{refusal}"
        );
    }

    #[test]
    fn otherwise_back_off_from_a_minute_doubling() {
        let mut q = Quota::new(0);
        let first = q.rate_limited(&Headers::default(), NOW);
        let second = q.rate_limited(&Headers::default(), NOW);
        assert_eq!(
            (first, second),
            (Duration::from_secs(60), Duration::from_secs(120))
        );
        q.succeeded();
        assert_eq!(
            q.rate_limited(&Headers::default(), NOW),
            Duration::from_secs(60)
        );
        assert_eq!(q.state().rate_limited_answers, 3);
    }

    #[test]
    fn huge_header_values_saturate_instead_of_overflowing() {
        // Found by the `quota` fuzz target: `retry-after: 18446744055009550` overflowed
        // `now + wait` (a panic in debug builds; in release it wrapped to a time in the past,
        // so the origin was not blocked at all). `x-ratelimit-reset` overflowed `* 1000`.
        let mut q = Quota::new(10);
        let h = headers(&[("retry-after", "18446744055009550")]);
        let wait = q.rate_limited(&h, NOW);
        assert_eq!(wait, Duration::from_secs(18_446_744_055_009_550));
        assert!(q.check(Priority::Interactive, NOW + 3_600_000).is_err());
        let h = headers(&[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "18446744073709551"),
        ]);
        let mut q = Quota::new(10);
        assert!(h.wait_hint(NOW) > Duration::from_secs(3600));
        q.rate_limited(&h, NOW);
        assert!(q.check(Priority::Background, u64::MAX).is_ok());
    }

    #[test]
    fn below_the_reserve_only_interactive_requests_go() {
        let mut q = Quota::new(10);
        q.observe(&headers(&[
            ("x-ratelimit-remaining", "10"),
            ("x-ratelimit-reset", "1700000060"),
        ]));
        assert!(q.check(Priority::Interactive, NOW).is_ok());
        assert!(matches!(
            q.check(Priority::Background, NOW),
            Err(Refusal::Reserve { remaining: 10, .. })
        ));
        // After the reset, background work may go again.
        assert!(q.check(Priority::Background, NOW + 61_000).is_ok());
    }
}
