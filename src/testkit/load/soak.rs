//! The soak: N clients of mixed load (get, set, mget, mset, delete, gets of absent keys) for a
//! time, the daemon's RSS and open descriptors sampled as it goes, and again once the clients
//! have left, beside the daemon's own stats. Any failed request fails it (RELIABILITY.md).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rand::RngExt;

use super::report::mib;
use super::workload::{Keys, LoadError, TIMEOUT, Workload, defaults, fill};
use crate::client::Client;
use crate::procfs::{self, Usage};
use crate::protocol::{Request, Response, SetEntry, Stats};

#[derive(Debug, Clone, clap::Args)]
pub struct Soak {
    /// (`--requests` does not apply: every client runs until the time is up)
    #[command(flatten)]
    pub workload: Workload,
    /// How long the clients run
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10m")]
    pub duration: Duration,
    /// How often the daemon is sampled
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    pub sample: Duration,
}

impl Default for Soak {
    fn default() -> Soak {
        defaults()
    }
}

/// The daemon during the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoakSample {
    /// Since the clients started.
    pub at: Duration,
    pub daemon: Usage,
    /// Requests answered so far, and how many of them were errors.
    pub requests: u64,
    pub errors: u64,
    /// Requests a second since the previous sample.
    pub rate: f64,
}

#[derive(Debug, Clone)]
pub struct SoakReport {
    pub soak: Soak,
    /// The daemon before the clients started, and a second after they left.
    pub before: Option<Usage>,
    pub after: Option<Usage>,
    pub samples: Vec<SoakSample>,
    pub requests: u64,
    /// Requests answered with an error; the first few of those answers.
    pub errors: u64,
    pub first_errors: Vec<String>,
    /// Clients whose connection failed (each stops there).
    pub client_failures: Vec<String>,
    pub elapsed: Duration,
    /// The daemon's stats once the clients left: each tier's bytes against its budget, and
    /// the errors the daemon counted itself.
    pub stats: Option<Stats>,
}

impl SoakReport {
    pub fn passed(&self) -> bool {
        self.errors == 0 && self.client_failures.is_empty()
    }
}

/// How many error answers a report quotes.
const QUOTED_ERRORS: usize = 10;

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

/// Runs the soak, handing each sample to `progress` as it is taken (a long run shows its
/// curve as it goes).
pub async fn soak(
    socket: &Path,
    soak: &Soak,
    mut progress: impl FnMut(&SoakSample),
) -> Result<SoakReport, LoadError> {
    let (pid, value) = fill(socket, &soak.workload).await?;
    let before = procfs::usage(pid);
    let counters = Arc::new(Counters::default());
    let started = Instant::now();
    let deadline = started + soak.duration;
    let clients: Vec<_> = (0..soak.workload.clients)
        .map(|worker| {
            let client = client(
                socket.to_owned(),
                soak.workload.clone(),
                value.clone(),
                worker as u64 + 1,
                deadline,
                counters.clone(),
            );
            tokio::spawn(client)
        })
        .collect();

    let mut samples: Vec<SoakSample> = Vec::new();
    let mut ticker = tokio::time::interval(soak.sample);
    ticker.tick().await;
    while Instant::now() < deadline {
        ticker.tick().await;
        let daemon = procfs::usage(pid).ok_or(LoadError::DaemonGone(pid))?;
        let requests = counters.requests.load(Relaxed);
        let previous = samples.last().map_or(0, |s| s.requests);
        let sample = SoakSample {
            at: started.elapsed(),
            daemon,
            requests,
            errors: counters.errors.load(Relaxed),
            rate: (requests - previous) as f64 / soak.sample.as_secs_f64(),
        };
        progress(&sample);
        samples.push(sample);
    }
    let mut client_failures = Vec::new();
    for client in clients {
        match client.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => client_failures.push(format!("a soak client failed: {e}")),
            Err(e) => client_failures.push(format!("a soak client panicked: {e}")),
        }
    }
    let elapsed = started.elapsed();
    // The daemon closes a connection when it next reads from it: give it a moment.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = procfs::usage(pid);
    let stats = match Client::connect(socket, TIMEOUT).await {
        Ok(mut client) => match client.request(&Request::Stats).await {
            Ok(Response::Stats(stats)) => Some(*stats),
            _ => None,
        },
        Err(_) => None,
    };
    let first_errors = std::mem::take(&mut *counters.first_errors.lock().expect("not poisoned"));
    Ok(SoakReport {
        soak: soak.clone(),
        before,
        after,
        samples,
        requests: counters.requests.load(Relaxed),
        errors: counters.errors.load(Relaxed),
        first_errors,
        client_failures,
        elapsed,
        stats,
    })
}

