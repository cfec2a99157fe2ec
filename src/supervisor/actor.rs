//! The root actor. Spawns the tiers and the router as linked children, publishes each child's
//! current address in its [`Slot`](super::Slot), and restarts a child that fails. ractor's
//! default would stop the supervisor on any child exit; this one restarts instead, up to
//! `daemon.restart_limit` times within `daemon.restart_window`, and past that stops with a
//! reason so the daemon exits non-zero and systemd restarts it whole.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ractor::{
    Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent,
};
use tokio::sync::watch;

use crate::config::Config;
use crate::data_dir::DataDirLock;
use crate::database::{DatabaseArgs, DatabaseTier, ToDatabase};
use crate::github::{GithubArgs, GithubTier, ToGithub};
use crate::memory::{MemoryArgs, MemoryTier, Store, ToMemory};
use crate::registry::{RegistryArgs, RegistryTier, ToRegistry};
use crate::router::{FastPath, Policy, Router, RouterArgs, Tiers, ToRouter};
use crate::slot::Publisher;
use crate::tier::Tier;
use crate::write_behind::{ToWriteBehind, WriteBehind, WriteBehindArgs, WriteBehindHandle};

pub enum ToSupervisor {
    Restarts(RpcReplyPort<Vec<(String, u64)>>),
    Reconfigure(Box<Config>),
    /// Stops the children in order (router first, then the write-behind queue, drained into
    /// L2, then the tiers), then itself.
    Shutdown(RpcReplyPort<()>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Child {
    Memory,
    Database,
    Github,
    Registry,
    WriteBehind,
    Router,
}

impl Child {
    const ALL: [Child; 6] = [
        Child::Memory,
        Child::Database,
        Child::Github,
        Child::Registry,
        Child::WriteBehind,
        Child::Router,
    ];

    fn name(self) -> &'static str {
        match self {
            Child::Memory => "memory",
            Child::Database => "database",
            Child::Github => "github",
            Child::Registry => "registry",
            Child::WriteBehind => "write_behind",
            Child::Router => "router",
        }
    }
}

pub struct Supervisor;

pub struct SupervisorArgs {
    pub config: Config,
    pub memory: Publisher<ToMemory>,
    /// L1's map, which every MemoryTier the supervisor starts fills anew.
    pub memory_store: Store,
    pub database: Publisher<ToDatabase>,
    pub github: Publisher<ToGithub>,
    pub registry: Publisher<ToRegistry>,
    pub data_dir_lock: Arc<Mutex<Option<DataDirLock>>>,
    pub write_behind: Publisher<ToWriteBehind>,
    pub router: Publisher<ToRouter>,
    pub tiers: Arc<Tiers>,
    /// L2, where the write-behind queue flushes; `None` when L2 is off.
    pub durable: Option<Arc<dyn Tier>>,
    pub queue: Option<WriteBehindHandle>,
    pub fast: Arc<FastPath>,
    pub fatal: watch::Sender<Option<String>>,
}

pub struct SupervisorState {
    args: SupervisorArgs,
    children: Vec<(ActorId, Child)>,
    recent_restarts: VecDeque<Instant>,
    restart_counts: [u64; Child::ALL.len()],
    stopping: bool,
}

impl Actor for Supervisor {
    type Msg = ToSupervisor;
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<ToSupervisor>,
        args: SupervisorArgs,
    ) -> Result<SupervisorState, ActorProcessingErr> {
        let mut state = SupervisorState {
            args,
            children: Vec::new(),
            recent_restarts: VecDeque::new(),
            restart_counts: [0; Child::ALL.len()],
            stopping: false,
        };
        // Tiers before the router, so the router never starts with nothing beneath it.
        for child in Child::ALL {
            let enabled = match child {
                Child::Database => state.args.config.l2.enabled,
                Child::Github => state.args.config.github.enabled,
                Child::Registry => state.args.config.registry.enabled,
                Child::WriteBehind => state.args.queue.is_some(),
                _ => true,
            };
            if !enabled {
                continue;
            }
            spawn_child(child, myself.get_cell(), &mut state).await?;
        }
        Ok(state)
    }

