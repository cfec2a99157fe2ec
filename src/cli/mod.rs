//! The `shadcache` command line (`run.rs` has every subcommand and the one `match` that runs
//! it). Exit codes (DESIGN.md): 0 success, 1 miss or not found, 2 any error.

mod commands;
mod database;
mod doctor;
mod exit;
pub mod mcp;
mod registry;
mod run;
mod start;
mod stats;
mod themes;
mod warm;

pub use run::main;
