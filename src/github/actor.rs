//! The GithubTier actor (L3): owns the quota state, each framework's tree listing (with its
//! ETag) and the HTTP client. A read is a task it spawns: the task asks the actor for the
//! tree, plans the key against it, downloads what the plan names, and reports every answer's
//! rate-limit headers back. The handlers never await the network.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::sync::Semaphore;

use super::framework::Framework;
use super::http::{Fetched, Http, HttpConfig, Origin};
use super::plan::{self, FileRef, Plan, Upstream};
use super::quota::{Headers, Priority, Quota};
use super::tree::RegistryTree;
use super::values;
use crate::config::{GithubConfig, TtlConfig};
use crate::key::Key;
use crate::protocol::{TierName, TierStats};
use crate::tier::{Entry, Lookup, TierError, unix_ms};

type Reply<T> = RpcReplyPort<Result<T, TierError>>;
const LABEL: &str = "L3 github";

pub enum ToGithub {
    GetMany(Vec<Key>, Reply<Vec<Lookup>>),
    Stats(RpcReplyPort<TierStats>),
    Ping(Reply<()>),
    /// From read tasks: the framework's tree, fetched or revalidated when stale.
    Tree(&'static Framework, Reply<Arc<RegistryTree>>),
    /// From the tree task.
    TreeDone(&'static str, Result<CachedTree, TierError>),
    /// From any task: an answer's rate-limit headers.
    Observed {
        headers: Headers,
        rate_limited: bool,
    },
    /// From read tasks: outcomes, for stats.
    Answered {
        found: u64,
        not_found: u64,
        failed: u64,
    },
}

#[derive(Clone)]
pub struct CachedTree {
    tree: Arc<RegistryTree>,
    /// ETag of the parent directory listing that named the tree's sha.
    etag: Option<String>,
    fetched_ms: u64,
}

pub struct GithubTier;

pub struct GithubArgs {
    pub config: GithubConfig,
    pub ttl: TtlConfig,
}

type Pacer = governor::DefaultDirectRateLimiter;

pub struct GithubState {
    http: Arc<Http>,
    pacer: Arc<Pacer>,
    quota: Quota,
    ttl: TtlConfig,
    trees: HashMap<&'static str, CachedTree>,
    tree_waiters: HashMap<&'static str, Vec<Reply<Arc<RegistryTree>>>>,
    permits: Arc<Semaphore>,
    found: u64,
    not_found: u64,
    failed: u64,
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
            found: 0,
            not_found: 0,
            failed: 0,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<ToGithub>,
        message: ToGithub,
        state: &mut GithubState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ToGithub::GetMany(keys, reply) => {
                let quota = quota_entry(&state.quota);
                if let Err(refusal) = state.quota.check(Priority::Interactive, unix_ms()) {
                    tracing::debug!(%refusal, "GitHub not asked");
                    let answers = keys
                        .iter()
                        .map(|k| match k.as_str() {
                            RATE_LIMIT_KEY => Lookup::Hit(quota.clone()),
                            _ => Lookup::Miss,
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
                    quota,
                };
                tokio::spawn(async move {
                    let _ = reply.send(Ok(task.run(keys).await));
                });
            }
            ToGithub::Tree(framework, reply) => {
                let now = unix_ms();
                let fresh_for = state.ttl.tree.as_millis() as u64;
                if let Some(cached) = state.trees.get(framework.id)
                    && now.saturating_sub(cached.fetched_ms) < fresh_for
                {
                    let _ = reply.send(Ok(cached.tree.clone()));
                    return Ok(());
                }
                if let Err(refusal) = state.quota.check(Priority::Interactive, now) {
                    // A stale tree beats none while GitHub cannot be asked.
                    let answer = match state.trees.get(framework.id) {
                        Some(cached) => Ok(cached.tree.clone()),
                        None => Err(unavailable(&refusal.to_string())),
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
                        Ok(tree)
                    }
                    Err(e) => match state.trees.get(id) {
                        Some(cached) => Ok(cached.tree.clone()),
                        None => Err(e),
                    },
                };
                for waiter in state.tree_waiters.remove(id).unwrap_or_default() {
                    let _ = waiter.send(answer.clone());
                }
            }
            ToGithub::Observed {
                headers,
                rate_limited,
            } => {
                if rate_limited {
                    let wait = state.quota.rate_limited(&headers, unix_ms());
                    tracing::warn!(?wait, "GitHub rate limit; not calling it before then");
                } else {
                    state.quota.observe(&headers);
                    state.quota.succeeded();
                }
            }
            ToGithub::Answered {
                found,
                not_found,
                failed,
            } => {
                state.found += found;
                state.not_found += not_found;
                state.failed += failed;
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
                let _ = reply.send(TierStats {
                    hits: state.found,
                    misses: state.not_found,
                    errors: state.failed,
                    entries: state.trees.len() as u64,
                    ..TierStats::empty(TierName::Github, status)
                });
            }
            ToGithub::Ping(reply) => {
                let _ = reply.send(Ok(()));
            }
        }
        Ok(())
    }
}

/// The key under which the quota state is served (DESIGN.md).
pub const RATE_LIMIT_KEY: &str = "metadata:github_rate_limit";
/// Short-lived in the upper tiers: the state changes with every answer.
const RATE_LIMIT_TTL_MS: u64 = 1_000;

/// The quota state as a cache entry (JSON), fresh for a second.
fn quota_entry(quota: &Quota) -> Entry {
    let now = unix_ms();
    let json = serde_json::to_vec_pretty(quota.state()).expect("quota state serialises");
    Entry::new(Bytes::from(json), now, Some(now + RATE_LIMIT_TTL_MS))
}

fn unavailable(reason: &str) -> TierError {
    TierError::Unavailable {
        tier: LABEL,
        reason: reason.to_owned(),
    }
}

/// Sends the headers of an answer to the actor and turns the answer into a plain result.
fn report(
    myself: &ActorRef<ToGithub>,
    (outcome, headers): (Result<Fetched, super::http::FetchError>, Headers),
) -> Result<Fetched, TierError> {
    let rate_limited = matches!(outcome, Ok(Fetched::RateLimited));
    let _ = myself.send_message(ToGithub::Observed {
        headers,
        rate_limited,
    });
    match outcome {
        Ok(Fetched::RateLimited) => Err(unavailable("rate limited by GitHub")),
        Ok(fetched) => Ok(fetched),
        Err(e) => Err(unavailable(&e.to_string())),
    }
}

/// Two API calls at most: the parent directory's listing names the registry tree's sha (a
/// 304 costs nothing), and only a new sha costs the recursive listing.
async fn fetch_tree(
    http: &Http,
    pacer: &Pacer,
    myself: &ActorRef<ToGithub>,
    framework: &'static Framework,
    previous: Option<CachedTree>,
) -> Result<CachedTree, TierError> {
    let (parent, dir) = framework
        .registry
        .rsplit_once('/')
        .unwrap_or(("", framework.registry));
    let listing = format!(
        "/repos/{}/{}/contents/{parent}?ref={}",
        framework.owner, framework.repo, framework.branch
    );
    let etag = previous.as_ref().and_then(|p| p.etag.clone());
    let fetched = report(
        myself,
        http.get(Origin::Api, &listing, etag.as_deref()).await,
    )?;
    let now = unix_ms();
    let (body, etag) = match fetched {
        Fetched::NotModified => {
            let previous = previous.ok_or_else(|| unavailable("304 without a cached tree"))?;
            return Ok(CachedTree {
                fetched_ms: now,
                ..previous
            });
        }
        Fetched::NotFound => {
            return Err(unavailable(&format!(
                "{} has no {parent} on {}",
                framework.repo, framework.branch
            )));
        }
        Fetched::Body { bytes, etag } => (bytes, etag),
        Fetched::RateLimited => unreachable!("reported as an error"),
    };
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&body)
        .map_err(|e| unavailable(&format!("directory listing is not JSON: {e}")))?;
    let sha = entries
        .iter()
        .find(|e| e["name"] == dir && e["type"] == "dir")
        .and_then(|e| e["sha"].as_str())
        .ok_or_else(|| unavailable(&format!("{} is missing upstream", framework.registry)))?;
    if let Some(previous) = previous.filter(|p| p.tree.sha == sha) {
        return Ok(CachedTree {
            etag,
            fetched_ms: now,
            ..previous
        });
    }
    let path = format!(
        "/repos/{}/{}/git/trees/{sha}?recursive=1",
        framework.owner, framework.repo
    );
    pacer.until_ready().await;
    match report(myself, http.get(Origin::Api, &path, None).await)? {
        Fetched::Body { bytes, .. } => {
            let tree =
                RegistryTree::parse(framework, &bytes).map_err(|e| unavailable(&e.to_string()))?;
            Ok(CachedTree {
                tree: Arc::new(tree),
                etag,
                fetched_ms: now,
            })
        }
        _ => Err(unavailable("the registry tree could not be listed")),
    }
}

/// What one key's read found upstream.
enum Read {
    Value(Bytes),
    /// The key is a plain cache entry: GitHub has nothing to say about it.
    NoUpstream,
    /// GitHub (through its tree) says there is no such thing.
    Absent(String),
}

struct ReadTask {
    myself: ActorRef<ToGithub>,
    http: Arc<Http>,
    pacer: Arc<Pacer>,
    permits: Arc<Semaphore>,
    ttl: TtlConfig,
    /// The quota as it stood when the read began, for `metadata:github_rate_limit`.
    quota: Entry,
}

const TREE_WAIT: Duration = Duration::from_secs(60);

impl ReadTask {
    async fn run(&self, keys: Vec<Key>) -> Vec<Lookup> {
        let (mut found, mut not_found, mut failed) = (0, 0, 0);
        let mut answers = Vec::with_capacity(keys.len());
        for key in keys {
            if key.as_str() == RATE_LIMIT_KEY {
                answers.push(Lookup::Hit(self.quota.clone()));
                continue;
            }
            let answer = match self.read(&key).await {
                Ok(Read::Value(value)) => {
                    found += 1;
                    let now = unix_ms();
                    let ttl = self.ttl.for_kind(key.kind()).as_millis() as u64;
                    Lookup::Hit(Entry::new(value, now, Some(now + ttl)))
                }
                Ok(Read::NoUpstream) => Lookup::Miss,
                Ok(Read::Absent(message)) => {
                    not_found += 1;
                    Lookup::Absent(message)
                }
                Err(e) => {
                    tracing::warn!(%key, error = %e, "GitHub read failed");
                    failed += 1;
                    Lookup::Miss
                }
            };
            answers.push(answer);
        }
        let _ = self.myself.send_message(ToGithub::Answered {
            found,
            not_found,
            failed,
        });
        answers
    }

