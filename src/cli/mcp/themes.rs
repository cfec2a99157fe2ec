//! Upstream's theme tools, `list_themes`, `get_theme` and `apply_theme`, with its arguments and
//! answers. The presets file comes from the daemon's cache (`theme:tweakcn`: fetched once,
//! revalidated, stale when GitHub fails, so offline they still work), and is parsed here.
//! `apply_theme` writes into this process's working directory: the MCP client's project.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, JsonObject};
use rmcp::{ErrorData as McpError, tool, tool_router};
use serde::Deserialize;
use serde_json::json;

use super::schemas::schema;
use super::server::{Shadcn, text, tool_error};
use crate::themes::{self, Preset, Tailwind};

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
pub struct ListThemesArgs {
    #[serde(default)]
    query: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GetThemeArgs {
    theme_name: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApplyThemeArgs {
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    preset_id: Option<String>,
    #[serde(default)]
    tailwind_version: Option<TailwindVersion>,
    #[serde(default)]
    dry_run: Option<bool>,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
pub enum TailwindVersion {
    #[serde(rename = "3")]
    V3,
    #[serde(rename = "4")]
    V4,
}

/// As upstream advertises it: it takes `query`, but lists no argument.
fn list_themes_schema() -> Arc<JsonObject> {
    schema(json!({ "type": "object", "properties": {} }))
}

fn get_theme_schema() -> Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "themeName": { "type": "string", "description": "Name or ID of the theme to retrieve" }
        },
        "required": ["themeName"]
    }))
}

fn apply_theme_schema() -> Arc<JsonObject> {
    schema(json!({
        "type": "object",
        "properties": {
            "query": { "type": "string", "description": "Search query for theme (e.g., 'cyberpunk', 'modern')" },
            "presetId": { "type": "string", "description": "Specific preset ID if known" },
            "tailwindVersion": {
                "type": "string",
                "enum": ["3", "4"],
                "description": "Tailwind CSS version (default: '3')"
            },
            "dryRun": { "type": "boolean", "description": "If true, returns preview instead of writing files" }
        }
    }))
}

impl Shadcn {
    /// The presets, from the daemon's cache.
    pub(super) async fn presets(&self) -> Result<Vec<Preset>, String> {
        themes::from_answer(self.daemon().request(themes::request()).await?)
    }
}

#[tool_router(router = theme_router, vis = "pub(super)")]
impl Shadcn {
    #[tool(
        description = "List available tweakcn themes",
        input_schema = list_themes_schema(),
        annotations(title = "List Themes", read_only_hint = true)
    )]
    async fn list_themes(
        &self,
        Parameters(args): Parameters<ListThemesArgs>,
    ) -> Result<CallToolResult, McpError> {
        Ok(match self.presets().await {
            Ok(presets) => text(themes::list(&presets, args.query.as_deref())),
            Err(e) => tool_error(format!("Error listing themes: {e}")),
        })
    }

    #[tool(
        description = "Get details of a specific tweakcn theme",
        input_schema = get_theme_schema(),
        annotations(title = "Get Theme", read_only_hint = true)
    )]
    async fn get_theme(
        &self,
        Parameters(args): Parameters<GetThemeArgs>,
    ) -> Result<CallToolResult, McpError> {
        Ok(match self.presets().await {
            Ok(presets) => match themes::get(&presets, &args.theme_name) {
                Ok(theme) => text(theme),
                Err(e) => tool_error(e),
            },
            Err(e) => tool_error(format!("Error getting theme: {e}")),
        })
    }

    #[tool(
        description = "Apply a TweakCN theme preset to the project",
        input_schema = apply_theme_schema(),
        annotations(title = "Apply Theme", destructive_hint = false)
    )]
    async fn apply_theme(
        &self,
        Parameters(args): Parameters<ApplyThemeArgs>,
    ) -> Result<CallToolResult, McpError> {
        let presets = match self.presets().await {
            Ok(presets) => presets,
            Err(e) => return Ok(tool_error(format!("Error applying theme: {e}"))),
        };
        let root = match std::env::current_dir() {
            Ok(root) => root,
            Err(e) => return Ok(tool_error(format!("Error applying theme: {e}"))),
        };
        let apply = themes::Apply {
            query: args.query,
            preset_id: args.preset_id,
            tailwind: args.tailwind_version.map(|v| match v {
                TailwindVersion::V3 => Tailwind::V3,
                TailwindVersion::V4 => Tailwind::V4,
            }),
            dry_run: args.dry_run.unwrap_or(false),
            css: None,
        };
        Ok(match themes::apply(&presets, &apply, &root) {
            Ok(said) => text(said),
            Err(e) => tool_error(e),
        })
    }
}

/// The theme tools' router, to add to the others.
pub(super) fn router() -> ToolRouter<Shadcn> {
    Shadcn::theme_router()
}
