//! The daemon process: `run.rs` is its life from start to exit; `logging.rs` and `notify.rs`
//! are what it tells the journal and systemd.

pub mod idle;
pub mod logging;
pub mod notify;
mod run;

pub use notify::SystemdEnv;
#[cfg(feature = "testkit")]
pub(crate) use run::raise_fd_limit;
pub use run::{DaemonOptions, run};
