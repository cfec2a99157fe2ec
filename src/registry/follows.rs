//! What a registry item names as the files a client asks for next, for dependency prefetch:
//! `shadcn add login-01` reads `login-01.json`, then one by one each of its
//! `registryDependencies` (and theirs), then the project's base color. The style's catalog
//! lists every item's dependencies, so with it the daemon sees the whole chain at once
//! (`field`'s `separator` without waiting for `field.json`).

use super::file::{Layout, Place, RegistryFile, is_name};
use crate::config::PrefetchConfig;
use crate::key::Key;

/// The keys the item under `key` depends on, in the order it names them: its plain-name
/// `registryDependencies` in the same registry and style, then the configured base colors
/// of that registry. Nothing for files that are not items of a built-in registry's style:
/// a namespace's dependencies and URLs name registries only the CLI's config knows.
pub fn follows(key: &Key, value: &[u8], config: &PrefetchConfig) -> Vec<Key> {
    let Some(file) = RegistryFile::from_key(key) else {
        return Vec::new();
    };
    let Place::Styled { style, .. } = &file.place else {
        return Vec::new();
    };
    if file.layout() != Layout::BuiltIn || file.catalog().as_ref() == Some(&file) {
        return Vec::new();
    }
    let Ok(item) = serde_json::from_slice::<serde_json::Value>(value) else {
        return Vec::new();
    };
    let dependencies = item["registryDependencies"]
        .as_array()
        .into_iter()
        .flatten();
    let mut next: Vec<Key> = dependencies
        .filter_map(|d| d.as_str())
        .filter(|name| is_name(name) && *name != file.name())
        .map(|name| RegistryFile::styled(&file.source, style, name).key())
        .collect();
    next.extend(
        config
            .base_colors()
            .filter(|c| is_name(c))
            .map(|color| RegistryFile::in_dir(&file.source, "colors", color).key()),
    );
    next
}

/// The file that lists what every item of `key`'s registry and style depends on (the
/// style's catalog: `registry.json`, shadcn-svelte's `index.json`), for a built-in style's
/// item; the router fetches it with the first such item a client reads.
pub fn catalog(key: &Key) -> Option<Key> {
    let file = RegistryFile::from_key(key)?;
    if file.layout() != Layout::BuiltIn || file.style().is_none() {
        return None;
    }
    let catalog = file.catalog()?;
    (catalog != file).then(|| catalog.key())
}

