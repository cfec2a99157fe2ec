//! L1: the in-memory tier.

mod actor;
pub mod cache;
mod handle;
#[cfg(test)]
mod tests;

pub(crate) use actor::{MemoryArgs, MemoryTier, Store, ToMemory};
pub use handle::MemoryHandle;
