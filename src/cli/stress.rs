//! The long-running modes of `shadcache bench`:
//!
//! - `--soak DURATION`: N clients of mixed load (get, set, mget, mset, delete) for a time,
//!   sampling the daemon's RSS and open file descriptors as it goes; any error fails the run.
//! - `--hostile`: one measuring client's latency alone, then again while 1,000 idle
//!   connections are held open, slow writers send a byte a second, clients hang up in the
//!   middle of large answers, and one client sends maximum-size frames in a loop.
//!
//! Both print numbers (RELIABILITY.md records them); the test suite runs short versions and
//! checks their outcomes, never their timings.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

use super::bench::{BenchArgs, Keys, connect_and_fill};
use super::fail;
use crate::client::{Client, ClientError};
use crate::protocol::codec;
use crate::protocol::{Hello, MAGIC, PROTOCOL_VERSION, Request, Response, SetEntry};

const TIMEOUT: Duration = Duration::from_secs(30);

/// What the daemon's process looks like right now, from /proc.
#[derive(Debug, Clone, Copy)]
struct Sample {
    rss_kib: u64,
    fds: u64,
}

fn sample(pid: u32) -> Option<Sample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    Some(Sample { rss_kib, fds })
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------
// Soak

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    errors: AtomicU64,
}

pub async fn soak(
    socket: &Path,
    args: &BenchArgs,
    duration: Duration,
    every: Duration,
) -> ExitCode {
    let (pid, value) = match prepare(socket, args).await {
        Ok(ready) => ready,
        Err(code) => return code,
    };
    println!(
        "soak: {} clients of mixed load for {} ({} keys of {} bytes), a sample every {}",
        args.clients,
        humantime::format_duration(duration),
        args.keys,
        args.value_size,
        humantime::format_duration(every)
    );
    if let Some(now) = sample(pid) {
        println!(
            "before the clients: rss {:.1} MiB, fds {}",
            mib(now.rss_kib),
            now.fds
        );
    }
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let deadline = started + duration;
    let mut workers = Vec::new();
    for worker in 0..args.clients {
        let socket = socket.to_owned();
        let counters = counters.clone();
        let (keys, zipf, value) = (args.keys, args.zipf, value.clone());
        workers.push(tokio::spawn(async move {
            let mut client = Client::connect(&socket, TIMEOUT).await?;
            let mut draw = Keys::new(keys, zipf, worker as u64 + 1);
            let key = |i: usize| format!("bench:key-{i}");
            while Instant::now() < deadline {
                // 70 % get, 10 % set, 5 % each mget, mset, delete, miss.
                let request = match draw.next() % 20 {
                    0..=13 => Request::Get {
                        key: key(draw.next()),
                    },
                    14 | 15 => Request::Set {
                        key: key(draw.next()),
                        value: value.clone(),
                        ttl: None,
                    },
                    16 => Request::MGet {
                        keys: (0..8).map(|_| key(draw.next())).collect(),
                    },
                    17 => Request::MSet {
                        entries: (0..4)
                            .map(|_| SetEntry {
                                key: key(draw.next()),
                                value: value.clone(),
                                ttl: Some(Duration::from_secs(600)),
                            })
                            .collect(),
                    },
                    18 => Request::Delete {
                        key: key(draw.next()),
                    },
                    _ => Request::Get {
                        key: format!("bench:absent-{}", draw.next()),
                    },
                };
                let answer = client.request(&request).await?;
                counters.requests.fetch_add(1, Relaxed);
                if let Response::Error(e) = answer {
                    counters.errors.fetch_add(1, Relaxed);
                    eprintln!("soak: {}: {}", request_name(&request), e.message);
                }
            }
            Ok::<_, ClientError>(())
        }));
    }

    let mut samples: Vec<(Duration, Sample, u64)> = Vec::new();
    let mut last_requests = 0;
    let mut ticker = tokio::time::interval(every);
    ticker.tick().await;
    while Instant::now() < deadline {
        ticker.tick().await;
        let Some(now) = sample(pid) else {
            return fail("the daemon is gone");
        };
        let at = started.elapsed();
        let requests = counters.requests.load(Relaxed);
        println!(
            "t={:>6.1}s  rss {:>7.1} MiB  fds {:>5}  {:>8.0} req/s  errors {}",
            at.as_secs_f64(),
            mib(now.rss_kib),
            now.fds,
            (requests - last_requests) as f64 / every.as_secs_f64(),
            counters.errors.load(Relaxed)
        );
        last_requests = requests;
        samples.push((at, now, requests));
    }
    let mut failed = None;
    for worker in workers {
        match worker.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failed = Some(format!("a soak client failed: {e}")),
            Err(e) => failed = Some(format!("a soak client panicked: {e}")),
        }
    }
    let requests = counters.requests.load(Relaxed);
    let errors = counters.errors.load(Relaxed);
    let elapsed = started.elapsed();
    println!(
        "soak: {requests} requests in {:.1} s ({:.0} req/s), {errors} errors",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );
    // Flat means: after the first quarter (warm-up: L1 filling, the pool's connections),
    // nothing grows.
    if let (Some(first), Some(last)) = (samples.get(samples.len() / 4), samples.last()) {
        let max_rss = samples.iter().map(|(_, s, _)| s.rss_kib).max().unwrap_or(0);
        let max_fds = samples.iter().map(|(_, s, _)| s.fds).max().unwrap_or(0);
        println!(
            "rss: {:.1} MiB at t={:.0}s, {:.1} MiB at the end, max {:.1} MiB; \
             fds: {} at t={:.0}s, {} at the end, max {}",
            mib(first.1.rss_kib),
            first.0.as_secs_f64(),
            mib(last.1.rss_kib),
            mib(max_rss),
            first.1.fds,
            first.0.as_secs_f64(),
            last.1.fds,
            max_fds
        );
    }
    // The daemon closes a connection when it next reads from it: give it a moment.
    tokio::time::sleep(Duration::from_secs(1)).await;
    if let Some(after) = sample(pid) {
        println!(
            "after the clients left: rss {:.1} MiB, fds {}",
            mib(after.rss_kib),
            after.fds
        );
    }
    // Within budget: each tier's bytes against its configured capacity.
    if let Ok(mut client) = Client::connect(socket, TIMEOUT).await
        && let Ok(Response::Stats(stats)) = client.request(&Request::Stats).await
    {
        let tiers: Vec<String> = stats
            .tiers
            .iter()
            .filter(|t| t.capacity_bytes > 0)
            .map(|t| {
                format!(
                    "{} {:.1} of {:.1} MiB",
                    t.tier.label(),
                    t.bytes as f64 / 1048576.0,
                    t.capacity_bytes as f64 / 1048576.0
                )
            })
            .collect();
        println!(
            "budgets: {}; daemon request errors {}",
            tiers.join(", "),
            stats.request_errors
        );
    }
    match failed {
        Some(reason) => fail(&reason),
        None if errors > 0 => fail(&format!("{errors} requests failed")),
        None => ExitCode::SUCCESS,
    }
}

