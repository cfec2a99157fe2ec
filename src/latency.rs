//! Latency histograms for stats and the load generator's reports: HDR histograms in
//! microseconds, summarised as percentiles.

use std::time::Duration;

use crate::protocol::{Histogram, LATENCY_BOUNDS_US, Percentiles};

#[derive(Clone)]
pub struct Latency(hdrhistogram::Histogram<u64>);

/// One microsecond to ten minutes at two significant digits: about 20 KB each.
const HIGHEST_US: u64 = 600_000_000;

impl Default for Latency {
    fn default() -> Self {
        Latency(
            hdrhistogram::Histogram::new_with_bounds(1, HIGHEST_US, 2)
                .expect("valid histogram bounds"),
        )
    }
}

impl Latency {
    pub fn record(&mut self, took: Duration) {
        let us = (took.as_micros() as u64).clamp(1, HIGHEST_US);
        self.0
            .record(us)
            .expect("clamped into the histogram's range");
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds another histogram's samples to this one.
    pub fn add(&mut self, other: &Latency) {
        self.0.add(&other.0).expect("histograms of the same bounds");
    }

    /// The latency `q` of the samples are at or below (0.999 for p99.9).
    pub fn quantile(&self, q: f64) -> Duration {
        Duration::from_micros(self.0.value_at_quantile(q))
    }

    /// The samples in the buckets `/metrics` exports (to the histogram's two significant
    /// digits: a sample near a bound may fall on either side of it).
    pub fn histogram(&self) -> Histogram {
        let mut counts = Vec::with_capacity(LATENCY_BOUNDS_US.len() + 1);
        let mut below = 0;
        for bound in LATENCY_BOUNDS_US {
            let upto = self.0.count_between(0, bound).max(below);
            counts.push(upto - below);
            below = upto;
        }
        counts.push(self.0.len().saturating_sub(below));
        let sum_us = (self.0.mean() * self.0.len() as f64).round() as u64;
        Histogram { counts, sum_us }
    }

    pub fn summary(&self) -> Percentiles {
        Percentiles {
            count: self.0.len(),
            p50: self.quantile(0.50),
            p95: self.quantile(0.95),
            p99: self.quantile(0.99),
            max: Duration::from_micros(self.0.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_a_known_spread() {
        let mut latency = Latency::default();
        for us in 1..=1000 {
            latency.record(Duration::from_micros(us));
        }
        let s = latency.summary();
        assert_eq!(s.count, 1000);
        // Two significant digits: within 1 % of the exact values.
        assert!((495..=505).contains(&s.p50.as_micros()), "{s:?}");
        assert!((985..=995).contains(&s.p99.as_micros()), "{s:?}");
        assert!(s.max >= Duration::from_micros(1000));
        let h = latency.histogram();
        assert_eq!(h.counts.iter().sum::<u64>(), 1000);
        // (0, 50], (50, 100], (100, 250] ... to two significant digits.
        assert!((49..=51).contains(&h.counts[0]), "{h:?}");
        assert_eq!(&h.counts[5..], [0; 12]);
        assert!((h.sum_us as i64 - 500_500).abs() < 5_000, "{}", h.sum_us);
    }
}
