//! The public face of the router: one typed entry point, with a deadline on every call.

use std::time::Duration;

use super::actor::ToRouter;
use super::command::Command;
use crate::protocol::{ErrorCode, Response, WireError};
use crate::supervisor::{CallError, Slot};

#[derive(Clone)]
pub struct RouterHandle {
    slot: Slot<ToRouter>,
    timeout: Duration,
}

impl RouterHandle {
    pub(crate) fn new(slot: Slot<ToRouter>, timeout: Duration) -> RouterHandle {
        RouterHandle { slot, timeout }
    }

    /// Runs a command; failures come back as `Response::Error`, never as a hang.
    pub async fn execute(&self, command: Command) -> Response {
        let name = command.name();
        match self
            .slot
            .call(|reply| ToRouter::Execute(command, reply), self.timeout)
            .await
        {
            Ok(response) => response,
            Err(CallError::Timeout(_, after)) => Response::Error(WireError::new(
                ErrorCode::Timeout,
                format!("{name} did not complete within {after:?}"),
            )),
            Err(e @ CallError::NotRunning(_)) => {
                Response::Error(WireError::new(ErrorCode::Unavailable, e.to_string()))
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn inject_panic(&self) {
        let _ = self.slot.cast(ToRouter::Panic);
    }
}
