//! `shadcache migrate` and `shadcache maintenance`: L2's schema and upkeep, through the daemon
//! when one runs, otherwise on the data dir directly (the daemon holds L2 open while it runs).

use std::process::ExitCode;
use std::time::Duration;

use clap::Subcommand;

use super::exit::{fail, unexpected};
use crate::client::{self, Client, ClientError};
use crate::config::Config;
use crate::database::offline;
use crate::protocol::{MigrateAction, Request, Response};

#[derive(Debug, Subcommand)]
pub enum MigrateCmd {
    /// List migrations and whether each is applied
    Status,
    /// Apply pending migrations (all, or the next N)
    Up { n: Option<u32> },
    /// Revert the newest N applied migrations (default 1)
    Down { n: Option<u32> },
}

pub async fn migrate(config: &Config, action: MigrateCmd) -> ExitCode {
    let action = match action {
        MigrateCmd::Status => MigrateAction::Status,
        MigrateCmd::Up { n } => MigrateAction::Up(n),
        MigrateCmd::Down { n } => MigrateAction::Down(n.unwrap_or(1)),
    };
    run(config, Request::Migrate(action)).await
}

pub async fn maintenance(config: &Config) -> ExitCode {
    run(config, Request::Maintenance).await
}

/// Through the daemon when one runs; otherwise on the data dir directly.
async fn run(config: &Config, request: Request) -> ExitCode {
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
                Request::Migrate(action) => {
                    offline::migrate(&config.l2, &config.data_dir, action.into())
                        .await
                        .map(|list| {
                            Response::Migrations(list.into_iter().map(Into::into).collect())
                        })
                }
                _ => offline::maintenance(&config.l2, &config.data_dir)
                    .await
                    .map(|report| Response::Maintenance(report.into())),
            };
            match result {
                Ok(response) => response,
                Err(e) => return fail(&e.to_string()),
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
        other => unexpected(other),
    }
}
