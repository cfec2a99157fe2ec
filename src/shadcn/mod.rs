//! The shadcn domain in one place: the frameworks and where their registries live
//! (`framework.rs`), the keys of registry content (`key.rs`), the domain API that MCP clients and
//! the CLI ask (`answer.rs`, shaped by `shape.rs`), and warming whole registries (`warm.rs`).
//! Below the router and the origins in the layering: the origins read the framework table and
//! parse keys here; nothing here knows GitHub's HTTP or the socket.

mod answer;
mod follows;
pub mod framework;
mod key;
mod shape;
pub mod warm;

pub use answer::answer;
pub use follows::follows;
pub use framework::{FRAMEWORKS, Framework, framework, framework_from_flags, frameworks};
#[cfg(any(fuzzing, test))]
pub use key::Named;
pub use key::ShadcnKey;
#[cfg(any(fuzzing, test))]
pub(crate) use shape::{blocks_by_category, components_used, metadata, structure};
