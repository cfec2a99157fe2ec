//! Warming: prefetching a whole registry into the cache with the fewest API calls. The two
//! listings cost the registry's tree listing (two API calls, or a 304); every other key is a
//! raw download, which GitHub's API quota does not count. Keys are asked in batches, so a
//! batch's metadata keys share one download of the registry index. Before each batch the
//! quota is checked: below `github.quota_reserve` warming stops, leaving the rest for clients.
//!
//! The same code runs in `shadcache warm` (through the socket, with a progress bar) and in the
//! daemon at start (`github.warm`), through whatever `ask` answers requests with.

use std::time::{Duration, Instant};

use super::framework::Framework;
use super::key::{Named, ShadcnKey};
use crate::protocol::{ErrorCode, Request, Response};

/// How a warm went, for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarmReport {
    pub framework: String,
    pub keys: u64,
    /// Keys that now have a value in the cache.
    pub cached: u64,
    /// Keys GitHub has nothing for (a component without a demo, say) or that failed.
    pub missing: u64,
    /// API calls the warm made (304s included, which cost no quota).
    pub api_calls: Option<u64>,
    /// Files it downloaded from the raw host, which cost no API quota.
    pub raw_downloads: Option<u64>,
    /// API calls left in the quota, and the quota.
    pub remaining: Option<u64>,
    pub limit: Option<u64>,
    /// Why it stopped early, if it did.
    pub stopped: Option<String>,
    pub took: Duration,
}

impl std::fmt::Display for WarmReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} keys, {} cached, {} not upstream or failed",
            self.framework, self.keys, self.cached, self.missing
        )?;
        if let Some(calls) = self.api_calls {
            write!(f, "; {calls} API {}", plural(calls, "call"))?;
            match (self.remaining, self.limit) {
                (Some(remaining), Some(limit)) => {
                    write!(f, " ({remaining} of {limit} left this hour)")?
                }
                (Some(remaining), None) => write!(f, " ({remaining} left)")?,
                _ => {}
            }
        }
        if let Some(downloads) = self.raw_downloads {
            write!(
                f,
                ", {downloads} raw {} (no quota)",
                plural(downloads, "download")
            )?;
        }
        write!(f, "; took {:.1} s", self.took.as_secs_f64())?;
        if let Some(why) = &self.stopped {
            write!(f, "; stopped early: {why}")?;
        }
        Ok(())
    }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        word.to_owned()
    } else {
        format!("{word}s")
    }
}

/// What warming reports as it goes.
pub trait Progress {
    fn start(&mut self, framework: &str, keys: u64);
    fn advance(&mut self, n: u64);
}

/// Reports nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&mut self, _: &str, _: u64) {}
    fn advance(&mut self, _: u64) {}
}

const BATCH: usize = 16;

/// The quota state as `metadata:github_rate_limit` tells it.
#[derive(Debug, Default, Clone, Copy)]
struct QuotaSeen {
    /// API answers this daemon received, and raw files it downloaded, so far.
    api_answers: Option<u64>,
    raw_downloads: Option<u64>,
    remaining: Option<u64>,
    limit: Option<u64>,
}

async fn quota<A, F>(ask: &mut A) -> QuotaSeen
where
    A: FnMut(Request) -> F,
    F: Future<Output = Response>,
{
    let response = ask(Request::Get {
        key: "metadata:github_rate_limit".into(),
    })
    .await;
    let Response::Value(Some(found)) = response else {
        return QuotaSeen::default();
    };
    let state: serde_json::Value = serde_json::from_slice(&found.value).unwrap_or_default();
    QuotaSeen {
        api_answers: state["api_answers"].as_u64(),
        raw_downloads: state["raw_downloads"].as_u64(),
        remaining: state["remaining"].as_u64(),
        limit: state["limit"].as_u64(),
    }
}

fn names(response: Response) -> Result<Vec<String>, String> {
    match response {
        Response::Value(Some(found)) => {
            let list: serde_json::Value = serde_json::from_slice(&found.value)
                .map_err(|e| format!("the listing is not JSON: {e}"))?;
            Ok(list
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| item.as_str().or_else(|| item["name"].as_str()))
                .map(str::to_owned)
                .collect())
        }
        Response::Value(None) => Ok(Vec::new()),
        Response::Error(e) => Err(e.message),
        other => Err(format!("unexpected answer: {other:?}")),
    }
}

