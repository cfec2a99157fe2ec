//! L2 through the real binary: persistence across `kill -9`, a crash loop under write load,
//! and the data dirs that cannot be used (locked, unusable) leaving the daemon serving.

use std::os::fd::AsRawFd;
use std::time::Duration;

use bytes::Bytes;
use shadcache::protocol::{Ack, Request, Response, TierName};

use crate::harness::{TEST_CONFIG, TestDaemon};
use crate::runner::tests;

tests![
    every_kind_survives_kill_9_and_is_served_from_l2,
    kill_9_during_writes_loses_no_acknowledged_write,
    a_locked_data_dir_leaves_the_daemon_serving_and_l2_opens_when_freed,
    an_unusable_data_dir_leaves_the_daemon_serving_from_memory,
    migrate_and_maintenance_work_with_and_without_a_daemon,
    a_corrupt_data_dir_leaves_the_daemon_serving_and_says_why,
];

async fn l2_state(d: &TestDaemon) -> String {
    match d.request(Request::Stats).await {
        Response::Stats(stats) => stats
            .tiers
            .iter()
            .find(|t| t.tier == TierName::Database)
            .map(|t| t.state.clone())
            .unwrap_or_default(),
        other => panic!("{other:?}"),
    }
}

/// With L2 unusable, a write is held in memory (and says so) and reads still answer.
async fn serves_from_memory(d: &TestDaemon) {
    let set = Request::Set {
        key: "a:b".into(),
        value: Bytes::from_static(b"v"),
        ttl: None,
    };
    assert_eq!(d.request(set).await, Response::Stored(Ack::Memory));
    assert!(matches!(
        d.request(Request::Get { key: "a:b".into() }).await,
        Response::Value(Some(_))
    ));
}

const KINDS: &[&str] = &[
    "component:react:button",
    "demo:svelte:card",
    "metadata:vue:dialog",
    "block:react:dashboard-01",
    "list:react-base:components",
    "list:react:blocks",
    "tree:react-native",
    "metadata:notes",
    "notes:anything",
];

async fn every_kind_survives_kill_9_and_is_served_from_l2() {
    let d = TestDaemon::start();
    d.wait_l2_up().await;
    let mut client = d.client().await;
    for key in KINDS {
        let set = Request::Set {
            key: key.to_string(),
            value: Bytes::from(format!("value of {key}")),
            ttl: None,
        };
        assert_eq!(
            client.request(&set).await.unwrap(),
            Response::Stored(Ack::Stored)
        );
    }
    drop(client);
    let mut d = d;
    d.kill_and_restart();
    d.wait_l2_up().await;
    for key in KINDS {
        match d
            .request(Request::Get {
                key: key.to_string(),
            })
            .await
        {
            Response::Value(Some(found)) => {
                assert_eq!(found.value, Bytes::from(format!("value of {key}")));
                assert_eq!(found.info.tier, TierName::Database, "{key}");
            }
            other => panic!("{key}: {other:?}"),
        }
    }
    let stats = d.stats().await;
    let l2 = stats
        .tiers
        .iter()
        .find(|t| t.tier == TierName::Database)
        .unwrap();
    assert_eq!(l2.entries, KINDS.len() as u64);
    assert!(l2.kinds.iter().any(|k| k.kind == "block" && k.rows == 1));
}

