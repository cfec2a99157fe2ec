//! The router's read and write paths over real tiers: misses, promotion from a lower tier,
//! TTL by kind, and a failing tier answered around.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt;
use ractor::Actor;

use super::{Command, Follows, Policy, Router, RouterArgs, RouterHandle, Tiers};
use crate::config::BreakerConfig;
use crate::glob::Glob;
use crate::key::Key;
use crate::memory::{MemoryArgs, MemoryHandle, MemoryTier, Store};
use crate::protocol::{Response, TierName, TierStats};
use crate::slot::Slot;
use crate::tier::{Entry, EntryMeta, Lookup, Origin, Tier, TierError, TierFuture, unix_ms};

/// A lower tier for tests: a map behind a mutex that can be told to fail.
#[derive(Default)]
pub(super) struct FakeTier {
    pub(super) entries: Mutex<Vec<(Key, Entry)>>,
    failing: Mutex<bool>,
}

impl FakeTier {
    fn result<T: Send + 'static>(&self, value: T) -> TierFuture<T> {
        let failing = *self.failing.lock().unwrap();
        async move {
            if failing {
                Err(TierError::Unavailable {
                    tier: "fake",
                    reason: "told to fail".into(),
                })
            } else {
                Ok(value)
            }
        }
        .boxed()
    }
}

impl Tier for FakeTier {
    fn name(&self) -> TierName {
        TierName::Database
    }
    fn get_many(&self, keys: Vec<Key>) -> TierFuture<Vec<Lookup>> {
        let entries = self.entries.lock().unwrap();
        let found = keys
            .iter()
            .map(|k| {
                entries
                    .iter()
                    .find(|(e, _)| e == k)
                    .map(|(_, v)| v.clone())
                    .into()
            })
            .collect();
        drop(entries);
        self.result(found)
    }
    fn put_many(&self, new: Vec<(Key, Entry)>) -> TierFuture<()> {
        self.entries.lock().unwrap().extend(new);
        self.result(())
    }
    fn delete_many(&self, _: Vec<Key>) -> TierFuture<u64> {
        self.result(0)
    }
    fn peek(&self, _: Key) -> TierFuture<Option<EntryMeta>> {
        self.result(None)
    }
    fn touch(&self, _: Key, _: Option<u64>) -> TierFuture<bool> {
        self.result(false)
    }
    fn keys(&self, _: Glob) -> TierFuture<Vec<Key>> {
        self.result(vec![])
    }
    fn clear(&self) -> TierFuture<u64> {
        self.result(0)
    }
    fn stats(&self) -> TierFuture<TierStats> {
        self.result(TierStats::empty(TierName::Database, "up"))
    }
    fn ping(&self) -> TierFuture<()> {
        self.result(())
    }
}

async fn start(lower: Option<Arc<FakeTier>>) -> RouterHandle {
    start_with(lower.map(|t| t as Arc<dyn Tier>), Vec::new()).await
}

/// A router over L1, `lower` below it, and `origins`, as the supervisor builds one.
pub(super) async fn start_with(
    lower: Option<Arc<dyn Tier>>,
    origins: Vec<Arc<dyn Origin>>,
) -> RouterHandle {
    let timeout = Duration::from_secs(5);
    let (publish_l1, l1_slot) = Slot::new("memory tier");
    let store = Store::default();
    let (l1, _) = Actor::spawn(
        None,
        MemoryTier,
        MemoryArgs {
            budget: 1 << 20,
            sweep_interval: Duration::from_secs(60),
            store: store.clone(),
        },
    )
    .await
    .unwrap();
    publish_l1.send_replace(Some(l1));
    let mut local: Vec<Arc<dyn Tier>> = vec![Arc::new(MemoryHandle::new(l1_slot, store, timeout))];
    if let Some(lower) = lower {
        local.push(lower);
    }
    let (publish_router, router_slot) = Slot::new("router");
    let args = RouterArgs {
        tiers: Arc::new(Tiers {
            local,
            origins,
            upstream: |_| false,
            follows: Follows::NONE,
        }),
        policy: Policy::default(),
        breaker: BreakerConfig::default(),
        queue: None,
        fast: Default::default(),
    };
    let (router, _) = Actor::spawn(None, Router, args).await.unwrap();
    publish_router.send_replace(Some(router));
    std::mem::forget((publish_l1, publish_router));
    RouterHandle::new(router_slot, timeout, None, Default::default())
}

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

#[tokio::test]
async fn a_lower_tier_hit_is_promoted_into_l1() {
    let lower = Arc::new(FakeTier::default());
    lower.entries.lock().unwrap().push((
        key("component:react:button"),
        Entry::new(Bytes::from_static(b"src"), unix_ms(), None),
    ));
    let router = start(Some(lower.clone())).await;
    match router
        .execute(Command::Get(key("component:react:button")))
        .await
    {
        Response::Value(Some(found)) => assert_eq!(found.info.tier, TierName::Database),
        other => panic!("{other:?}"),
    }
    // The promotion lands just after the answer. Then L1 answers, even with the lower tier
    // failing.
    *lower.failing.lock().unwrap() = true;
    let mut tier = None;
    let mut stats = None;
    for _ in 0..200 {
        if let Response::Value(Some(found)) = router
            .execute(Command::Get(key("component:react:button")))
            .await
        {
            tier = Some(found.info.tier);
            if let Response::Stats(s) = router.execute(Command::Stats).await {
                stats = Some(s);
            }
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(tier, Some(TierName::Memory));
    let stats = stats.expect("stats");
    assert_eq!(stats.router.promotions, 1);
    assert!(
        stats.tiers[1].state.starts_with("down"),
        "{:?}",
        stats.tiers[1]
    );
}

#[tokio::test]
async fn a_failing_lower_tier_is_a_miss_not_an_error() {
    let lower = Arc::new(FakeTier::default());
    *lower.failing.lock().unwrap() = true;
    let router = start(Some(lower)).await;
    assert_eq!(
        router
            .execute(Command::Get(key("component:react:nope")))
            .await,
        Response::Value(None)
    );
}

#[tokio::test]
async fn set_without_ttl_takes_the_kinds_ttl() {
    let router = start(None).await;
    for (k, expected) in [
        ("list:react:components", 6 * 3600),
        ("tree:react", 12 * 3600),
        ("x:y", 24 * 3600),
    ] {
        let set = Command::Set {
            key: key(k),
            value: Bytes::from_static(b"v"),
            ttl: None,
        };
        assert!(matches!(router.execute(set).await, Response::Stored(_)));
        let Response::Metadata(Some(info)) = router.execute(Command::Metadata(key(k))).await else {
            panic!("no metadata for {k}");
        };
        let remaining = info.ttl_remaining.unwrap().as_secs();
        assert!(
            remaining <= expected && remaining + 5 >= expected,
            "{k}: {remaining}s left, expected about {expected}s"
        );
    }
}

#[tokio::test]
async fn mget_answers_in_order_with_misses() {
    let router = start(None).await;
    router
        .execute(Command::MSet(vec![
            (key("a:1"), Bytes::from_static(b"one"), None),
            (key("a:3"), Bytes::from_static(b"three"), None),
        ]))
        .await;
    let Response::Values(values) = router
        .execute(Command::MGet(vec![key("a:1"), key("a:2"), key("a:3")]))
        .await
    else {
        panic!("not values");
    };
    let values: Vec<_> = values.into_iter().map(|v| v.map(|f| f.value)).collect();
    assert_eq!(
        values,
        vec![
            Some(Bytes::from_static(b"one")),
            None,
            Some(Bytes::from_static(b"three"))
        ]
    );
}
