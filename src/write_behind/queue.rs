//! The queue itself, without the actor: insertion order, coalescing by key, batches.

use std::collections::{HashMap, VecDeque};

use crate::key::Key;
use crate::tier::Entry;

pub struct Queue {
    /// Keys in the order of their first unflushed write.
    order: VecDeque<Key>,
    /// The newest write of each queued key, and when its first unflushed write came.
    pending: HashMap<Key, (Entry, u64)>,
    capacity: usize,
}

impl Queue {
    pub fn new(capacity: usize) -> Queue {
        Queue {
            order: VecDeque::new(),
            pending: HashMap::new(),
            capacity,
        }
    }

    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn set_capacity(&mut self, capacity: usize) {
        self.capacity = capacity;
    }

    /// Keys of `entries` not queued yet: the room the write needs.
    pub fn room_needed(&self, entries: &[(Key, Entry)]) -> usize {
        let mut new: Vec<&Key> = entries
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !self.pending.contains_key(*k))
            .collect();
        new.sort_unstable();
        new.dedup();
        new.len()
    }

    pub fn fits(&self, entries: &[(Key, Entry)]) -> bool {
        self.len() + self.room_needed(entries) <= self.capacity
    }

    /// Returns how many writes replaced a queued one (coalesced).
    pub fn push(&mut self, entries: Vec<(Key, Entry)>, now_ms: u64) -> u64 {
        let mut coalesced = 0;
        for (key, entry) in entries {
            match self.pending.get_mut(&key) {
                Some((queued, _)) => {
                    *queued = entry;
                    coalesced += 1;
                }
                None => {
                    self.order.push_back(key.clone());
                    self.pending.insert(key, (entry, now_ms));
                }
            }
        }
        coalesced
    }

    /// When the oldest queued write came.
    pub fn oldest_ms(&self) -> Option<u64> {
        self.order
            .iter()
            .find_map(|key| self.pending.get(key).map(|(_, at)| *at))
    }

    /// Takes up to `n` writes, oldest first.
    pub fn take(&mut self, n: usize) -> Vec<(Key, Entry, u64)> {
        let mut batch = Vec::with_capacity(n.min(self.len()));
        while batch.len() < n {
            let Some(key) = self.order.pop_front() else {
                break;
            };
            if let Some((entry, at)) = self.pending.remove(&key) {
                batch.push((key, entry, at));
            }
        }
        batch
    }

    /// Puts a batch that could not be flushed back in front, except keys written again
    /// meanwhile: their newer write is queued and wins.
    pub fn put_back(&mut self, batch: Vec<(Key, Entry, u64)>) {
        for (key, entry, at) in batch.into_iter().rev() {
            if self.pending.contains_key(&key) {
                continue;
            }
            self.order.push_front(key.clone());
            self.pending.insert(key, (entry, at));
        }
    }

    pub fn get(&self, key: &Key) -> Option<&Entry> {
        self.pending.get(key).map(|(entry, _)| entry)
    }

    pub fn get_mut(&mut self, key: &Key) -> Option<&mut Entry> {
        self.pending.get_mut(key).map(|(entry, _)| entry)
    }

    pub fn remove(&mut self, key: &Key) -> bool {
        // The key stays in `order` until a take passes over it; `pending` is the truth.
        self.pending.remove(key).is_some()
    }

    pub fn clear(&mut self) -> u64 {
        let n = self.pending.len() as u64;
        self.pending.clear();
        self.order.clear();
        n
    }

    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.pending.keys()
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    fn write(key: &str, value: &'static str) -> (Key, Entry) {
        (
            Key::parse(key).unwrap(),
            Entry::new(Bytes::from_static(value.as_bytes()), 0, None),
        )
    }

    #[test]
    fn coalesces_keeps_order_and_bounds() {
        let mut q = Queue::new(2);
        assert_eq!(q.push(vec![write("a:1", "x"), write("b:1", "y")], 10), 0);
        assert!(!q.fits(&[write("c:1", "z")]));
        assert!(q.fits(&[write("a:1", "newer")]), "a rewrite needs no room");
        assert_eq!(q.push(vec![write("a:1", "newer")], 20), 1);
        assert_eq!(q.len(), 2);
        assert_eq!(
            q.oldest_ms(),
            Some(10),
            "a rewrite keeps the first write's age"
        );
        let batch = q.take(1);
        assert_eq!(batch[0].0.as_str(), "a:1");
        assert_eq!(&batch[0].1.value[..], b"newer");
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn a_failed_batch_goes_back_in_front_unless_rewritten() {
        let mut q = Queue::new(10);
        q.push(
            vec![write("a:1", "1"), write("b:1", "1"), write("c:1", "1")],
            0,
        );
        let batch = q.take(2);
        q.push(vec![write("b:1", "2")], 5);
        q.put_back(batch);
        let all = q.take(10);
        let order: Vec<(&str, &[u8])> = all
            .iter()
            .map(|(k, e, _)| (k.as_str(), &e.value[..]))
            .collect();
        assert_eq!(
            order,
            vec![("a:1", &b"1"[..]), ("c:1", b"1"), ("b:1", b"2")]
        );
    }

    #[test]
    fn removed_keys_are_not_flushed() {
        let mut q = Queue::new(10);
        q.push(vec![write("a:1", "1"), write("b:1", "1")], 0);
        assert!(q.remove(&Key::parse("a:1").unwrap()));
        let batch = q.take(10);
        assert_eq!(batch.len(), 1);
        assert_eq!(batch[0].0.as_str(), "b:1");
    }
}
