//! The domain API's answers shaped as the upstream MCP server shapes its tool results: a
//! component's metadata, the block listing by category, a block with the components it uses,
//! the registry's directory structure. Pure functions on the cached JSON, which any client may
//! have stored, so every shape survives any value (the `domain_values` fuzz target).

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{Value, json};

use super::framework::{Framework, kebab};
use crate::protocol::{ErrorCode, Found, Response, WireError};

pub(super) fn error(code: ErrorCode, message: impl Into<String>) -> Response {
    Response::Error(WireError::new(code, message))
}

pub(super) fn invalid(message: impl Into<String>) -> Response {
    error(ErrorCode::InvalidRequest, message)
}

pub(super) fn pretty(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec_pretty(value).expect("JSON serialises"))
}

pub(super) fn reshape(
    found: Found,
    shape: impl FnOnce(&Value) -> Result<Value, Response>,
) -> Result<Found, Response> {
    let value: Value = serde_json::from_slice(&found.value)
        .map_err(|e| invalid(format!("the cached value is not JSON: {e}")))?;
    Ok(Found {
        value: pretty(&shape(&value)?),
        info: found.info,
    })
}

/// Upstream's metadata: name, type and the two dependency lists.
pub(crate) fn metadata(item: &Value) -> Result<Value, Response> {
    Ok(json!({
        "name": item["name"],
        "type": item["type"],
        "dependencies": item.get("dependencies").cloned().unwrap_or(json!([])),
        "registryDependencies": item.get("registryDependencies").cloned().unwrap_or(json!([])),
    }))
}

/// `owner`, `repo` and `branch`, when given, must be the framework's own.
pub(super) fn matches_repo(
    fw: &Framework,
    (owner, repo, branch): (Option<&str>, Option<&str>, Option<&str>),
) -> bool {
    owner.is_none_or(|o| o.eq_ignore_ascii_case(fw.owner))
        && repo.is_none_or(|r| r.eq_ignore_ascii_case(fw.repo))
        && branch.is_none_or(|b| b == fw.branch)
}

