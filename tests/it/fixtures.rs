//! The recorded content the repository carries (`tests/fixtures`, a byte-for-byte copy of
//! `../shared/fixtures`) checked against its own `index.json`: a fixture edited by hand, cut
//! short or lost fails here, not as a puzzling answer in some other test.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::runner::tests;

tests![
    every_recorded_github_file_matches_its_index,
    every_recorded_registry_file_matches_its_index,
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn git_blob_sha(bytes: &[u8]) -> String {
    let mut hasher = Sha1::new();
    hasher.update(format!("blob {}\0", bytes.len()).as_bytes());
    hasher.update(bytes);
    hex(&hasher.finalize())
}

fn index(dir: &Path) -> Vec<Value> {
    let text = std::fs::read(dir.join("index.json")).unwrap();
    let index: Value = serde_json::from_slice(&text).unwrap();
    index["entries"].as_array().unwrap().clone()
}

/// Every file under `dir` but the ones that describe the set.
fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut files = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.insert(relative);
            }
        }
    }
    files
}

/// Files beside the recorded answers: licences, notes, the index itself.
fn is_documentation(file: &str) -> bool {
    !file.contains('/') && (file.ends_with(".md") || file.ends_with(".txt") || file == "index.json")
}

fn every_recorded_github_file_matches_its_index() {
    let dir = shadcache::testkit::fixtures::dir();
    let entries = index(&dir);
    assert!(entries.len() >= 257, "{} entries", entries.len());
    let mut indexed = BTreeSet::new();
    let mut problems = Vec::new();
    for entry in &entries {
        let file = entry["file"].as_str().unwrap();
        indexed.insert(file.to_owned());
        let bytes = std::fs::read(dir.join(file))
            .unwrap_or_else(|e| panic!("{file} (for {}): {e}", entry["url"]));
        if entry["status"] != 200 {
            continue;
        }
        let sha = entry["sha"].as_str();
        let size = entry["size"].as_u64();
        if size.is_some_and(|size| size != bytes.len() as u64) {
            problems.push(format!(
                "{file}: {} bytes, index says {size:?}",
                bytes.len()
            ));
        }
        match entry["kind"].as_str().unwrap() {
            // A raw file is a git blob: its content names itself.
            "raw" => {
                let actual = git_blob_sha(&bytes);
                if Some(actual.as_str()) != sha {
                    problems.push(format!("{file}: blob sha {actual}, index says {sha:?}"));
                }
            }
            // A listing names a tree; its sha is the tree's, so check its shape instead.
            "api-contents" => {
                let listing: Value = serde_json::from_slice(&bytes).unwrap();
                let count = listing.as_array().map(Vec::len);
                if count.map(|n| n as u64) != entry["entries"].as_u64() {
                    problems.push(format!(
                        "{file}: {count:?} entries, index says {}",
                        entry["entries"]
                    ));
                }
            }
            "api-git-tree" => {
                let tree: Value = serde_json::from_slice(&bytes).unwrap();
                if tree["sha"].as_str() != sha {
                    problems.push(format!(
                        "{file}: tree sha {}, index says {sha:?}",
                        tree["sha"]
                    ));
                }
                let count = tree["tree"].as_array().map(Vec::len);
                if count.map(|n| n as u64) != entry["entries"].as_u64() {
                    problems.push(format!(
                        "{file}: {count:?} entries, index says {}",
                        entry["entries"]
                    ));
                }
            }
            _ => {
                serde_json::from_slice::<Value>(&bytes)
                    .unwrap_or_else(|e| panic!("{file} is not JSON: {e}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // What no request answers is documentation, a historical note, or an example.
    let unindexed: Vec<String> = files_under(&dir)
        .into_iter()
        .filter(|f| !indexed.contains(f) && !is_documentation(f))
        .filter(|f| !f.starts_with("historical/") && !f.starts_with("github-api/errors/"))
        .filter(|f| f != "github-api/response-headers.example.json")
        .collect();
    assert!(
        unindexed.is_empty(),
        "files no entry of index.json names: {unindexed:?}"
    );
    for licence in [
        "LICENSE.shadcn-ui-ui.md",
        "LICENSE.shadcn-svelte.md",
        "LICENSE.unovue-shadcn-vue.md",
        "LICENSE.founded-labs-react-native-reusables.md",
        "LICENSE.jnsahaj-tweakcn.md",
    ] {
        assert!(dir.join(licence).is_file(), "{licence} is missing");
    }
}

fn every_recorded_registry_file_matches_its_index() {
    let dir = shadcache::testkit::fixtures::registry_dir();
    let entries = index(&dir);
    assert!(entries.len() >= 148, "{} entries", entries.len());
    let mut indexed = BTreeSet::new();
    let mut problems = Vec::new();
    for entry in &entries {
        let Some(file) = entry["file"].as_str() else {
            // Recorded as a 404 upstream: no body.
            assert_ne!(entry["status"], 200, "{entry}");
            continue;
        };
        indexed.insert(file.to_owned());
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let actual = hex(&Sha256::digest(&bytes));
        if Some(actual.as_str()) != entry["sha256"].as_str() {
            problems.push(format!(
                "{file}: sha256 {actual}, index says {}",
                entry["sha256"]
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let unindexed: Vec<String> = files_under(&dir)
        .into_iter()
        .filter(|f| !indexed.contains(f) && !is_documentation(f))
        .collect();
    assert!(
        unindexed.is_empty(),
        "files no entry of index.json names: {unindexed:?}"
    );
    for licence in ["LICENSE.shadcn-ui-ui.md", "LICENSE.shadcn-svelte.md"] {
        assert!(dir.join(licence).is_file(), "{licence} is missing");
    }
}
