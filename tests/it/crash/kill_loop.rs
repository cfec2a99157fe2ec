//! The crash loop. Each round runs a mixed load: write-through sets, msets, overwrites and
//! deletes; write-behind sets; reads, listings, maintenance and short-lived keys; and `warm`
//! against the fake GitHub when the fixtures are there. The load is cut by SIGKILL after a
//! random delay, and the daemon is restarted. Then every write answered `Stored` must read back
//! from L2 with its exact value, every delete answered must stay deleted, every row L2 lists
//! must read, and maintenance must run. Writes answered `Queued` may be lost within the loss
//! window: they are counted, never failed on.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use shadcache::client::Client;
use shadcache::protocol::{Ack, Request, Response, SetEntry, TierName};
use shadcache::testkit::origin::FakeOrigin;

use super::{Rng, check_integrity, mget_all, seed, wait_stored};
use crate::harness::TestDaemon;

/// Plain keys are write-through (`Stored`); `metadata:` keys of two segments have no upstream
/// and are write-behind (`Queued`). Long-stale rows are deleted after a second, so maintenance
/// has short-lived keys to delete while the load runs; the size budget is far above what the
/// loop writes, so eviction never removes a row the checks expect.
fn config(github: &str) -> String {
    format!(
        "{github}\n\
         [strategy]\ndefault = \"write-through\"\nmetadata = \"write-behind\"\n\n\
         [l2]\nstale_limit = \"1s\"\nmaintenance_interval = \"2s\"\nmax_bytes = \"8GiB\"\n\n\
         [daemon]\nlog_level = \"info\"\nframe_timeout = \"1s\"\ndrain_timeout = \"3s\"\n"
    )
}

const PROBE: &str = "crash:probe";
const SHORT_LIVED: &str = "short:";

/// What a write-through key must read as after a restart.
#[derive(Debug, Clone)]
enum Expect {
    Value(Bytes),
    Absent,
    /// An operation on it was cut by the kill (or refused): any of these.
    OneOf(Vec<Option<Bytes>>),
}

#[derive(Default)]
struct Model {
    order: Vec<String>,
    expect: HashMap<String, Expect>,
}

impl Model {
    fn put(&mut self, key: &str, expect: Expect) {
        if self.expect.insert(key.to_owned(), expect).is_none() {
            self.order.push(key.to_owned());
        }
    }

    fn current(&self, key: &str) -> Option<Bytes> {
        match self.expect.get(key) {
            Some(Expect::Value(v)) => Some(v.clone()),
            _ => None,
        }
    }

    /// A random key whose expectation satisfies `want`, if one turns up in a few draws.
    fn pick(&self, rng: &mut Rng, want: impl Fn(&Expect) -> bool) -> Option<String> {
        (0..8).find_map(|_| {
            let key = self
                .order
                .get(rng.below(self.order.len().max(1) as u64) as usize)?;
            want(&self.expect[key]).then(|| key.clone())
        })
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    stored: u64,
    msets: u64,
    overwrites: u64,
    deleted: u64,
    queued: u64,
    /// Write-through writes answered `Memory` or an error: not durable, not checked.
    refused: u64,
    reads_checked: u64,
    other_requests: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.stored += o.stored;
        self.msets += o.msets;
        self.overwrites += o.overwrites;
        self.deleted += o.deleted;
        self.queued += o.queued;
        self.refused += o.refused;
        self.reads_checked += o.reads_checked;
        self.other_requests += o.other_requests;
    }
}

#[derive(Default)]
struct Totals {
    counts: Counts,
    stored_found: u64,
    queued_found: u64,
    queued_lost: u64,
    /// How long before the kill the oldest lost `Queued` write had been answered.
    oldest_loss: Duration,
    ready: Vec<Duration>,
    l2_open: Vec<Duration>,
}

