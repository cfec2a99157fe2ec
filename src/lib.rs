//! shadcache: one per-user daemon caching shadcn/ui registry content for every MCP client on
//! the machine. See README.md for use and actors.md for the actor tree.

pub mod cli;
pub mod client;
pub mod config;
pub mod daemon;
pub mod database;
pub mod domain;
pub mod fuzzing;
pub mod github;
pub mod glob;
pub mod key;
pub mod latency;
pub mod memory;
pub mod protocol;
pub mod router;
pub mod server;
pub mod supervisor;
pub mod testkit;
pub mod themes;
pub mod tier;
pub mod warm;
pub mod write_behind;
