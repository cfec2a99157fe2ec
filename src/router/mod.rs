//! The router: the request state machine across the tiers.

mod actor;
mod breaker;
mod command;
mod handle;
#[cfg(test)]
mod tests;
mod walk;

pub(crate) use actor::{Router, RouterArgs, ToRouter};
pub use command::Command;
pub use handle::{FastPath, RouterHandle};
pub use walk::{Policy, Tiers};
