//! The shadcn domain API: what MCP clients and the CLI ask for (a component, a demo, a block
//! with the components it uses, the block listing of a category...) mapped onto cache keys and
//! answered through the router, shaped (`shape.rs`) as the upstream MCP server
//! (`@jpisnice/shadcn-ui-mcp-server` 2.0.0) shapes its tool results, so `shadcache mcp` is a
//! drop-in replacement.
//!
//! The daemon answers these (`Request::Shadcn`); the CLI and `shadcache mcp` only forward.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::framework::{FRAMEWORKS, framework};
use super::key::{Named, ShadcnKey};
use super::shape::{
    blocks_by_category, components_used, error, invalid, matches_repo, metadata, pretty, reshape,
    shape_block, structure,
};
use crate::key::Key;
use crate::protocol::{ErrorCode, Found, Query, Response};
use crate::router::{Command, RouterHandle};

/// Answers one domain request through the router. `fallback` is the daemon's configured
/// framework, used when the request names none.
pub async fn answer(
    router: &RouterHandle,
    fallback: &str,
    framework_name: Option<&str>,
    query: Query,
) -> Response {
    let fw = match framework(framework_name.unwrap_or(fallback)) {
        Ok(fw) => fw,
        Err(e) => return invalid(e),
    };
    // A name a client sent, as the key of a kind of item.
    let key = |item: Named, kind: &str, name: &str| -> Result<Key, Response> {
        item(fw, name.to_owned()).key().map_err(|e| {
            error(
                ErrorCode::InvalidKey,
                format!("`{name}` cannot be a {kind} name: {e}"),
            )
        })
    };
    let get = async |key: Key| -> Result<Found, Response> {
        match router.execute(Command::Get(key.clone())).await {
            Response::Value(Some(found)) => Ok(found),
            Response::Value(None) => Err(error(
                ErrorCode::NotFound,
                format!("not found: {key} (nothing cached, and GitHub has no answer for it)"),
            )),
            other => Err(other),
        }
    };
    let result = async {
        match query {
            Query::Component { name } => get(key(ShadcnKey::Component, "component", &name)?).await,
            Query::Demo { name } => get(key(ShadcnKey::Demo, "demo", &name)?).await,
            Query::Metadata { name } => {
                let found = get(key(ShadcnKey::Metadata, "metadata", &name)?).await?;
                reshape(found, metadata)
            }
            Query::ListComponents => {
                let found = get(ShadcnKey::ListComponents(fw).unnamed_key()).await?;
                reshape(found, |v| {
                    let mut names: Vec<Value> = v.as_array().cloned().unwrap_or_default();
                    names.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
                    Ok(json!({ "components": names, "total": names.len() }))
                })
            }
            Query::ListBlocks { category } => {
                let found = get(ShadcnKey::ListBlocks(fw).unnamed_key()).await?;
                reshape(found, |v| Ok(blocks_by_category(v, category.as_deref())))
            }
            Query::Structure {
                path,
                owner,
                repo,
                branch,
            } => {
                let wanted = (owner.as_deref(), repo.as_deref(), branch.as_deref());
                if !matches_repo(fw, wanted) {
                    let known: Vec<String> = FRAMEWORKS
                        .iter()
                        .map(|f| format!("{}/{}@{}", f.owner, f.repo, f.branch))
                        .collect();
                    return Err(invalid(format!(
                        "only the registries in the framework table are served ({}); \
                         pick one with the framework",
                        known.join(", ")
                    )));
                }
                let found = get(ShadcnKey::Tree(fw).unnamed_key()).await?;
                reshape(found, |v| structure(fw, v, path.as_deref()))
            }
            Query::Block {
                name,
                include_components,
            } => {
                let found = get(key(ShadcnKey::Block, "block", &name)?).await?;
                let block: Value = serde_json::from_slice(&found.value)
                    .map_err(|e| invalid(format!("the cached block is not JSON: {e}")))?;
                let used = components_used(&block);
                let mut components = BTreeMap::new();
                if include_components && !used.is_empty() {
                    let keys = used
                        .iter()
                        .filter_map(|n| key(ShadcnKey::Component, "component", n).ok())
                        .collect::<Vec<_>>();
                    if let Response::Values(values) = router.execute(Command::MGet(keys)).await {
                        for (name, value) in used.iter().zip(values) {
                            if let Some(source) = value {
                                components.insert(
                                    name.clone(),
                                    String::from_utf8_lossy(&source.value).into_owned(),
                                );
                            }
                        }
                    }
                }
                let shaped = shape_block(&block, &used, include_components.then_some(components));
                Ok(Found {
                    value: pretty(&shaped),
                    info: found.info,
                })
            }
        }
    };
    match result.await {
        Ok(found) => Response::Value(Some(found)),
        Err(response) => response,
    }
}
