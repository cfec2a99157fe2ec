//! The root of the actor tree and the slots through which handles find restarted children.

mod actor;
mod handle;
mod slot;
#[cfg(test)]
mod tests;

pub use handle::{Actors, StartError, SupervisorHandle};
pub use slot::{CallError, Slot};
