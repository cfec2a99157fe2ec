//! How one command moves through the tiers: L1, the write-behind queue and L2 first (the
//! local tiers), then the origin for what they did not have fresh. Runs in a task the router
//! spawns, never in the router's handler, so a slow tier holds up only the request that needs
//! it. Fetches from the origin go through the router (one per key at a time, behind the
//! breaker); this task only waits for their answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ractor::ActorRef;
use tokio::sync::oneshot;

use super::actor::{ToRouter, Want};
use super::command::Command;
use crate::config::{Strategy, StrategyConfig, TtlConfig};
use crate::key::Key;
use crate::protocol::{Ack, ErrorCode, Found, Response, StaleReason, TierName, WireError};
use crate::tier::{Entry, EntryMeta, Lookup, Origin, Tier, TierError, Urgency, unix_ms};

/// The tiers the router walks.
pub struct Tiers {
    /// Read order: L1, the write-behind queue (when some kind is write-behind), L2.
    pub local: Vec<Arc<dyn Tier>>,
    /// L3, when GitHub is enabled.
    pub origin: Option<Arc<dyn Origin>>,
}

/// TTLs and strategies, replaced whole on SIGHUP.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    pub ttl: TtlConfig,
    pub strategy: StrategyConfig,
}

impl Policy {
    pub fn strategy(&self, key: &Key) -> Strategy {
        self.strategy.for_kind(key.kind())
    }

    /// Whether a read of this key may go to the origin.
    fn fetches(&self, tiers: &Tiers, key: &Key) -> bool {
        tiers.origin.as_ref().is_some_and(|o| o.serves(key))
            && self.strategy(key) != Strategy::CacheAside
    }
}

/// Everything a walk needs; cheap to clone.
#[derive(Clone)]
pub struct Walk {
    pub tiers: Arc<Tiers>,
    pub policy: Arc<Policy>,
    pub router: ActorRef<ToRouter>,
}

/// What the router learns from a finished command, for its counters.
#[derive(Debug, Default)]
pub struct Outcome {
    pub answered_by: Vec<TierName>,
    pub misses: u64,
    pub promotions: u64,
    /// Keys answered with an expired copy, by why.
    pub stale: Vec<StaleReason>,
    pub error: bool,
    /// How long each local tier took to answer a read.
    pub latency: Vec<(TierName, Duration)>,
    /// Hits to copy into the tiers above the one (by depth) that had them, after the answer
    /// is sent: promotion is not on the reader's critical path.
    pub promote: Vec<(usize, Vec<(Key, Entry)>)>,
}

impl Walk {
    /// Copies the local hits of a finished read into the tiers above them (never into the
    /// write-behind queue: the value is in L2 already).
    pub async fn promote(&self, outcome: &mut Outcome) {
        for (depth, entries) in std::mem::take(&mut outcome.promote) {
            for upper in &self.tiers.local[..depth] {
                if upper.name() == TierName::Queue {
                    continue;
                }
                if upper.put_many(entries.clone()).await.is_ok() {
                    outcome.promotions += entries.len() as u64;
                }
            }
        }
    }

