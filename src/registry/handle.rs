//! The public face of the registry origin: an [`Origin`] the router fetches from.

use std::time::Duration;

use super::file::RegistryFile;
use super::message::ToRegistry;
use crate::key::Key;
use crate::protocol::{RegistryStats, TierName, TierStats};
use crate::slot::Slot;
use crate::tier::{Entry, Lookup, Origin, TierFuture, Urgency};

#[derive(Clone)]
pub struct RegistryHandle {
    slot: Slot<ToRegistry>,
    timeout: Duration,
}

impl RegistryHandle {
    pub(crate) fn new(slot: Slot<ToRegistry>, timeout: Duration) -> RegistryHandle {
        RegistryHandle { slot, timeout }
    }

    /// Requests, fetches and 304s per registry.
    pub fn sources(&self) -> TierFuture<Vec<RegistryStats>> {
        self.slot
            .ask(ToRegistry::Sources, self.timeout, TierName::Registry)
    }
}

/// Whether a key is a registry file (the origin answers every one, "not found" included).
pub fn serves(key: &Key) -> bool {
    RegistryFile::from_key(key).is_some()
}

impl Origin for RegistryHandle {
    fn name(&self) -> TierName {
        TierName::Registry
    }

    fn fetch(
        &self,
        wanted: Vec<(Key, Option<Entry>)>,
        urgency: Urgency,
    ) -> TierFuture<Vec<Lookup>> {
        self.slot.ask(
            move |reply| ToRegistry::Fetch(wanted, urgency, reply),
            self.timeout,
            TierName::Registry,
        )
    }

    fn serves(&self, key: &Key) -> bool {
        serves(key)
    }

    fn stats(&self) -> TierFuture<TierStats> {
        self.slot
            .ask(ToRegistry::Stats, self.timeout, TierName::Registry)
    }
}
