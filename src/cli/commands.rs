//! The client subcommands: one request each, printed for a person (or as JSON for a script).

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;

use super::{Cmd, DomainArgs, MigrateCmd, fail};
use crate::client::{self, Client, ClientError};
use crate::config::{self, Config, Overrides};
use crate::database::offline;
use crate::protocol::{EntryInfo, ErrorCode, Found, MigrateAction, Query, Request, Response};

pub fn run(command: Cmd, overrides: Overrides, env: Vec<(String, String)>) -> ExitCode {
    if let Cmd::Doctor = command {
        return match runtime() {
            Ok(runtime) => runtime.block_on(super::doctor::run(config::load(&overrides, env))),
            Err(e) => fail(&e),
        };
    }
    let loaded = match config::load(&overrides, env) {
        Ok(loaded) => loaded,
        Err(e) => return fail(&e.to_string()),
    };
    if let Cmd::Config = command {
        print!("{}", config::render(&loaded));
        return ExitCode::SUCCESS;
    }
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&e),
    };
    let socket = loaded.config.socket.clone();
    let deadline = client::deadline(&loaded.config);
    runtime.block_on(async move {
        match command {
            Cmd::Warm(args) => return super::warm::run(&loaded.config, args).await,
            Cmd::Start => {
                return super::start::start(&loaded.config, overrides.config.as_deref()).await;
            }
            Cmd::Stop => return super::start::stop(&loaded.config).await,
            Cmd::Themes { query } => {
                return super::themes::list(&loaded.config, query.as_deref()).await;
            }
            Cmd::Theme(args) => return super::themes::run(&loaded.config, args).await,
            _ => {}
        }
        if let Some(request) = database_request(&command) {
            return database_command(&loaded.config, request).await;
        }
        let request = match request_for(&command) {
            Ok(request) => request,
            Err(e) => return fail(&e),
        };
        let mut client = match Client::connect(&socket, deadline).await {
            Ok(client) => client,
            Err(e) => return fail(&e.to_string()),
        };
        match client.request(&request).await {
            Ok(response) => print_response(&command, response),
            Err(e) => fail(&e.to_string()),
        }
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
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
        | Cmd::Warm(_)
        | Cmd::Start
        | Cmd::Stop
        | Cmd::Themes { .. }
        | Cmd::Theme(_)
        | Cmd::Doctor
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
                print!("{}", super::stats::table(&stats));
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
    let response = match Client::connect(&config.socket, client::deadline(config)).await {
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
