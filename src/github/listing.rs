//! A framework's tree listing: for each of its roots (the registry, and any other directory
//! its content lives in), the parent directory's listing names the root's tree sha, and the
//! recursive tree of a new sha lists every file with its blob sha. Two API calls a root at
//! most; a 304 to the parent listing's ETag costs none.

use std::sync::Arc;

use ractor::ActorRef;

use super::http::{Fetched, Http, Origin};
use super::message::{CachedTree, Pacer, RootListing, ToGithub, report, unavailable};
use super::tree::RegistryTree;
use crate::shadcn::framework::Framework;
use crate::tier::{TierError, unix_ms};

/// Each of the framework's roots (the registry, and any other directory its content lives
/// in) costs two API calls at most: its parent directory's listing names the root's tree sha
/// (a 304 costs nothing), and only a new sha costs the recursive listing.
pub(super) async fn fetch_tree(
    http: &Http,
    pacer: &Pacer,
    myself: &ActorRef<ToGithub>,
    framework: &'static Framework,
    previous: Option<CachedTree>,
) -> Result<CachedTree, TierError> {
    let mut roots = Vec::with_capacity(framework.roots.len());
    let mut changed = previous.is_none();
    for (i, root) in framework.roots.iter().enumerate() {
        let before = previous.as_ref().and_then(|p| p.roots.get(i)).cloned();
        let listing = fetch_root(http, pacer, myself, framework, root, before.clone()).await?;
        changed |= before.is_none_or(|b| !Arc::ptr_eq(&b.tree, &listing.tree));
        roots.push(listing);
    }
    let tree = match previous {
        Some(previous) if !changed => previous.tree,
        _ => Arc::new(RegistryTree::join(
            framework,
            roots.iter().map(|r| (*r.tree).clone()).collect(),
        )),
    };
    Ok(CachedTree {
        tree,
        roots,
        fetched_ms: unix_ms(),
    })
}

async fn fetch_root(
    http: &Http,
    pacer: &Pacer,
    myself: &ActorRef<ToGithub>,
    framework: &'static Framework,
    root: &str,
    previous: Option<RootListing>,
) -> Result<RootListing, TierError> {
    let (parent, dir) = root.rsplit_once('/').unwrap_or(("", root));
    let listing = format!(
        "/repos/{}/{}/contents/{parent}?ref={}",
        framework.owner, framework.repo, framework.branch
    );
    let etag = previous.as_ref().and_then(|p| p.etag.clone());
    let fetched = report(
        myself,
        Origin::Api,
        http.get(Origin::Api, &listing, etag.as_deref()).await,
    )?;
    let (body, etag) = match fetched {
        Fetched::NotModified => {
            return previous.ok_or_else(|| unavailable("304 without a cached tree"));
        }
        Fetched::NotFound => {
            return Err(unavailable(&format!(
                "{} has no {parent} on {}",
                framework.repo, framework.branch
            )));
        }
        Fetched::Body { bytes, etag } => (bytes, etag),
        Fetched::RateLimited => unreachable!("reported as an error"),
    };
    let sha = super::tree::dir_sha(&body, dir)
        .map_err(|e| TierError::BadUpstream(format!("directory listing is not JSON: {e}")))?
        .ok_or_else(|| unavailable(&format!("{root} is missing upstream")))?;
    if let Some(previous) = previous.filter(|p| p.tree.sha == sha) {
        return Ok(RootListing { etag, ..previous });
    }
    let path = format!(
        "/repos/{}/{}/git/trees/{sha}?recursive=1",
        framework.owner, framework.repo
    );
    pacer.until_ready().await;
    match report(
        myself,
        Origin::Api,
        http.get(Origin::Api, &path, None).await,
    )? {
        Fetched::Body { bytes, .. } => {
            let tree = RegistryTree::parse_root(framework, root, &bytes)
                .map_err(|e| TierError::BadUpstream(e.to_string()))?;
            Ok(RootListing {
                tree: Arc::new(tree),
                etag,
            })
        }
        _ => Err(unavailable("the registry tree could not be listed")),
    }
}
