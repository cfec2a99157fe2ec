//! What goes wrong in L2, as one type: the actor decides on its variants (a locked data dir
//! after a failed open is not news, a busy pool is a timeout), and the server gives the
//! operator commands' failures their own error codes. Each message says what happened in the
//! user's terms; the free-space and TLS explanations are added where the error is made.

use std::fmt;
use std::time::Duration;

use crate::data_dir::LockError;
use crate::tier::TierError;

/// How the tier names itself in answers.
pub(super) const LABEL: &str = "L2 database";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum L2Error {
    /// Another process holds the data dir: another daemon, or the database this one failed to
    /// stop after a crash.
    #[error("{0}")]
    Locked(String),
    /// The database could not be started or reached (the embedded server, a PostgreSQL
    /// server's URL, TLS or connection).
    #[error("{0}")]
    Open(String),
    /// A migration failed and was rolled back.
    #[error("migration {version} ({name}) {direction} failed: {reason}")]
    Migration {
        version: i64,
        name: &'static str,
        direction: Direction,
        reason: String,
    },
    /// The data dir's filesystem is below what L2 needs (see `space`); `during` is what
    /// failed for it, when something did.
    #[error("{}", no_space(.space, .during.as_deref()))]
    NoSpace {
        space: String,
        during: Option<String>,
    },
    /// Syncing the data dir to disk (`l2.sync`) failed.
    #[error("the data dir could not be synced to disk: {0}")]
    Sync(String),
    /// A query failed: the server's own message.
    #[error("{0}")]
    Query(String),
    #[error("connection lost: {0}")]
    ConnectionLost(String),
    /// Still starting: a read is answered at once, a write waited `l2.open_wait` in vain.
    #[error("opening")]
    Opening,
    /// Every connection stayed busy for `l2.acquire_timeout`.
    #[error("its connections are all busy")]
    Busy(Duration),
    /// Opening keeps failing after `0`, and this process's own failed database now holds
    /// the data dir: only a restart clears it.
    #[error("{0} (still failing; fix the data dir and restart the daemon)")]
    StillFailing(Box<L2Error>),
    /// The tier stopped before it answered.
    #[error("stopped")]
    Stopped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Up => "up",
            Direction::Down => "down",
        })
    }
}

fn no_space(space: &str, during: Option<&str>) -> String {
    match during {
        Some(during) => format!("{during} ({space})"),
        None => space.to_owned(),
    }
}

impl L2Error {
    /// The server's own message when there is one (tokio-postgres' Display hides it).
    pub fn query(e: &tokio_postgres::Error) -> L2Error {
        L2Error::Query(server_message(e))
    }
}

/// The server's own message when there is one, else the client's.
pub(super) fn server_message(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.severity(), db.message()),
        None => e.to_string(),
    }
}

impl From<LockError> for L2Error {
    fn from(e: LockError) -> L2Error {
        match e {
            LockError::Held { .. } => L2Error::Locked(e.to_string()),
            LockError::Io { .. } => L2Error::Open(e.to_string()),
        }
    }
}

impl From<L2Error> for TierError {
    fn from(e: L2Error) -> TierError {
        match e {
            L2Error::Busy(after) => TierError::Timeout {
                tier: "L2 database (its connections are all busy)",
                after,
            },
            other => TierError::Unavailable {
                tier: LABEL,
                reason: other.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_failed_and_why() {
        let migration = L2Error::Migration {
            version: 2,
            name: "kinds",
            direction: Direction::Down,
            reason: "ERROR: syntax error".into(),
        };
        assert_eq!(
            migration.to_string(),
            "migration 2 (kinds) down failed: ERROR: syntax error"
        );
        let short = L2Error::NoSpace {
            space: "no space left on device: 1.0 MiB free".into(),
            during: Some("I/O error".into()),
        };
        assert_eq!(
            short.to_string(),
            "I/O error (no space left on device: 1.0 MiB free)"
        );
        assert_eq!(
            TierError::from(L2Error::Opening).to_string(),
            "L2 database is unavailable: opening"
        );
        let busy = TierError::from(L2Error::Busy(Duration::from_millis(5)));
        assert!(matches!(busy, TierError::Timeout { .. }), "{busy:?}");
    }
}
