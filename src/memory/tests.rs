//! The MemoryTier actor through its handle: the Tier contract, TTL through real time, and the
//! sweep timer.

use std::time::Duration;

use bytes::Bytes;
use ractor::Actor;

use super::{MemoryArgs, MemoryHandle, MemoryTier, Store};
use crate::glob::Glob;
use crate::key::Key;
use crate::slot::Slot;
use crate::tier::{Entry, Lookup, Tier, TierError, unix_ms};

async fn start(budget: u64, sweep: Duration) -> MemoryHandle {
    let (publish, slot) = Slot::new("memory tier");
    let store = Store::default();
    let args = MemoryArgs {
        budget,
        sweep_interval: sweep,
        store: store.clone(),
    };
    let (actor, _) = Actor::spawn(None, MemoryTier, args).await.unwrap();
    publish.send_replace(Some(actor));
    // The publisher must outlive the test; leaking it is fine here.
    std::mem::forget(publish);
    MemoryHandle::new(slot, store, Duration::from_secs(5))
}

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

fn entry(text: &'static str, expires_ms: Option<u64>) -> Entry {
    Entry::new(Bytes::from_static(text.as_bytes()), unix_ms(), expires_ms)
}

#[tokio::test]
async fn contract_round_trip() {
    let l1 = start(1 << 20, Duration::from_secs(60)).await;
    l1.put_many(vec![
        (key("component:react:button"), entry("button", None)),
        (key("component:react:card"), entry("card", None)),
        (key("demo:react:card"), entry("demo", None)),
    ])
    .await
    .unwrap();
    let got = l1
        .get_many(vec![
            key("component:react:card"),
            key("component:react:nope"),
        ])
        .await
        .unwrap();
    assert!(matches!(&got[0], Lookup::Hit(e) if e.value == Bytes::from_static(b"card")));
    assert_eq!(got[1], Lookup::Miss);
    let mut keys = l1.keys(Glob::parse("component:*").unwrap()).await.unwrap();
    keys.sort();
    assert_eq!(
        keys,
        vec![key("component:react:button"), key("component:react:card")]
    );
    assert_eq!(
        l1.peek(key("component:react:card"))
            .await
            .unwrap()
            .unwrap()
            .access_count,
        1
    );
    assert_eq!(
        l1.delete_many(vec![key("demo:react:card"), key("demo:react:x")])
            .await
            .unwrap(),
        1
    );
    let stats = l1.stats().await.unwrap();
    assert_eq!((stats.entries, stats.hits, stats.misses), (2, 1, 1));
    assert_eq!(l1.clear().await.unwrap(), 2);
    l1.ping().await.unwrap();
}

#[tokio::test]
async fn a_batch_too_big_for_the_budget_is_refused_whole() {
    let l1 = start(64 * 1024, Duration::from_secs(60)).await;
    let big = Bytes::from(vec![b'x'; 40 * 1024]);
    let batch = vec![
        (key("a:1"), Entry::new(big.clone(), 0, None)),
        (key("a:2"), Entry::new(big, 0, None)),
    ];
    let err = l1.put_many(batch).await.unwrap_err();
    assert!(matches!(err, TierError::TooLarge(_)), "{err}");
    assert!(l1.keys(Glob::any()).await.unwrap().is_empty());
}

#[tokio::test]
async fn sweep_timer_drops_expired_entries() {
    let l1 = start(1 << 20, Duration::from_millis(20)).await;
    let soon = unix_ms() + 30;
    l1.put_many(vec![
        (key("a:short"), entry("x", Some(soon))),
        (key("a:long"), entry("y", None)),
    ])
    .await
    .unwrap();
    // Wait until the sweep (not a read) has removed the expired entry.
    for _ in 0..500 {
        if l1.stats().await.unwrap().entries == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let stats = l1.stats().await.unwrap();
    assert_eq!(stats.entries, 1);
    assert_eq!(stats.expirations, 1);
}
