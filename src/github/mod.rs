//! L3: GitHub, the source of truth: the framework table, the parsers for what upstream
//! serves, quota rules, the HTTP client and the tier actor that puts them together.

mod actor;
pub mod framework;
mod handle;
pub mod http;
mod listing;
pub mod plan;
pub mod quota;
mod read;
pub mod registry_file;
pub mod tree;
pub mod values;

pub(crate) use actor::{GithubArgs, GithubTier, ToGithub};
pub use handle::{GithubHandle, serves};
