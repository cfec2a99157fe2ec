//! The server: accepts connections and hands each to its own task, and on shutdown lets the
//! open ones finish what they read.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::connection;
use super::dispatch::Dispatcher;
use super::limits::{Limits, ServerCounters};
use super::listener::Listener;
use super::web::RegistryService;

use crate::database::DatabaseHandle;
use crate::protocol::{ErrorCode, WireError};
use crate::router::RouterHandle;
use crate::supervisor::SupervisorHandle;

/// What the socket's requests are answered by.
pub struct Services {
    pub router: RouterHandle,
    pub supervisor: SupervisorHandle,
    /// `None` when `l2.enabled` is off.
    pub database: Option<DatabaseHandle>,
    /// The registry listener; `None` when `registry.enabled` is off.
    pub registry: Option<Arc<RegistryService>>,
}

pub struct Server {
    listener: Listener,
    /// Shared by every connection: a request costs one reference count, not a clone of
    /// each handle.
    dispatcher: Arc<Dispatcher>,
    limits: Limits,
}

impl Server {
    pub fn new(
        listener: Listener,
        services: Services,
        limits: Limits,
        framework: &str,
        movable_clock: bool,
    ) -> Server {
        let dispatcher = Arc::new(Dispatcher {
            router: services.router,
            supervisor: services.supervisor,
            database: services.database,
            registry: services.registry,
            counters: Arc::new(ServerCounters::default()),
            started: Instant::now(),
            framework: framework.into(),
            movable_clock,
        });
        if let Some(registry) = &dispatcher.registry {
            let source: Arc<dyn super::web::metrics::StatsSource> = dispatcher.clone();
            registry.export_stats(Arc::downgrade(&source));
        }
        Server {
            listener,
            dispatcher,
            limits,
        }
    }

    pub fn listener_description(&self) -> &str {
        self.listener.description()
    }

    /// Serves until `shutdown` fires, then stops accepting and gives the open connections
    /// `drain` to finish the requests they have in flight.
    pub async fn run(self, shutdown: CancellationToken, drain: Duration) {
        let tracker = TaskTracker::new();
        let counters = self.dispatcher.counters.clone();
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.inner.accept() => accepted,
                _ = shutdown.cancelled() => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors, most likely: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let limits = self.limits;
            if counters.open.load(Relaxed) >= limits.max_connections {
                counters.refused.fetch_add(1, Relaxed);
                let error = WireError::new(
                    ErrorCode::TooManyConnections,
                    format!(
                        "too many connections ({}; daemon.max_connections)",
                        limits.max_connections
                    ),
                );
                tracker.spawn(connection::refuse(stream, error, limits));
                continue;
            }
            counters.open.fetch_add(1, Relaxed);
            counters.total.fetch_add(1, Relaxed);
            let dispatcher = self.dispatcher.clone();
            let shutdown = shutdown.clone();
            let counters = counters.clone();
            tracker.spawn(async move {
                connection::serve(stream, dispatcher, limits, shutdown).await;
                counters.open.fetch_sub(1, Relaxed);
            });
        }
        tracker.close();
        if tokio::time::timeout(drain, tracker.wait()).await.is_err() {
            tracing::warn!(
                open = counters.open.load(Relaxed),
                "drain time over; cutting the remaining connections"
            );
        }
        self.listener.cleanup();
    }
}
