//! Where a file sits in a registry of the shadcn registry protocol, as the three places that
//! name it spell it: the path a client asks the listener for (`styles/new-york-v4/button.json`
//! under a source), the cache key (`registry:shadcn:new-york-v4:button`), and the upstream URL
//! (the source's configured base, or a namespace's URL template). Every part comes from a
//! path checked here, segment by segment, so no request can name a URL outside the configured
//! registries: there is no `..`, no `%`, no `/` inside a segment, no host.

use crate::key::Key;

/// The first segment of every registry key.
pub const KIND: &str = "registry";

/// The directories of a registry's top level with files of their own (`colors/neutral.json`,
/// `icons/index.json`, `styles/index.json`).
const DIRS: [&str; 4] = ["colors", "icons", "styles", "themes"];

/// One file of one registry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistryFile {
    /// `shadcn`, `svelte`, `vue`, or a namespace without its `@`.
    pub source: String,
    pub place: Place,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Place {
    /// An item or a style's own file: `styles/{style}/{name}.json` in a built-in registry,
    /// `{style}/{name}.json` in a namespace whose URL has `{style}`.
    Styled { style: String, name: String },
    /// `{name}.json` at the top: a built-in registry's `index.json`, `config.json`,
    /// `registries.json`; a namespace's items.
    Top { name: String },
    /// `{dir}/{name}.json` in a built-in registry's top directories (`colors/neutral.json`).
    Dir { dir: &'static str, name: String },
}

/// The built-in registries, as URLs and keys name them.
pub const BUILT_IN: [&str; 3] = ["shadcn", "svelte", "vue"];

/// Whether the source mirrors a whole registry's layout (a built-in) or is a namespace
/// served through a URL template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    BuiltIn,
    /// A namespace: `{name}.json`, or `{style}/{name}.json` when its URL template has
    /// `{style}` (which the origin checks: the listener may not know the template).
    Namespace,
}

impl Layout {
    pub fn of(source: &str) -> Layout {
        if BUILT_IN.contains(&source) {
            Layout::BuiltIn
        } else {
            Layout::Namespace
        }
    }
}

impl RegistryFile {
    pub fn top(source: &str, name: &str) -> RegistryFile {
        let name = name.to_owned();
        RegistryFile {
            source: source.to_owned(),
            place: Place::Top { name },
        }
    }

    pub fn styled(source: &str, style: &str, name: &str) -> RegistryFile {
        let (style, name) = (style.to_owned(), name.to_owned());
        RegistryFile {
            source: source.to_owned(),
            place: Place::Styled { style, name },
        }
    }

    /// `dir` is one of the top-level directories (`colors`, `icons`, `styles`, `themes`).
    pub fn in_dir(source: &str, dir: &'static str, name: &str) -> RegistryFile {
        debug_assert!(DIRS.contains(&dir), "{dir}");
        let name = name.to_owned();
        RegistryFile {
            source: source.to_owned(),
            place: Place::Dir { dir, name },
        }
    }

    /// The catalog of a style (`registry.json`; shadcn-svelte lists a style's items in its
    /// `index.json`), or a namespace's without styles.
    pub fn catalog_of(source: &str, style: Option<&str>) -> RegistryFile {
        match style {
            Some(style) if source == "svelte" => RegistryFile::styled(source, style, "index"),
            Some(style) => RegistryFile::styled(source, style, "registry"),
            None => RegistryFile::top(source, "registry"),
        }
    }

    pub fn layout(&self) -> Layout {
        Layout::of(&self.source)
    }

