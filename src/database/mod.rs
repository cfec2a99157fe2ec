//! L2: the persistent tier on embedded Postgres (PGlite), or on a PostgreSQL server a team
//! shares.

mod access;
mod actor;
mod backend;
mod connect;
mod db;
mod durability;
mod error;
mod handle;
mod message;
mod migrate;
pub mod offline;
mod phase;
mod query;
mod report;
mod space;
pub(crate) mod tls;

pub(crate) use actor::{DatabaseArgs, DatabaseTier};
#[cfg(test)]
pub use error::Direction;
pub use error::L2Error;
pub use handle::DatabaseHandle;
pub(crate) use message::ToDatabase;
pub use migrate::{MigrateAction, MigrationInfo};
pub use report::MaintenanceReport;
pub(crate) use space::{WRITE_RESERVE, free_bytes};
