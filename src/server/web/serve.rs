//! The registry listener: HTTP/1.1 on loopback (hyper), each connection its own task, every
//! request answered by [`RegistryService`]. A client that never finishes its request head is
//! cut after `daemon.frame_timeout`; on shutdown, open connections finish the request in
//! hand and close, within the drain time.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, IF_NONE_MATCH};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::listen::WebListener;
use super::route::RegistryService;

pub struct WebServer {
    listener: WebListener,
    service: Arc<RegistryService>,
    /// `daemon.max_connections`: further connections wait to be accepted.
    max_connections: usize,
    header_timeout: Duration,
}

impl WebServer {
    pub fn new(
        listener: WebListener,
        service: Arc<RegistryService>,
        max_connections: usize,
        header_timeout: Duration,
    ) -> WebServer {
        WebServer {
            listener,
            service,
            max_connections,
            header_timeout,
        }
    }

    pub async fn run(self, shutdown: CancellationToken, drain: Duration) {
        let tracker = TaskTracker::new();
        let room = Arc::new(Semaphore::new(self.max_connections));
        loop {
            let permit = tokio::select! {
                permit = room.clone().acquire_owned() => permit.expect("never closed"),
                _ = shutdown.cancelled() => break,
            };
            let accepted = tokio::select! {
                accepted = self.listener.inner.accept() => accepted,
                _ = shutdown.cancelled() => break,
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "registry listener: accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let service = self.service.clone();
            let shutdown = shutdown.clone();
            let header_timeout = self.header_timeout;
            tracker.spawn(async move {
                let _permit = permit;
                let handler = service_fn(move |request| {
                    let service = service.clone();
                    async move { Ok::<_, Infallible>(respond(&service, request).await) }
                });
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(stream), handler);
                let mut connection = std::pin::pin!(connection);
                tokio::select! {
                    _ = connection.as_mut() => {}
                    _ = shutdown.cancelled() => {
                        connection.as_mut().graceful_shutdown();
                        let _ = connection.await;
                    }
                }
            });
        }
        tracker.close();
        if tokio::time::timeout(drain, tracker.wait()).await.is_err() {
            tracing::warn!("registry listener: drain time over; cutting its connections");
        }
    }
}

async fn respond(service: &RegistryService, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let if_none_match = request
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    let reply = service
        .answer(request.method(), request.uri().path(), if_none_match)
        .await;
    let head = request.method() == Method::HEAD;
    let length = reply.body.len();
    let mut response = Response::new(Full::new(if head { Bytes::new() } else { reply.body }));
    *response.status_mut() = reply.status;
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        headers.insert(name, value);
    }
    if head {
        headers.insert(CONTENT_LENGTH, length.into());
    }
    response
}
