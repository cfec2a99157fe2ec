//! The two ways to own the embedded database, measured on shadcache's own L2 queries:
//! (a) the direct `Pglite` API on a dedicated OS thread, fed jobs over a channel;
//! (b) `PgliteServer` on a private Unix socket with one long-lived tokio-postgres connection
//! and prepared statements. Run: `cargo run --release --example l2_paths`.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use pglite_oxide::{Pglite, PgliteServer};
use serde_json::json;

const ROWS: usize = 2_000;
const READS: usize = 5_000;
const VALUE: usize = 2_300;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY, value BYTEA NOT NULL, created_at BIGINT NOT NULL,
    expires_at BIGINT, last_access BIGINT NOT NULL, access_count BIGINT NOT NULL DEFAULT 0)";
const UPSERT: &str = "INSERT INTO entries (key, value, created_at, expires_at, last_access)
    VALUES ($1, $2, $3, $4, $3) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value,
    created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at";
const SELECT: &str = "SELECT value, created_at, expires_at, last_access, access_count
    FROM entries WHERE key = $1";
const SELECT_MANY: &str = "SELECT key, value FROM entries WHERE key = ANY($1)";
const TOUCH_ONE: &str =
    "UPDATE entries SET last_access = $2, access_count = access_count + 1 WHERE key = $1";
const TOUCH_BATCH: &str =
    "UPDATE entries e SET last_access = t.at, access_count = e.access_count + t.n
    FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS t(key, at, n) WHERE e.key = t.key";

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    let total: Duration = samples.iter().sum();
    println!(
        "| {name} | {:.0} | {:.0} | {:.0} |",
        pct(0.5).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        samples.len() as f64 / total.as_secs_f64()
    );
}

fn key(i: usize) -> String {
    format!("component:react:c{i}")
}

fn direct(dir: &std::path::Path) {
    let (tx, rx) = mpsc::channel::<Box<dyn FnOnce(&mut Pglite) + Send>>();
    let path = dir.to_owned();
    let owner = std::thread::spawn(move || {
        let started = Instant::now();
        let mut db = Pglite::builder()
            .path(path)
            .postgres_config("shared_buffers", "16MB")
            .open()
            .unwrap();
        println!("(a) open: {:.0} ms", started.elapsed().as_secs_f64() * 1e3);
        db.exec(SCHEMA, None).unwrap();
        for job in rx {
            job(&mut db);
        }
        db.close().unwrap();
    });
    // Every job goes through the channel and back, as an actor fronting the thread would.
    let run = |job: Box<dyn FnOnce(&mut Pglite) + Send>| {
        let (done_tx, done_rx) = mpsc::channel();
        let started = Instant::now();
        tx.send(Box::new(move |db: &mut Pglite| {
            job(db);
            done_tx.send(()).unwrap();
        }))
        .unwrap();
        done_rx.recv().unwrap();
        started.elapsed()
    };
    let value: Vec<u8> = vec![b'x'; VALUE];
    let upserts: Vec<Duration> = (0..ROWS)
        .map(|i| {
            let value = value.clone();
            run(Box::new(move |db| {
                db.query(
                    UPSERT,
                    &[json!(key(i)), json!(value), json!(1_i64), json!(2_i64)],
                    None,
                )
                .unwrap();
            }))
        })
        .collect();
    report("(a) upsert", upserts);
    let selects: Vec<Duration> = (0..READS)
        .map(|i| {
            run(Box::new(move |db| {
                let r = db.query(SELECT, &[json!(key(i % ROWS))], None).unwrap();
                assert_eq!(r.rows.len(), 1);
            }))
        })
        .collect();
    report("(a) point select", selects);
    let many: Vec<Duration> = (0..200)
        .map(|i| {
            let keys: Vec<String> = (0..50).map(|j| key((i * 50 + j) % ROWS)).collect();
            run(Box::new(move |db| {
                let r = db.query(SELECT_MANY, &[json!(keys)], None).unwrap();
                assert_eq!(r.rows.len(), 50);
            }))
        })
        .collect();
    report("(a) select 50 keys", many);
    let touches: Vec<Duration> = (0..READS)
        .map(|i| {
            run(Box::new(move |db| {
                db.query(TOUCH_ONE, &[json!(key(i % ROWS)), json!(3_i64)], None)
                    .unwrap();
            }))
        })
        .collect();
    report("(a) access update, one per read", touches);
    drop(tx);
    owner.join().unwrap();
}

