//! The socket protocol: frames ([`codec`]) carrying the messages in [`message`].

pub mod codec;
mod message;

pub use message::*;
