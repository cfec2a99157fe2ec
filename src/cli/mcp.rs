//! `shadcache mcp`: a stdio MCP server (the official Rust SDK, `rmcp`) that MCP clients launch
//! and that forwards every tool call to the shared daemon over its socket. Its tools have the
//! names, argument names and result shapes of the upstream server
//! (`@jpisnice/shadcn-ui-mcp-server` 2.0.0), so replacing it in a client's config is a
//! one-line change; `get_cache_stats` is added. Stdout carries the protocol and nothing else:
//! notices go to stderr.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, Implementation, JsonObject, ServerCapabilities, ServerConfig,
};
use rmcp::{ErrorData as McpError, ServerHandler, ServiceExt, tool, tool_handler, tool_router};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use super::fail;
use crate::client::Client;
use crate::config::{self, Overrides};
use crate::protocol::{ErrorCode, Query, Request, Response};

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
    let loaded = match config::load(&overrides, env.iter().cloned()) {
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
        Some(name) => match crate::domain::framework_from_flags(&name, ui_library.as_deref()) {
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
    let server = Shadcn {
        daemon: Arc::new(Daemon {
            socket: loaded.config.socket.clone(),
            config: overrides.config.clone(),
            deadline: crate::client::deadline(&loaded.config),
            start: args.start_daemon,
            client: Mutex::new(None),
        }),
        framework,
        tool_router: Shadcn::tool_router(),
    };
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

/// The daemon connection, opened on the first call and again after the daemon restarted.
struct Daemon {
    socket: PathBuf,
    config: Option<PathBuf>,
    /// Longer than the daemon's own deadline, so a tool error carries the daemon's reason.
    deadline: Duration,
    start: bool,
    client: Mutex<Option<Client>>,
}

impl Daemon {
    async fn request(&self, request: Request) -> Result<Response, String> {
        let mut client = self.client.lock().await;
        // One retry: a connection from before a daemon restart fails once, then reconnects.
        for attempt in 0..2 {
            if client.is_none() {
                *client = Some(self.connect().await?);
            }
            match client.as_mut().expect("connected").request(&request).await {
                Ok(response) => return Ok(response),
                Err(e) if attempt == 0 && e.is_connection_lost() => {
                    tracing::debug!(error = %e, "daemon connection lost; reconnecting");
                    *client = None;
                }
                Err(e) => {
                    *client = None;
                    return Err(e.to_string());
                }
            }
        }
        unreachable!("the loop returns")
    }

    async fn connect(&self) -> Result<Client, String> {
        match Client::connect(&self.socket, self.deadline).await {
            Ok(client) => Ok(client),
            Err(e) if !self.start => Err(format!(
                "{e} (or run `shadcache mcp --start-daemon` to have it started)"
            )),
            Err(_) => {
                let log = super::start::spawn_detached(&self.socket, self.config.as_deref())?;
                eprintln!("shadcache mcp: started a daemon (log: {})", log.display());
                super::start::wait_for_daemon(&self.socket, self.deadline).await
            }
        }
    }
}

#[derive(Clone)]
pub struct Shadcn {
    daemon: Arc<Daemon>,
    /// From `--framework`/`--ui-library`; `None` leaves it to the daemon's config.
    framework: Option<String>,
    tool_router: ToolRouter<Self>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentArgs {
    component_name: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockArgs {
    block_name: String,
    #[serde(default)]
    include_components: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CategoryArgs {
    #[serde(default)]
    category: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct StructureArgs {
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    repo: Option<String>,
    #[serde(default)]
    branch: Option<String>,
}

/// Input schemas written out as upstream declares them (property names, types, required),
/// rather than derived: derived ones differ in details clients may compare.
fn schema(value: serde_json::Value) -> Arc<JsonObject> {
    Arc::new(value.as_object().expect("a schema is an object").clone())
}

fn component_schema() -> Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "componentName": {
                "type": "string",
                "description": "Name of the shadcn/ui component (e.g., \"accordion\", \"button\")"
            }
        },
        "required": ["componentName"]
    }))
}

fn empty_schema() -> Arc<JsonObject> {
    schema(json!({ "type": "object", "properties": {} }))
}

fn block_schema() -> Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "blockName": {
                "type": "string",
                "description": "Name of the block (e.g., \"calendar-01\", \"dashboard-01\", \"login-02\")"
            },
            "includeComponents": {
                "type": "boolean",
                "description": "Whether to include component files for complex blocks (default: true)"
            }
        },
        "required": ["blockName"]
    }))
}

fn category_schema() -> Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "category": {
                "type": "string",
                "description": "Filter by category (calendar, dashboard, login, sidebar, products)"
            }
        }
    }))
}

fn structure_schema() -> Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "path": { "type": "string", "description": "Path within the repository (default: v4 registry)" },
            "owner": { "type": "string", "description": "Repository owner (default: \"shadcn-ui\")" },
            "repo": { "type": "string", "description": "Repository name (default: \"ui\")" },
            "branch": { "type": "string", "description": "Branch name (default: \"main\")" }
        }
    }))
}

