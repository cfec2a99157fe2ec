//! Starting the embedded Postgres: the only file that imports pglite-oxide. `PgliteServer`
//! serves the data directory over the Postgres wire protocol on a Unix socket in a private
//! 0700 directory; the tier talks to it with tokio-postgres, the same code that will talk to a
//! real PostgreSQL server. Measured against the direct API in `bench/l2_paths.rs`.

use std::path::{Path, PathBuf};

#[cfg(feature = "pglite")]
use pglite_oxide::PgliteServer;
#[cfg(not(feature = "pglite"))]
type PgliteServer = std::convert::Infallible;

pub struct Backend {
    server: Option<PgliteServer>,
    _socket_dir: tempfile::TempDir,
}

/// Starts the server on `root` (created if missing). Blocking work runs off the tokio workers.
pub async fn open(
    root: &Path,
    shared_buffers: &str,
) -> Result<(Backend, tokio_postgres::Config), String> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(root)
        .map_err(|e| format!("cannot create {}: {e}", root.display()))?;
    let socket_dir = tempfile::Builder::new()
        .prefix("shadcache-l2-")
        .tempdir()
        .map_err(|e| format!("cannot create a socket directory: {e}"))?;
    let socket: PathBuf = socket_dir.path().join(".s.PGSQL.5432");
    let root = root.to_owned();
    let shared_buffers = shared_buffers.to_owned();
    #[cfg(not(feature = "pglite"))]
    let server: Result<PgliteServer, String> = {
        let _ = (socket, root, shared_buffers);
        Err("this build has no embedded database (feature `pglite` off)".to_owned())
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
    .map_err(|e| format!("the database thread failed: {e}"))?
    .map_err(|e| format!("{e:#}"));
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
            _socket_dir: socket_dir,
        },
        config,
    ))
}

impl Backend {
    /// Stops the server and waits for it. Call after the client connection has closed: the
    /// server finishes its current connection before it stops.
    pub async fn close(mut self) {
        if let Some(server) = self.server.take() {
            let _ = tokio::task::spawn_blocking(move || shutdown(server)).await;
        }
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        // Dropped without `close` (a panic, a failed open): stopping joins a thread, which
        // must not happen on a tokio worker.
        if let Some(server) = self.server.take() {
            std::thread::spawn(move || shutdown(server));
        }
    }
}

fn shutdown(server: PgliteServer) {
    #[cfg(feature = "pglite")]
    if let Err(e) = server.shutdown() {
        tracing::warn!(error = %format!("{e:#}"), "embedded database did not stop cleanly");
    }
    #[cfg(not(feature = "pglite"))]
    match server {}
}