fn request_name(request: &Request) -> &'static str {
    match request {
        Request::Get { .. } => "get",
        Request::Set { .. } => "set",
        Request::MGet { .. } => "mget",
        Request::MSet { .. } => "mset",
        Request::Delete { .. } => "delete",
        _ => "request",
    }
}

/// The daemon's pid and the key set filled (unless `--no-fill`).
async fn prepare(socket: &Path, args: &BenchArgs) -> Result<(u32, Bytes), ExitCode> {
    let (client, value) = connect_and_fill(socket, args).await?;
    Ok((client.daemon.pid, value))
}

// ---------------------------------------------------------------------------------------
// Hostile clients

#[derive(Default)]
struct Hostile {
    idle: AtomicU64,
    slow_bytes: AtomicU64,
    slow_cut_off: AtomicU64,
    hung_up: AtomicU64,
    max_frames: AtomicU64,
    refused: AtomicU64,
}

pub struct HostileArgs {
    pub idle: usize,
    pub slow: usize,
    pub hang_ups: usize,
    pub frame_bytes: usize,
}

pub async fn hostile(socket: &Path, args: &BenchArgs, hostile: HostileArgs) -> ExitCode {
    // Holding 1,000 connections needs more descriptors than the usual soft limit of 1,024.
    crate::daemon::raise_fd_limit();
    let (pid, _) = match prepare(socket, args).await {
        Ok(ready) => ready,
        Err(code) => return code,
    };
    // A large value to hang up in the middle of.
    let big_key = "bench:hostile-big";
    let big = Request::Set {
        key: big_key.into(),
        value: Bytes::from(vec![b'b'; 4 << 20]),
        ttl: None,
    };
    let mut setup = match Client::connect(socket, TIMEOUT).await {
        Ok(client) => client,
        Err(e) => return fail(&e.to_string()),
    };
    if let Err(e) = setup.request(&big).await {
        return fail(&e.to_string());
    }
    drop(setup);

    let alone = match measure(socket, args).await {
        Ok(latencies) => latencies,
        Err(e) => return fail(&format!("the measuring client failed: {e}")),
    };
    let before = sample(pid);

    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Hostile::default());
    let mut held = Vec::with_capacity(hostile.idle);
    for _ in 0..hostile.idle {
        match Client::connect(socket, TIMEOUT).await {
            Ok(client) => {
                counts.idle.fetch_add(1, Relaxed);
                held.push(client);
            }
            Err(e) => {
                counts.refused.fetch_add(1, Relaxed);
                eprintln!("hostile: an idle connection was refused: {e}");
                break;
            }
        }
    }
    let mut tasks = Vec::new();
    for _ in 0..hostile.slow {
        tasks.push(tokio::spawn(slow_writer(
            socket.to_owned(),
            stop.clone(),
            counts.clone(),
        )));
    }
    for _ in 0..hostile.hang_ups {
        tasks.push(tokio::spawn(hang_up(
            socket.to_owned(),
            big_key,
            stop.clone(),
            counts.clone(),
        )));
    }
    tasks.push(tokio::spawn(max_frames(
        socket.to_owned(),
        hostile.frame_bytes,
        stop.clone(),
        counts.clone(),
    )));
    // Let the slow writers and the others get going.
    let load_started = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded = measure(socket, args).await;
    let during = sample(pid);
    // Held for at least 3 s, so the daemon has cut slow writers off (a frame must arrive
    // within `daemon.frame_timeout`, 10 s by default, 1 s in the tests).
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(load_started.elapsed())).await;
    stop.store(true, Relaxed);
    for task in tasks {
        task.abort();
    }
    drop(held);
    let loaded = match loaded {
        Ok(latencies) => latencies,
        Err(e) => return fail(&format!("the measuring client failed under load: {e}")),
    };

    let (p50a, p99a) = percentiles(alone);
    let (p50b, p99b) = percentiles(loaded);
    println!(
        "hostile: {} idle connections held, {} slow writers ({} bytes sent, cut off {} times), \
         {} hang-ups mid-answer, {} frames of {} bytes, {} connections refused",
        counts.idle.load(Relaxed),
        hostile.slow,
        counts.slow_bytes.load(Relaxed),
        counts.slow_cut_off.load(Relaxed),
        counts.hung_up.load(Relaxed),
        counts.max_frames.load(Relaxed),
        hostile.frame_bytes,
        counts.refused.load(Relaxed),
    );
    if let (Some(before), Some(during)) = (before, during) {
        println!(
            "daemon: rss {:.1} -> {:.1} MiB, fds {} -> {}",
            mib(before.rss_kib),
            mib(during.rss_kib),
            before.fds,
            during.fds
        );
    }
    println!("measuring client alone:  p50 {p50a:.0} µs  p99 {p99a:.0} µs");
    println!("measuring client loaded: p50 {p50b:.0} µs  p99 {p99b:.0} µs");
    println!("p99 loaded / alone: {:.2}", p99b / p99a);
    println!(
        "| hostile | {} | {p50a:.0} | {p99a:.0} | {p50b:.0} | {p99b:.0} | {:.2} |",
        counts.idle.load(Relaxed),
        p99b / p99a
    );
    ExitCode::SUCCESS
}

