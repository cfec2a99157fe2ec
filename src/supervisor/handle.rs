//! Starting and stopping the actor tree, and the handles the rest of the daemon uses.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ractor::{Actor, ActorRef, call_t};
use tokio::sync::watch;

use super::actor::{Supervisor, SupervisorArgs, ToSupervisor};
use crate::config::Config;
use crate::config::Strategy;
use crate::data_dir::DataDirLock;
use crate::database::DatabaseHandle;
use crate::github::GithubHandle;
use crate::memory::{MemoryHandle, Store};
use crate::registry::RegistryHandle;
use crate::router::{FastPath, Follows, RouterHandle, Tiers};
use crate::slot::Slot;
use crate::tier::{Origin, Tier};
use crate::write_behind::WriteBehindHandle;

#[derive(Debug, thiserror::Error)]
#[error("could not start the actor tree: {0}")]
pub struct StartError(String);

/// The running actor tree.
pub struct Actors {
    pub supervisor: SupervisorHandle,
    join: tokio::task::JoinHandle<()>,
    pub router: RouterHandle,
    #[cfg(test)]
    pub memory: MemoryHandle,
    /// `None` when `l2.enabled` is off.
    pub database: Option<DatabaseHandle>,
    /// `None` when `registry.enabled` is off.
    pub registry: Option<RegistryHandle>,
}

/// Asks the supervisor things; cheap to clone.
#[derive(Clone)]
pub struct SupervisorHandle {
    actor: ActorRef<ToSupervisor>,
    fatal: watch::Receiver<Option<String>>,
}

const CONTROL_TIMEOUT_MS: u64 = 5_000;

impl Actors {
    /// `lock` is the data-dir lock if the daemon got it; L2 takes it when it can if not.
    pub async fn start(config: &Config, lock: Option<DataDirLock>) -> Result<Actors, StartError> {
        let timeout = config.daemon.request_timeout;
        let (memory_tx, memory_slot) = Slot::new("memory tier");
        let (database_tx, database_slot) = Slot::new("database tier");
        let (github_tx, github_slot) = Slot::new("github tier");
        let (registry_tx, registry_slot) = Slot::new("registry origin");
        let (queue_tx, queue_slot) = Slot::new("write-behind queue");
        let (router_tx, router_slot) = Slot::new("router");
        let memory_store = Store::default();
        let memory = MemoryHandle::new(memory_slot, memory_store.clone(), timeout);
        let database = config.l2.enabled.then(|| {
            let shared = config.l2.backend == crate::config::L2Backend::Postgres;
            DatabaseHandle::new(database_slot, timeout, shared)
        });
        // The queue exists when some kind is write-behind and there is an L2 to flush to.
        let queue = (database.is_some() && config.strategy.any(Strategy::WriteBehind))
            .then(|| WriteBehindHandle::new(queue_slot, timeout, config.write_behind.full_wait));
        let fast = Arc::new(FastPath::default());
        let router = RouterHandle::new(router_slot, timeout, Some(memory.clone()), fast.clone());
        let mut local: Vec<Arc<dyn Tier>> = vec![Arc::new(memory.clone())];
        if let Some(queue) = &queue {
            local.push(Arc::new(queue.clone()));
        }
        let durable = database
            .as_ref()
            .map(|database| Arc::new(database.clone()) as Arc<dyn Tier>);
        local.extend(durable.clone());
        let github = config
            .github
            .enabled
            .then(|| Arc::new(GithubHandle::new(github_slot, timeout)) as Arc<dyn Origin>);
        let registry = config
            .registry
            .enabled
            .then(|| RegistryHandle::new(registry_slot, timeout));
        let origins = github
            .into_iter()
            .chain(registry.clone().map(|r| Arc::new(r) as Arc<dyn Origin>))
            .collect();
        let tiers = Arc::new(Tiers {
            local,
            origins,
            upstream: |key| crate::github::serves(key) || crate::registry::serves(key),
            follows: Follows {
                named: |key, value, config| {
                    let mut next = crate::registry::follows(key, value, config);
                    next.extend(crate::shadcn::follows(key, value, config));
                    next
                },
                catalog: crate::registry::catalog,
                listed: crate::registry::listed,
            },
        });
        let (fatal_tx, fatal) = watch::channel(None);
        let args = SupervisorArgs {
            config: config.clone(),
            memory: memory_tx,
            memory_store,
            database: database_tx,
            github: github_tx,
            registry: registry_tx,
            data_dir_lock: Arc::new(Mutex::new(lock)),
            write_behind: queue_tx,
            router: router_tx,
            tiers,
            durable,
            queue,
            fast,
            fatal: fatal_tx,
        };
        let (supervisor, join) = Actor::spawn(None, Supervisor, args)
            .await
            .map_err(|e| StartError(e.to_string()))?;
        Ok(Actors {
            supervisor: SupervisorHandle {
                actor: supervisor,
                fatal,
            },
            join,
            router,
            #[cfg(test)]
            memory,
            database,
            registry,
        })
    }

    /// Stops the router, then the tiers, each drained of the messages already queued.
    pub async fn shutdown(self, drain: Duration) {
        let grace = drain + Duration::from_secs(5);
        let supervisor = &self.supervisor.actor;
        if supervisor
            .call(ToSupervisor::Shutdown, Some(grace))
            .await
            .is_err()
        {
            supervisor.stop(None);
        }
        let _ = tokio::time::timeout(grace, self.join).await;
    }
}

impl SupervisorHandle {
    pub async fn restarts(&self) -> Vec<(String, u64)> {
        call_t!(self.actor, ToSupervisor::Restarts, CONTROL_TIMEOUT_MS).unwrap_or_default()
    }

    pub fn reconfigure(&self, config: &Config) {
        let _ = self
            .actor
            .send_message(ToSupervisor::Reconfigure(Box::new(config.clone())));
    }

    /// Resolves when the supervisor gave up (restart limit), with its reason.
    pub async fn failed(&self) -> String {
        let mut fatal = self.fatal.clone();
        match fatal.wait_for(Option::is_some).await {
            Ok(reason) => reason.clone().unwrap_or_default(),
            // The sender is gone: the supervisor stopped without a reason being published.
            Err(_) => std::future::pending().await,
        }
    }
}
