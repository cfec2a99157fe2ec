//! Supervision: a child that panics is restarted and the handles given out before keep
//! working; past the restart limit the tree gives up with a reason.

use std::time::Duration;

use bytes::Bytes;

use super::Actors;
use crate::config::{Config, Overrides, load};
use crate::key::Key;
use crate::protocol::Response;
use crate::router::Command;

fn config(restart_limit: u64) -> Config {
    let overrides = Overrides {
        config: Some("/nonexistent/shadcache.toml".into()),
        socket: Some("/tmp/unused.sock".into()),
        data_dir: Some("/tmp/unused".into()),
    };
    let mut config = load(&overrides, [("HOME".to_string(), "/tmp".to_string())])
        .unwrap()
        .config;
    config.daemon.restart_limit = restart_limit;
    config.l2.enabled = false;
    config.github.enabled = false;
    config
}

fn set(key: &str, value: &'static str) -> Command {
    Command::Set {
        key: Key::parse(key).unwrap(),
        value: Bytes::from_static(value.as_bytes()),
        ttl: None,
    }
}

async fn wait_for_restarts(actors: &Actors, name: &str, count: u64) {
    for _ in 0..500 {
        let restarts = actors.supervisor.restarts().await;
        if restarts.iter().any(|(n, c)| n == name && *c >= count) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{name} was not restarted {count} time(s)");
}

#[tokio::test]
async fn memory_tier_panic_is_restarted_and_requests_keep_working() {
    let actors = Actors::start(&config(5), None).await.unwrap();
    let router = actors.router.clone();
    assert!(matches!(
        router.execute(set("a:before", "1")).await,
        Response::Stored(_)
    ));

    actors.memory.inject_panic();
    wait_for_restarts(&actors, "memory", 1).await;

    // L1's contents went with the panicked actor; the service did not.
    let get = |k: &str| Command::Get(Key::parse(k).unwrap());
    assert_eq!(router.execute(get("a:before")).await, Response::Value(None));
    assert!(matches!(
        router.execute(set("a:after", "2")).await,
        Response::Stored(_)
    ));
    match router.execute(get("a:after")).await {
        Response::Value(Some(found)) => assert_eq!(found.value, Bytes::from_static(b"2")),
        other => panic!("unexpected {other:?}"),
    }
    actors.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn router_panic_is_restarted_and_keeps_l1() {
    let actors = Actors::start(&config(5), None).await.unwrap();
    let router = actors.router.clone();
    router.execute(set("a:kept", "v")).await;
    router.inject_panic();
    wait_for_restarts(&actors, "router", 1).await;
    // A get of a fresh L1 entry is answered by the handle alone (the fast path): it shows L1
    // kept its data, not that the router is back.
    assert!(matches!(
        router
            .execute(Command::Get(Key::parse("a:kept").unwrap()))
            .await,
        Response::Value(Some(_))
    ));
    // These go through the restarted router actor itself.
    assert!(matches!(
        router.execute(set("b:after", "w")).await,
        Response::Stored(_)
    ));
    assert!(matches!(
        router
            .execute(Command::Has(Key::parse("a:kept").unwrap()))
            .await,
        Response::Has(true)
    ));
    assert!(matches!(
        router
            .execute(Command::Get(Key::parse("a:absent").unwrap()))
            .await,
        Response::Value(None)
    ));
    assert_eq!(router.execute(Command::Ping).await, Response::Pong);
    actors.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test]
async fn too_many_restarts_give_up_with_a_reason() {
    let actors = Actors::start(&config(2), None).await.unwrap();
    for round in 1..=2 {
        actors.memory.inject_panic();
        wait_for_restarts(&actors, "memory", round).await;
    }
    actors.memory.inject_panic();
    let reason = tokio::time::timeout(Duration::from_secs(10), actors.supervisor.failed())
        .await
        .expect("the supervisor gave up");
    assert!(reason.contains("restart"), "{reason}");
}
