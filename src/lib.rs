//! shadcache: one per-user daemon caching shadcn/ui registry content for every MCP client on
//! the machine. See README.md for use and actors.md for the actor tree.
//!
//! The public surface is what the binary, the tests, the benchmarks and the fuzz targets use;
//! everything else is the crate's own.

pub mod cli;
pub mod client;
pub mod key;
pub mod memory;
pub mod protocol;
pub mod tier;

#[cfg(any(fuzzing, test))]
pub mod fuzzing;
/// Test support: the fake GitHub, where the recorded content lives, and the load generator.
/// Behind the `testkit` feature, which the tests and benchmarks enable, so the daemon carries
/// neither a test server nor a load generator.
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub(crate) mod backoff;
pub(crate) mod clock;
pub(crate) mod config;
pub(crate) mod daemon;
pub(crate) mod data_dir;
pub(crate) mod database;
pub(crate) mod github;
pub(crate) mod glob;
pub(crate) mod http;
pub(crate) mod latency;
pub(crate) mod procfs;
pub(crate) mod registry;
pub(crate) mod router;
pub(crate) mod server;
pub(crate) mod settings;
pub(crate) mod shadcn;
pub(crate) mod slot;
pub(crate) mod suggest;
pub(crate) mod supervisor;
pub(crate) mod themes;
pub(crate) mod write_behind;
