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
use super::plan::{self, FileRef, Plan, SingleFile, Upstream};
use super::quota::{Headers, Priority, Quota};
use super::tree::RegistryTree;
use super::values;
use crate::config::{GithubConfig, TtlConfig};
use crate::key::Key;
use crate::protocol::{TierName, TierStats};
use crate::tier::{Entry, Lookup, TierError, Urgency, Validator, unix_ms};

type Reply<T> = RpcReplyPort<Result<T, TierError>>;
const LABEL: &str = "L3 github";

pub enum ToGithub {
    /// Keys with the stale copy the cache holds, if any (see [`crate::tier::Origin`]).
    Fetch(Vec<(Key, Option<Entry>)>, Urgency, Reply<Vec<Lookup>>),
    Stats(RpcReplyPort<TierStats>),
    /// From read tasks: the framework's tree, fetched or revalidated when stale.
    Tree(&'static Framework, Reply<TreeAnswer>),
    /// From the tree task.
    TreeDone(&'static str, Result<CachedTree, TierError>),
    /// From any task: an answer's rate-limit headers.
    Observed {
        origin: Origin,
        headers: Headers,
        rate_limited: bool,
    },
    /// From read tasks: outcomes, for stats.
    Answered(Counts),
}

/// What read tasks found, for stats.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    found: u64,
    /// Stale copies confirmed current by their blob sha or ETag: nothing downloaded.
    unchanged: u64,
    not_found: u64,
    failed: u64,
}

/// The tree a read plans against, and why it is not a fresh one if it is not: a tree GitHub
/// could not confirm still locates files, but cannot confirm a stale copy.
#[derive(Clone)]
pub struct TreeAnswer {
    tree: Arc<RegistryTree>,
    unconfirmed: Option<TierError>,
}

#[derive(Clone)]
pub struct CachedTree {
    /// Every root's listing in one.
    tree: Arc<RegistryTree>,
    /// Each root's own, in the order of `Framework::roots`.
    roots: Vec<RootListing>,
    fetched_ms: u64,
}

#[derive(Clone)]
pub struct RootListing {
    tree: Arc<RegistryTree>,
    /// ETag of the parent directory listing that named the root's sha.
    etag: Option<String>,
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
                            _ => Lookup::Failed(TierError::RateLimited { retry_in }),
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
                tokio::spawn(async move {
                    let _ = reply.send(Ok(task.run(wanted).await));
                });
            }
            ToGithub::Tree(framework, reply) => {
                let now = unix_ms();
                let fresh_for = state.ttl.tree.as_millis() as u64;
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
                let _ = reply.send(TierStats {
                    hits: state.counts.found,
                    revalidated: state.counts.unchanged,
                    misses: state.counts.not_found,
                    errors: state.counts.failed,
                    entries: state.trees.len() as u64,
                    ..TierStats::empty(TierName::Github, status)
                });
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
    origin: Origin,
    (outcome, headers): (Result<Fetched, super::http::FetchError>, Headers),
) -> Result<Fetched, TierError> {
    let rate_limited = matches!(outcome, Ok(Fetched::RateLimited));
    let _ = myself.send_message(ToGithub::Observed {
        origin,
        headers: headers.clone(),
        rate_limited,
    });
    match outcome {
        Ok(Fetched::RateLimited) => Err(TierError::RateLimited {
            retry_in: headers.wait_hint(unix_ms()),
        }),
        Ok(fetched) => Ok(fetched),
        Err(e) if e.is_upstream_failure() => Err(unavailable(&e.to_string())),
        Err(e) => Err(TierError::BadUpstream(e.to_string())),
    }
}

/// Each of the framework's roots (the registry, and any other directory its content lives
/// in) costs two API calls at most: its parent directory's listing names the root's tree sha
/// (a 304 costs nothing), and only a new sha costs the recursive listing.
async fn fetch_tree(
    http: &Http,
    pacer: &Pacer,
    myself: &ActorRef<ToGithub>,
    framework: &'static Framework,
    previous: Option<CachedTree>,
) -> Result<CachedTree, TierError> {
    let mut roots = Vec::with_capacity(framework.roots.len());
    let mut changed = previous.is_none();
    for (i, root) in framework.roots.iter().enumerate() {
        let before = previous.as_ref().and_then(|p| p.roots.get(i)).cloned();
        let listing = fetch_root(http, pacer, myself, framework, root, before.clone()).await?;
        changed |= before.is_none_or(|b| !Arc::ptr_eq(&b.tree, &listing.tree));
        roots.push(listing);
    }
    let tree = match previous {
        Some(previous) if !changed => previous.tree,
        _ => Arc::new(RegistryTree::join(
            framework,
            roots.iter().map(|r| (*r.tree).clone()).collect(),
        )),
    };
    Ok(CachedTree {
        tree,
        roots,
        fetched_ms: unix_ms(),
    })
}

async fn fetch_root(
    http: &Http,
    pacer: &Pacer,
    myself: &ActorRef<ToGithub>,
    framework: &'static Framework,
    root: &str,
    previous: Option<RootListing>,
) -> Result<RootListing, TierError> {
    let (parent, dir) = root.rsplit_once('/').unwrap_or(("", root));
    let listing = format!(
        "/repos/{}/{}/contents/{parent}?ref={}",
        framework.owner, framework.repo, framework.branch
    );
    let etag = previous.as_ref().and_then(|p| p.etag.clone());
    let fetched = report(
        myself,
        Origin::Api,
        http.get(Origin::Api, &listing, etag.as_deref()).await,
    )?;
    let (body, etag) = match fetched {
        Fetched::NotModified => {
            return previous.ok_or_else(|| unavailable("304 without a cached tree"));
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
    let sha = super::tree::dir_sha(&body, dir)
        .map_err(|e| TierError::BadUpstream(format!("directory listing is not JSON: {e}")))?
        .ok_or_else(|| unavailable(&format!("{root} is missing upstream")))?;
    if let Some(previous) = previous.filter(|p| p.tree.sha == sha) {
        return Ok(RootListing { etag, ..previous });
    }
    let path = format!(
        "/repos/{}/{}/git/trees/{sha}?recursive=1",
        framework.owner, framework.repo
    );
    pacer.until_ready().await;
    match report(
        myself,
        Origin::Api,
        http.get(Origin::Api, &path, None).await,
    )? {
        Fetched::Body { bytes, .. } => {
            let tree = RegistryTree::parse_root(framework, root, &bytes)
                .map_err(|e| TierError::BadUpstream(e.to_string()))?;
            Ok(RootListing {
                tree: Arc::new(tree),
                etag,
            })
        }
        _ => Err(unavailable("the registry tree could not be listed")),
    }
}

/// What one key's read found upstream.
enum Read {
    Value(Bytes, Validator),
    /// The stale copy is still current (same blob shas, or a 304 to its ETag).
    Unchanged(Validator),
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
    token_tag: Arc<str>,
    /// How long the whole read may take, every key and request in it (`github.timeout`).
    budget: Duration,
    /// The quota as it stood when the read began, for `metadata:github_rate_limit`.
    quota: Entry,
    /// A failure met on the way that did not end the read (the registry listing could not
    /// be revalidated, so the cached one was used): named if the budget then runs out.
    trouble: std::sync::Mutex<Option<String>>,
    /// Raw files this task downloaded, by blob sha: keys read together (a batch of metadata
    /// keys all read the registry index) download each file once.
    downloaded: std::sync::Mutex<HashMap<String, Body>>,
}

/// A short, stable tag for the token, so a stored ETag is only sent with the token that got
/// it. Not a secret-preserving hash; tokens are long and random, and the tag is 64 bits.
fn token_tag(token: Option<&str>) -> String {
    use std::hash::{Hash, Hasher};
    match token {
        None => "anonymous".to_owned(),
        Some(token) => {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            token.hash(&mut hasher);
            format!("t{:016x}", hasher.finish())
        }
    }
}

/// The sha a value made from several files is named by: their shas in order.
fn joined_sha<'a>(shas: impl IntoIterator<Item = &'a str>) -> Arc<str> {
    shas.into_iter().collect::<Vec<_>>().join(",").into()
}

impl ReadTask {
    async fn run(&self, wanted: Vec<(Key, Option<Entry>)>) -> Vec<Lookup> {
        let deadline = tokio::time::Instant::now() + self.budget;
        let mut counts = Counts::default();
        let mut answers = Vec::with_capacity(wanted.len());
        for (key, stale) in wanted {
            if key.as_str() == RATE_LIMIT_KEY {
                answers.push(Lookup::Hit(self.quota.clone()));
                continue;
            }
            let now = unix_ms();
            let expires = now + self.ttl.for_kind(key.kind()).as_millis() as u64;
            let read = tokio::time::timeout_at(deadline, self.read(&key, stale.as_ref()))
                .await
                .unwrap_or_else(|_| Err(self.out_of_time()));
            let answer = match (read, stale) {
                (Ok(Read::Value(value, validator)), _) => {
                    counts.found += 1;
                    Lookup::Hit(Entry::new(value, now, Some(expires)).with_validator(validator))
                }
                (Ok(Read::Unchanged(validator)), Some(stale)) => {
                    counts.unchanged += 1;
                    Lookup::Hit(
                        Entry::new(stale.value, now, Some(expires)).with_validator(validator),
                    )
                }
                (Ok(Read::Unchanged(_)), None) => unreachable!("nothing to compare without a copy"),
                (Ok(Read::NoUpstream), _) => Lookup::Miss,
                (Ok(Read::Absent(message)), _) => {
                    counts.not_found += 1;
                    Lookup::Absent(message)
                }
                (Err(e), _) => {
                    tracing::warn!(%key, error = %e, "GitHub read failed");
                    counts.failed += 1;
                    Lookup::Failed(e)
                }
            };
            answers.push(answer);
        }
        let _ = self.myself.send_message(ToGithub::Answered(counts));
        answers
    }

    /// The budget ran out: say so, and what went wrong before, which is usually why.
    fn out_of_time(&self) -> TierError {
        let mut reason = super::http::FetchError::TooSlow(self.budget).to_string();
        if let Some(trouble) = self.trouble.lock().expect("not poisoned").as_deref() {
            reason = format!("{reason} ({trouble})");
        }
        unavailable(&reason)
    }

    async fn read(&self, key: &Key, stale: Option<&Entry>) -> Result<Read, TierError> {
        if let Some(file) = plan::single_file(key) {
            return self.read_single(file, stale).await;
        }
        let upstream = match Upstream::from_key(key) {
            Ok(Some(upstream)) => upstream,
            Ok(None) => return Ok(Read::NoUpstream),
            Err(e) => return Ok(Read::Absent(e.to_string())),
        };
        let framework = upstream.framework();
        let TreeAnswer { tree, unconfirmed } = match self
            .myself
            // The read's own deadline (`run`) ends a wait that outlasts the budget.
            .call(
                |reply| ToGithub::Tree(framework, reply),
                Some(self.budget + Duration::from_secs(1)),
            )
            .await
        {
            Ok(ractor::rpc::CallResult::Success(tree)) => tree?,
            _ => return Err(unavailable("the tree listing did not arrive")),
        };
        // Revalidating against a tree GitHub did not just confirm would prove nothing.
        match (unconfirmed, stale) {
            (Some(e), Some(_)) => return Err(e),
            (Some(e), None) => {
                let trouble = format!("revalidating the registry listing failed: {e}");
                *self.trouble.lock().expect("not poisoned") = Some(trouble);
            }
            (None, _) => {}
        }
        let plan = plan::plan(&upstream, &tree);
        let sha = match &plan {
            Plan::NotFound(message) => return Ok(Read::Absent(message.clone())),
            Plan::File(file) => joined_sha([file.sha.as_str()]),
            Plan::Files { files, .. } => joined_sha(files.iter().map(|(_, f)| f.sha.as_str())),
            Plan::Variants(files) => joined_sha(files.iter().map(|f| f.sha.as_str())),
            Plan::Index { file, .. } => joined_sha([file.sha.as_str()]),
            Plan::FromTree => joined_sha([tree.sha.as_str()]),
        };
        let known = stale.map(|entry| &entry.validator);
        if known.and_then(|v| v.sha.as_deref()) == Some(&*sha) {
            return Ok(Read::Unchanged(Validator {
                sha: Some(sha),
                etag: known.and_then(|v| v.etag.clone()),
            }));
        }
        let absent = || Read::Absent(format!("not found upstream: {key}"));
        let validator = |etag: Option<Arc<str>>| Validator {
            sha: Some(sha.clone()),
            etag,
        };
        match plan {
            Plan::NotFound(_) => unreachable!("answered above"),
            Plan::File(file) => {
                let etag = known.and_then(|v| self.own_etag(v));
                Ok(match self.raw(framework, &file, etag).await? {
                    Raw::Body(body, etag) => Read::Value(body, validator(etag)),
                    Raw::NotModified => {
                        Read::Unchanged(validator(known.and_then(|v| v.etag.clone())))
                    }
                    Raw::NotFound => absent(),
                })
            }
            Plan::Files { name, files } => {
                let (relative, refs): (Vec<String>, Vec<FileRef>) = files.into_iter().unzip();
                let bodies = self.raw_all(framework, &refs).await?;
                let named: Vec<(String, Bytes)> = relative.into_iter().zip(bodies).collect();
                Ok(Read::Value(values::block(&name, &named), validator(None)))
            }
            Plan::Variants(files) => {
                let bodies = self.raw_all(framework, &files).await?;
                let named: Vec<(&str, Bytes)> =
                    files.iter().map(|f| f.path.as_str()).zip(bodies).collect();
                Ok(Read::Value(values::variants(&named), validator(None)))
            }
            Plan::Index { file, item } => match self.raw(framework, &file, None).await? {
                Raw::Body(index, _) => Ok(values::from_index(&upstream, item.as_deref(), &index)
                    .map_err(TierError::BadUpstream)?
                    .map_or_else(absent, |value| Read::Value(value, validator(None)))),
                _ => Ok(absent()),
            },
            Plan::FromTree => Ok(Read::Value(
                values::from_tree(&upstream, &tree),
                validator(None),
            )),
        }
    }

    /// Every file of a plan, downloaded at once (within `github.max_concurrent` and the
    /// pacer), in order. A file the tree lists but the raw host does not serve is an answer
    /// out of step, not GitHub failing. Every download runs to its end even when another
    /// failed: a request cut off in flight would be one GitHub saw and the quota did not.
    async fn raw_all(
        &self,
        framework: &Framework,
        files: &[FileRef],
    ) -> Result<Vec<Bytes>, TierError> {
        let downloads = files.iter().map(|file| async move {
            match self.raw(framework, file, None).await? {
                Raw::Body(body, _) => Ok(body),
                _ => Err(TierError::BadUpstream(format!(
                    "{} is in the tree but the raw host does not serve it",
                    file.path
                ))),
            }
        });
        futures::future::join_all(downloads)
            .await
            .into_iter()
            .collect()
    }

    /// The stored ETag, if this token fetched it.
    fn own_etag(&self, validator: &Validator) -> Option<String> {
        let (tag, etag) = validator.etag.as_deref()?.split_once(' ')?;
        (tag == &*self.token_tag).then(|| etag.to_owned())
    }

    /// A file outside every registry: downloaded whole, or confirmed by a 304 to its ETag;
    /// a body its check refuses is an unusable answer, so a stale copy keeps serving.
    async fn read_single(
        &self,
        file: &SingleFile,
        stale: Option<&Entry>,
    ) -> Result<Read, TierError> {
        let known = stale.map(|entry| &entry.validator);
        let etag = known.and_then(|v| self.own_etag(v));
        let path = format!(
            "/{}/{}/{}/{}",
            file.owner, file.repo, file.branch, file.path
        );
        match self.download(&path, etag.as_deref()).await? {
            Fetched::Body { bytes, etag } => {
                (file.check)(&bytes).map_err(|e| {
                    TierError::BadUpstream(format!(
                        "{}/{}: {}: {e}",
                        file.repo, file.path, file.key
                    ))
                })?;
                let validator = Validator {
                    sha: Some(git_blob_sha(&bytes).into()),
                    etag: etag.map(|etag| format!("{} {etag}", self.token_tag).into()),
                };
                Ok(Read::Value(bytes, validator))
            }
            Fetched::NotModified if etag.is_some() => Ok(Read::Unchanged(
                known.cloned().expect("an ETag came from a stale copy"),
            )),
            Fetched::NotModified => Err(TierError::BadUpstream(
                "304 to a request that had no ETag".into(),
            )),
            Fetched::NotFound => Ok(Read::Absent(format!(
                "not found upstream: {}/{} has no {} on {}",
                file.owner, file.repo, file.path, file.branch
            ))),
            Fetched::RateLimited => Err(TierError::BadUpstream(
                "the raw file host answered with a rate limit".into(),
            )),
        }
    }

    /// One raw download, within the concurrency limit and the pacer, its answer reported.
    async fn download(&self, path: &str, etag: Option<&str>) -> Result<Fetched, TierError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| unavailable("stopping"))?;
        self.pacer.until_ready().await;
        let answer = self.http.get(Origin::Raw, path, etag).await;
        report(&self.myself, Origin::Raw, answer)
    }

