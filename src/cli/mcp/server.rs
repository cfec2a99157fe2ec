//! The MCP server: upstream's tools, each forwarded to the daemon as a domain query.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, ContentBlock, GetPromptRequestParams, GetPromptResponse, Implementation,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, PaginatedRequestParams,
    ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, ResourceContents,
    ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer, ServerHandler, tool, tool_handler, tool_router};

use super::daemon::Daemon;
use super::prompts;
use super::resources::{self, COMPONENTS, THEME_METADATA};
use super::schemas::*;
use crate::protocol::{ErrorCode, Query, Request, Response};

#[derive(Clone)]
pub struct Shadcn {
    daemon: Arc<Daemon>,
    /// From `--framework`/`--ui-library`; `None` leaves it to the daemon's config.
    framework: Option<String>,
    /// The framework the answers are for, as prompts and templates name it.
    framework_name: String,
    tool_router: ToolRouter<Self>,
}

pub(super) fn text(text: impl Into<String>) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(text)])
}

pub(super) fn tool_error(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

impl Shadcn {
    /// `tools` is every tool router of the server: this file's and the theme tools'.
    pub(super) fn new(
        daemon: Arc<Daemon>,
        framework: Option<String>,
        configured: &str,
        tools: ToolRouter<Shadcn>,
    ) -> Shadcn {
        let name = framework.as_deref().unwrap_or(configured);
        let framework_name = crate::shadcn::framework(name)
            .map(|fw| fw.id.to_owned())
            .unwrap_or_else(|_| name.to_owned());
        Shadcn {
            daemon,
            framework,
            framework_name,
            tool_router: tools,
        }
    }

    pub(super) fn daemon(&self) -> &Daemon {
        &self.daemon
    }

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

#[tool_router(vis = "pub(super)")]
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

impl Shadcn {
    /// The component names of this server's framework, from the cache.
    async fn component_names(&self) -> Result<String, McpError> {
        let failed = |e: String| McpError::internal_error(format!("{COMPONENTS}: {e}"), None);
        let request = Request::Shadcn {
            framework: self.framework.clone(),
            query: Query::ListComponents,
        };
        match self.daemon.request(request).await.map_err(failed)? {
            Response::Value(Some(found)) => {
                let listing: serde_json::Value =
                    serde_json::from_slice(&found.value).map_err(|e| failed(e.to_string()))?;
                Ok(serde_json::to_string_pretty(&listing["components"]).expect("JSON"))
            }
            Response::Error(e) => Err(failed(e.message)),
            other => Err(failed(format!(
                "unexpected answer from the daemon: {other:?}"
            ))),
        }
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Shadcn {
    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_prompts()
            .enable_resources()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new("shadcache", env!("CARGO_PKG_VERSION")))
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, McpError> {
        Ok(prompts::list())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, McpError> {
        prompts::get(
            &request.name,
            request.arguments.as_ref(),
            &self.framework_name,
        )
        .map(Into::into)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, McpError> {
        Ok(resources::list())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, McpError> {
        Ok(resources::templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, McpError> {
        let uri = request.uri;
        let (text, mime) = match uri.as_str() {
            COMPONENTS => (self.component_names().await?, "application/json"),
            THEME_METADATA => {
                let presets = self.presets().await.map_err(|e| {
                    McpError::internal_error(format!("{THEME_METADATA}: {e}"), None)
                })?;
                (resources::theme_metadata(&presets), "application/json")
            }
            _ => match resources::template(&uri, &self.framework_name) {
                Some(answer) => (answer?, "text/plain"),
                None => {
                    return Err(McpError::resource_not_found(
                        format!("Resource not found: {uri}"),
                        None,
                    ));
                }
            },
        };
        let contents = ResourceContents::text(text, uri).with_mime_type(mime);
        Ok(ReadResourceResult::new(vec![contents]).into())
    }
}
