//! `/<secret>/metrics`: what `stats` shows, in the OpenMetrics text format that Prometheus
//! (and Grafana Agent, VictoriaMetrics, the OpenTelemetry collector) scrapes. Each scrape
//! takes one `stats` snapshot and encodes it through `prometheus-client`'s collector API: the
//! counters stay where they are kept (the router, the tiers, the server), with no second set
//! to keep in step.

use futures::future::BoxFuture;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use crate::protocol::{BreakerState, LATENCY_BOUNDS_US, Stats};

/// Where the snapshot comes from: the socket's dispatcher, which adds the server's own
/// counters to the router's.
pub trait StatsSource: Send + Sync {
    fn stats(&self) -> BoxFuture<'_, Option<Stats>>;
}

/// The content type of the text format `prometheus-client` writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Every metric of one snapshot, as the text format spells them.
pub fn encode(stats: Stats) -> String {
    let mut registry = Registry::with_prefix("shadcache");
    registry.register_collector(Box::new(Snapshot(stats)));
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry)
        .expect("writing to a String cannot fail");
    text
}

#[derive(Debug)]
struct Snapshot(Stats);

type Labels<'a> = Vec<(&'static str, &'a str)>;

/// One family: a name, its help, its type, and a value per label set.
fn family(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    values: &[(Labels<'_>, f64)],
) -> std::fmt::Result {
    let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in values {
        let sample = metric.encode_family(labels)?;
        match kind {
            MetricType::Counter => ConstCounter::new(*value).encode(sample)?,
            _ => ConstGauge::new(*value).encode(sample)?,
        }
    }
    Ok(())
}

fn counter(e: &mut DescriptorEncoder, name: &str, help: &str, v: u64) -> std::fmt::Result {
    family(
        e,
        name,
        help,
        MetricType::Counter,
        &[(Vec::new(), v as f64)],
    )
}

fn gauge(e: &mut DescriptorEncoder, name: &str, help: &str, v: f64) -> std::fmt::Result {
    family(e, name, help, MetricType::Gauge, &[(Vec::new(), v)])
}

impl Collector for Snapshot {
    fn encode(&self, mut e: DescriptorEncoder) -> std::fmt::Result {
        let s = &self.0;
        let r = &s.router;
        let e = &mut e;
        use MetricType::{Counter, Gauge};

        gauge(
            e,
            "uptime_seconds",
            "Seconds since the daemon started.",
            s.uptime.as_secs_f64(),
        )?;
        counter(
            e,
            "requests",
            "Requests received on the socket.",
            s.requests,
        )?;
        counter(
            e,
            "request_errors",
            "Requests answered with an error.",
            s.request_errors,
        )?;
        gauge(
            e,
            "connections_open",
            "Socket connections open now.",
            s.connections_open as f64,
        )?;
        counter(
            e,
            "connections",
            "Socket connections accepted.",
            s.connections_total,
        )?;
        counter(
            e,
            "connections_refused",
            "Connections refused at the limit.",
            s.connections_refused,
        )?;
        let restarts: Vec<_> = s
            .restarts
            .iter()
            .map(|(actor, n)| (vec![("actor", actor.as_str())], *n as f64))
            .collect();
        family(
            e,
            "actor_restarts",
            "Supervised restarts of each actor.",
            Counter,
            &restarts,
        )?;

        counter(
            e,
            "commands",
            "Commands the router ran (L1 fast-path hits included).",
            r.commands,
        )?;
        counter(
            e,
            "command_errors",
            "Commands that ended in an error.",
            r.errors,
        )?;
        let by_tier: Vec<_> = r
            .answered_by
            .iter()
            .map(|(t, n)| (vec![("tier", t.id())], *n as f64))
            .collect();
        family(
            e,
            "answers",
            "Keys answered, by the tier that had them.",
            Counter,
            &by_tier,
        )?;
        counter(e, "misses", "Keys no tier and no origin had.", r.misses)?;
        counter(
            e,
            "promotions",
            "Entries copied into an upper tier.",
            r.promotions,
        )?;
        let stale: Vec<_> = r
            .stale_answers
            .iter()
            .map(|(why, n)| (vec![("reason", why.id())], *n as f64))
            .collect();
        family(
            e,
            "stale_answers",
            "Keys answered with an expired copy, by why.",
            Counter,
            &stale,
        )?;
        let fetches = [
            ("read", r.fetched),
            ("revalidate", r.refreshed),
            ("prefetch", r.prefetched),
            ("refresh_ahead", r.refreshed_ahead),
        ];
        let fetches: Vec<_> = fetches
            .iter()
            .map(|(why, n)| (vec![("purpose", *why)], *n as f64))
            .collect();
        family(
            e,
            "origin_fetches",
            "Keys fetched from an origin, by why: a client waiting, a stale copy answered, named by a fetched value (prefetch), hot and about to expire (refresh-ahead).",
            Counter,
            &fetches,
        )?;
        counter(
            e,
            "coalesced_fetches",
            "Fetches that joined one in flight for the same key.",
            r.coalesced,
        )?;

        let mut states = Vec::new();
        let mut rejected = Vec::new();
        let mut opened = Vec::new();
        for (origin, b) in &r.breakers {
            let current = match b.state {
                BreakerState::Closed => "closed",
                BreakerState::Open { .. } => "open",
                BreakerState::HalfOpen => "half_open",
            };
            for state in ["closed", "open", "half_open"] {
                let on = f64::from(u8::from(state == current));
                states.push((vec![("origin", origin.id()), ("state", state)], on));
            }
            rejected.push((vec![("origin", origin.id())], b.rejected as f64));
            opened.push((vec![("origin", origin.id())], b.opened as f64));
        }
        family(
            e,
            "breaker_state",
            "Each origin's circuit breaker: 1 for its current state.",
            Gauge,
            &states,
        )?;
        family(
            e,
            "breaker_opened",
            "Times each origin's breaker opened.",
            Counter,
            &opened,
        )?;
        family(
            e,
            "breaker_rejected",
            "Fetches refused by an open breaker.",
            Counter,
            &rejected,
        )?;

        let mut tiers: Vec<(&str, Vec<(Labels<'_>, f64)>)> = [
            "entries",
            "bytes",
            "capacity_bytes",
            "hits",
            "misses",
            "evictions",
            "expirations",
            "errors",
            "revalidated",
            "up",
        ]
        .into_iter()
        .map(|name| (name, Vec::new()))
        .collect();
        let mut quota = (Vec::new(), Vec::new());
        for t in &s.tiers {
            let name = t.tier.id();
            let up = t.state.starts_with("up");
            let values = [
                t.entries,
                t.bytes,
                t.capacity_bytes,
                t.hits,
                t.misses,
                t.evictions,
                t.expirations,
                t.errors,
                t.revalidated,
                u64::from(up),
            ];
            for ((_, samples), v) in tiers.iter_mut().zip(values) {
                samples.push((vec![("tier", name)], v as f64));
            }
            if let Some((left, limit)) = t.quota {
                quota.0.push((vec![("origin", name)], left as f64));
                quota.1.push((vec![("origin", name)], limit as f64));
            }
        }
        let help = |name: &str| match name {
            "entries" => (
                "tier_entries",
                "Entries each tier holds (GitHub: tree listings).",
                Gauge,
            ),
            "bytes" => ("tier_bytes", "Bytes each tier holds.", Gauge),
            "capacity_bytes" => (
                "tier_capacity_bytes",
                "Each tier's byte budget (0: none).",
                Gauge,
            ),
            "hits" => (
                "tier_hits",
                "Reads each tier answered (an origin: bodies fetched).",
                Counter,
            ),
            "misses" => (
                "tier_misses",
                "Reads each tier did not have (an origin: not found upstream).",
                Counter,
            ),
            "evictions" => ("tier_evictions", "Entries evicted for room.", Counter),
            "expirations" => ("tier_expirations", "Entries dropped as expired.", Counter),
            "errors" => ("tier_errors", "Failed operations of each tier.", Counter),
            "revalidated" => (
                "tier_revalidated",
                "Copies an origin confirmed unchanged (no download).",
                Counter,
            ),
            _ => (
                "tier_up",
                "1 when the tier is up, 0 when down, opening or read-only.",
                Gauge,
            ),
        };
        for (name, samples) in &tiers {
            let (metric, text, kind) = help(name);
            family(e, metric, text, kind, samples)?;
        }
        family(
            e,
            "origin_quota_remaining",
            "Calls left in an origin's rate-limit window.",
            Gauge,
            &quota.0,
        )?;
        family(
            e,
            "origin_quota_limit",
            "An origin's rate-limit window.",
            Gauge,
            &quota.1,
        )?;

        let queue = s.write_behind.clone().unwrap_or_default();
        gauge(
            e,
            "write_behind_depth",
            "Writes queued for L2.",
            queue.depth as f64,
        )?;
        gauge(
            e,
            "write_behind_capacity",
            "Writes the queue holds at most.",
            queue.capacity as f64,
        )?;
        counter(
            e,
            "write_behind_flushed",
            "Queued writes flushed to L2.",
            queue.flushed,
        )?;
        counter(
            e,
            "write_behind_failed_flushes",
            "Flushes that failed (retried).",
            queue.failed_flushes,
        )?;

        let registry: Vec<_> = s
            .registries
            .iter()
            .map(|g| (vec![("registry", g.registry.as_str())], g.requests as f64))
            .collect();
        family(
            e,
            "registry_requests",
            "Requests the registry listener answered, per registry.",
            Counter,
            &registry,
        )?;

        let mut latency = e.encode_descriptor(
            "read_latency_seconds",
            "Read latency by the tier that answered, as the router timed it.",
            None,
            MetricType::Histogram,
        )?;
        for (t, h) in &r.histograms {
            let buckets: Vec<(f64, u64)> = LATENCY_BOUNDS_US
                .iter()
                .map(|us| *us as f64 / 1e6)
                .chain([f64::INFINITY])
                .zip(h.counts.iter().copied())
                .collect();
            let count = h.counts.iter().sum();
            let labels = [("tier", t.id())];
            latency
                .encode_family(&labels)?
                .encode_histogram::<NoLabelSet>(h.sum_us as f64 / 1e6, count, &buckets, None)?;
        }
        Ok(())
    }
}

/// The scrape's answer, for the listener; `None` when the daemon is stopping.
pub async fn scrape(source: &dyn StatsSource) -> Option<String> {
    Some(encode(source.stats().await?))
}
