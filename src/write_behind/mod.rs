//! The write-behind queue: writes acknowledged `Queued` wait here, coalesced by key, until a
//! batch is flushed to L2 in one transaction (on size or age). Bounded: a write that finds it
//! full waits for room (backpressure), then is refused. Drained completely on SIGTERM before
//! L2 closes. Its entries can be read, so a queued write is visible before it reaches L2.

mod actor;
mod handle;
mod queue;
#[cfg(test)]
mod tests;

pub(crate) use actor::{ToWriteBehind, WriteBehind, WriteBehindArgs};
pub use handle::WriteBehindHandle;