async fn server(dir: &std::path::Path) {
    let socket_dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let path = dir.to_owned();
    let socket = socket_dir.path().join(".s.PGSQL.5432");
    let server = tokio::task::spawn_blocking(move || {
        PgliteServer::builder()
            .path(path)
            .unix(socket)
            .postgres_config("shared_buffers", "16MB")
            .start()
            .unwrap()
    })
    .await
    .unwrap();
    let mut config = tokio_postgres::Config::new();
    config
        .host_path(socket_dir.path())
        .port(5432)
        .user("postgres")
        .dbname("template1");
    let (client, connection) = config.connect(tokio_postgres::NoTls).await.unwrap();
    let conn = tokio::spawn(connection);
    println!(
        "(b) open + connect: {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );
    client.batch_execute(SCHEMA).await.unwrap();
    let upsert = client.prepare(UPSERT).await.unwrap();
    let select = client.prepare(SELECT).await.unwrap();
    let select_many = client.prepare(SELECT_MANY).await.unwrap();
    let touch_one = client.prepare(TOUCH_ONE).await.unwrap();
    let touch_batch = client.prepare(TOUCH_BATCH).await.unwrap();
    let value: Vec<u8> = vec![b'x'; VALUE];
    let mut samples = Vec::new();
    for i in 0..ROWS {
        let t = Instant::now();
        client
            .execute(&upsert, &[&key(i), &value, &1_i64, &2_i64])
            .await
            .unwrap();
        samples.push(t.elapsed());
    }
    report("(b) upsert", std::mem::take(&mut samples));
    for i in 0..READS {
        let t = Instant::now();
        let row = client.query_one(&select, &[&key(i % ROWS)]).await.unwrap();
        let _: Vec<u8> = row.get(0);
        samples.push(t.elapsed());
    }
    report("(b) point select", std::mem::take(&mut samples));
    for i in 0..200 {
        let keys: Vec<String> = (0..50).map(|j| key((i * 50 + j) % ROWS)).collect();
        let t = Instant::now();
        let rows = client.query(&select_many, &[&keys]).await.unwrap();
        assert_eq!(rows.len(), 50);
        samples.push(t.elapsed());
    }
    report("(b) select 50 keys", std::mem::take(&mut samples));
    for i in 0..READS {
        let t = Instant::now();
        client
            .execute(&touch_one, &[&key(i % ROWS), &3_i64])
            .await
            .unwrap();
        samples.push(t.elapsed());
    }
    report(
        "(b) access update, one per read",
        std::mem::take(&mut samples),
    );
    // Batched: 100 reads' worth of access updates in one statement, cost per read.
    for i in 0..(READS / 100) {
        let keys: Vec<String> = (0..100).map(|j| key((i * 100 + j) % ROWS)).collect();
        let ats = vec![4_i64; 100];
        let ns = vec![1_i64; 100];
        let t = Instant::now();
        client
            .execute(&touch_batch, &[&keys, &ats, &ns])
            .await
            .unwrap();
        samples.push(t.elapsed() / 100);
    }
    report(
        "(b) access update, batched 100, per read",
        std::mem::take(&mut samples),
    );
    // Pipelined: 8 concurrent point selects on the one connection.
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let client = &client;
        let select = &select;
        tasks.push(async move {
            for i in 0..(READS / 8) {
                client
                    .query_one(select, &[&key((w * 997 + i) % ROWS)])
                    .await
                    .unwrap();
            }
        });
    }
    futures::future::join_all(tasks).await;
    println!(
        "(b) 8 pipelining tasks: {:.0} selects/s",
        READS as f64 / t.elapsed().as_secs_f64()
    );
    drop(client);
    let _ = conn.await;
    tokio::task::spawn_blocking(move || server.shutdown().unwrap())
        .await
        .unwrap();
}

#[tokio::main]
async fn main() {
    println!("{ROWS} rows of {VALUE} bytes; {READS} reads; median / p99 in µs, ops/s");
    println!("| operation | p50 µs | p99 µs | ops/s |\n|---|---|---|---|");
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    tokio::task::block_in_place(|| direct(a.path()));
    server(b.path()).await;
}
