//! The root of the actor tree and the slots through which handles find restarted children.

mod actor;
mod handle;
#[cfg(test)]
mod l2_tests;
#[cfg(test)]
mod tests;

pub use handle::{Actors, StartError, SupervisorHandle};
