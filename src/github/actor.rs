//! The GithubTier actor (L3): owns the quota state, each framework's tree listing and the
//! HTTP client. A read is a task it spawns (`read.rs`): the task asks the actor for the tree
//! (fetched by `listing.rs`), plans the key against it, downloads what the plan names, and
//! reports every answer's rate-limit headers back. The handlers never await the network.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::sync::Semaphore;

use super::http::{Http, HttpConfig, Origin};
use super::listing::fetch_tree;
use super::message::{CachedTree, Counts, Pacer, RATE_LIMIT_KEY, ToGithub, TreeAnswer};
use super::quota::{Priority, Quota};
use super::read::{ReadTask, token_tag};
use crate::config::{GithubConfig, TtlConfig};
use crate::protocol::{TierName, TierStats};
use crate::tier::{Entry, Lookup, Reply, TierError, Urgency, answer_unless_abandoned, unix_ms};

pub struct GithubTier;

pub struct GithubArgs {
    pub config: GithubConfig,
    pub ttl: TtlConfig,
}

pub struct GithubState {
    http: Arc<Http>,
    pacer: Arc<Pacer>,
    quota: Quota,
    ttl: TtlConfig,
    trees: HashMap<&'static str, CachedTree>,
    tree_waiters: HashMap<&'static str, Vec<Reply<TreeAnswer>>>,
    permits: Arc<Semaphore>,
    /// Tags stored ETags with the token that fetched them.
    token_tag: Arc<str>,
    /// `github.timeout`: a read task's whole budget.
    budget: Duration,
    counts: Counts,
}

