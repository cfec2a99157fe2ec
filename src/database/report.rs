//! What the L2 tier reports and how it lets go: maintenance runs, stats, and closing a
//! database once the tasks using it are done. Plain async functions on a [`Db`]; the actor
//! decides when they run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::db::Db;
use super::error::{L2Error, server_message};
use crate::config::L2Config;
use crate::protocol::{TierName, TierStats};
use crate::tier::unix_ms;

/// What one maintenance run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MaintenanceReport {
    /// Rows deleted because they had been expired longer than `l2.stale_limit`.
    pub stale_deleted: u64,
    /// Rows evicted, least recently used first, to get under `l2.max_bytes`.
    pub evicted: u64,
    pub rows: u64,
    pub bytes: u64,
    pub took: Duration,
}

/// Writes the access batch, then (unless another daemon sharing the database is at it)
/// deletes long-stale rows and evicts to the budget.
pub async fn maintenance(
    db: &Db,
    config: &L2Config,
    access: Vec<(String, i64, i64)>,
) -> Result<MaintenanceReport, L2Error> {
    let started = Instant::now();
    let err = |e: tokio_postgres::Error| L2Error::query(&e);
    if !access.is_empty() {
        db.accessed(&access).await.map_err(err)?;
    }
    let sweep = async {
        let stale_before = unix_ms().saturating_sub(config.stale_limit.as_millis() as u64);
        let stale_deleted = db.delete_stale(stale_before).await.map_err(err)?;
        let evicted = db.evict_to(config.max_bytes.bytes()).await.map_err(err)?;
        Ok::<_, L2Error>((stale_deleted, evicted))
    };
    let Some((stale_deleted, evicted)) = db.exclusively(sweep).await? else {
        tracing::debug!("another daemon is running L2 maintenance; skipped");
        let (kinds, _, _) = db.kind_stats().await.map_err(err)?;
        return Ok(MaintenanceReport {
            rows: kinds.iter().map(|k| k.rows).sum(),
            bytes: kinds.iter().map(|k| k.bytes).sum(),
            took: started.elapsed(),
            ..MaintenanceReport::default()
        });
    };
    let (kinds, _, _) = db.kind_stats().await.map_err(err)?;
    Ok(MaintenanceReport {
        stale_deleted,
        evicted,
        rows: kinds.iter().map(|k| k.rows).sum(),
        bytes: kinds.iter().map(|k| k.bytes).sum(),
        took: started.elapsed(),
    })
}

/// The tier's stats: `db` is the open database, or why there is none.
pub async fn stats(
    db: Result<Arc<Db>, L2Error>,
    (hits, misses, errors): (u64, u64, u64),
    capacity: u64,
    disk: Option<std::path::PathBuf>,
) -> TierStats {
    let state = match &db {
        Ok(_) => "up".to_owned(),
        Err(down) => down.to_string(),
    };
    let mut stats = TierStats {
        capacity_bytes: capacity,
        hits,
        misses,
        errors,
        ..TierStats::empty(TierName::Database, state)
    };
    if let Ok(db) = db {
        match db.kind_stats().await {
            Ok((kinds, oldest, newest)) => {
                stats.entries = kinds.iter().map(|k| k.rows).sum();
                stats.bytes = kinds.iter().map(|k| k.bytes).sum();
                stats.kinds = kinds;
                stats.oldest_ms = oldest;
                stats.newest_ms = newest;
            }
            Err(e) => stats.state = format!("up, stats failed: {}", server_message(&e)),
        }
        if let Err(why) = super::space::check(disk.as_deref(), super::space::Access::Write) {
            stats.state = format!("{}, read-only: {why}", stats.state);
        }
    }
    stats
}

/// Closes a database once no task holds it any more (bounded wait).
pub async fn close(db: Arc<Db>) {
    let mut db = db;
    for _ in 0..200 {
        match Arc::try_unwrap(db) {
            Ok(owned) => {
                owned.close().await;
                return;
            }
            Err(shared) => {
                db = shared;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
    tracing::warn!("L2 still in use at close; leaving it to the backend's drop");
}
