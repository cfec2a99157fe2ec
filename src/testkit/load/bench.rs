//! The latency and throughput run against a running daemon: N clients, each on its own
//! connection, one request at a time (gets of the filled key set, or sets); every answer's
//! tier is counted, and the daemon's CPU time and peak RSS are read from /proc around the run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use bytes::Bytes;

use super::report::{BenchReport, DaemonCost, Latencies, count_tier};
use super::workload::{Keys, LoadError, Op, TIMEOUT, Workload, defaults, fill, join_all, key};
use crate::client::Client;
use crate::latency::Latency;
use crate::procfs;
use crate::protocol::{Request, Response, TierName};

#[derive(Debug, Clone, clap::Args)]
pub struct Bench {
    #[command(flatten)]
    pub workload: Workload,
    /// What each request does
    #[arg(long, value_enum, default_value_t = Op::Get)]
    pub op: Op,
    /// Visit the keys in order, each once per pass (a cold L1 then answers every get from
    /// L2), instead of drawing them at random
    #[arg(long)]
    pub sequential: bool,
    /// A name for the result row (`| label | ... |`, for bench/run.sh)
    #[arg(long, default_value = "shadcache")]
    pub label: String,
}

impl Default for Bench {
    fn default() -> Bench {
        defaults()
    }
}

/// One client's share of the run.
struct Done {
    latency: Latency,
    answered_by: Vec<(TierName, u64)>,
}

pub async fn bench(socket: &Path, bench: &Bench) -> Result<BenchReport, LoadError> {
    let (pid, value) = fill(socket, &bench.workload).await?;
    let before = procfs::usage(pid);
    let started = Instant::now();
    let tasks = (0..bench.workload.clients)
        .map(|worker| {
            tokio::spawn(client(
                socket.to_owned(),
                bench.clone(),
                value.clone(),
                worker,
            ))
        })
        .collect();
    let done = join_all("a bench client", tasks).await?;
    let elapsed = started.elapsed();
    let after = procfs::usage(pid);

    let mut latency = Latency::default();
    let mut answered_by = Vec::new();
    for client in done {
        latency.add(&client.latency);
        for (tier, n) in client.answered_by {
            count_tier(&mut answered_by, tier, n);
        }
    }
    Ok(BenchReport {
        label: bench.label.clone(),
        op: bench.op,
        workload: bench.workload.clone(),
        requests: latency.summary().count,
        elapsed,
        latency: Latencies::from(&latency),
        answered_by,
        daemon: before.zip(after).map(|(before, after)| DaemonCost {
            cpu: after.cpu.saturating_sub(before.cpu),
            peak_rss_bytes: after.peak_rss_bytes,
        }),
    })
}

async fn client(
    socket: PathBuf,
    bench: Bench,
    value: Bytes,
    worker: usize,
) -> Result<Done, LoadError> {
    let workload = &bench.workload;
    let mut client = Client::connect(&socket, TIMEOUT).await?;
    let mut keys = Keys::new(workload, worker as u64)?;
    let mut done = Done {
        latency: Latency::default(),
        answered_by: Vec::new(),
    };
    for n in 0..workload.requests {
        let index = if bench.sequential {
            (worker * workload.requests + n) % workload.keys
        } else {
            keys.next()
        };
        let request = match bench.op {
            Op::Get => Request::Get { key: key(index) },
            Op::Set => Request::Set {
                key: key(index),
                value: value.clone(),
                ttl: None,
            },
        };
        let sent = Instant::now();
        let response = client.request(&request).await?;
        done.latency.record(sent.elapsed());
        match response {
            Response::Value(Some(found)) => count_tier(&mut done.answered_by, found.info.tier, 1),
            Response::Stored(_) => {}
            other => return Err(LoadError::answer(&other)),
        }
    }
    Ok(done)
}
