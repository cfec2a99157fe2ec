//! L2: the persistent tier on embedded Postgres (PGlite).

mod access;
mod actor;
mod backend;
mod connect;
mod db;
mod durability;
mod handle;
mod migrate;
pub mod offline;
mod report;
mod space;
#[cfg(test)]
mod tests;
pub(crate) mod tls;

pub(crate) use actor::{DatabaseArgs, DatabaseTier, ToDatabase};
pub use handle::DatabaseHandle;
pub(crate) use space::{WRITE_RESERVE, free_bytes};
