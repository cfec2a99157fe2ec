//! What a latency and throughput run measured (against the daemon or the bare echo floor),
//! and its text: a few lines for a person and the `| label | ... |` row that bench/run.sh
//! collects into BENCHMARKS.md's table.

use std::fmt;
use std::time::Duration;

use super::workload::{Op, Workload};
use crate::latency::Latency;
use crate::protocol::TierName;

/// Latency percentiles of a run's requests, each as the client saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Latencies {
    pub p50: Duration,
    pub p95: Duration,
    pub p99: Duration,
    pub p999: Duration,
    pub max: Duration,
}

impl From<&Latency> for Latencies {
    fn from(latency: &Latency) -> Latencies {
        let summary = latency.summary();
        Latencies {
            p50: summary.p50,
            p95: summary.p95,
            p99: summary.p99,
            p999: latency.quantile(0.999),
            max: summary.max,
        }
    }
}

/// What the daemon's process spent over a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DaemonCost {
    pub cpu: Duration,
    pub peak_rss_bytes: u64,
}

#[derive(Debug, Clone)]
pub struct BenchReport {
    /// The row's name.
    pub label: String,
    pub op: Op,
    pub workload: Workload,
    /// Requests answered, over every client.
    pub requests: u64,
    pub elapsed: Duration,
    pub latency: Latencies,
    /// How many gets each tier answered, in the order first seen.
    pub answered_by: Vec<(TierName, u64)>,
    /// `None` for the echo floor, or when /proc could not be read.
    pub daemon: Option<DaemonCost>,
}

impl BenchReport {
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The table row: label, clients, req/s, p50, p95, p99 and p99.9 in µs, the daemon's
    /// CPU seconds and peak RSS in MiB (`-` when not measured).
    pub fn row(&self) -> String {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        let (cpu, rss) = match self.daemon {
            Some(cost) => (
                format!("{:.2}", cost.cpu.as_secs_f64()),
                format!("{:.1}", mib(cost.peak_rss_bytes)),
            ),
            None => ("-".into(), "-".into()),
        };
        format!(
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.0} | {cpu} | {rss} |",
            self.label,
            self.workload.clients,
            self.throughput(),
            us(self.latency.p50),
            us(self.latency.p95),
            us(self.latency.p99),
            us(self.latency.p999),
        )
    }
}

pub(super) fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Adds `n` answers from `tier` to a count kept in the order tiers were first seen.
pub(super) fn count_tier(counts: &mut Vec<(TierName, u64)>, tier: TierName, n: u64) {
    match counts.iter_mut().find(|(t, _)| *t == tier) {
        Some((_, m)) => *m += n,
        None => counts.push((tier, n)),
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = &self.workload;
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        writeln!(
            f,
            "{:?}: {} clients x {} requests, {} keys of {} bytes, zipf {}",
            self.op, w.clients, w.requests, w.keys, w.value_size, w.zipf
        )?;
        if !self.answered_by.is_empty() {
            let shares: Vec<String> = self
                .answered_by
                .iter()
                .map(|(tier, n)| {
                    let share = *n as f64 * 100.0 / self.requests as f64;
                    format!("{} {share:.1}%", tier.label())
                })
                .collect();
            writeln!(f, "answered by: {}", shares.join(", "))?;
        }
        writeln!(
            f,
            "throughput: {:.0} req/s over {:.2} s",
            self.throughput(),
            self.elapsed.as_secs_f64()
        )?;
        let l = &self.latency;
        writeln!(
            f,
            "latency us: p50 {:.1}  p95 {:.1}  p99 {:.1}  p99.9 {:.1}  max {:.1}",
            us(l.p50),
            us(l.p95),
            us(l.p99),
            us(l.p999),
            us(l.max)
        )?;
        if let Some(cost) = self.daemon {
            writeln!(
                f,
                "daemon: {:.2} CPU s ({:.1} µs a request), peak RSS {:.1} MiB",
                cost.cpu.as_secs_f64(),
                us(cost.cpu) / self.requests as f64,
                mib(cost.peak_rss_bytes)
            )?;
        }
        writeln!(f, "{}", self.row())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(daemon: Option<DaemonCost>) -> BenchReport {
        let ms = Duration::from_millis;
        BenchReport {
            label: "shadcache L1 hit".into(),
            op: Op::Get,
            workload: Workload {
                clients: 2,
                requests: 50,
                ..Workload::default()
            },
            requests: 100,
            elapsed: Duration::from_secs(2),
            latency: Latencies {
                p50: ms(1),
                p95: ms(2),
                p99: ms(3),
                p999: ms(4),
                max: ms(5),
            },
            answered_by: vec![(TierName::Memory, 100)],
            daemon,
        }
    }

    /// bench/run.sh takes the last line starting `| ` of each run into its table of nine
    /// columns.
    #[test]
    fn the_row_has_the_nine_columns_of_the_benchmark_table() {
        let cost = DaemonCost {
            cpu: Duration::from_millis(250),
            peak_rss_bytes: 3 << 20,
        };
        assert_eq!(
            report(Some(cost)).row(),
            "| shadcache L1 hit | 2 | 50 | 1000 | 2000 | 3000 | 4000 | 0.25 | 3.0 |"
        );
        assert_eq!(
            report(None).row(),
            "| shadcache L1 hit | 2 | 50 | 1000 | 2000 | 3000 | 4000 | - | - |"
        );
        let text = report(None).to_string();
        assert_eq!(text.lines().last(), Some(report(None).row().as_str()));
        assert!(text.contains("answered by: L1 memory 100.0%"), "{text}");
    }
}
