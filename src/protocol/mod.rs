//! The socket protocol: frames ([`codec`]) carrying the messages in [`message`] and the
//! statistics in [`stats`].

pub mod codec;
mod message;
mod names;
mod stats;

pub use message::*;
pub use names::*;
pub use stats::*;