    async fn handle(
        &self,
        myself: ActorRef<ToSupervisor>,
        message: ToSupervisor,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ToSupervisor::Restarts(reply) => {
                let counts = Child::ALL
                    .iter()
                    .map(|c| (c.name().to_owned(), state.restart_counts[*c as usize]))
                    .collect();
                let _ = reply.send(counts);
            }
            ToSupervisor::Reconfigure(config) => {
                // L3 keeps its origins, token and TTLs until a restart.
                if let Some(memory) = state.args.memory.borrow().as_ref() {
                    let _ = memory.send_message(ToMemory::Reconfigure {
                        budget: config.l1.max_bytes.bytes(),
                    });
                }
                if let Some(router) = state.args.router.borrow().as_ref() {
                    let _ = router.send_message(ToRouter::Reconfigure(
                        Box::new(policy(&config)),
                        config.breaker.clone(),
                    ));
                }
                if let Some(queue) = state.args.write_behind.borrow().as_ref() {
                    let _ =
                        queue.send_message(ToWriteBehind::Reconfigure(config.write_behind.clone()));
                }
                state.args.config = *config;
            }
            ToSupervisor::Shutdown(reply) => {
                state.stopping = true;
                let drain = Some(state.args.config.daemon.drain_timeout);
                let router = state.args.router.send_replace(None);
                if let Some(router) = router {
                    let _ = router.drain_and_wait(drain).await;
                }
                // Every queued write into L2 before L2 closes.
                if let Some(queue) = &state.args.queue {
                    match queue.drain(state.args.config.daemon.drain_timeout).await {
                        Ok(()) => tracing::info!("write-behind queue drained"),
                        Err(e) => tracing::error!(error = %e, "write-behind queue not drained"),
                    }
                }
                let queue = state.args.write_behind.send_replace(None);
                if let Some(queue) = queue {
                    let _ = queue.drain_and_wait(drain).await;
                }
                let github = state.args.github.send_replace(None);
                if let Some(github) = github {
                    let _ = github.drain_and_wait(drain).await;
                }
                let registry = state.args.registry.send_replace(None);
                if let Some(registry) = registry {
                    let _ = registry.drain_and_wait(drain).await;
                }
                let memory = state.args.memory.send_replace(None);
                if let Some(memory) = memory {
                    let _ = memory.drain_and_wait(drain).await;
                }
                // Last: it flushes access tracking and closes the database cleanly.
                let database = state.args.database.send_replace(None);
                if let Some(database) = database {
                    let _ = database.drain_and_wait(drain).await;
                }
                let _ = reply.send(());
                myself.stop(Some("shutdown".into()));
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<ToSupervisor>,
        event: SupervisionEvent,
        state: &mut SupervisorState,
    ) -> Result<(), ActorProcessingErr> {
        let (cell, why) = match event {
            SupervisionEvent::ActorFailed(cell, err) => (cell, format!("failed: {err}")),
            SupervisionEvent::ActorTerminated(cell, _, reason) => {
                (cell, format!("stopped: {}", reason.unwrap_or_default()))
            }
            _ => return Ok(()),
        };
        let Some(position) = state
            .children
            .iter()
            .position(|(id, _)| *id == cell.get_id())
        else {
            return Ok(());
        };
        let (_, child) = state.children.remove(position);
        if state.stopping {
            return Ok(());
        }
        tracing::error!(actor = child.name(), %why, "child actor exited; restarting it");

        let now = Instant::now();
        let window = state.args.config.daemon.restart_window;
        while state
            .recent_restarts
            .front()
            .is_some_and(|t| now.duration_since(*t) > window)
        {
            state.recent_restarts.pop_front();
        }
        state.recent_restarts.push_back(now);
        let limit = state.args.config.daemon.restart_limit;
        if state.recent_restarts.len() as u64 > limit {
            let reason = format!(
                "{} child restarts within {}; giving up (daemon.restart_limit)",
                state.recent_restarts.len(),
                humantime::format_duration(window)
            );
            give_up(&myself, state, reason);
            return Ok(());
        }
        state.restart_counts[child as usize] += 1;
        if let Err(e) = spawn_child(child, myself.get_cell(), state).await {
            give_up(
                &myself,
                state,
                format!("could not restart {}: {e}", child.name()),
            );
        }
        Ok(())
    }
}

fn give_up(myself: &ActorRef<ToSupervisor>, state: &mut SupervisorState, reason: String) {
    tracing::error!(%reason, "supervisor stopping");
    state.stopping = true;
    state.args.fatal.send_replace(Some(reason.clone()));
    myself.stop_children(Some(reason.clone()));
    myself.stop(Some(reason));
}

async fn spawn_child(
    child: Child,
    supervisor: ActorCell,
    state: &mut SupervisorState,
) -> Result<(), ActorProcessingErr> {
    let config = &state.args.config;
    let id = match child {
        Child::Memory => {
            let args = MemoryArgs {
                budget: config.l1.max_bytes.bytes(),
                sweep_interval: config.l1.sweep_interval,
                store: state.args.memory_store.clone(),
            };
            let (actor, _) = Actor::spawn_linked(None, MemoryTier, args, supervisor).await?;
            let id = actor.get_id();
            state.args.memory.send_replace(Some(actor));
            id
        }
        Child::Database => {
            let args = DatabaseArgs {
                config: config.l2.clone(),
                data_dir: config.data_dir.clone(),
                lock: state.args.data_dir_lock.clone(),
            };
            let (actor, _) = Actor::spawn_linked(None, DatabaseTier, args, supervisor).await?;
            let id = actor.get_id();
            state.args.database.send_replace(Some(actor));
            id
        }
        Child::Github => {
            let args = GithubArgs {
                config: config.github.clone(),
                ttl: config.ttl.clone(),
            };
            let (actor, _) = Actor::spawn_linked(None, GithubTier, args, supervisor).await?;
            let id = actor.get_id();
            state.args.github.send_replace(Some(actor));
            id
        }
        Child::Registry => {
            let mut registry = config.registry.clone();
            registry.timeout = registry.budget(config.daemon.request_timeout);
            let args = RegistryArgs {
                config: registry,
                ttl: config.ttl.ttl(crate::registry::file::KIND),
            };
            let (actor, _) = Actor::spawn_linked(None, RegistryTier, args, supervisor).await?;
            let id = actor.get_id();
            state.args.registry.send_replace(Some(actor));
            id
        }
        Child::WriteBehind => {
            let args = WriteBehindArgs {
                config: config.write_behind.clone(),
                durable: state
                    .args
                    .durable
                    .clone()
                    .expect("a write-behind queue only exists with L2"),
            };
            let (actor, _) = Actor::spawn_linked(None, WriteBehind, args, supervisor).await?;
            let id = actor.get_id();
            state.args.write_behind.send_replace(Some(actor));
            id
        }
        Child::Router => {
            let args = RouterArgs {
                tiers: state.args.tiers.clone(),
                policy: policy(config),
                breaker: config.breaker.clone(),
                queue: state.args.queue.clone(),
                fast: state.args.fast.clone(),
            };
            let (actor, _) = Actor::spawn_linked(None, Router, args, supervisor).await?;
            let id = actor.get_id();
            state.args.router.send_replace(Some(actor));
            id
        }
    };
    state.children.push((id, child));
    Ok(())
}

fn policy(config: &Config) -> Policy {
    Policy {
        ttl: config.ttl.clone(),
        strategy: config.strategy.clone(),
        prefetch: config.prefetch.clone(),
        refresh_ahead: config.refresh_ahead.clone(),
    }
}
