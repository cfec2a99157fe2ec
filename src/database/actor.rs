//! The DatabaseTier actor (L2): the only owner of the database. It opens it in the background
//! (the daemon is READY before), answers reads as unavailable and holds writes for a bounded
//! time while it opens, reopens with back-off when the database fails, batches reads' access
//! tracking, and runs maintenance on a timer. Queries run in tasks it spawns on the one
//! connection; its handlers never await the database.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
use tokio::task::JoinHandle;

use super::access::AccessBatch;
use super::db::Db;
use super::durability;
use super::migrate::{self, db_error};
use super::report::{close, maintenance, stats};
use super::space::{self, Access};
use crate::config::{L2Backend, L2Config, SyncMode};
use crate::data_dir::DataDirLock;
use crate::glob::Glob;
use crate::key::Key;
use crate::protocol::{MaintenanceReport, MigrateAction, MigrationInfo, TierStats};
use crate::tier::{Entry, EntryMeta, TierError, unix_ms};

type Reply<T> = RpcReplyPort<Result<T, TierError>>;
/// A write held while the database opens, with the port its answer goes to.
type WaitingWrite = (Vec<(Key, Entry)>, Reply<()>);

pub enum ToDatabase {
    GetMany(Vec<Key>, Reply<Vec<Option<Entry>>>),
    PutMany(Vec<(Key, Entry)>, Reply<()>),
    DeleteMany(Vec<Key>, Reply<u64>),
    Peek(Key, Reply<Option<EntryMeta>>),
    Touch(Key, Option<u64>, Reply<bool>),
    Keys(Glob, Reply<Vec<Key>>),
    Clear(Reply<u64>),
    Stats(RpcReplyPort<TierStats>),
    Ping(Reply<()>),
    Migrate(
        MigrateAction,
        RpcReplyPort<Result<Vec<MigrationInfo>, String>>,
    ),
    Maintenance(RpcReplyPort<Result<MaintenanceReport, String>>),
    /// From the opening task.
    Opened(u64, Result<Arc<Db>, String>),
    /// From the connection task: the database went away.
    ConnectionLost(u64, String),
    /// Timers.
    Reopen,
    ExpireWaiting,
    FlushAccess,
    MaintenanceTick,
    SyncTick,
    /// From query tasks: keys read (for access tracking) and outcomes (for stats).
    Accessed {
        keys: Vec<Key>,
        at: u64,
        misses: u64,
    },
    QueryFailed,
    #[cfg(test)]
    Panic,
}

enum Phase {
    Opening { waiting: Vec<WaitingWrite> },
    Open(Arc<Db>),
    Down(String),
}

/// Writes held while opening, at most; more are answered unavailable at once.
const MAX_WAITING: usize = 1024;
const MAX_BACKOFF: Duration = Duration::from_secs(60);
const RETRY_WHILE_OPENING: Duration = Duration::from_millis(100);
const LABEL: &str = "L2 database";

pub struct DatabaseTier;

pub struct DatabaseArgs {
    pub config: L2Config,
    pub data_dir: PathBuf,
    /// The daemon's data-dir lock; taken here on a retry if the daemon could not at start.
    pub lock: Arc<Mutex<Option<DataDirLock>>>,
}

pub struct DatabaseState {
    args: DatabaseArgs,
    phase: Phase,
    generation: u64,
    attempt: u32,
    access: AccessBatch,
    hits: u64,
    misses: u64,
    errors: u64,
    /// Written since the last host sync (`l2.sync = interval`).
    dirty: bool,
    /// The cause of the current run of failed opens.
    first_failure: Option<String>,
    timers: Vec<JoinHandle<()>>,
}

