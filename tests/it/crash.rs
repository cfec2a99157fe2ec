//! Crash safety through the real binary: `kill -9` at random points of a mixed load, round
//! after round (`kill_loop`); SIGTERM while write-behind flushes are running (`sigterm`); and
//! a data dir on a small tmpfs that fills up and then gets its space back (`full_disk`).
//! RELIABILITY-crash.md says what each proves and what was measured; `bench/crashloop.sh`
//! runs the long loop.

mod full_disk;
mod kill_loop;
mod load;
mod sigterm;

use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::rngs::SmallRng;
use rand::{Rng as _, RngExt, SeedableRng};
use shadcache::client::Client;
use shadcache::protocol::{Ack, Found, Request, Response, TierName};

use crate::harness::TestDaemon;
use crate::runner::Test;

pub fn tests() -> Vec<Test> {
    [full_disk::tests(), kill_loop::tests(), sigterm::tests()]
        .into_iter()
        .flatten()
        .collect()
}

/// Seeded draws, so a run's choices (kill delays, operations) can be repeated. The daemon's
/// own scheduling still varies from run to run.
pub struct Rng(SmallRng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(SmallRng::seed_from_u64(seed))
    }

    pub fn next(&mut self) -> u64 {
        self.0.random()
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.0.random_range(0..n)
    }

    /// A generator of its own for a task, drawn from this one.
    pub fn fork(&mut self) -> Rng {
        Rng::new(self.next())
    }

    /// `len` random bytes: incompressible, so they take their size on disk.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        self.0.fill_bytes(&mut bytes);
        bytes
    }
}

/// The seed in `var`, else one from the clock. Callers print it, so a run can be repeated.
pub fn seed(var: &str) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        })
}

/// Writes `key` until the answer is `Stored`, that is until L2 is open and takes writes, as
/// `bench/run.sh` probes it. Returns the answers that were not `Stored` before it.
pub async fn wait_stored(d: &TestDaemon, key: &str, limit: Duration) -> Vec<Response> {
    let deadline = Instant::now() + limit;
    let mut before = Vec::new();
    loop {
        let set = Request::Set {
            key: key.into(),
            value: Bytes::from_static(b"probe"),
            ttl: None,
        };
        match d.request(set).await {
            Response::Stored(Ack::Stored) => return before,
            other => before.push(other),
        }
        assert!(
            Instant::now() < deadline,
            "L2 took no write within {limit:?}; answers: {:?}\n{}",
            before.last(),
            d.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every key's answer, asked in chunks on one connection.
pub async fn mget_all(client: &mut Client, keys: &[String]) -> Vec<Option<Found>> {
    let mut all = Vec::with_capacity(keys.len());
    for chunk in keys.chunks(256) {
        match client
            .request(&Request::MGet {
                keys: chunk.to_vec(),
            })
            .await
            .expect("mget")
        {
            Response::Values(values) => all.extend(values),
            other => panic!("mget of {} keys: {other:?}", chunk.len()),
        }
    }
    all
}

/// The L2 state `stats` shows: `up`, or why it is not.
pub async fn l2_state(d: &TestDaemon) -> String {
    d.stats()
        .await
        .tiers
        .iter()
        .find(|t| t.tier == TierName::Database)
        .map(|t| t.state.clone())
        .unwrap_or_default()
}

/// Every key L2 lists reads back (no row is unreadable), and maintenance runs over the table.
/// Keys starting with `expiring` may have expired, and are only required not to fail.
/// Returns the number of rows read.
pub async fn check_integrity(d: &TestDaemon, expiring: Option<&str>) -> usize {
    let mut client = d.client().await;
    let Response::Keys(keys) = client
        .request(&Request::Keys { pattern: None })
        .await
        .unwrap()
    else {
        panic!("keys");
    };
    let values = mget_all(&mut client, &keys).await;
    let unreadable: Vec<&String> = keys
        .iter()
        .zip(&values)
        .filter(|(k, v)| v.is_none() && !expiring.is_some_and(|p| k.starts_with(p)))
        .map(|(k, _)| k)
        .collect();
    assert!(
        unreadable.is_empty(),
        "{} listed rows did not read back: {:?}",
        unreadable.len(),
        &unreadable[..unreadable.len().min(20)]
    );
    match client.request(&Request::Maintenance).await.unwrap() {
        Response::Maintenance(_) => {}
        other => panic!("maintenance after restart: {other:?}"),
    }
    keys.len()
}
