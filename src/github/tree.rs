//! A registry's recursive git-trees listing (one API call for the whole registry): which
//! components, demos and blocks exist, and each file's blob sha. A blob sha names content
//! forever, so an unchanged sha means nothing to download.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::framework::{Framework, Template};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("the tree listing is not valid JSON: {0}")]
    Json(String),
    #[error("the tree listing has {0} entries, over the limit of {MAX_ENTRIES}")]
    TooBig(usize),
    #[error("GitHub truncated the tree listing (over 100,000 entries or 7 MB)")]
    Truncated,
}

/// GitHub's own cap is 100,000; a registry is a few thousand.
pub const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Deserialize)]
struct Listing {
    sha: String,
    #[serde(default)]
    truncated: bool,
    tree: Vec<Node>,
}

#[derive(Debug, Deserialize)]
struct Node {
    path: String,
    #[serde(rename = "type")]
    kind: String,
    sha: String,
    size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    pub sha: String,
    pub size: u64,
}

#[derive(Debug, Clone)]
pub struct RegistryTree {
    pub framework: &'static Framework,
    /// The sha of the listed tree itself.
    pub sha: String,
    /// Repository-relative path to blob.
    blobs: BTreeMap<String, Blob>,
    dirs: BTreeSet<String>,
}

impl RegistryTree {
    /// Parses a listing of `framework.registry` (paths in it are relative to that directory).
    pub fn parse(framework: &'static Framework, json: &[u8]) -> Result<RegistryTree, TreeError> {
        let listing: Listing =
            serde_json::from_slice(json).map_err(|e| TreeError::Json(e.to_string()))?;
        if listing.truncated {
            return Err(TreeError::Truncated);
        }
        if listing.tree.len() > MAX_ENTRIES {
            return Err(TreeError::TooBig(listing.tree.len()));
        }
        let mut blobs = BTreeMap::new();
        let mut dirs = BTreeSet::new();
        for node in listing.tree {
            let path = format!("{}/{}", framework.registry, node.path);
            match node.kind.as_str() {
                "blob" => {
                    blobs.insert(
                        path,
                        Blob {
                            sha: node.sha,
                            size: node.size.unwrap_or(0),
                        },
                    );
                }
                "tree" => {
                    dirs.insert(path);
                }
                _ => {}
            }
        }
        Ok(RegistryTree {
            framework,
            sha: listing.sha,
            blobs,
            dirs,
        })
    }

    pub fn blob(&self, path: &str) -> Option<&Blob> {
        self.blobs.get(path)
    }

    fn names(&self, template: Template) -> Vec<String> {
        let mut names: Vec<String> = self
            .blobs
            .keys()
            .filter_map(|path| self.framework.name_of(template, path))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    pub fn components(&self) -> Vec<String> {
        self.names(self.framework.component)
    }

    pub fn demos(&self) -> Vec<String> {
        self.names(self.framework.demo)
    }

    /// One block per folder directly under the blocks directory (index files are not blocks).
    pub fn blocks(&self) -> Vec<String> {
        let root = self.framework.path(self.framework.blocks) + "/";
        self.dirs
            .iter()
            .filter_map(|dir| dir.strip_prefix(&root))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_owned)
            .collect()
    }

    /// Every file of a block, with its path inside the block folder.
    pub fn block_files(&self, name: &str) -> Vec<(String, &str, &Blob)> {
        let root = format!("{}/{name}/", self.framework.path(self.framework.blocks));
        self.blobs
            .range(root.clone()..)
            .take_while(|(path, _)| path.starts_with(&root))
            .map(|(path, blob)| (path[root.len()..].to_owned(), path.as_str(), blob))
            .collect()
    }

    /// Every path in the registry, directories ending in `/`: the directory structure.
    pub fn structure(&self) -> Vec<String> {
        let prefix = self.framework.registry.len() + 1;
        let mut all: Vec<String> = self
            .dirs
            .iter()
            .map(|d| format!("{}/", &d[prefix..]))
            .chain(self.blobs.keys().map(|b| b[prefix..].to_owned()))
            .collect();
        all.sort();
        all
    }
}

