//! An origin is a role: a second one, beside one in GitHub's place, plugs into the router
//! through the `Origin` trait alone, and gets the same coalescing, breaker and stale-if-error,
//! with a breaker of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use bytes::Bytes;
use futures::FutureExt;

use super::Command;
use super::tests::{FakeTier, start_with};
use crate::key::Key;
use crate::protocol::{BreakerState, ErrorCode, Response, StaleReason, TierName, TierStats};
use crate::tier::{Entry, Lookup, Origin, TierError, TierFuture, Urgency, unix_ms};

/// An origin serving the keys of one kind with a value naming it; it can be told to fail,
/// and counts the keys it was asked for.
struct TestOrigin {
    name: TierName,
    kind: &'static str,
    failing: AtomicBool,
    asked: AtomicU64,
    /// How long each fetch takes, so concurrent reads overlap.
    delay: Duration,
}

impl TestOrigin {
    fn new(name: TierName, kind: &'static str) -> Arc<TestOrigin> {
        Arc::new(TestOrigin {
            name,
            kind,
            failing: AtomicBool::new(false),
            asked: AtomicU64::new(0),
            delay: Duration::from_millis(50),
        })
    }
}

impl Origin for TestOrigin {
    fn name(&self) -> TierName {
        self.name
    }

    fn fetch(&self, wanted: Vec<(Key, Option<Entry>)>, _: Urgency) -> TierFuture<Vec<Lookup>> {
        self.asked.fetch_add(wanted.len() as u64, Relaxed);
        let failing = self.failing.load(Relaxed);
        let (delay, name) = (self.delay, self.name);
        async move {
            tokio::time::sleep(delay).await;
            if failing {
                return Err(TierError::Unavailable {
                    tier: name.label(),
                    reason: "told to fail".into(),
                });
            }
            let value = Bytes::from(name.label());
            let expires = Some(unix_ms() + 60_000);
            let hit = |_| Lookup::Hit(Entry::new(value.clone(), unix_ms(), expires));
            Ok(wanted.iter().map(hit).collect())
        }
        .boxed()
    }

    fn serves(&self, key: &Key) -> bool {
        key.kind() == self.kind
    }

    fn stats(&self) -> TierFuture<TierStats> {
        futures::future::ready(Ok(TierStats::empty(self.name, "up"))).boxed()
    }
}

fn get(key: &str) -> Command {
    Command::Get(Key::parse(key).unwrap())
}

fn value(response: &Response) -> (&[u8], TierName) {
    match response {
        Response::Value(Some(found)) => (&found.value[..], found.info.tier),
        other => panic!("no value: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_key_goes_to_the_origin_that_serves_it() {
    let github = TestOrigin::new(TierName::Github, "component");
    let registry = TestOrigin::new(TierName::Registry, "registry");
    let router = start_with(None, vec![github.clone(), registry.clone()]).await;

    let answer = router.execute(get("component:react:button")).await;
    assert_eq!(value(&answer), (&b"L3 github"[..], TierName::Github));
    let answer = router.execute(get("registry:new-york:button")).await;
    assert_eq!(value(&answer), (&b"L3 registry"[..], TierName::Registry));
    // A plain key has no origin: a miss, and nobody asked.
    let answer = router.execute(get("note:mine")).await;
    assert_eq!(answer, Response::Value(None));
    assert_eq!(github.asked.load(Relaxed), 1);
    assert_eq!(registry.asked.load(Relaxed), 1);
    // Now cached (or still being stored, which the read joins): not asked again.
    let answer = router.execute(get("registry:new-york:button")).await;
    assert_eq!(value(&answer).0, b"L3 registry");
    assert_eq!(registry.asked.load(Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_misses_on_the_second_origin_are_fetched_once() {
    let github = TestOrigin::new(TierName::Github, "component");
    let registry = TestOrigin::new(TierName::Registry, "registry");
    let router = start_with(None, vec![github, registry.clone()]).await;
    let reads = (0..16).map(|_| router.execute(get("registry:new-york:card")));
    for answer in futures::future::join_all(reads).await {
        assert_eq!(value(&answer).0, b"L3 registry");
    }
    assert_eq!(registry.asked.load(Relaxed), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_origin_opens_its_own_breaker_and_not_the_others() {
    let github = TestOrigin::new(TierName::Github, "component");
    let registry = TestOrigin::new(TierName::Registry, "registry");
    registry.failing.store(true, Relaxed);
    let router = start_with(None, vec![github.clone(), registry.clone()]).await;

    // The default breaker opens after 5 failures that are half the window or more.
    for n in 0..5 {
        let key = format!("registry:new-york:c{n}");
        let answer = router.execute(get(&key)).await;
        let Response::Error(e) = answer else {
            panic!("{answer:?}")
        };
        assert_eq!(e.code, ErrorCode::Unavailable, "{e:?}");
    }
    let Response::Error(refused) = router.execute(get("registry:new-york:c9")).await else {
        panic!("the open breaker answered a value")
    };
    assert!(
        refused
            .message
            .starts_with("the shadcn registry unavailable, retrying in"),
        "{refused:?}"
    );
    assert_eq!(registry.asked.load(Relaxed), 5, "refused without asking");

    // GitHub's breaker is closed: its keys are fetched as ever.
    let answer = router.execute(get("component:react:button")).await;
    assert_eq!(value(&answer).1, TierName::Github);
    let Response::Stats(stats) = router.execute(Command::Stats).await else {
        panic!("no stats")
    };
    let state = |origin| {
        let found = stats.router.breakers.iter().find(|(t, _)| *t == origin);
        found.expect("a breaker per origin").1.state
    };
    assert_eq!(state(TierName::Github), BreakerState::Closed);
    assert!(matches!(
        state(TierName::Registry),
        BreakerState::Open { .. }
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_second_origin_failing_serves_the_stale_copy() {
    let registry = TestOrigin::new(TierName::Registry, "registry");
    registry.failing.store(true, Relaxed);
    let key = "registry:new-york:badge";
    // An expired copy below L1 (L2 keeps them): the read answers it at once and refreshes
    // it in the background.
    let lower = Arc::new(FakeTier::default());
    let now = unix_ms();
    let copy = Entry::new(
        Bytes::from_static(b"the copy we hold"),
        now - 10,
        Some(now - 5),
    );
    lower
        .entries
        .lock()
        .unwrap()
        .push((Key::parse(key).unwrap(), copy));
    let router = start_with(Some(lower), vec![registry.clone()]).await;
    let Response::Value(Some(found)) = router.execute(get(key)).await else {
        panic!("the stale copy was not answered")
    };
    assert_eq!(&found.value[..], b"the copy we hold");
    assert_eq!(found.info.stale, Some(StaleReason::Revalidating));
    // The refresh failed; the next read says so.
    let mut why = None;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if let Response::Value(Some(found)) = router.execute(get(key)).await
            && found.info.stale != Some(StaleReason::Revalidating)
        {
            why = found.info.stale;
            break;
        }
    }
    assert_eq!(why, Some(StaleReason::UpstreamFailed));
}
