//! The router: the request state machine across the tiers.

mod actor;
mod ahead;
mod breaker;
mod command;
mod execute;
mod fetch;
mod handle;
mod message;
#[cfg(test)]
mod origin_tests;
mod policy;
mod read;
#[cfg(test)]
mod tests;
mod walk;
mod write;

pub(crate) use actor::{Router, RouterArgs};
pub use command::Command;
pub use handle::{FastPath, RouterHandle};
pub(crate) use message::ToRouter;
pub use policy::Policy;
pub use walk::{Follows, Tiers};