    /// `l1_checked`: L1 was already asked for this `get` (the handle's fast path missed), so
    /// the walk starts below it.
    pub async fn execute(&self, command: Command, l1_checked: bool) -> (Response, Outcome) {
        let mut outcome = Outcome::default();
        let now = unix_ms();
        let local = &self.tiers.local;
        let expiry = |key: &Key, ttl_given: Option<Duration>| {
            let ttl_given = ttl_given.unwrap_or_else(|| self.policy.ttl.for_kind(key.kind()));
            Some(now.saturating_add(ttl_given.as_millis() as u64))
        };
        let response = match command {
            Command::Ping => match local[0].ping().await {
                Ok(()) => Response::Pong,
                Err(e) => error_response(e),
            },
            Command::Get(key) => {
                let skip = usize::from(l1_checked);
                let mut read = self.read(vec![key], skip, &mut outcome).await;
                match read.pop() {
                    Some(Answer::Found(found)) => Response::Value(Some(found)),
                    Some(Answer::Absent(why)) => {
                        Response::Error(WireError::new(ErrorCode::NotFound, why))
                    }
                    Some(Answer::Failed(e)) => error_response(e),
                    Some(Answer::Miss) | None => Response::Value(None),
                }
            }
            Command::MGet(keys) => {
                let read = self.read(keys, 0, &mut outcome).await;
                let failed = read
                    .iter()
                    .filter(|a| matches!(a, Answer::Failed(_)))
                    .count();
                match read.iter().find_map(Answer::error) {
                    // Every key failed the same way: that is the answer, not a row of misses.
                    Some(e) if failed == read.len() => error_response(e.clone()),
                    _ => Response::Values(read.into_iter().map(Answer::found).collect()),
                }
            }
            Command::Set { key, value, ttl } => {
                let expires = expiry(&key, ttl);
                self.put(vec![(key, value, expires)], now).await
            }
            Command::MSet(entries) => {
                let entries = entries
                    .into_iter()
                    .map(|(key, value, ttl)| {
                        let expires = expiry(&key, ttl);
                        (key, value, expires)
                    })
                    .collect();
                self.put(entries, now).await
            }
            Command::Delete(key) => match each(local, |t| t.delete_many(vec![key.clone()])).await {
                Ok(counts) => Response::Deleted(counts.iter().any(|n| *n > 0)),
                Err(e) => error_response(e),
            },
            Command::Has(key) => match first_meta(local, &key).await {
                Ok(found) => Response::Has(found.is_some()),
                Err(e) => error_response(e),
            },
            Command::Metadata(key) => match first_meta(local, &key).await {
                Ok(found) => Response::Metadata(
                    found.map(|(tier, meta)| meta.info(tier, now, Some(StaleReason::Expired))),
                ),
                Err(e) => error_response(e),
            },
            Command::RefreshTtl(key, ttl) => {
                let expires = expiry(&key, ttl);
                match each(local, |t| t.touch(key.clone(), expires)).await {
                    Ok(touched) => Response::Refreshed(touched.iter().any(|t| *t)),
                    Err(e) => error_response(e),
                }
            }
            Command::Keys(glob) => match each_available(local, |t| t.keys(glob.clone())).await {
                Ok(lists) => {
                    let mut keys: Vec<String> = lists
                        .into_iter()
                        .flatten()
                        .map(|k| k.as_str().to_owned())
                        .collect();
                    keys.sort_unstable();
                    keys.dedup();
                    Response::Keys(keys)
                }
                Err(e) => error_response(e),
            },
            Command::Clear { shared: false } if local.iter().any(|t| t.shared()) => {
                Response::Error(WireError::new(
                    ErrorCode::InvalidRequest,
                    "L2 is shared by a team (l2.backend = \"postgres\"): `clear --shared` clears it \
                     for everyone; nothing was cleared",
                ))
            }
            Command::Clear { .. } => match each(local, |t| t.clear()).await {
                Ok(counts) => Response::Cleared(counts.into_iter().max().unwrap_or(0)),
                Err(e) => error_response(e),
            },
            Command::Size => match each_available(local, |t| t.stats()).await {
                // The tier holding the most entries: lower tiers hold what upper tiers evicted.
                Ok(stats) => {
                    let biggest = stats.iter().max_by_key(|s| s.entries);
                    Response::Size {
                        entries: biggest.map_or(0, |s| s.entries),
                        bytes: biggest.map_or(0, |s| s.bytes),
                    }
                }
                Err(e) => error_response(e),
            },
            Command::Stats => unreachable!("the router answers Stats itself"),
        };
        outcome.error = matches!(response, Response::Error(_));
        (response, outcome)
    }