/// What `catalog` (the body of [`catalog`]'s file) says the items under `keys` depend on,
/// and those on, `levels` deep: plain names in the same registry and style, each once, none
/// of `keys`. Nothing from a body that is not a catalog.
pub fn listed(catalog: &[u8], keys: &[Key], levels: u8) -> Vec<Key> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Catalog {
        Items { items: Vec<Listed> },
        List(Vec<Listed>),
    }
    #[derive(serde::Deserialize)]
    struct Listed {
        name: String,
        #[serde(default, rename = "registryDependencies")]
        dependencies: Vec<serde_json::Value>,
    }
    let Ok(Catalog::Items { items } | Catalog::List(items)) = serde_json::from_slice(catalog)
    else {
        return Vec::new();
    };
    let named: std::collections::HashMap<&str, &[serde_json::Value]> = items
        .iter()
        .map(|item| (item.name.as_str(), item.dependencies.as_slice()))
        .collect();
    let mut next = Vec::new();
    for key in keys {
        let Some(file) = RegistryFile::from_key(key) else {
            continue;
        };
        let (Some(style), true) = (file.style(), file.layout() == Layout::BuiltIn) else {
            continue;
        };
        let mut level: Vec<String> = vec![file.name().to_owned()];
        for _ in 0..levels {
            let below: Vec<String> = level
                .iter()
                .filter_map(|name| named.get(name.as_str()))
                .flat_map(|dependencies| dependencies.iter())
                .filter_map(|d| d.as_str())
                .filter(|name| is_name(name))
                .map(str::to_owned)
                .collect();
            level = Vec::new();
            for name in below {
                let found = RegistryFile::styled(&file.source, style, &name).key();
                if !keys.contains(&found) && !next.contains(&found) {
                    next.push(found);
                    level.push(name);
                }
            }
        }
    }
    next
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(next: Vec<Key>) -> Vec<String> {
        next.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn an_item_names_its_dependencies_then_the_base_colors() {
        let key = Key::parse("registry:shadcn:new-york-v4:login-01").unwrap();
        let login = std::fs::read(
            "tests/fixtures/registry/ui.shadcn.com/r/styles/new-york-v4/login-01.json",
        )
        .unwrap();
        assert_eq!(
            keys(follows(&key, &login, &PrefetchConfig::default())),
            [
                "registry:shadcn:new-york-v4:button",
                "registry:shadcn:new-york-v4:card",
                "registry:shadcn:new-york-v4:input",
                "registry:shadcn:new-york-v4:label",
                "registry:shadcn:new-york-v4:field",
                "registry:shadcn:_colors:neutral",
            ]
        );
        let none = PrefetchConfig {
            base_colors: String::new(),
            ..PrefetchConfig::default()
        };
        assert_eq!(follows(&key, &login, &none).len(), 5);
    }

    #[test]
    fn the_style_catalog_names_the_dependencies_of_dependencies() {
        let key = |name: &str| Key::parse(&format!("registry:shadcn:new-york-v4:{name}")).unwrap();
        assert_eq!(
            catalog(&key("login-01")).map(|k| k.to_string()).as_deref(),
            Some("registry:shadcn:new-york-v4:registry")
        );
        assert_eq!(catalog(&key("registry")), None, "the catalog has none");
        let svelte = Key::parse("registry:svelte:vega:button").unwrap();
        assert_eq!(
            catalog(&svelte).map(|k| k.to_string()).as_deref(),
            Some("registry:svelte:vega:index")
        );
        for other in [
            "registry:shadcn:_:index",
            "registry:acme:_:x",
            "component:react:x",
        ] {
            assert_eq!(catalog(&Key::parse(other).unwrap()), None, "{other}");
        }

        let body = std::fs::read(
            "tests/fixtures/registry/ui.shadcn.com/r/styles/new-york-v4/registry.json",
        )
        .unwrap();
        let first: Vec<Key> = ["button", "card", "input", "label", "field"]
            .into_iter()
            .map(key)
            .collect();
        // field names label (already there) and separator.
        assert_eq!(
            keys(listed(&body, &first, 1)),
            ["registry:shadcn:new-york-v4:separator"]
        );
        assert!(listed(&body, &first, 0).is_empty());
        // From login-01 itself, two levels: its dependencies, then separator.
        assert_eq!(
            keys(listed(&body, &[key("login-01")], 2)),
            [
                "registry:shadcn:new-york-v4:button",
                "registry:shadcn:new-york-v4:card",
                "registry:shadcn:new-york-v4:input",
                "registry:shadcn:new-york-v4:label",
                "registry:shadcn:new-york-v4:field",
                "registry:shadcn:new-york-v4:separator",
            ]
        );
        // shadcn-svelte's catalog is a bare list.
        let body = std::fs::read(
            "tests/fixtures/registry/shadcn-svelte.com/registry/styles/vega/index.json",
        )
        .unwrap();
        let group = Key::parse("registry:svelte:vega:button-group").unwrap();
        assert_eq!(
            keys(listed(&body, &[group], 1)),
            ["registry:svelte:vega:separator"]
        );
        assert!(listed(b"{\"items\": 3}", &first, 1).is_empty());
        assert!(listed(b"not json", &first, 1).is_empty());
    }

    #[test]
    fn urls_namespaces_and_files_that_are_not_items_name_nothing() {
        let config = PrefetchConfig::default();
        let body = br#"{"name":"x","type":"registry:ui","registryDependencies":
            ["https://example.com/r/a.json","@acme/thing","../up","ok"]}"#;
        let key = Key::parse("registry:svelte:default:x").unwrap();
        assert_eq!(
            keys(follows(&key, body, &config)),
            [
                "registry:svelte:default:ok",
                "registry:svelte:_colors:neutral"
            ]
        );
        for other in [
            "registry:acme:_:x",
            "registry:shadcn:_:index",
            "component:react:x",
        ] {
            let key = Key::parse(other).unwrap();
            assert!(follows(&key, body, &config).is_empty(), "{other}");
        }
        let key = Key::parse("registry:shadcn:new-york-v4:x").unwrap();
        assert!(follows(&key, b"not json", &config).is_empty());
    }
}
