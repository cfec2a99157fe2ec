//! Access tracking for L2 reads, batched: reads record here, and one statement writes a whole
//! batch (measured in `bench/l2_paths.rs`: far cheaper than an UPDATE per read).

use std::collections::HashMap;

use crate::key::Key;

#[derive(Default)]
pub struct AccessBatch {
    pending: HashMap<Key, (u64, u64)>,
}

impl AccessBatch {
    /// Past this many distinct keys the batch is written without waiting for the timer.
    pub const FLUSH_AT: usize = 5_000;

    pub fn record(&mut self, keys: Vec<Key>, at_ms: u64) {
        for key in keys {
            let slot = self.pending.entry(key).or_insert((at_ms, 0));
            slot.0 = slot.0.max(at_ms);
            slot.1 += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The batch as (key, last access ms, reads) rows, leaving it empty.
    pub fn take(&mut self) -> Vec<(String, i64, i64)> {
        self.pending
            .drain()
            .map(|(k, (at, n))| (k.as_str().to_owned(), at as i64, n as i64))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_reads_collapse_into_one_row() {
        let key = |s: &str| Key::parse(s).unwrap();
        let mut batch = AccessBatch::default();
        batch.record(vec![key("a:1"), key("a:2")], 10);
        batch.record(vec![key("a:1")], 30);
        batch.record(vec![key("a:1")], 20);
        let mut rows = batch.take();
        rows.sort();
        assert_eq!(
            rows,
            vec![("a:1".to_string(), 30, 3), ("a:2".to_string(), 10, 1)]
        );
        assert!(batch.is_empty());
    }
}