    /// The read path for every key: the local tiers in order, promoting fresh hits into the
    /// tiers above; then, for what is still missing, the origin. An expired copy of an
    /// upstream value is answered at once while one background refresh runs
    /// (stale-while-revalidate), or, with that off, only if the origin fails (stale-if-error).
    /// An expired plain entry is a miss: it has nothing to be refreshed from.
    async fn read(&self, keys: Vec<Key>, skip: usize, outcome: &mut Outcome) -> Vec<Answer> {
        let now = unix_ms();
        let mut answers: Vec<Answer> = (0..keys.len()).map(|_| Answer::Miss).collect();
        let mut stale: Vec<Option<(TierName, Entry)>> = vec![None; keys.len()];
        let mut missing: Vec<usize> = (0..keys.len()).collect();
        let mut last_error = None;
        // Tiers skipped were asked already, and answered (a miss).
        let mut any_tier_answered = skip > 0;
        // The origin's live state is asked of it directly, every time.
        if let Some(origin) = &self.tiers.origin {
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
        let mut fetch: Vec<(usize, oneshot::Receiver<Lookup>)> = Vec::new();
        let mut waiting: Vec<Want> = Vec::new();
        for i in missing {
            let key = &keys[i];
            if !self.policy.fetches(&self.tiers, key) {
                match stale[i].take() {
                    Some((tier, entry)) if crate::github::serves(key) => {
                        answers[i] = stale_answer(tier, entry, StaleReason::NoUpstream, outcome);
                    }
                    _ => outcome.misses += 1,
                }
                continue;
            }
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
                    fetch.push((i, rx));
                }
            }
        }
        if !waiting.is_empty() {
            // Whether the origin will be asked shows in each want's own answer.
            drop(self.fetch(waiting, Urgency::Waiting));
        }
        if !refresh.is_empty() {
            let reason = match self.fetch(refresh, Urgency::Background).await {
                Ok(()) => StaleReason::Revalidating,
                Err(e) => stale_reason(&e),
            };
            for i in refreshed {
                let (tier, entry) = stale[i].take().expect("refreshed keys have a copy");
                answers[i] = stale_answer(tier, entry, reason, outcome);
            }
        }
        for (i, answer) in fetch {
            let lookup = answer.await.unwrap_or_else(|_| {
                Lookup::Failed(TierError::Unavailable {
                    tier: "router",
                    reason: "restarted while the fetch was in flight".into(),
                })
            });
            answers[i] = from_origin(TierName::Github, lookup, stale[i].take(), now, outcome);
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
        urgency: Urgency,
    ) -> impl Future<Output = Result<(), TierError>> + use<> {
        let (tx, rx) = oneshot::channel();
        let sent = self.router.send_message(ToRouter::Fetch {
            wanted,
            urgency,
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

    /// Writes by strategy: L1 always; L2 before the acknowledgement (`Stored`), or the
    /// write-behind queue for write-behind kinds (`Queued`). `Memory` when only L1 took it;
    /// an error only if no tier took it.
    async fn put(&self, entries: Vec<(Key, Bytes, Option<u64>)>, now: u64) -> Response {
        let entries: Vec<(Key, Entry, Strategy)> = entries
            .into_iter()
            .map(|(key, value, expires)| {
                let strategy = self.policy.strategy(&key);
                (key, Entry::new(value, now, expires), strategy)
            })
            .collect();
        let (ack, error) = store(&self.tiers.local, &entries).await;
        match (ack, error) {
            (Some(ack), _) => Response::Stored(ack),
            (None, Some(e)) => error_response(e),
            (None, None) => Response::Stored(Ack::Memory),
        }
    }
}

/// Which local tier a write of this strategy goes to.
pub fn takes(tier: TierName, strategy: Strategy) -> bool {
    match tier {
        TierName::Memory => true,
        TierName::Queue => strategy == Strategy::WriteBehind,
        TierName::Database => strategy != Strategy::WriteBehind,
        TierName::Github => false,
    }
}

/// Stores entries in the local tiers their strategies name, in read order. Returns the
/// weakest acknowledgement any entry got (`None` if one got none) and the first refusal.
pub async fn store(
    local: &[Arc<dyn Tier>],
    entries: &[(Key, Entry, Strategy)],
) -> (Option<Ack>, Option<TierError>) {
    let mut best: Vec<Option<Ack>> = vec![None; entries.len()];
    let mut first_error = None;
    for tier in local {
        let name = tier.name();
        let chosen: Vec<usize> = (0..entries.len())
            .filter(|&i| takes(name, entries[i].2))
            .collect();
        if chosen.is_empty() {
            continue;
        }
        let batch = chosen
            .iter()
            .map(|&i| (entries[i].0.clone(), entries[i].1.clone()))
            .collect();
        match tier.put_many(batch).await {
            Ok(()) => {
                let ack = match name {
                    TierName::Database if tier.persistent() => Ack::Stored,
                    TierName::Queue => Ack::Queued,
                    _ => Ack::Memory,
                };
                for i in chosen {
                    best[i] = Some(best[i].map_or(ack, |b| strongest(b, ack)));
                }
            }
            Err(e) => {
                tracing::warn!(tier = name.label(), error = %e, "tier refused a write");
                first_error.get_or_insert(e);
            }
        }
    }
    let weakest = best
        .into_iter()
        .try_fold(None, |acc: Option<Ack>, ack| {
            ack.map(|ack| Some(acc.map_or(ack, |a| weakest(a, ack))))
        })
        .flatten();
    (weakest, first_error)
}

fn rank(ack: Ack) -> u8 {
    match ack {
        Ack::Memory => 0,
        Ack::Queued => 1,
        Ack::Stored => 2,
    }
}

fn strongest(a: Ack, b: Ack) -> Ack {
    if rank(a) >= rank(b) { a } else { b }
}

fn weakest(a: Ack, b: Ack) -> Ack {
    if rank(a) <= rank(b) { a } else { b }
}

/// One key's answer to a read.
#[derive(Debug)]
enum Answer {
    Found(Found),
    Miss,
    /// The source of truth says it does not exist, and why.
    Absent(String),
    /// No copy, and the origin could not be asked.
    Failed(TierError),
}

impl Answer {
    fn found(self) -> Option<Found> {
        match self {
            Answer::Found(found) => Some(found),
            _ => None,
        }
    }

    fn error(&self) -> Option<&TierError> {
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

/// The first tier that has the key, stale copies included (they can still be served).
async fn first_meta(
    tiers: &[Arc<dyn Tier>],
    key: &Key,
) -> Result<Option<(TierName, EntryMeta)>, TierError> {
    let mut last_error = None;
    for tier in tiers {
        match tier.peek(key.clone()).await {
            Ok(Some(meta)) => return Ok(Some((tier.name(), meta))),
            Ok(None) => {}
            Err(e) => last_error = Some(e),
        }
    }
    match last_error {
        Some(e) if tiers.len() == 1 => Err(e),
        _ => Ok(None),
    }
}

/// Runs one read-only operation on every tier that answers; fails only if none did.
async fn each_available<T>(
    tiers: &[Arc<dyn Tier>],
    op: impl Fn(&dyn Tier) -> crate::tier::TierFuture<T>,
) -> Result<Vec<T>, TierError> {
    let mut results = Vec::with_capacity(tiers.len());
    let mut last_error = None;
    for tier in tiers {
        match op(tier.as_ref()).await {
            Ok(result) => results.push(result),
            Err(e) => last_error = Some(e),
        }
    }
    match (results.is_empty(), last_error) {
        (true, Some(e)) => Err(e),
        _ => Ok(results),
    }
}

/// Runs one operation on every tier, in order; the first failure is the answer.
async fn each<T>(
    tiers: &[Arc<dyn Tier>],
    op: impl Fn(&dyn Tier) -> crate::tier::TierFuture<T>,
) -> Result<Vec<T>, TierError> {
    let mut results = Vec::with_capacity(tiers.len());
    for tier in tiers {
        results.push(op(tier.as_ref()).await?);
    }
    Ok(results)
}

pub fn error_response(e: TierError) -> Response {
    let code = match &e {
        TierError::Unavailable { .. } | TierError::BreakerOpen { .. } => ErrorCode::Unavailable,
        TierError::BadUpstream(_) => ErrorCode::BadUpstream,
        TierError::Timeout { .. } => ErrorCode::Timeout,
        TierError::TooLarge(_) => ErrorCode::ValueTooLarge,
        TierError::RateLimited { .. } => ErrorCode::RateLimited,
        TierError::QueueFull(_) => ErrorCode::Busy,
    };
    Response::Error(WireError::new(code, e.to_string()))
}
