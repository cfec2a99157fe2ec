//! The read path: the local tiers in order, then the origin for what they did not have fresh,
//! with promotion, stale-while-revalidate and stale-if-error.

use std::time::Instant;

use tokio::sync::oneshot;

use super::message::{Outcome, Purpose, ToRouter, Want};
use super::walk::Walk;
use crate::key::Key;
use crate::protocol::{Found, StaleReason, TierName};
use crate::tier::{Entry, Lookup, TierError, Urgency, unix_ms};

impl Walk {
    /// The read path for every key: the local tiers in order, promoting fresh hits into the
    /// tiers above; then, for what is still missing, the origin. An expired copy of an
    /// upstream value is answered at once while one background refresh runs
    /// (stale-while-revalidate), or, with that off, only if the origin fails (stale-if-error).
    /// An expired plain entry is a miss: it has nothing to be refreshed from.
    pub(super) async fn read(
        &self,
        keys: Vec<Key>,
        skip: usize,
        outcome: &mut Outcome,
    ) -> Vec<Answer> {
        let now = unix_ms();
        let mut answers: Vec<Answer> = (0..keys.len()).map(|_| Answer::Miss).collect();
        let mut stale: Vec<Option<(TierName, Entry)>> = vec![None; keys.len()];
        let mut missing: Vec<usize> = (0..keys.len()).collect();
        let mut last_error = None;
        // Tiers skipped were asked already, and answered (a miss).
        let mut any_tier_answered = skip > 0;
        // An origin's live state is asked of it directly, every time.
        for origin in &self.tiers.origins {
            let live: Vec<usize> = missing
                .iter()
                .copied()
                .filter(|&i| origin.live(&keys[i]))
                .collect();
            if !live.is_empty() {
                missing.retain(|i| !live.contains(i));
                let wanted = live.iter().map(|&i| (keys[i].clone(), None)).collect();
                match origin.fetch(wanted, Urgency::Waiting).await {
                    Ok(found) => {
                        for (&i, lookup) in live.iter().zip(found) {
                            answers[i] = from_origin(origin.name(), lookup, None, now, outcome);
                        }
                    }
                    Err(e) => {
                        for &i in &live {
                            answers[i] = Answer::Failed(e.clone());
                        }
                    }
                }
            }
        }
        for (depth, tier) in self.tiers.local.iter().enumerate().skip(skip) {
            if missing.is_empty() {
                break;
            }
            let wanted: Vec<Key> = missing.iter().map(|&i| keys[i].clone()).collect();
            let started = Instant::now();
            let found = tier.get_many(wanted).await;
            outcome.latency.push((tier.name(), started.elapsed()));
            let found = match found {
                Ok(found) => found,
                Err(e) => {
                    tracing::debug!(tier = tier.name().label(), error = %e, "tier skipped for a read");
                    last_error = Some(e);
                    continue;
                }
            };
            any_tier_answered = true;
            let mut promote = Vec::new();
            let mut still_missing = Vec::new();
            for (&i, entry) in missing.iter().zip(found) {
                match entry {
                    Lookup::Hit(entry) if entry.meta.is_expired(now) => {
                        if stale[i].is_none() {
                            stale[i] = Some((tier.name(), entry));
                        }
                        still_missing.push(i);
                    }
                    Lookup::Hit(entry) => {
                        outcome.answered_by.push(tier.name());
                        answers[i] = Answer::Found(Found {
                            value: entry.value.clone(),
                            info: entry.meta.info(tier.name(), now, None),
                        });
                        promote.push((keys[i].clone(), entry));
                    }
                    Lookup::Miss | Lookup::Absent(_) | Lookup::Failed(_) => still_missing.push(i),
                }
            }
            if !promote.is_empty() && depth > 0 {
                outcome.promote.push((depth, promote));
            }
            missing = still_missing;
        }

        // What the local tiers could not answer fresh: refresh in the background, fetch and
        // wait, serve the expired copy, or call it a miss.
        let swr = self.policy.strategy.stale_while_revalidate;
        let mut refresh: Vec<Want> = Vec::new();
        let mut refreshed: Vec<usize> = Vec::new();
        let mut fetch: Vec<(usize, TierName, oneshot::Receiver<Lookup>)> = Vec::new();
        let mut waiting: Vec<Want> = Vec::new();
        for i in missing {
            let key = &keys[i];
            let origin = match self.tiers.origin_for(key) {
                Some((_, origin)) if self.policy.fetches(key) => origin.name(),
                _ => {
                    match stale[i].take() {
                        Some((tier, entry)) if (self.tiers.upstream)(key) => {
                            let why = StaleReason::NoUpstream;
                            answers[i] = stale_answer(tier, entry, why, outcome);
                        }
                        _ => outcome.misses += 1,
                    }
                    continue;
                }
            };
            match &stale[i] {
                Some((_, entry)) if swr => {
                    refresh.push(Want {
                        key: key.clone(),
                        stale: Some(entry.clone()),
                        answer: None,
                    });
                    refreshed.push(i);
                }
                copy => {
                    let (tx, rx) = oneshot::channel();
                    waiting.push(Want {
                        key: key.clone(),
                        stale: copy.as_ref().map(|(_, e)| e.clone()),
                        answer: Some(tx),
                    });
                    fetch.push((i, origin, rx));
                }
            }
        }
        if !waiting.is_empty() {
            // Whether the origin will be asked shows in each want's own answer.
            drop(self.fetch(waiting, Purpose::Read));
        }
        if !refresh.is_empty() {
            let reason = match self.fetch(refresh, Purpose::Revalidate).await {
                Ok(()) => StaleReason::Revalidating,
                Err(e) => stale_reason(&e),
            };
            for i in refreshed {
                let (tier, entry) = stale[i].take().expect("refreshed keys have a copy");
                answers[i] = stale_answer(tier, entry, reason, outcome);
            }
        }
        for (i, origin, answer) in fetch {
            let lookup = answer.await.unwrap_or_else(|_| {
                Lookup::Failed(TierError::Unavailable {
                    tier: "router",
                    reason: "restarted while the fetch was in flight".into(),
                })
            });
            answers[i] = from_origin(origin, lookup, stale[i].take(), now, outcome);
        }
        if !any_tier_answered && let Some(e) = last_error {
            for answer in &mut answers {
                if matches!(answer, Answer::Miss) {
                    *answer = Answer::Failed(e.clone());
                }
            }
        }
        answers
    }