    async fn raw(
        &self,
        framework: &Framework,
        file: &FileRef,
        etag: Option<String>,
    ) -> Result<Raw, TierError> {
        let path = format!(
            "/{}/{}/{}/{}",
            framework.owner, framework.repo, framework.branch, file.path
        );
        if etag.is_none()
            && let Some((bytes, etag)) =
                self.downloaded.lock().expect("not poisoned").get(&file.sha)
        {
            return Ok(Raw::Body(bytes.clone(), etag.clone()));
        }
        match self.download(&path, etag.as_deref()).await? {
            Fetched::Body { bytes, etag } => {
                // The listing named the content by its blob sha: anything else is not it
                // (a garbled answer, or a branch that moved since the listing).
                let sha = git_blob_sha(&bytes);
                if sha != file.sha {
                    return Err(TierError::BadUpstream(format!(
                        "{} does not match its blob sha {} (got {sha}, {} bytes)",
                        file.path,
                        file.sha,
                        bytes.len()
                    )));
                }
                let etag: Option<Arc<str>> =
                    etag.map(|etag| format!("{} {etag}", self.token_tag).into());
                self.downloaded
                    .lock()
                    .expect("not poisoned")
                    .insert(file.sha.clone(), (bytes.clone(), etag.clone()));
                Ok(Raw::Body(bytes, etag))
            }
            Fetched::NotFound => Ok(Raw::NotFound),
            Fetched::NotModified if etag.is_some() => Ok(Raw::NotModified),
            Fetched::NotModified => Err(TierError::BadUpstream(
                "304 to a request that had no ETag".into(),
            )),
            Fetched::RateLimited => Err(TierError::BadUpstream(
                "the raw file host answered with a rate limit".into(),
            )),
        }
    }
}

