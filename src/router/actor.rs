//! The Router actor: takes every command, starts it on its way through the tiers in a task of
//! its own, and keeps the counters. Its handlers never await a tier.

use std::sync::Arc;

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};

use super::command::Command;
use super::walk::{self, Outcome, Tiers};
use crate::config::TtlConfig;
use crate::protocol::{Response, RouterStats, Stats, TierStats};

pub enum ToRouter {
    Execute(Command, RpcReplyPort<Response>),
    /// Sent by the task that ran a command, once it has answered.
    Finished(Outcome),
    Reconfigure(TtlConfig),
    #[cfg(test)]
    Panic,
}

pub struct Router;

pub struct RouterArgs {
    pub tiers: Tiers,
    pub ttl: TtlConfig,
}

pub struct RouterState {
    tiers: Tiers,
    ttl: Arc<TtlConfig>,
    counters: RouterStats,
}

impl Actor for Router {
    type Msg = ToRouter;
    type State = RouterState;
    type Arguments = RouterArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<ToRouter>,
        args: RouterArgs,
    ) -> Result<RouterState, ActorProcessingErr> {
        Ok(RouterState {
            tiers: args.tiers,
            ttl: Arc::new(args.ttl),
            counters: RouterStats::default(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<ToRouter>,
        message: ToRouter,
        state: &mut RouterState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ToRouter::Execute(Command::Stats, reply) => {
                state.counters.commands += 1;
                let tiers = state.tiers.clone();
                let router = state.counters.clone();
                tokio::spawn(async move {
                    let _ = reply.send(Response::Stats(collect_stats(tiers, router).await));
                });
            }
            ToRouter::Execute(command, reply) => {
                state.counters.commands += 1;
                let tiers = state.tiers.clone();
                let ttl = state.ttl.clone();
                tokio::spawn(async move {
                    let (response, mut outcome) = walk::execute(command, tiers.clone(), ttl).await;
                    let _ = reply.send(response);
                    walk::promote(&tiers, &mut outcome).await;
                    // The router may be restarting; losing one command's counters is fine.
                    let _ = myself.send_message(ToRouter::Finished(outcome));
                });
            }
            ToRouter::Finished(outcome) => record(&mut state.counters, outcome),
            ToRouter::Reconfigure(ttl) => state.ttl = Arc::new(ttl),
            #[cfg(test)]
            ToRouter::Panic => panic!("injected panic in Router"),
        }
        Ok(())
    }
}

fn record(counters: &mut RouterStats, outcome: Outcome) {
    counters.errors += u64::from(outcome.error);
    counters.misses += outcome.misses;
    counters.promotions += outcome.promotions;
    counters.stale_answers += outcome.stale;
    for tier in outcome.answered_by {
        match counters.answered_by.iter_mut().find(|(t, _)| *t == tier) {
            Some((_, n)) => *n += 1,
            None => counters.answered_by.push((tier, 1)),
        }
    }
}

async fn collect_stats(tiers: Tiers, router: RouterStats) -> Stats {
    let mut all = Vec::with_capacity(tiers.len());
    for tier in tiers.iter() {
        all.push(match tier.stats().await {
            Ok(stats) => stats,
            Err(e) => TierStats::empty(tier.name(), format!("down: {e}")),
        });
    }
    Stats {
        router,
        tiers: all,
        ..Stats::default()
    }
}