/// How one batch of a warm went.
pub enum Batch {
    /// Keys now cached, and keys the origin does not have (or that failed).
    Fetched { cached: u64, missing: u64 },
    /// A rate limit, an open breaker or a daemon going away: the warm stops, saying why.
    Stopped(String),
}

/// One `MGet` of a warm's keys.
pub async fn fetch_batch<A, F>(ask: &mut A, keys: Vec<String>) -> Result<Batch, String>
where
    A: FnMut(Request) -> F,
    F: Future<Output = Response>,
{
    let n = keys.len() as u64;
    match ask(Request::MGet { keys }).await {
        Response::Values(values) => {
            let cached = values.iter().filter(|v| v.is_some()).count() as u64;
            Ok(Batch::Fetched {
                cached,
                missing: n - cached,
            })
        }
        // Every key of the batch answered the same way: nothing upstream (or unusable,
        // like a block whose files are not all served) is this batch's bad luck.
        Response::Error(e) if matches!(e.code, ErrorCode::NotFound | ErrorCode::BadUpstream) => {
            Ok(Batch::Fetched {
                cached: 0,
                missing: n,
            })
        }
        Response::Error(e) => Ok(Batch::Stopped(e.message)),
        other => Err(format!("unexpected answer: {other:?}")),
    }
}

/// Warms one framework's registry. `reserve` is `github.quota_reserve`.
pub async fn warm<A, F, P>(
    ask: &mut A,
    framework: &'static Framework,
    reserve: u64,
    progress: &mut P,
) -> Result<WarmReport, String>
where
    A: FnMut(Request) -> F,
    F: Future<Output = Response>,
    P: Progress,
{
    let started = Instant::now();
    let fw = framework.id;
    let before = quota(ask).await;
    let listing = |item: ShadcnKey| Request::Get {
        key: item.unnamed_key().to_string(),
    };
    let components = names(ask(listing(ShadcnKey::ListComponents(framework))).await)?;
    let blocks = names(ask(listing(ShadcnKey::ListBlocks(framework))).await)?;
    let mut keys: Vec<String> = vec![ShadcnKey::Tree(framework).unnamed_key().to_string()];
    // A listed name that cannot be a key segment (a listing is whatever was cached under its
    // key) is counted missing, never asked.
    let mut unusable = 0;
    let items: [(Named, &[String]); 4] = [
        (ShadcnKey::Component, &components),
        (ShadcnKey::Demo, &components),
        (ShadcnKey::Metadata, &components),
        (ShadcnKey::Block, &blocks),
    ];
    for (item, names) in items {
        for name in names {
            match item(framework, name.clone()).key() {
                Ok(key) => keys.push(key.to_string()),
                Err(_) => unusable += 1,
            }
        }
    }
    let mut report = WarmReport {
        framework: fw.to_owned(),
        keys: keys.len() as u64 + unusable,
        missing: unusable,
        ..WarmReport::default()
    };
    progress.start(fw, keys.len() as u64);
    for batch in keys.chunks(BATCH) {
        if let Some(remaining) = quota(ask).await.remaining
            && remaining <= reserve
        {
            report.stopped = Some(format!(
                "{remaining} GitHub API calls left, at the reserve of {reserve}"
            ));
            break;
        }
        match fetch_batch(ask, batch.to_vec()).await? {
            Batch::Fetched { cached, missing } => {
                report.cached += cached;
                report.missing += missing;
            }
            Batch::Stopped(why) => {
                report.stopped = Some(why);
                break;
            }
        }
        progress.advance(batch.len() as u64);
    }
    let after = quota(ask).await;
    let spent = |before: Option<u64>, after: Option<u64>| Some(after?.saturating_sub(before?));
    report.api_calls = spent(before.api_answers, after.api_answers);
    report.raw_downloads = spent(before.raw_downloads, after.raw_downloads);
    report.remaining = after.remaining;
    report.limit = after.limit;
    report.took = started.elapsed();
    Ok(report)
}
