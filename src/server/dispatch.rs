//! Requests to router commands and back. Knows nothing of sockets: it validates what a client
//! sent (keys, patterns, TTLs), runs it, and fills in what only the server knows.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crate::database::{DatabaseHandle, L2Error};
use crate::glob::Glob;
use crate::key::Key;
use crate::protocol::{ErrorCode, RegistryInfo, Request, Response, WireError};
use crate::router::{Command, RouterHandle};
use crate::supervisor::SupervisorHandle;

use super::limits::ServerCounters;
use super::web::RegistryService;

/// More keys than this in one `mget`/`mset` is refused rather than queued.
pub const MAX_BATCH: usize = 10_000;

#[derive(Clone)]
pub struct Dispatcher {
    pub(crate) router: RouterHandle,
    pub(crate) supervisor: SupervisorHandle,
    pub(crate) database: Option<DatabaseHandle>,
    pub(crate) counters: Arc<ServerCounters>,
    pub(crate) started: Instant,
    /// For domain requests that name no framework (`github.framework`).
    pub(crate) framework: Arc<str>,
    /// Started with `SHADCACHE_TEST_CLOCK=1`: takes `Request::AdvanceClock`.
    pub(crate) movable_clock: bool,
    /// The registry listener; `None` when `registry.enabled` is off.
    pub(crate) registry: Option<Arc<RegistryService>>,
}

impl Dispatcher {
    pub async fn dispatch(&self, request: Request) -> Response {
        self.counters.requests.fetch_add(1, Relaxed);
        let response = match request {
            Request::Migrate(action) => {
                self.database(|db| async move {
                    let list = db.migrate(action.into()).await?;
                    Ok(Response::Migrations(
                        list.into_iter().map(Into::into).collect(),
                    ))
                })
                .await
            }
            Request::Maintenance => {
                self.database(|db| async move {
                    Ok(Response::Maintenance(db.maintenance().await?.into()))
                })
                .await
            }
            Request::AdvanceClock(by) if self.movable_clock => {
                crate::clock::advance(by);
                tracing::warn!(?by, "test clock moved forward");
                Response::Pong
            }
            Request::AdvanceClock(_) => Response::Error(WireError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "this daemon's clock cannot be moved (only a test daemon's, started with {}=1)",
                    crate::clock::TEST_CLOCK_VAR
                ),
            )),
            Request::Shadcn { framework, query } => {
                crate::shadcn::answer(&self.router, &self.framework, framework.as_deref(), query)
                    .await
            }
            Request::Registry => Response::Registry(match &self.registry {
                Some(registry) => registry.info(),
                None => RegistryInfo {
                    base_url: None,
                    problem: Some("the registry is off (registry.enabled = false)".into()),
                    namespaces: Vec::new(),
                    directory: false,
                },
            }),
            request => self.route(request).await,
        };
        if let Response::Error(e) = &response {
            self.counters.request_errors.fetch_add(1, Relaxed);
            tracing::debug!(code = ?e.code, message = %e.message, "request failed");
        }
        response
    }

    async fn database<F, Fut>(&self, run: F) -> Response
    where
        F: FnOnce(DatabaseHandle) -> Fut,
        Fut: Future<Output = Result<Response, L2Error>>,
    {
        match &self.database {
            Some(db) => run(db.clone())
                .await
                .unwrap_or_else(|e| Response::Error(e.into())),
            None => Response::Error(WireError::new(
                ErrorCode::Unavailable,
                "L2 is disabled (l2.enabled = false)",
            )),
        }
    }

    async fn route(&self, request: Request) -> Response {
        match command(request) {
            Ok(Command::Stats) => self.stats().await,
            Ok(command) => self.router.execute(command).await,
            Err(error) => Response::Error(error),
        }
    }

    async fn stats(&self) -> Response {
        let mut response = self.router.execute(Command::Stats).await;
        if let Response::Stats(stats) = &mut response {
            let c = &self.counters;
            stats.daemon_version = env!("CARGO_PKG_VERSION").into();
            stats.pid = std::process::id();
            stats.uptime = self.started.elapsed();
            stats.connections_open = c.open.load(Relaxed);
            stats.connections_total = c.total.load(Relaxed);
            stats.connections_refused = c.refused.load(Relaxed);
            stats.requests = c.requests.load(Relaxed);
            stats.request_errors = c.request_errors.load(Relaxed);
            stats.restarts = self.supervisor.restarts().await;
            if let Some(registry) = &self.registry {
                stats.registries = registry.stats().await;
            }
        }
        response
    }
}

