//! The Unix socket server: accepts connections (`serve.rs`) and hands each to its own task
//! (`connection.rs`), which decodes frames and runs them through the dispatcher (`dispatch.rs`).

mod connection;
mod dispatch;
mod l2;
mod limits;
mod listener;
mod serve;
pub mod web;

pub use dispatch::command;
pub use limits::Limits;
pub use listener::{ListenError, Listener, sockopt};
pub use serve::{Server, Services};
