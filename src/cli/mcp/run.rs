//! The process: flags and environment as upstream's server reads them, then the server on
//! stdin/stdout until the client hangs up.

use std::process::ExitCode;
use std::sync::Arc;

use rmcp::ServiceExt;
use tokio::sync::Mutex;

use super::daemon::Daemon;
use super::server::Shadcn;
use crate::cli::exit::fail;
use crate::config::Overrides;
use crate::settings;

#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// react, svelte, vue or react-native, as upstream's flag [env: FRAMEWORK]
    /// (default: the daemon's github.framework)
    #[arg(short, long)]
    framework: Option<String>,
    /// For react: radix (default) or base [env: UI_LIBRARY]
    #[arg(long)]
    ui_library: Option<String>,
    /// Accepted for compatibility and ignored: the daemon fetches with its own token
    #[arg(short = 'g', long, value_name = "TOKEN")]
    github_api_key: Option<String>,
    /// Start a daemon (`shadcache daemon`, detached) when none answers on the socket
    #[arg(long)]
    start_daemon: bool,
}

pub fn main(args: McpArgs, overrides: Overrides, env: Vec<(String, String)>) -> ExitCode {
    let loaded = match settings::load(&overrides, env.iter().cloned()) {
        Ok(loaded) => loaded,
        Err(e) => return fail(&e.to_string()),
    };
    let var = |name: &str| {
        env.iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    if args.github_api_key.is_some() {
        eprintln!(
            "shadcache mcp: --github-api-key is ignored; the daemon fetches with its own token \
             (github.token or SHADCACHE_GITHUB_TOKEN in its config, see `shadcache config`)"
        );
    }
    let framework = args.framework.or_else(|| var("FRAMEWORK"));
    let ui_library = args.ui_library.or_else(|| var("UI_LIBRARY"));
    let framework = match framework {
        Some(name) => match crate::shadcn::framework_from_flags(&name, ui_library.as_deref()) {
            Ok(framework) => Some(framework),
            Err(e) => return fail(&e),
        },
        None => ui_library.map(|lib| format!("react:{lib}")),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    let daemon = Daemon {
        socket: loaded.config.socket.clone(),
        config: overrides.config.clone(),
        deadline: crate::client::deadline(&loaded.config),
        start: args.start_daemon,
        client: Mutex::new(None),
    };
    let tools = Shadcn::tool_router() + super::themes::router();
    let server = Shadcn::new(
        Arc::new(daemon),
        framework,
        &loaded.config.github.framework,
        tools,
    );
    runtime.block_on(async move {
        let service = match server.serve(rmcp::transport::stdio()).await {
            Ok(service) => service,
            Err(e) => return fail(&format!("MCP handshake failed: {e}")),
        };
        match service.waiting().await {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("MCP session failed: {e}")),
        }
    })
}
