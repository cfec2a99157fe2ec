//! `shadcache bench`: a load generator against a running daemon, or against a bare echo
//! server over a Unix socket with the same frame sizes (`--echo`, the floor any request
//! pays). N clients on their own connections; keys uniform or Zipf-skewed; reports
//! throughput, latency percentiles, which tier answered, and the daemon's CPU seconds and
//! peak RSS over the run. Numbers printed, never asserted. `bench/run.sh` runs it beside
//! redis-benchmark and Node's PGlite.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::AsyncWriteExt;
use tokio::net::{UnixListener, UnixStream};

use super::fail;
use crate::client::{Client, ClientError};
use crate::protocol::codec;
use crate::protocol::{EntryInfo, Found, Request, Response, SetEntry, TierName};

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Concurrent clients, each on its own connection
    #[arg(long, default_value_t = 1)]
    pub(super) clients: usize,
    /// Requests per client
    #[arg(long, default_value_t = 10_000)]
    pub(super) requests: usize,
    /// Distinct keys
    #[arg(long, default_value_t = 1_000)]
    pub(super) keys: usize,
    /// Bytes per value
    #[arg(long, default_value_t = 2_300)]
    pub(super) value_size: usize,
    /// Key popularity: 0 is uniform; 0.8-1.2 is a realistic Zipf skew
    #[arg(long, default_value_t = 0.0)]
    pub(super) zipf: f64,
    /// What each request does
    #[arg(long, value_enum, default_value_t = Op::Get)]
    op: Op,
    /// Measure a bare echo server over a Unix socket with the same frame sizes instead of
    /// the daemon (no daemon needed)
    #[arg(long)]
    echo: bool,
    /// A name for the result line (`| label | ... |`, for bench/run.sh)
    #[arg(long, default_value = "shadcache")]
    label: String,
    /// Keep the key set from an earlier run (do not fill it again)
    #[arg(long)]
    no_fill: bool,
    /// Visit the keys in order, each once per pass (a cold L1 then answers every get from
    /// L2), instead of drawing them at random
    #[arg(long)]
    sequential: bool,
    /// Soak: mixed load (get, set, mget, mset, delete) from every client for this long
    /// (e.g. `10m`), sampling the daemon's RSS and open descriptors; any error fails the run
    #[arg(long, value_parser = humantime::parse_duration)]
    soak: Option<Duration>,
    /// How often the soak samples the daemon
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    sample: Duration,
    /// Hostile clients: `--requests` gets of one client alone, then again while idle
    /// connections, slow writers, mid-answer hang-ups and maximum-size frames load the daemon
    #[arg(long)]
    hostile: bool,
    /// With --hostile: idle connections held open
    #[arg(long, default_value_t = 1_000)]
    idle: usize,
    /// With --hostile: clients sending a byte a second
    #[arg(long, default_value_t = 8)]
    slow: usize,
    /// With --hostile: clients hanging up in the middle of a 4 MiB answer, again and again
    #[arg(long, default_value_t = 8)]
    hang_ups: usize,
    /// With --hostile: the size of the frames sent in a loop (the daemon's
    /// `daemon.max_frame_size`, 16 MiB by default)
    #[arg(long, default_value_t = 16 << 20)]
    frame_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Op {
    /// Read a key of the set (filled first)
    Get,
    /// Overwrite a key of the set
    Set,
}

/// Key indices by popularity: uniform, or Zipf with exponent `s` by inverse CDF.
pub(super) struct Keys {
    cdf: Vec<f64>,
    state: u64,
}

impl Keys {
    pub(super) fn new(n: usize, s: f64, seed: u64) -> Keys {
        let mut cdf = Vec::with_capacity(n);
        let mut total = 0.0;
        for rank in 1..=n {
            total += if s == 0.0 {
                1.0
            } else {
                1.0 / (rank as f64).powf(s)
            };
            cdf.push(total);
        }
        for c in &mut cdf {
            *c /= total;
        }
        Keys {
            cdf,
            state: 0x9e37_79b9_7f4a_7c15 ^ seed,
        }
    }

    pub(super) fn next(&mut self) -> usize {
        // xorshift: cheap, deterministic, good enough to draw from.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let u = (self.state >> 11) as f64 / (1u64 << 53) as f64;
        self.cdf.partition_point(|c| *c < u).min(self.cdf.len() - 1)
    }
}

/// CPU seconds and peak RSS of a process, from /proc.
fn usage(pid: u32) -> Option<(f64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_comm = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_comm.split_whitespace().collect();
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cpu = (fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?) / ticks;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let hwm_kib = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse::<u64>()
        .ok()?;
    Some((cpu, hwm_kib * 1024))
}

