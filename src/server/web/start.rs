//! Bringing the registry listener up beside the socket: the secret, the TCP socket (from
//! systemd or bound), the service. Any of them failing leaves the daemon serving its socket
//! and says why in `shadcache registry url` and `doctor`; it never stops the daemon.

use std::os::fd::RawFd;
use std::sync::Arc;

use super::listen::WebListener;
use super::route::RegistryService;
use super::secret;
use super::serve::WebServer;
use crate::config::Config;
use crate::protocol::RegistryInfo;
use crate::registry::RegistryHandle;
use crate::registry::sources::Sources;
use crate::router::RouterHandle;

pub struct Started {
    pub service: Arc<RegistryService>,
    /// `None` when the listener could not start (the service's info says why).
    pub server: Option<WebServer>,
}

pub async fn start(
    config: &Config,
    router: RouterHandle,
    origin: Option<RegistryHandle>,
    systemd_fd: Option<RawFd>,
) -> Started {
    let registry = &config.registry;
    let sources = Arc::new(Sources::from_config(registry, |var| {
        std::env::var(var).ok()
    }));
    let mut info = RegistryInfo {
        base_url: None,
        problem: None,
        namespaces: registry
            .namespaces
            .iter()
            .map(|(ns, config)| (ns.clone(), config.url().contains("{style}")))
            .collect(),
        directory: registry.directory,
    };
    let listener = match systemd_fd {
        Some(fd) => WebListener::from_systemd(fd),
        None => WebListener::bind(&registry.listen).await,
    };
    let (secret, listener) = match (secret::load_or_create(&config.data_dir), listener) {
        (Ok(secret), Ok(listener)) => (secret, Some(listener)),
        (Err(e), _) => {
            tracing::error!(error = %e, "the registry listener is off");
            info.problem = Some(e.to_string());
            (String::new(), None)
        }
        (_, Err(e)) => {
            let problem = format!("cannot listen on {}: {e}", registry.listen);
            tracing::error!(%problem, "the registry listener is off");
            info.problem = Some(problem);
            (String::new(), None)
        }
    };
    if let Some(listener) = &listener {
        info.base_url = Some(format!("http://{}/{secret}", listener.addr));
        let how = if listener.from_systemd {
            " (from systemd)"
        } else {
            ""
        };
        tracing::info!(addr = %listener.addr, "registry listener on loopback{how}");
    }
    let service = Arc::new(RegistryService::new(router, origin, sources, secret, info));
    let server = listener.map(|listener| {
        WebServer::new(
            listener,
            service.clone(),
            config.daemon.max_connections as usize,
            config.daemon.frame_timeout,
        )
    });
    Started { service, server }
}
