//! The shadcn registry protocol as an origin (L3, beside GitHub): the JSON files that
//! `ui.shadcn.com/r`, shadcn-svelte, shadcn-vue and the namespaced registries serve to the
//! `shadcn` CLI and `shadcn mcp`. `file.rs` says where a file sits (path, key, URL) and what
//! its body must be; `sources.rs` which registries exist; the actor fetches; `warm.rs` fills
//! the cache with a whole registry through the daemon.

mod actor;
pub mod file;
mod follows;
mod handle;
mod message;
mod read;
pub mod sources;
pub mod warm;

pub use actor::{RegistryArgs, RegistryTier};
pub use follows::{catalog, follows, listed};
pub use handle::{RegistryHandle, serves};
pub use message::ToRegistry;
