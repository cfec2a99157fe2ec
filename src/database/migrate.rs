//! Schema migrations: numbered SQL files in `migrations/`, embedded in the binary, each applied
//! or reverted in one transaction and recorded in `schema_migrations`.

use tokio_postgres::Client;

use super::error::{Direction, L2Error};
use crate::tier::unix_ms;

/// Which way to move the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrateAction {
    Status,
    /// Apply pending migrations; `None` applies all.
    Up(Option<u32>),
    /// Revert the newest N applied migrations.
    Down(u32),
}

/// One migration and whether it is applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationInfo {
    pub version: i64,
    pub name: &'static str,
    /// Unix ms; `None` while pending.
    pub applied_ms: Option<u64>,
}

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub up: &'static str,
    pub down: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    name: "entries",
    up: include_str!("../../migrations/0001_entries.up.sql"),
    down: include_str!("../../migrations/0001_entries.down.sql"),
}];

const TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

pub async fn status(client: &Client) -> Result<Vec<MigrationInfo>, tokio_postgres::Error> {
    // Checked first: CREATE ... IF NOT EXISTS would log a notice on every open.
    let exists: bool = client
        .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        client.batch_execute(TABLE).await?;
    }
    let rows = client
        .query("SELECT version, applied_at FROM schema_migrations", &[])
        .await?;
    let applied: Vec<(i64, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    Ok(MIGRATIONS
        .iter()
        .map(|m| MigrationInfo {
            version: m.version,
            name: m.name,
            applied_ms: applied
                .iter()
                .find(|(v, _)| *v == m.version)
                .map(|(_, at)| *at as u64),
        })
        .collect())
}

/// Runs migration `m`'s `sql` and its bookkeeping as one transaction; on failure rolls back
/// and says which migration failed.
async fn transaction(
    client: &Client,
    m: &Migration,
    direction: Direction,
    sql: String,
) -> Result<(), L2Error> {
    // One simple-protocol message: nothing else on the connection interleaves with it.
    if let Err(e) = client
        .batch_execute(&format!("BEGIN;\n{sql}\nCOMMIT;"))
        .await
    {
        let _ = client.batch_execute("ROLLBACK").await;
        return Err(L2Error::Migration {
            version: m.version,
            name: m.name,
            direction,
            reason: super::error::server_message(&e),
        });
    }
    Ok(())
}

pub async fn run(client: &Client, action: MigrateAction) -> Result<Vec<MigrationInfo>, L2Error> {
    let current = status(client).await.map_err(|e| L2Error::query(&e))?;
    match action {
        MigrateAction::Status => {}
        MigrateAction::Up(limit) => {
            let pending = MIGRATIONS
                .iter()
                .filter(|m| {
                    !current
                        .iter()
                        .any(|c| c.version == m.version && c.applied_ms.is_some())
                })
                .take(limit.map_or(usize::MAX, |n| n as usize));
            for m in pending {
                let sql = format!(
                    "{}\nINSERT INTO schema_migrations VALUES ({}, '{}', {});",
                    m.up,
                    m.version,
                    m.name,
                    unix_ms()
                );
                transaction(client, m, Direction::Up, sql).await?;
                tracing::info!(version = m.version, name = m.name, "migration applied");
            }
        }
        MigrateAction::Down(count) => {
            let mut applied: Vec<&Migration> = MIGRATIONS
                .iter()
                .filter(|m| {
                    current
                        .iter()
                        .any(|c| c.version == m.version && c.applied_ms.is_some())
                })
                .collect();
            applied.reverse();
            for m in applied.into_iter().take(count as usize) {
                let sql = format!(
                    "{}\nDELETE FROM schema_migrations WHERE version = {};",
                    m.down, m.version
                );
                transaction(client, m, Direction::Down, sql).await?;
                tracing::warn!(version = m.version, name = m.name, "migration reverted");
            }
        }
    }
    status(client).await.map_err(|e| L2Error::query(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_embedded_once_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        files.sort();
        let expected: Vec<String> = MIGRATIONS
            .iter()
            .flat_map(|m| {
                [
                    format!("{:04}_{}.down.sql", m.version, m.name),
                    format!("{:04}_{}.up.sql", m.version, m.name),
                ]
            })
            .collect();
        assert_eq!(files, expected);
        assert!(MIGRATIONS.windows(2).all(|w| w[0].version < w[1].version));
    }

    /// A migration that fails is rolled back and named, with the server's reason.
    #[cfg(feature = "pglite")]
    #[tokio::test(flavor = "multi_thread")]
    async fn a_broken_migration_is_named_and_rolled_back() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::config::L2Config::default();
        // On a loaded machine (the suite opens several databases at once) the embedded server
        // can miss the 5 s connect budget; the actor would retry, so the test does too.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
        let (db, _end) = loop {
            match super::super::db::Db::open(&config, dir.path()).await {
                Ok(open) => break open,
                Err(e) if std::time::Instant::now() < deadline => eprintln!("retrying: {e}"),
                Err(e) => panic!("the embedded database never opened: {e}"),
            }
        };
        let client = db.primary();
        run(client, MigrateAction::Down(1)).await.unwrap();
        // In the way of migration 1's CREATE TABLE.
        client
            .batch_execute("CREATE TABLE entries (x int)")
            .await
            .unwrap();
        let err = run(client, MigrateAction::Up(None)).await.unwrap_err();
        let L2Error::Migration {
            version: 1,
            name: "entries",
            direction: Direction::Up,
            reason,
        } = &err
        else {
            panic!("not a migration failure: {err:?}")
        };
        assert!(reason.contains("already exists"), "{err}");
        let status = status(client).await.unwrap();
        assert_eq!(status[0].applied_ms, None, "rolled back");
        db.close().await;
    }
}