async fn client(
    socket: PathBuf,
    workload: Workload,
    value: Bytes,
    seed: u64,
    deadline: Instant,
    counters: Arc<Counters>,
) -> Result<(), LoadError> {
    let mut client = Client::connect(&socket, TIMEOUT).await?;
    let mut keys = Keys::new(&workload, seed)?;
    while Instant::now() < deadline {
        // 70 % get, 10 % set, 5 % each mget, mset, delete, miss.
        let request = match keys.rng().random_range(0..20) {
            0..=13 => Request::Get {
                key: keys.next_key(),
            },
            14 | 15 => Request::Set {
                key: keys.next_key(),
                value: value.clone(),
                ttl: None,
            },
            16 => Request::MGet {
                keys: (0..8).map(|_| keys.next_key()).collect(),
            },
            17 => Request::MSet {
                entries: (0..4)
                    .map(|_| SetEntry {
                        key: keys.next_key(),
                        value: value.clone(),
                        ttl: Some(Duration::from_secs(600)),
                    })
                    .collect(),
            },
            18 => Request::Delete {
                key: keys.next_key(),
            },
            _ => Request::Get {
                key: format!("bench:absent-{}", keys.next()),
            },
        };
        let answer = client.request(&request).await?;
        counters.requests.fetch_add(1, Relaxed);
        if let Response::Error(e) = answer {
            counters.errors.fetch_add(1, Relaxed);
            let mut quoted = counters.first_errors.lock().expect("not poisoned");
            if quoted.len() < QUOTED_ERRORS {
                quoted.push(format!("{}: {}", request_name(&request), e.message));
            }
        }
    }
    Ok(())
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

impl fmt::Display for SoakSample {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "t={:>6.1}s  rss {:>7.1} MiB  fds {:>5}  {:>8.0} req/s  errors {}",
            self.at.as_secs_f64(),
            mib(self.daemon.rss_bytes),
            self.daemon.open_fds,
            self.rate,
            self.errors
        )
    }
}

impl fmt::Display for SoakReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = &self.soak.workload;
        writeln!(
            f,
            "soak: {} clients of mixed load for {} ({} keys of {} bytes), a sample every {}",
            w.clients,
            humantime::format_duration(self.soak.duration),
            w.keys,
            w.value_size,
            humantime::format_duration(self.soak.sample)
        )?;
        if let Some(before) = self.before {
            writeln!(f, "{}", daemon_line("before the clients", before))?;
        }
        writeln!(
            f,
            "soak: {} requests in {:.1} s ({:.0} req/s), {} errors",
            self.requests,
            self.elapsed.as_secs_f64(),
            self.requests as f64 / self.elapsed.as_secs_f64(),
            self.errors
        )?;
        for quoted in &self.first_errors {
            writeln!(f, "  error: {quoted}")?;
        }
        for failure in &self.client_failures {
            writeln!(f, "  {failure}")?;
        }
        // Flat means: after the first quarter (warm-up: L1 filling, the pool's connections),
        // nothing grows.
        let (first, last) = (
            self.samples.get(self.samples.len() / 4),
            self.samples.last(),
        );
        if let (Some(first), Some(last)) = (first, last) {
            let max_rss = self.samples.iter().map(|s| s.daemon.rss_bytes).max();
            let max_fds = self.samples.iter().map(|s| s.daemon.open_fds).max();
            writeln!(
                f,
                "rss: {:.1} MiB at t={:.0}s, {:.1} MiB at the end, max {:.1} MiB; \
                 fds: {} at t={:.0}s, {} at the end, max {}",
                mib(first.daemon.rss_bytes),
                first.at.as_secs_f64(),
                mib(last.daemon.rss_bytes),
                mib(max_rss.unwrap_or(0)),
                first.daemon.open_fds,
                first.at.as_secs_f64(),
                last.daemon.open_fds,
                max_fds.unwrap_or(0)
            )?;
        }
        if let Some(after) = self.after {
            writeln!(f, "{}", daemon_line("after the clients left", after))?;
        }
        if let Some(stats) = &self.stats {
            let budgets: Vec<String> = stats
                .tiers
                .iter()
                .filter(|t| t.capacity_bytes > 0)
                .map(|t| {
                    format!(
                        "{} {:.1} of {:.1} MiB",
                        t.tier.label(),
                        mib(t.bytes),
                        mib(t.capacity_bytes)
                    )
                })
                .collect();
            writeln!(
                f,
                "budgets: {}; daemon request errors {}",
                budgets.join(", "),
                stats.request_errors
            )?;
        }
        Ok(())
    }
}

fn daemon_line(when: &str, daemon: Usage) -> String {
    format!(
        "{when}: rss {:.1} MiB, fds {}",
        mib(daemon.rss_bytes),
        daemon.open_fds
    )
}
