//! One fetch from the registries, in a task the actor spawns: each wanted key's file is
//! located (`sources.rs`), asked for within the concurrency limit and the pacer, conditionally
//! when the cache holds a copy (`If-None-Match`, else `If-Modified-Since`), and its body
//! checked against the shape its place calls for before it is answered. Keys of one fetch
//! run side by side; the whole fetch has `registry.timeout`.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use ractor::ActorRef;
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH};
use tokio::sync::{OnceCell, Semaphore};

use super::file::RegistryFile;
use super::message::{Directory, Outcome, ToRegistry, unavailable};
use super::sources::{NoTarget, Sources, Target, display};
use crate::http::{Client, FetchError};
use crate::key::Key;
use crate::protocol::TierName;
use crate::tier::{Entry, Lookup, TierError, Validator, unix_ms};

pub(super) type Pacer = governor::DefaultDirectRateLimiter;

/// What the `shadcn` CLI sends, so a registry answers us as it answers it.
const ACCEPT_REGISTRY: &str = "application/vnd.shadcn.v1+json, application/json;q=0.9";

/// How a stored validator says which header revalidates it.
const ETAG: &str = "etag:";
const MODIFIED: &str = "modified:";

pub(super) struct ReadTask {
    pub(super) myself: ActorRef<ToRegistry>,
    pub(super) client: Arc<Client>,
    pub(super) sources: Arc<Sources>,
    pub(super) pacer: Arc<Pacer>,
    pub(super) permits: Arc<Semaphore>,
    pub(super) ttl: Duration,
    /// `registry.timeout`: the whole fetch's budget.
    pub(super) budget: Duration,
    pub(super) directory: OnceCell<Result<Directory, TierError>>,
}

impl ReadTask {
    pub(super) async fn run(self, wanted: Vec<(Key, Option<Entry>)>) -> Vec<Lookup> {
        let deadline = tokio::time::Instant::now() + self.budget;
        let this = &self;
        let reads = wanted.into_iter().map(|(key, stale)| async move {
            let Some(file) = RegistryFile::from_key(&key) else {
                return (None, Lookup::Miss);
            };
            let read = tokio::time::timeout_at(deadline, this.read(&file, stale))
                .await
                .unwrap_or_else(|_| {
                    Err(unavailable(format!(
                        "the {} registry did not answer within {}",
                        display(&file.source),
                        humantime::format_duration(this.budget)
                    )))
                });
            let (outcome, lookup) = match read {
                Ok((outcome, lookup)) => (outcome, lookup),
                Err(e) => {
                    tracing::warn!(%key, error = %e, "registry read failed");
                    (Outcome::Failed, Lookup::Failed(e))
                }
            };
            (Some((file.source, outcome)), lookup)
        });
        let (outcomes, answers): (Vec<_>, Vec<_>) = join_all(reads).await.into_iter().unzip();
        let outcomes = outcomes.into_iter().flatten().collect();
        let _ = self.myself.send_message(ToRegistry::Answered(outcomes));
        answers
    }

    async fn read(
        &self,
        file: &RegistryFile,
        stale: Option<Entry>,
    ) -> Result<(Outcome, Lookup), TierError> {
        let target = match self.sources.target(file, None) {
            Err(NoTarget::NeedsDirectory) => {
                let directory = self.directory().await?;
                self.sources.target(file, Some(&directory))
            }
            other => other,
        };
        let Target { url, mut headers } = match target {
            Ok(target) => target,
            Err(NoTarget::Absent(why)) => return Ok((Outcome::NotFound, Lookup::Absent(why))),
            Err(NoTarget::Misconfigured(why)) => return Err(TierError::BadUpstream(why)),
            Err(NoTarget::NeedsDirectory) => unreachable!("the directory was given"),
        };
        headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_REGISTRY));
        if let Some((name, value)) = stale.as_ref().and_then(|e| conditional(&e.validator)) {
            headers.insert(name, value);
        }
        let answer = self.get(&url, headers).await.map_err(from_fetch)?;
        let now = unix_ms();
        let expires = now + self.ttl.as_millis() as u64;
        let registry = display(&file.source);
        match answer.status {
            status if status.is_success() => {
                file.shape().check(&answer.body).map_err(|why| {
                    TierError::BadUpstream(format!("{registry} registry: {url}: {why}"))
                })?;
                let validator = Validator {
                    sha: None,
                    etag: stored_validator(&answer.headers),
                };
                let entry = Entry::new(answer.body, now, Some(expires)).with_validator(validator);
                Ok((Outcome::Fetched, Lookup::Hit(entry)))
            }
            StatusCode::NOT_MODIFIED => match stale {
                Some(stale) => {
                    let validator = match stored_validator(&answer.headers) {
                        Some(fresh) => Validator {
                            sha: None,
                            etag: Some(fresh),
                        },
                        None => stale.validator.clone(),
                    };
                    let entry =
                        Entry::new(stale.value, now, Some(expires)).with_validator(validator);
                    Ok((Outcome::Unchanged, Lookup::Hit(entry)))
                }
                None => Err(TierError::BadUpstream(format!(
                    "{registry} registry answered 304 to a request that asked for no revalidation"
                ))),
            },
            StatusCode::NOT_FOUND | StatusCode::GONE => {
                let what = match file.style() {
                    Some(style) => format!("`{}` (style {style})", file.name()),
                    None => format!("`{}`", file.name()),
                };
                Ok((
                    Outcome::NotFound,
                    Lookup::Absent(format!("{what} is not in the {registry} registry")),
                ))
            }
            StatusCode::TOO_MANY_REQUESTS => Err(TierError::RateLimited {
                origin: TierName::Registry,
                retry_in: retry_after(&answer.headers),
            }),
            status @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
                Err(TierError::BadUpstream(format!(
                    "{registry} registry refused access ({status}): check the headers of \
                     registry.namespaces for it"
                )))
            }
            status if status.is_server_error() => Err(unavailable(format!(
                "{registry} registry answered {}",
                status.as_u16()
            ))),
            status => Err(TierError::BadUpstream(format!(
                "{registry} registry answered {} for {url}",
                status.as_u16()
            ))),
        }
    }

    /// One request, within the concurrency limit and the pacer.
    async fn get(&self, url: &str, headers: HeaderMap) -> Result<crate::http::Answer, FetchError> {
        let _permit = self.permits.acquire().await;
        self.pacer.until_ready().await;
        self.client.get(url, headers).await
    }

    /// The directory, asked of the actor once per fetch (it fetches it when stale).
    async fn directory(&self) -> Result<Directory, TierError> {
        self.directory
            .get_or_init(|| async {
                match self
                    .myself
                    .call(ToRegistry::Directory, Some(self.budget))
                    .await
                {
                    Ok(ractor::rpc::CallResult::Success(answer)) => answer,
                    _ => Err(unavailable("the directory of registries could not be read")),
                }
            })
            .await
            .clone()
    }
}

