//! The daemon connection of one `shadcache mcp`: opened on the first call, again after the
//! daemon restarted, and (`--start-daemon`) by starting a daemon when none answers.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::client::Client;
use crate::protocol::{Request, Response};

/// The daemon connection, opened on the first call and again after the daemon restarted.
pub(super) struct Daemon {
    pub(super) socket: PathBuf,
    pub(super) config: Option<PathBuf>,
    /// Longer than the daemon's own deadline, so a tool error carries the daemon's reason.
    pub(super) deadline: Duration,
    pub(super) start: bool,
    pub(super) client: Mutex<Option<Client>>,
}

impl Daemon {
    pub(super) async fn request(&self, request: Request) -> Result<Response, String> {
        let mut client = self.client.lock().await;
        // One retry: a connection from before a daemon restart fails once, then reconnects.
        for attempt in 0..2 {
            if client.is_none() {
                *client = Some(self.connect().await?);
            }
            match client.as_mut().expect("connected").request(&request).await {
                Ok(response) => return Ok(response),
                Err(e) if attempt == 0 && e.is_connection_lost() => {
                    tracing::debug!(error = %e, "daemon connection lost; reconnecting");
                    *client = None;
                }
                Err(e) => {
                    *client = None;
                    return Err(e.to_string());
                }
            }
        }
        unreachable!("the loop returns")
    }

    async fn connect(&self) -> Result<Client, String> {
        match Client::connect(&self.socket, self.deadline).await {
            Ok(client) => Ok(client),
            Err(e) if !self.start => Err(format!(
                "{e} (or run `shadcache mcp --start-daemon` to have it started)"
            )),
            Err(_) => {
                let log = crate::cli::start::spawn_detached(&self.socket, self.config.as_deref())?;
                eprintln!("shadcache mcp: started a daemon (log: {})", log.display());
                crate::cli::start::wait_for_daemon(&self.socket, self.deadline).await
            }
        }
    }
}
