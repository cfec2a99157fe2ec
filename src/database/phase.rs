//! The life of L2's database, without the database: opening, open, down and reopening with
//! back-off, the writes held while it opens, and which failure is the news. The actor feeds it
//! events and carries out what it answers; the tests drive it directly, with no Postgres.
//!
//! Generic over the database (`D`) and a held write (`W`) so that nothing here can touch them.

use std::time::Duration;

use super::error::L2Error;
use crate::backoff::Backoff;

/// Writes held while opening, at most; more are answered unavailable at once.
pub(super) const MAX_WAITING: usize = 1024;

enum Phase<D, W> {
    Opening { waiting: Vec<W> },
    Open(D),
    Down(L2Error),
}

pub(super) struct Life<D, W> {
    phase: Phase<D, W>,
    /// Which open attempt is current: answers from older ones are stale.
    generation: u64,
    reopen: Backoff,
    /// The cause of the current run of failed opens.
    first_failure: Option<L2Error>,
}

/// What an open attempt's answer leads to.
#[derive(Debug)]
pub(super) enum Opened<D, W> {
    /// The database is open: run the writes held meanwhile.
    Open { waiting: Vec<W> },
    /// The attempt failed: answer the held writes with `error`, retry after `retry_in`.
    Failed {
        waiting: Vec<W>,
        error: L2Error,
        retry_in: Duration,
    },
    /// An answer from an attempt no longer current: close what it opened, if anything.
    Stale(Option<D>),
}

impl<D: Clone, W> Life<D, W> {
    /// Opening, attempt 1 (see [`Life::start_open`]).
    pub fn new() -> Life<D, W> {
        Life {
            phase: Phase::Opening {
                waiting: Vec::new(),
            },
            generation: 0,
            reopen: Backoff::new(Duration::from_secs(1), Duration::from_secs(60)),
            first_failure: None,
        }
    }

    /// A new open attempt; its answer must carry the returned generation. Writes already
    /// held stay held.
    pub fn start_open(&mut self) -> u64 {
        self.generation += 1;
        if !self.is_opening() {
            self.phase = Phase::Opening {
                waiting: Vec::new(),
            };
        }
        self.generation
    }

    pub fn opened(&mut self, generation: u64, result: Result<D, L2Error>) -> Opened<D, W> {
        if generation != self.generation {
            return Opened::Stale(result.ok());
        }
        let waiting = match std::mem::replace(&mut self.phase, Phase::Down(L2Error::Opening)) {
            Phase::Opening { waiting } => waiting,
            _ => Vec::new(),
        };
        match result {
            Ok(db) => {
                self.reopen.reset();
                self.first_failure = None;
                self.phase = Phase::Open(db);
                Opened::Open { waiting }
            }
            Err(error) => {
                // This process holds the data-dir lock, so a locked database after a failure
                // is our own failed backend still holding it: the first cause is the news.
                let down = match (&self.first_failure, &error) {
                    (Some(first), L2Error::Locked(_)) => {
                        L2Error::StillFailing(Box::new(first.clone()))
                    }
                    _ => {
                        self.first_failure = Some(error.clone());
                        error.clone()
                    }
                };
                self.phase = Phase::Down(down);
                Opened::Failed {
                    waiting,
                    error,
                    retry_in: self.reopen.fail(),
                }
            }
        }
    }

    /// The connection of attempt `generation` ended with `error`: down, and when to retry
    /// (`None` when that attempt is no longer current).
    pub fn lost(&mut self, generation: u64, error: L2Error) -> Option<Duration> {
        if generation != self.generation {
            return None;
        }
        self.phase = Phase::Down(error);
        Some(self.reopen.fail())
    }

    /// Whether a reopen timer should start an attempt (the database is down).
    pub fn is_down(&self) -> bool {
        matches!(self.phase, Phase::Down(_))
    }

    pub fn is_opening(&self) -> bool {
        matches!(self.phase, Phase::Opening { .. })
    }

    /// Holds a write until the database opens; gives it back when it cannot be held (not
    /// opening, or [`MAX_WAITING`] already held).
    pub fn hold(&mut self, write: W) -> Result<(), W> {
        match &mut self.phase {
            Phase::Opening { waiting } if waiting.len() < MAX_WAITING => {
                waiting.push(write);
                Ok(())
            }
            _ => Err(write),
        }
    }

