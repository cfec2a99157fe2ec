//! Where each key's effective value came from, for `shadcache config`.

/// Where one key's effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File,
    Env(String),
    Flag,
}