impl Actor for DatabaseTier {
    type Msg = ToDatabase;
    type State = DatabaseState;
    type Arguments = DatabaseArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<ToDatabase>,
        mut args: DatabaseArgs,
    ) -> Result<DatabaseState, ActorProcessingErr> {
        // A PostgreSQL server makes its own commits durable; syncing the local data dir
        // would add nothing.
        if args.config.backend == L2Backend::Postgres {
            args.config.sync = SyncMode::Off;
        }
        let mut timers = vec![
            myself.send_interval(args.config.access_flush_interval, || {
                ToDatabase::FlushAccess
            }),
            myself.send_interval(args.config.maintenance_interval, || {
                ToDatabase::MaintenanceTick
            }),
        ];
        if args.config.sync == SyncMode::Interval {
            timers.push(myself.send_interval(args.config.sync_interval, || ToDatabase::SyncTick));
        }
        let mut state = DatabaseState {
            args,
            phase: Phase::Opening {
                waiting: Vec::new(),
            },
            generation: 0,
            attempt: 0,
            access: AccessBatch::default(),
            hits: 0,
            misses: 0,
            errors: 0,
            dirty: false,
            first_failure: None,
            timers,
        };
        start_open(&myself, &mut state);
        Ok(state)
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ToDatabase>,
        state: &mut DatabaseState,
    ) -> Result<(), ActorProcessingErr> {
        for timer in &state.timers {
            timer.abort();
        }
        let room = space::check(state.disk().as_deref(), Access::Write).is_ok();
        if let Phase::Open(db) = std::mem::replace(&mut state.phase, Phase::Down("stopped".into()))
        {
            let batch = state.access.take();
            if !batch.is_empty() && room {
                let _ = db.accessed(&batch).await;
            }
            close(db).await;
        }
        Ok(())
    }

    async fn handle(
        &self,
        myself: ActorRef<ToDatabase>,
        message: ToDatabase,
        state: &mut DatabaseState,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ToDatabase::Opened(generation, result) if generation == state.generation => {
                opened(&myself, state, result)
            }
            ToDatabase::Opened(_, Ok(stale)) => {
                tokio::spawn(close(stale));
            }
            ToDatabase::Opened(..) => {}
            ToDatabase::ConnectionLost(generation, reason) if generation == state.generation => {
                let reason = space::explain(reason, state.disk().as_deref());
                tracing::error!(%reason, "L2 connection lost; reopening");
                state.phase = Phase::Down(format!("connection lost: {reason}"));
                schedule_reopen(&myself, state);
            }
            ToDatabase::ConnectionLost(..) => {}
            ToDatabase::Reopen => {
                if matches!(state.phase, Phase::Down(_)) {
                    start_open(&myself, state);
                }
            }
            ToDatabase::ExpireWaiting => {
                if let Phase::Opening { waiting } = &mut state.phase {
                    for (_, reply) in waiting.drain(..) {
                        let _ = reply.send(Err(unavailable("still opening")));
                    }
                }
            }
            ToDatabase::Accessed { keys, at, misses } => {
                state.hits += keys.len() as u64;
                state.misses += misses;
                state.access.record(keys, at);
                if state.access.len() >= AccessBatch::FLUSH_AT {
                    flush_access(state);
                }
            }
            ToDatabase::FlushAccess => flush_access(state),
            ToDatabase::SyncTick => {
                if state.dirty && open_db(state).is_some() {
                    state.dirty = false;
                    let dir = state.args.data_dir.clone();
                    tokio::spawn(async move {
                        if let Err(e) = durability::sync(dir).await {
                            tracing::warn!(error = %e, "L2 host sync failed");
                        }
                    });
                }
            }
            ToDatabase::QueryFailed => state.errors += 1,
            ToDatabase::MaintenanceTick => {
                if let Ok(db) = usable(state, Access::Write) {
                    let batch = state.access.take();
                    let config = state.args.config.clone();
                    tokio::spawn(async move {
                        match maintenance(&db, &config, batch).await {
                            Ok(report) => tracing::info!(?report, "L2 maintenance"),
                            Err(e) => tracing::warn!(error = %e, "L2 maintenance failed"),
                        }
                    });
                }
            }
            // Operator commands wait for an opening database (bounded by the caller's
            // deadline) rather than fail; a database that is down answers at once.
            ToDatabase::Maintenance(reply) if matches!(state.phase, Phase::Opening { .. }) => {
                later(&myself, RETRY_WHILE_OPENING, || {
                    ToDatabase::Maintenance(reply)
                });
            }
            ToDatabase::Migrate(action, reply) if matches!(state.phase, Phase::Opening { .. }) => {
                later(&myself, RETRY_WHILE_OPENING, move || {
                    ToDatabase::Migrate(action, reply)
                });
            }
            ToDatabase::Maintenance(reply) => match usable(state, Access::Write) {
                Ok(db) => {
                    let batch = state.access.take();
                    let config = state.args.config.clone();
                    tokio::spawn(async move {
                        let _ = reply.send(maintenance(&db, &config, batch).await);
                    });
                }
                Err(e) => {
                    let _ = reply.send(Err(e.to_string()));
                }
            },
            ToDatabase::Migrate(action, reply) => match usable(state, Access::Write) {
                Ok(db) => {
                    tokio::spawn(async move {
                        let _ = reply.send(migrate::run(db.primary(), action).await);
                    });
                }
                Err(e) => {
                    let _ = reply.send(Err(e.to_string()));
                }
            },
            ToDatabase::Stats(reply) => {
                let counters = (state.hits, state.misses, state.errors);
                let capacity = state.args.config.max_bytes.bytes();
                let (db, down) = match usable(state, Access::Read) {
                    Ok(db) => (Some(db), unavailable("open")),
                    Err(e) => (None, e),
                };
                let disk = state.disk();
                tokio::spawn(async move {
                    let _ = reply.send(stats(db, down, counters, capacity, disk).await);
                });
            }
            ToDatabase::PutMany(entries, reply) => match &mut state.phase {
                Phase::Opening { waiting } if waiting.len() < MAX_WAITING => {
                    waiting.push((entries, reply));
                }
                _ => write(&myself, state, reply, move |db| async move {
                    db.put_many(&entries).await.map(|_| ())
                }),
            },
            ToDatabase::GetMany(keys, reply) => {
                let db = match usable(state, Access::Read) {
                    Ok(db) => db,
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        return Ok(());
                    }
                };
                let myself = myself.clone();
                let disk = state.disk();
                tokio::spawn(async move {
                    let _permit = match db.acquire().await {
                        Ok(permit) => permit,
                        Err(after) => {
                            let _ = reply.send(Err(busy(after)));
                            return;
                        }
                    };
                    let result = db.get_many(&keys).await;
                    match &result {
                        Ok(found) => {
                            let misses = found.iter().filter(|f| f.is_none()).count() as u64;
                            let hit_keys = keys
                                .into_iter()
                                .zip(found)
                                .filter(|(_, f)| f.is_some())
                                .map(|(k, _)| k)
                                .collect();
                            let _ = myself.send_message(ToDatabase::Accessed {
                                keys: hit_keys,
                                at: unix_ms(),
                                misses,
                            });
                        }
                        Err(_) => {
                            let _ = myself.send_message(ToDatabase::QueryFailed);
                        }
                    }
                    let _ = reply.send(result.map_err(|e| failed(&e, disk.as_deref())));
                });
            }
            ToDatabase::DeleteMany(keys, reply) => {
                write(&myself, state, reply, move |db| async move {
                    db.delete_many(&keys).await
                })
            }
            ToDatabase::Peek(key, reply) => {
                query(&myself, state, Access::Read, reply, move |db| async move {
                    db.peek(&key).await
                })
            }
            ToDatabase::Touch(key, expires, reply) => {
                write(&myself, state, reply, move |db| async move {
                    db.touch(&key, expires).await
                })
            }
            ToDatabase::Keys(glob, reply) => {
                let like = glob.to_like();
                query(&myself, state, Access::Read, reply, move |db| async move {
                    db.keys(&like).await
                })
            }
            ToDatabase::Clear(reply) => {
                write(&myself, state, reply, |db| async move { db.clear().await })
            }
            ToDatabase::Ping(reply) => {
                query(&myself, state, Access::Read, reply, |db| async move {
                    db.primary().simple_query("SELECT 1").await.map(|_| ())
                })
            }
            #[cfg(test)]
            ToDatabase::Panic => panic!("injected panic in DatabaseTier"),
        }
        Ok(())
    }
}

