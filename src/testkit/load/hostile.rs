//! Hostile clients: one measuring client's gets alone, then again while idle connections are
//! held open, slow writers send a byte a second, clients hang up in the middle of large
//! answers, and one client sends maximum-size frames in a loop. The run fails if the
//! measuring client gets a single error; the report compares its two p99s (RELIABILITY.md).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::attackers::{self, Counters};
use super::report::{Latencies, mib};
use super::workload::{Keys, LoadError, TIMEOUT, Workload, defaults, fill};
use crate::client::Client;
use crate::latency::Latency;
use crate::procfs::{self, Usage};
use crate::protocol::{Request, Response};

#[derive(Debug, Clone, clap::Args)]
pub struct Hostile {
    /// (the measuring client does `--requests` gets; `--clients` does not apply)
    #[command(flatten)]
    pub workload: Workload,
    /// Idle connections held open
    #[arg(long, default_value_t = 1_000)]
    pub idle: usize,
    /// Clients sending a byte a second
    #[arg(long, default_value_t = 8)]
    pub slow: usize,
    /// Clients hanging up in the middle of a 4 MiB answer, again and again
    #[arg(long, default_value_t = 8)]
    pub hang_ups: usize,
    /// The size of the frames sent in a loop (the daemon's `daemon.max_frame_size`, 16 MiB
    /// by default)
    #[arg(long, default_value_t = 16 << 20)]
    pub frame_bytes: usize,
}

impl Default for Hostile {
    fn default() -> Hostile {
        defaults()
    }
}

#[derive(Debug, Clone)]
pub struct HostileReport {
    pub hostile: Hostile,
    /// Idle connections the daemon accepted; why it refused one, which ends the opening.
    pub idle_held: u64,
    pub refused_because: Option<String>,
    pub slow_bytes: u64,
    pub slow_cut_off: u64,
    pub hung_up: u64,
    pub max_frames: u64,
    pub max_frames_refused: u64,
    /// The daemon before the hostile clients came, and while they were at it.
    pub before: Option<Usage>,
    pub during: Option<Usage>,
    /// The measuring client's gets alone, then under the hostile load.
    pub alone: Latencies,
    pub loaded: Latencies,
}

impl HostileReport {
    /// How many times the measuring client's p99 grew under the hostile load.
    pub fn p99_ratio(&self) -> f64 {
        self.loaded.p99.as_secs_f64() / self.alone.p99.as_secs_f64()
    }
}

/// The large value the hang-ups ask for.
const BIG_KEY: &str = "bench:hostile-big";

