//! How a subcommand ends (DESIGN.md): 0 success, 1 a miss or not found, 2 any error, its
//! message on stderr.

use std::process::ExitCode;

use crate::protocol::Response;

/// A miss, or a name the registry does not have.
pub fn miss() -> ExitCode {
    ExitCode::from(1)
}

pub fn fail(message: &str) -> ExitCode {
    eprintln!("shadcache: {message}");
    ExitCode::from(2)
}

/// An answer the daemon should not have given to this request.
pub fn unexpected(response: Response) -> ExitCode {
    fail(&format!("unexpected answer from the daemon: {response:?}"))
}
