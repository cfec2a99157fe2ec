//! The public face of the router: one typed entry point, with a deadline on every call.
//!
//! A `get` that L1 answers fresh takes the fast path: the handle reads L1's map in the
//! connection's own task and answers, with no message to any actor (it is the most frequent
//! request by far). Everything else, and every L1 miss or expired entry, goes to the router
//! actor, told that L1 was already asked.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use super::command::Command;
use super::message::ToRouter;
use crate::latency::Latency;
use crate::memory::MemoryHandle;
use crate::protocol::{ErrorCode, Found, Response, TierName, WireError};
use crate::slot::{CallError, Slot};
use crate::tier::{Lookup, unix_ms};

#[derive(Clone)]
pub struct RouterHandle {
    slot: Slot<ToRouter>,
    timeout: Duration,
    /// L1, for the fast path; `None` turns it off (tests of the walk alone).
    memory: Option<MemoryHandle>,
    fast: Arc<FastPath>,
}

/// What the fast path answered, merged into the router's stats.
#[derive(Default)]
pub struct FastPath {
    /// Commands that went on to the router actor (the rest are `hits`).
    pub routed: AtomicU64,
    pub hits: AtomicU64,
    pub latency: std::sync::Mutex<Latency>,
}

impl RouterHandle {
    pub(crate) fn new(
        slot: Slot<ToRouter>,
        timeout: Duration,
        memory: Option<MemoryHandle>,
        fast: Arc<FastPath>,
    ) -> RouterHandle {
        RouterHandle {
            slot,
            timeout,
            memory,
            fast,
        }
    }

    /// Runs a command; failures come back as `Response::Error`, never as a hang.
    pub async fn execute(&self, command: Command) -> Response {
        let mut l1_checked = false;
        if let (Command::Get(key), Some(memory)) = (&command, &self.memory) {
            let started = Instant::now();
            // An L1 that fails or restarts is the walk's business: it answers around it.
            if let Ok(mut found) = memory.get_now(std::slice::from_ref(key)) {
                let took = started.elapsed();
                if let Some(Lookup::Hit(entry)) = found.pop() {
                    self.fast.hits.fetch_add(1, Relaxed);
                    if let Ok(mut latency) = self.fast.latency.lock() {
                        latency.record(took);
                    }
                    return Response::Value(Some(Found {
                        info: entry.meta.info(TierName::Memory, unix_ms(), None),
                        value: entry.value,
                    }));
                }
                l1_checked = true;
            }
        }
        self.fast.routed.fetch_add(1, Relaxed);
        let name = command.name();
        match self
            .slot
            .call(
                |reply| ToRouter::Execute {
                    command,
                    l1_checked,
                    reply,
                },
                self.timeout,
            )
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

    /// How many commands have been executed so far: unchanged means nobody asked anything.
    pub fn activity(&self) -> u64 {
        self.fast.hits.load(Relaxed) + self.fast.routed.load(Relaxed)
    }

    #[cfg(test)]
    pub(crate) fn inject_panic(&self) {
        let _ = self.slot.cast(ToRouter::Panic);
    }
}