/// One client's gets, one at a time, on a thread and runtime of its own so the hostile
/// clients of this process do not delay it; any error fails it.
async fn measure(socket: &Path, args: &BenchArgs) -> Result<Vec<Duration>, ClientError> {
    let (socket, args) = (socket.to_owned(), args.clone());
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let _ = tx.send(runtime.block_on(measure_here(&socket, &args)));
    });
    rx.await.unwrap_or(Err(ClientError::Closed))
}

async fn measure_here(socket: &Path, args: &BenchArgs) -> Result<Vec<Duration>, ClientError> {
    let mut client = Client::connect(socket, TIMEOUT).await?;
    let mut keys = Keys::new(args.keys, args.zipf, 7);
    let mut latencies = Vec::with_capacity(args.requests);
    for _ in 0..args.requests {
        let request = Request::Get {
            key: format!("bench:key-{}", keys.next()),
        };
        let sent = Instant::now();
        match client.request(&request).await? {
            Response::Value(Some(_)) => latencies.push(sent.elapsed()),
            _ => return Err(ClientError::Closed),
        }
    }
    Ok(latencies)
}

fn percentiles(mut all: Vec<Duration>) -> (f64, f64) {
    all.sort_unstable();
    let at = |p: f64| {
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i].as_secs_f64() * 1e6
    };
    (at(0.50), at(0.99))
}