/// Git's name for a file's content: SHA-1 of `blob <len>\0` and the bytes, in hex.
fn git_blob_sha(bytes: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A raw file's bytes and its token-tagged ETag.
type Body = (Bytes, Option<Arc<str>>);

/// A raw file's answer.
enum Raw {
    /// With its ETag, already tagged with the token.
    Body(Bytes, Option<Arc<str>>),
    NotModified,
    NotFound,
}

#[cfg(test)]
mod tests {
    use ractor::Actor;

    use super::*;
    use crate::testkit::fixtures;
    use crate::testkit::origin::FakeOrigin;

    #[test]
    fn git_blob_shas_are_gits() {
        // `git hash-object` of an empty file and of "hello\n".
        assert_eq!(
            git_blob_sha(b""),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
        assert_eq!(
            git_blob_sha(b"hello\n"),
            "ce013625030ba8dba906f756967f9e9ca394464a"
        );
    }

    async fn tier(origin: &FakeOrigin, token: &str) -> ActorRef<ToGithub> {
        let config = GithubConfig {
            api_url: origin.api_url(),
            raw_url: origin.raw_url(),
            token: token.into(),
            requests_per_second: 10_000,
            ..GithubConfig::default()
        };
        let args = GithubArgs {
            config,
            ttl: TtlConfig::default(),
        };
        Actor::spawn(None, GithubTier, args).await.unwrap().0
    }

    async fn fetch(actor: &ActorRef<ToGithub>, key: &Key, stale: Option<Entry>) -> Entry {
        let answer = actor
            .call(
                |reply| ToGithub::Fetch(vec![(key.clone(), stale)], Urgency::Waiting, reply),
                Some(Duration::from_secs(10)),
            )
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        match answer.into_iter().next() {
            Some(Lookup::Hit(entry)) => entry,
            other => panic!("{other:?}"),
        }
    }

    /// A stale copy whose sha no longer matches the tree (say the tree moved on and back) is
    /// revalidated with its ETag: a 304 confirms it without a body. The ETag is only sent
    /// with the token that got it.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_changed_sha_is_revalidated_with_the_etag_of_the_same_token() {
        let dir = fixtures::dir();
        let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
        let button = Key::parse("component:react:button").unwrap();
        let raw = "/raw/shadcn-ui/ui/main/apps/v4/registry/new-york-v4/ui/button.tsx";
        let actor = tier(&origin, "token-a").await;
        let fresh = fetch(&actor, &button, None).await;
        let etag = fresh
            .validator
            .etag
            .clone()
            .expect("the raw answer had an ETag");
        assert!(etag.starts_with('t'), "tagged with the token: {etag}");

        let stale = |etag: Option<Arc<str>>| {
            Entry::new(Bytes::from_static(b"the copy we hold"), 0, Some(1)).with_validator(
                Validator {
                    sha: Some("an older sha".into()),
                    etag,
                },
            )
        };
        let confirmed = fetch(&actor, &button, Some(stale(Some(etag.clone())))).await;
        assert_eq!(
            &confirmed.value[..],
            b"the copy we hold",
            "a 304 keeps our copy"
        );
        assert_eq!(
            confirmed.validator.sha, fresh.validator.sha,
            "and learns the new sha"
        );
        assert_eq!(origin.count(raw), 2);

        // Another token's daemon does not send it, and downloads the file.
        let other = tier(&origin, "token-b").await;
        let downloaded = fetch(&other, &button, Some(stale(Some(etag)))).await;
        assert_eq!(downloaded.value, fresh.value);
        assert_eq!(origin.count(raw), 3);

        // The same sha needs no request at all.
        let same = stale(None).with_validator(fresh.validator.clone());
        let kept = fetch(&actor, &button, Some(same)).await;
        assert_eq!(&kept.value[..], b"the copy we hold");
        assert_eq!(origin.count(raw), 3);
        let stats = actor
            .call(ToGithub::Stats, Some(Duration::from_secs(5)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((stats.hits, stats.revalidated), (1, 2));
    }
}
