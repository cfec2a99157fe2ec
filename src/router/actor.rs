//! The Router actor: takes every command and starts it on its way through the tiers in a task
//! of its own; owns what must be decided in one place: which fetches are in flight (so one
//! key is fetched once however many clients miss it), the breaker, the rate-limit window and
//! the counters. Its handlers never await a tier.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::oneshot;

use super::breaker::{Admission, Breaker};
use super::command::Command;
use super::walk::{self, Outcome, Policy, Tiers, Walk};
use crate::config::{BreakerConfig, Strategy};
use crate::key::Key;
use crate::latency::Latency;
use crate::protocol::{Response, RouterStats, StaleReason, Stats, TierName, TierStats};
use crate::tier::{Entry, Lookup, TierError, Urgency, unix_ms};
use crate::write_behind::WriteBehindHandle;

use super::handle::FastPath;

pub enum ToRouter {
    /// `l1_checked`: the handle's fast path already found nothing fresh in L1.
    Execute {
        command: Command,
        l1_checked: bool,
        reply: RpcReplyPort<Response>,
    },
    /// From a walk: keys to get from the origin. `admission` is answered at once with
    /// whether the origin will be asked; each want's answer comes when its fetch ends.
    Fetch {
        wanted: Vec<Want>,
        urgency: Urgency,
        admission: oneshot::Sender<Result<(), TierError>>,
    },
    /// From a fetch task: the origin's answers (already in L2 for write-through kinds).
    Fetched(Fetched),
    /// From a fetch task: its hits are in the local tiers now.
    Stored(Vec<Key>),
    /// From the task that ran a command, once it has answered.
    Finished(Outcome),
    Reconfigure(Policy, BreakerConfig),
    #[cfg(test)]
    Panic,
}

/// One key a walk wants from the origin.
pub struct Want {
    pub key: Key,
    /// The expired copy the local tiers hold, so an unchanged value costs no download.
    pub stale: Option<Entry>,
    /// `None` for a background refresh: nobody waits for it.
    pub answer: Option<oneshot::Sender<Lookup>>,
}

pub struct Fetched {
    answers: Vec<(Key, Lookup)>,
    took: Duration,
    probe: bool,
    urgency: Urgency,
}

/// A key's fetch: clients waiting for it, then its answer until it is stored, so a read that
/// misses the local tiers in between joins it instead of fetching again.
enum Flight {
    Fetching(Vec<oneshot::Sender<Lookup>>),
    Storing(Lookup),
}

pub struct Router;

pub struct RouterArgs {
    pub tiers: Arc<Tiers>,
    pub policy: Policy,
    pub breaker: BreakerConfig,
    pub queue: Option<WriteBehindHandle>,
    /// The handle's fast path counts here.
    pub fast: Arc<FastPath>,
}

pub struct RouterState {
    walk: Walk,
    queue: Option<WriteBehindHandle>,
    flights: HashMap<Key, Flight>,
    breaker: Breaker,
    /// How long a key whose refresh failed waits before the next (`breaker.cooldown`).
    cooldown: Duration,
    /// No fetch before this (Unix ms): the origin said its quota is spent.
    rate_limited_until_ms: u64,
    /// Keys whose refresh failed, and until when (Unix ms) none is tried again: a stale copy
    /// read in a loop must not turn into a loop of upstream calls.
    refresh_failed: HashMap<Key, u64>,
    counters: RouterStats,
    stale: HashMap<StaleReason, u64>,
    latency: HashMap<TierName, Latency>,
    fast: Arc<FastPath>,
}