    async fn read(&self, key: &Key) -> Result<Read, TierError> {
        let upstream = match Upstream::from_key(key) {
            Ok(Some(upstream)) => upstream,
            Ok(None) => return Ok(Read::NoUpstream),
            Err(e) => return Ok(Read::Absent(e.to_string())),
        };
        let framework = upstream.framework();
        let tree = match self
            .myself
            .call(|reply| ToGithub::Tree(framework, reply), Some(TREE_WAIT))
            .await
        {
            Ok(ractor::rpc::CallResult::Success(tree)) => tree?,
            _ => return Err(unavailable("the tree listing did not arrive")),
        };
        let absent = || Read::Absent(format!("not found upstream: {key}"));
        match plan::plan(&upstream, &tree) {
            Plan::NotFound(message) => Ok(Read::Absent(message)),
            Plan::File(file) => Ok(self
                .raw(framework, &file)
                .await?
                .map_or_else(absent, Read::Value)),
            Plan::Files { name, files } => {
                let mut bodies = Vec::with_capacity(files.len());
                for (relative, file) in files {
                    match self.raw(framework, &file).await? {
                        Some(body) => bodies.push((relative, body)),
                        None => return Err(unavailable(&format!("{} vanished", file.path))),
                    }
                }
                Ok(Read::Value(values::block(&name, &bodies)))
            }
            Plan::Index { file, item } => match self.raw(framework, &file).await? {
                Some(index) => Ok(values::from_index(&upstream, item.as_deref(), &index)
                    .map_err(|e| unavailable(&e))?
                    .map_or_else(absent, Read::Value)),
                None => Ok(absent()),
            },
            Plan::FromTree => Ok(Read::Value(values::from_tree(&upstream, &tree))),
        }
    }

    async fn raw(&self, framework: &Framework, file: &FileRef) -> Result<Option<Bytes>, TierError> {
        let path = format!(
            "/{}/{}/{}/{}",
            framework.owner, framework.repo, framework.branch, file.path
        );
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| unavailable("stopping"))?;
        self.pacer.until_ready().await;
        match report(&self.myself, self.http.get(Origin::Raw, &path, None).await)? {
            Fetched::Body { bytes, .. } => Ok(Some(bytes)),
            Fetched::NotFound => Ok(None),
            Fetched::NotModified | Fetched::RateLimited => {
                Err(unavailable("unexpected answer for a raw file"))
            }
        }
    }
}
