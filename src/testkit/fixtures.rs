//! Where tests find the recorded GitHub content: `$SHADCACHE_FIXTURES`, else
//! `../shared/fixtures/github` beside the checkout. Absent, a test prints that it was skipped
//! and why; with `SHADCACHE_REQUIRE_FIXTURES` set (CI), absence is a failure.

use std::path::PathBuf;

pub fn dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SHADCACHE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/github")
        });
    if dir.join("MANIFEST.md").exists() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("SHADCACHE_REQUIRE_FIXTURES").is_none(),
        "fixtures required (SHADCACHE_REQUIRE_FIXTURES) but not found at {}",
        dir.display()
    );
    eprintln!(
        "skipped: no GitHub fixtures at {} (set SHADCACHE_FIXTURES)",
        dir.display()
    );
    None
}
