//! `migrate` and `maintenance` with no daemon running: open the data dir directly (taking the
//! daemon's lock, so a daemon started meanwhile waits its turn), do the one job, close.

use std::path::Path;

use super::db::Db;
use super::error::L2Error;
use super::migrate::{self, MigrateAction, MigrationInfo};
use super::report::{MaintenanceReport, maintenance as run_maintenance};
use crate::config::L2Config;
use crate::data_dir::DataDirLock;

async fn with_db<T>(
    config: &L2Config,
    data_dir: &Path,
    job: impl AsyncFnOnce(&Db) -> Result<T, L2Error>,
) -> Result<T, L2Error> {
    let _lock = DataDirLock::acquire(data_dir)?;
    let (db, _end) = Db::open(config, data_dir).await?;
    let result = job(&db).await;
    db.close().await;
    result
}

pub async fn migrate(
    config: &L2Config,
    data_dir: &Path,
    action: MigrateAction,
) -> Result<Vec<MigrationInfo>, L2Error> {
    with_db(config, data_dir, async |db| {
        migrate::run(db.primary(), action).await
    })
    .await
}

pub async fn maintenance(config: &L2Config, data_dir: &Path) -> Result<MaintenanceReport, L2Error> {
    with_db(config, data_dir, async |db| {
        run_maintenance(db, config, Vec::new()).await
    })
    .await
}
