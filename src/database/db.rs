//! An open L2 database: one tokio-postgres connection with prepared statements, and the SQL
//! for every tier operation. Multi-row writes are single statements (`unnest`), so each is
//! atomic without holding a transaction open across awaits, and concurrent requests pipeline
//! on the one connection.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, Row, Statement};

use super::backend::{self, Backend};
use super::connect::{CONNECT_TIMEOUT, connect};
use super::error::L2Error;
use super::migrate::{self, MigrateAction};
use crate::config::{L2Backend, L2Config};
use crate::key::Key;
use crate::protocol::KindStats;
use crate::tier::{Entry, EntryMeta, Validator};

/// Per-row overhead charged to `l2.max_bytes` beyond key and value: tuple header, the primary
/// key index entry, the other columns. An estimate; the budget counts stored bytes, not files.
pub const ROW_OVERHEAD: i64 = 160;

const COLUMNS: &str =
    "key, value, size, created_at, expires_at, last_access, access_count, blob_sha, etag";

pub struct Db {
    /// One for the embedded database (it serves one connection); `l2.pool_size` for a
    /// PostgreSQL server. Queries pipeline on them, taken in turn.
    conns: Vec<Conn>,
    next: AtomicUsize,
    /// Bounds the queries in flight; a query waits at most `l2.acquire_timeout` for one.
    permits: Arc<Semaphore>,
    acquire_timeout: Duration,
    pub(super) backend: Option<Backend>,
}

struct Conn {
    client: Client,
    statements: Statements,
}

/// Queries in flight per connection before more wait for a permit.
const PIPELINE_DEPTH: usize = 16;

struct Statements {
    get_many: Statement,
    put_many: Statement,
    delete_many: Statement,
    peek: Statement,
    touch: Statement,
    keys: Statement,
    accessed: Statement,
}

pub type DbResult<T> = Result<T, tokio_postgres::Error>;

/// Advisory lock keys (any two numbers no other application on the server uses).
const MIGRATION_LOCK: i64 = 0x5348_4443_0001;
const MAINTENANCE_LOCK: i64 = 0x5348_4443_0002;

/// Resolves with the reason when the connection to the database ends.
pub type ConnectionEnd = std::pin::Pin<Box<dyn Future<Output = String> + Send>>;

