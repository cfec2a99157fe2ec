//! L3: GitHub, the first origin: the parsers for what upstream serves, quota rules, the HTTP
//! client and the tier actor that puts them together. Which files make an item is read from
//! the shadcn domain's framework table.

mod actor;
mod handle;
pub mod http;
mod listing;
mod message;
pub mod plan;
pub mod quota;
mod read;
pub mod registry_file;
pub mod tree;
pub mod values;

pub(crate) use actor::{GithubArgs, GithubTier};
pub use handle::{GithubHandle, serves};
pub(crate) use message::ToGithub;