/// The sha of directory `dir` in a contents listing of its parent (a JSON array of entries):
/// how a registry's tree is found without listing it. `Ok(None)` when it is not there, or
/// when its sha is not an object id: the sha goes into an API path (`/git/trees/{sha}`).
pub fn dir_sha(listing: &[u8], dir: &str) -> Result<Option<String>, serde_json::Error> {
    let entries: Vec<serde_json::Value> = serde_json::from_slice(listing)?;
    Ok(entries
        .iter()
        .find(|e| e["name"] == dir && e["type"] == "dir")
        .and_then(|e| e["sha"].as_str())
        .filter(|sha| is_object_id(sha))
        .map(str::to_owned))
}

/// A git object id in hex: 40 digits (SHA-1) or 64 (SHA-256 repositories).
pub fn is_object_id(sha: &str) -> bool {
    matches!(sha.len(), 40 | 64) && sha.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The closest candidate to a misspelt name, if one is close enough to be a likely typo.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c)
}

/// Edit distance counting a swap of neighbours as one edit (optimal string alignment): the
/// typos people make in names (`crad`, `alert-dailog`).
fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(fw: &str, sha: &str) -> RegistryTree {
        let dir = crate::testkit::fixtures::dir();
        let framework = Framework::find(fw).unwrap();
        let path = dir.join(format!(
            "github-api/repos/{}/{}/git/trees/{sha}.recursive.json",
            framework.owner, framework.repo
        ));
        RegistryTree::parse(framework, &std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn the_react_registry_lists_components_demos_and_blocks() {
        let tree = fixture("react", "caca6af200dbc6cd12edcea4b6c0668c496cafa5");
        let components = tree.components();
        assert_eq!(components.len(), 61, "{components:?}");
        assert!(components.iter().any(|c| c == "button"));
        assert!(!components.iter().any(|c| c.starts_with('_')));
        let demos = tree.demos();
        assert!(demos.iter().any(|d| d == "accordion"));
        assert!(
            !demos.iter().any(|d| d == "sidebar"),
            "sidebar has no demo upstream"
        );
        let blocks = tree.blocks();
        assert_eq!(blocks.len(), 27, "{blocks:?}");
        let login: Vec<String> = tree
            .block_files("login-01")
            .into_iter()
            .map(|(p, _, _)| p)
            .collect();
        assert_eq!(login, vec!["components/login-form.tsx", "page.tsx"]);
        assert_eq!(tree.block_files("dashboard-01").len(), 11);
        let button = tree
            .blob("apps/v4/registry/new-york-v4/ui/button.tsx")
            .unwrap();
        assert_eq!(button.sha.len(), 40);
        assert!(tree.structure().iter().any(|p| p == "ui/"));
    }

    #[test]
    fn bad_listings_are_errors() {
        let react = Framework::find("react").unwrap();
        assert!(matches!(
            RegistryTree::parse(react, b"<html>rate limited</html>"),
            Err(TreeError::Json(_))
        ));
        assert_eq!(
            RegistryTree::parse(react, br#"{"sha":"x","truncated":true,"tree":[]}"#).unwrap_err(),
            TreeError::Truncated
        );
        assert!(RegistryTree::parse(react, br#"{"sha":"x","tree":[{"path":1}]}"#).is_err());
    }

    #[test]
    fn a_directory_sha_that_is_not_an_object_id_is_refused() {
        // Found by the `contents` fuzz target: an empty (or any) string was taken as the sha
        // and put into the `/git/trees/{sha}` path unchecked.
        let sha = "caca6af200dbc6cd12edcea4b6c0668c496cafa5";
        let listing = |sha: &str| format!(r#"[{{"name":"base","sha":"{sha}","type":"dir"}}]"#);
        for bad in ["", "../../../user", "caca6af2?recursive=0", &sha[..39]] {
            assert_eq!(
                dir_sha(listing(bad).as_bytes(), "base").unwrap(),
                None,
                "{bad}"
            );
        }
        assert_eq!(
            dir_sha(listing(sha).as_bytes(), "base").unwrap().as_deref(),
            Some(sha)
        );
        assert!(dir_sha(b"{}", "base").is_err());
    }

    #[test]
    fn suggestions_catch_typos_but_not_strangers() {
        let names = ["button", "badge", "card", "calendar", "alert-dialog"];
        assert_eq!(suggest("buton", names), Some("button"));
        assert_eq!(suggest("alert-dailog", names), Some("alert-dialog"));
        assert_eq!(suggest("crad", names), Some("card"));
        assert_eq!(suggest("spaceship", names), None);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("crad", "card"), 1);
    }
}
