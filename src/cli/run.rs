//! The `shadcache` command line: its subcommands and the one `match` that runs each. `daemon`
//! runs the server; every other subcommand is a client of it (or of L2's files, for
//! `migrate` and `maintenance` when no daemon runs).

use std::future::Future;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use super::commands::{self, DomainArgs};
use super::database::{self, MigrateCmd};
use super::exit::fail;
use super::registry::{self, RegistryCmd};
use super::{doctor, mcp, start, themes, warm};
use crate::config::{self, Config, Overrides};
use crate::daemon::{self, DaemonOptions, SystemdEnv};
use crate::protocol::Query;
use crate::settings;

#[derive(Debug, Parser)]
#[command(
    name = "shadcache",
    version,
    about = "A shared local cache for shadcn/ui registry content"
)]
pub struct Cli {
    /// The daemon's socket [env: SHADCACHE_SOCKET]
    #[arg(long, global = true, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// The config file [env: SHADCACHE_CONFIG]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Cmd,
}

#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Run the daemon in the foreground (systemd runs it this way too)
    Daemon {
        /// Where L2 and the daemon's state live [env: SHADCACHE_DATA_DIR]
        #[arg(long, value_name = "PATH")]
        data_dir: Option<PathBuf>,
    },
    /// Check that the daemon answers
    Ping,
    /// Start a daemon in the background, unless one answers (for machines without systemd)
    Start,
    /// Stop the running daemon (SIGTERM: it drains, then exits) and wait until it has
    Stop,
    /// Check the config, socket, daemon, L2 and GitHub, and say how to fix what fails
    Doctor,
    /// Print a cached value to stdout (exit 1 on a miss)
    Get {
        key: String,
        /// Also print where the answer came from, its age and TTL (to stderr)
        #[arg(short, long)]
        verbose: bool,
    },
    /// Store stdin under KEY
    Set {
        key: String,
        /// Time to live, e.g. 90s, 6h, 7d (default: the TTL configured for the key's kind)
        #[arg(long, value_parser = humantime::parse_duration)]
        ttl: Option<Duration>,
    },
    /// Delete a key (exit 1 if it was not cached)
    Del { key: String },
    /// List keys, optionally matching a glob (`component:react:*`)
    Keys { pattern: Option<String> },
    /// Empty the cache (L1, the write-behind queue and L2)
    Clear {
        /// Also when L2 is shared by a team (l2.backend = "postgres"): empties it for everyone
        #[arg(long)]
        shared: bool,
    },
    /// Show cache statistics
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Print the effective configuration and where each value came from
    Config,
    /// L2 schema migrations (through the daemon, or on the data dir when none runs)
    Migrate {
        #[command(subcommand)]
        action: MigrateCmd,
    },
    /// L2 maintenance now: delete long-stale rows, evict to l2.max_bytes
    Maintenance,
    /// Print a component's source
    Component {
        name: String,
        #[command(flatten)]
        domain: DomainArgs,
    },
    /// Print a component's demo
    Demo {
        name: String,
        #[command(flatten)]
        domain: DomainArgs,
    },
    /// Print a component's registry metadata (dependencies, registry dependencies) as JSON
    Metadata {
        name: String,
        #[command(flatten)]
        domain: DomainArgs,
    },
    /// Print a block's files as JSON
    Block {
        name: String,
        /// Also include the source of every UI component the block imports
        #[arg(long)]
        with_components: bool,
        #[command(flatten)]
        domain: DomainArgs,
    },
    /// List the registry's components as JSON
    Components {
        #[command(flatten)]
        domain: DomainArgs,
    },
    /// List the registry's blocks by category as JSON
    Blocks {
        /// Only this category (login, dashboard, sidebar, ...)
        #[arg(long)]
        category: Option<String>,
        #[command(flatten)]
        domain: DomainArgs,
    },
    /// Print the registry's directory structure as JSON
    Structure {
        /// Only below this path of the repository
        #[arg(long)]
        path: Option<String>,
        #[command(flatten)]
        domain: DomainArgs,
    },
    /// Prefetch whole registries into the cache (one tree listing per registry)
    Warm(warm::WarmArgs),
    /// List tweakcn's theme presets, optionally those whose id or label contains QUERY
    Themes { query: Option<String> },
    /// Print a theme preset as JSON; `theme apply NAME` writes it into this project
    Theme(themes::ThemeArgs),
    /// Serve MCP on stdin/stdout, forwarding to the daemon (what MCP clients launch)
    Mcp(mcp::McpArgs),
    /// Point the shadcn CLI, `shadcn mcp`, shadcn-svelte and shadcn-vue at the daemon
    Registry {
        #[command(subcommand)]
        command: RegistryCmd,
    },
}

