//! Tool arguments, and their input schemas written out as upstream declares them (property
//! names, types, required) rather than derived: derived ones differ in details clients may
//! compare.

use std::sync::Arc;

use rmcp::model::JsonObject;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComponentArgs {
    pub(super) component_name: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockArgs {
    pub(super) block_name: String,
    #[serde(default)]
    pub(super) include_components: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CategoryArgs {
    #[serde(default)]
    pub(super) category: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct StructureArgs {
    #[serde(default)]
    pub(super) path: Option<String>,
    #[serde(default)]
    pub(super) owner: Option<String>,
    #[serde(default)]
    pub(super) repo: Option<String>,
    #[serde(default)]
    pub(super) branch: Option<String>,
}

/// Input schemas written out as upstream declares them (property names, types, required),
/// rather than derived: derived ones differ in details clients may compare.
pub(super) fn schema(value: serde_json::Value) -> Arc<JsonObject> {
    Arc::new(value.as_object().expect("a schema is an object").clone())
}

pub(super) fn component_schema() -> Arc<JsonObject> {
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

pub(super) fn empty_schema() -> Arc<JsonObject> {
    schema(json!({ "type": "object", "properties": {} }))
}

pub(super) fn block_schema() -> Arc<JsonObject> {
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

pub(super) fn category_schema() -> Arc<JsonObject> {
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

pub(super) fn structure_schema() -> Arc<JsonObject> {
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
