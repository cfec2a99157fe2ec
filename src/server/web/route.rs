//! What the registry listener answers: `/<secret>/<source>/<path>` to a registry file through
//! the router (so every tier, the coalescing and the stale copies serve it), with an ETag,
//! 304s, and JSON errors the `shadcn` CLI shows to its user. A wrong secret gets a bare 404
//! before anything else is looked at, so it costs nothing; no path ever becomes a URL of its
//! own (see `registry::file`).

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use bytes::Bytes;
use hyper::header::{ALLOW, CONTENT_TYPE, ETAG, HeaderValue};
use hyper::{Method, StatusCode};

use super::metrics::{self, StatsSource};
use super::secret;
use crate::protocol::{ErrorCode, RegistryInfo, RegistryStats, Response, TierName};
use crate::registry::RegistryHandle;
use crate::registry::file::RegistryFile;
use crate::registry::sources::Sources;
use crate::router::{Command, RouterHandle};

/// One answer, before hyper frames it.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(hyper::header::HeaderName, HeaderValue)>,
    pub body: Bytes,
}

impl Reply {
    fn new(status: StatusCode, body: Bytes) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body,
        }
    }

    /// A JSON error the CLI shows: `{error, detail}`.
    fn error(status: StatusCode, detail: &str) -> Reply {
        let body = serde_json::json!({
            "error": status.canonical_reason().unwrap_or("Error"),
            "detail": detail,
        });
        Reply::new(status, Bytes::from(body.to_string())).json()
    }

    fn json(mut self) -> Reply {
        self.headers
            .push((CONTENT_TYPE, HeaderValue::from_static("application/json")));
        self
    }
}

/// The registries served, and what the listener counted for each.
pub struct RegistryService {
    router: RouterHandle,
    origin: Option<RegistryHandle>,
    sources: Arc<Sources>,
    secret: String,
    info: RegistryInfo,
    counts: Mutex<BTreeMap<String, RegistryStats>>,
    /// What `/metrics` exports: the socket's dispatcher, once the server is built.
    stats: OnceLock<Weak<dyn StatsSource>>,
}

/// How a request ended, for the counts.
enum Counted {
    Tier(TierName),
    NotModified,
    NotFound,
    Error,
}

impl RegistryService {
    pub fn new(
        router: RouterHandle,
        origin: Option<RegistryHandle>,
        sources: Arc<Sources>,
        secret: String,
        info: RegistryInfo,
    ) -> RegistryService {
        RegistryService {
            router,
            origin,
            sources,
            secret,
            info,
            counts: Mutex::new(BTreeMap::new()),
            stats: OnceLock::new(),
        }
    }

    /// Serves `/metrics` from `source` (weak: the dispatcher holds this service).
    pub fn export_stats(&self, source: Weak<dyn StatsSource>) {
        let _ = self.stats.set(source);
    }

    pub fn info(&self) -> RegistryInfo {
        self.info.clone()
    }

    /// What the listener counted, merged with what the origin fetched, per registry.
    pub async fn stats(&self) -> Vec<RegistryStats> {
        let mut merged = self.counts.lock().expect("not poisoned").clone();
        if let Some(origin) = &self.origin
            && let Ok(fetched) = origin.sources().await
        {
            for f in fetched {
                let entry = crate::registry::sources::counted(&mut merged, f.registry.clone());
                entry.fetched = f.fetched;
                entry.unchanged = f.unchanged;
                entry.not_found_upstream = f.not_found_upstream;
                entry.fetch_errors = f.fetch_errors;
            }
        }
        merged.into_values().collect()
    }

    pub async fn answer(&self, method: &Method, path: &str, if_none_match: Option<&str>) -> Reply {
        // The secret first: a request without it learns nothing and costs nothing.
        let rest = path
            .strip_prefix('/')
            .and_then(|p| p.split_once('/'))
            .filter(|(given, _)| secret::matches(&self.secret, given))
            .map(|(_, rest)| rest);
        let Some(rest) = rest else {
            return Reply::new(StatusCode::NOT_FOUND, Bytes::from_static(b"Not Found"));
        };
        if method != Method::GET && method != Method::HEAD {
            let mut reply = Reply::error(
                StatusCode::METHOD_NOT_ALLOWED,
                "the registry is read-only: GET and HEAD only",
            );
            reply
                .headers
                .push((ALLOW, HeaderValue::from_static("GET, HEAD")));
            return reply;
        }
        // `/<secret>/`: what is served here, for `doctor` and a curious user.
        if rest.is_empty() {
            let body = serde_json::json!({
                "shadcache": env!("CARGO_PKG_VERSION"),
                "registries": crate::registry::sources::BUILT_IN,
                "namespaces": self.info.namespaces.iter().map(|(ns, _)| ns).collect::<Vec<_>>(),
                "directory": self.info.directory,
            });
            return Reply::new(StatusCode::OK, Bytes::from(body.to_string())).json();
        }
        if rest == "metrics" {
            return self.metrics().await;
        }
        let (source, file_path) = rest.split_once('/').unwrap_or((rest, ""));
        if !self.sources.serves(source) {
            return Reply::error(
                StatusCode::NOT_FOUND,
                &format!(
                    "there is no registry `{source}` here (shadcn, svelte, vue or a namespace)"
                ),
            );
        }
        let Some(file) = RegistryFile::from_path(source, file_path) else {
            return Reply::error(
                StatusCode::NOT_FOUND,
                &format!("`{file_path}` is not a file of the shadcn registry protocol"),
            );
        };
        let registry = crate::registry::sources::display(source);
        let (reply, counted) = self.fetch(&file, if_none_match).await;
        let mut counts = self.counts.lock().expect("not poisoned");
        let c = crate::registry::sources::counted(&mut counts, registry);
        c.requests += 1;
        match counted {
            Counted::Tier(tier) => match c.answered_by.iter_mut().find(|(t, _)| *t == tier) {
                Some((_, n)) => *n += 1,
                None => c.answered_by.push((tier, 1)),
            },
            Counted::NotModified => c.not_modified += 1,
            Counted::NotFound => c.not_found += 1,
            Counted::Error => c.errors += 1,
        }
        reply
    }

