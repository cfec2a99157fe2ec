//! The client subcommands: one request each, printed for a person (or as JSON for a script).

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;

use super::{Cmd, DomainArgs, MigrateCmd, fail};
use crate::client::{Client, ClientError};
use crate::config::{self, Config, Overrides};
use crate::database::offline;
use crate::protocol::{
    BreakerState, EntryInfo, ErrorCode, Found, MigrateAction, Query, Request, Response, Stats,
};

/// Generous: a `stats` or a large `keys` on a busy daemon is still quick, and a hang is not.
pub(super) const TIMEOUT: Duration = Duration::from_secs(30);

pub fn run(command: Cmd, overrides: Overrides, env: Vec<(String, String)>) -> ExitCode {
    let loaded = match config::load(&overrides, env) {
        Ok(loaded) => loaded,
        Err(e) => return fail(&e.to_string()),
    };
    if let Cmd::Config = command {
        print!("{}", config::render(&loaded));
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let socket = loaded.config.socket.clone();
    runtime.block_on(async move {
        if let Cmd::Bench(args) = command {
            return super::bench::run(&socket, args).await;
        }
        if let Cmd::Warm(args) = command {
            return super::warm::run(&loaded.config, args).await;
        }
        if let Some(request) = database_request(&command) {
            return database_command(&loaded.config, request).await;
        }
        let request = match request_for(&command) {
            Ok(request) => request,
            Err(e) => return fail(&e),
        };
        let mut client = match Client::connect(&socket, TIMEOUT).await {
            Ok(client) => client,
            Err(e) => return fail(&e.to_string()),
        };
        match client.request(&request).await {
            Ok(response) => print_response(&command, response),
            Err(e) => fail(&e.to_string()),
        }
    })
}

fn request_for(command: &Cmd) -> Result<Request, String> {
    Ok(match command {
        Cmd::Ping => Request::Ping,
        Cmd::Get { key, .. } => Request::Get { key: key.clone() },
        Cmd::Set { key, ttl } => {
            let mut value = Vec::new();
            std::io::stdin()
                .read_to_end(&mut value)
                .map_err(|e| format!("cannot read the value from stdin: {e}"))?;
            Request::Set {
                key: key.clone(),
                value: Bytes::from(value),
                ttl: *ttl,
            }
        }
        Cmd::Del { key } => Request::Delete { key: key.clone() },
        Cmd::Keys { pattern } => Request::Keys {
            pattern: pattern.clone(),
        },
        Cmd::Stats { .. } => Request::Stats,
        Cmd::Clear { shared } => Request::Clear { shared: *shared },
        Cmd::Daemon { .. }
        | Cmd::Config
        | Cmd::Bench(_)
        | Cmd::Warm(_)
        | Cmd::Mcp(_)
        | Cmd::Migrate { .. }
        | Cmd::Maintenance => unreachable!("handled before a request is built"),
        domain => {
            let (query, args) = domain_query(domain).expect("the rest are domain commands");
            Request::Shadcn {
                framework: args.framework.clone(),
                query,
            }
        }
    })
}

/// The query a domain command asks, with its common arguments.
fn domain_query(command: &Cmd) -> Option<(Query, &DomainArgs)> {
    Some(match command {
        Cmd::Component { name, domain } => (Query::Component { name: name.clone() }, domain),
        Cmd::Demo { name, domain } => (Query::Demo { name: name.clone() }, domain),
        Cmd::Metadata { name, domain } => (Query::Metadata { name: name.clone() }, domain),
        Cmd::Block {
            name,
            with_components,
            domain,
        } => (
            Query::Block {
                name: name.clone(),
                include_components: *with_components,
            },
            domain,
        ),
        Cmd::Components { domain } => (Query::ListComponents, domain),
        Cmd::Blocks { category, domain } => (
            Query::ListBlocks {
                category: category.clone(),
            },
            domain,
        ),
        Cmd::Structure { path, domain } => (
            Query::Structure {
                path: path.clone(),
                owner: None,
                repo: None,
                branch: None,
            },
            domain,
        ),
        _ => return None,
    })
}

fn print_response(command: &Cmd, response: Response) -> ExitCode {
    let miss = ExitCode::from(1);
    match (command, response) {
        (_, Response::Error(e)) if e.code == ErrorCode::NotFound => {
            eprintln!("{}", e.message);
            miss
        }
        (_, Response::Error(e)) => fail(&e.message),
        (Cmd::Ping, Response::Pong) => {
            println!("pong");
            ExitCode::SUCCESS
        }
        (Cmd::Get { verbose, key }, Response::Value(found)) => match found {
            Some(found) => print_found(key, *verbose, &found),
            None => {
                eprintln!("miss: {key} is not cached");
                miss
            }
        },
        (command, Response::Value(Some(found))) if domain_query(command).is_some() => {
            let (query, args) = domain_query(command).expect("a domain command");
            print_found(query.name(), args.verbose, &found)
        }
        (Cmd::Set { key, .. }, Response::Stored(ack)) => {
            eprintln!("stored {key} ({ack:?})");
            ExitCode::SUCCESS
        }
        (Cmd::Del { .. }, Response::Deleted(existed)) => {
            if existed {
                ExitCode::SUCCESS
            } else {
                miss
            }
        }
        (Cmd::Clear { .. }, Response::Cleared(n)) => {
            eprintln!("cleared {n} entries");
            ExitCode::SUCCESS
        }
        (Cmd::Keys { .. }, Response::Keys(keys)) => {
            let mut out = std::io::stdout().lock();
            for key in keys {
                let _ = writeln!(out, "{key}");
            }
            ExitCode::SUCCESS
        }
        (Cmd::Stats { json }, Response::Stats(stats)) => {
            if *json {
                match serde_json::to_string_pretty(&stats) {
                    Ok(text) => println!("{text}"),
                    Err(e) => return fail(&e.to_string()),
                }
            } else {
                print!("{}", stats_table(&stats));
            }
            ExitCode::SUCCESS
        }
        (_, other) => fail(&format!("unexpected answer from the daemon: {other:?}")),
    }
}

fn database_request(command: &Cmd) -> Option<Request> {
    match command {
        Cmd::Migrate { action } => Some(Request::Migrate(match action {
            MigrateCmd::Status => MigrateAction::Status,
            MigrateCmd::Up { n } => MigrateAction::Up(*n),
            MigrateCmd::Down { n } => MigrateAction::Down(n.unwrap_or(1)),
        })),
        Cmd::Maintenance => Some(Request::Maintenance),
        _ => None,
    }
}

/// Through the daemon when one runs; otherwise on the data dir directly.
async fn database_command(config: &Config, request: Request) -> ExitCode {
    let response = match Client::connect(&config.socket, TIMEOUT).await {
        Ok(mut client) => match client.request(&request).await {
            Ok(response) => response,
            Err(e) => return fail(&e.to_string()),
        },
        Err(ClientError::NoDaemon(_)) => {
            eprintln!(
                "no daemon running; opening {} directly",
                config.data_dir.display()
            );
            let result = match request {
                Request::Migrate(action) => offline::migrate(&config.l2, &config.data_dir, action)
                    .await
                    .map(Response::Migrations),
                _ => offline::maintenance(&config.l2, &config.data_dir)
                    .await
                    .map(Response::Maintenance),
            };
            match result {
                Ok(response) => response,
                Err(e) => return fail(&e),
            }
        }
        Err(e) => return fail(&e.to_string()),
    };
    match response {
        Response::Migrations(list) => {
            for m in list {
                let state = match m.applied_ms {
                    Some(at) => format!(
                        "applied {}",
                        humantime::format_rfc3339_seconds(
                            std::time::UNIX_EPOCH + Duration::from_millis(at),
                        )
                    ),
                    None => "pending".to_owned(),
                };
                println!("{:04} {:<24} {state}", m.version, m.name);
            }
            ExitCode::SUCCESS
        }
        Response::Maintenance(r) => {
            println!(
                "deleted {} stale, evicted {}; {} rows, {} bytes stored; took {:.1} ms",
                r.stale_deleted,
                r.evicted,
                r.rows,
                r.bytes,
                r.took.as_secs_f64() * 1e3
            );
            ExitCode::SUCCESS
        }
        Response::Error(e) => fail(&e.message),
        other => fail(&format!("unexpected answer from the daemon: {other:?}")),
    }
}

fn print_found(what: &str, verbose: bool, found: &Found) -> ExitCode {
    if verbose {
        eprintln!("{}", describe(what, &found.info));
    }
    let mut out = std::io::stdout().lock();
    if out
        .write_all(&found.value)
        .and_then(|_| out.flush())
        .is_err()
    {
        return fail("cannot write to stdout");
    }
    ExitCode::SUCCESS
}

fn describe(key: &str, info: &EntryInfo) -> String {
    let age = Duration::from_secs(info.age.as_secs());
    let ttl = match (info.stale, info.ttl_remaining) {
        (Some(why), _) => format!("expired, stale: {}", why.label()),
        (None, Some(d)) => humantime::format_duration(Duration::from_secs(d.as_secs())).to_string(),
        (None, None) => "never expires".into(),
    };
    format!(
        "{key}: from {}, {} bytes, age {}, ttl {ttl}, {} reads",
        info.tier.label(),
        info.size,
        humantime::format_duration(age),
        info.access_count
    )
}

pub fn stats_table(stats: &Stats) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let uptime = Duration::from_secs(stats.uptime.as_secs());
    let _ = writeln!(
        out,
        "shadcache {} (pid {}), up {}",
        stats.daemon_version,
        stats.pid,
        humantime::format_duration(uptime)
    );
    let _ = writeln!(
        out,
        "connections: {} open, {} total, {} refused",
        stats.connections_open, stats.connections_total, stats.connections_refused
    );
    let _ = writeln!(
        out,
        "requests:    {} ({} errors)",
        stats.requests, stats.request_errors
    );
    let answered: Vec<String> = stats
        .router
        .answered_by
        .iter()
        .map(|(tier, n)| format!("{} {n}", tier.label()))
        .collect();
    let r = &stats.router;
    let _ = writeln!(
        out,
        "router:      {} commands, answered by [{}], {} misses, {} promotions",
        r.commands,
        answered.join(", "),
        r.misses,
        r.promotions,
    );
    let stale: Vec<String> = r
        .stale_answers
        .iter()
        .map(|(why, n)| format!("{} {n}", why.label()))
        .collect();
    let _ = writeln!(
        out,
        "upstream:    {} fetched, {} refreshed in the background, {} coalesced; stale answers [{}]",
        r.fetched,
        r.refreshed,
        r.coalesced,
        stale.join(", ")
    );
    let b = &r.breaker;
    let breaker = match b.state {
        BreakerState::Closed => "closed".to_owned(),
        BreakerState::HalfOpen => "half-open".to_owned(),
        BreakerState::Open { retry_in } => format!("open, retrying in {} s", retry_in.as_secs()),
    };
    let _ = writeln!(
        out,
        "breaker:     {breaker}; {} failures of {} answers in the window; {} transitions, opened {}x, {} fetches refused",
        b.window_failures, b.window_calls, b.transitions, b.opened, b.rejected
    );
    if let Some(q) = &stats.write_behind {
        let _ = writeln!(
            out,
            "write-behind: {}/{} queued; {} enqueued ({} coalesced), {} flushed in {} batches ({} failed); {} waited for room, {} refused; flush p50 {} p99 {}",
            q.depth,
            q.capacity,
            q.enqueued,
            q.coalesced,
            q.flushed,
            q.flushes,
            q.failed_flushes,
            q.waited,
            q.refused,
            micros(q.flush_latency.p50),
            micros(q.flush_latency.p99)
        );
    }
    let restarts: Vec<String> = stats
        .restarts
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    let _ = writeln!(out, "restarts:    {}", restarts.join(", "));
    let _ = writeln!(
        out,
        "\n{:<20} {:<8} {:>9} {:>12} {:>12} {:>10} {:>10} {:>10} {:>10}",
        "tier", "state", "entries", "bytes", "capacity", "hits", "misses", "evictions", "expired"
    );
    for t in &stats.tiers {
        let _ = writeln!(
            out,
            "{:<20} {:<8} {:>9} {:>12} {:>12} {:>10} {:>10} {:>10} {:>10}",
            t.tier.label(),
            t.state,
            t.entries,
            t.bytes,
            t.capacity_bytes,
            t.hits,
            t.misses,
            t.evictions,
            t.expirations
        );
    }
    if !r.latency.is_empty() {
        let _ = writeln!(
            out,
            "\n{:<20} {:>9} {:>10} {:>10} {:>10} {:>10}",
            "read latency", "reads", "p50", "p95", "p99", "max"
        );
        for (tier, l) in &r.latency {
            let _ = writeln!(
                out,
                "{:<20} {:>9} {:>10} {:>10} {:>10} {:>10}",
                tier.label(),
                l.count,
                micros(l.p50),
                micros(l.p95),
                micros(l.p99),
                micros(l.max)
            );
        }
    }
    for t in stats.tiers.iter().filter(|t| !t.kinds.is_empty()) {
        let when = |ms: Option<u64>| {
            ms.map(|ms| {
                humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_millis(ms))
                    .to_string()
            })
            .unwrap_or_default()
        };
        let _ = writeln!(
            out,
            "\n{} by kind (oldest entry {}, newest {}):",
            t.tier.label(),
            when(t.oldest_ms),
            when(t.newest_ms)
        );
        for k in &t.kinds {
            let _ = writeln!(
                out,
                "  {:<12} {:>9} rows {:>12} bytes",
                k.kind, k.rows, k.bytes
            );
        }
    }
    out
}

/// A latency the way people read them: µs below a millisecond, ms above.
fn micros(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}
