//! `shadcache-load`: the load generator of bench/run.sh and bench/stress.sh, a command line
//! over `shadcache::testkit::load` (which the tests call directly). A second binary beside
//! the daemon's, built only with the `testkit` feature.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use shadcache::testkit::load::{self, LoadError};

#[derive(Debug, Parser)]
#[command(
    name = "shadcache-load",
    about = "Load for a running shadcache daemon: latency and throughput, a soak, hostile clients"
)]
struct Cli {
    /// The daemon's socket (every mode but `echo`)
    #[arg(long, global = true, env = "SHADCACHE_SOCKET", value_name = "PATH")]
    socket: Option<PathBuf>,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// Latency percentiles, throughput, the tier that answered, and the daemon's CPU seconds
    /// and peak RSS
    Bench(load::Bench),
    /// The same against a bare echo server over a Unix socket (the floor; no daemon needed)
    Echo(load::Echo),
    /// Mixed load (get, set, mget, mset, delete) for a time, sampling the daemon's RSS and
    /// open descriptors; exits 2 on any failed request
    Soak(load::Soak),
    /// One client's get latency alone, then beside idle connections, slow writers,
    /// mid-answer hang-ups and maximum-size frames
    Hostile(load::Hostile),
    /// The same latency run against Redis over its Unix socket (RESP GETs), so both servers
    /// are measured by one client
    Redis(load::Redis),
    /// HTTP GETs over keep-alive connections: the registry listener, or a server beside it
    Http(load::Http),
    /// A day of Zipf reads of keys with an origin while the daemon's test clock moves on:
    /// the share of stale answers, overall and for the hottest tenth
    Replay(load::Replay),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let socket = || {
        cli.socket.clone().ok_or_else(|| {
            LoadError::Setup("name the daemon's socket: --socket PATH or SHADCACHE_SOCKET".into())
        })
    };
    // The report's text, and whether the run passed.
    let outcome = runtime.block_on(async {
        Ok::<_, LoadError>(match &cli.mode {
            Mode::Bench(bench) => (load::bench(&socket()?, bench).await?.to_string(), true),
            Mode::Echo(echo) => (load::echo(echo).await?.to_string(), true),
            Mode::Soak(soak) => {
                let report = load::soak(&socket()?, soak, |sample| println!("{sample}")).await?;
                (report.to_string(), report.passed())
            }
            Mode::Hostile(hostile) => (load::hostile(&socket()?, hostile).await?.to_string(), true),
            Mode::Http(http) => (load::http(http).await?.to_string(), true),
            Mode::Redis(redis) => (load::redis(redis).await?.to_string(), true),
            Mode::Replay(replay) => (load::replay(&socket()?, replay).await?.to_string(), true),
        })
    });
    match outcome {
        Ok((report, passed)) => {
            print!("{report}");
            if passed {
                ExitCode::SUCCESS
            } else {
                fail("requests failed (above)")
            }
        }
        Err(e) => fail(&e.to_string()),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("shadcache-load: {message}");
    ExitCode::from(2)
}
