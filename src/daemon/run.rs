//! The daemon's life: lock the data dir, take or bind the socket, start the actor tree, serve,
//! report to systemd, reload on SIGHUP, drain on SIGTERM/SIGINT. The order is deliberate:
//! nothing that can be slow (later: opening L2) stands between start and READY.

use std::time::{Duration, Instant};

use futures::StreamExt;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook_tokio::Signals;
use tokio_util::sync::CancellationToken;

use super::logging::LogHandle;
use super::notify::{self, SystemdEnv};
use crate::config::{self, Loaded, Overrides};
use crate::data_dir::{DataDirLock, LockError};
use crate::router::{Command, RouterHandle};
use crate::server::{Limits, ListenError, Listener, Server, Services};
use crate::settings;
use crate::supervisor::Actors;

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error(transparent)]
    Listen(#[from] ListenError),
    #[error(transparent)]
    Start(#[from] crate::supervisor::StartError),
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    #[error("the actor tree failed: {0}")]
    Failed(String),
}

/// Everything `run` needs from the outside world, so tests can build it by hand.
pub struct DaemonOptions {
    pub loaded: Loaded,
    pub overrides: Overrides,
    /// The environment the config was read from, reused by SIGHUP reloads.
    pub env: Vec<(String, String)>,
    pub systemd: SystemdEnv,
    pub log: LogHandle,
}

pub async fn run(options: DaemonOptions) -> Result<(), DaemonError> {
    let started = Instant::now();
    let DaemonOptions {
        loaded,
        overrides,
        env,
        systemd,
        log,
    } = options;
    let mut config = loaded.config;
    raise_fd_limit();
    // Everything the daemon creates (the socket, L2's files, whatever PGlite makes inside its
    // directory) is the user's alone, whatever umask it was started with.
    // SAFETY: umask has no preconditions; it only sets this process's file-creation mask.
    unsafe { libc::umask(0o077) };

    let lock = match DataDirLock::acquire(&config.data_dir) {
        Ok(lock) => Some(lock),
        Err(e @ LockError::Held { .. }) => return Err(e.into()),
        // Unusable data dir: run on the other tiers; L2 retries (and takes the lock then).
        Err(e) => {
            tracing::error!(error = %e, "data dir unusable; L2 will retry");
            None
        }
    };
    let listener = match systemd.listen_fd {
        Some(fd) => Listener::from_systemd(fd)?,
        None => Listener::bind(&config.socket)?,
    };
    let actors = Actors::start(&config, lock).await?;
    let registry = match config.registry.enabled {
        true => Some(
            crate::server::web::start(
                &config,
                actors.router.clone(),
                actors.registry.clone(),
                systemd.registry_fd,
            )
            .await,
        ),
        false => None,
    };
    let services = Services {
        router: actors.router.clone(),
        supervisor: actors.supervisor.clone(),
        database: actors.database.clone(),
        registry: registry.as_ref().map(|r| r.service.clone()),
    };
    let server = Server::new(
        listener,
        services,
        Limits::from_config(&config),
        &config.github.framework,
        crate::clock::movable(&env),
    );
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP]).map_err(DaemonError::Signals)?;

    let shutdown = CancellationToken::new();
    let drain = config.daemon.drain_timeout;
    let listening = server.listener_description().to_owned();
    let server_task = tokio::spawn(server.run(shutdown.clone(), drain));
    let web_task = registry
        .and_then(|r| r.server)
        .map(|web| tokio::spawn(web.run(shutdown.clone(), drain)));
    let watchdog = systemd
        .watchdog
        .map(|period| tokio::spawn(watchdog_loop(actors.router.clone(), period)));

    let idle = {
        let router = actors.router.clone();
        tokio::spawn(super::idle::when_idle(
            config.daemon.idle_release,
            move || router.activity(),
            super::idle::release_logged,
        ))
    };

    let status = format!("serving on {listening}");
    notify::ready(&status);
    tracing::info!(
        socket = %listening,
        data_dir = %config.data_dir.display(),
        config = %loaded.file.display(),
        ready_ms = started.elapsed().as_millis() as u64,
        "shadcache {} ready",
        env!("CARGO_PKG_VERSION")
    );

    let warming = (!config.github.warm.is_empty() && config.github.enabled)
        .then(|| tokio::spawn(warm_on_start(actors.router.clone(), config.github.clone())));

    let outcome = loop {
        tokio::select! {
            signal = signals.next() => match signal {
                Some(SIGHUP) => {
                    notify::reloading(false);
                    reload(&mut config, &overrides, &env, &log, &actors);
                    notify::reloading(true);
                    notify::status(&status);
                }
                Some(signal) => {
                    tracing::info!(signal, "stopping");
                    break Ok(());
                }
                None => break Ok(()),
            },
            reason = actors.supervisor.failed() => break Err(DaemonError::Failed(reason)),
        }
    };

    notify::stopping();
    shutdown.cancel();
    if let Some(watchdog) = watchdog {
        watchdog.abort();
    }
    idle.abort();
    if let Some(warming) = warming {
        warming.abort();
    }
    let _ = server_task.await;
    if let Some(web_task) = web_task {
        let _ = web_task.await;
    }
    actors.shutdown(drain).await;
    tracing::info!("stopped");
    outcome
}

