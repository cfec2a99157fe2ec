//! The public face of L3: an [`Origin`] the router fetches from. GitHub is read-only to the
//! cache, so this is not a [`crate::tier::Tier`]: nothing is ever written, deleted or listed here.

use std::time::Duration;

use super::message::{RATE_LIMIT_KEY, ToGithub};
use crate::key::Key;
use crate::protocol::{TierName, TierStats};
use crate::shadcn::ShadcnKey;
use crate::slot::Slot;
use crate::tier::{Entry, Lookup, Origin, TierFuture, Urgency};

#[derive(Clone)]
pub struct GithubHandle {
    slot: Slot<ToGithub>,
    timeout: Duration,
}

impl GithubHandle {
    pub(crate) fn new(slot: Slot<ToGithub>, timeout: Duration) -> GithubHandle {
        GithubHandle { slot, timeout }
    }
}

/// Whether GitHub has anything to say about a key: the domain kinds (DESIGN.md), including
/// ones naming a framework it does not know (answered "not found"), and the quota state.
pub fn serves(key: &Key) -> bool {
    key.as_str() == RATE_LIMIT_KEY
        || super::plan::single_file(key).is_some()
        || !matches!(ShadcnKey::parse(key), Ok(None))
}

impl Origin for GithubHandle {
    fn name(&self) -> TierName {
        TierName::Github
    }

    fn fetch(
        &self,
        wanted: Vec<(Key, Option<Entry>)>,
        urgency: Urgency,
    ) -> TierFuture<Vec<Lookup>> {
        self.slot.ask(
            move |reply| ToGithub::Fetch(wanted, urgency, reply),
            self.timeout,
            TierName::Github,
        )
    }

    fn serves(&self, key: &Key) -> bool {
        serves(key)
    }

    fn live(&self, key: &Key) -> bool {
        key.as_str() == RATE_LIMIT_KEY
    }

    fn stats(&self) -> TierFuture<TierStats> {
        self.slot
            .ask(ToGithub::Stats, self.timeout, TierName::Github)
    }
}
