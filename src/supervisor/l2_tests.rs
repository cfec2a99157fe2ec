//! The tree with L2 on a real embedded database in a temporary directory: supervision and
//! reopening, stale copies, maintenance and migrations, through the router as the daemon uses
//! them.

use std::time::Duration;

use bytes::Bytes;

use super::Actors;
use crate::config::{Config, Overrides, load};
use crate::database::MigrateAction;
use crate::key::Key;
use crate::protocol::{Response, StaleReason, TierName};
use crate::router::Command;
use crate::tier::{Entry, Tier, unix_ms};

fn config(dir: &std::path::Path) -> Config {
    let overrides = Overrides {
        config: Some("/nonexistent/shadcache.toml".into()),
        socket: Some(dir.join("unused.sock")),
        data_dir: Some(dir.join("data")),
    };
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    let mut config = load(&overrides, [("HOME".to_string(), home)])
        .unwrap()
        .config;
    // These tests are about L2; nothing may reach the internet.
    config.github.enabled = false;
    config
}

async fn wait_until_open(actors: &Actors) {
    let db = actors.database.as_ref().unwrap();
    for _ in 0..600 {
        if db.stats().await.is_ok_and(|s| s.state == "up") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("L2 never opened: {:?}", db.stats().await);
}

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn set(k: &str, v: &'static str, ttl: Option<Duration>) -> Command {
    Command::Set {
        key: key(k),
        value: Bytes::from_static(v.as_bytes()),
        ttl,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_panicked_l2_is_restarted_and_reopens_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let actors = Actors::start(&config(dir.path()), None).await.unwrap();
    wait_until_open(&actors).await;
    assert_eq!(
        actors
            .router
            .execute(set("component:react:button", "src", None))
            .await,
        Response::Stored(crate::protocol::Ack::Stored)
    );
    actors.database.as_ref().unwrap().inject_panic();
    for _ in 0..200 {
        let restarts = actors.supervisor.restarts().await;
        if restarts.iter().any(|(n, c)| n == "database" && *c == 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    wait_until_open(&actors).await;
    actors.memory.clear().await.unwrap();
    match actors
        .router
        .execute(Command::Get(key("component:react:button")))
        .await
    {
        Response::Value(Some(found)) => {
            assert_eq!(found.info.tier, TierName::Database);
            assert_eq!(found.value, Bytes::from_static(b"src"));
        }
        other => panic!("{other:?}"),
    }
    actors.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_rows_are_kept_and_served_as_stale() {
    let dir = tempfile::tempdir().unwrap();
    let actors = Actors::start(&config(dir.path()), None).await.unwrap();
    wait_until_open(&actors).await;
    actors
        .router
        .execute(set(
            "list:react:components",
            "old list",
            Some(Duration::from_millis(30)),
        ))
        .await;
    tokio::time::sleep(Duration::from_millis(60)).await;
    // L1 drops its expired copy on read; L2 still has one and says it is stale: with GitHub
    // off, there is nothing to refresh it from.
    for _ in 0..2 {
        match actors
            .router
            .execute(Command::Get(key("list:react:components")))
            .await
        {
            Response::Value(Some(found)) => {
                assert_eq!(found.info.stale, Some(StaleReason::NoUpstream));
                assert_eq!(found.info.tier, TierName::Database);
                assert_eq!(found.info.ttl_remaining, Some(Duration::ZERO));
            }
            other => panic!("{other:?}"),
        }
    }
    // Counters arrive after the answers; give them a moment.
    let mut counted = 0;
    for _ in 0..100 {
        let Response::Stats(stats) = actors.router.execute(Command::Stats).await else {
            panic!("no stats");
        };
        counted = stats.router.stale_answers.iter().map(|(_, n)| n).sum();
        if counted == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(counted, 2);
    actors.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn maintenance_deletes_long_stale_rows_and_evicts_to_the_budget() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.l2.max_bytes = crate::config::ByteSize(20 * 1024);
    config.l2.stale_limit = Duration::from_millis(1);
    let actors = Actors::start(&config, None).await.unwrap();
    wait_until_open(&actors).await;
    let db = actors.database.as_ref().unwrap();
    let now = unix_ms();
    let value = Bytes::from(vec![b'x'; 1000]);
    let mut entries: Vec<(Key, Entry)> = (0..40)
        .map(|i| {
            (
                key(&format!("demo:react:d{i}")),
                Entry::new(value.clone(), now, None),
            )
        })
        .collect();
    entries.extend((0..5).map(|i| {
        (
            key(&format!("tree:old{i}")),
            Entry::new(value.clone(), now - 10_000, Some(now - 5_000)),
        )
    }));
    db.put_many(entries).await.unwrap();
    let report = db.maintenance().await.unwrap();
    assert_eq!(report.stale_deleted, 5, "{report:?}");
    assert!(report.evicted > 0, "{report:?}");
    assert!(report.bytes <= 20 * 1024, "{report:?}");
    assert_eq!(report.rows, 40 - report.evicted);
    actors.shutdown(Duration::from_secs(5)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn migrations_go_down_and_up_again() {
    let dir = tempfile::tempdir().unwrap();
    let actors = Actors::start(&config(dir.path()), None).await.unwrap();
    wait_until_open(&actors).await;
    let db = actors.database.as_ref().unwrap();
    let status = db.migrate(MigrateAction::Status).await.unwrap();
    assert!(status.iter().all(|m| m.applied_ms.is_some()), "{status:?}");
    let down = db.migrate(MigrateAction::Down(1)).await.unwrap();
    assert!(down.last().unwrap().applied_ms.is_none(), "{down:?}");
    // With the table gone, L2 answers errors and the router still answers from L1.
    assert!(matches!(
        actors.router.execute(set("a:b", "v", None)).await,
        Response::Stored(crate::protocol::Ack::Memory)
    ));
    let up = db.migrate(MigrateAction::Up(None)).await.unwrap();
    assert!(up.iter().all(|m| m.applied_ms.is_some()), "{up:?}");
    assert!(matches!(
        actors.router.execute(set("a:b", "v", None)).await,
        Response::Stored(crate::protocol::Ack::Stored)
    ));
    actors.shutdown(Duration::from_secs(5)).await;
}
