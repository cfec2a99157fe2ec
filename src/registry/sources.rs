//! The registries the origin may ask, and nothing else: the three built-in ones at their
//! configured bases, the namespaces of the user's config (with their headers), and, when
//! `registry.directory` is on, the namespaces of the shadcn directory (`registries.json`).
//! A request names a source and a checked path (`file.rs`); the URL is always built from a
//! base or template found here.

use std::collections::{BTreeMap, HashMap};

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

pub use super::file::BUILT_IN;
use super::file::{Place, RegistryFile};
use crate::config::RegistryConfig;

/// How messages and stats name a registry: `shadcn`, or `@magicui` for a namespace.
pub fn display(source: &str) -> String {
    if BUILT_IN.contains(&source) {
        source.to_owned()
    } else {
        format!("@{source}")
    }
}

/// Registries counted one by one in `stats`; past this many, the rest share one row, so a
/// client asking for made-up namespaces cannot grow the daemon's memory.
const COUNTED: usize = 64;

/// The stats row of `registry` (a display name) in `rows`, made on first use.
pub fn counted(
    rows: &mut std::collections::BTreeMap<String, crate::protocol::RegistryStats>,
    registry: String,
) -> &mut crate::protocol::RegistryStats {
    let registry = if rows.len() >= COUNTED && !rows.contains_key(&registry) {
        "(other registries)".to_owned()
    } else {
        registry
    };
    rows.entry(registry.clone())
        .or_insert_with(|| crate::protocol::RegistryStats {
            registry,
            ..Default::default()
        })
}

/// What the origin needs to ask one namespace.
#[derive(Clone)]
pub struct Namespace {
    /// `https://host/r/{name}.json`, or with `{style}`.
    pub template: String,
    /// Sent with every request to this namespace only; values are marked sensitive.
    pub headers: HeaderMap,
    /// Why it cannot be asked (a `${VAR}` that is not set), if it cannot.
    pub problem: Option<String>,
}

pub struct Sources {
    built_in: Vec<(&'static str, String)>,
    namespaces: BTreeMap<String, Namespace>,
    /// Whether namespaces not configured are looked up in the directory.
    pub directory: bool,
}

impl Sources {
    /// `env` is the daemon's environment, for the `${VAR}`s in namespaces' URLs and headers.
    pub fn from_config(config: &RegistryConfig, env: impl Fn(&str) -> Option<String>) -> Sources {
        let built_in = vec![
            ("shadcn", config.shadcn_url.clone()),
            ("svelte", config.svelte_url.clone()),
            ("vue", config.vue_url.clone()),
        ];
        let namespaces = config
            .namespaces
            .iter()
            .map(|(name, ns)| {
                let mut problem = None;
                let mut expand = |text: &str, what: &str| {
                    expand_vars(text, &env).unwrap_or_else(|var| {
                        problem.get_or_insert(format!(
                            "registry.namespaces.\"{name}\" {what}: ${{{var}}} is not set in \
                             the daemon's environment"
                        ));
                        String::new()
                    })
                };
                let template = expand(ns.url(), "url");
                let mut headers = HeaderMap::new();
                let mut invalid = Vec::new();
                for (header, value) in ns.headers() {
                    let value = expand(&value.0, &format!("header {header}"));
                    match (
                        HeaderName::from_bytes(header.as_bytes()),
                        HeaderValue::from_str(&value),
                    ) {
                        (Ok(header), Ok(mut value)) => {
                            value.set_sensitive(true);
                            headers.insert(header, value);
                        }
                        _ => invalid.push(header.to_owned()),
                    }
                }
                if let Some(header) = invalid.first() {
                    problem.get_or_insert(format!(
                        "registry.namespaces.\"{name}\" header {header}: not a valid header value"
                    ));
                }
                let name = name.trim_start_matches('@').to_owned();
                (
                    name,
                    Namespace {
                        template,
                        headers,
                        problem,
                    },
                )
            })
            .collect();
        Sources {
            built_in,
            namespaces,
            directory: config.directory,
        }
    }

    /// Whether the listener serves paths under `source`. Any well-formed namespace is
    /// accepted here: whether the directory has it is the origin's to say (with a 404 that
    /// names it), not a reason to refuse the path.
    pub fn serves(&self, source: &str) -> bool {
        BUILT_IN.contains(&source)
            || self.namespaces.contains_key(source)
            || (self.directory && super::file::is_name(source))
    }