impl Actor for Router {
    type Msg = ToRouter;
    type State = RouterState;
    type Arguments = RouterArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<ToRouter>,
        args: RouterArgs,
    ) -> Result<RouterState, ActorProcessingErr> {
        Ok(RouterState {
            walk: Walk {
                tiers: args.tiers,
                policy: Arc::new(args.policy),
                router: myself,
            },
            queue: args.queue,
            flights: HashMap::new(),
            cooldown: args.breaker.cooldown,
            breaker: Breaker::new(args.breaker),
            rate_limited_until_ms: 0,
            refresh_failed: HashMap::new(),
            counters: RouterStats::default(),
            stale: HashMap::new(),
            latency: HashMap::new(),
            fast: args.fast,
        })
    }

    async fn handle(
        &self,
        _myself: ActorRef<ToRouter>,
        message: ToRouter,
        state: &mut RouterState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ToRouter::Execute {
                command: Command::Stats,
                reply,
                ..
            } => {
                state.counters.commands += 1;
                let router = state.router_stats();
                let tiers = state.walk.tiers.clone();
                let queue = state.queue.clone();
                tokio::spawn(async move {
                    let stats = collect_stats(&tiers, queue, router).await;
                    let _ = reply.send(Response::Stats(Box::new(stats)));
                });
            }
            ToRouter::Execute {
                command,
                l1_checked,
                reply,
            } => {
                state.counters.commands += 1;
                let walk = state.walk.clone();
                tokio::spawn(async move {
                    let (response, mut outcome) = walk.execute(command, l1_checked).await;
                    let _ = reply.send(response);
                    walk.promote(&mut outcome).await;
                    // The router may be restarting; losing one command's counters is fine.
                    let _ = walk.router.send_message(ToRouter::Finished(outcome));
                });
            }
            ToRouter::Fetch {
                wanted,
                urgency,
                admission,
            } => state.fetch(wanted, urgency, admission),
            ToRouter::Fetched(fetched) => state.fetched(fetched),
            ToRouter::Stored(keys) => {
                for key in keys {
                    if let Some(Flight::Storing(_)) = state.flights.get(&key) {
                        state.flights.remove(&key);
                    }
                }
            }
            ToRouter::Finished(outcome) => state.record(outcome),
            ToRouter::Reconfigure(policy, breaker) => {
                state.walk.policy = Arc::new(policy);
                state.cooldown = breaker.cooldown;
                state.breaker.reconfigure(breaker);
            }
            #[cfg(test)]
            ToRouter::Panic => panic!("injected panic in Router"),
        }
        Ok(())
    }
}

