//! `shadcache stats` for a person: sizes with units, latencies in µs or ms, and tables whose
//! columns are as wide as what they hold, so a long cell (an L2 that says why it is
//! read-only) never pushes the numbers out of line.

use std::fmt::Write as _;
use std::time::Duration;

use crate::protocol::{BreakerState, Stats, TierName};

pub fn table(stats: &Stats) -> String {
    let mut out = String::new();
    let uptime = Duration::from_secs(stats.uptime.as_secs());
    let _ = writeln!(
        out,
        "shadcache {} (pid {}), up {}",
        stats.daemon_version,
        stats.pid,
        humantime::format_duration(uptime)
    );
    let _ = writeln!(
        out,
        "connections:  {} open, {} total, {} refused",
        stats.connections_open, stats.connections_total, stats.connections_refused
    );
    let _ = writeln!(
        out,
        "requests:     {} ({} errors)",
        stats.requests, stats.request_errors
    );
    let r = &stats.router;
    let answered: Vec<String> = r
        .answered_by
        .iter()
        .map(|(tier, n)| format!("{} {n}", tier.label()))
        .collect();
    let _ = writeln!(
        out,
        "router:       {} commands, answered by [{}], {} misses, {} promotions",
        r.commands,
        answered.join(", "),
        r.misses,
        r.promotions,
    );
    let stale: Vec<String> = r
        .stale_answers
        .iter()
        .map(|(why, n)| format!("{} {n}", why.label()))
        .collect();
    let _ = writeln!(
        out,
        "upstream:     {} fetched, {} refreshed in the background, {} prefetched, {} refreshed \
         ahead of expiry, {} coalesced; stale answers [{}]",
        r.fetched,
        r.refreshed,
        r.prefetched,
        r.refreshed_ahead,
        r.coalesced,
        stale.join(", ")
    );
    for (origin, b) in &r.breakers {
        let breaker = match b.state {
            BreakerState::Closed => "closed".to_owned(),
            BreakerState::HalfOpen => "half-open".to_owned(),
            BreakerState::Open { retry_in } => {
                format!("open, retrying in {} s", retry_in.as_secs())
            }
        };
        let _ = writeln!(
            out,
            "breaker:      {} {breaker}; {} failures of {} answers in the window; {} transitions, opened {}x, {} fetches refused",
            origin.label(),
            b.window_failures,
            b.window_calls,
            b.transitions,
            b.opened,
            b.rejected
        );
    }
    if let Some(q) = &stats.write_behind {
        let _ = writeln!(
            out,
            "write-behind: {}/{} queued; {} enqueued ({} coalesced), {} flushed in {} batches ({} failed); {} waited for room, {} refused; flush p50 {} p99 {}",
            q.depth,
            q.capacity,
            q.enqueued,
            q.coalesced,
            q.flushed,
            q.flushes,
            q.failed_flushes,
            q.waited,
            q.refused,
            latency(q.flush_latency.p50),
            latency(q.flush_latency.p99)
        );
    }
    let restarts: Vec<String> = stats
        .restarts
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    let _ = writeln!(out, "restarts:     {}", restarts.join(", "));

    // The state last: it is the one cell of any length.
    let mut tiers = Table::new([
        ("tier", Align::Left),
        ("entries", Align::Right),
        ("size", Align::Right),
        ("capacity", Align::Right),
        ("hits", Align::Right),
        ("misses", Align::Right),
        ("evictions", Align::Right),
        ("expired", Align::Right),
        ("state", Align::Left),
    ]);
    for t in &stats.tiers {
        tiers.row([
            t.tier.label().to_owned(),
            t.entries.to_string(),
            bytes(t.bytes),
            if t.capacity_bytes == 0 {
                "-".to_owned()
            } else {
                bytes(t.capacity_bytes)
            },
            t.hits.to_string(),
            t.misses.to_string(),
            t.evictions.to_string(),
            t.expirations.to_string(),
            t.state.clone(),
        ]);
    }
    out.push('\n');
    out.push_str(&tiers.render());

    if !r.latency.is_empty() {
        let mut reads = Table::new([
            ("read latency", Align::Left),
            ("reads", Align::Right),
            ("p50", Align::Right),
            ("p95", Align::Right),
            ("p99", Align::Right),
            ("max", Align::Right),
        ]);
        for (tier, l) in &r.latency {
            reads.row([
                tier.label().to_owned(),
                l.count.to_string(),
                latency(l.p50),
                latency(l.p95),
                latency(l.p99),
                latency(l.max),
            ]);
        }
        out.push('\n');
        out.push_str(&reads.render());
    }
    if !stats.registries.is_empty() {
        let mut registries = Table::new([
            ("registry", Align::Left),
            ("requests", Align::Right),
            ("L1", Align::Right),
            ("L2", Align::Right),
            ("origin", Align::Right),
            ("304 sent", Align::Right),
            ("404", Align::Right),
            ("errors", Align::Right),
            ("downloaded", Align::Right),
            ("304 got", Align::Right),
            ("upstream 404", Align::Right),
            ("failed", Align::Right),
        ]);
        for g in &stats.registries {
            let by = |tiers: &[TierName]| -> String {
                g.answered_by
                    .iter()
                    .filter(|(t, _)| tiers.contains(t))
                    .map(|(_, n)| n)
                    .sum::<u64>()
                    .to_string()
            };
            registries.row([
                g.registry.clone(),
                g.requests.to_string(),
                by(&[TierName::Memory]),
                by(&[TierName::Database, TierName::Queue]),
                by(&[TierName::Registry]),
                g.not_modified.to_string(),
                g.not_found.to_string(),
                g.errors.to_string(),
                g.fetched.to_string(),
                g.unchanged.to_string(),
                g.not_found_upstream.to_string(),
                g.fetch_errors.to_string(),
            ]);
        }
        out.push('\n');
        out.push_str(&registries.render());
    }
    for t in stats.tiers.iter().filter(|t| !t.kinds.is_empty()) {
        let when = |ms: Option<u64>| {
            ms.map(|ms| {
                humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + Duration::from_millis(ms))
                    .to_string()
            })
            .unwrap_or_else(|| "-".to_owned())
        };
        let _ = writeln!(
            out,
            "\n{} by kind (oldest entry {}, newest {}):",
            t.tier.label(),
            when(t.oldest_ms),
            when(t.newest_ms)
        );
        let mut kinds = Table::new([
            ("  kind", Align::Left),
            ("rows", Align::Right),
            ("size", Align::Right),
        ]);
        for k in &t.kinds {
            kinds.row([format!("  {}", k.kind), k.rows.to_string(), bytes(k.bytes)]);
        }
        out.push_str(&kinds.render());
    }
    out
}