/// The block listing grouped by category, or one category's blocks. The listing is either
/// items with categories (from the registry's index) or bare names (from the tree).
pub(crate) fn blocks_by_category(listing: &Value, category: Option<&str>) -> Value {
    let mut categories: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let items = listing.as_array().cloned().unwrap_or_default();
    for item in &items {
        let (name, description, cats) = match item {
            Value::String(name) => (name.clone(), Value::Null, Vec::new()),
            item => (
                item["name"].as_str().unwrap_or_default().to_owned(),
                item["description"].clone(),
                item["categories"]
                    .as_array()
                    .map(|c| {
                        c.iter()
                            .filter_map(|c| c.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
        };
        let entry = json!({ "name": name, "description": description });
        if cats.is_empty() {
            categories.entry("other".into()).or_default().push(entry);
        } else {
            for cat in cats {
                categories.entry(cat).or_default().push(entry.clone());
            }
        }
    }
    let available: Vec<&String> = categories.keys().collect();
    match category {
        None => json!({
            "categories": categories,
            "totalBlocks": items.len(),
            "availableCategories": available,
        }),
        Some(wanted) => match categories.get(&wanted.to_ascii_lowercase()) {
            Some(blocks) => json!({
                "category": wanted,
                "blocks": blocks,
                "total": blocks.len(),
            }),
            None => json!({
                "category": wanted,
                "blocks": [],
                "total": 0,
                "availableCategories": available,
            }),
        },
    }
}

/// The UI components a block's files import (`…/ui/<name>` in an import), sorted.
pub(crate) fn components_used(block: &Value) -> Vec<String> {
    let mut used = std::collections::BTreeSet::new();
    for file in block["files"].as_array().into_iter().flatten() {
        let content = file["content"].as_str().unwrap_or_default();
        let imports = |l: &&str| {
            let l = l.trim_start();
            l.starts_with("import ") || l.contains("from \"") || l.contains("from '")
        };
        for line in content.lines().filter(imports) {
            let mut rest = line;
            while let Some(at) = rest.find("/ui/") {
                rest = &rest[at + 4..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                let name = kebab(&name);
                // A name too long for a key names no component. The block answer pairs each
                // name with the component fetched by its key, so every name must make one.
                if !name.is_empty() && name.len() <= crate::key::MAX_SEGMENT_LEN {
                    used.insert(name);
                }
            }
        }
    }
    used.into_iter().collect()
}

pub(super) fn shape_block(
    block: &Value,
    used: &[String],
    components: Option<BTreeMap<String, String>>,
) -> Value {
    let mut files = serde_json::Map::new();
    let mut structure = Vec::new();
    for file in block["files"].as_array().into_iter().flatten() {
        let path = file["path"].as_str().unwrap_or_default();
        let content = file["content"].as_str().unwrap_or_default();
        let single = json!({ "files": [file] });
        files.insert(
            path.to_owned(),
            json!({
                "path": path,
                "content": content,
                "size": content.len(),
                "lines": content.lines().count(),
                "componentsUsed": components_used(&single),
            }),
        );
        structure.push(Value::String(path.to_owned()));
    }
    let name = block["name"].clone();
    let mut shaped = json!({
        "name": name,
        // Upstream's words: a block of one file is simple.
        "type": if structure.len() == 1 { "simple" } else { "complex" },
        "files": files,
        "structure": structure,
        "totalFiles": structure.len(),
        "componentsUsed": used,
        "usage": format!(
            "Copy the files of `{}` into your project; it uses these UI components: {}.",
            name.as_str().unwrap_or_default(),
            used.join(", ")
        ),
    });
    if let Some(components) = components {
        shaped["components"] = json!(components);
    }
    shaped
}

/// The registry's paths as upstream's nested tree: directories with `children`, files with
/// their name; paths relative to the repository, narrowed to `path` when given.
pub(crate) fn structure(
    fw: &Framework,
    listing: &Value,
    path: Option<&str>,
) -> Result<Value, Response> {
    let root = path
        .map(|p| p.trim_matches('/').to_owned())
        .unwrap_or_else(|| fw.registry.to_owned());
    if root != fw.registry && !root.starts_with(&format!("{}/", fw.registry)) {
        return Err(invalid(format!(
            "`{root}` is outside the {} registry ({}); only the registry is served",
            fw.id, fw.registry
        )));
    }
    let mut tree = json!({ "path": root, "type": "directory", "children": {} });
    let mut found = false;
    for entry in listing
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        let full = format!("{}/{}", fw.registry, entry.trim_end_matches('/'));
        let Some(rest) = full.strip_prefix(&format!("{root}/")) else {
            found |= full == root;
            continue;
        };
        found = true;
        let is_dir = entry.ends_with('/');
        let parts: Vec<&str> = rest.split('/').collect();
        let mut node = &mut tree;
        let mut at = root.clone();
        for (i, part) in parts.iter().enumerate() {
            at = format!("{at}/{part}");
            let last = i + 1 == parts.len();
            // A listing naming one path both as a file and as a directory (only a value some
            // client stored can) keeps the file; what would go under it is dropped.
            let Some(children) = node.get_mut("children").and_then(Value::as_object_mut) else {
                break;
            };
            node = children.entry(part.to_string()).or_insert_with(|| {
                if last && !is_dir {
                    json!({ "path": at, "type": "file", "name": part })
                } else {
                    json!({ "path": at, "type": "directory", "children": {} })
                }
            });
        }
    }
    if !found {
        return Err(error(
            ErrorCode::NotFound,
            format!("not found: `{root}` in the {} registry", fw.id),
        ));
    }
    Ok(tree)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::shadcn::framework::Framework;

    #[test]
    fn a_listing_with_a_file_where_a_directory_goes_is_not_a_panic() {
        // Found by the `domain_values` fuzz target: `["charts", "charts/c"]` (a value any
        // client may store under `tree:react`) panicked on "directories have children".
        let fw = Framework::find("react").unwrap();
        let tree = structure(fw, &json!(["charts", "charts/c"]), None).unwrap();
        assert_eq!(tree["children"]["charts"]["type"], "file");
        assert!(tree["children"]["charts"].get("children").is_none());
    }

    #[test]
    fn imports_name_the_components_a_block_uses() {
        let block = json!({"name": "login-01", "files": [
            {"path": "page.tsx", "content": "import { LoginForm } from \"@/registry/new-york-v4/blocks/login-01/components/login-form\"\n"},
            {"path": "components/login-form.tsx", "content": "import { Button } from \"@/registry/new-york-v4/ui/button\"\nimport {\n  Card,\n} from \"@/components/ui/card\"\nconst x = \"/ui/not-an-import\"\n"},
            {"path": "+page.svelte", "content": "import * as Field from \"$lib/registry/ui/field/index.js\";"},
        ]});
        assert_eq!(components_used(&block), vec!["button", "card", "field"]);
    }

    #[test]
    fn an_import_too_long_for_a_key_is_not_a_component() {
        // Found by the `domain_values` fuzz target: a 129+ character `/ui/` import was listed,
        // its key failed and was skipped, and the names after it were paired with the wrong
        // components' sources.
        let long = "c-".repeat(70);
        let block = json!({"files": [{"path": "page.tsx", "content": format!(
            "import {{ A }} from \"@/ui/{long}\"\nimport {{ B }} from \"@/ui/card\"\n"
        )}]});
        assert_eq!(components_used(&block), vec!["card"]);
    }

    #[test]
    fn blocks_group_by_category_and_filter() {
        let listing = json!([
            {"name": "login-01", "description": "A login page.", "categories": ["authentication", "login"]},
            {"name": "dashboard-01", "description": null, "categories": ["dashboard"]},
            {"name": "odd-01", "categories": []},
        ]);
        let all = blocks_by_category(&listing, None);
        assert_eq!(all["totalBlocks"], 3);
        assert_eq!(all["categories"]["login"][0]["name"], "login-01");
        assert_eq!(all["categories"]["other"][0]["name"], "odd-01");
        let login = blocks_by_category(&listing, Some("login"));
        assert_eq!(login["total"], 1);
        let none = blocks_by_category(&listing, Some("music"));
        assert_eq!(none["total"], 0);
        assert!(none["availableCategories"].as_array().unwrap().len() >= 3);
    }

    #[test]
    fn structure_nests_paths_under_the_registry() {
        let fw = Framework::find("react").unwrap();
        let listing = json!([
            "ui/",
            "ui/button.tsx",
            "examples/",
            "examples/button-demo.tsx"
        ]);
        let tree = structure(fw, &listing, None).unwrap();
        let button = &tree["children"]["ui"]["children"]["button.tsx"];
        assert_eq!(button["type"], "file");
        assert_eq!(button["path"], format!("{}/ui/button.tsx", fw.registry));
        let ui = structure(fw, &listing, Some(&format!("{}/ui", fw.registry))).unwrap();
        assert_eq!(ui["children"].as_object().unwrap().len(), 1);
        assert!(structure(fw, &listing, Some("apps/www")).is_err());
        assert!(structure(fw, &listing, Some(&format!("{}/nope", fw.registry))).is_err());
    }
}