fn value(key: &str, rng: &mut Rng) -> Bytes {
    let mut v = format!("{key}@{}|", rng.next()).into_bytes();
    let len = 16 + rng.below(2000) as usize;
    v.extend(rng.bytes(len));
    Bytes::from(v)
}

async fn connect(socket: &Path) -> Option<Client> {
    Client::connect(socket, Duration::from_secs(10)).await.ok()
}

/// Write-through writes, overwrites, deletes and reads of its own keys, one at a time, until
/// the daemon dies. The model is exact while it runs: only this task touches these keys.
async fn durable_writer(
    socket: PathBuf,
    round: usize,
    mut rng: Rng,
    mut model: Model,
) -> (Model, Counts) {
    let mut counts = Counts::default();
    let Some(mut client) = connect(&socket).await else {
        return (model, counts);
    };
    for i in 0.. {
        let dice = rng.below(100);
        let (request, written): (Request, Vec<(String, Option<Bytes>)>) = match dice {
            0..10 => {
                let entries: Vec<SetEntry> = (0..2 + rng.below(7))
                    .map(|j| {
                        let key = format!("crash:r{round}:m{i}-{j}");
                        SetEntry {
                            value: value(&key, &mut rng),
                            key,
                            ttl: None,
                        }
                    })
                    .collect();
                let written = entries
                    .iter()
                    .map(|e| (e.key.clone(), Some(e.value.clone())))
                    .collect();
                (Request::MSet { entries }, written)
            }
            10..30 => {
                let Some(key) = model.pick(&mut rng, |e| matches!(e, Expect::Value(_))) else {
                    continue;
                };
                if dice < 20 {
                    let v = value(&key, &mut rng);
                    let set = Request::Set {
                        key: key.clone(),
                        value: v.clone(),
                        ttl: None,
                    };
                    (set, vec![(key, Some(v))])
                } else {
                    (Request::Delete { key: key.clone() }, vec![(key, None)])
                }
            }
            30..45 => {
                let Some(key) = model.pick(&mut rng, |e| !matches!(e, Expect::OneOf(_))) else {
                    continue;
                };
                match client.request(&Request::Get { key: key.clone() }).await {
                    Ok(Response::Value(found)) => {
                        let want = model.current(&key);
                        assert_eq!(found.map(|f| f.value), want, "round {round}: read {key}");
                        counts.reads_checked += 1;
                        continue;
                    }
                    Ok(other) => panic!("round {round}: get {key}: {other:?}"),
                    Err(_) => break,
                }
            }
            _ => {
                let key = format!("crash:r{round}:k{i}");
                let v = value(&key, &mut rng);
                let set = Request::Set {
                    key: key.clone(),
                    value: v.clone(),
                    ttl: None,
                };
                (set, vec![(key, Some(v))])
            }
        };
        // Until the answer comes, the old and the new state are both possible.
        for (key, new) in &written {
            let old = model.current(key);
            model.put(key, Expect::OneOf(vec![old, new.clone()]));
        }
        let response = match client.request(&request).await {
            Ok(response) => response,
            Err(_) => break,
        };
        match (&request, response) {
            (Request::Delete { key }, Response::Deleted(true)) => {
                model.put(key, Expect::Absent);
                counts.deleted += 1;
            }
            (Request::Delete { key }, Response::Deleted(false)) => {
                panic!("round {round}: {key}, acknowledged Stored, was not there to delete")
            }
            (_, Response::Stored(Ack::Stored)) => {
                for (key, new) in written {
                    model.put(&key, Expect::Value(new.expect("a write")));
                }
                counts.stored += 1;
                counts.msets += u64::from(matches!(request, Request::MSet { .. }));
                counts.overwrites += u64::from((10..20).contains(&dice));
            }
            (_, Response::Stored(Ack::Memory) | Response::Error(_)) => counts.refused += 1,
            (_, other) => panic!("round {round}: {request:?} answered {other:?}"),
        }
    }
    (model, counts)
}

