//! The DatabaseTier actor (L2): the only owner of the database. It opens it in the background
//! (the daemon is READY before), answers reads as unavailable and holds writes for a bounded
//! time while it opens, reopens with back-off when the database fails (the decisions are
//! [`Life`]'s), batches reads' access tracking, and runs maintenance on a timer. Queries run
//! in tasks it spawns ([`Job`]); its handlers never await the database.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ractor::{Actor, ActorProcessingErr, ActorRef};
use tokio::task::JoinHandle;

use super::access::AccessBatch;
use super::db::Db;
use super::durability;
use super::error::L2Error;
use super::message::{ToDatabase, WaitingWrite};
use super::migrate;
use super::phase::{Life, Opened};
use super::query::Job;
use super::report::{close, maintenance, stats};
use super::space::{self, Access};
use crate::config::{L2Backend, L2Config, SyncMode};
use crate::data_dir::DataDirLock;
use crate::key::Key;
use crate::tier::{Entry, Reply, unix_ms};

const RETRY_WHILE_OPENING: Duration = Duration::from_millis(100);

pub struct DatabaseTier;

pub struct DatabaseArgs {
    pub config: L2Config,
    pub data_dir: PathBuf,
    /// The daemon's data-dir lock; taken here on a retry if the daemon could not at start.
    pub lock: Arc<Mutex<Option<DataDirLock>>>,
}

