//! L2 on a real PostgreSQL server shared by several daemons (`l2.backend = "postgres"`).
//! The server comes from `SHADCACHE_TEST_POSTGRES_URL` (a key=value connection string without
//! a dbname; `.ci/run` starts a throwaway cluster and sets it); each test makes a database of
//! its own. `SHADCACHE_TEST_POSTGRES_RESTART` is a shell command that restarts that server.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use shadcache::protocol::{Ack, Request, Response, TierName};
use shadcache::testkit::fixtures::dir as fixtures;
use shadcache::testkit::origin::FakeOrigin;

use crate::harness::TestDaemon;
use crate::runner::tests;

tests![
    two_daemons_share_one_l2_and_ask_github_once: Postgres,
    a_server_restart_loses_no_acknowledged_write: Postgres + PostgresRestart,
    a_stuck_server_fills_the_pool_and_later_reads_time_out: Postgres,
    an_older_write_never_replaces_a_newer_row: Postgres,
];

/// One test at a time on the server: one of them restarts it.
pub static SERVER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn server() -> String {
    std::env::var("SHADCACHE_TEST_POSTGRES_URL").expect("the runner checked it is set")
}

/// A new, empty database on the server; returns its connection string.
pub async fn fresh_database(server: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "shadcache_it_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let (client, connection) =
        tokio_postgres::connect(&format!("{server} dbname=postgres"), tokio_postgres::NoTls)
            .await
            .expect("connect to the test server");
    tokio::spawn(connection);
    // One statement each: several in one string would run as one transaction block.
    for statement in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("CREATE DATABASE {name}"),
    ] {
        client.batch_execute(&statement).await.unwrap();
    }
    format!("{server} dbname={name}")
}

pub async fn sql(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
}

fn config(url: &str, github: &str) -> String {
    format!(
        "{github}\n[l2]\nbackend = \"postgres\"\nurl = \"{url}\"\nopen_wait = \"500ms\"\n\n\
         [daemon]\nframe_timeout = \"1s\"\nlog_level = \"debug\"\n"
    )
}

