//! Where tests find the recorded upstream content: `$SHADCACHE_FIXTURES`, else the copy the
//! repository carries in `tests/fixtures/github` (taken byte for byte from `../shared/fixtures`,
//! licences and MANIFEST.md included), so a clone tests alone. The registry protocol's set sits
//! beside it in `tests/fixtures/registry`.

use std::path::PathBuf;

/// The recorded GitHub content. Missing is a broken checkout, never a reason to skip.
pub fn dir() -> PathBuf {
    let dir = std::env::var_os("SHADCACHE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/github"));
    assert!(
        dir.join("MANIFEST.md").exists(),
        "no recorded GitHub content at {} (SHADCACHE_FIXTURES, or the repository's tests/fixtures/github)",
        dir.display()
    );
    dir
}

/// The recorded shadcn registry content (`ui.shadcn.com`, `shadcn-svelte.com`).
pub fn registry_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/registry");
    assert!(
        dir.join("MANIFEST.md").exists(),
        "no recorded registry content at {}",
        dir.display()
    );
    dir
}
