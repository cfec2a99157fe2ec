//! Fetching from the origins, for the router actor: one fetch per key at a time (later wants
//! join it), and for each origin its own circuit breaker, rate-limit pause and refresh
//! cool-downs, so one failing origin never holds back another. The fetches run in tasks; their
//! answers come back to the actor as [`Fetched`]. A value fetched names what comes next (a
//! registry item's dependencies): those keys are prefetched (`ahead.rs`).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use super::breaker::{Admission, Breaker};
use super::message::{Fetched, Purpose, ToRouter, Want};
use super::walk::Walk;
use super::write::store;
use crate::config::{BreakerConfig, Strategy};
use crate::key::Key;
use crate::protocol::{BreakerStats, RouterStats, TierName};
use crate::tier::{Entry, Lookup, Origin, TierError, unix_ms};

/// A key's fetch: clients waiting for it, then its answer until it is stored, so a read that
/// misses the local tiers in between joins it instead of fetching again.
enum Flight {
    Fetching(Vec<oneshot::Sender<Lookup>>),
    Storing(Lookup),
}

/// What the router keeps about one origin.
struct OriginState {
    name: TierName,
    breaker: Breaker,
    /// No fetch before this (Unix ms): the origin said its quota is spent.
    rate_limited_until_ms: u64,
    /// Keys whose refresh failed, and until when (Unix ms) none is tried again: a stale copy
    /// read in a loop must not turn into a loop of upstream calls. Keys a prefetch found
    /// absent wait here too, for [`ABSENT_AGAIN`].
    refresh_failed: HashMap<Key, u64>,
    /// Speculative fetches in flight (prefetch, refresh-ahead), by number: cancelled, with
    /// the keys they hold, when the origin fails.
    ahead: HashMap<u64, (AbortHandle, Vec<Key>)>,
}

/// How long a key that a prefetch found absent is not prefetched again.
const ABSENT_AGAIN: Duration = Duration::from_secs(600);

impl OriginState {
    /// Whether this origin may be asked now; `Ok(true)` as the breaker's probe.
    fn admit(&mut self, now: u64) -> Result<bool, TierError> {
        if now < self.rate_limited_until_ms {
            return Err(TierError::RateLimited {
                origin: self.name,
                retry_in: Duration::from_millis(self.rate_limited_until_ms - now),
            });
        }
        match self.breaker.admit(now) {
            Admission::Go => Ok(false),
            Admission::Probe => Ok(true),
            Admission::Refused { retry_in } => Err(TierError::BreakerOpen {
                origin: self.name,
                retry_in,
            }),
        }
    }

    /// Open breaker or rate limit: the better reason to give than a cool-down.
    fn held_back(&self, now: u64) -> bool {
        now < self.rate_limited_until_ms || self.breaker.cooling_down(now)
    }

    /// Keys held by speculative fetches in flight.
    fn ahead_keys(&self) -> usize {
        self.ahead.values().map(|(_, keys)| keys.len()).sum()
    }
}

pub(super) struct Fetches {
    flights: HashMap<Key, Flight>,
    /// One per origin, in the order of `Tiers::origins`.
    upstreams: Vec<OriginState>,
    /// How long a key whose refresh failed waits before the next (`breaker.cooldown`).
    cooldown: Duration,
    /// Numbers the speculative fetches.
    next_ahead: u64,
}

impl Fetches {
    pub fn new(origins: &[std::sync::Arc<dyn Origin>], config: &BreakerConfig) -> Fetches {
        Fetches {
            flights: HashMap::new(),
            upstreams: origins
                .iter()
                .map(|origin| OriginState {
                    name: origin.name(),
                    breaker: Breaker::new(config.clone()),
                    rate_limited_until_ms: 0,
                    refresh_failed: HashMap::new(),
                    ahead: HashMap::new(),
                })
                .collect(),
            cooldown: config.cooldown,
            next_ahead: 0,
        }
    }

    pub fn reconfigure(&mut self, config: BreakerConfig) {
        self.cooldown = config.cooldown;
        for upstream in &mut self.upstreams {
            upstream.breaker.reconfigure(config.clone());
        }
    }

    pub fn breakers(&mut self) -> Vec<(TierName, BreakerStats)> {
        let now = unix_ms();
        let stats = |u: &mut OriginState| (u.name, u.breaker.stats(now));
        self.upstreams.iter_mut().map(stats).collect()
    }