/// After the daemon stopped, how long blocking work (a database open or close) may finish.
const EXIT_GRACE: Duration = Duration::from_secs(5);

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let env: Vec<(String, String)> = std::env::vars().collect();
    let overrides = Overrides {
        config: cli.config,
        socket: cli.socket,
        data_dir: None,
    };
    let o = &overrides;
    match cli.command {
        Cmd::Daemon { data_dir } => run_daemon(
            Overrides {
                data_dir,
                ..overrides
            },
            env,
        ),
        Cmd::Mcp(args) => mcp::main(args, overrides, env),
        Cmd::Doctor => block_on(doctor::run(settings::load(o, env))),
        Cmd::Config => match settings::load(o, env) {
            Ok(loaded) => {
                print!("{}", config::render(&loaded));
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        Cmd::Start => with_config(o, env, async |c| start::start(c, o.config.as_deref()).await),
        Cmd::Stop => with_config(o, env, async |c| start::stop(c).await),
        Cmd::Ping => with_config(o, env, async |c| commands::ping(c).await),
        Cmd::Get { key, verbose } => {
            with_config(o, env, async |c| commands::get(c, key, verbose).await)
        }
        Cmd::Set { key, ttl } => with_config(o, env, async |c| commands::set(c, key, ttl).await),
        Cmd::Del { key } => with_config(o, env, async |c| commands::del(c, key).await),
        Cmd::Keys { pattern } => with_config(o, env, async |c| commands::keys(c, pattern).await),
        Cmd::Clear { shared } => with_config(o, env, async |c| commands::clear(c, shared).await),
        Cmd::Stats { json } => with_config(o, env, async |c| commands::stats(c, json).await),
        Cmd::Migrate { action } => {
            with_config(o, env, async |c| database::migrate(c, action).await)
        }
        Cmd::Maintenance => with_config(o, env, async |c| database::maintenance(c).await),
        Cmd::Warm(args) => with_config(o, env, async |c| warm::run(c, args).await),
        Cmd::Themes { query } => {
            with_config(o, env, async |c| themes::list(c, query.as_deref()).await)
        }
        Cmd::Theme(args) => with_config(o, env, async |c| themes::run(c, args).await),
        Cmd::Registry { command } => with_config(o, env, async |c| registry::run(c, command).await),
        Cmd::Component { name, domain } => shadcn(o, env, Query::Component { name }, domain),
        Cmd::Demo { name, domain } => shadcn(o, env, Query::Demo { name }, domain),
        Cmd::Metadata { name, domain } => shadcn(o, env, Query::Metadata { name }, domain),
        Cmd::Block {
            name,
            with_components,
            domain,
        } => {
            let query = Query::Block {
                name,
                include_components: with_components,
            };
            shadcn(o, env, query, domain)
        }
        Cmd::Components { domain } => shadcn(o, env, Query::ListComponents, domain),
        Cmd::Blocks { category, domain } => shadcn(o, env, Query::ListBlocks { category }, domain),
        Cmd::Structure { path, domain } => {
            let query = Query::Structure {
                path,
                owner: None,
                repo: None,
                branch: None,
            };
            shadcn(o, env, query, domain)
        }
    }
}

/// Loads the config, then runs `command` with it on a runtime of its own.
fn with_config(
    overrides: &Overrides,
    env: Vec<(String, String)>,
    command: impl AsyncFnOnce(&Config) -> ExitCode,
) -> ExitCode {
    match settings::load(overrides, env) {
        Ok(loaded) => block_on(command(&loaded.config)),
        Err(e) => fail(&e.to_string()),
    }
}

fn shadcn(
    overrides: &Overrides,
    env: Vec<(String, String)>,
    query: Query,
    domain: DomainArgs,
) -> ExitCode {
    with_config(overrides, env, async |c| {
        commands::shadcn(c, query, domain).await
    })
}

fn block_on(command: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(command),
        Err(e) => fail(&format!("cannot start the runtime: {e}")),
    }
}

fn run_daemon(overrides: Overrides, env: Vec<(String, String)>) -> ExitCode {
    // Before any thread exists: reading systemd's variables unsets them.
    let systemd = match SystemdEnv::take() {
        Ok(systemd) => systemd,
        Err(e) => return fail(&e),
    };
    let loaded = match settings::load(&overrides, env.iter().cloned()) {
        Ok(loaded) => loaded,
        Err(e) => return fail(&e.to_string()),
    };
    let log = daemon::logging::init(&loaded.config.daemon.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("shadcache")
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let options = DaemonOptions {
        loaded,
        overrides,
        env,
        systemd,
        log,
    };
    let result = runtime.block_on(daemon::run(options));
    // Dropping a runtime waits for every blocking task without limit; a database still
    // starting must not keep a stopped daemon alive. Its committed data is safe either way.
    runtime.shutdown_timeout(EXIT_GRACE);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "daemon failed");
            fail(&e.to_string())
        }
    }
}
