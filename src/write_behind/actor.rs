//! The WriteBehind actor: owns the queue; flushes run in tasks it spawns, one at a time, and
//! report back. Its handlers never await L2.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::queue::Queue;
use crate::backoff::Backoff;
use crate::config::WriteBehindConfig;
use crate::glob::Glob;
use crate::key::Key;
use crate::latency::Latency;
use crate::protocol::WriteBehindStats;
use crate::tier::{Entry, EntryMeta, Reply, Tier, TierError, unix_ms};

pub enum ToWriteBehind {
    /// Answered once the writes are queued (at once, or when room was made).
    Enqueue(Vec<(Key, Entry)>, Reply<()>),
    Get(Vec<Key>, Reply<Vec<Option<Entry>>>),
    Peek(Key, Reply<Option<EntryMeta>>),
    Touch(Key, Option<u64>, Reply<bool>),
    /// Drops queued writes (a delete happened), so they never land after it.
    Forget(Vec<Key>, Reply<u64>),
    Keys(Glob, Reply<Vec<Key>>),
    Clear(Reply<u64>),
    Stats(Reply<WriteBehindStats>),
    /// Flushes everything now; answered when the queue is empty.
    Drain(Reply<()>),
    Tick,
    /// From the flush task.
    Flushed {
        batch: Vec<(Key, Entry, u64)>,
        result: Result<(), TierError>,
        took: Duration,
    },
    Reconfigure(WriteBehindConfig),
}

pub struct WriteBehind;

pub struct WriteBehindArgs {
    pub config: WriteBehindConfig,
    /// L2: where batches go.
    pub durable: Arc<dyn Tier>,
}

struct Waiting {
    entries: Vec<(Key, Entry)>,
    reply: Reply<()>,
    deadline_ms: u64,
}

pub struct WriteBehindState {
    config: WriteBehindConfig,
    durable: Arc<dyn Tier>,
    queue: Queue,
    waiting: VecDeque<Waiting>,
    flushing: bool,
    /// The keys of the batch being flushed.
    in_flight: Vec<Key>,
    /// Keys of that batch deleted (or all of it cleared) while it was in flight: a failed
    /// flush does not put them back.
    forgotten: Vec<Key>,
    cleared: bool,
    /// Deletes and clears that touched the batch in flight, answered once it has landed, so
    /// that the caller's delete in L2 comes after the flush's write, not before it.
    after_flush: Vec<(u64, Reply<u64>)>,
    /// After a failed flush, none before this (Unix ms).
    retry_at_ms: u64,
    /// How long after a failed flush: 100 ms doubling to 5 s.
    retry: Backoff,
    drains: Vec<Reply<()>>,
    stats: WriteBehindStats,
    flush_latency: Latency,
}