/// A query that found no room in the pool within `l2.acquire_timeout`.
fn busy(after: Duration) -> TierError {
    TierError::Timeout {
        tier: "L2 database (its connections are all busy)",
        after,
    }
}

/// A query's error as an answer, with the free space when that is the likely cause.
fn failed(e: &tokio_postgres::Error, disk: Option<&std::path::Path>) -> TierError {
    unavailable(&space::explain(db_error(e), disk))
}

fn unavailable(reason: &str) -> TierError {
    TierError::Unavailable {
        tier: LABEL,
        reason: reason.to_owned(),
    }
}

fn unavailable_reason(state: &DatabaseState) -> TierError {
    match &state.phase {
        Phase::Opening { .. } => unavailable("opening"),
        Phase::Down(reason) => unavailable(reason),
        Phase::Open(_) => unavailable("open"),
    }
}

impl DatabaseState {
    /// The data dir, when the database lives on this machine's disk (not on a server).
    fn disk(&self) -> Option<PathBuf> {
        (self.args.config.backend == L2Backend::Pglite).then(|| self.args.data_dir.clone())
    }
}

fn open_db(state: &DatabaseState) -> Option<Arc<Db>> {
    match &state.phase {
        Phase::Open(db) => Some(db.clone()),
        _ => None,
    }
}

