//! The Router actor: takes every command and starts it on its way through the tiers in a task
//! of its own; owns what must be decided in one place: which fetches are in flight (so one
//! key is fetched once however many clients miss it), each origin's breaker and rate-limit
//! window ([`Fetches`]), and the counters. Its handlers never await a tier.

use std::collections::HashMap;
use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::ahead::{accompany, prefetch, refresh_ahead};
use super::command::Command;
use super::fetch::Fetches;
use super::handle::FastPath;
use super::message::{Outcome, Purpose, ToRouter};
use super::policy::Policy;
use super::walk::{Tiers, Walk};
use crate::config::BreakerConfig;
use crate::latency::Latency;
use crate::protocol::{Response, RouterStats, StaleReason, Stats, TierName, TierStats};
use crate::write_behind::WriteBehindHandle;

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
    fetches: Fetches,
    counters: RouterStats,
    stale: HashMap<StaleReason, u64>,
    latency: HashMap<TierName, Latency>,
    fast: Arc<FastPath>,
    /// The refresh-ahead timer, and the period it was started with.
    refresh_timer: (ractor::concurrency::JoinHandle<()>, std::time::Duration),
    /// Keys refreshed ahead before: hot until two lives in a row pass without a read.
    hot: std::sync::Arc<super::ahead::Hot>,
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
        let period = args.policy.refresh_ahead.interval;
        let refresh_timer = (refresh_timer(&myself, period), period);
        Ok(RouterState {
            refresh_timer,
            hot: Default::default(),
            fetches: Fetches::new(&args.tiers.origins, &args.breaker),
            walk: Walk {
                tiers: args.tiers,
                policy: Arc::new(args.policy),
                router: myself,
            },
            queue: args.queue,
            counters: RouterStats::default(),
            stale: HashMap::new(),
            latency: HashMap::new(),
            fast: args.fast,
        })
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ToRouter>,
        state: &mut RouterState,
    ) -> Result<(), ActorProcessingErr> {
        state.refresh_timer.0.abort();
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<ToRouter>,
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
                purpose,
                admission,
            } => {
                let (walk, counters) = (&state.walk, &mut state.counters);
                if purpose == Purpose::Read {
                    accompany(walk, &state.fetches, &wanted);
                }
                state
                    .fetches
                    .fetch(walk, wanted, purpose, counters, admission);
            }
            ToRouter::Fetched(fetched) => {
                let n = fetched.answers.len() as u64;
                let counter = match fetched.purpose {
                    Purpose::Read => &mut state.counters.fetched,
                    Purpose::Revalidate => &mut state.counters.refreshed,
                    Purpose::Prefetch { .. } => &mut state.counters.prefetched,
                    Purpose::RefreshAhead => &mut state.counters.refreshed_ahead,
                };
                *counter += n;
                let (took, purpose) = (fetched.took, fetched.purpose);
                let origin = state.fetches.name(fetched.origin);
                let hits = state.fetches.fetched(fetched);
                state.latency.entry(origin).or_default().record(took);
                prefetch(&state.walk, &state.fetches, purpose, &hits);
            }
            ToRouter::RefreshAhead => refresh_ahead(&state.walk, &state.hot),
            ToRouter::Stored(keys) => state.fetches.stored(keys),
            ToRouter::Finished(outcome) => state.record(outcome),
            ToRouter::Reconfigure(policy, breaker) => {
                let period = policy.refresh_ahead.interval;
                if period != state.refresh_timer.1 {
                    state.refresh_timer.0.abort();
                    state.refresh_timer = (refresh_timer(&myself, period), period);
                }
                state.walk.policy = Arc::from(policy);
                state.fetches.reconfigure(breaker);
            }
            #[cfg(test)]
            ToRouter::Panic => panic!("injected panic in Router"),
        }
        Ok(())
    }
}

fn refresh_timer(
    myself: &ActorRef<ToRouter>,
    period: std::time::Duration,
) -> ractor::concurrency::JoinHandle<()> {
    myself.send_interval(period, || ToRouter::RefreshAhead)
}

impl RouterState {
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
        let merged: Vec<(TierName, Latency)> = [
            TierName::Memory,
            TierName::Queue,
            TierName::Database,
            TierName::Github,
            TierName::Registry,
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
            merged.map(|l| (*tier, l))
        })
        .collect();
        stats.latency = merged.iter().map(|(t, l)| (*t, l.summary())).collect();
        stats.histograms = merged.iter().map(|(t, l)| (*t, l.histogram())).collect();
        stats.breakers = self.fetches.breakers();
        stats
    }
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
    for origin in &tiers.origins {
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