/// `github.warm`: prefetches the named registries in the background once the daemon serves,
/// through the router like any client.
async fn warm_on_start(router: crate::router::RouterHandle, github: config::GithubConfig) {
    let frameworks = match crate::shadcn::frameworks(&github.warm) {
        Ok(frameworks) => frameworks,
        Err(e) => {
            tracing::warn!(error = %e, "github.warm: nothing warmed");
            return;
        }
    };
    let mut ask = |request| {
        let router = router.clone();
        async move {
            match crate::server::command(request) {
                Ok(command) => router.execute(command).await,
                Err(e) => crate::protocol::Response::Error(e),
            }
        }
    };
    for fw in frameworks {
        match crate::shadcn::warm::warm(
            &mut ask,
            fw,
            github.quota_reserve,
            &mut crate::shadcn::warm::Quiet,
        )
        .await
        {
            Ok(report) => tracing::info!(%report, "warmed"),
            Err(e) => tracing::warn!(framework = fw.id, error = %e, "warming failed"),
        }
    }
}

/// Re-reads the config file. A bad file changes nothing; the reason goes to the log.
fn reload(
    config: &mut config::Config,
    overrides: &Overrides,
    env: &[(String, String)],
    log: &LogHandle,
    actors: &Actors,
) {
    let loaded = match settings::load(overrides, env.iter().cloned()) {
        Ok(loaded) => loaded,
        Err(e) => {
            tracing::error!(error = %e, "SIGHUP: keeping the running config");
            return;
        }
    };
    let new = loaded.config;
    if let Err(e) = log.set_level(&new.daemon.log_level) {
        tracing::error!(error = %e, "SIGHUP: log level unchanged");
    }
    let needs_restart = new.socket != config.socket
        || new.data_dir != config.data_dir
        || new.daemon.max_frame_size != config.daemon.max_frame_size
        || new.daemon.max_connections != config.daemon.max_connections
        || new.daemon.max_pipeline != config.daemon.max_pipeline
        || new.daemon.frame_timeout != config.daemon.frame_timeout
        || new.daemon.idle_release != config.daemon.idle_release;
    if needs_restart {
        tracing::warn!(
            "SIGHUP: socket, data_dir, connection limits and idle_release change only on restart"
        );
    }
    if new.registry != config.registry {
        tracing::warn!("SIGHUP: the [registry] settings change only on restart");
    }
    actors.supervisor.reconfigure(&new);
    tracing::info!(
        l1_max_bytes = %new.l1.max_bytes,
        log_level = %new.daemon.log_level,
        "SIGHUP: config reloaded"
    );
    *config = new;
}

/// WATCHDOG=1 only after a full round trip through the router to L1 and back: a daemon whose
/// actors are wedged stops petting the dog and systemd restarts it.
async fn watchdog_loop(router: RouterHandle, period: Duration) {
    let mut interval = tokio::time::interval(period / 2);
    loop {
        interval.tick().await;
        match router.execute(Command::Ping).await {
            crate::protocol::Response::Pong => notify::watchdog(),
            other => tracing::warn!(?other, "liveness check failed; not notifying the watchdog"),
        }
    }
}

/// A daemon serving every client of a user needs more than the default 1024 descriptors.
/// Raises the soft limit on open files to the hard limit (at most 65,536).
pub(crate) fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid struct pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max.min(65_536);
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
