//! Running the daemon without a service manager: `shadcache start` starts one detached (as
//! `shadcache mcp --start-daemon` does) and waits until it answers; `shadcache stop` asks the
//! running one to drain and exit (SIGTERM) and waits until it has. `systemd/install.sh` uses
//! both where there is no systemd user manager.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use super::exit::fail;
use crate::client::{Client, ClientError};
use crate::config::Config;
use crate::protocol::{Request, Response};

/// How long a daemon just started has to answer: it is ready in milliseconds (L2 opens
/// after), but a loaded machine may be slow to start a process.
const START_WAIT: Duration = Duration::from_secs(10);

/// The log of a daemon started this way: beside its socket.
pub fn log_path(socket: &Path) -> PathBuf {
    socket
        .parent()
        .unwrap_or(Path::new("/tmp"))
        .join("shadcache-daemon.log")
}

/// Starts `shadcache daemon` in a session of its own, outliving this process, its stderr
/// appended to [`log_path`]. Returns the log's path.
pub fn spawn_detached(socket: &Path, config: Option<&Path>) -> Result<PathBuf, String> {
    use std::os::unix::process::CommandExt;
    let me = std::env::current_exe().map_err(|e| format!("cannot find shadcache: {e}"))?;
    let log_path = log_path(socket);
    if let Some(dir) = log_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| format!("cannot open {}: {e}", log_path.display()))?;
    let mut command = std::process::Command::new(me);
    command.arg("--socket").arg(socket);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command
        .arg("daemon")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .process_group(0);
    command
        .spawn()
        .map(|_| log_path)
        .map_err(|e| format!("cannot start a daemon: {e}"))
}

/// Connects to a daemon started a moment ago, retrying until [`START_WAIT`] has passed.
pub async fn wait_for_daemon(socket: &Path, deadline: Duration) -> Result<Client, String> {
    let until = Instant::now() + START_WAIT;
    loop {
        match Client::connect(socket, deadline).await {
            Ok(client) => return Ok(client),
            Err(e) if Instant::now() > until => {
                return Err(format!("started a daemon, but it does not answer: {e}"));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// `shadcache start`.
pub async fn start(config: &Config, config_file: Option<&Path>) -> ExitCode {
    let deadline = crate::client::deadline(config);
    match Client::connect(&config.socket, deadline).await {
        Ok(client) => {
            println!(
                "a shadcache daemon already answers at {} (pid {}, version {})",
                config.socket.display(),
                client.daemon.pid,
                client.daemon.daemon_version
            );
            return ExitCode::SUCCESS;
        }
        Err(ClientError::NoDaemon(_)) => {}
        Err(e) => return fail(&e.to_string()),
    }
    let log = match spawn_detached(&config.socket, config_file) {
        Ok(log) => log,
        Err(e) => return fail(&e),
    };
    let mut client = match wait_for_daemon(&config.socket, deadline).await {
        Ok(client) => client,
        Err(e) => return fail(&format!("{e}; its log: {}", log.display())),
    };
    if !matches!(client.request(&Request::Ping).await, Ok(Response::Pong)) {
        return fail(&format!(
            "the daemon started but does not answer ping; its log: {}",
            log.display()
        ));
    }
    println!(
        "started the shadcache daemon (pid {}) at {}; it logs to {}",
        client.daemon.pid,
        config.socket.display(),
        log.display()
    );
    ExitCode::SUCCESS
}

/// `shadcache stop`: SIGTERM to the daemon that answers on the socket (its pid from the
/// handshake; the socket only lets the same user in), then waits until it is gone.
pub async fn stop(config: &Config) -> ExitCode {
    let deadline = crate::client::deadline(config);
    let client = match Client::connect(&config.socket, deadline).await {
        Ok(client) => client,
        Err(ClientError::NoDaemon(path)) => {
            println!("no shadcache daemon answers at {}", path.display());
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(&e.to_string()),
    };
    let pid = client.daemon.pid;
    drop(client);
    let target = pid as libc::pid_t;
    // SAFETY: kill(2) with a pid the daemon gave us; at worst it fails with ESRCH.
    if target <= 0 || unsafe { libc::kill(target, libc::SIGTERM) } != 0 {
        return fail(&format!(
            "cannot signal the daemon (pid {pid}): {}",
            std::io::Error::last_os_error()
        ));
    }
    // It drains for at most `daemon.drain_timeout`, then closes L2.
    let patience = config.daemon.drain_timeout + Duration::from_secs(10);
    let until = Instant::now() + patience;
    while Instant::now() < until {
        if !crate::procfs::running(pid) {
            println!("stopped the shadcache daemon (pid {pid})");
            return ExitCode::SUCCESS;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    fail(&format!(
        "the daemon (pid {pid}) is still running {} s after SIGTERM",
        patience.as_secs()
    ))
}
