//! A day of reads replayed in minutes: keys with an origin (registry items) read with Zipf
//! popularity while the daemon's test clock (`SHADCACHE_TEST_CLOCK=1`) moves forward one
//! step at a time, so TTLs expire as they would over the day. Counts the answers that were
//! stale, for the hottest tenth of the keys and for all, and what the origin was asked.

use std::path::Path;
use std::time::Duration;

use crate::client::Client;
use crate::protocol::{Request, Response};

use super::workload::{Keys, LoadError, Workload};

#[derive(Debug, Clone, clap::Args)]
pub struct Replay {
    /// The keys to read, most popular first, one per line
    #[arg(long, value_name = "FILE")]
    pub keys: std::path::PathBuf,
    /// Popularity skew: rank r is read with weight 1 / r^zipf
    #[arg(long, default_value_t = 1.0)]
    pub zipf: f64,
    /// The span of daemon time replayed
    #[arg(long, default_value = "24h", value_parser = humantime::parse_duration)]
    pub span: Duration,
    /// Daemon time between two rounds of reads
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    pub step: Duration,
    /// Reads per step
    #[arg(long, default_value_t = 10)]
    pub reads: u64,
    /// Real time after each step, so the daemon's timers (refresh-ahead) run
    #[arg(long, default_value = "100ms", value_parser = humantime::parse_duration)]
    pub pause: Duration,
    #[arg(long, default_value = "replay")]
    pub label: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    pub label: String,
    pub reads: u64,
    pub stale: u64,
    /// Reads of the hottest tenth of the keys, and how many of them were stale.
    pub hot_reads: u64,
    pub hot_stale: u64,
    /// What the origin was asked: for clients, for stale copies answered, ahead of expiry.
    pub fetched: u64,
    pub refreshed: u64,
    pub refreshed_ahead: u64,
}

impl std::fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let share = |n: u64, of: u64| 100.0 * n as f64 / of.max(1) as f64;
        writeln!(
            f,
            "| {} | {} | {} ({:.2} %) | {} ({:.2} %) | {} | {} | {} |",
            self.label,
            self.reads,
            self.stale,
            share(self.stale, self.reads),
            self.hot_stale,
            share(self.hot_stale, self.hot_reads),
            self.fetched,
            self.refreshed,
            self.refreshed_ahead,
        )
    }
}

pub async fn replay(socket: &Path, replay: &Replay) -> Result<ReplayReport, LoadError> {
    let names: Vec<String> = std::fs::read_to_string(&replay.keys)
        .map_err(|e| LoadError::Setup(format!("{}: {e}", replay.keys.display())))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    let workload = Workload {
        keys: names.len(),
        zipf: replay.zipf,
        ..Workload::default()
    };
    let mut draws = Keys::new(&workload, 1)?;
    let hot = names.len().div_ceil(10);
    let mut client = Client::connect(socket, Duration::from_secs(5)).await?;
    let before = stats(&mut client).await?;
    let mut report = ReplayReport {
        label: replay.label.clone(),
        ..ReplayReport::default()
    };
    let steps = replay.span.as_millis() / replay.step.as_millis().max(1);
    for _ in 0..steps {
        for _ in 0..replay.reads {
            let rank = draws.next();
            let request = Request::Get {
                key: names[rank].clone(),
            };
            let stale = match client.request(&request).await? {
                Response::Value(Some(found)) => found.info.stale.is_some(),
                other => return Err(LoadError::answer(&other)),
            };
            report.reads += 1;
            report.stale += u64::from(stale);
            if rank < hot {
                report.hot_reads += 1;
                report.hot_stale += u64::from(stale);
            }
        }
        match client.request(&Request::AdvanceClock(replay.step)).await? {
            Response::Pong => {}
            other => {
                return Err(LoadError::Setup(format!(
                    "the daemon would not move its clock (start it with SHADCACHE_TEST_CLOCK=1): \
                     {other:?}"
                )));
            }
        }
        tokio::time::sleep(replay.pause).await;
    }
    let after = stats(&mut client).await?;
    report.fetched = after.fetched - before.fetched;
    report.refreshed = after.refreshed - before.refreshed;
    report.refreshed_ahead = after.refreshed_ahead - before.refreshed_ahead;
    Ok(report)
}

async fn stats(client: &mut Client) -> Result<crate::protocol::RouterStats, LoadError> {
    match client.request(&Request::Stats).await? {
        Response::Stats(stats) => Ok(stats.router),
        other => Err(LoadError::answer(&other)),
    }
}