pub struct DatabaseState {
    args: DatabaseArgs,
    life: Life<Arc<Db>, WaitingWrite>,
    access: AccessBatch,
    hits: u64,
    misses: u64,
    errors: u64,
    /// Written since the last host sync (`l2.sync = interval`).
    dirty: bool,
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
            life: Life::new(),
            access: AccessBatch::default(),
            hits: 0,
            misses: 0,
            errors: 0,
            dirty: false,
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
        if let Some(db) = state.life.stop() {
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
            ToDatabase::Opened(generation, result) => opened(&myself, state, generation, result),
            ToDatabase::ConnectionLost(generation, reason) => {
                let lost = L2Error::ConnectionLost(reason);
                let lost = space::explain(lost, state.disk().as_deref());
                if let Some(retry_in) = state.life.lost(generation, lost.clone()) {
                    tracing::error!(reason = %lost, "L2 connection lost; reopening");
                    schedule_reopen(&myself, retry_in);
                }
            }
            ToDatabase::Reopen => {
                if state.life.is_down() {
                    start_open(&myself, state);
                }
            }
            ToDatabase::ExpireWaiting => {
                for (_, reply) in state.life.expire_waiting() {
                    let _ = reply.send(Err(L2Error::Opening.into()));
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
                if state.dirty && state.life.db().is_ok() {
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
                if let Ok(db) = state.usable(Access::Write) {
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
            ToDatabase::Maintenance(reply) if state.life.is_opening() => {
                later(&myself, RETRY_WHILE_OPENING, || {
                    ToDatabase::Maintenance(reply)
                });
            }
            ToDatabase::Migrate(action, reply) if state.life.is_opening() => {
                later(&myself, RETRY_WHILE_OPENING, move || {
                    ToDatabase::Migrate(action, reply)
                });
            }
            ToDatabase::Maintenance(reply) => match state.usable(Access::Write) {
                Ok(db) => {
                    let batch = state.access.take();
                    let config = state.args.config.clone();
                    tokio::spawn(async move {
                        let _ = reply.send(maintenance(&db, &config, batch).await);
                    });
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            ToDatabase::Migrate(action, reply) => match state.usable(Access::Write) {
                Ok(db) => {
                    tokio::spawn(async move {
                        let _ = reply.send(migrate::run(db.primary(), action).await);
                    });
                }
                Err(e) => {
                    let _ = reply.send(Err(e));
                }
            },
            ToDatabase::Stats(reply) => {
                let counters = (state.hits, state.misses, state.errors);
                let capacity = state.args.config.max_bytes.bytes();
                let db = state.usable(Access::Read);
                let disk = state.disk();
                tokio::spawn(async move {
                    let _ = reply.send(Ok(stats(db, counters, capacity, disk).await));
                });
            }
            ToDatabase::PutMany(entries, reply) => {
                if let Err((entries, reply)) = state.life.hold((entries, reply)) {
                    put(&myself, state, entries, reply);
                }
            }
            ToDatabase::GetMany(keys, reply) => {
                let tracker = myself.clone();
                query(&myself, state, Access::Read, reply, |db| async move {
                    let found = db.get_many(&keys).await?;
                    let misses = found.iter().filter(|f| f.is_none()).count() as u64;
                    let hits = keys.into_iter().zip(&found).filter(|(_, f)| f.is_some());
                    let _ = tracker.send_message(ToDatabase::Accessed {
                        keys: hits.map(|(key, _)| key).collect(),
                        at: unix_ms(),
                        misses,
                    });
                    Ok(found)
                })
            }
            ToDatabase::DeleteMany(keys, reply) => write(&myself, state, reply, |db| async move {
                db.delete_many(&keys).await
            }),
            ToDatabase::Peek(key, reply) => {
                query(&myself, state, Access::Read, reply, |db| async move {
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
                query(&myself, state, Access::Read, reply, |db| async move {
                    db.keys(&like).await
                })
            }
            ToDatabase::Expiring(before, min_reads, limit, reply) => {
                query(&myself, state, Access::Read, reply, move |db| async move {
                    db.expiring(unix_ms(), before, min_reads, limit).await
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

impl DatabaseState {
    /// The data dir, when the database lives on this machine's disk (not on a server).
    fn disk(&self) -> Option<PathBuf> {
        (self.args.config.backend == L2Backend::Pglite).then(|| self.args.data_dir.clone())
    }

    /// The open database, if its disk has room for `access` now (see `space`).
    fn usable(&self, access: Access) -> Result<Arc<Db>, L2Error> {
        let db = self.life.db()?;
        space::check(self.disk().as_deref(), access)?;
        Ok(db)
    }
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
    match state.usable(access) {
        Ok(db) => job(myself, state, db).spawn(reply, run),
        Err(e) => {
            let _ = reply.send(Err(e.into()));
        }
    }
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
    let db = match state.usable(Access::Write) {
        Ok(db) => db,
        Err(e) => {
            let _ = reply.send(Err(e.into()));
            return;
        }
    };
    let job = job(myself, state, db);
    match state.args.config.sync {
        SyncMode::Always => job.spawn_synced(state.args.data_dir.clone(), reply, run),
        SyncMode::Off | SyncMode::Interval => job.spawn(reply, run),
    }
}

fn put(
    myself: &ActorRef<ToDatabase>,
    state: &mut DatabaseState,
    entries: Vec<(Key, Entry)>,
    reply: Reply<()>,
) {
    write(myself, state, reply, |db| async move {
        db.put_many(&entries).await.map(|_| ())
    });
}

fn job(myself: &ActorRef<ToDatabase>, state: &DatabaseState, db: Arc<Db>) -> Job {
    Job {
        db,
        actor: myself.clone(),
        disk: state.disk(),
    }
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
    let generation = state.life.start_open();
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
) -> Result<Db, L2Error> {
    {
        let mut held = lock.lock().expect("lock mutex");
        if held.is_none() {
            *held = Some(DataDirLock::acquire(&data_dir)?);
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
    generation: u64,
    result: Result<Arc<Db>, L2Error>,
) {
    match state.life.opened(generation, result) {
        Opened::Open { waiting } => {
            for (entries, reply) in waiting {
                put(myself, state, entries, reply);
            }
        }
        Opened::Failed {
            waiting,
            error,
            retry_in,
        } => {
            for (_, reply) in waiting {
                let _ = reply.send(Err(error.clone().into()));
            }
            schedule_reopen(myself, retry_in);
        }
        Opened::Stale(db) => {
            if let Some(db) = db {
                tokio::spawn(close(db));
            }
        }
    }
}

fn schedule_reopen(myself: &ActorRef<ToDatabase>, delay: Duration) {
    tracing::info!(retry_in = ?delay, "L2 will retry opening");
    later(myself, delay, || ToDatabase::Reopen);
}

fn flush_access(state: &mut DatabaseState) {
    if state.access.is_empty() {
        return;
    }
    let Ok(db) = state.usable(Access::Write) else {
        return;
    };
    let batch = state.access.take();
    tokio::spawn(async move {
        if let Err(e) = db.accessed(&batch).await {
            tracing::warn!(error = %L2Error::query(&e), "L2 access tracking not written");
        }
    });
}