fn text(text: impl Into<String>) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(text)])
}

fn tool_error(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

impl Shadcn {
    async fn ask(&self, query: Query) -> Result<CallToolResult, McpError> {
        let request = Request::Shadcn {
            framework: self.framework.clone(),
            query,
        };
        Ok(match self.daemon.request(request).await {
            Ok(Response::Value(Some(found))) => {
                text(String::from_utf8_lossy(&found.value).into_owned())
            }
            Ok(Response::Value(None)) => tool_error("not found"),
            Ok(Response::Error(e)) if e.code == ErrorCode::NotFound => tool_error(e.message),
            Ok(Response::Error(e)) => tool_error(format!("shadcache: {}", e.message)),
            Ok(other) => tool_error(format!("unexpected answer from the daemon: {other:?}")),
            Err(e) => tool_error(e),
        })
    }
}

#[tool_router]
impl Shadcn {
    #[tool(
        description = "Get the source code for a specific shadcn/ui v4 component",
        input_schema = component_schema(),
        annotations(title = "Get Component", read_only_hint = true)
    )]
    async fn get_component(
        &self,
        Parameters(args): Parameters<ComponentArgs>,
    ) -> Result<CallToolResult, McpError> {
        self.ask(Query::Component {
            name: args.component_name,
        })
        .await
    }

    #[tool(
        description = "Get demo code illustrating how a shadcn/ui v4 component should be used",
        input_schema = component_schema(),
        annotations(title = "Get Component Demo", read_only_hint = true)
    )]
    async fn get_component_demo(
        &self,
        Parameters(args): Parameters<ComponentArgs>,
    ) -> Result<CallToolResult, McpError> {
        self.ask(Query::Demo {
            name: args.component_name,
        })
        .await
    }

    #[tool(
        description = "Get all available shadcn/ui v4 components",
        input_schema = empty_schema(),
        annotations(title = "List Components", read_only_hint = true)
    )]
    async fn list_components(&self) -> Result<CallToolResult, McpError> {
        self.ask(Query::ListComponents).await
    }

    #[tool(
        description = "Get metadata for a specific shadcn/ui v4 component",
        input_schema = component_schema(),
        annotations(title = "Get Component Metadata", read_only_hint = true)
    )]
    async fn get_component_metadata(
        &self,
        Parameters(args): Parameters<ComponentArgs>,
    ) -> Result<CallToolResult, McpError> {
        self.ask(Query::Metadata {
            name: args.component_name,
        })
        .await
    }

    #[tool(
        description = "Get the directory structure of the shadcn-ui v4 repository",
        input_schema = structure_schema(),
        annotations(title = "Get Directory Structure", read_only_hint = true)
    )]
    async fn get_directory_structure(
        &self,
        Parameters(args): Parameters<StructureArgs>,
    ) -> Result<CallToolResult, McpError> {
        self.ask(Query::Structure {
            path: args.path,
            owner: args.owner,
            repo: args.repo,
            branch: args.branch,
        })
        .await
    }

    #[tool(
        description = "Get source code for a specific shadcn/ui v4 block (e.g., calendar-01, dashboard-01)",
        input_schema = block_schema(),
        annotations(title = "Get Block", read_only_hint = true)
    )]
    async fn get_block(
        &self,
        Parameters(args): Parameters<BlockArgs>,
    ) -> Result<CallToolResult, McpError> {
        self.ask(Query::Block {
            name: args.block_name,
            include_components: args.include_components.unwrap_or(true),
        })
        .await
    }

    #[tool(
        description = "Get all available shadcn/ui v4 blocks with categorization",
        input_schema = category_schema(),
        annotations(title = "List Blocks", read_only_hint = true)
    )]
    async fn list_blocks(
        &self,
        Parameters(args): Parameters<CategoryArgs>,
    ) -> Result<CallToolResult, McpError> {
        self.ask(Query::ListBlocks {
            category: args.category,
        })
        .await
    }

    #[tool(
        description = "Get shadcache's statistics: hits and misses by tier, GitHub quota, breaker state, latency",
        input_schema = empty_schema(),
        annotations(title = "Get Cache Stats", read_only_hint = true)
    )]
    async fn get_cache_stats(&self) -> Result<CallToolResult, McpError> {
        Ok(match self.daemon.request(Request::Stats).await {
            Ok(Response::Stats(stats)) => {
                text(serde_json::to_string_pretty(&stats).expect("stats serialise"))
            }
            Ok(Response::Error(e)) => tool_error(format!("shadcache: {}", e.message)),
            Ok(other) => tool_error(format!("unexpected answer from the daemon: {other:?}")),
            Err(e) => tool_error(e),
        })
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Shadcn {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("shadcache", env!("CARGO_PKG_VERSION")))
    }
}
