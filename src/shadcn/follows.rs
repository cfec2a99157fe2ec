//! What a value fetched from GitHub names as the keys a client asks for next, for dependency
//! prefetch: `get_block` with `includeComponents` reads the block and then every component it
//! imports; an assistant that reads a component over MCP reads its demo next.

use super::key::ShadcnKey;
use super::shape::components_used;
use crate::config::PrefetchConfig;
use crate::key::Key;

pub fn follows(key: &Key, value: &[u8], _config: &PrefetchConfig) -> Vec<Key> {
    match ShadcnKey::parse(key) {
        Ok(Some(ShadcnKey::Block(fw, _))) => {
            let Ok(block) = serde_json::from_slice(value) else {
                return Vec::new();
            };
            components_used(&block)
                .into_iter()
                .filter_map(|name| ShadcnKey::Component(fw, name).key().ok())
                .collect()
        }
        Ok(Some(ShadcnKey::Component(fw, name))) => {
            ShadcnKey::Demo(fw, name).key().into_iter().collect()
        }
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_names_its_components_and_a_component_its_demo() {
        let config = PrefetchConfig::default();
        let block = br#"{"name":"login-01","files":[{"path":"x.tsx","content":
            "import { Button } from \"@/components/ui/button\"\nimport { Card } from \"@/components/ui/card\"\n"}]}"#;
        let key = Key::parse("block:react:login-01").unwrap();
        let next: Vec<String> = follows(&key, block, &config)
            .iter()
            .map(|k| k.to_string())
            .collect();
        assert_eq!(next, ["component:react:button", "component:react:card"]);
        let key = Key::parse("component:svelte:button").unwrap();
        assert_eq!(
            follows(&key, b"<script>", &config)[0].as_str(),
            "demo:svelte:button"
        );
        for other in ["demo:react:button", "list:react:components", "plain:key"] {
            let key = Key::parse(other).unwrap();
            assert!(follows(&key, block, &config).is_empty(), "{other}");
        }
    }
}