/// The actor's directory task: `registries.json` of the shadcn registry, parsed.
pub(super) async fn fetch_directory(
    client: &Client,
    sources: &Sources,
    pacer: &Pacer,
) -> Result<Directory, TierError> {
    let url = sources.directory_url();
    pacer.until_ready().await;
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(ACCEPT_REGISTRY));
    let answer = client.get(&url, headers).await.map_err(from_fetch)?;
    if answer.status.is_server_error() {
        return Err(unavailable(format!(
            "{url} answered {}",
            answer.status.as_u16()
        )));
    }
    if !answer.status.is_success() {
        return Err(TierError::BadUpstream(format!(
            "{url} answered {}",
            answer.status.as_u16()
        )));
    }
    let directory = super::sources::parse_directory(&answer.body, url.starts_with("http://"))
        .map_err(TierError::BadUpstream)?;
    Ok(Arc::new(directory))
}

fn from_fetch(e: FetchError) -> TierError {
    if e.is_upstream_failure() {
        unavailable(e.to_string())
    } else {
        TierError::BadUpstream(e.to_string())
    }
}

/// The ETag, else the Last-Modified date, tagged with which it is.
fn stored_validator(headers: &HeaderMap) -> Option<Arc<str>> {
    let get = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    get("etag")
        .map(|etag| format!("{ETAG}{etag}"))
        .or_else(|| get("last-modified").map(|date| format!("{MODIFIED}{date}")))
        .map(Into::into)
}

fn conditional(validator: &Validator) -> Option<(reqwest::header::HeaderName, HeaderValue)> {
    let stored = validator.etag.as_deref()?;
    let (name, value) = if let Some(etag) = stored.strip_prefix(ETAG) {
        (IF_NONE_MATCH, etag)
    } else {
        (IF_MODIFIED_SINCE, stored.strip_prefix(MODIFIED)?)
    };
    Some((name, HeaderValue::from_str(value).ok()?))
}

/// `Retry-After` in seconds, else a minute; never more than an hour.
fn retry_after(headers: &HeaderMap) -> Duration {
    let seconds = headers
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(60);
    Duration::from_secs(seconds.min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validators_round_trip_into_conditional_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "last-modified",
            HeaderValue::from_static("Tue, 01 Dec 2026 10:00:00 GMT"),
        );
        let modified = Validator {
            sha: None,
            etag: stored_validator(&headers),
        };
        let (name, value) = conditional(&modified).unwrap();
        assert_eq!(
            (name, value.to_str().unwrap()),
            (IF_MODIFIED_SINCE, "Tue, 01 Dec 2026 10:00:00 GMT")
        );
        headers.insert("etag", HeaderValue::from_static("\"abc\""));
        let tagged = Validator {
            sha: None,
            etag: stored_validator(&headers),
        };
        let (name, value) = conditional(&tagged).unwrap();
        assert_eq!((name, value.to_str().unwrap()), (IF_NONE_MATCH, "\"abc\""));
        assert_eq!(conditional(&Validator::default()), None);
    }
}