    /// The file a request path names, relative to its source (`styles/x/button.json`, query
    /// already dropped); `None` for anything that is not a path of the protocol.
    pub fn from_path(source: &str, path: &str) -> Option<RegistryFile> {
        let layout = Layout::of(source);
        let segments: Vec<&str> = path.split('/').collect();
        fn json(file: &str) -> Option<&str> {
            file.strip_suffix(".json").filter(|n| is_name(n))
        }
        let place = match (layout, segments.as_slice()) {
            (Layout::BuiltIn, ["styles", style, file]) if is_name(style) => Place::Styled {
                style: (*style).to_owned(),
                name: json(file)?.to_owned(),
            },
            (Layout::BuiltIn, [dir, file]) => Place::Dir {
                dir: DIRS.into_iter().find(|d| d == dir)?,
                name: json(file)?.to_owned(),
            },
            (Layout::Namespace, [style, file]) if is_name(style) => Place::Styled {
                style: (*style).to_owned(),
                name: json(file)?.to_owned(),
            },
            (_, [file]) => Place::Top {
                name: json(file)?.to_owned(),
            },
            _ => return None,
        };
        let file = RegistryFile {
            source: source.to_owned(),
            place,
        };
        // The key grammar is the last word on what a segment may hold.
        Key::parse(&file.key_text()).ok().map(|_| file)
    }

    /// The file a cache key names; `None` for keys of other kinds or of no registry shape.
    pub fn from_key(key: &Key) -> Option<RegistryFile> {
        let mut segments = key.segments();
        if segments.next() != Some(KIND) {
            return None;
        }
        let (source, at, name) = (segments.next()?, segments.next()?, segments.next()?);
        if !is_name(source) || !is_name(name) {
            return None;
        }
        let place = match at {
            "_" => Place::Top {
                name: name.to_owned(),
            },
            dir if dir.starts_with('_') => Place::Dir {
                dir: DIRS
                    .into_iter()
                    .find(|d| Some(*d) == dir.strip_prefix('_'))?,
                name: name.to_owned(),
            },
            style if is_name(style) => Place::Styled {
                style: style.to_owned(),
                name: name.to_owned(),
            },
            _ => return None,
        };
        Some(RegistryFile {
            source: source.to_owned(),
            place,
        })
    }

    pub fn key(&self) -> Key {
        Key::parse(&self.key_text()).expect("registry files are made of checked segments")
    }

    fn key_text(&self) -> String {
        let source = &self.source;
        match &self.place {
            Place::Styled { style, name } => format!("{KIND}:{source}:{style}:{name}"),
            Place::Top { name } => format!("{KIND}:{source}:_:{name}"),
            Place::Dir { dir, name } => format!("{KIND}:{source}:_{dir}:{name}"),
        }
    }

    /// The path under the source, as a client asks for it and a built-in registry serves it.
    pub fn path(&self) -> String {
        match (&self.place, self.layout()) {
            (Place::Styled { style, name }, Layout::BuiltIn) => {
                format!("styles/{style}/{name}.json")
            }
            (Place::Styled { style, name }, Layout::Namespace) => {
                format!("{style}/{name}.json")
            }
            (Place::Top { name }, _) => format!("{name}.json"),
            (Place::Dir { dir, name }, _) => format!("{dir}/{name}.json"),
        }
    }

    /// The item's name, the style it is asked in (`None` at the top level).
    pub fn name(&self) -> &str {
        match &self.place {
            Place::Styled { name, .. } | Place::Top { name } | Place::Dir { name, .. } => name,
        }
    }

    pub fn style(&self) -> Option<&str> {
        match &self.place {
            Place::Styled { style, .. } => Some(style),
            _ => None,
        }
    }

    /// What the body must be, by where the file sits.
    pub fn shape(&self) -> Shape {
        match (&self.place, self.layout()) {
            (Place::Styled { name, .. }, _) | (Place::Top { name }, Layout::Namespace) => {
                match name.as_str() {
                    "registry" => Shape::Catalog,
                    // A style's own `index.json` is an item (`registry:style`) at ui.shadcn.com
                    // and the list of items at shadcn-svelte.com.
                    "index" => Shape::Json,
                    _ => Shape::Item,
                }
            }
            _ => Shape::Json,
        }
    }

