//! `shadcache bench`: a small load generator against a running daemon. It fills a key set,
//! then has N clients issue gets over their own connections and reports throughput and
//! latency percentiles. Numbers printed, never asserted.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::fail;
use crate::client::Client;
use crate::protocol::{Request, Response, SetEntry};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Concurrent clients, each on its own connection
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// Gets per client
    #[arg(long, default_value_t = 10_000)]
    requests: usize,
    /// Distinct keys
    #[arg(long, default_value_t = 1_000)]
    keys: usize,
    /// Bytes per value
    #[arg(long, default_value_t = 2_300)]
    value_size: usize,
    /// What each request does
    #[arg(long, value_enum, default_value_t = Op::Get)]
    op: Op,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Op {
    /// Read a key of the set (filled first)
    Get,
    /// Overwrite a key of the set
    Set,
}

pub async fn run(socket: &Path, args: BenchArgs) -> ExitCode {
    let timeout = Duration::from_secs(30);
    let mut setup = match Client::connect(socket, timeout).await {
        Ok(client) => client,
        Err(e) => return fail(&e.to_string()),
    };
    let value = Bytes::from(vec![b'x'; args.value_size]);
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
            Ok(other) => return fail(&format!("setting up the key set: {other:?}")),
            Err(e) => return fail(&e.to_string()),
        }
    }

    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..args.clients {
        let socket = socket.to_owned();
        let (requests, keys, op) = (args.requests, args.keys, args.op);
        let value = value.clone();
        workers.push(tokio::spawn(async move {
            let mut client = Client::connect(&socket, timeout).await?;
            let mut latencies = Vec::with_capacity(requests);
            let mut state = 0x9e37_79b9_7f4a_7c15u64 ^ worker as u64;
            for _ in 0..requests {
                // xorshift: cheap, deterministic, good enough to spread keys.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let key = format!("bench:key-{}", state as usize % keys);
                let request = match op {
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
                if !matches!(response, Response::Value(Some(_)) | Response::Stored(_)) {
                    return Err(crate::client::ClientError::Closed);
                }
            }
            Ok::<_, crate::client::ClientError>(latencies)
        }));
    }
    let mut all = Vec::with_capacity(args.clients * args.requests);
    for worker in workers {
        match worker.await {
            Ok(Ok(latencies)) => all.extend(latencies),
            Ok(Err(e)) => return fail(&format!("a bench client failed: {e}")),
            Err(e) => return fail(&format!("a bench client panicked: {e}")),
        }
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    let pct = |p: f64| {
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i].as_secs_f64() * 1e6
    };
    println!(
        "{:?}: {} clients x {} requests, {} keys of {} bytes",
        args.op, args.clients, args.requests, args.keys, args.value_size
    );
    println!(
        "throughput: {:.0} req/s over {:.2} s",
        all.len() as f64 / elapsed.as_secs_f64(),
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
    ExitCode::SUCCESS
}
