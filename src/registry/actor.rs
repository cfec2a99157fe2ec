//! The RegistryTier actor (the second origin): owns the HTTP client, the pacer and the
//! concurrency limit of every request to the registries, the shadcn directory it looked
//! namespaces up in, and counts per registry. A fetch is a task it spawns (`read.rs`); the
//! handlers never await the network.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::Semaphore;

use super::message::{Directory, Outcome, ToRegistry};
use super::read::{Pacer, ReadTask, fetch_directory};
use super::sources::{Sources, counted, display};
use crate::config::RegistryConfig;
use crate::http::{Client, HttpConfig};
use crate::protocol::{RegistryStats, TierName, TierStats};
use crate::tier::{Reply, answer_unless_abandoned, unix_ms};

pub struct RegistryTier;

pub struct RegistryArgs {
    pub config: RegistryConfig,
    /// `ttl.registry`: how long a fetched file is fresh (and the directory).
    pub ttl: Duration,
}

pub struct RegistryState {
    client: Arc<Client>,
    sources: Arc<Sources>,
    pacer: Arc<Pacer>,
    permits: Arc<Semaphore>,
    ttl: Duration,
    budget: Duration,
    directory: Option<(Directory, u64)>,
    directory_waiters: Vec<Reply<Directory>>,
    counts: BTreeMap<String, RegistryStats>,
}

impl Actor for RegistryTier {
    type Msg = ToRegistry;
    type State = RegistryState;
    type Arguments = RegistryArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<ToRegistry>,
        args: RegistryArgs,
    ) -> Result<RegistryState, ActorProcessingErr> {
        let config = &args.config;
        let client = Client::new(HttpConfig {
            upstream: TierName::Registry.upstream(),
            connect_timeout: config.connect_timeout,
            first_byte_timeout: config.first_byte_timeout,
            idle_timeout: config.idle_timeout,
            timeout: config.timeout,
            max_body: config.max_body.bytes() as usize,
        })?;
        let rate =
            std::num::NonZeroU32::new(config.requests_per_second.min(u32::MAX as u64) as u32)
                .unwrap_or(std::num::NonZeroU32::MIN);
        let pacer =
            governor::RateLimiter::direct(governor::Quota::per_second(rate).allow_burst(rate));
        Ok(RegistryState {
            client: Arc::new(client),
            sources: Arc::new(Sources::from_config(config, |var| std::env::var(var).ok())),
            pacer: Arc::new(pacer),
            permits: Arc::new(Semaphore::new(config.max_concurrent as usize)),
            ttl: args.ttl,
            budget: config.timeout,
            directory: None,
            directory_waiters: Vec::new(),
            counts: BTreeMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<ToRegistry>,
        message: ToRegistry,
        state: &mut RegistryState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ToRegistry::Fetch(wanted, _urgency, reply) => {
                let task = ReadTask {
                    myself: myself.clone(),
                    client: state.client.clone(),
                    sources: state.sources.clone(),
                    pacer: state.pacer.clone(),
                    permits: state.permits.clone(),
                    ttl: state.ttl,
                    budget: state.budget,
                    directory: Default::default(),
                };
                tokio::spawn(answer_unless_abandoned(reply, async move {
                    Ok(task.run(wanted).await)
                }));
            }
            ToRegistry::Directory(reply) => {
                let fresh_for = state.ttl.as_millis() as u64;
                if let Some((directory, fetched)) = &state.directory
                    && unix_ms().saturating_sub(*fetched) < fresh_for
                {
                    let _ = reply.send(Ok(directory.clone()));
                    return Ok(());
                }
                state.directory_waiters.push(reply);
                if state.directory_waiters.len() == 1 {
                    let (client, sources, pacer) = (
                        state.client.clone(),
                        state.sources.clone(),
                        state.pacer.clone(),
                    );
                    let myself = myself.clone();
                    tokio::spawn(async move {
                        let result = fetch_directory(&client, &sources, &pacer).await;
                        let _ = myself.send_message(ToRegistry::DirectoryDone(result));
                    });
                }
            }
            ToRegistry::DirectoryDone(result) => {
                let answer = match result {
                    Ok(directory) => {
                        state.directory = Some((directory.clone(), unix_ms()));
                        Ok(directory)
                    }
                    // A stale directory still names the registries it named.
                    Err(e) => match &state.directory {
                        Some((directory, _)) => Ok(directory.clone()),
                        None => Err(e),
                    },
                };
                for waiter in state.directory_waiters.drain(..) {
                    let _ = waiter.send(answer.clone());
                }
            }
            ToRegistry::Answered(outcomes) => {
                for (source, outcome) in outcomes {
                    let counts = counted(&mut state.counts, display(&source));
                    match outcome {
                        Outcome::Fetched => counts.fetched += 1,
                        Outcome::Unchanged => counts.unchanged += 1,
                        Outcome::NotFound => counts.not_found_upstream += 1,
                        Outcome::Failed => counts.fetch_errors += 1,
                    }
                }
            }
            ToRegistry::Sources(reply) => {
                let _ = reply.send(Ok(state.counts.values().cloned().collect()));
            }
            ToRegistry::Stats(reply) => {
                let sum = |f: fn(&RegistryStats) -> u64| state.counts.values().map(f).sum();
                let _ = reply.send(Ok(TierStats {
                    hits: sum(|c| c.fetched),
                    revalidated: sum(|c| c.unchanged),
                    misses: sum(|c| c.not_found_upstream),
                    errors: sum(|c| c.fetch_errors),
                    ..TierStats::empty(TierName::Registry, "up")
                }));
            }
        }
        Ok(())
    }
}