/// Write-behind sets of new keys, one at a time; returns each key answered `Queued`, its
/// value and when the answer came.
async fn queued_writer(
    socket: PathBuf,
    round: usize,
    mut rng: Rng,
) -> (Vec<(String, Bytes, Instant)>, Counts) {
    let mut counts = Counts::default();
    let mut queued = Vec::new();
    let Some(mut client) = connect(&socket).await else {
        return (queued, counts);
    };
    for i in 0.. {
        let key = format!("metadata:q{round}-{i}");
        let v = value(&key, &mut rng);
        let set = Request::Set {
            key: key.clone(),
            value: v.clone(),
            ttl: None,
        };
        match client.request(&set).await {
            Ok(Response::Stored(Ack::Queued)) => {
                queued.push((key, v, Instant::now()));
                counts.queued += 1;
            }
            Ok(Response::Stored(Ack::Memory) | Response::Error(_)) => counts.refused += 1,
            Ok(other) => panic!("round {round}: write-behind set {key}: {other:?}"),
            Err(_) => break,
        }
    }
    (queued, counts)
}

/// Everything else a daemon is asked meanwhile: misses, listings, stats, maintenance, and
/// short-lived keys for maintenance to delete. Answers are only required to come.
async fn bystander(socket: PathBuf, round: usize, mut rng: Rng) -> Counts {
    let mut counts = Counts::default();
    let Some(mut client) = connect(&socket).await else {
        return counts;
    };
    for i in 0.. {
        let request = match rng.below(20) {
            0..7 => Request::Get {
                key: format!("crash:r{round}:k{}", rng.below(1000)),
            },
            7..9 => Request::MGet {
                keys: (0..8)
                    .map(|_| format!("crash:r{}:k{}", rng.below(round as u64 + 1), rng.below(500)))
                    .collect(),
            },
            9..15 => Request::Set {
                key: format!("{SHORT_LIVED}r{round}-{i}"),
                value: Bytes::from(rng.bytes(200)),
                ttl: Some(Duration::from_millis(500)),
            },
            15..17 => Request::Keys {
                pattern: Some(format!("crash:r{round}:*")),
            },
            17 => Request::Metadata {
                key: format!("crash:r{round}:k{}", rng.below(1000)),
            },
            // Both scan the whole table.
            18 => Request::Maintenance,
            _ => Request::Stats,
        };
        if client.request(&request).await.is_err() {
            break;
        }
        counts.other_requests += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    counts
}

/// Waits out one `l2.access_flush_interval` (1 s), then until three write-through sets in a row
/// are answered within 50 ms (at most a minute); returns how long that took. The checks after
/// a restart read every row, and the daemon then writes access tracking for each of them: at
/// 50,000 rows and more that held L2's connection for seconds, and a round's load started
/// meanwhile got next to no write through.
async fn settle(d: &TestDaemon) -> Duration {
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let mut client = d.client().await;
    let mut fast = 0;
    while fast < 3 && started.elapsed() < Duration::from_secs(60) {
        let set = Request::Set {
            key: PROBE.into(),
            value: Bytes::from_static(b"probe"),
            ttl: None,
        };
        let asked = Instant::now();
        let answer = client.request(&set).await.unwrap();
        assert_eq!(answer, Response::Stored(Ack::Stored));
        fast = if asked.elapsed() < Duration::from_millis(50) {
            fast + 1
        } else {
            0
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

/// The crash loop; panics on the first round that lost an acknowledged write.
async fn crash_loop(rounds: usize, seed: u64) {
    eprintln!(
        "crash loop: {rounds} rounds, seed {seed} (repeat with SHADCACHE_CRASHLOOP_SEED={seed})"
    );
    let mut rng = Rng::new(seed);
    let origin = match shadcache::testkit::fixtures::dir() {
        Some(dir) => Some(FakeOrigin::with_fixtures(&dir).await.unwrap()),
        None => None,
    };
    let github = match &origin {
        Some(o) => format!(
            "[github]\napi_url = \"{}\"\nraw_url = \"{}\"\nrequests_per_second = 10000\n",
            o.api_url(),
            o.raw_url()
        ),
        None => {
            "[github]\napi_url = \"http://127.0.0.1:9\"\nraw_url = \"http://127.0.0.1:9\"\n".into()
        }
    };
    let mut d = TestDaemon::start_with(&config(&github));
    wait_stored(&d, PROBE, Duration::from_secs(60)).await;
    let mut model = Model::default();
    let mut totals = Totals::default();
    let started = Instant::now();
    for round in 1..=rounds {
        let settled = settle(&d).await;
        let kill_after = Duration::from_millis(200 + rng.below(1300));
        let socket = d.socket.clone();
        let durable = tokio::spawn(durable_writer(socket.clone(), round, rng.fork(), model));
        let queued = tokio::spawn(queued_writer(socket.clone(), round, rng.fork()));
        let bystander = tokio::spawn(bystander(socket.clone(), round, rng.fork()));
        let warm = origin.is_some().then(|| {
            let config = d.config.clone();
            tokio::task::spawn_blocking(move || {
                crate::harness::cli_at(&socket, &config, &["warm", "--framework", "react"], None)
            })
        });
        tokio::time::sleep(kill_after).await;
        d.signal(libc::SIGKILL);
        let killed_at = Instant::now();
        d.wait_exit(Duration::from_secs(10));
        let (m, mut counts) = durable.await.unwrap();
        model = m;
        let (queued, q) = queued.await.unwrap();
        counts.add(&q);
        counts.add(&bystander.await.unwrap());
        let warmed = match warm {
            Some(w) => w.await.unwrap().status.success().to_string(),
            None => "no fixtures".into(),
        };

        let restarted = Instant::now();
        let mut command = d.daemon_command();
        d = d.launch(&mut command);
        d.wait_ready();
        let ready = restarted.elapsed();
        wait_stored(&d, PROBE, Duration::from_secs(60)).await;
        let l2_open = restarted.elapsed();

        let (stored_found, absent) = check_model(&d, round, &mut model).await;
        let (queued_found, lost) = check_queued(&d, round, &queued, killed_at).await;
        let rows = check_integrity(&d, Some(SHORT_LIVED)).await;
        let oldest_loss = lost.iter().max().copied().unwrap_or_default();
        let window = if lost.is_empty() {
            String::new()
        } else {
            format!(" (the oldest answered {oldest_loss:.0?} before the kill)")
        };
        eprintln!(
            "round {round}/{rounds}: settled in {settled:.1?}, killed after {kill_after:?} | acked Stored {} (msets {}, \
             overwrites {}), deletes {}, Queued {}, refused {}, reads checked {}, other requests \
             {}, warm completed: {warmed} | restart: ready {ready:.0?}, L2 open {l2_open:.1?} | \
             Stored keys all found ({stored_found}), absent as expected {absent}, \
             Queued found {queued_found}, lost {}{window}, rows read {rows}",
            counts.stored,
            counts.msets,
            counts.overwrites,
            counts.deleted,
            counts.queued,
            counts.refused,
            counts.reads_checked,
            counts.other_requests,
            lost.len(),
        );
        totals.counts.add(&counts);
        totals.stored_found = stored_found;
        totals.queued_found += queued_found;
        totals.queued_lost += lost.len() as u64;
        totals.oldest_loss = totals.oldest_loss.max(oldest_loss);
        totals.ready.push(ready);
        totals.l2_open.push(l2_open);
    }
    let c = totals.counts;
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        (v[v.len() / 2], v[v.len() - 1])
    };
    let (ready_p50, ready_max) = median(&mut totals.ready);
    let (l2_p50, l2_max) = median(&mut totals.l2_open);
    eprintln!(
        "crash loop total: {rounds} rounds in {:.0?}, seed {seed} | writes acked Stored {} \
         ({} msets, {} overwrites), deletes acked {}, refused {} | Stored keys found after the \
         last restart {}, lost 0 | Queued {}, found {}, lost {} (oldest answered {:.0?} before \
         its kill) | restart to ready p50 {ready_p50:.0?} max {ready_max:.0?}, to L2 open p50 \
         {l2_p50:.1?} max {l2_max:.1?}",
        started.elapsed(),
        c.stored,
        c.msets,
        c.overwrites,
        c.deleted,
        c.refused,
        totals.stored_found,
        c.queued,
        totals.queued_found,
        totals.queued_lost,
        totals.oldest_loss,
    );
}

/// Every write-through key as the model says, read from L2 (L1 is cold after the restart).
/// Keys left undecided by the kill are settled by what L2 holds. Returns (keys found with
/// their value, keys absent as they should be).
async fn check_model(d: &TestDaemon, round: usize, model: &mut Model) -> (u64, u64) {
    let mut client = d.client().await;
    let found = mget_all(&mut client, &model.order).await;
    let (mut present, mut absent) = (0, 0);
    let mut failures = Vec::new();
    for (key, found) in model.order.iter().zip(found) {
        if let Some(f) = &found
            && f.info.tier != TierName::Database
        {
            failures.push(format!("{key} answered by {:?}, not L2", f.info.tier));
        }
        let got = found.map(|f| f.value);
        let expect = model.expect.get_mut(key).expect("modelled");
        match (&*expect, &got) {
            (Expect::Value(v), Some(g)) if v == g => present += 1,
            (Expect::Value(_), None) => failures.push(format!("LOST {key}")),
            (Expect::Value(_), Some(_)) => failures.push(format!("WRONG VALUE {key}")),
            (Expect::Absent, None) => absent += 1,
            (Expect::Absent, Some(_)) => failures.push(format!("DELETED CAME BACK {key}")),
            (Expect::OneOf(options), got) if options.contains(got) => {
                *expect = match got {
                    Some(v) => Expect::Value(v.clone()),
                    None => Expect::Absent,
                };
            }
            (Expect::OneOf(_), _) => failures.push(format!("NEITHER OLD NOR NEW {key}")),
        }
    }
    assert!(
        failures.is_empty(),
        "round {round}: {} of {} keys wrong after the restart: {:?}",
        failures.len(),
        model.order.len(),
        &failures[..failures.len().min(20)]
    );
    (present, absent)
}

/// Write-behind writes found after the restart, and how long before the kill each lost one
/// had been answered. A value other than the one written is a failure.
async fn check_queued(
    d: &TestDaemon,
    round: usize,
    queued: &[(String, Bytes, Instant)],
    killed_at: Instant,
) -> (u64, Vec<Duration>) {
    let keys: Vec<String> = queued.iter().map(|(k, _, _)| k.clone()).collect();
    let found = mget_all(&mut d.client().await, &keys).await;
    let mut present = 0;
    let mut lost = Vec::new();
    for ((key, value, at), found) in queued.iter().zip(found) {
        match found {
            Some(f) => {
                assert_eq!(&f.value, value, "round {round}: {key} has another value");
                present += 1;
            }
            None => lost.push(killed_at - *at),
        }
    }
    (present, lost)
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_at_random_points_of_a_mixed_load_loses_no_acknowledged_write() {
    crash_loop(5, seed("SHADCACHE_CRASHLOOP_SEED")).await;
}

/// The long version: `bench/crashloop.sh [ROUNDS] [SEED]`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "long; run by bench/crashloop.sh"]
async fn crash_loop_long() {
    let rounds = std::env::var("SHADCACHE_CRASHLOOP_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    crash_loop(rounds, seed("SHADCACHE_CRASHLOOP_SEED")).await;
}
