//! The keys of the shadcn domain: one type builds them and parses them, so each kind's layout
//! (DESIGN.md: `component:<fw>:<name>`, `list:<fw>:components`, `tree:<fw>`, ...) is written
//! once. The origins parse keys with it to know what to fetch; the domain API and warming
//! build keys with it.

use super::framework::Framework;
use crate::key::Key;

/// A kind of named item: `ShadcnKey::Component` and its like, as a constructor.
pub type Named = fn(&'static Framework, String) -> ShadcnKey;

/// A key with an upstream registry behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShadcnKey {
    Component(&'static Framework, String),
    Demo(&'static Framework, String),
    /// A component's registry metadata (dependencies, registryDependencies).
    Metadata(&'static Framework, String),
    Block(&'static Framework, String),
    ListComponents(&'static Framework),
    ListBlocks(&'static Framework),
    /// The registry's directory structure.
    Tree(&'static Framework),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown framework `{framework}` in `{key}` (known: {known})")]
pub struct UnknownFramework {
    pub key: String,
    pub framework: String,
    pub known: String,
}

impl ShadcnKey {
    /// `Ok(None)` for keys with no upstream (plain cache entries, `metadata:github_rate_limit`).
    pub fn parse(key: &Key) -> Result<Option<ShadcnKey>, UnknownFramework> {
        let parts: Vec<&str> = key.segments().collect();
        let framework = |id: &str| {
            Framework::find(id).ok_or_else(|| UnknownFramework {
                key: key.to_string(),
                framework: id.to_owned(),
                known: Framework::ids().collect::<Vec<_>>().join(", "),
            })
        };
        Ok(Some(match parts.as_slice() {
            ["component", fw, name] => ShadcnKey::Component(framework(fw)?, (*name).to_owned()),
            ["demo", fw, name] => ShadcnKey::Demo(framework(fw)?, (*name).to_owned()),
            ["metadata", fw, name] => ShadcnKey::Metadata(framework(fw)?, (*name).to_owned()),
            ["block", fw, name] => ShadcnKey::Block(framework(fw)?, (*name).to_owned()),
            ["list", fw, "components"] => ShadcnKey::ListComponents(framework(fw)?),
            ["list", fw, "blocks"] => ShadcnKey::ListBlocks(framework(fw)?),
            ["tree", fw] => ShadcnKey::Tree(framework(fw)?),
            _ => return Ok(None),
        }))
    }

    pub fn framework(&self) -> &'static Framework {
        match self {
            ShadcnKey::Component(f, _)
            | ShadcnKey::Demo(f, _)
            | ShadcnKey::Metadata(f, _)
            | ShadcnKey::Block(f, _)
            | ShadcnKey::ListComponents(f)
            | ShadcnKey::ListBlocks(f)
            | ShadcnKey::Tree(f) => f,
        }
    }

    /// The key of an item that has no name (a listing, a tree): nothing a client sent can
    /// make it invalid.
    pub fn unnamed_key(&self) -> Key {
        self.key().expect("a key without a name is valid")
    }

    /// The cache key. Fails when a name is not a single key segment: `a:b` would make
    /// `component:react:a:b`, a valid key but a plain cache entry with no upstream, which any
    /// client may have set.
    pub fn key(&self) -> Result<Key, String> {
        let (kind, fw, name) = match self {
            ShadcnKey::Component(fw, name) => ("component", fw, name.as_str()),
            ShadcnKey::Demo(fw, name) => ("demo", fw, name.as_str()),
            ShadcnKey::Metadata(fw, name) => ("metadata", fw, name.as_str()),
            ShadcnKey::Block(fw, name) => ("block", fw, name.as_str()),
            ShadcnKey::ListComponents(fw) => ("list", fw, "components"),
            ShadcnKey::ListBlocks(fw) => ("list", fw, "blocks"),
            ShadcnKey::Tree(fw) => {
                return Ok(Key::parse(&format!("tree:{}", fw.id)).expect("a valid key"));
            }
        };
        if name.contains(':') {
            return Err("a name is a single key segment, without `:`".into());
        }
        Key::parse(&format!("{kind}:{}:{name}", fw.id)).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    #[test]
    fn keys_map_to_upstream_requests() {
        let react = Framework::find("react").unwrap();
        assert_eq!(
            ShadcnKey::parse(&key("component:react:button")).unwrap(),
            Some(ShadcnKey::Component(react, "button".into()))
        );
        assert_eq!(
            ShadcnKey::parse(&key("list:svelte:blocks")).unwrap(),
            Some(ShadcnKey::ListBlocks(Framework::find("svelte").unwrap()))
        );
        assert_eq!(
            ShadcnKey::parse(&key("metadata:github_rate_limit")).unwrap(),
            None
        );
        assert_eq!(ShadcnKey::parse(&key("notes:mine")).unwrap(), None);
        let err = ShadcnKey::parse(&key("component:angular:button")).unwrap_err();
        assert!(
            err.to_string().contains("unknown framework `angular`"),
            "{err}"
        );
    }

    #[test]
    fn every_key_built_parses_back_to_itself() {
        for fw in super::super::framework::FRAMEWORKS {
            let name = || "alert-dialog".to_owned();
            for built in [
                ShadcnKey::Component(fw, name()),
                ShadcnKey::Demo(fw, name()),
                ShadcnKey::Metadata(fw, name()),
                ShadcnKey::Block(fw, name()),
                ShadcnKey::ListComponents(fw),
                ShadcnKey::ListBlocks(fw),
                ShadcnKey::Tree(fw),
            ] {
                let key = built.key().unwrap();
                assert_eq!(ShadcnKey::parse(&key), Ok(Some(built)), "{key}");
            }
        }
        let react = Framework::find("react").unwrap();
        let err = ShadcnKey::Component(react, "a:b".into()).key().unwrap_err();
        assert!(err.contains("single key segment"), "{err}");
    }
}
