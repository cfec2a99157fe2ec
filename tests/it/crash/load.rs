//! The load the crash loop cuts: what each client does until the daemon dies, and the model
//! of what each write-through key must read as afterwards.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use shadcache::client::Client;
use shadcache::protocol::{Ack, Request, Response, SetEntry};

use super::Rng;

/// Keys written with a TTL of 500 ms, for maintenance to delete.
pub(super) const SHORT_LIVED: &str = "short:";

/// What a write-through key must read as after a restart.
#[derive(Debug, Clone)]
pub(super) enum Expect {
    Value(Bytes),
    Absent,
    /// An operation on it was cut by the kill (or refused): any of these.
    OneOf(Vec<Option<Bytes>>),
}

#[derive(Default)]
pub(super) struct Model {
    pub(super) order: Vec<String>,
    pub(super) expect: HashMap<String, Expect>,
}

impl Model {
    fn put(&mut self, key: &str, expect: Expect) {
        if self.expect.insert(key.to_owned(), expect).is_none() {
            self.order.push(key.to_owned());
        }
    }

    fn current(&self, key: &str) -> Option<Bytes> {
        match self.expect.get(key) {
            Some(Expect::Value(v)) => Some(v.clone()),
            _ => None,
        }
    }

    /// A random key whose expectation satisfies `want`, if one turns up in a few draws.
    fn pick(&self, rng: &mut Rng, want: impl Fn(&Expect) -> bool) -> Option<String> {
        (0..8).find_map(|_| {
            let key = self
                .order
                .get(rng.below(self.order.len().max(1) as u64) as usize)?;
            want(&self.expect[key]).then(|| key.clone())
        })
    }
}

#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Counts {
    pub(super) stored: u64,
    pub(super) msets: u64,
    pub(super) overwrites: u64,
    pub(super) deleted: u64,
    pub(super) queued: u64,
    /// Write-through writes answered `Memory` or an error: not durable, not checked.
    pub(super) refused: u64,
    pub(super) reads_checked: u64,
    pub(super) other_requests: u64,
}

impl Counts {
    pub(super) fn add(&mut self, o: &Counts) {
        self.stored += o.stored;
        self.msets += o.msets;
        self.overwrites += o.overwrites;
        self.deleted += o.deleted;
        self.queued += o.queued;
        self.refused += o.refused;
        self.reads_checked += o.reads_checked;
        self.other_requests += o.other_requests;
    }
}

/// A set of `key` to a fresh value, and what the model expects once it is acknowledged.
fn write_through(key: String, rng: &mut Rng) -> (Request, Vec<(String, Option<Bytes>)>) {
    let v = value(&key, rng);
    let set = Request::Set {
        key: key.clone(),
        value: v.clone(),
        ttl: None,
    };
    (set, vec![(key, Some(v))])
}

fn value(key: &str, rng: &mut Rng) -> Bytes {
    let mut v = format!("{key}@{}|", rng.next()).into_bytes();
    let len = 16 + rng.below(2000) as usize;
    v.extend(rng.bytes(len));
    Bytes::from(v)
}

async fn connect(socket: &Path) -> Option<Client> {
    Client::connect(socket, Duration::from_secs(10)).await.ok()
}