/// Connects, and stores the key set unless `--no-fill`; the value every key holds.
pub(super) async fn connect_and_fill(
    socket: &Path,
    args: &BenchArgs,
) -> Result<(Client, Bytes), ExitCode> {
    let mut setup = Client::connect(socket, Duration::from_secs(30))
        .await
        .map_err(|e| fail(&e.to_string()))?;
    let value = Bytes::from(vec![b'x'; args.value_size]);
    if !args.no_fill {
        for chunk in (0..args.keys).collect::<Vec<_>>().chunks(500) {
            let entries = chunk
                .iter()
                .map(|i| SetEntry {
                    key: format!("bench:key-{i}"),
                    value: value.clone(),
                    ttl: None,
                })
                .collect();
            match setup.request(&Request::MSet { entries }).await {
                Ok(Response::Stored(_)) => {}
                Ok(other) => return Err(fail(&format!("setting up the key set: {other:?}"))),
                Err(e) => return Err(fail(&e.to_string())),
            }
        }
    }
    Ok((setup, value))
}

pub async fn run(socket: &Path, args: BenchArgs) -> ExitCode {
    if args.echo {
        return echo(args).await;
    }
    if let Some(duration) = args.soak {
        return super::stress::soak(socket, &args, duration, args.sample).await;
    }
    if args.hostile {
        let hostile = super::stress::HostileArgs {
            idle: args.idle,
            slow: args.slow,
            hang_ups: args.hang_ups,
            frame_bytes: args.frame_bytes,
        };
        return super::stress::hostile(socket, &args, hostile).await;
    }
    let timeout = Duration::from_secs(30);
    let (setup, value) = match connect_and_fill(socket, &args).await {
        Ok(ready) => ready,
        Err(code) => return code,
    };
    let pid = setup.daemon.pid;
    drop(setup);

    let before = usage(pid);
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.clients {
        let socket = socket.to_owned();
        let args = args.clone();
        let value = value.clone();
        workers.push(tokio::spawn(async move {
            let mut client = Client::connect(&socket, timeout).await?;
            let mut keys = Keys::new(args.keys, args.zipf, worker as u64);
            let mut latencies = Vec::with_capacity(args.requests);
            let mut tiers: Vec<(TierName, u64)> = Vec::new();
            for n in 0..args.requests {
                let index = if args.sequential {
                    (worker * args.requests + n) % args.keys
                } else {
                    keys.next()
                };
                let key = format!("bench:key-{index}");
                let request = match args.op {
                    Op::Get => Request::Get { key },
                    Op::Set => Request::Set {
                        key,
                        value: value.clone(),
                        ttl: None,
                    },
                };
                let sent = Instant::now();
                let response = client.request(&request).await?;
                latencies.push(sent.elapsed());
                match response {
                    Response::Value(Some(found)) => {
                        match tiers.iter_mut().find(|(t, _)| *t == found.info.tier) {
                            Some((_, n)) => *n += 1,
                            None => tiers.push((found.info.tier, 1)),
                        }
                    }
                    Response::Stored(_) => {}
                    _ => return Err(ClientError::Closed),
                }
            }
            Ok::<_, ClientError>((latencies, tiers))
        }));
    }
    let mut all = Vec::with_capacity(args.clients * args.requests);
    let mut tiers: Vec<(TierName, u64)> = Vec::new();
    for worker in workers {
        match worker.await {
            Ok(Ok((latencies, counted))) => {
                all.extend(latencies);
                for (tier, n) in counted {
                    match tiers.iter_mut().find(|(t, _)| *t == tier) {
                        Some((_, m)) => *m += n,
                        None => tiers.push((tier, n)),
                    }
                }
            }
            Ok(Err(e)) => return fail(&format!("a bench client failed: {e}")),
            Err(e) => return fail(&format!("a bench client panicked: {e}")),
        }
    }
    let elapsed = started.elapsed();
    let after = usage(pid);
    let answered: Vec<String> = tiers
        .iter()
        .map(|(t, n)| format!("{} {:.1}%", t.label(), *n as f64 * 100.0 / all.len() as f64))
        .collect();
    let resources = match (before, after) {
        (Some((cpu0, _)), Some((cpu1, hwm))) => Some((cpu1 - cpu0, hwm)),
        _ => None,
    };
    report(&args, &mut all, elapsed, &answered.join(", "), resources);
    ExitCode::SUCCESS
}