    /// The file of the same registry and style that lists its items, for suggestions.
    pub fn catalog(&self) -> Option<RegistryFile> {
        match (&self.place, self.layout()) {
            (Place::Styled { style, .. }, _) => {
                Some(RegistryFile::catalog_of(&self.source, Some(style)))
            }
            (Place::Top { .. }, Layout::Namespace) => {
                Some(RegistryFile::catalog_of(&self.source, None))
            }
            _ => None,
        }
    }
}

/// What a registry file's body must be before it is cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A registry item: an object with a `name` and a `registry:*` `type`.
    Item,
    /// A registry (`registry.json`): an object with an `items` array.
    Catalog,
    /// Any JSON object or array (indexes, colours, the directory, presets).
    Json,
}

impl Shape {
    /// Refuses what the registry would never serve: not JSON, cut short, the wrong shape.
    pub fn check(self, body: &[u8]) -> Result<(), String> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
        match self {
            Shape::Json if value.is_object() || value.is_array() => Ok(()),
            Shape::Json => Err("neither a JSON object nor an array".into()),
            Shape::Catalog => match value.get("items") {
                Some(items) if items.is_array() => Ok(()),
                _ => Err("a registry without an `items` array".into()),
            },
            Shape::Item => {
                let name = value.get("name").and_then(|n| n.as_str());
                let kind = value.get("type").and_then(|t| t.as_str());
                match (name, kind) {
                    (Some(name), Some(kind))
                        if !name.is_empty() && kind.starts_with("registry:") =>
                    {
                        Ok(())
                    }
                    _ => Err("not a registry item (no `name`, or no `registry:*` `type`)".into()),
                }
            }
        }
    }
}

/// The item names a catalog (`{items: [{name}]}`) or an index (`[{name}]`) lists; none for a
/// body of neither shape.
pub fn item_names(body: &[u8]) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let items = value.get("items").unwrap_or(&value);
    items
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item.get("name")?.as_str().map(str::to_owned))
        .collect()
}

