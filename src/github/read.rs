//! One read of upstream: a task the actor spawns for a batch of keys, with `github.timeout`
//! for all of it. Each key is planned against its framework's tree (or is a single file of
//! its own); a stale copy whose blob shas are unchanged is confirmed with no request, a
//! single file whose sha changed is asked for with its ETag, and anything else downloaded
//! (several files at once) and checked against the blob sha the tree gave it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ractor::ActorRef;
use tokio::sync::{OnceCell, Semaphore};

use super::http::{Fetched, Http, Origin};
use super::message::{Counts, Pacer, RATE_LIMIT_KEY, ToGithub, TreeAnswer, report, unavailable};
use super::plan::{self, FileRef, Plan, SingleFile};
use super::values;
use crate::config::TtlConfig;
use crate::key::Key;
use crate::shadcn::ShadcnKey;
use crate::shadcn::framework::Framework;
use crate::tier::{Entry, Lookup, TierError, Validator, unix_ms};

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

pub(super) struct ReadTask {
    pub(super) myself: ActorRef<ToGithub>,
    pub(super) http: Arc<Http>,
    pub(super) pacer: Arc<Pacer>,
    pub(super) permits: Arc<Semaphore>,
    pub(super) ttl: TtlConfig,
    pub(super) token_tag: Arc<str>,
    /// How long the whole read may take, every key and request in it (`github.timeout`).
    pub(super) budget: Duration,
    /// The quota as it stood when the read began, for `metadata:github_rate_limit`.
    pub(super) quota: Entry,
    /// A failure met on the way that did not end the read (the registry listing could not
    /// be revalidated, so the cached one was used): named if the budget then runs out.
    pub(super) trouble: std::sync::Mutex<Option<String>>,
    /// Raw files this task downloaded or is downloading, by blob sha: keys read together (a
    /// batch of metadata keys all read the registry index) download each file once, even
    /// when they ask for it at the same moment.
    pub(super) downloaded: std::sync::Mutex<HashMap<String, Arc<OnceCell<Body>>>>,
}

/// How one key's read ended, for stats.
enum Outcome {
    Found,
    Unchanged,
    NotFound,
    Failed,
}

/// A short tag for the token, so a stored ETag is only sent with the token that got it. It is
/// stored in L2 beside the ETag, so it must not change between builds: the first 64 bits of
/// the token's SHA-1 (`DefaultHasher`'s output is not kept stable across Rust releases).
pub(super) fn token_tag(token: Option<&str>) -> String {
    use sha1::{Digest, Sha1};
    match token {
        None => "anonymous".to_owned(),
        Some(token) => {
            let digest = Sha1::digest(token.as_bytes());
            let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("t{hex}")
        }
    }
}

/// The sha a value made from several files is named by: their shas in order.
fn joined_sha<'a>(shas: impl IntoIterator<Item = &'a str>) -> Arc<str> {
    shas.into_iter().collect::<Vec<_>>().join(",").into()
}

impl ReadTask {
    /// Reads the keys side by side (their downloads within `github.max_concurrent` and the
    /// pacer), the whole read within `github.timeout`.
    pub(super) async fn run(&self, wanted: Vec<(Key, Option<Entry>)>) -> Vec<Lookup> {
        let deadline = tokio::time::Instant::now() + self.budget;
        let reads = wanted.into_iter().map(|(key, stale)| async move {
            if key.as_str() == RATE_LIMIT_KEY {
                return (Lookup::Hit(self.quota.clone()), None);
            }
            let read = tokio::time::timeout_at(deadline, self.read(&key, stale.as_ref()))
                .await
                .unwrap_or_else(|_| Err(self.out_of_time()));
            let now = unix_ms();
            let expires = now + self.ttl.ttl(key.kind()).as_millis() as u64;
            match (read, stale) {
                (Ok(Read::Value(value, validator)), _) => (
                    Lookup::Hit(Entry::new(value, now, Some(expires)).with_validator(validator)),
                    Some(Outcome::Found),
                ),
                (Ok(Read::Unchanged(validator)), Some(stale)) => (
                    Lookup::Hit(
                        Entry::new(stale.value, now, Some(expires)).with_validator(validator),
                    ),
                    Some(Outcome::Unchanged),
                ),
                (Ok(Read::Unchanged(_)), None) => unreachable!("nothing to compare without a copy"),
                (Ok(Read::NoUpstream), _) => (Lookup::Miss, None),
                (Ok(Read::Absent(message)), _) => {
                    (Lookup::Absent(message), Some(Outcome::NotFound))
                }
                (Err(e), _) => {
                    tracing::warn!(%key, error = %e, "GitHub read failed");
                    (Lookup::Failed(e), Some(Outcome::Failed))
                }
            }
        });
        let mut counts = Counts::default();
        let answers = futures::future::join_all(reads)
            .await
            .into_iter()
            .map(|(answer, outcome)| {
                match outcome {
                    Some(Outcome::Found) => counts.found += 1,
                    Some(Outcome::Unchanged) => counts.unchanged += 1,
                    Some(Outcome::NotFound) => counts.not_found += 1,
                    Some(Outcome::Failed) => counts.failed += 1,
                    None => {}
                }
                answer
            })
            .collect();
        let _ = self.myself.send_message(ToGithub::Answered(counts));
        answers
    }

    /// The budget ran out: say so, and what went wrong before, which is usually why.
    fn out_of_time(&self) -> TierError {
        let mut reason = crate::http::FetchError {
            upstream: super::http::UPSTREAM,
            failure: crate::http::Failure::TooSlow(self.budget),
        }
        .to_string();
        if let Some(trouble) = self.trouble.lock().expect("not poisoned").as_deref() {
            reason = format!("{reason} ({trouble})");
        }
        unavailable(&reason)
    }

    async fn read(&self, key: &Key, stale: Option<&Entry>) -> Result<Read, TierError> {
        if let Some(file) = plan::single_file(key) {
            return self.read_single(file, stale).await;
        }
        let upstream = match ShadcnKey::parse(key) {
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

    /// An answer's ETag as stored: tagged with the token that got it.
    fn tagged(&self, etag: Option<String>) -> Option<Arc<str>> {
        etag.map(|etag| format!("{} {etag}", self.token_tag).into())
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
                    etag: self.tagged(etag),
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
        if etag.is_none() {
            // One download per blob among the keys read together; a failed one is tried again
            // by the next key that needs it.
            let cell = self
                .downloaded
                .lock()
                .expect("not poisoned")
                .entry(file.sha.clone())
                .or_default()
                .clone();
            let mut absent = false;
            let body = cell
                .get_or_try_init(|| async {
                    match self.fetch_raw(&path, file, None).await? {
                        Raw::Body(bytes, etag) => Ok((bytes, etag)),
                        _ => {
                            absent = true;
                            Err(TierError::BadUpstream(String::new()))
                        }
                    }
                })
                .await;
            return match body {
                Ok((bytes, etag)) => Ok(Raw::Body(bytes.clone(), etag.clone())),
                Err(_) if absent => Ok(Raw::NotFound),
                Err(e) => Err(e),
            };
        }
        self.fetch_raw(&path, file, etag).await
    }

    async fn fetch_raw(
        &self,
        path: &str,
        file: &FileRef,
        etag: Option<String>,
    ) -> Result<Raw, TierError> {
        match self.download(path, etag.as_deref()).await? {
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
                Ok(Raw::Body(bytes, self.tagged(etag)))
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
pub(super) fn git_blob_sha(bytes: &[u8]) -> String {
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
