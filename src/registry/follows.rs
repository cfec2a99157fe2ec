//! What a registry item names as the files a client asks for next, for dependency prefetch:
//! `shadcn add login-01` reads `login-01.json`, then one by one each of its
//! `registryDependencies` (and theirs), then the project's base color.

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
    if file.layout() != Layout::BuiltIn {
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
