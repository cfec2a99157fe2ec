//! Starting the embedded Postgres: the only file that imports pglite-oxide. `PgliteServer`
//! serves the data directory over the Postgres wire protocol on a Unix socket in a private
//! 0700 directory; the tier talks to it with tokio-postgres, the same code that will talk to a
//! real PostgreSQL server. Measured against the direct API in `bench/l2_paths.rs`.

use std::path::{Path, PathBuf};

use super::error::L2Error;

#[cfg(feature = "pglite")]
use pglite_oxide::PgliteServer;
#[cfg(not(feature = "pglite"))]
type PgliteServer = std::convert::Infallible;

pub struct Backend {
    server: Option<PgliteServer>,
    /// Removed only once the server has stopped: stopping wakes its listener by connecting
    /// to the socket in it.
    socket_dir: Option<tempfile::TempDir>,
}

/// Starts the server on `root` (created if missing). Blocking work runs off the tokio workers.
pub async fn open(
    root: &Path,
    shared_buffers: &str,
) -> Result<(Backend, tokio_postgres::Config), L2Error> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .map_err(|e| L2Error::Open(format!("cannot create {}: {e}", root.display())))?;
    let socket_dir = tempfile::Builder::new()
        .prefix("shadcache-l2-")
        .tempdir()
        .map_err(|e| L2Error::Open(format!("cannot create a socket directory: {e}")))?;
    let socket: PathBuf = socket_dir.path().join(".s.PGSQL.5432");
    let root = root.to_owned();
    let shared_buffers = shared_buffers.to_owned();
    #[cfg(not(feature = "pglite"))]
    let server: Result<PgliteServer, L2Error> = {
        let _ = (socket, root, shared_buffers);
        Err(L2Error::Open(
            "this build has no embedded database (feature `pglite` off)".to_owned(),
        ))
    };
    #[cfg(feature = "pglite")]
    let server = tokio::task::spawn_blocking(move || {
        PgliteServer::builder()
            .path(root)
            .unix(socket)
            .postgres_config("shared_buffers", shared_buffers)
            .start()
    })
    .await
    .map_err(|e| L2Error::Open(format!("the database thread failed: {e}")))?
    .map_err(not_started);
    let server = server?;
    let mut config = tokio_postgres::Config::new();
    config
        .host_path(socket_dir.path())
        .port(5432)
        .user("postgres")
        .dbname("template1")
        .application_name("shadcache");
    Ok((
        Backend {
            server: Some(server),
            socket_dir: Some(socket_dir),
        },
        config,
    ))
}

/// pglite-oxide's errors are `anyhow` text; its lock on the data dir is the one we tell apart.
#[cfg(feature = "pglite")]
fn not_started(e: impl std::fmt::Display) -> L2Error {
    let text = format!("{e:#}");
    if text.contains("already in use") {
        L2Error::Locked(text)
    } else {
        L2Error::Open(text)
    }
}

impl Backend {
    /// Stops the server and waits for it. Call after the client connection has closed: the
    /// server finishes its current connection before it stops.
    pub async fn close(mut self) {
        if let Some(server) = self.server.take() {
            let socket_dir = self.socket_dir.take();
            let _ = tokio::task::spawn_blocking(move || shutdown(server, socket_dir)).await;
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        // Dropped without `close` (a panic, a failed open): stopping joins a thread, which
        // must not happen on a tokio worker. The socket dir goes along (see `socket_dir`):
        // removed first, it left the server running and the data dir locked for good.
        if let Some(server) = self.server.take() {
            let socket_dir = self.socket_dir.take();
            std::thread::spawn(move || shutdown(server, socket_dir));
        }
    }
}

fn shutdown(server: PgliteServer, socket_dir: Option<tempfile::TempDir>) {
    #[cfg(feature = "pglite")]
    if let Err(e) = server.shutdown() {
        tracing::warn!(error = %format!("{e:#}"), "embedded database did not stop cleanly");
    }
    #[cfg(not(feature = "pglite"))]
    let _ = server;
    drop(socket_dir);
}

#[cfg(all(test, feature = "pglite"))]
mod tests {
    use std::time::{Duration, Instant};

    /// Regression: a backend dropped without `close` (a failed open) removed its socket dir
    /// before the server was told to stop, so the server never stopped and kept the data dir
    /// locked: every reopen then failed with "PGlite root is already in use".
    #[tokio::test(flavor = "multi_thread")]
    async fn a_backend_dropped_without_close_lets_go_of_its_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("pglite");
        let (backend, _) = super::open(&root, "16MB").await.unwrap();
        drop(backend);
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match super::open(&root, "16MB").await {
                Ok((backend, _)) => return backend.close().await,
                Err(super::L2Error::Locked(_)) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(e) => panic!("reopen after a drop: {e}"),
            }
        }
    }
}
