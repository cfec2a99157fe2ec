//! Where a handle finds its actor. The supervisor publishes each child's current `ActorRef`
//! here and replaces it on restart, so handles given out at start-up keep working across
//! restarts without knowing they happened.

use std::time::Duration;

use futures::FutureExt;
use ractor::rpc::CallResult;
use ractor::{ActorRef, RpcReplyPort};
use tokio::sync::watch;

use crate::protocol::TierName;
use crate::tier::{Reply, TierError, TierFuture};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("{0} is not running (starting, restarting or stopped)")]
    NotRunning(&'static str),
    #[error("{0} did not answer within {1:?}")]
    Timeout(&'static str, Duration),
}

impl CallError {
    /// The same failure as a tier's answer: not running means unavailable.
    pub fn for_tier(self, tier: TierName) -> TierError {
        let tier = tier.label();
        match self {
            CallError::NotRunning(_) => TierError::Unavailable {
                tier,
                reason: "restarting".into(),
            },
            CallError::Timeout(_, after) => TierError::Timeout { tier, after },
        }
    }
}

pub struct Slot<M: Send + 'static> {
    name: &'static str,
    current: watch::Receiver<Option<ActorRef<M>>>,
}

impl<M: Send + 'static> Clone for Slot<M> {
    fn clone(&self) -> Self {
        Slot {
            name: self.name,
            current: self.current.clone(),
        }
    }
}

pub type Publisher<M> = watch::Sender<Option<ActorRef<M>>>;

impl<M: Send + 'static> Slot<M> {
    pub fn new(name: &'static str) -> (Publisher<M>, Slot<M>) {
        let (tx, rx) = watch::channel(None);
        (tx, Slot { name, current: rx })
    }

    pub fn actor(&self) -> Result<ActorRef<M>, CallError> {
        self.current
            .borrow()
            .clone()
            .ok_or(CallError::NotRunning(self.name))
    }

    /// Fire and forget.
    #[cfg(test)]
    pub fn cast(&self, message: M) -> Result<(), CallError> {
        self.actor()?
            .send_message(message)
            .map_err(|_| CallError::NotRunning(self.name))
    }

    /// A request with a reply and a deadline; never waits forever.
    pub async fn call<T: Send + 'static>(
        &self,
        build: impl FnOnce(RpcReplyPort<T>) -> M,
        timeout: Duration,
    ) -> Result<T, CallError> {
        match self.actor()?.call(build, Some(timeout)).await {
            Ok(CallResult::Success(value)) => Ok(value),
            Ok(CallResult::Timeout) => Err(CallError::Timeout(self.name, timeout)),
            Ok(CallResult::SenderError) | Err(_) => Err(CallError::NotRunning(self.name)),
        }
    }

    /// [`Slot::call`] to a tier actor, whose answer is itself a tier's result: what every
    /// tier handle's operations go through. Not running means unavailable.
    pub fn ask<T: Send + 'static>(
        &self,
        build: impl FnOnce(Reply<T>) -> M + Send + 'static,
        timeout: Duration,
        tier: TierName,
    ) -> TierFuture<T> {
        let slot = self.clone();
        async move {
            slot.call(build, timeout)
                .await
                .map_err(|e| e.for_tier(tier))?
        }
        .boxed()
    }
}
