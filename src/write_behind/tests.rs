//! The WriteBehind actor against an L2 that holds each flush until the test lets it land:
//! a delete or clear that meets a batch in flight is answered only after that batch has
//! landed (so the caller's delete in L2 comes after the write), and a failed flush does not
//! put a deleted key back.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use ractor::{Actor, ActorRef};
use tokio::sync::{Semaphore, mpsc};

use super::actor::{ToWriteBehind, WriteBehind, WriteBehindArgs};
use crate::config::WriteBehindConfig;
use crate::glob::Glob;
use crate::key::Key;
use crate::protocol::{TierName, TierStats};
use crate::tier::{Entry, EntryMeta, Lookup, Tier, TierError, TierFuture, unix_ms};

/// L2 for this test: `put_many` reports its batch, then waits for a permit; it fails while
/// `failing` is set.
struct GatedTier {
    gate: Arc<Semaphore>,
    started: mpsc::UnboundedSender<Vec<Key>>,
    failing: Mutex<bool>,
}

fn done<T: Send + 'static>(value: T) -> TierFuture<T> {
    futures::future::ready(Ok(value)).boxed()
}

impl Tier for GatedTier {
    fn name(&self) -> TierName {
        TierName::Database
    }
    fn get_many(&self, keys: Vec<Key>) -> TierFuture<Vec<Lookup>> {
        done(keys.iter().map(|_| Lookup::Miss).collect())
    }
    fn put_many(&self, entries: Vec<(Key, Entry)>) -> TierFuture<()> {
        let _ = self
            .started
            .send(entries.into_iter().map(|(k, _)| k).collect());
        let gate = self.gate.clone();
        let failing = *self.failing.lock().unwrap();
        async move {
            gate.acquire().await.expect("open").forget();
            if failing {
                return Err(TierError::Unavailable {
                    tier: "gated",
                    reason: "told to fail".into(),
                });
            }
            Ok(())
        }
        .boxed()
    }
    fn delete_many(&self, _: Vec<Key>) -> TierFuture<u64> {
        done(0)
    }
    fn peek(&self, _: Key) -> TierFuture<Option<EntryMeta>> {
        done(None)
    }
    fn touch(&self, _: Key, _: Option<u64>) -> TierFuture<bool> {
        done(false)
    }
    fn keys(&self, _: Glob) -> TierFuture<Vec<Key>> {
        done(Vec::new())
    }
    fn clear(&self) -> TierFuture<u64> {
        done(0)
    }
    fn stats(&self) -> TierFuture<TierStats> {
        done(TierStats::empty(TierName::Database, "up"))
    }
    fn ping(&self) -> TierFuture<()> {
        done(())
    }
}

async fn start(
    failing: bool,
) -> (
    ActorRef<ToWriteBehind>,
    Arc<GatedTier>,
    mpsc::UnboundedReceiver<Vec<Key>>,
) {
    let (started, flushes) = mpsc::unbounded_channel();
    let durable = Arc::new(GatedTier {
        gate: Arc::new(Semaphore::new(0)),
        started,
        failing: Mutex::new(failing),
    });
    let config = WriteBehindConfig {
        batch: 10,
        max_age: Duration::from_millis(1),
        ..WriteBehindConfig::default()
    };
    let args = WriteBehindArgs {
        config,
        durable: durable.clone(),
    };
    let (actor, _) = Actor::spawn(None, WriteBehind, args).await.unwrap();
    (actor, durable, flushes)
}

fn key(s: &str) -> Key {
    Key::parse(s).unwrap()
}

/// Queues writes of `names` in one message (so they share a batch).
async fn enqueue(actor: &ActorRef<ToWriteBehind>, names: &[&str]) {
    let entries = names
        .iter()
        .map(|n| {
            (
                key(n),
                Entry::new(bytes::Bytes::from_static(b"v"), unix_ms(), None),
            )
        })
        .collect();
    let answer = actor
        .call(|r| ToWriteBehind::Enqueue(entries, r), None)
        .await
        .unwrap();
    assert!(answer.unwrap().is_ok());
}

#[tokio::test]
async fn a_delete_that_meets_a_flush_in_flight_is_answered_after_it_lands() {
    let (actor, durable, mut flushes) = start(false).await;
    enqueue(&actor, &["note:a"]).await;
    assert_eq!(flushes.recv().await.unwrap(), vec![key("note:a")]);

    // The flush is held: the delete waits for it.
    let forget = {
        let actor = actor.clone();
        tokio::spawn(async move {
            actor
                .call(|r| ToWriteBehind::Forget(vec![key("note:a")], r), None)
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!forget.is_finished(), "answered before the flush landed");
    // A delete of a key not in flight is answered at once.
    let other = actor
        .call(|r| ToWriteBehind::Forget(vec![key("note:b")], r), None)
        .await
        .unwrap();
    assert_eq!(other.unwrap(), Ok(0));

    durable.gate.add_permits(1);
    let answer = tokio::time::timeout(Duration::from_secs(5), forget)
        .await
        .expect("answered once the flush landed");
    assert_eq!(answer.unwrap().unwrap().unwrap(), Ok(0));
}

#[tokio::test]
async fn a_failed_flush_does_not_put_back_what_was_deleted_or_cleared_meanwhile() {
    let (actor, durable, mut flushes) = start(true).await;
    enqueue(&actor, &["note:kept", "note:gone"]).await;
    let first = flushes.recv().await.unwrap();
    assert_eq!(first.len(), 2, "{first:?}");
    let forget = {
        let actor = actor.clone();
        tokio::spawn(async move {
            let keys = vec![key("note:gone")];
            actor.call(|r| ToWriteBehind::Forget(keys, r), None).await
        })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!forget.is_finished(), "answered before the flush landed");
    *durable.failing.lock().unwrap() = false;
    // Let every flush land from now on (the first one fails, as it was told to).
    durable.gate.add_permits(100);
    forget.await.unwrap().unwrap().unwrap().unwrap();

    // Whatever is flushed from now on never holds the deleted key.
    let mut later = Vec::new();
    while let Ok(Some(batch)) =
        tokio::time::timeout(Duration::from_millis(300), flushes.recv()).await
    {
        later.extend(batch);
    }
    assert!(
        later.contains(&key("note:kept")),
        "the failed write was not retried: {later:?}"
    );
    assert!(
        !later.contains(&key("note:gone")),
        "put back after its delete: {later:?}"
    );

    // A clear while a flush is in flight: nothing comes back either.
    *durable.failing.lock().unwrap() = true;
    durable.gate.forget_permits(usize::MAX);
    enqueue(&actor, &["note:cleared"]).await;
    let batch = flushes.recv().await.unwrap();
    assert_eq!(batch, vec![key("note:cleared")]);
    let clear = {
        let actor = actor.clone();
        tokio::spawn(async move { actor.call(ToWriteBehind::Clear, None).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(!clear.is_finished(), "answered before the flush landed");
    *durable.failing.lock().unwrap() = false;
    durable.gate.add_permits(100);
    clear.await.unwrap().unwrap().unwrap().unwrap();
    let again = tokio::time::timeout(Duration::from_millis(300), flushes.recv()).await;
    assert!(
        again.is_err(),
        "a cleared write was flushed again: {again:?}"
    );
}