    /// Joins wants to fetches in flight; starts one fetch per origin for the rest, where
    /// that origin's rate limit and breaker allow it. `admission` is answered at once: the
    /// first refusal, or `Ok` when every origin asked will be.
    pub fn fetch(
        &mut self,
        walk: &Walk,
        wanted: Vec<Want>,
        purpose: Purpose,
        counters: &mut RouterStats,
        admission: oneshot::Sender<Result<(), TierError>>,
    ) {
        let mut by_origin: Vec<Vec<Want>> = self.upstreams.iter().map(|_| Vec::new()).collect();
        let now = unix_ms();
        for want in wanted {
            // A fetched value still being stored answers its joiners, unless it expired
            // meanwhile: then it is what they already had.
            if let Some(Flight::Storing(Lookup::Hit(entry))) = self.flights.get(&want.key)
                && entry.meta.is_expired(now)
            {
                self.flights.remove(&want.key);
            }
            // A fetch ahead that finds the key on its way has nothing to fetch and no client
            // to count (prefetch may still wait for the answer).
            let coalesced = u64::from(!purpose.speculative());
            match self.flights.get_mut(&want.key) {
                Some(Flight::Fetching(waiters)) => {
                    counters.coalesced += coalesced;
                    waiters.extend(want.answer);
                }
                Some(Flight::Storing(answer)) => {
                    counters.coalesced += coalesced;
                    if let Some(tx) = want.answer {
                        let _ = tx.send(answer.clone());
                    }
                }
                None => match walk.tiers.origin_for(&want.key) {
                    Some((origin, _)) => by_origin[origin].push(want),
                    None => answer_all(vec![want], &Lookup::Miss),
                },
            }
        }
        let mut refusal = None;
        for (origin, new) in by_origin.into_iter().enumerate() {
            if new.is_empty() {
                continue;
            }
            if let Err(e) = self.start(walk, origin, new, purpose, now) {
                refusal.get_or_insert(e);
            }
        }
        let _ = admission.send(refusal.map_or(Ok(()), Err));
    }

