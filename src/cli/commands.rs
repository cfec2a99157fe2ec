//! The client subcommands that are one request each (ping, get, set, del, keys, clear, stats
//! and the domain queries), their answers printed for a person (or as JSON for a script).

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;

use super::exit::{fail, miss, unexpected};
use crate::client::{self, Client};
use crate::config::Config;
use crate::protocol::{EntryInfo, ErrorCode, Found, Query, Request, Response};

/// What every domain command takes.
#[derive(Debug, Clone, clap::Args)]
pub struct DomainArgs {
    /// react, react:base, svelte, vue or react-native (default: github.framework)
    #[arg(short, long)]
    pub framework: Option<String>,
    /// Also print where the answer came from, its age and freshness (to stderr)
    #[arg(short, long)]
    pub verbose: bool,
}

/// Sends one request. A failure to reach the daemon, or an error answer, is reported here and
/// becomes the exit code: 1 for not found, 2 for the rest.
async fn ask(config: &Config, request: &Request) -> Result<Response, ExitCode> {
    let mut client = Client::connect(&config.socket, client::deadline(config))
        .await
        .map_err(|e| fail(&e.to_string()))?;
    match client.request(request).await {
        Ok(Response::Error(e)) if e.code == ErrorCode::NotFound => {
            eprintln!("{}", e.message);
            Err(miss())
        }
        Ok(Response::Error(e)) => Err(fail(&e.message)),
        Ok(response) => Ok(response),
        Err(e) => Err(fail(&e.to_string())),
    }
}

pub async fn ping(config: &Config) -> ExitCode {
    match ask(config, &Request::Ping).await {
        Ok(Response::Pong) => {
            println!("pong");
            ExitCode::SUCCESS
        }
        Ok(other) => unexpected(other),
        Err(code) => code,
    }
}

pub async fn get(config: &Config, key: String, verbose: bool) -> ExitCode {
    match ask(config, &Request::Get { key: key.clone() }).await {
        Ok(Response::Value(Some(found))) => print_found(&key, verbose, &found),
        Ok(Response::Value(None)) => {
            eprintln!("miss: {key} is not cached");
            miss()
        }
        Ok(other) => unexpected(other),
        Err(code) => code,
    }
}

/// Stores stdin under `key`.
pub async fn set(config: &Config, key: String, ttl: Option<Duration>) -> ExitCode {
    let mut value = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut value) {
        return fail(&format!("cannot read the value from stdin: {e}"));
    }
    let request = Request::Set {
        key: key.clone(),
        value: Bytes::from(value),
        ttl,
    };
    match ask(config, &request).await {
        Ok(Response::Stored(ack)) => {
            eprintln!("stored {key} ({ack:?})");
            ExitCode::SUCCESS
        }
        Ok(other) => unexpected(other),
        Err(code) => code,
    }
}

pub async fn del(config: &Config, key: String) -> ExitCode {
    match ask(config, &Request::Delete { key }).await {
        Ok(Response::Deleted(true)) => ExitCode::SUCCESS,
        Ok(Response::Deleted(false)) => miss(),
        Ok(other) => unexpected(other),
        Err(code) => code,
    }
}

pub async fn keys(config: &Config, pattern: Option<String>) -> ExitCode {
    match ask(config, &Request::Keys { pattern }).await {
        Ok(Response::Keys(keys)) => {
            let mut out = std::io::stdout().lock();
            for key in keys {
                let _ = writeln!(out, "{key}");
            }
            ExitCode::SUCCESS
        }
        Ok(other) => unexpected(other),
        Err(code) => code,
    }
}

pub async fn clear(config: &Config, shared: bool) -> ExitCode {
    match ask(config, &Request::Clear { shared }).await {
        Ok(Response::Cleared(n)) => {
            eprintln!("cleared {n} entries");
            ExitCode::SUCCESS
        }
        Ok(other) => unexpected(other),
        Err(code) => code,
    }
}

pub async fn stats(config: &Config, json: bool) -> ExitCode {
    match ask(config, &Request::Stats).await {
        Ok(Response::Stats(stats)) if json => match serde_json::to_string_pretty(&stats) {
            Ok(text) => {
                println!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        Ok(Response::Stats(stats)) => {
            print!("{}", super::stats::table(&stats));
            ExitCode::SUCCESS
        }
        Ok(other) => unexpected(other),
        Err(code) => code,
    }
}

/// A domain command: `component`, `demo`, `metadata`, `block`, `components`, `blocks`,
/// `structure`.
pub async fn shadcn(config: &Config, query: Query, args: DomainArgs) -> ExitCode {
    let what = query.name();
    let request = Request::Shadcn {
        framework: args.framework,
        query,
    };
    match ask(config, &request).await {
        Ok(Response::Value(Some(found))) => print_found(what, args.verbose, &found),
        Ok(other) => unexpected(other),
        Err(code) => code,
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