    /// Hands keys to the router to fetch. Resolves with whether the origin will be asked
    /// (the breaker and the rate limit decide), not with the answers: those arrive on each
    /// want's own channel.
    fn fetch(
        &self,
        wanted: Vec<Want>,
        purpose: Purpose,
    ) -> impl Future<Output = Result<(), TierError>> + use<> {
        let (tx, rx) = oneshot::channel();
        let sent = self.router.send_message(ToRouter::Fetch {
            wanted,
            purpose,
            admission: tx,
        });
        async move {
            if sent.is_err() {
                return Err(TierError::Unavailable {
                    tier: "router",
                    reason: "not running".into(),
                });
            }
            rx.await.unwrap_or_else(|_| {
                Err(TierError::Unavailable {
                    tier: "router",
                    reason: "restarted".into(),
                })
            })
        }
    }
}

/// One key's answer to a read.
#[derive(Debug)]
pub(super) enum Answer {
    Found(Found),
    Miss,
    /// The source of truth says it does not exist, and why.
    Absent(String),
    /// No copy, and the origin could not be asked.
    Failed(TierError),
}

impl Answer {
    pub(super) fn found(self) -> Option<Found> {
        match self {
            Answer::Found(found) => Some(found),
            _ => None,
        }
    }

    pub(super) fn error(&self) -> Option<&TierError> {
        match self {
            Answer::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// One key's answer from the origin; a failure falls back to the expired copy, if any
/// (stale-if-error).
fn from_origin(
    origin: TierName,
    lookup: Lookup,
    stale: Option<(TierName, Entry)>,
    now: u64,
    outcome: &mut Outcome,
) -> Answer {
    match lookup {
        Lookup::Hit(entry) => {
            outcome.answered_by.push(origin);
            Answer::Found(Found {
                value: entry.value,
                info: entry.meta.info(origin, now, None),
            })
        }
        Lookup::Absent(why) => Answer::Absent(why),
        Lookup::Miss => {
            outcome.misses += 1;
            Answer::Miss
        }
        Lookup::Failed(e) => match stale {
            Some((tier, entry)) => stale_answer(tier, entry, stale_reason(&e), outcome),
            None => Answer::Failed(e),
        },
    }
}

fn stale_answer(tier: TierName, entry: Entry, why: StaleReason, outcome: &mut Outcome) -> Answer {
    outcome.answered_by.push(tier);
    outcome.stale.push(why);
    Answer::Found(Found {
        info: entry.meta.info(tier, unix_ms(), Some(why)),
        value: entry.value,
    })
}

fn stale_reason(e: &TierError) -> StaleReason {
    match e {
        TierError::RateLimited { .. } => StaleReason::RateLimited,
        TierError::BreakerOpen { .. } => StaleReason::BreakerOpen,
        _ => StaleReason::UpstreamFailed,
    }
}