    /// One origin's share of a fetch: refused (every want answered with why), or started.
    fn start(
        &mut self,
        walk: &Walk,
        origin: usize,
        mut new: Vec<Want>,
        purpose: Purpose,
        now: u64,
    ) -> Result<(), TierError> {
        let upstream = &mut self.upstreams[origin];
        if purpose.speculative() {
            // Nobody waits for it: it goes only to an origin that is well, and within the
            // bound on what is in flight ahead of the clients.
            if upstream.held_back(now) || !upstream.breaker.is_closed() {
                return Err(TierError::Unavailable {
                    tier: upstream.name.label(),
                    reason: "not fetched ahead while the origin is failing or rate-limited".into(),
                });
            }
            let room = walk
                .policy
                .prefetch
                .max_in_flight
                .saturating_sub(upstream.ahead_keys() as u64) as usize;
            new.truncate(room);
            if new.is_empty() {
                return Ok(());
            }
        }
        // A refresh that failed lately is not tried again before the cool-down, unless the
        // rate limit or the open breaker is the better reason to give.
        if purpose != Purpose::Read && !upstream.held_back(now) {
            upstream.refresh_failed.retain(|_, until| *until > now);
            new.retain(|want| !upstream.refresh_failed.contains_key(&want.key));
            if new.is_empty() {
                return Err(TierError::Unavailable {
                    tier: upstream.name.label(),
                    reason: "its last refresh failed; not retried before the cool-down".into(),
                });
            }
        }
        let probe = match upstream.admit(now) {
            Ok(probe) => probe,
            Err(e) => {
                answer_all(new, &Lookup::Failed(e.clone()));
                return Err(e);
            }
        };
        let mut keys = Vec::with_capacity(new.len());
        for want in new {
            keys.push((want.key.clone(), want.stale));
            let waiters = want.answer.into_iter().collect();
            self.flights.insert(want.key, Flight::Fetching(waiters));
        }
        let ahead = purpose.speculative().then(|| {
            self.next_ahead += 1;
            self.next_ahead
        });
        let held: Vec<Key> = match ahead {
            Some(_) => keys.iter().map(|(k, _)| k.clone()).collect(),
            None => Vec::new(),
        };
        let walk = walk.clone();
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let answers = ask(&walk, origin, keys, purpose).await;
            let took = started.elapsed();
            // Write-through kinds are in L2 before anyone is answered; the rest after.
            let (now, later): (Vec<_>, Vec<_>) = hits(&walk, &answers)
                .into_iter()
                .partition(|(_, _, strategy)| *strategy == Strategy::WriteThrough);
            store(&walk.tiers.local, &now).await;
            let _ = walk.router.send_message(ToRouter::Fetched(Fetched {
                origin,
                answers: answers.clone(),
                took,
                probe,
                purpose,
                ahead,
            }));
            store(&walk.tiers.local, &later).await;
            let keys = answers.into_iter().map(|(k, _)| k).collect();
            let _ = walk.router.send_message(ToRouter::Stored(keys));
        });
        if let Some(n) = ahead {
            self.upstreams[origin]
                .ahead
                .insert(n, (task.abort_handle(), held));
        }
        Ok(())
    }

    /// An origin's answers: its breaker and rate limit learn from them, and the clients
    /// waiting get them. A failure of the origin cancels its speculative fetches. Returns the
    /// hits, for what they name next.
    pub fn fetched(&mut self, fetched: Fetched) -> Vec<(Key, Entry)> {
        let now = unix_ms();
        let upstream = &mut self.upstreams[fetched.origin];
        if let Some(n) = fetched.ahead {
            upstream.ahead.remove(&n);
        }
        let mut hits = Vec::new();
        let mut failure = None;
        for (key, answer) in fetched.answers {
            let failed = match &answer {
                Lookup::Failed(e @ TierError::RateLimited { retry_in, .. }) => {
                    let until = now + retry_in.as_millis() as u64;
                    upstream.rate_limited_until_ms = upstream.rate_limited_until_ms.max(until);
                    failure = Some(e.clone());
                    false
                }
                Lookup::Failed(e) if e.is_failure() => {
                    failure = Some(e.clone());
                    true
                }
                _ => false,
            };
            upstream.breaker.record(now, failed, fetched.probe);
            let again = match &answer {
                _ if fetched.purpose == Purpose::Read => None,
                Lookup::Failed(_) => Some(self.cooldown),
                Lookup::Absent(_) if fetched.purpose.speculative() => Some(ABSENT_AGAIN),
                _ => None,
            };
            if let Some(again) = again {
                let until = now + again.as_millis() as u64;
                upstream.refresh_failed.insert(key.clone(), until);
            }
            if let Some(Flight::Fetching(waiters)) = self.flights.remove(&key) {
                for waiter in waiters {
                    let _ = waiter.send(answer.clone());
                }
            }
            if let Lookup::Hit(entry) = &answer {
                hits.push((key.clone(), entry.clone()));
                self.flights.insert(key, Flight::Storing(answer));
            }
        }
        if let Some(e) = failure {
            self.cancel_ahead(fetched.origin, &e);
        }
        hits
    }

    /// The origin failed: its speculative fetches stop (their requests are dropped), and
    /// the clients that joined one get the failure, as a fetch of their own would now.
    fn cancel_ahead(&mut self, origin: usize, e: &TierError) {
        let upstream = &mut self.upstreams[origin];
        if upstream.ahead.is_empty() {
            return;
        }
        tracing::debug!(
            origin = upstream.name.label(),
            fetches = upstream.ahead.len(),
            error = %e,
            "fetches ahead cancelled"
        );
        for (_, (task, keys)) in upstream.ahead.drain() {
            task.abort();
            for key in keys {
                if let Some(Flight::Fetching(waiters)) = self.flights.remove(&key) {
                    for waiter in waiters {
                        let _ = waiter.send(Lookup::Failed(e.clone()));
                    }
                }
            }
        }
    }

    /// Whether a key is being fetched or stored now.
    pub fn in_flight(&self, key: &Key) -> bool {
        self.flights.contains_key(key)
    }

    /// The origin's name, for the latency a fetch is timed under.
    pub fn name(&self, origin: usize) -> TierName {
        self.upstreams[origin].name
    }

    /// A fetch's hits are in the local tiers: later reads find them there.
    pub fn stored(&mut self, keys: Vec<Key>) {
        for key in keys {
            if let Some(Flight::Storing(_)) = self.flights.get(&key) {
                self.flights.remove(&key);
            }
        }
    }
}

fn answer_all(wants: Vec<Want>, lookup: &Lookup) {
    for want in wants {
        if let Some(tx) = want.answer {
            let _ = tx.send(lookup.clone());
        }
    }
}

/// Asks origin `origin` for `keys`; one answer per key whatever happens.
async fn ask(
    walk: &Walk,
    origin: usize,
    keys: Vec<(Key, Option<Entry>)>,
    purpose: Purpose,
) -> Vec<(Key, Lookup)> {
    let n = keys.len();
    let names: Vec<Key> = keys.iter().map(|(k, _)| k.clone()).collect();
    let answers = match walk.tiers.origins[origin]
        .fetch(keys, purpose.urgency())
        .await
    {
        Ok(answers) if answers.len() == n => answers,
        Ok(_) => vec![Lookup::Failed(TierError::BadUpstream("answers lost".into())); n],
        Err(e) => vec![Lookup::Failed(e); n],
    };
    names.into_iter().zip(answers).collect()
}

/// The hits among a fetch's answers, with their kinds' strategies.
fn hits(walk: &Walk, answers: &[(Key, Lookup)]) -> Vec<(Key, Entry, Strategy)> {
    answers
        .iter()
        .filter_map(|(key, answer)| match answer {
            Lookup::Hit(entry) => Some((key.clone(), entry.clone(), walk.policy.strategy(key))),
            _ => None,
        })
        .collect()
}
