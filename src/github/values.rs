//! What a fetched plan becomes as a cache value. Component and demo sources are the upstream
//! bytes, unchanged. Blocks, metadata and listings are JSON documents assembled here.

use bytes::Bytes;
use serde::Serialize;

use super::registry_file::{self, RegistryItem};
use super::tree::RegistryTree;
use crate::shadcn::ShadcnKey;

#[derive(Serialize)]
struct BlockFile<'a> {
    path: &'a str,
    content: String,
}

#[derive(Serialize)]
struct Block<'a> {
    name: &'a str,
    files: Vec<BlockFile<'a>>,
}

/// A block: every file of its folder, paths relative to the folder.
pub fn block(name: &str, files: &[(String, Bytes)]) -> Bytes {
    let block = Block {
        name,
        files: files
            .iter()
            .map(|(path, body)| BlockFile {
                path,
                content: String::from_utf8_lossy(body).into_owned(),
            })
            .collect(),
    };
    Bytes::from(serde_json::to_vec_pretty(&block).expect("a block serialises"))
}

/// A demo that is a folder of variants: each file's source under a comment naming its path,
/// in path order, so the whole reads as one source a model can take in at once.
pub fn variants(files: &[(&str, Bytes)]) -> Bytes {
    let mut out = Vec::new();
    for (i, (path, body)) in files.iter().enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(format!("// {path}\n").as_bytes());
        out.extend_from_slice(body);
        if !body.ends_with(b"\n") {
            out.push(b'\n');
        }
    }
    Bytes::from(out)
}

#[derive(Serialize)]
struct BlockListing<'a> {
    name: &'a str,
    description: Option<&'a str>,
    categories: &'a [String],
}

/// A value made from an index file: one item's metadata, or the block listing with
/// categories. `Ok(None)` when the item is not in the index.
pub fn from_index(
    upstream: &ShadcnKey,
    item: Option<&str>,
    index: &[u8],
) -> Result<Option<Bytes>, String> {
    let text = std::str::from_utf8(index).map_err(|e| format!("index file is not UTF-8: {e}"))?;
    let items = registry_file::parse_items(text).map_err(|e| e.to_string())?;
    let json = match (upstream, item) {
        (ShadcnKey::Metadata(..), Some(name)) => {
            let Some(found) = items.iter().find(|i| i.name == name) else {
                return Ok(None);
            };
            serde_json::to_vec_pretty::<RegistryItem>(found)
        }
        _ => {
            let blocks: Vec<BlockListing> = items
                .iter()
                .filter(|i| i.kind == "registry:block")
                .map(|i| BlockListing {
                    name: &i.name,
                    description: i.description.as_deref(),
                    categories: &i.categories,
                })
                .collect();
            serde_json::to_vec_pretty(&blocks)
        }
    };
    json.map(|j| Some(Bytes::from(j)))
        .map_err(|e| e.to_string())
}

/// A value made from the tree alone.
pub fn from_tree(upstream: &ShadcnKey, tree: &RegistryTree) -> Bytes {
    let names = match upstream {
        ShadcnKey::ListComponents(_) => tree.components(),
        ShadcnKey::ListBlocks(_) => tree.blocks(),
        _ => tree.structure(),
    };
    Bytes::from(serde_json::to_vec_pretty(&names).expect("names serialise"))
}