async fn two_daemons_share_one_l2_and_ask_github_once() {
    let server = server();
    let _one_at_a_time = SERVER.lock().await;
    let dir = fixtures();
    let origin = FakeOrigin::with_fixtures(&dir).await.unwrap();
    let url = fresh_database(&server).await;
    let github = origin.github_section();
    let a = TestDaemon::start_with(&config(&url, &github));
    let b = TestDaemon::start_with(&config(&url, &github));
    a.wait_l2_up().await;
    b.wait_l2_up().await;
    let get = Request::Get {
        key: "component:react:button".into(),
    };
    match a.request(get.clone()).await {
        Response::Value(Some(found)) => assert_eq!(found.info.tier, TierName::Github),
        other => panic!("{other:?}"),
    }
    // Read-through stores just after answering: wait for the row.
    let db = sql(&url).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while db
        .query_opt(
            "SELECT 1 FROM entries WHERE key = 'component:react:button'",
            &[],
        )
        .await
        .unwrap()
        .is_none()
    {
        assert!(Instant::now() < deadline, "daemon A never stored the value");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = origin.totals();
    match b.request(get).await {
        Response::Value(Some(found)) => {
            assert_eq!(found.info.tier, TierName::Database);
            let expected = std::fs::read(dir.join(
                "raw.githubusercontent.com/shadcn-ui/ui/main/apps/v4/registry/new-york-v4/ui/button.tsx",
            ))
            .unwrap();
            assert_eq!(found.value.as_ref(), expected.as_slice());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(origin.totals(), before, "daemon B asked GitHub");
    // Both ran the migrations on start; the advisory lock made one of them find them done.
    let applied: i64 = db
        .query_one("SELECT count(*) FROM schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, 1);

    // Emptying a team's cache takes saying so.
    let refused = b.cli(&["clear"], None);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("clear --shared"));
    let count = async || -> i64 {
        db.query_one("SELECT count(*) FROM entries", &[])
            .await
            .unwrap()
            .get(0)
    };
    assert!(count().await > 0);
    assert!(b.cli(&["clear", "--shared"], None).status.success());
    assert_eq!(count().await, 0);
}

async fn a_server_restart_loses_no_acknowledged_write() {
    let server = server();
    let _one_at_a_time = SERVER.lock().await;
    let restart = std::env::var("SHADCACHE_TEST_POSTGRES_RESTART").unwrap();
    let url = fresh_database(&server).await;
    let github = "[github]\nenabled = false\n";
    let daemons = [
        TestDaemon::start_with(&config(&url, github)),
        TestDaemon::start_with(&config(&url, github)),
    ];
    for d in &daemons {
        d.wait_l2_up().await;
    }
    // Writes go on past WRITES until each daemon has stored 10 after the restart: how soon
    // a daemon reconnects depends on how long the server takes to come back (its back-off
    // is 1 s, then 2 s, ...), which a loaded machine stretches.
    const WRITES: usize = 150;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut stored: Vec<(String, String)> = Vec::new();
    let mut stored_after = [0usize; 2];
    let mut memory_only = 0;
    for i in 0.. {
        if i >= WRITES && stored_after.iter().all(|n| *n >= 10) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not back on L2 a minute after the restart: {stored_after:?} stored since"
        );
        if i == WRITES / 3 {
            let status = std::process::Command::new("sh")
                .args(["-c", &restart])
                .status()
                .unwrap();
            assert!(status.success(), "the restart command failed");
        }
        for (n, d) in daemons.iter().enumerate() {
            let key = format!("note:{n}-{i}");
            let value = format!("value {n} {i}");
            let set = Request::Set {
                key: key.clone(),
                value: Bytes::from(value.clone()),
                ttl: None,
            };
            match d.request(set).await {
                Response::Stored(Ack::Stored) => {
                    stored.push((key, value));
                    if i > WRITES / 3 {
                        stored_after[n] += 1;
                    }
                }
                Response::Stored(Ack::Memory) => memory_only += 1,
                other => panic!("{key}: {other:?}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Both daemons came back to L2 and kept serving.
    for d in &daemons {
        d.wait_l2_up().await;
        assert_eq!(d.request(Request::Ping).await, Response::Pong);
    }
    let db = sql(&url).await;
    for (key, value) in &stored {
        let row = db
            .query_opt("SELECT value FROM entries WHERE key = $1", &[key])
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{key} was acknowledged Stored and is gone"));
        assert_eq!(row.get::<_, Vec<u8>>(0), value.as_bytes(), "{key}");
    }
    eprintln!(
        "restart: {} writes acknowledged Stored, all in the server; {memory_only} held in memory only while it was down",
        stored.len()
    );
}

/// The pool is bounded: with the server stuck (a lock the test holds), queries beyond what
/// the pool admits wait `l2.acquire_timeout` and fail, and the daemon answers without L2
/// instead of queueing without end.
async fn a_stuck_server_fills_the_pool_and_later_reads_time_out() {
    let server = server();
    let _one_at_a_time = SERVER.lock().await;
    let url = fresh_database(&server).await;
    let d = TestDaemon::start_with(&format!(
        "[github]\nenabled = false\n\n[l2]\nbackend = \"postgres\"\nurl = \"{url}\"\n\
         pool_size = 1\nacquire_timeout = \"200ms\"\n\n\
         [daemon]\nframe_timeout = \"1s\"\nlog_level = \"debug\"\nrequest_timeout = \"5s\"\n"
    ));
    d.wait_l2_up().await;
    let mut locker = sql(&url).await;
    let lock = locker.transaction().await.unwrap();
    lock.batch_execute("LOCK TABLE entries IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    // One connection admits 16 queries in flight; 24 readers of keys L1 does not have.
    let mut clients = Vec::new();
    for _ in 0..24 {
        clients.push(d.client().await);
    }
    let reads = clients.iter_mut().enumerate().map(|(i, c)| async move {
        c.request(&Request::Get {
            key: format!("note:{i}"),
        })
        .await
        .unwrap()
    });
    let started = Instant::now();
    let answers = futures::future::join_all(reads);
    // Let the waiting ones time out, then free the server.
    let release = async {
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        lock.rollback().await.unwrap();
    };
    let (answers, ()) = tokio::join!(answers, release);
    assert!(
        answers.iter().all(|a| *a == Response::Value(None)),
        "{answers:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        d.log_text().contains("connections are all busy"),
        "no read waited for the pool in vain:\n{}",
        d.log_text()
    );
}

/// Several writers: a write never replaces a row fetched later than it (say by another
/// daemon whose fetch finished after this one started).
async fn an_older_write_never_replaces_a_newer_row() {
    let server = server();
    let _one_at_a_time = SERVER.lock().await;
    let url = fresh_database(&server).await;
    let d = TestDaemon::start_with(&config(&url, "[github]\nenabled = false\n"));
    d.wait_l2_up().await;
    let db = sql(&url).await;
    let later = shadcache::tier::unix_ms() as i64 + 3_600_000;
    db.execute(
        "INSERT INTO entries (key, kind, value, size, stored_bytes, created_at, fetched_at,
             last_access) VALUES ('note:shared', 'note', 'newer', 5, 200, $1, $1, $1)",
        &[&later],
    )
    .await
    .unwrap();
    let set = Request::Set {
        key: "note:shared".into(),
        value: Bytes::from_static(b"older"),
        ttl: None,
    };
    assert_eq!(d.request(set).await, Response::Stored(Ack::Stored));
    let value: Vec<u8> = db
        .query_one("SELECT value FROM entries WHERE key = 'note:shared'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(value, b"newer");
}
