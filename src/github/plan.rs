//! From a cache key to what must be fetched upstream, decided against the registry's tree
//! listing: which raw files (with their blob shas), or that the name does not exist, with a
//! suggestion. Pure: the tier actor fetches the plan; tests check plans against the recorded
//! tree.

use super::tree::{RegistryTree, suggest};
use crate::key::Key;
use crate::shadcn::ShadcnKey;

/// An upstream file outside every registry, cached whole under a key of its own and
/// revalidated by the raw host's ETag (no tree lists it, so there is no blob sha to compare
/// before downloading; the one it has is recorded).
pub struct SingleFile {
    pub key: &'static str,
    pub owner: &'static str,
    pub repo: &'static str,
    pub branch: &'static str,
    pub path: &'static str,
    /// Whether a body is usable; an unusable one is refused, and the last good copy serves.
    pub check: fn(&[u8]) -> Result<(), String>,
}

/// tweakcn's theme presets, behind the theme tools.
pub const SINGLE_FILES: &[SingleFile] = &[SingleFile {
    key: crate::themes::PRESETS_KEY,
    owner: "jnsahaj",
    repo: "tweakcn",
    branch: "main",
    path: "utils/theme-presets.ts",
    check: |body| {
        let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8: {e}"))?;
        crate::themes::parse(text)
            .map(|_| ())
            .map_err(|e| e.to_string())
    },
}];

pub fn single_file(key: &Key) -> Option<&'static SingleFile> {
    SINGLE_FILES.iter().find(|f| f.key == key.as_str())
}

/// A file to download: its path in the repository and the blob sha that names its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub path: String,
    pub sha: String,
    pub size: u64,
}