impl Actor for GithubTier {
    type Msg = ToGithub;
    type State = GithubState;
    type Arguments = GithubArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<ToGithub>,
        args: GithubArgs,
    ) -> Result<GithubState, ActorProcessingErr> {
        let http = Http::new(HttpConfig::from_config(&args.config))?;
        let rate =
            std::num::NonZeroU32::new(args.config.requests_per_second.min(u32::MAX as u64) as u32)
                .unwrap_or(std::num::NonZeroU32::MIN);
        // A burst of one second's worth, on purpose: governor's default burst is the quota.
        let pacer =
            governor::RateLimiter::direct(governor::Quota::per_second(rate).allow_burst(rate));
        Ok(GithubState {
            http: Arc::new(http),
            pacer: Arc::new(pacer),
            quota: Quota::new(args.config.quota_reserve),
            ttl: args.ttl,
            trees: HashMap::new(),
            tree_waiters: HashMap::new(),
            permits: Arc::new(Semaphore::new(args.config.max_concurrent as usize)),
            token_tag: token_tag(args.config.token()).into(),
            budget: args.config.timeout,
            counts: Counts::default(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<ToGithub>,
        message: ToGithub,
        state: &mut GithubState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ToGithub::Fetch(wanted, urgency, reply) => {
                let quota = quota_entry(&state.quota);
                let priority = match urgency {
                    Urgency::Waiting => Priority::Interactive,
                    Urgency::Background => Priority::Background,
                };
                if let Err(refusal) = state.quota.check(priority, unix_ms()) {
                    tracing::debug!(%refusal, "GitHub not asked");
                    let retry_in = refusal.retry_in();
                    let answers = wanted
                        .iter()
                        .map(|(k, _)| match k.as_str() {
                            RATE_LIMIT_KEY => Lookup::Hit(quota.clone()),
                            _ => Lookup::Failed(TierError::RateLimited {
                                origin: TierName::Github,
                                retry_in,
                            }),
                        })
                        .collect();
                    let _ = reply.send(Ok(answers));
                    return Ok(());
                }
                let task = ReadTask {
                    myself: myself.clone(),
                    http: state.http.clone(),
                    pacer: state.pacer.clone(),
                    permits: state.permits.clone(),
                    ttl: state.ttl.clone(),
                    token_tag: state.token_tag.clone(),
                    budget: state.budget,
                    quota,
                    trouble: Default::default(),
                    downloaded: Default::default(),
                };
                tokio::spawn(answer_unless_abandoned(reply, async move {
                    Ok(task.run(wanted).await)
                }));
            }
            ToGithub::Tree(framework, reply) => {
                let now = unix_ms();
                let fresh_for = state.ttl.tree.0.as_millis() as u64;
                if let Some(cached) = state.trees.get(framework.id)
                    && now.saturating_sub(cached.fetched_ms) < fresh_for
                {
                    let _ = reply.send(Ok(TreeAnswer {
                        tree: cached.tree.clone(),
                        unconfirmed: None,
                    }));
                    return Ok(());
                }
                if let Err(refusal) = state.quota.check(Priority::Interactive, now) {
                    // A stale tree beats none while GitHub cannot be asked.
                    let refused = TierError::RateLimited {
                        origin: TierName::Github,
                        retry_in: refusal.retry_in(),
                    };
                    let answer = match state.trees.get(framework.id) {
                        Some(cached) => Ok(TreeAnswer {
                            tree: cached.tree.clone(),
                            unconfirmed: Some(refused),
                        }),
                        None => Err(refused),
                    };
                    let _ = reply.send(answer);
                    return Ok(());
                }
                let waiters = state.tree_waiters.entry(framework.id).or_default();
                waiters.push(reply);
                if waiters.len() == 1 {
                    let previous = state.trees.get(framework.id).cloned();
                    let http = state.http.clone();
                    let pacer = state.pacer.clone();
                    let myself = myself.clone();
                    tokio::spawn(async move {
                        let result = fetch_tree(&http, &pacer, &myself, framework, previous).await;
                        let _ = myself.send_message(ToGithub::TreeDone(framework.id, result));
                    });
                }
            }
            ToGithub::TreeDone(id, result) => {
                let answer = match result {
                    Ok(cached) => {
                        let tree = cached.tree.clone();
                        state.trees.insert(id, cached);
                        Ok(TreeAnswer {
                            tree,
                            unconfirmed: None,
                        })
                    }
                    Err(e) => match state.trees.get(id) {
                        Some(cached) => Ok(TreeAnswer {
                            tree: cached.tree.clone(),
                            unconfirmed: Some(e),
                        }),
                        None => Err(e),
                    },
                };
                for waiter in state.tree_waiters.remove(id).unwrap_or_default() {
                    let _ = waiter.send(answer.clone());
                }
            }
            ToGithub::Observed {
                origin,
                headers,
                rate_limited,
            } => {
                if rate_limited {
                    let wait = state.quota.rate_limited(&headers, unix_ms());
                    tracing::warn!(?wait, "GitHub rate limit; not calling it before then");
                } else {
                    match origin {
                        Origin::Api => state.quota.observe(&headers),
                        Origin::Raw => state.quota.downloaded(),
                    }
                    state.quota.succeeded();
                }
            }
            ToGithub::Answered(counts) => {
                let c = &mut state.counts;
                c.found += counts.found;
                c.unchanged += counts.unchanged;
                c.not_found += counts.not_found;
                c.failed += counts.failed;
            }
            ToGithub::Stats(reply) => {
                let q = state.quota.state();
                let now = unix_ms();
                let status = match state.quota.check(Priority::Interactive, now) {
                    Err(refusal) => refusal.to_string(),
                    Ok(()) => match (q.remaining, q.limit) {
                        (Some(remaining), Some(limit)) => format!("up, quota {remaining}/{limit}"),
                        _ => "up".to_owned(),
                    },
                };
                let _ = reply.send(Ok(TierStats {
                    hits: state.counts.found,
                    revalidated: state.counts.unchanged,
                    misses: state.counts.not_found,
                    errors: state.counts.failed,
                    entries: state.trees.len() as u64,
                    quota: q.remaining.zip(q.limit),
                    ..TierStats::empty(TierName::Github, status)
                }));
            }
        }
        Ok(())
    }
}

/// Short-lived in the upper tiers: the state changes with every answer.
const RATE_LIMIT_TTL_MS: u64 = 1_000;

/// The quota state as a cache entry (JSON), fresh for a second.
fn quota_entry(quota: &Quota) -> Entry {
    let now = unix_ms();
    let json = serde_json::to_vec_pretty(quota.state()).expect("quota state serialises");
    Entry::new(Bytes::from(json), now, Some(now + RATE_LIMIT_TTL_MS))
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