/// A latency the way people read them: µs below a millisecond, ms above.
fn latency(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    }
}

/// A size the way people read them: `512 B`, `2.3 KiB`, `64.0 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// Columns as wide as their widest cell, two spaces apart; the last column is not padded.
struct Table<const N: usize> {
    columns: [(&'static str, Align); N],
    rows: Vec<[String; N]>,
}

impl<const N: usize> Table<N> {
    fn new(columns: [(&'static str, Align); N]) -> Self {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    fn row(&mut self, cells: [String; N]) {
        self.rows.push(cells);
    }

    fn render(&self) -> String {
        let header: [String; N] = self.columns.map(|(name, _)| name.to_owned());
        let width = |i: usize| {
            std::iter::once(&header)
                .chain(&self.rows)
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..N).map(width).collect();
        let mut out = String::new();
        for row in std::iter::once(&header).chain(&self.rows) {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i > 0 {
                    line.push_str("  ");
                }
                let pad = widths[i] - cell.chars().count();
                match self.columns[i].1 {
                    Align::Right => {
                        line.extend(std::iter::repeat_n(' ', pad));
                        line.push_str(cell);
                    }
                    Align::Left if i + 1 == N => line.push_str(cell),
                    Align::Left => {
                        line.push_str(cell);
                        line.extend(std::iter::repeat_n(' ', pad));
                    }
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_a_person_writes_them() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(2355), "2.3 KiB");
        assert_eq!(bytes(64 << 20), "64.0 MiB");
        assert_eq!(bytes(256 << 20), "256.0 MiB");
        assert_eq!(bytes(3 << 30), "3.0 GiB");
    }

    #[test]
    fn a_long_cell_widens_its_column_and_keeps_the_others_in_line() {
        let mut t = Table::new([
            ("tier", Align::Left),
            ("size", Align::Right),
            ("state", Align::Left),
        ]);
        t.row(["L1 memory".into(), bytes(2355), "up".into()]);
        t.row([
            "L3 github".into(),
            bytes(64 << 20),
            "up, quota 4999/5000".into(),
        ]);
        t.row([
            "L2 database (a longer name)".into(),
            "0 B".into(),
            "read-only".into(),
        ]);
        let text = t.render();
        let lines: Vec<&str> = text.lines().collect();
        // Every row's size ends in the same column, and its state starts in the same one.
        let size_end: Vec<usize> = lines
            .iter()
            .map(|l| {
                let state_at = l.rfind("  ").unwrap();
                l[..state_at].trim_end().chars().count()
            })
            .collect();
        assert!(size_end.windows(2).all(|w| w[0] == w[1]), "{text}");
        let state_start: Vec<usize> = lines
            .iter()
            .zip(["state", "up", "up, quota", "read-only"])
            .map(|(l, s)| l.find(s).unwrap())
            .collect();
        assert!(state_start.windows(2).all(|w| w[0] == w[1]), "{text}");
    }
}
