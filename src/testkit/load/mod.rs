//! The load generator: a client of a running daemon (or of a bare echo server) that measures
//! latency and throughput (or Redis's, with the same clients), soaks the daemon in mixed load, or sets hostile clients on it.
//! `shadcache-load` (bench/load/main.rs) is its command line; bench/run.sh and bench/stress.sh
//! run it, and the test suite calls it directly and asserts on the reports.

mod attackers;
mod bench;
mod echo;
mod hostile;
mod http;
mod redis;
mod replay;
mod report;
mod soak;
mod workload;

pub use crate::procfs::Usage;
pub use bench::{Bench, bench};
pub use echo::{Echo, echo};
pub use hostile::{Hostile, HostileReport, hostile};
pub use http::{Http, HttpReport, http};
pub use redis::{Redis, redis};
pub use replay::{Replay, ReplayReport, replay};
pub use report::{BenchReport, DaemonCost, Latencies};
pub use soak::{Soak, SoakReport, SoakSample, soak};
pub use workload::{LoadError, Op, Workload};
