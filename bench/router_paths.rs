//! Latency of `get` through the whole daemon, by the tier that answered: L3 (a miss fetched
//! from a fake GitHub on 127.0.0.1 serving the recorded fixtures), then L1 (repeat reads),
//! then L2: the daemon is restarted on the same data dir with L1 kept at 64 KiB, so repeat
//! reads fall through to L2. Every answer says which tier gave it; samples are grouped by
//! that.
//!
//! Run: `cargo build --release && cargo run --release --example router_paths`
//! (the daemon binary defaults to the release one beside the example; pass another path as
//! the first argument).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use shadcache::client::Client;
use shadcache::protocol::{Request, Response, TierName};
use shadcache::testkit::fixtures;
use shadcache::testkit::origin::FakeOrigin;

const ROUNDS: usize = 20;

fn daemon_binary() -> PathBuf {
    if let Some(path) = std::env::args().nth(1) {
        return path.into();
    }
    // target/release/examples/router_paths -> target/release/shadcache
    let me = std::env::current_exe().expect("own path");
    me.parent().unwrap().parent().unwrap().join("shadcache")
}

async fn connect(socket: &std::path::Path, daemon: &mut Child) -> Client {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(client) = Client::connect(socket, Duration::from_secs(5)).await {
            return client;
        }
        if let Some(status) = daemon.try_wait().unwrap() {
            panic!("the daemon exited: {status}");
        }
        assert!(Instant::now() < deadline, "the daemon never listened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait_l2(client: &mut Client) {
    for _ in 0..600 {
        if let Ok(Response::Stats(stats)) = client.request(&Request::Stats).await
            && stats
                .tiers
                .iter()
                .any(|t| t.tier == TierName::Database && t.state == "up")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("L2 never opened");
}

fn names(value: &[u8]) -> Vec<String> {
    let list: serde_json::Value = serde_json::from_slice(value).expect("a JSON listing");
    list.as_array()
        .expect("an array")
        .iter()
        .filter_map(|item| item.as_str().or_else(|| item["name"].as_str()))
        .map(str::to_owned)
        .collect()
}

fn row(tier: &str, samples: &mut [Duration]) {
    if samples.is_empty() {
        println!("| {tier} | 0 | | | |");
        return;
    }
    samples.sort_unstable();
    let pct = |p: f64| samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "| {tier} | {} | {:.0} | {:.0} | {:.0} |",
        samples.len(),
        us(pct(0.50)),
        us(pct(0.95)),
        us(pct(0.99))
    );
}

fn config_text(origin: &FakeOrigin, l1: &str) -> String {
    format!(
        "{}requests_per_second = 10000\n\n\
         [l1]\nmax_bytes = \"{l1}\"\n\n[daemon]\nlog_level = \"error\"\n",
        origin.github_section()
    )
}

struct Daemon {
    child: Child,
    client: Client,
}

async fn start(work: &std::path::Path, config: &str) -> Daemon {
    let socket = work.join("shadcache.sock");
    let config_path = work.join("config.toml");
    std::fs::write(&config_path, config).unwrap();
    let mut child = Command::new(daemon_binary())
        .arg("--socket")
        .arg(&socket)
        .arg("--config")
        .arg(&config_path)
        .arg("daemon")
        .arg("--data-dir")
        .arg(work.join("data"))
        .stdout(Stdio::null())
        .spawn()
        .expect("start the daemon");
    let mut client = connect(&socket, &mut child).await;
    wait_l2(&mut client).await;
    Daemon { child, client }
}

fn stop(mut daemon: Daemon) {
    unsafe { libc::kill(daemon.child.id() as i32, libc::SIGTERM) };
    let _ = daemon.child.wait();
}

/// Reads each key once, timing it; the sample goes to the tier that answered. Returns the
/// keys that had a value.
async fn pass(
    client: &mut Client,
    keys: &[String],
    by_tier: &mut Vec<(TierName, Vec<Duration>)>,
) -> Vec<String> {
    let mut served = Vec::new();
    for key in keys {
        let started = Instant::now();
        let answer = client
            .request(&Request::Get { key: key.clone() })
            .await
            .expect("an answer");
        let took = started.elapsed();
        if let Response::Value(Some(found)) = answer {
            match by_tier.iter_mut().find(|(t, _)| *t == found.info.tier) {
                Some((_, samples)) => samples.push(took),
                None => by_tier.push((found.info.tier, vec![took])),
            }
            served.push(key.clone());
        }
    }
    served
}

#[tokio::main]
async fn main() {
    let dir = fixtures::dir();
    let origin = FakeOrigin::with_fixtures(&dir).await.expect("fake origin");
    let work = tempfile::tempdir().expect("temp dir");
    let mut daemon = start(work.path(), &config_text(&origin, "64MiB")).await;
    let mut keys = Vec::new();
    for (listing, kind) in [
        ("list:react:components", "component"),
        ("list:react:blocks", "block"),
    ] {
        let answer = daemon
            .client
            .request(&Request::Get {
                key: listing.into(),
            })
            .await
            .expect("an answer");
        let Response::Value(Some(found)) = answer else {
            panic!("{listing}: {answer:?}")
        };
        keys.extend(
            names(&found.value)
                .into_iter()
                .map(|n| format!("{kind}:react:{n}")),
        );
    }
    let mut by_tier = Vec::new();
    // Names the fixtures do not hold answer "not found" and are left out from then on.
    let served = pass(&mut daemon.client, &keys, &mut by_tier).await;
    for _ in 0..ROUNDS {
        pass(&mut daemon.client, &served, &mut by_tier).await;
    }
    let (all, api) = origin.totals();
    let stats = daemon.client.request(&Request::Stats).await;
    stop(daemon);
    // Again on the same data, with an L1 too small to hold the set: reads fall to L2.
    let mut daemon = start(work.path(), &config_text(&origin, "64KiB")).await;
    for _ in 0..ROUNDS {
        pass(&mut daemon.client, &served, &mut by_tier).await;
    }
    stop(daemon);

    println!(
        "get through the daemon, {} keys served from the react fixtures ({ROUNDS} rounds per tier)\n",
        served.len()
    );
    println!("| answered by | samples | p50 µs | p95 µs | p99 µs |");
    println!("|---|---|---|---|---|");
    for tier in [TierName::Memory, TierName::Database, TierName::Github] {
        let mut samples = by_tier
            .iter_mut()
            .find(|(t, _)| *t == tier)
            .map(|(_, s)| std::mem::take(s))
            .unwrap_or_default();
        row(tier.label(), &mut samples);
    }
    println!(
        "\nupstream for the first pass: {api} API calls, {} raw downloads",
        all - api
    );
    if let Ok(Response::Stats(stats)) = stats {
        println!("\nthe router's own view of each tier in the first daemon (time inside it):");
        for (tier, l) in &stats.router.latency {
            println!(
                "  {:<20} {:>6} reads, p50 {:>6} µs, p99 {:>6} µs",
                tier.label(),
                l.count,
                l.p50.as_micros(),
                l.p99.as_micros()
            );
        }
    }
}