/// A name or style as registries spell them: the key grammar's characters, never starting
/// with `_` (kept for the top-level places in keys) or `.`.
pub fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && !s.starts_with(['_', '.'])
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn built_in(path: &str) -> Option<RegistryFile> {
        RegistryFile::from_path("shadcn", path)
    }

    #[test]
    fn every_path_of_the_protocol_round_trips_through_its_key() {
        let cases = [
            (
                "shadcn",
                "styles/new-york-v4/button.json",
                "registry:shadcn:new-york-v4:button",
            ),
            (
                "shadcn",
                "styles/new-york-v4/registry.json",
                "registry:shadcn:new-york-v4:registry",
            ),
            (
                "shadcn",
                "styles/new-york-v4/index.json",
                "registry:shadcn:new-york-v4:index",
            ),
            ("shadcn", "index.json", "registry:shadcn:_:index"),
            ("shadcn", "registries.json", "registry:shadcn:_:registries"),
            ("shadcn", "config.json", "registry:shadcn:_:config"),
            (
                "shadcn",
                "styles/index.json",
                "registry:shadcn:_styles:index",
            ),
            (
                "shadcn",
                "colors/neutral.json",
                "registry:shadcn:_colors:neutral",
            ),
            ("shadcn", "icons/index.json", "registry:shadcn:_icons:index"),
            (
                "svelte",
                "styles/vega/utils.json",
                "registry:svelte:vega:utils",
            ),
            ("magicui", "marquee.json", "registry:magicui:_:marquee"),
            (
                "acme",
                "new-york/login.json",
                "registry:acme:new-york:login",
            ),
        ];
        for (source, path, key) in cases {
            let file = RegistryFile::from_path(source, path).unwrap_or_else(|| panic!("{path}"));
            assert_eq!(file.key().as_str(), key);
            assert_eq!(RegistryFile::from_key(&file.key()), Some(file.clone()));
            assert_eq!(file.path(), path);
        }
    }

    #[test]
    fn paths_that_try_to_escape_or_are_not_the_protocol_name_nothing() {
        for path in [
            "styles/../button.json",
            "styles/new-york-v4/../../etc/passwd.json",
            "styles/new-york-v4/..json",
            "styles/new-york-v4/%2e%2e.json",
            "styles/new-york-v4%2Fbutton.json",
            "styles/new-york-v4/button",
            "styles/new-york-v4/button.json/",
            "styles//button.json",
            "styles/_x/button.json",
            "styles/new-york-v4/_secret.json",
            "http://evil.example/x.json",
            "//evil.example/x.json",
            "secrets/x.json",
            "colors/a/b.json",
            "",
            ".json",
            "a b.json",
        ] {
            assert_eq!(built_in(path), None, "{path}");
        }
        assert_eq!(RegistryFile::from_path("acme", "styles/x/login.json"), None);
    }

    proptest::proptest! {
        /// Whatever a client sends as a path: no panic, and what is accepted is exactly what
        /// its key and upstream path spell back (nothing is dropped or rewritten on the way).
        #[test]
        fn any_path_is_refused_or_round_trips(path in "[a-z0-9./_%:@-]{0,40}(/[a-z0-9./_%:@-]{0,20}){0,3}") {
            for source in ["shadcn", "acme"] {
                if let Some(file) = RegistryFile::from_path(source, &path) {
                    proptest::prop_assert_eq!(file.path(), path.clone());
                    proptest::prop_assert_eq!(RegistryFile::from_key(&file.key()), Some(file.clone()));
                    proptest::prop_assert!(!path.contains('%'));
                    proptest::prop_assert!(path.split('/').all(|s| s != "." && s != ".." && !s.is_empty()));
                }
            }
        }
    }

    #[test]
    fn catalog_and_index_names_are_read() {
        assert_eq!(
            item_names(br#"{"items":[{"name":"button"},{"name":"card"}]}"#),
            ["button", "card"]
        );
        assert_eq!(item_names(br#"[{"name":"utils"}]"#), ["utils"]);
        assert!(item_names(b"garbage").is_empty());
    }

    #[test]
    fn bodies_are_checked_by_where_they_sit() {
        let item = br#"{"name":"button","type":"registry:ui","files":[]}"#;
        let catalog = br#"{"name":"shadcn","items":[]}"#;
        assert_eq!(Shape::Item.check(item), Ok(()));
        assert!(Shape::Item.check(catalog).is_err());
        assert!(
            Shape::Item
                .check(br#"{"name":"button","type":"registry:ui""#)
                .is_err()
        );
        assert!(Shape::Item.check(b"<html>oops</html>").is_err());
        assert!(
            Shape::Item
                .check(br#"{"name":"button","type":"component"}"#)
                .is_err()
        );
        assert_eq!(Shape::Catalog.check(catalog), Ok(()));
        assert!(Shape::Catalog.check(item).is_err());
        assert_eq!(Shape::Json.check(b"[]"), Ok(()));
        assert!(Shape::Json.check(b"42").is_err());
        let file = built_in("styles/new-york-v4/registry.json").unwrap();
        assert_eq!(file.shape(), Shape::Catalog);
        assert_eq!(
            built_in("colors/neutral.json").unwrap().shape(),
            Shape::Json
        );
    }

    #[test]
    fn the_recorded_registry_passes_its_own_checks() {
        let dir = crate::testkit::fixtures::registry_dir();
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
        let mut checked = 0;
        for entry in index["entries"].as_array().unwrap() {
            let (Some(url), Some(file)) = (entry["url"].as_str(), entry["file"].as_str()) else {
                continue;
            };
            let (source, path) = if let Some(p) = url.strip_prefix("https://ui.shadcn.com/r/") {
                ("shadcn", p)
            } else {
                (
                    "svelte",
                    url.strip_prefix("https://shadcn-svelte.com/registry/")
                        .unwrap(),
                )
            };
            let parsed = RegistryFile::from_path(source, path).unwrap_or_else(|| panic!("{url}"));
            let body = std::fs::read(dir.join(file)).unwrap();
            parsed
                .shape()
                .check(&body)
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            checked += 1;
        }
        assert_eq!(checked, 141);
    }
}