pub async fn hostile(socket: &Path, hostile: &Hostile) -> Result<HostileReport, LoadError> {
    // Holding 1,000 connections needs more descriptors than the usual soft limit of 1,024.
    crate::daemon::raise_fd_limit();
    let (pid, _) = fill(socket, &hostile.workload).await?;
    let big = Request::Set {
        key: BIG_KEY.into(),
        value: Bytes::from(vec![b'b'; 4 << 20]),
        ttl: None,
    };
    Client::connect(socket, TIMEOUT)
        .await?
        .request(&big)
        .await?;

    let alone = measure(socket, &hostile.workload)
        .await
        .map_err(|e| e.of("the measuring client"))?;
    let before = procfs::usage(pid);

    let mut held = Vec::with_capacity(hostile.idle);
    let mut refused_because = None;
    for _ in 0..hostile.idle {
        match Client::connect(socket, TIMEOUT).await {
            Ok(client) => held.push(client),
            Err(e) => {
                refused_because = Some(e.to_string());
                break;
            }
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Counters::default());
    let mut tasks = Vec::new();
    for _ in 0..hostile.slow {
        let writer = attackers::slow_writer(socket.to_owned(), stop.clone(), counts.clone());
        tasks.push(tokio::spawn(writer));
    }
    for _ in 0..hostile.hang_ups {
        let hang_up = attackers::hang_up(socket.to_owned(), BIG_KEY, stop.clone(), counts.clone());
        tasks.push(tokio::spawn(hang_up));
    }
    let frames = attackers::max_frames(
        socket.to_owned(),
        hostile.frame_bytes,
        stop.clone(),
        counts.clone(),
    );
    tasks.push(tokio::spawn(frames));
    // Let the slow writers and the others get going.
    let load_started = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let loaded = measure(socket, &hostile.workload).await;
    let during = procfs::usage(pid);
    // Held for at least 3 s, so the daemon has cut slow writers off (a frame must arrive
    // within `daemon.frame_timeout`, 10 s by default, 1 s in the tests).
    tokio::time::sleep(Duration::from_secs(3).saturating_sub(load_started.elapsed())).await;
    stop.store(true, Relaxed);
    for task in tasks {
        task.abort();
    }
    let idle_held = held.len() as u64;
    drop(held);
    let loaded = loaded.map_err(|e| e.of("the measuring client under load"))?;

    Ok(HostileReport {
        hostile: hostile.clone(),
        idle_held,
        refused_because,
        slow_bytes: counts.slow_bytes.load(Relaxed),
        slow_cut_off: counts.slow_cut_off.load(Relaxed),
        hung_up: counts.hung_up.load(Relaxed),
        max_frames: counts.max_frames.load(Relaxed),
        max_frames_refused: counts.max_frames_refused.load(Relaxed),
        before,
        during,
        alone,
        loaded,
    })
}

/// One client's gets, one at a time, on a thread and runtime of its own so the hostile
/// clients of this process do not delay it; any error fails it.
async fn measure(socket: &Path, workload: &Workload) -> Result<Latencies, LoadError> {
    let (socket, workload) = (socket.to_owned(), workload.clone());
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let _ = tx.send(runtime.block_on(measure_here(socket, workload)));
    });
    rx.await
        .unwrap_or_else(|_| Err(LoadError::Panicked("the measuring thread".into())))
}

async fn measure_here(socket: PathBuf, workload: Workload) -> Result<Latencies, LoadError> {
    let mut client = Client::connect(&socket, TIMEOUT).await?;
    let mut keys = Keys::new(&workload, 7)?;
    let mut latency = Latency::default();
    for _ in 0..workload.requests {
        let request = Request::Get {
            key: keys.next_key(),
        };
        let sent = Instant::now();
        match client.request(&request).await? {
            Response::Value(Some(_)) => latency.record(sent.elapsed()),
            other => return Err(LoadError::answer(&other)),
        }
    }
    Ok(Latencies::from(&latency))
}

impl fmt::Display for HostileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "hostile: {} idle connections held, {} slow writers ({} bytes sent, cut off {} \
             times), {} hang-ups mid-answer, {} frames of {} bytes, {} connections refused",
            self.idle_held,
            self.hostile.slow,
            self.slow_bytes,
            self.slow_cut_off,
            self.hung_up,
            self.max_frames,
            self.hostile.frame_bytes,
            u64::from(self.refused_because.is_some()),
        )?;
        if let Some(why) = &self.refused_because {
            writeln!(f, "  an idle connection was refused: {why}")?;
        }
        if self.max_frames_refused > 0 {
            writeln!(
                f,
                "  {} maximum-size frames were not stored",
                self.max_frames_refused
            )?;
        }
        if let (Some(before), Some(during)) = (self.before, self.during) {
            writeln!(
                f,
                "daemon: rss {:.1} -> {:.1} MiB, fds {} -> {}",
                mib(before.rss_bytes),
                mib(during.rss_bytes),
                before.open_fds,
                during.open_fds
            )?;
        }
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let (alone, loaded) = (&self.alone, &self.loaded);
        writeln!(
            f,
            "measuring client alone:  p50 {:.0} µs  p99 {:.0} µs",
            us(alone.p50),
            us(alone.p99)
        )?;
        writeln!(
            f,
            "measuring client loaded: p50 {:.0} µs  p99 {:.0} µs",
            us(loaded.p50),
            us(loaded.p99)
        )?;
        writeln!(f, "p99 loaded / alone: {:.2}", self.p99_ratio())?;
        writeln!(
            f,
            "| hostile | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} |",
            self.idle_held,
            us(alone.p50),
            us(alone.p99),
            us(loaded.p50),
            us(loaded.p99),
            self.p99_ratio()
        )
    }
}