    /// The writes held past `l2.open_wait`: answer them unavailable.
    pub fn expire_waiting(&mut self) -> Vec<W> {
        match &mut self.phase {
            Phase::Opening { waiting } => std::mem::take(waiting),
            _ => Vec::new(),
        }
    }

    /// The open database, or why there is none.
    pub fn db(&self) -> Result<D, L2Error> {
        match &self.phase {
            Phase::Open(db) => Ok(db.clone()),
            Phase::Opening { .. } => Err(L2Error::Opening),
            Phase::Down(error) => Err(error.clone()),
        }
    }

    /// Leaves the open database to the caller to close; the tier is stopping.
    pub fn stop(&mut self) -> Option<D> {
        match std::mem::replace(&mut self.phase, Phase::Down(L2Error::Stopped)) {
            Phase::Open(db) => Some(db),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type TestLife = Life<&'static str, u32>;

    fn open_failed(reason: &str) -> Result<&'static str, L2Error> {
        Err(L2Error::Open(reason.into()))
    }

    #[test]
    fn writes_are_held_while_opening_and_handed_back_once_open() {
        let mut life = TestLife::new();
        let generation = life.start_open();
        assert_eq!(life.db(), Err(L2Error::Opening));
        assert_eq!(life.hold(1), Ok(()));
        assert_eq!(life.hold(2), Ok(()));
        let Opened::Open { waiting } = life.opened(generation, Ok("db")) else {
            panic!("not open")
        };
        assert_eq!(waiting, [1, 2]);
        assert_eq!(life.db(), Ok("db"));
        // Open: nothing is held any more.
        assert_eq!(life.hold(3), Err(3));
    }

    #[test]
    fn at_most_max_waiting_are_held_and_expiry_hands_them_back() {
        let mut life = TestLife::new();
        life.start_open();
        for n in 0..MAX_WAITING as u32 {
            assert_eq!(life.hold(n), Ok(()));
        }
        assert_eq!(life.hold(9999), Err(9999));
        assert_eq!(life.expire_waiting().len(), MAX_WAITING);
        assert_eq!(life.hold(1), Ok(()));
    }

    #[test]
    fn failed_opens_retry_with_doubling_waits_and_success_resets_them() {
        let mut life = TestLife::new();
        let mut waits = Vec::new();
        for _ in 0..8 {
            let generation = life.start_open();
            life.hold(7).unwrap();
            match life.opened(generation, open_failed("no server")) {
                Opened::Failed {
                    waiting, retry_in, ..
                } => {
                    assert_eq!(waiting, [7], "held writes are answered");
                    waits.push(retry_in.as_secs());
                }
                other => panic!("{other:?}"),
            }
            assert!(life.is_down());
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 60, 60]);
        let generation = life.start_open();
        assert!(matches!(
            life.opened(generation, Ok("db")),
            Opened::Open { .. }
        ));
        let closed = L2Error::ConnectionLost("closed".into());
        assert_eq!(life.lost(generation, closed), Some(Duration::from_secs(1)));
        assert_eq!(life.db(), Err(L2Error::ConnectionLost("closed".into())));
    }

    #[test]
    fn answers_from_an_earlier_attempt_are_stale() {
        let mut life = TestLife::new();
        let old = life.start_open();
        let current = life.start_open();
        assert!(matches!(
            life.opened(old, Ok("old")),
            Opened::Stale(Some("old"))
        ));
        assert_eq!(
            life.lost(old, L2Error::ConnectionLost("closed".into())),
            None
        );
        assert!(life.is_opening());
        assert!(matches!(
            life.opened(current, Ok("new")),
            Opened::Open { .. }
        ));
        assert_eq!(life.db(), Ok("new"));
    }

    #[test]
    fn a_locked_database_after_a_failure_reports_the_first_cause() {
        let mut life = TestLife::new();
        let generation = life.start_open();
        life.opened(generation, open_failed("I/O error"));
        let generation = life.start_open();
        let locked = Err(L2Error::Locked("PGlite root is already in use".into()));
        life.opened(generation, locked.clone());
        let down = life.db().unwrap_err().to_string();
        assert!(down.starts_with("I/O error (still failing"), "{down}");
        // A locked database as the first failure is itself the news.
        let mut life = TestLife::new();
        let generation = life.start_open();
        life.opened(generation, locked);
        assert!(
            life.db()
                .unwrap_err()
                .to_string()
                .contains("already in use")
        );
    }
}