impl RouterState {
    /// Joins wants to fetches in flight; starts one fetch for the rest, if the rate limit
    /// and the breaker allow it.
    fn fetch(
        &mut self,
        wanted: Vec<Want>,
        urgency: Urgency,
        admission: oneshot::Sender<Result<(), TierError>>,
    ) {
        let mut new = Vec::new();
        for want in wanted {
            match self.flights.get_mut(&want.key) {
                Some(Flight::Fetching(waiters)) => {
                    self.counters.coalesced += 1;
                    waiters.extend(want.answer);
                }
                Some(Flight::Storing(answer)) => {
                    self.counters.coalesced += 1;
                    if let Some(tx) = want.answer {
                        let _ = tx.send(answer.clone());
                    }
                }
                None => new.push(want),
            }
        }
        let now = unix_ms();
        // A refresh that failed lately is not tried again before the cool-down, unless the
        // rate limit or the open breaker is the better reason to give.
        let held_back = now < self.rate_limited_until_ms || self.breaker.cooling_down(now);
        if urgency == Urgency::Background && !held_back {
            self.refresh_failed.retain(|_, until| *until > now);
            let before = new.len();
            new.retain(|want| !self.refresh_failed.contains_key(&want.key));
            if new.is_empty() && before > 0 {
                let _ = admission.send(Err(TierError::Unavailable {
                    tier: "L3 github",
                    reason: "its last refresh failed; not retried before the cool-down".into(),
                }));
                return;
            }
        }
        if new.is_empty() {
            let _ = admission.send(Ok(()));
            return;
        }
        let decision = if now < self.rate_limited_until_ms {
            Err(TierError::RateLimited {
                retry_in: Duration::from_millis(self.rate_limited_until_ms - now),
            })
        } else {
            match self.breaker.admit(now) {
                Admission::Go => Ok(false),
                Admission::Probe => Ok(true),
                Admission::Refused { retry_in } => Err(TierError::BreakerOpen { retry_in }),
            }
        };
        let _ = admission.send(decision.clone().map(|_| ()));
        let probe = match decision {
            Ok(probe) => probe,
            Err(e) => {
                for want in new {
                    if let Some(tx) = want.answer {
                        let _ = tx.send(Lookup::Failed(e.clone()));
                    }
                }
                return;
            }
        };
        let Some(origin) = self.walk.tiers.origin.clone() else {
            return;
        };
        let mut keys = Vec::with_capacity(new.len());
        for want in new {
            keys.push((want.key.clone(), want.stale));
            self.flights.insert(
                want.key,
                Flight::Fetching(want.answer.into_iter().collect()),
            );
        }
        let walk = self.walk.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let n = keys.len();
            let names: Vec<Key> = keys.iter().map(|(k, _)| k.clone()).collect();
            let answers = match origin.fetch(keys, urgency).await {
                Ok(answers) if answers.len() == n => answers,
                Ok(_) => vec![Lookup::Failed(TierError::BadUpstream("answers lost".into())); n],
                Err(e) => vec![Lookup::Failed(e); n],
            };
            let took = started.elapsed();
            let answers: Vec<(Key, Lookup)> = names.into_iter().zip(answers).collect();
            // Write-through kinds are in L2 before anyone is answered; the rest after.
            let (now_, later): (Vec<_>, Vec<_>) = hits(&walk, &answers)
                .into_iter()
                .partition(|(_, _, strategy)| *strategy == Strategy::WriteThrough);
            walk::store(&walk.tiers.local, &now_).await;
            let _ = walk.router.send_message(ToRouter::Fetched(Fetched {
                answers: answers.clone(),
                took,
                probe,
                urgency,
            }));
            walk::store(&walk.tiers.local, &later).await;
            let keys = answers.into_iter().map(|(k, _)| k).collect();
            let _ = walk.router.send_message(ToRouter::Stored(keys));
        });
    }

    fn fetched(&mut self, fetched: Fetched) {
        let now = unix_ms();
        self.latency
            .entry(TierName::Github)
            .or_default()
            .record(fetched.took);
        let n = fetched.answers.len() as u64;
        match fetched.urgency {
            Urgency::Waiting => self.counters.fetched += n,
            Urgency::Background => self.counters.refreshed += n,
        }
        for (key, answer) in fetched.answers {
            let failed = match &answer {
                Lookup::Failed(TierError::RateLimited { retry_in }) => {
                    let until = now + retry_in.as_millis() as u64;
                    self.rate_limited_until_ms = self.rate_limited_until_ms.max(until);
                    false
                }
                Lookup::Failed(e) => e.is_failure(),
                _ => false,
            };
            self.breaker.record(now, failed, fetched.probe);
            if fetched.urgency == Urgency::Background && matches!(answer, Lookup::Failed(_)) {
                let until = now + self.cooldown.as_millis() as u64;
                self.refresh_failed.insert(key.clone(), until);
            }
            if let Some(Flight::Fetching(waiters)) = self.flights.remove(&key) {
                for waiter in waiters {
                    let _ = waiter.send(answer.clone());
                }
            }
            if matches!(answer, Lookup::Hit(_)) {
                self.flights.insert(key, Flight::Storing(answer));
            }
        }
    }

    fn record(&mut self, outcome: Outcome) {
        let counters = &mut self.counters;
        counters.errors += u64::from(outcome.error);
        counters.misses += outcome.misses;
        counters.promotions += outcome.promotions;
        for why in outcome.stale {
            *self.stale.entry(why).or_default() += 1;
        }
        for (tier, took) in outcome.latency {
            self.latency.entry(tier).or_default().record(took);
        }
        for tier in outcome.answered_by {
            match counters.answered_by.iter_mut().find(|(t, _)| *t == tier) {
                Some((_, n)) => *n += 1,
                None => counters.answered_by.push((tier, 1)),
            }
        }
    }

    fn router_stats(&mut self) -> RouterStats {
        let mut stats = self.counters.clone();
        // The handle's fast path: L1 hits that never reached this actor.
        let fast_hits = self.fast.hits.load(std::sync::atomic::Ordering::Relaxed);
        stats.commands += fast_hits;
        if fast_hits > 0 {
            match stats
                .answered_by
                .iter_mut()
                .find(|(t, _)| *t == TierName::Memory)
            {
                Some((_, n)) => *n += fast_hits,
                None => stats.answered_by.insert(0, (TierName::Memory, fast_hits)),
            }
        }

        stats.stale_answers = StaleReason::ALL
            .iter()
            .filter_map(|why| self.stale.get(why).map(|n| (*why, *n)))
            .collect();
        stats.latency = [
            TierName::Memory,
            TierName::Queue,
            TierName::Database,
            TierName::Github,
        ]
        .iter()
        .filter_map(|tier| {
            let mut merged = self.latency.get(tier).cloned();
            if *tier == TierName::Memory
                && let Ok(fast) = self.fast.latency.lock()
                && !fast.is_empty()
            {
                merged.get_or_insert_with(Latency::default).add(&fast);
            }
            merged.map(|l| (*tier, l.summary()))
        })
        .collect();
        stats.breaker = self.breaker.stats(unix_ms());
        stats
    }
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

async fn collect_stats(
    tiers: &Tiers,
    queue: Option<WriteBehindHandle>,
    router: RouterStats,
) -> Stats {
    let mut all = Vec::with_capacity(tiers.local.len() + 1);
    for tier in &tiers.local {
        all.push(match tier.stats().await {
            Ok(stats) => stats,
            Err(e) => TierStats::empty(tier.name(), format!("down: {e}")),
        });
    }
    if let Some(origin) = &tiers.origin {
        all.push(match origin.stats().await {
            Ok(stats) => stats,
            Err(e) => TierStats::empty(origin.name(), format!("down: {e}")),
        });
    }
    let write_behind = match queue {
        Some(queue) => queue.queue_stats().await.ok(),
        None => None,
    };
    Stats {
        router,
        tiers: all,
        write_behind,
        ..Stats::default()
    }
}
