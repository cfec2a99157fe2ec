//! The crash loop. Each round runs a mixed load: write-through sets, msets, overwrites and
//! deletes; write-behind sets; reads, listings, maintenance and short-lived keys; and `warm`
//! against the fake GitHub when the fixtures are there. The load is cut by SIGKILL after a
//! random delay, and the daemon is restarted. Then every write answered `Stored` must read back
//! from L2 with its exact value, every delete answered must stay deleted, every row L2 lists
//! must read, and maintenance must run. Writes answered `Queued` may be lost within the loss
//! window: they are counted, never failed on.

use std::time::{Duration, Instant};

use bytes::Bytes;
use shadcache::protocol::{Ack, Request, Response, TierName};
use shadcache::testkit::origin::FakeOrigin;

use super::load::{Counts, Expect, Model, SHORT_LIVED, bystander, durable_writer, queued_writer};
use super::{Rng, check_integrity, mget_all, seed, wait_stored};
use crate::harness::TestDaemon;
use crate::runner::tests;

tests![
    kill_9_at_random_points_of_a_mixed_load_loses_no_acknowledged_write,
    crash_loop_long: Long,
];

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
    let origin = FakeOrigin::with_fixtures(&shadcache::testkit::fixtures::dir())
        .await
        .unwrap();
    let github = format!("{}requests_per_second = 10000\n", origin.github_section());
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
        let warm = {
            let config = d.config.clone();
            tokio::task::spawn_blocking(move || {
                crate::harness::cli_at(&socket, &config, &["warm", "--framework", "react"], None)
            })
        };
        tokio::time::sleep(kill_after).await;
        d.signal(libc::SIGKILL);
        let killed_at = Instant::now();
        d.wait_exit(Duration::from_secs(10));
        let (m, mut counts) = durable.await.unwrap();
        model = m;
        let (queued, q) = queued.await.unwrap();
        counts.add(&q);
        counts.add(&bystander.await.unwrap());
        let warmed = warm.await.unwrap().status.success();

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

async fn kill_9_at_random_points_of_a_mixed_load_loses_no_acknowledged_write() {
    crash_loop(5, seed("SHADCACHE_CRASHLOOP_SEED")).await;
}

/// The long version: `bench/crashloop.sh [ROUNDS] [SEED]`.
async fn crash_loop_long() {
    let rounds = std::env::var("SHADCACHE_CRASHLOOP_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    crash_loop(rounds, seed("SHADCACHE_CRASHLOOP_SEED")).await;
}