impl super::web::metrics::StatsSource for Dispatcher {
    fn stats(&self) -> futures::future::BoxFuture<'_, Option<crate::protocol::Stats>> {
        Box::pin(async {
            match Dispatcher::stats(self).await {
                Response::Stats(stats) => Some(*stats),
                _ => None,
            }
        })
    }
}

/// Whether a request changes what the cache holds (and so orders a pipeline around it).
pub fn mutates(request: &Request) -> bool {
    matches!(
        request,
        Request::Set { .. }
            | Request::MSet { .. }
            | Request::Delete { .. }
            | Request::Clear { .. }
            | Request::RefreshTtl { .. }
            | Request::Migrate(_)
            | Request::Maintenance
            | Request::AdvanceClock(_)
    )
}

fn key(raw: &str) -> Result<Key, WireError> {
    Key::parse(raw).map_err(|e| WireError::new(ErrorCode::InvalidKey, e.to_string()))
}

fn ttl(ttl: Option<Duration>) -> Result<Option<Duration>, WireError> {
    match ttl {
        Some(d) if d.is_zero() => Err(WireError::new(
            ErrorCode::InvalidRequest,
            "ttl must be longer than zero",
        )),
        // Beyond a century is surely a unit mistake, and would overflow timestamps.
        Some(d) if d > Duration::from_secs(100 * 365 * 86_400) => Err(WireError::new(
            ErrorCode::InvalidRequest,
            format!("ttl of {d:?} is longer than a century"),
        )),
        other => Ok(other),
    }
}

fn batch<T>(items: &[T]) -> Result<(), WireError> {
    if items.len() > MAX_BATCH {
        return Err(WireError::new(
            ErrorCode::InvalidRequest,
            format!(
                "{} keys in one request; the limit is {MAX_BATCH}",
                items.len()
            ),
        ));
    }
    Ok(())
}

pub fn command(request: Request) -> Result<Command, WireError> {
    Ok(match request {
        Request::Ping => Command::Ping,
        Request::Get { key: k } => Command::Get(key(&k)?),
        Request::Set {
            key: k,
            value,
            ttl: t,
        } => Command::Set {
            key: key(&k)?,
            value,
            ttl: ttl(t)?,
        },
        Request::Delete { key: k } => Command::Delete(key(&k)?),
        Request::Has { key: k } => Command::Has(key(&k)?),
        Request::Keys { pattern } => Command::Keys(match pattern {
            Some(p) => Glob::parse(&p)
                .map_err(|e| WireError::new(ErrorCode::InvalidRequest, e.to_string()))?,
            None => Glob::any(),
        }),
        Request::MGet { keys } => {
            batch(&keys)?;
            Command::MGet(keys.iter().map(|k| key(k)).collect::<Result<_, _>>()?)
        }
        Request::MSet { entries } => {
            batch(&entries)?;
            Command::MSet(
                entries
                    .into_iter()
                    .map(|e| Ok((key(&e.key)?, e.value, ttl(e.ttl)?)))
                    .collect::<Result<_, WireError>>()?,
            )
        }
        Request::Clear { shared } => Command::Clear { shared },
        Request::Size => Command::Size,
        Request::Metadata { key: k } => Command::Metadata(key(&k)?),
        Request::RefreshTtl { key: k, ttl: t } => Command::RefreshTtl(key(&k)?, ttl(t)?),
        Request::Stats => Command::Stats,
        Request::Migrate(_)
        | Request::Maintenance
        | Request::Shadcn { .. }
        | Request::AdvanceClock(_)
        | Request::Registry => {
            return Err(WireError::new(
                ErrorCode::InvalidRequest,
                "migrate, maintenance, domain, clock and registry requests are not router commands",
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::SetEntry;
    use bytes::Bytes;

    #[test]
    fn bad_keys_are_invalid_key_errors() {
        let err = command(Request::Get {
            key: "../etc/passwd".into(),
        })
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidKey);
        assert!(err.message.contains('/'), "{}", err.message);
    }

    #[test]
    fn mset_is_validated_whole() {
        let entry = |k: &str| SetEntry {
            key: k.into(),
            value: Bytes::new(),
            ttl: None,
        };
        let err = command(Request::MSet {
            entries: vec![entry("a:1"), entry("bad key")],
        })
        .unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidKey);
    }

    #[test]
    fn zero_and_absurd_ttls_are_refused() {
        for t in [Duration::ZERO, Duration::from_secs(u64::MAX)] {
            let err = command(Request::Set {
                key: "a:b".into(),
                value: Bytes::new(),
                ttl: Some(t),
            })
            .unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidRequest);
        }
    }

    #[test]
    fn oversized_batches_are_refused() {
        let keys = vec!["a:b".to_string(); MAX_BATCH + 1];
        assert_eq!(
            command(Request::MGet { keys }).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
    }
}