/// The open database, if its disk has room for `access` now (see `space`).
fn usable(state: &DatabaseState, access: Access) -> Result<Arc<Db>, TierError> {
    let db = open_db(state).ok_or_else(|| unavailable_reason(state))?;
    space::check(state.disk().as_deref(), access).map_err(|why| unavailable(&why))?;
    Ok(db)
}

/// Runs one query in a task and answers `reply`; a database error is an answer, not a crash.
fn query<T, F, Fut>(
    myself: &ActorRef<ToDatabase>,
    state: &DatabaseState,
    access: Access,
    reply: Reply<T>,
    run: F,
) where
    T: Send + 'static,
    F: FnOnce(Arc<Db>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, tokio_postgres::Error>> + Send,
{
    let db = match usable(state, access) {
        Ok(db) => db,
        Err(e) => {
            let _ = reply.send(Err(e));
            return;
        }
    };
    let myself = myself.clone();
    let disk = state.disk();
    tokio::spawn(async move {
        let _permit = match db.acquire().await {
            Ok(permit) => permit,
            Err(after) => {
                let _ = reply.send(Err(busy(after)));
                return;
            }
        };
        let result = run(db.clone()).await.map_err(|e| {
            let _ = myself.send_message(ToDatabase::QueryFailed);
            failed(&e, disk.as_deref())
        });
        let _ = reply.send(result);
    });
}

/// A query that changes data: marks the database dirty for the interval sync, and with
/// `l2.sync = always` syncs the data dir before the write is acknowledged.
fn write<T, F, Fut>(
    myself: &ActorRef<ToDatabase>,
    state: &mut DatabaseState,
    reply: Reply<T>,
    run: F,
) where
    T: Send + 'static,
    F: FnOnce(Arc<Db>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<T, tokio_postgres::Error>> + Send,
{
    state.dirty = true;
    if state.args.config.sync != SyncMode::Always {
        return query(myself, state, Access::Write, reply, run);
    }
    let dir = state.args.data_dir.clone();
    let (inner_tx, inner_rx) = ractor::concurrency::oneshot();
    query(myself, state, Access::Write, inner_tx.into(), run);
    tokio::spawn(async move {
        let result = match inner_rx.await {
            Ok(Ok(value)) => durability::sync(dir)
                .await
                .map(|()| value)
                .map_err(|e| unavailable(&e)),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(unavailable("the write was dropped")),
        };
        let _ = reply.send(result);
    });
}

/// Sends `message` to the actor after `delay` (a detached timer).
fn later(
    myself: &ActorRef<ToDatabase>,
    delay: Duration,
    message: impl FnOnce() -> ToDatabase + Send + 'static,
) {
    drop(myself.send_after(delay, message));
}

fn start_open(myself: &ActorRef<ToDatabase>, state: &mut DatabaseState) {
    state.generation += 1;
    let generation = state.generation;
    if !matches!(state.phase, Phase::Opening { .. }) {
        state.phase = Phase::Opening {
            waiting: Vec::new(),
        };
    }
    later(myself, state.args.config.open_wait, || {
        ToDatabase::ExpireWaiting
    });
    let myself = myself.clone();
    let config = state.args.config.clone();
    let data_dir = state.args.data_dir.clone();
    let lock = state.args.lock.clone();
    let disk = state.disk();
    tokio::spawn(async move {
        let started = Instant::now();
        // Opening runs crash recovery and migrations: it writes.
        let result = match space::check(disk.as_deref(), Access::Write) {
            Ok(()) => open(&myself, generation, &config, data_dir, lock)
                .await
                .map_err(|e| space::explain(e, disk.as_deref())),
            Err(why) => Err(why),
        };
        match &result {
            Ok(_) => tracing::info!(
                open_ms = started.elapsed().as_millis() as u64,
                "L2 database open"
            ),
            Err(e) => tracing::error!(error = %e, "L2 database could not be opened"),
        }
        let _ = myself.send_message(ToDatabase::Opened(generation, result.map(Arc::new)));
    });
}

async fn open(
    myself: &ActorRef<ToDatabase>,
    generation: u64,
    config: &L2Config,
    data_dir: PathBuf,
    lock: Arc<Mutex<Option<DataDirLock>>>,
) -> Result<Db, String> {
    {
        let mut held = lock.lock().expect("lock mutex");
        if held.is_none() {
            *held = Some(DataDirLock::acquire(&data_dir).map_err(|e| e.to_string())?);
        }
    }
    let (db, end) = Db::open(config, &data_dir).await?;
    let watcher = myself.clone();
    tokio::spawn(async move {
        let reason = end.await;
        let _ = watcher.send_message(ToDatabase::ConnectionLost(generation, reason));
    });
    Ok(db)
}

fn opened(
    myself: &ActorRef<ToDatabase>,
    state: &mut DatabaseState,
    result: Result<Arc<Db>, String>,
) {
    let waiting = match std::mem::replace(&mut state.phase, Phase::Down(String::new())) {
        Phase::Opening { waiting } => waiting,
        _ => Vec::new(),
    };
    match result {
        Ok(db) => {
            state.attempt = 0;
            state.first_failure = None;
            state.phase = Phase::Open(db);
            for (entries, reply) in waiting {
                write(myself, state, reply, move |db| async move {
                    db.put_many(&entries).await.map(|_| ())
                });
            }
        }
        Err(reason) => {
            for (_, reply) in waiting {
                let _ = reply.send(Err(unavailable(&reason)));
            }
            // This process holds the data-dir lock, so "already in use" after a failure means
            // our own failed backend still holds the database: the first cause is the news.
            let reason = match &state.first_failure {
                Some(first) if reason.contains("already in use") => {
                    format!("{first} (still failing; fix the data dir and restart the daemon)")
                }
                _ => {
                    state.first_failure = Some(reason.clone());
                    reason
                }
            };
            state.phase = Phase::Down(reason);
            schedule_reopen(myself, state);
        }
    }
}

fn schedule_reopen(myself: &ActorRef<ToDatabase>, state: &mut DatabaseState) {
    let delay = Duration::from_secs(1 << state.attempt.min(6)).min(MAX_BACKOFF);
    state.attempt += 1;
    tracing::info!(retry_in = ?delay, attempt = state.attempt, "L2 will retry opening");
    later(myself, delay, || ToDatabase::Reopen);
}

fn flush_access(state: &mut DatabaseState) {
    if state.access.is_empty() {
        return;
    }
    let Ok(db) = usable(state, Access::Write) else {
        return;
    };
    let batch = state.access.take();
    tokio::spawn(async move {
        if let Err(e) = db.accessed(&batch).await {
            tracing::warn!(error = %db_error(&e), "L2 access tracking not written");
        }
    });
}