/// A connection past the handshake, as a raw stream.
async fn handshaken(socket: &Path) -> std::io::Result<UnixStream> {
    let mut stream = UnixStream::connect(socket).await?;
    let hello = codec::encode(
        &Hello {
            magic: MAGIC,
            protocol: PROTOCOL_VERSION,
            client: "shadcache bench --hostile".into(),
        },
        usize::MAX,
    )
    .map_err(std::io::Error::other)?;
    stream.write_all(&hello).await?;
    codec::read_frame(&mut stream, 1 << 16, TIMEOUT)
        .await
        .map_err(std::io::Error::other)?
        .ok_or_else(|| std::io::Error::other("closed during the handshake"))?;
    Ok(stream)
}

/// Sends a request one byte a second; the daemon cuts it off at `daemon.frame_timeout`, and
/// it starts again.
async fn slow_writer(socket: PathBuf, stop: Arc<AtomicBool>, counts: Arc<Hostile>) {
    let frame = codec::encode(
        &Request::Get {
            key: "bench:key-0".into(),
        },
        usize::MAX,
    )
    .expect("a small frame");
    while !stop.load(Relaxed) {
        let Ok(mut stream) = handshaken(&socket).await else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        for byte in &frame {
            if stream.write_all(&[*byte]).await.is_err() {
                counts.slow_cut_off.fetch_add(1, Relaxed);
                break;
            }
            counts.slow_bytes.fetch_add(1, Relaxed);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Asks for a 4 MiB value, reads a little of the answer and hangs up; again and again.
async fn hang_up(socket: PathBuf, key: &'static str, stop: Arc<AtomicBool>, counts: Arc<Hostile>) {
    let frame =
        codec::encode(&Request::Get { key: key.into() }, usize::MAX).expect("a small frame");
    while !stop.load(Relaxed) {
        let Ok(mut stream) = handshaken(&socket).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let mut some = [0u8; 4096];
        if stream.write_all(&frame).await.is_ok() && stream.read(&mut some).await.is_ok() {
            counts.hung_up.fetch_add(1, Relaxed);
        }
        drop(stream);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Sends frames of `bytes` (a set of one large value) in a loop, reading each answer.
async fn max_frames(socket: PathBuf, bytes: usize, stop: Arc<AtomicBool>, counts: Arc<Hostile>) {
    let set = Request::Set {
        key: "bench:hostile-max".into(),
        // What the request's other fields take is well under 1 KiB.
        value: Bytes::from(vec![b'm'; bytes.saturating_sub(1024)]),
        ttl: Some(Duration::from_secs(60)),
    };
    while !stop.load(Relaxed) {
        let Ok(mut client) = Client::connect(&socket, TIMEOUT).await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        while !stop.load(Relaxed) {
            match client.request(&set).await {
                Ok(Response::Stored(_)) => {
                    counts.max_frames.fetch_add(1, Relaxed);
                }
                Ok(other) => {
                    eprintln!("hostile: a maximum-size frame was answered {other:?}");
                    break;
                }
                Err(_) => break,
            }
        }
    }
}