impl Db {
    /// Starts the embedded database in `data_dir/pglite`, connects, applies pending migrations
    /// and prepares statements. The caller drives the returned connection future.
    pub async fn open(config: &L2Config, data_dir: &Path) -> Result<(Db, ConnectionEnd), L2Error> {
        // The embedded database is on a private Unix socket: no TLS there.
        let mut tls = None;
        let (backend, pg, what) = match config.backend {
            L2Backend::Pglite => {
                let (backend, pg) =
                    backend::open(&data_dir.join("pglite"), &config.shared_buffers).await?;
                (Some(backend), pg, "the embedded database")
            }
            L2Backend::Postgres => {
                let target = super::tls::target(&config.url, &config.ca_file)
                    .map_err(|e| L2Error::Open(format!("l2.url: {e}")))?;
                tls = Some(target.connector().map_err(L2Error::Open)?);
                let mut pg = target.config;
                if let Some(password) = config.password.get() {
                    pg.password(password);
                }
                pg.application_name("shadcache")
                    .connect_timeout(CONNECT_TIMEOUT);
                (None, pg, "the PostgreSQL server")
            }
        };
        // The embedded server serves one connection at a time (a second one would hang).
        let size = match config.backend {
            L2Backend::Pglite => 1,
            L2Backend::Postgres => config.pool_size.max(1) as usize,
        };
        let mut clients = Vec::with_capacity(size);
        let mut ends = Vec::with_capacity(size);
        for _ in 0..size {
            let (client, connection) = connect(&pg, tls.as_ref())
                .await
                .map_err(|e| L2Error::Open(format!("cannot connect to {what}: {e}")))?;
            // Driven by a task of its own, so the connection runs whether or not anyone
            // awaits its end.
            let (end_tx, end_rx) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                let reason = match connection.await {
                    Ok(()) => "closed".to_owned(),
                    Err(e) => e.to_string(),
                };
                let _ = end_tx.send(reason);
            });
            clients.push(client);
            ends.push(Box::pin(async move {
                end_rx.await.unwrap_or_else(|_| "dropped".to_owned())
            }));
        }
        // The first connection to end ends the database: the actor reopens the whole pool.
        let end: ConnectionEnd = Box::pin(async move { futures::future::select_all(ends).await.0 });
        // Several daemons may share a server: one migrates at a time, the others then find
        // nothing left to do.
        let first = &clients[0];
        first
            .execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(|e| L2Error::query(&e))?;
        let migrated = migrate::run(first, MigrateAction::Up(None)).await;
        let _ = first
            .execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK])
            .await;
        migrated?;
        let db = Db::prepare(clients, backend, config.acquire_timeout)
            .await
            .map_err(|e| L2Error::query(&e))?;
        Ok((db, end))
    }

    pub async fn prepare(
        clients: Vec<Client>,
        backend: Option<Backend>,
        acquire_timeout: Duration,
    ) -> DbResult<Db> {
        let mut conns = Vec::with_capacity(clients.len());
        for client in clients {
            let statements = Self::statements(&client).await?;
            conns.push(Conn { client, statements });
        }
        Ok(Db {
            permits: Arc::new(Semaphore::new(conns.len() * PIPELINE_DEPTH)),
            conns,
            next: AtomicUsize::new(0),
            acquire_timeout,
            backend,
        })
    }

    /// The connection migrations, liveness checks and advisory locks use.
    pub(super) fn primary(&self) -> &Client {
        &self.conns[0].client
    }

    /// The next connection, in turn.
    fn conn(&self) -> &Conn {
        &self.conns[self.next.fetch_add(1, Relaxed) % self.conns.len()]
    }

    /// A permit to run one query, or how long was waited in vain.
    pub async fn acquire(&self) -> Result<OwnedSemaphorePermit, Duration> {
        let timeout = self.acquire_timeout;
        match tokio::time::timeout(timeout, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(timeout),
        }
    }

    async fn statements(client: &Client) -> DbResult<Statements> {
        Ok(Statements {
            get_many: client
                .prepare(&format!(
                    "SELECT {COLUMNS} FROM entries WHERE key = ANY($1)"
                ))
                .await?,
            // Never replaces a row with one fetched earlier (several daemons may share L2).
            put_many: client
                .prepare(
                    "INSERT INTO entries (key, kind, framework, name, value, size, stored_bytes,
                         created_at, fetched_at, expires_at, last_access, access_count,
                         blob_sha, etag)
                     SELECT t.key, t.kind, t.framework, t.name, t.value, t.size, t.stored,
                         t.created, t.created, t.expires, t.created, 0, t.sha, t.etag
                     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bytea[],
                                 $6::int8[], $7::int8[], $8::int8[], $9::int8[], $10::text[],
                                 $11::text[])
                          AS t(key, kind, framework, name, value, size, stored, created, expires,
                               sha, etag)
                     ON CONFLICT (key) DO UPDATE SET
                         value = EXCLUDED.value, size = EXCLUDED.size,
                         stored_bytes = EXCLUDED.stored_bytes, created_at = EXCLUDED.created_at,
                         fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at,
                         blob_sha = EXCLUDED.blob_sha, etag = EXCLUDED.etag
                     WHERE entries.fetched_at <= EXCLUDED.fetched_at",
                )
                .await?,
            delete_many: client
                .prepare("DELETE FROM entries WHERE key = ANY($1)")
                .await?,
            peek: client
                .prepare(&format!("SELECT {COLUMNS} FROM entries WHERE key = $1"))
                .await?,
            touch: client
                .prepare("UPDATE entries SET expires_at = $2 WHERE key = $1")
                .await?,
            keys: client
                .prepare("SELECT key FROM entries WHERE key LIKE $1 ESCAPE '\\' ORDER BY key")
                .await?,
            accessed: client
                .prepare(
                    "UPDATE entries e SET last_access = GREATEST(e.last_access, t.at),
                         access_count = e.access_count + t.n
                     FROM unnest($1::text[], $2::int8[], $3::int8[]) AS t(key, at, n)
                     WHERE e.key = t.key",
                )
                .await?,
        })
    }

    pub async fn get_many(&self, keys: &[Key]) -> DbResult<Vec<Option<Entry>>> {
        let c = self.conn();
        // The common case, one key, takes the plain primary-key lookup.
        if let [key] = keys {
            let row = c
                .client
                .query_opt(&c.statements.peek, &[&key.as_str()])
                .await?;
            return Ok(vec![row.map(|row| entry(&row))]);
        }
        let wanted: Vec<&str> = keys.iter().map(Key::as_str).collect();
        let rows = c.client.query(&c.statements.get_many, &[&wanted]).await?;
        let mut found: HashMap<String, Entry> =
            rows.iter().map(|row| (row.get(0), entry(row))).collect();
        Ok(keys.iter().map(|k| found.remove(k.as_str())).collect())
    }

    pub async fn put_many(&self, entries: &[(Key, Entry)]) -> DbResult<u64> {
        let c = self.conn();
        // A key twice in one statement is an error in Postgres; the last write wins, as it
        // would have one statement later.
        let mut last: HashMap<&Key, &Entry> = HashMap::new();
        for (key, entry) in entries {
            last.insert(key, entry);
        }
        let n = last.len();
        let (mut keys, mut kinds, mut frameworks, mut names) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut values, mut sizes, mut stored, mut created, mut expires) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut shas, mut etags) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for (key, entry) in last {
            let segments: Vec<&str> = key.segments().collect();
            keys.push(key.as_str());
            kinds.push(segments[0]);
            // `kind:framework:name`; two-segment keys have neither.
            frameworks.push((segments.len() >= 3).then(|| segments[1]));
            names.push((segments.len() >= 3).then(|| segments[segments.len() - 1]));
            values.push(entry.value.as_ref());
            let size = entry.value.len() as i64;
            sizes.push(size);
            stored.push(size + key.as_str().len() as i64 + ROW_OVERHEAD);
            created.push(entry.meta.created_ms as i64);
            expires.push(entry.meta.expires_ms.map(|e| e as i64));
            shas.push(entry.validator.sha.as_deref());
            etags.push(entry.validator.etag.as_deref());
        }
        c.client
            .execute(
                &c.statements.put_many,
                &[
                    &keys,
                    &kinds,
                    &frameworks,
                    &names,
                    &values,
                    &sizes,
                    &stored,
                    &created,
                    &expires,
                    &shas,
                    &etags,
                ],
            )
            .await
    }

    pub async fn delete_many(&self, keys: &[Key]) -> DbResult<u64> {
        let c = self.conn();
        let keys: Vec<&str> = keys.iter().map(Key::as_str).collect();
        c.client.execute(&c.statements.delete_many, &[&keys]).await
    }

    pub async fn peek(&self, key: &Key) -> DbResult<Option<EntryMeta>> {
        let c = self.conn();
        let row = c
            .client
            .query_opt(&c.statements.peek, &[&key.as_str()])
            .await?;
        Ok(row.map(|row| entry(&row).meta))
    }

    pub async fn touch(&self, key: &Key, expires_ms: Option<u64>) -> DbResult<bool> {
        let c = self.conn();
        let expires = expires_ms.map(|e| e as i64);
        let n = c
            .client
            .execute(&c.statements.touch, &[&key.as_str(), &expires])
            .await?;
        Ok(n > 0)
    }

    /// Refresh-ahead's candidates (`Tier::expiring`): read since they were last fetched, at
    /// least `min_reads` times in all.
    pub async fn expiring(
        &self,
        now_ms: u64,
        before_ms: u64,
        min_reads: u64,
        limit: usize,
    ) -> DbResult<Vec<(Key, Entry)>> {
        let c = self.conn();
        let rows = c
            .client
            .query(
                &format!(
                    "SELECT {COLUMNS} FROM entries
                     WHERE expires_at > $1 AND expires_at <= $2 AND access_count >= $3
                       AND last_access >= fetched_at
                     ORDER BY access_count DESC LIMIT $4"
                ),
                &[
                    &(now_ms as i64),
                    &(before_ms as i64),
                    &(min_reads as i64),
                    &(limit as i64),
                ],
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|row| Some((Key::parse(row.get(0)).ok()?, entry(row))))
            .collect())
    }

    pub async fn keys(&self, like: &str) -> DbResult<Vec<Key>> {
        let c = self.conn();
        let rows = c.client.query(&c.statements.keys, &[&like]).await?;
        Ok(rows
            .iter()
            .filter_map(|row| Key::parse(row.get(0)).ok())
            .collect())
    }

    pub async fn clear(&self) -> DbResult<u64> {
        let c = self.conn();
        c.client.execute("DELETE FROM entries", &[]).await
    }

    /// Applies a batch of reads' access tracking in one statement.
    pub async fn accessed(&self, batch: &[(String, i64, i64)]) -> DbResult<u64> {
        let c = self.conn();
        let keys: Vec<&str> = batch.iter().map(|(k, _, _)| k.as_str()).collect();
        let ats: Vec<i64> = batch.iter().map(|(_, at, _)| *at).collect();
        let counts: Vec<i64> = batch.iter().map(|(_, _, n)| *n).collect();
        c.client
            .execute(&c.statements.accessed, &[&keys, &ats, &counts])
            .await
    }

    /// Rows, stored bytes and creation range per kind.
    pub async fn kind_stats(&self) -> DbResult<(Vec<KindStats>, Option<u64>, Option<u64>)> {
        let c = self.conn();
        let rows = c
            .client
            .query(
                "SELECT kind, count(*), coalesce(sum(stored_bytes), 0)::int8,
                        min(created_at), max(created_at)
                 FROM entries GROUP BY kind ORDER BY kind",
                &[],
            )
            .await?;
        let mut oldest: Option<u64> = None;
        let mut newest: Option<u64> = None;
        let kinds = rows
            .iter()
            .map(|row| {
                let min: i64 = row.get(3);
                let max: i64 = row.get(4);
                oldest = Some(oldest.map_or(min as u64, |o| o.min(min as u64)));
                newest = Some(newest.map_or(max as u64, |n| n.max(max as u64)));
                KindStats {
                    kind: row.get(0),
                    rows: row.get::<_, i64>(1) as u64,
                    bytes: row.get::<_, i64>(2) as u64,
                }
            })
            .collect();
        Ok((kinds, oldest, newest))
    }

    /// Deletes rows expired before `stale_before_ms`.
    pub async fn delete_stale(&self, stale_before_ms: u64) -> DbResult<u64> {
        let c = self.conn();
        c.client
            .execute(
                "DELETE FROM entries WHERE expires_at IS NOT NULL AND expires_at < $1",
                &[&(stale_before_ms as i64)],
            )
            .await
    }

    /// Deletes least recently used rows until the stored bytes fit `budget`.
    pub async fn evict_to(&self, budget: u64) -> DbResult<u64> {
        let c = self.conn();
        c.client
            .execute(
                "DELETE FROM entries WHERE key IN (
                     SELECT key FROM (
                         SELECT key, sum(stored_bytes) OVER (ORDER BY last_access DESC, key)
                                AS running
                         FROM entries) ranked
                     WHERE running > $1::int8)",
                &[&(budget as i64)],
            )
            .await
    }

    /// Runs `work` only if no other daemon sharing this database is running maintenance;
    /// `Ok(None)` when another one is.
    pub async fn exclusively<T, F: Future<Output = Result<T, L2Error>>>(
        &self,
        work: F,
    ) -> Result<Option<T>, L2Error> {
        // An advisory lock belongs to a session: take and release it on one connection.
        let primary = self.primary();
        let got: bool = primary
            .query_one("SELECT pg_try_advisory_lock($1)", &[&MAINTENANCE_LOCK])
            .await
            .map_err(|e| L2Error::query(&e))?
            .get(0);
        if !got {
            return Ok(None);
        }
        let result = work.await;
        let _ = primary
            .execute("SELECT pg_advisory_unlock($1)", &[&MAINTENANCE_LOCK])
            .await;
        result.map(Some)
    }

    /// Waits for the connection to end, then stops the embedded server (if any).
    pub async fn close(mut self) {
        let backend = self.backend.take();
        drop(self);
        if let Some(backend) = backend {
            backend.close().await;
            tracing::info!("L2 database closed");
        }
    }
}

fn entry(row: &Row) -> Entry {
    let value: Vec<u8> = row.get(1);
    Entry {
        value: Bytes::from(value),
        meta: EntryMeta {
            size: row.get::<_, i64>(2) as u64,
            created_ms: row.get::<_, i64>(3) as u64,
            expires_ms: row.get::<_, Option<i64>>(4).map(|e| e as u64),
            last_access_ms: row.get::<_, i64>(5) as u64,
            access_count: row.get::<_, i64>(6) as u64,
        },
        validator: Validator {
            sha: row.get::<_, Option<&str>>(7).map(Into::into),
            etag: row.get::<_, Option<&str>>(8).map(Into::into),
        },
    }
}