/// Kills the daemon at random points of a write load; every write answered `Stored` must be
/// there after each restart. `SHADCACHE_CRASH_ROUNDS` runs a longer loop (default 3).
async fn kill_9_during_writes_loses_no_acknowledged_write() {
    let rounds: usize = std::env::var("SHADCACHE_CRASH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let mut d = TestDaemon::start();
    let mut acknowledged: Vec<String> = Vec::new();
    let mut rng = crate::crash::Rng::new(0x2545_f491_4f6c_dd1d);
    for round in 0..rounds {
        d.wait_l2_up().await;
        let kill_after = Duration::from_millis(50 + rng.below(400));
        let socket = d.socket.clone();
        let writer = tokio::spawn(async move {
            let mut acked = Vec::new();
            let Ok(mut client) =
                shadcache::client::Client::connect(&socket, Duration::from_secs(5)).await
            else {
                return acked;
            };
            for i in 0.. {
                let key = format!("crash:r{round}:k{i}");
                let set = Request::Set {
                    key: key.clone(),
                    value: Bytes::from(key.clone().into_bytes()),
                    ttl: None,
                };
                match client.request(&set).await {
                    Ok(Response::Stored(Ack::Stored)) => acked.push(key),
                    Ok(Response::Stored(_)) => {}
                    _ => break,
                }
            }
            acked
        });
        tokio::time::sleep(kill_after).await;
        d.kill_and_restart();
        let acked = writer.await.unwrap();
        assert!(
            !acked.is_empty(),
            "round {round}: no write was acknowledged"
        );
        acknowledged.extend(acked);
        d.wait_l2_up().await;
        let mut client = d.client().await;
        for chunk in acknowledged.chunks(500) {
            let Response::Values(values) = client
                .request(&Request::MGet {
                    keys: chunk.to_vec(),
                })
                .await
                .unwrap()
            else {
                panic!("not values");
            };
            for (key, value) in chunk.iter().zip(values) {
                let found = value.unwrap_or_else(|| panic!("round {round}: lost {key}"));
                assert_eq!(found.value, Bytes::from(key.clone().into_bytes()));
            }
        }
    }
    eprintln!(
        "{} acknowledged writes over {rounds} kill -9 rounds, none lost",
        acknowledged.len()
    );
}

async fn a_locked_data_dir_leaves_the_daemon_serving_and_l2_opens_when_freed() {
    let d = TestDaemon::prepare(&format!("{TEST_CONFIG}\n[l2]\nopen_wait = \"300ms\"\n"));
    // Another process holds the embedded database's own lock.
    let root = d.data_dir.join("pglite");
    std::fs::create_dir_all(&root).unwrap();
    let holder = std::fs::File::create(root.join(".pglite-oxide.lock")).unwrap();
    // SAFETY: flock on a descriptor we own.
    assert_eq!(unsafe { libc::flock(holder.as_raw_fd(), libc::LOCK_EX) }, 0);
    let mut command = d.daemon_command();
    let d = d.spawn(&mut command);

    assert_eq!(d.request(Request::Ping).await, Response::Pong);
    d.wait_for_log("L2 database could not be opened");
    assert!(
        l2_state(&d).await.contains("already in use"),
        "{}",
        l2_state(&d).await
    );
    let set = Request::Set {
        key: "component:react:button".into(),
        value: Bytes::from_static(b"v"),
        ttl: None,
    };
    assert_eq!(d.request(set.clone()).await, Response::Stored(Ack::Memory));

    drop(holder);
    d.wait_l2_up().await;
    assert_eq!(d.request(set).await, Response::Stored(Ack::Stored));
}

async fn an_unusable_data_dir_leaves_the_daemon_serving_from_memory() {
    let d = TestDaemon::prepare(TEST_CONFIG);
    // The data dir's parent is a regular file: nothing can be created there, even by root.
    let blocker = d.dir.path().join("blocker");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let mut command = d.daemon_command_with(&d.socket, &blocker.join("data"));
    let d = d.spawn(&mut command);
    serves_from_memory(&d).await;
    let state = l2_state(&d).await;
    assert!(
        state.contains("data dir") || state.contains("Not a directory"),
        "{state}"
    );
    assert!(d.log_text().contains("L2 will retry"), "{}", d.log_text());
}

fn migrate_and_maintenance_work_with_and_without_a_daemon() {
    let d = TestDaemon::prepare(TEST_CONFIG);
    let data_dir = d.data_dir.to_str().unwrap().to_owned();
    let offline = |args: &[&str]| {
        let mut command = crate::harness::base_command(crate::harness::BIN);
        command
            .arg("--socket")
            .arg(&d.socket)
            .arg("--config")
            .arg(&d.config)
            .args(args)
            .env("SHADCACHE_DATA_DIR", &data_dir);
        command.output().unwrap()
    };
    let out = offline(&["migrate", "status"]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("0001 entries") && text.contains("applied"),
        "{text}"
    );
    let out = offline(&["maintenance"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("deleted 0 stale"));

    let mut command = d.daemon_command();
    let d = d.spawn(&mut command);
    let out = d.cli(&["migrate", "status"], None);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("applied"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("directly"));
}

async fn a_corrupt_data_dir_leaves_the_daemon_serving_and_says_why() {
    let mut d = TestDaemon::start();
    d.wait_l2_up().await;
    d.signal(libc::SIGTERM);
    assert_eq!(d.wait_exit(Duration::from_secs(15)).code(), Some(0));
    let control = d.data_dir.join("pglite/tmp/pglite/base/global/pg_control");
    assert!(
        control.exists(),
        "pglite's layout changed: {}",
        control.display()
    );
    std::fs::write(&control, vec![0xA5u8; 8192]).unwrap();

    let mut command = d.daemon_command();
    d = d.spawn(&mut command);
    d.wait_for_log("L2 database could not be opened");
    let state = l2_state(&d).await;
    assert!(state.contains("could not start"), "{state}");
    serves_from_memory(&d).await;
}