impl FileRef {
    fn new(path: &str, blob: &super::tree::Blob) -> FileRef {
        FileRef {
            path: path.to_owned(),
            sha: blob.sha.clone(),
            size: blob.size,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// One file whose bytes are the value (component source, demo).
    File(FileRef),
    /// A demo that is a folder of variants: every file, the value their sources in turn.
    Variants(Vec<FileRef>),
    /// A block: every file of its folder; the value carries them all.
    Files {
        name: String,
        files: Vec<(String, FileRef)>,
    },
    /// The value comes from an index file (metadata, block categories).
    Index { file: FileRef, item: Option<String> },
    /// The value is made from the tree alone (listings, directory structure): no download.
    FromTree,
    /// The name does not exist upstream; the message says so, with a suggestion if any.
    NotFound(String),
}

pub fn plan(upstream: &ShadcnKey, tree: &RegistryTree) -> Plan {
    let fw = upstream.framework();
    let file = |path: String| tree.blob(&path).map(|blob| FileRef::new(&path, blob));
    let file_ref = |(path, blob)| FileRef::new(path, blob);
    let missing = |what: &str, name: &str, known: Vec<String>| {
        let hint = suggest(name, known.iter().map(String::as_str))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        Plan::NotFound(format!("not found: no {what} `{name}` for {}{hint}", fw.id))
    };
    match upstream {
        ShadcnKey::Component(_, name) => match tree.resolve(fw.component, name) {
            Some(found) => Plan::File(file_ref(found)),
            None => {
                let parts = tree.component_folder_files(name);
                if parts.is_empty() {
                    return missing("component", name, tree.components());
                }
                // A folder of parts with no file of the component's own name (Vue's chart).
                let names: Vec<&str> = parts
                    .iter()
                    .map(|p| p.rsplit_once('/').map_or(*p, |(_, f)| f))
                    .collect();
                let expected = fw.file(fw.component, name);
                let expected = expected.rsplit_once('/').map_or(&*expected, |(_, f)| f);
                Plan::NotFound(format!(
                    "not found: {}'s `{name}` has no single source file upstream (no {expected}); \
                     its folder holds {}",
                    fw.id,
                    names.join(", ")
                ))
            }
        },
        ShadcnKey::Demo(_, name) => match tree.resolve(fw.demo, name) {
            Some(found) => Plan::File(file_ref(found)),
            None => {
                let variants = tree.demo_variants(name);
                if !variants.is_empty() {
                    Plan::Variants(variants.into_iter().map(file_ref).collect())
                } else if tree.components().contains(name) {
                    Plan::NotFound(format!(
                        "not found: component `{name}` for {} has no demo upstream",
                        fw.id
                    ))
                } else {
                    missing("demo", name, tree.demos())
                }
            }
        },
        ShadcnKey::Block(_, name) => {
            let files: Vec<(String, FileRef)> = tree
                .block_files(name)
                .into_iter()
                .map(|(relative, path, blob)| (relative, FileRef::new(path, blob)))
                .collect();
            if files.is_empty() {
                missing("block", name, tree.blocks())
            } else {
                Plan::Files {
                    name: name.clone(),
                    files,
                }
            }
        }
        ShadcnKey::Metadata(_, name) => {
            if !tree.components().contains(name) {
                return missing("component", name, tree.components());
            }
            match fw.ui_index.and_then(|index| file(fw.path(index))) {
                Some(index) => Plan::Index {
                    file: index,
                    item: Some(name.clone()),
                },
                None => Plan::NotFound(format!(
                    "not found: {} publishes no registry index to read metadata from",
                    fw.id
                )),
            }
        }
        ShadcnKey::ListBlocks(_) => match fw.blocks_index.and_then(|index| file(fw.path(index))) {
            // With an index, the listing carries each block's categories.
            Some(index) => Plan::Index {
                file: index,
                item: None,
            },
            None => Plan::FromTree,
        },
        ShadcnKey::ListComponents(_) | ShadcnKey::Tree(_) => Plan::FromTree,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shadcn::Framework;

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    fn react_tree() -> RegistryTree {
        let dir = crate::testkit::fixtures::dir();
        let path = dir.join(
            "github-api/repos/shadcn-ui/ui/git/trees/caca6af200dbc6cd12edcea4b6c0668c496cafa5.recursive.json",
        );
        let react = Framework::find("react").unwrap();
        RegistryTree::parse(react, &std::fs::read(path).unwrap()).unwrap()
    }

    fn plan_for(tree: &RegistryTree, k: &str) -> Plan {
        plan(&ShadcnKey::parse(&key(k)).unwrap().unwrap(), tree)
    }

    #[test]
    fn plans_against_the_recorded_react_tree() {
        let tree = react_tree();
        match plan_for(&tree, "component:react:button") {
            Plan::File(f) => {
                assert_eq!(f.path, "apps/v4/registry/new-york-v4/ui/button.tsx");
                assert_eq!(f.sha.len(), 40);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            plan_for(&tree, "component:react:buton"),
            Plan::NotFound(
                "not found: no component `buton` for react (did you mean `button`?)".into()
            )
        );
        assert_eq!(
            plan_for(&tree, "demo:react:sidebar"),
            Plan::NotFound("not found: component `sidebar` for react has no demo upstream".into())
        );
        match plan_for(&tree, "block:react:dashboard-01") {
            Plan::Files { files, .. } => {
                assert_eq!(files.len(), 11);
                assert!(files.iter().any(|(rel, _)| rel == "page.tsx"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            plan_for(&tree, "block:react:calendar-01"),
            Plan::NotFound(_)
        ));
        match plan_for(&tree, "metadata:react:alert-dialog") {
            Plan::Index { file, item } => {
                assert!(file.path.ends_with("ui/_registry.ts"));
                assert_eq!(item.as_deref(), Some("alert-dialog"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            plan_for(&tree, "list:react:blocks"),
            Plan::Index { item: None, .. }
        ));
        assert_eq!(plan_for(&tree, "list:react:components"), Plan::FromTree);
        assert_eq!(plan_for(&tree, "tree:react"), Plan::FromTree);
    }
}