fn report(
    args: &BenchArgs,
    all: &mut [Duration],
    elapsed: Duration,
    answered: &str,
    resources: Option<(f64, u64)>,
) {
    all.sort_unstable();
    let pct = |p: f64| {
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i].as_secs_f64() * 1e6
    };
    let throughput = all.len() as f64 / elapsed.as_secs_f64();
    println!(
        "{:?}: {} clients x {} requests, {} keys of {} bytes, zipf {}",
        args.op, args.clients, args.requests, args.keys, args.value_size, args.zipf
    );
    if !answered.is_empty() {
        println!("answered by: {answered}");
    }
    println!(
        "throughput: {throughput:.0} req/s over {:.2} s",
        elapsed.as_secs_f64()
    );
    println!(
        "latency us: p50 {:.1}  p95 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
        pct(0.50),
        pct(0.95),
        pct(0.99),
        pct(0.999),
        pct(1.0)
    );
    let (cpu, rss) = match resources {
        Some((cpu, hwm)) => {
            println!(
                "daemon: {cpu:.2} CPU s ({:.1} µs a request), peak RSS {:.1} MiB",
                cpu * 1e6 / all.len() as f64,
                hwm as f64 / (1024.0 * 1024.0)
            );
            (
                format!("{cpu:.2}"),
                format!("{:.1}", hwm as f64 / (1024.0 * 1024.0)),
            )
        }
        None => ("-".into(), "-".into()),
    };
    println!(
        "| {} | {} | {throughput:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {cpu} | {rss} |",
        args.label,
        args.clients,
        pct(0.50),
        pct(0.95),
        pct(0.99),
        pct(0.999)
    );
}

/// The floor: a server that reads each frame and writes back a frame as large as the
/// daemon's answer, with no work in between, on its own thread and runtime; the clients use
/// the same codec as against the daemon.
async fn echo(args: BenchArgs) -> ExitCode {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(e) => return fail(&format!("temp dir: {e}")),
    };
    let path: PathBuf = dir.path().join("echo.sock");
    let answer = Response::Value(Some(Found {
        value: Bytes::from(vec![b'x'; args.value_size]),
        info: EntryInfo {
            size: args.value_size as u64,
            created_ms: 0,
            last_access_ms: 0,
            access_count: 0,
            ttl_remaining: Some(Duration::from_secs(3600)),
            tier: TierName::Memory,
            age: Duration::ZERO,
            stale: None,
        },
    }));
    let frame = match codec::encode(&answer, usize::MAX) {
        Ok(frame) => frame,
        Err(e) => return fail(&e.to_string()),
    };
    let listener = match std::os::unix::net::UnixListener::bind(&path) {
        Ok(listener) => listener,
        Err(e) => return fail(&format!("bind {}: {e}", path.display())),
    };
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        runtime.block_on(async move {
            listener.set_nonblocking(true).expect("nonblocking");
            let listener = UnixListener::from_std(listener).expect("a tokio listener");
            while let Ok((stream, _)) = listener.accept().await {
                let frame = frame.clone();
                tokio::spawn(serve_echo(stream, frame));
            }
        });
    });
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.clients {
        let path = path.clone();
        let args = args.clone();
        workers.push(tokio::spawn(async move {
            let mut stream = UnixStream::connect(&path).await?;
            let mut keys = Keys::new(args.keys, args.zipf, worker as u64);
            let mut latencies = Vec::with_capacity(args.requests);
            for _ in 0..args.requests {
                let request = Request::Get {
                    key: format!("bench:key-{}", keys.next()),
                };
                let sent = Instant::now();
                let out = codec::encode(&request, usize::MAX)
                    .map_err(|e| std::io::Error::other(e.to_string()))?;
                stream.write_all(&out).await?;
                let payload = codec::read_frame(&mut stream, usize::MAX, Duration::from_secs(30))
                    .await
                    .map_err(|e| std::io::Error::other(e.to_string()))?
                    .ok_or_else(|| std::io::Error::other("echo server closed"))?;
                let _: Response =
                    codec::decode(&payload).map_err(|e| std::io::Error::other(e.to_string()))?;
                latencies.push(sent.elapsed());
            }
            Ok::<_, std::io::Error>(latencies)
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        match worker.await {
            Ok(Ok(latencies)) => all.extend(latencies),
            Ok(Err(e)) => return fail(&format!("an echo client failed: {e}")),
            Err(e) => return fail(&format!("an echo client panicked: {e}")),
        }
    }
    report(&args, &mut all, started.elapsed(), "", None);
    ExitCode::SUCCESS
}

async fn serve_echo(mut stream: UnixStream, frame: Vec<u8>) {
    loop {
        match codec::read_frame(&mut stream, usize::MAX, Duration::from_secs(30)).await {
            Ok(Some(_)) => {
                if stream.write_all(&frame).await.is_err() {
                    return;
                }
            }
            _ => return,
        }
    }
}
