//! A registry's recursive git-trees listing (one API call for the whole registry): which
//! components, demos and blocks exist, and each file's blob sha. A blob sha names content
//! forever, so an unchanged sha means nothing to download.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::shadcn::framework::{Framework, Template};

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
    /// The sha of the listed tree itself; of several roots, their shas joined by `+`.
    pub sha: String,
    /// Repository-relative path to blob.
    blobs: BTreeMap<String, Blob>,
    dirs: BTreeSet<String>,
}

impl RegistryTree {
    /// Parses a listing of `framework.registry` (paths in it are relative to that directory).
    #[cfg(any(fuzzing, test))]
    pub fn parse(framework: &'static Framework, json: &[u8]) -> Result<RegistryTree, TreeError> {
        Self::parse_root(framework, framework.registry, json)
    }

    /// Parses a listing of the directory `root` (one of `framework.roots`).
    pub fn parse_root(
        framework: &'static Framework,
        root: &str,
        json: &[u8],
    ) -> Result<RegistryTree, TreeError> {
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
            let path = format!("{root}/{}", node.path);
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

    /// One tree of a framework's several roots, in the order of `framework.roots`.
    pub fn join(framework: &'static Framework, roots: Vec<RegistryTree>) -> RegistryTree {
        let mut joined = RegistryTree {
            framework,
            sha: String::new(),
            blobs: BTreeMap::new(),
            dirs: BTreeSet::new(),
        };
        let mut shas = Vec::with_capacity(roots.len());
        for root in roots {
            shas.push(root.sha);
            joined.blobs.extend(root.blobs);
            joined.dirs.extend(root.dirs);
        }
        joined.sha = shas.join("+");
        joined
    }

    pub fn blob(&self, path: &str) -> Option<&Blob> {
        self.blobs.get(path)
    }

    /// The file `template` names for `name`: the exact path, else one whose name matches
    /// the template's `{Pascal}` with other capitals (`InputOTP.vue` for `input-otp`).
    pub fn resolve(&self, template: Template, name: &str) -> Option<(&str, &Blob)> {
        let exact = self.framework.file(template, name);
        if let Some((path, blob)) = self.blobs.get_key_value(&exact) {
            return Some((path, blob));
        }
        if !template.0.contains("{Pascal}") {
            return None;
        }
        let dir = exact.rsplit_once('/').map_or("", |(dir, _)| dir);
        self.files_in(dir)
            .find(|(path, _)| self.framework.name_of(template, path).as_deref() == Some(name))
    }

    /// The files directly in `dir`, or (`nested`) anywhere below it.
    fn files_under<'a>(
        &'a self,
        dir: &str,
        nested: bool,
    ) -> impl Iterator<Item = (&'a str, &'a Blob)> + 'a {
        let prefix = format!("{dir}/");
        let start = prefix.len();
        self.blobs
            .range(prefix.clone()..)
            .take_while(move |(path, _)| path.starts_with(&prefix))
            .filter(move |(path, _)| nested || !path[start..].contains('/'))
            .map(|(path, blob)| (path.as_str(), blob))
    }

    fn files_in<'a>(&'a self, dir: &str) -> impl Iterator<Item = (&'a str, &'a Blob)> + 'a {
        self.files_under(dir, false)
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

    /// The folders `template` (`{registry}/ui/{name}`) names.
    fn folder_names(&self, template: Template) -> Vec<String> {
        let mut names: Vec<String> = self
            .dirs
            .iter()
            .filter_map(|dir| self.framework.name_of(template, dir))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Components: one per folder where components are folders, else one per source file.
    pub fn components(&self) -> Vec<String> {
        match self.framework.component_folder {
            Some(folder) => self.folder_names(folder),
            None => self.names(self.framework.component),
        }
    }

    /// The files of a component's folder, when it has one (to say what a folder without the
    /// component's own file holds).
    pub fn component_folder_files(&self, name: &str) -> Vec<&str> {
        let Some(folder) = self.framework.component_folder else {
            return Vec::new();
        };
        let dir = self.framework.file(folder, name);
        self.files_in(&dir).map(|(path, _)| path).collect()
    }

    /// Names with a demo: a file, or a folder of variants.
    pub fn demos(&self) -> Vec<String> {
        let mut names = self.names(self.framework.demo);
        if let Some(folder) = self.framework.demo_folder {
            names.extend(self.folder_names(folder));
            names.sort();
            names.dedup();
        }
        names
    }

    /// Every file of a demo that is a folder of variants, with its path.
    pub fn demo_variants(&self, name: &str) -> Vec<(&str, &Blob)> {
        match self.framework.demo_folder {
            Some(folder) => self
                .files_under(&self.framework.file(folder, name), true)
                .collect(),
            None => Vec::new(),
        }
    }

    /// One block per folder directly under the blocks directory, and per single-file block
    /// where the framework has them (index files are not blocks).
    pub fn blocks(&self) -> Vec<String> {
        let root = self.framework.path(self.framework.blocks) + "/";
        let mut names: Vec<String> = self
            .dirs
            .iter()
            .filter_map(|dir| dir.strip_prefix(&root))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_owned)
            .collect();
        if let Some(file) = self.framework.block_file {
            names.extend(self.names(file));
            names.sort();
            names.dedup();
        }
        names
    }

    /// Every file of a block, with its path inside the block folder (a single-file block:
    /// its file name).
    pub fn block_files(&self, name: &str) -> Vec<(String, &str, &Blob)> {
        let root = format!("{}/{name}", self.framework.path(self.framework.blocks));
        let mut files: Vec<(String, &str, &Blob)> = self
            .files_under(&root, true)
            .map(|(path, blob)| (path[root.len() + 1..].to_owned(), path, blob))
            .collect();
        if files.is_empty()
            && let Some(template) = self.framework.block_file
            && let Some((path, blob)) = self.resolve(template, name)
        {
            let file_name = path.rsplit_once('/').map_or(path, |(_, f)| f);
            files.push((file_name.to_owned(), path, blob));
        }
        files
    }

    /// Every path in the registry, directories ending in `/`: the directory structure. Other
    /// roots (Vue's demos) are not part of it.
    pub fn structure(&self) -> Vec<String> {
        let registry = format!("{}/", self.framework.registry);
        let mut all: Vec<String> = self
            .dirs
            .iter()
            .filter_map(|d| d.strip_prefix(&registry).map(|d| format!("{d}/")))
            .chain(
                self.blobs
                    .keys()
                    .filter_map(|b| b.strip_prefix(&registry).map(str::to_owned)),
            )
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

pub use crate::suggest::suggest;

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

    /// Vue's two roots: the registry, and the demos outside it.
    fn vue() -> RegistryTree {
        let vue = Framework::find("vue").unwrap();
        let dir =
            crate::testkit::fixtures::dir().join("github-api/repos/unovue/shadcn-vue/git/trees");
        let registry = fixture("vue", "bbebf1db2b1ac67c5514682f441d322b38574028");
        let demos =
            std::fs::read(dir.join("6db3652ade9173beb4ed08ab0cf3632ef8935d95.recursive.json"));
        let demos = RegistryTree::parse_root(vue, vue.roots[1], &demos.unwrap()).unwrap();
        RegistryTree::join(vue, vec![registry, demos])
    }

    #[test]
    fn vue_components_are_folders_and_its_demos_a_second_root() {
        let tree = vue();
        let vue = tree.framework;
        let components = tree.components();
        assert_eq!(components.len(), 60, "{components:?}");
        assert!(tree.sha.contains('+'), "two roots: {}", tree.sha);
        let (path, _) = tree.resolve(vue.component, "input-otp").unwrap();
        assert_eq!(
            path,
            "apps/v4/registry/new-york-v4/ui/input-otp/InputOTP.vue"
        );
        assert!(tree.resolve(vue.component, "chart").is_none());
        assert!(
            tree.component_folder_files("chart")
                .iter()
                .any(|f| f.ends_with("/ChartContainer.vue"))
        );
        let (demo, _) = tree.resolve(vue.demo, "alert-dialog").unwrap();
        assert_eq!(demo, "apps/v4/components/demo/AlertDialogDemo.vue");
        assert!(tree.demos().iter().any(|d| d == "input-otp"));
        assert!(tree.blocks().iter().any(|b| b == "login-01"));
        // The directory structure is the registry's, not the demo folder's.
        assert!(tree.structure().iter().all(|p| !p.contains("Demo.vue")));
    }

    #[test]
    fn react_native_demos_may_be_folders_and_blocks_single_files() {
        let tree = fixture("react-native", "ef2273f311cb479a9722eefb6ff3807a2b93344e");
        assert_eq!(tree.components().len(), 32);
        let demos = tree.demos();
        for name in ["accordion", "button", "select", "text"] {
            assert!(demos.iter().any(|d| d == name), "{name}: {demos:?}");
        }
        assert_eq!(tree.demo_variants("button").len(), 10);
        assert!(tree.demo_variants("accordion").is_empty());
        let blocks = tree.blocks();
        assert_eq!(
            blocks,
            [
                "clerk",
                "forgot-password-form",
                "reset-password-form",
                "sign-in-form",
                "sign-up-form",
                "social-connections",
                "user-menu",
                "verify-email-form"
            ]
        );
        assert_eq!(tree.block_files("clerk").len(), 7);
        let single = tree.block_files("sign-in-form");
        assert_eq!(single.len(), 1);
        assert_eq!(single[0].0, "sign-in-form.tsx");
        assert_eq!(single[0].1, "packages/registry/src/blocks/sign-in-form.tsx");
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
    }
}