    pub fn base(&self, source: &str) -> Option<&str> {
        self.built_in
            .iter()
            .find(|(name, _)| *name == source)
            .map(|(_, base)| base.as_str())
    }

    pub fn namespace(&self, source: &str) -> Option<&Namespace> {
        self.namespaces.get(source)
    }

    /// Where the shadcn directory is fetched from.
    pub fn directory_url(&self) -> String {
        format!(
            "{}/registries.json",
            self.base("shadcn").unwrap_or_default()
        )
    }
}

/// How a file is fetched: the URL and the headers only its registry gets.
#[derive(Debug, PartialEq)]
pub struct Target {
    pub url: String,
    pub headers: HeaderMap,
}

/// Why a file has no URL.
#[derive(Debug, PartialEq)]
pub enum NoTarget {
    /// The registry does not exist, or does not have files of that shape; the reason.
    Absent(String),
    /// A namespace that only the directory could name, and the directory is needed.
    NeedsDirectory,
    /// A configured namespace that cannot be asked, and why.
    Misconfigured(String),
}

impl Sources {
    /// The upstream URL of a file, from its source's base or template; `directory` is the
    /// shadcn directory (namespace without `@` → template) when it was needed and fetched.
    pub fn target(
        &self,
        file: &RegistryFile,
        directory: Option<&HashMap<String, String>>,
    ) -> Result<Target, NoTarget> {
        if let Some(base) = self.base(&file.source) {
            return Ok(Target {
                url: format!("{base}/{}", file.path()),
                headers: HeaderMap::new(),
            });
        }
        let (template, headers) = match self.namespace(&file.source) {
            Some(Namespace {
                problem: Some(why), ..
            }) => return Err(NoTarget::Misconfigured(why.clone())),
            Some(ns) => (ns.template.as_str(), ns.headers.clone()),
            None if !self.directory => {
                return Err(NoTarget::Absent(format!(
                    "no registry @{} in registry.namespaces (and registry.directory is off)",
                    file.source
                )));
            }
            None => match directory {
                None => return Err(NoTarget::NeedsDirectory),
                Some(directory) => match directory.get(&file.source) {
                    Some(template) => (template.as_str(), HeaderMap::new()),
                    None => {
                        return Err(NoTarget::Absent(format!(
                            "no registry @{} in the shadcn directory or registry.namespaces",
                            file.source
                        )));
                    }
                },
            },
        };
        let styled = template.contains("{style}");
        let url = match &file.place {
            Place::Styled { style, name } if styled => {
                template.replace("{style}", style).replace("{name}", name)
            }
            Place::Top { name } if !styled => template.replace("{name}", name),
            Place::Styled { .. } => {
                return Err(NoTarget::Absent(format!(
                    "@{} has no styles: ask for {{name}}.json",
                    file.source
                )));
            }
            _ => {
                return Err(NoTarget::Absent(format!(
                    "@{}'s items are by style: ask for {{style}}/{{name}}.json",
                    file.source
                )));
            }
        };
        Ok(Target { url, headers })
    }
}

/// Replaces every `${NAME}`; `Err(NAME)` for the first one that is not set.
fn expand_vars(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start + 2..].find('}') else {
            break;
        };
        let name = &rest[start + 2..start + 2 + len];
        out.push_str(&rest[..start]);
        out.push_str(&env(name).ok_or_else(|| name.to_owned())?);
        rest = &rest[start + 3 + len..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The shadcn directory (`registries.json`: `[{name: "@ns", url, ...}]`) as namespace → URL
/// template. Entries whose name or URL is unusable are left out, never followed: only
/// `https://` URLs, unless the directory itself came over plain HTTP (`allow_http`, a test
/// origin on loopback).
pub fn parse_directory(body: &[u8], allow_http: bool) -> Result<HashMap<String, String>, String> {
    #[derive(serde::Deserialize)]
    struct Entry {
        name: String,
        url: String,
    }
    let entries: Vec<serde_json::Value> = serde_json::from_slice(body)
        .map_err(|e| format!("the directory is not a JSON array: {e}"))?;
    Ok(entries
        .into_iter()
        .filter_map(|entry| serde_json::from_value::<Entry>(entry).ok())
        .filter_map(|entry| {
            let name = entry.name.strip_prefix('@')?;
            let usable = super::file::is_name(name)
                && !BUILT_IN.contains(&name)
                && (entry.url.starts_with("https://")
                    || (allow_http && entry.url.starts_with("http://")))
                && entry.url.contains("{name}");
            usable.then(|| (name.to_owned(), entry.url))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{NamespaceConfig, Secret};

    fn sources() -> Sources {
        let mut config = RegistryConfig {
            shadcn_url: "https://origin.test/r".into(),
            ..RegistryConfig::default()
        };
        config.namespaces.insert(
            "@acme".into(),
            NamespaceConfig::Full {
                url: "https://acme.test/r/{style}/{name}.json".into(),
                headers: [("Authorization".to_owned(), Secret("Bearer ${TOKEN}".into()))].into(),
            },
        );
        config.namespaces.insert(
            "@unset".into(),
            NamespaceConfig::Full {
                url: "https://unset.test/r/{name}.json".into(),
                headers: [("X-Key".to_owned(), Secret("${NOT_SET}".into()))].into(),
            },
        );
        Sources::from_config(&config, |var| (var == "TOKEN").then(|| "canary".to_owned()))
    }

    fn file(source: &str, path: &str) -> RegistryFile {
        assert!(sources().serves(source));
        RegistryFile::from_path(source, path).unwrap()
    }

    #[test]
    fn urls_come_from_configured_bases_and_templates_only() {
        let sources = sources();
        let target = sources.target(&file("shadcn", "styles/new-york-v4/button.json"), None);
        assert_eq!(
            target.unwrap().url,
            "https://origin.test/r/styles/new-york-v4/button.json"
        );
        let acme = sources
            .target(&file("acme", "new-york/login.json"), None)
            .unwrap();
        assert_eq!(acme.url, "https://acme.test/r/new-york/login.json");
        assert!(acme.headers["authorization"].is_sensitive());
        assert_eq!(acme.headers["authorization"], "Bearer canary");
        assert!(matches!(
            sources.target(&file("unset", "x.json"), None),
            Err(NoTarget::Misconfigured(why)) if why.contains("${NOT_SET}")
        ));
        assert!(matches!(
            sources.target(&file("acme", "login.json"), None),
            Err(NoTarget::Absent(_))
        ));
        let magic = file("magicui", "marquee.json");
        assert_eq!(sources.target(&magic, None), Err(NoTarget::NeedsDirectory));
        let directory = parse_directory(
            br#"[{"name":"@magicui","url":"https://magicui.design/r/{name}.json"},
                {"name":"@evil","url":"http://169.254.169.254/{name}"},
                {"name":"@shadcn","url":"https://elsewhere.test/{name}.json"},
                {"name":"bad name","url":"https://x.test/{name}.json"}]"#,
            false,
        )
        .unwrap();
        assert_eq!(directory.len(), 1, "{directory:?}");
        let target = sources.target(&magic, Some(&directory)).unwrap();
        assert_eq!(target.url, "https://magicui.design/r/marquee.json");
        assert!(
            target.headers.is_empty(),
            "a header went to another registry"
        );
        assert!(matches!(
            sources.target(&file("nobody", "x.json"), Some(&directory)),
            Err(NoTarget::Absent(why)) if why.contains("@nobody")
        ));
    }

    #[test]
    fn stats_rows_are_bounded() {
        let mut rows = std::collections::BTreeMap::new();
        for i in 0..1000 {
            counted(&mut rows, format!("@ns{i}")).requests += 1;
        }
        assert_eq!(rows.len(), COUNTED + 1);
        assert_eq!(rows["(other registries)"].requests, 1000 - COUNTED as u64);
        counted(&mut rows, "@ns0".into()).requests += 1;
        assert_eq!(rows["@ns0"].requests, 2);
    }

    #[test]
    fn the_recorded_directory_parses() {
        let dir = crate::testkit::fixtures::registry_dir();
        let body = std::fs::read(dir.join("ui.shadcn.com/r/registries.json")).unwrap();
        let directory = parse_directory(&body, false).unwrap();
        assert!(directory.len() > 200, "{}", directory.len());
        assert_eq!(directory["magicui"], "https://magicui.design/r/{name}");
    }
}