impl Actor for WriteBehind {
    type Msg = ToWriteBehind;
    type State = WriteBehindState;
    type Arguments = WriteBehindArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<ToWriteBehind>,
        args: WriteBehindArgs,
    ) -> Result<WriteBehindState, ActorProcessingErr> {
        let tick = (args.config.max_age / 2).max(Duration::from_millis(5));
        myself.send_interval(tick, || ToWriteBehind::Tick);
        Ok(WriteBehindState {
            queue: Queue::new(args.config.capacity as usize),
            config: args.config,
            durable: args.durable,
            waiting: VecDeque::new(),
            flushing: false,
            in_flight: Vec::new(),
            forgotten: Vec::new(),
            cleared: false,
            after_flush: Vec::new(),
            retry_at_ms: 0,
            retry: Backoff::new(Duration::from_millis(100), Duration::from_secs(5)),
            drains: Vec::new(),
            stats: WriteBehindStats::default(),
            flush_latency: Latency::default(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<ToWriteBehind>,
        message: ToWriteBehind,
        state: &mut WriteBehindState,
    ) -> Result<(), ActorProcessingErr> {
        let now = unix_ms();
        match message {
            ToWriteBehind::Enqueue(entries, reply) => {
                if state.queue.room_needed(&entries) > state.queue.capacity() {
                    state.stats.refused += 1;
                    let _ = reply.send(Err(TierError::QueueFull(state.queue.capacity() as u64)));
                } else if state.waiting.is_empty() && state.queue.fits(&entries) {
                    state.enqueue(entries, now);
                    let _ = reply.send(Ok(()));
                } else {
                    // Backpressure: the writer waits, in order, until flushes make room.
                    state.stats.waited += 1;
                    state.waiting.push_back(Waiting {
                        entries,
                        reply,
                        deadline_ms: now + state.config.full_wait.as_millis() as u64,
                    });
                }
            }
            ToWriteBehind::Get(keys, reply) => {
                let found = keys.iter().map(|k| state.queue.get(k).cloned()).collect();
                let _ = reply.send(Ok(found));
            }
            ToWriteBehind::Peek(key, reply) => {
                let _ = reply.send(Ok(state.queue.get(&key).map(|e| e.meta)));
            }
            ToWriteBehind::Touch(key, expires_ms, reply) => {
                let touched = state
                    .queue
                    .get_mut(&key)
                    .map(|e| e.meta.expires_ms = expires_ms);
                let _ = reply.send(Ok(touched.is_some()));
            }
            ToWriteBehind::Forget(keys, reply) => {
                let n = keys.iter().filter(|k| state.queue.remove(k)).count() as u64;
                let in_flight: Vec<Key> = keys
                    .into_iter()
                    .filter(|k| state.in_flight.contains(k))
                    .collect();
                if in_flight.is_empty() {
                    let _ = reply.send(Ok(n));
                } else {
                    state.forgotten.extend(in_flight);
                    state.after_flush.push((n, reply));
                }
            }
            ToWriteBehind::Keys(glob, reply) => {
                let keys = state
                    .queue
                    .keys()
                    .filter(|k| glob.matches(k.as_str()))
                    .cloned()
                    .collect();
                let _ = reply.send(Ok(keys));
            }
            ToWriteBehind::Clear(reply) => {
                let n = state.queue.clear();
                if state.flushing {
                    state.cleared = true;
                    state.after_flush.push((n, reply));
                } else {
                    let _ = reply.send(Ok(n));
                }
            }
            ToWriteBehind::Stats(reply) => {
                let mut stats = state.stats.clone();
                stats.depth = state.queue.len() as u64;
                stats.capacity = state.queue.capacity() as u64;
                stats.flush_latency = state.flush_latency.summary();
                let _ = reply.send(Ok(stats));
            }
            ToWriteBehind::Drain(reply) => {
                state.drains.push(reply);
                // A drain does not wait out the back-off of an earlier failure.
                state.retry_at_ms = 0;
            }
            ToWriteBehind::Tick => state.refuse_overdue(now),
            ToWriteBehind::Flushed {
                batch,
                result,
                took,
            } => {
                state.flushing = false;
                state.in_flight.clear();
                state.flush_latency.record(took);
                match result {
                    Ok(()) => {
                        state.stats.flushes += 1;
                        state.stats.flushed += batch.len() as u64;
                        state.retry.reset();
                    }
                    Err(e) => {
                        state.stats.failed_flushes += 1;
                        let retry_in = state.retry.fail();
                        tracing::warn!(error = %e, writes = batch.len(), ?retry_in,
                            "write-behind flush failed; the writes stay queued");
                        let forgotten = std::mem::take(&mut state.forgotten);
                        let cleared = state.cleared;
                        state.queue.put_back(
                            batch
                                .into_iter()
                                .filter(|(k, _, _)| !cleared && !forgotten.contains(k))
                                .collect(),
                        );
                        state.retry_at_ms = now + retry_in.as_millis() as u64;
                    }
                }
                state.forgotten.clear();
                state.cleared = false;
                for (n, reply) in state.after_flush.drain(..) {
                    let _ = reply.send(Ok(n));
                }
                state.admit_waiting(now);
            }
            ToWriteBehind::Reconfigure(config) => {
                state.queue.set_capacity(config.capacity as usize);
                state.config = config;
                state.admit_waiting(now);
            }
        }
        state.flush_if_due(&myself, now);
        if !state.flushing && state.queue.is_empty() {
            for drain in state.drains.drain(..) {
                let _ = drain.send(Ok(()));
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<ToWriteBehind>,
        state: &mut WriteBehindState,
    ) -> Result<(), ActorProcessingErr> {
        if !state.queue.is_empty() {
            tracing::error!(
                writes = state.queue.len(),
                "write-behind queue stopped before it was flushed: these writes are lost"
            );
        }
        Ok(())
    }
}

impl WriteBehindState {
    fn enqueue(&mut self, entries: Vec<(Key, Entry)>, now: u64) {
        self.stats.enqueued += entries.len() as u64;
        self.stats.coalesced += self.queue.push(entries, now);
    }

    /// Writers waiting for room, in order, as far as room allows.
    fn admit_waiting(&mut self, now: u64) {
        while let Some(next) = self.waiting.front() {
            if !self.queue.fits(&next.entries) {
                break;
            }
            let next = self.waiting.pop_front().expect("front exists");
            self.enqueue(next.entries, now);
            let _ = next.reply.send(Ok(()));
        }
    }

    fn refuse_overdue(&mut self, now: u64) {
        let capacity = self.queue.capacity() as u64;
        while self.waiting.front().is_some_and(|w| w.deadline_ms <= now) {
            let overdue = self.waiting.pop_front().expect("front exists");
            self.stats.refused += 1;
            let _ = overdue.reply.send(Err(TierError::QueueFull(capacity)));
        }
    }

    /// One flush at a time: when a batch is full, the oldest write is due, writers wait for
    /// room, or a drain was asked for, and no failure is being backed off from.
    fn flush_if_due(&mut self, myself: &ActorRef<ToWriteBehind>, now: u64) {
        if self.flushing || self.queue.is_empty() || now < self.retry_at_ms {
            return;
        }
        let max_age = self.config.max_age.as_millis() as u64;
        let due = self.queue.len() >= self.config.batch as usize
            || self.queue.oldest_ms().is_some_and(|at| at + max_age <= now)
            || !self.waiting.is_empty()
            || !self.drains.is_empty();
        if !due {
            return;
        }
        let batch = self.queue.take(self.config.batch as usize);
        self.flushing = true;
        self.in_flight = batch.iter().map(|(k, _, _)| k.clone()).collect();
        let durable = self.durable.clone();
        let myself = myself.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let writes = batch
                .iter()
                .map(|(k, e, _)| (k.clone(), e.clone()))
                .collect();
            let result = durable.put_many(writes).await;
            let _ = myself.send_message(ToWriteBehind::Flushed {
                batch,
                result,
                took: started.elapsed(),
            });
        });
    }
}
