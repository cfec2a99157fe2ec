//! What every mode of the load generator shares: the shape of the load (clients, requests,
//! keys, value size, key popularity), the key draws, filling the key set, waiting for the
//! clients, and the errors that end a run.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinHandle;

use crate::client::{Client, ClientError};
use crate::protocol::{Request, Response, SetEntry};

/// How long any one request or connection may take before the run fails.
pub(super) const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, clap::Args)]
pub struct Workload {
    /// Concurrent clients, each on its own connection
    #[arg(long, default_value_t = 1)]
    pub clients: usize,
    /// Requests per client
    #[arg(long, default_value_t = 10_000)]
    pub requests: usize,
    /// Distinct keys
    #[arg(long, default_value_t = 1_000)]
    pub keys: usize,
    /// Bytes per value
    #[arg(long, default_value_t = 2_300)]
    pub value_size: usize,
    /// Key popularity: 0 is uniform; 0.8-1.2 is a realistic Zipf skew
    #[arg(long, default_value_t = 0.0)]
    pub zipf: f64,
    /// Keep the key set from an earlier run (do not fill it again)
    #[arg(long)]
    pub no_fill: bool,
}

/// What each request of a latency run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Op {
    /// Read a key of the set (filled first)
    Get,
    /// Overwrite a key of the set
    Set,
}

impl Default for Workload {
    fn default() -> Workload {
        defaults()
    }
}

/// A mode's options as its command line has them with no flag given, so each default is
/// written once, in its `#[arg]`.
pub(super) fn defaults<A: clap::Args + clap::FromArgMatches>() -> A {
    let command = A::augment_args(clap::Command::new("defaults"));
    A::from_arg_matches(&command.get_matches_from(["defaults"]))
        .expect("every option has a default")
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error("the daemon answered {0}")]
    Answer(String),
    #[error("the echo server: {0}")]
    Echo(#[from] std::io::Error),
    #[error("the daemon (pid {0}) is gone")]
    DaemonGone(u32),
    #[error("{0} panicked")]
    Panicked(String),
    #[error("{who} failed: {source}")]
    In {
        who: &'static str,
        source: Box<LoadError>,
    },
}

impl LoadError {
    pub(super) fn answer(response: &Response) -> LoadError {
        LoadError::Answer(format!("{response:?}"))
    }

    /// This error, as what `who` met.
    pub(super) fn of(self, who: &'static str) -> LoadError {
        LoadError::In {
            who,
            source: Box::new(self),
        }
    }
}

/// The name of the key set's `index`th key.
pub(super) fn key(index: usize) -> String {
    format!("bench:key-{index}")
}

/// Keys drawn by popularity: rank r is drawn with a weight of 1 / r^zipf, so uniform at 0.
pub(super) struct Keys {
    rng: SmallRng,
    popularity: WeightedIndex<f64>,
}

impl Keys {
    /// Every client gets its own seed, so their draws differ but each run repeats.
    pub(super) fn new(workload: &Workload, seed: u64) -> Result<Keys, LoadError> {
        let weights = (1..=workload.keys).map(|rank| (rank as f64).powf(-workload.zipf));
        let popularity = WeightedIndex::new(weights).map_err(|e| {
            LoadError::Setup(format!(
                "{} keys at zipf {}: {e}",
                workload.keys, workload.zipf
            ))
        })?;
        Ok(Keys {
            rng: SmallRng::seed_from_u64(seed),
            popularity,
        })
    }

    pub(super) fn next(&mut self) -> usize {
        self.popularity.sample(&mut self.rng)
    }

    pub(super) fn next_key(&mut self) -> String {
        key(self.next())
    }

    /// The same generator, for a draw that is not a key.
    pub(super) fn rng(&mut self) -> &mut impl Rng {
        &mut self.rng
    }
}

/// Stores the key set (unless `no_fill`); returns the daemon's pid and the value every key
/// holds.
pub(super) async fn fill(socket: &Path, workload: &Workload) -> Result<(u32, Bytes), LoadError> {
    // An impossible workload fails here, before any client starts.
    Keys::new(workload, 0)?;
    let mut setup = Client::connect(socket, TIMEOUT).await?;
    let value = Bytes::from(vec![b'x'; workload.value_size]);
    if !workload.no_fill {
        let indices: Vec<usize> = (0..workload.keys).collect();
        for chunk in indices.chunks(500) {
            let entries = chunk
                .iter()
                .map(|&i| SetEntry {
                    key: key(i),
                    value: value.clone(),
                    ttl: None,
                })
                .collect();
            match setup.request(&Request::MSet { entries }).await? {
                Response::Stored(_) => {}
                other => return Err(LoadError::answer(&other).of("setting up the key set")),
            }
        }
    }
    Ok((setup.daemon.pid, value))
}

/// Waits for every task; the first that failed (or panicked) fails the run, named `who`.
pub(super) async fn join_all<T>(
    who: &'static str,
    tasks: Vec<JoinHandle<Result<T, LoadError>>>,
) -> Result<Vec<T>, LoadError> {
    let mut done = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task.await {
            Ok(Ok(value)) => done.push(value),
            Ok(Err(e)) => return Err(e.of(who)),
            Err(e) => return Err(LoadError::Panicked(format!("{who} ({e})"))),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_command_lines() {
        let workload = Workload::default();
        assert_eq!(
            (workload.clients, workload.requests, workload.keys),
            (1, 10_000, 1_000)
        );
        assert_eq!((workload.value_size, workload.zipf), (2_300, 0.0));
    }

    #[test]
    fn zipf_draws_the_first_ranks_most_and_uniform_draws_evenly() {
        let draws = |zipf: f64| {
            let workload = Workload {
                keys: 100,
                zipf,
                ..Workload::default()
            };
            let mut keys = Keys::new(&workload, 7).unwrap();
            let mut counts = vec![0u32; 100];
            for _ in 0..100_000 {
                counts[keys.next()] += 1;
            }
            counts
        };
        let skewed = draws(1.0);
        // Rank 1's share at s = 1 over 100 keys is 1 / H(100), about 19 %.
        assert!((17_000..21_000).contains(&skewed[0]), "{}", skewed[0]);
        assert!(skewed[0] > 10 * skewed[99]);
        let even = draws(0.0);
        assert!(even.iter().all(|n| (800..1_200).contains(n)), "{even:?}");
    }

    #[test]
    fn no_keys_is_a_setup_error() {
        let workload = Workload {
            keys: 0,
            ..Workload::default()
        };
        assert!(matches!(Keys::new(&workload, 0), Err(LoadError::Setup(_))));
    }
}