/// Write-through writes, overwrites, deletes and reads of its own keys, one at a time, until
/// the daemon dies. The model is exact while it runs: only this task touches these keys.
pub(super) async fn durable_writer(
    socket: PathBuf,
    round: usize,
    mut rng: Rng,
    mut model: Model,
) -> (Model, Counts) {
    let mut counts = Counts::default();
    let Some(mut client) = connect(&socket).await else {
        return (model, counts);
    };
    for i in 0.. {
        let dice = rng.below(100);
        let (request, written): (Request, Vec<(String, Option<Bytes>)>) = match dice {
            0..10 => {
                let entries: Vec<SetEntry> = (0..2 + rng.below(7))
                    .map(|j| {
                        let key = format!("crash:r{round}:m{i}-{j}");
                        SetEntry {
                            value: value(&key, &mut rng),
                            key,
                            ttl: None,
                        }
                    })
                    .collect();
                let written = entries
                    .iter()
                    .map(|e| (e.key.clone(), Some(e.value.clone())))
                    .collect();
                (Request::MSet { entries }, written)
            }
            10..30 => {
                let Some(key) = model.pick(&mut rng, |e| matches!(e, Expect::Value(_))) else {
                    continue;
                };
                if dice < 20 {
                    write_through(key, &mut rng)
                } else {
                    (Request::Delete { key: key.clone() }, vec![(key, None)])
                }
            }
            30..45 => {
                let Some(key) = model.pick(&mut rng, |e| !matches!(e, Expect::OneOf(_))) else {
                    continue;
                };
                match client.request(&Request::Get { key: key.clone() }).await {
                    Ok(Response::Value(found)) => {
                        let want = model.current(&key);
                        assert_eq!(found.map(|f| f.value), want, "round {round}: read {key}");
                        counts.reads_checked += 1;
                        continue;
                    }
                    Ok(other) => panic!("round {round}: get {key}: {other:?}"),
                    Err(_) => break,
                }
            }
            _ => write_through(format!("crash:r{round}:k{i}"), &mut rng),
        };
        // Until the answer comes, the old and the new state are both possible.
        for (key, new) in &written {
            let old = model.current(key);
            model.put(key, Expect::OneOf(vec![old, new.clone()]));
        }
        let response = match client.request(&request).await {
            Ok(response) => response,
            Err(_) => break,
        };
        match (&request, response) {
            (Request::Delete { key }, Response::Deleted(true)) => {
                model.put(key, Expect::Absent);
                counts.deleted += 1;
            }
            (Request::Delete { key }, Response::Deleted(false)) => {
                panic!("round {round}: {key}, acknowledged Stored, was not there to delete")
            }
            (_, Response::Stored(Ack::Stored)) => {
                for (key, new) in written {
                    model.put(&key, Expect::Value(new.expect("a write")));
                }
                counts.stored += 1;
                counts.msets += u64::from(matches!(request, Request::MSet { .. }));
                counts.overwrites += u64::from((10..20).contains(&dice));
            }
            (_, Response::Stored(Ack::Memory) | Response::Error(_)) => counts.refused += 1,
            (_, other) => panic!("round {round}: {request:?} answered {other:?}"),
        }
    }
    (model, counts)
}

/// Write-behind sets of new keys, one at a time; returns each key answered `Queued`, its
/// value and when the answer came.
pub(super) async fn queued_writer(
    socket: PathBuf,
    round: usize,
    mut rng: Rng,
) -> (Vec<(String, Bytes, Instant)>, Counts) {
    let mut counts = Counts::default();
    let mut queued = Vec::new();
    let Some(mut client) = connect(&socket).await else {
        return (queued, counts);
    };
    for i in 0.. {
        let key = format!("metadata:q{round}-{i}");
        let v = value(&key, &mut rng);
        let set = Request::Set {
            key: key.clone(),
            value: v.clone(),
            ttl: None,
        };
        match client.request(&set).await {
            Ok(Response::Stored(Ack::Queued)) => {
                queued.push((key, v, Instant::now()));
                counts.queued += 1;
            }
            Ok(Response::Stored(Ack::Memory) | Response::Error(_)) => counts.refused += 1,
            Ok(other) => panic!("round {round}: write-behind set {key}: {other:?}"),
            Err(_) => break,
        }
    }
    (queued, counts)
}

/// Everything else a daemon is asked meanwhile: misses, listings, stats, maintenance, and
/// short-lived keys for maintenance to delete. Answers are only required to come.
pub(super) async fn bystander(socket: PathBuf, round: usize, mut rng: Rng) -> Counts {
    let mut counts = Counts::default();
    let Some(mut client) = connect(&socket).await else {
        return counts;
    };
    for i in 0.. {
        let request = match rng.below(20) {
            0..7 => Request::Get {
                key: format!("crash:r{round}:k{}", rng.below(1000)),
            },
            7..9 => Request::MGet {
                keys: (0..8)
                    .map(|_| format!("crash:r{}:k{}", rng.below(round as u64 + 1), rng.below(500)))
                    .collect(),
            },
            9..15 => Request::Set {
                key: format!("{SHORT_LIVED}r{round}-{i}"),
                value: Bytes::from(rng.bytes(200)),
                ttl: Some(Duration::from_millis(500)),
            },
            15..17 => Request::Keys {
                pattern: Some(format!("crash:r{round}:*")),
            },
            17 => Request::Metadata {
                key: format!("crash:r{round}:k{}", rng.below(1000)),
            },
            // Both scan the whole table.
            18 => Request::Maintenance,
            _ => Request::Stats,
        };
        if client.request(&request).await.is_err() {
            break;
        }
        counts.other_requests += 1;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    counts
}