    async fn metrics(&self) -> Reply {
        let source = self.stats.get().and_then(Weak::upgrade);
        let text = match source {
            Some(source) => metrics::scrape(source.as_ref()).await,
            None => None,
        };
        match text {
            Some(text) => {
                let mut reply = Reply::new(StatusCode::OK, Bytes::from(text));
                reply.headers.push((
                    CONTENT_TYPE,
                    HeaderValue::from_static(metrics::CONTENT_TYPE),
                ));
                reply
            }
            None => Reply::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the daemon's statistics are not available (starting or stopping)",
            ),
        }
    }

    async fn fetch(&self, file: &RegistryFile, if_none_match: Option<&str>) -> (Reply, Counted) {
        match self.router.execute(Command::Get(file.key())).await {
            Response::Value(Some(found)) => {
                let etag = etag(&found.value);
                if if_none_match.is_some_and(|given| etag_matches(given, &etag)) {
                    let mut reply = Reply::new(StatusCode::NOT_MODIFIED, Bytes::new());
                    reply.headers.push((ETAG, header(&etag)));
                    return (reply, Counted::NotModified);
                }
                let mut reply = Reply::new(StatusCode::OK, found.value).json();
                reply.headers.push((ETAG, header(&etag)));
                (reply, Counted::Tier(found.info.tier))
            }
            Response::Error(e) if e.code == ErrorCode::NotFound => {
                let mut detail = e.message;
                let near = self.near_names(file).await;
                if !near.is_empty() {
                    detail.push_str(&format!(". Did you mean: {}?", near.join(", ")));
                }
                (
                    Reply::error(StatusCode::NOT_FOUND, &detail),
                    Counted::NotFound,
                )
            }
            // The origin is off or the kind is cache-aside: not a "does not exist".
            Response::Value(None) => (
                Reply::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!(
                        "{} is not cached, and the registry origin is off (registry.enabled, \
                         or a cache-aside strategy for `registry`)",
                        file.path()
                    ),
                ),
                Counted::Error,
            ),
            Response::Error(e) => {
                let status = match e.code {
                    ErrorCode::BadUpstream => StatusCode::BAD_GATEWAY,
                    ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                    _ => StatusCode::SERVICE_UNAVAILABLE,
                };
                let detail = format!(
                    "{} is not cached and could not be fetched: {}",
                    file.path(),
                    e.message
                );
                (Reply::error(status, &detail), Counted::Error)
            }
            other => (
                Reply::error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("unexpected answer from the cache: {other:?}"),
                ),
                Counted::Error,
            ),
        }
    }

    /// Names in the same registry and style close to the one asked for, from its catalog
    /// (`registry.json`; shadcn-svelte lists its items in the style's `index.json`).
    async fn near_names(&self, file: &RegistryFile) -> Vec<String> {
        let Some(catalog) = file.catalog().filter(|c| c != file) else {
            return Vec::new();
        };
        let body = match self.router.execute(Command::Get(catalog.key())).await {
            Response::Value(Some(found)) => found.value,
            _ => return Vec::new(),
        };
        let names = crate::registry::file::item_names(&body);
        crate::suggest::near(file.name(), names.iter().map(String::as_str), 3)
            .into_iter()
            .map(str::to_owned)
            .collect()
    }
}

/// A strong ETag made from the body: the same bytes always get the same tag.
fn etag(body: &[u8]) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut hasher);
    format!("\"{:016x}-{:x}\"", hasher.finish(), body.len())
}

fn etag_matches(given: &str, etag: &str) -> bool {
    given
        .split(',')
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == etag)
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).expect("ETags are made of hex digits and quotes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_stable_and_matched_as_clients_send_them() {
        let tag = etag(b"{\"name\":\"button\"}");
        assert_eq!(tag, etag(b"{\"name\":\"button\"}"));
        assert_ne!(tag, etag(b"{\"name\":\"card\"}"));
        assert!(etag_matches(&tag, &tag));
        assert!(etag_matches(&format!("\"x\", W/{tag}"), &tag));
        assert!(etag_matches("*", &tag));
        assert!(!etag_matches("\"other\"", &tag));
    }
}
