//! `click-id-duplicate`: AppMetrica drops a click_id it has seen on the same tracker within 7
//! days. The mock remembers (tracker, click_id) pairs for that window in bounded memory: a
//! 64-bit hash of the pair, not the string, and at most `capacity` pairs, oldest forgotten
//! first (and counted). Two different pairs sharing a 64-bit hash is not a practical concern.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};

/// About 50 bytes a pair: half a million pairs stay near 25 MB.
pub const DEFAULT_CAPACITY: usize = 500_000;
pub const WINDOW_SECS: u64 = 7 * 86_400;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub at: u64,
    pub seq: u64,
}

#[derive(Debug)]
pub struct ClickIds {
    seen: HashMap<u64, Seen>,
    order: VecDeque<(u64, u64)>,
    capacity: usize,
    pub forgotten: u64,
}

impl ClickIds {
    pub fn new(capacity: usize) -> ClickIds {
        ClickIds {
            seen: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            forgotten: 0,
        }
    }

    /// When the pair was first seen within the window; otherwise remembers it now.
    pub fn check(&mut self, tracker: &str, click_id: &str, now: u64, seq: u64) -> Option<Seen> {
        self.expire(now);
        let key = key(tracker, click_id);
        if let Some(first) = self.seen.get(&key) {
            return Some(*first);
        }
        if self.seen.len() >= self.capacity {
            if let Some((old, _)) = self.order.pop_front() {
                self.seen.remove(&old);
                self.forgotten += 1;
            }
        }
        self.seen.insert(key, Seen { at: now, seq });
        self.order.push_back((key, now));
        None
    }

    fn expire(&mut self, now: u64) {
        while let Some(&(k, at)) = self.order.front() {
            if at + WINDOW_SECS > now {
                break;
            }
            self.order.pop_front();
            self.seen.remove(&k);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.seen.len()
    }
}

fn key(tracker: &str, click_id: &str) -> u64 {
    let mut h = DefaultHasher::new();
    tracker.hash(&mut h);
    click_id.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_within_seven_days_are_seen() {
        let mut c = ClickIds::new(10);
        assert_eq!(c.check("1", "a", 1000, 1), None);
        assert_eq!(c.check("1", "a", 2000, 2), Some(Seen { at: 1000, seq: 1 }));
        assert_eq!(c.check("2", "a", 2000, 3), None, "another tracker");
        assert_eq!(
            c.check("1", "a", 1000 + WINDOW_SECS, 4),
            None,
            "the window has passed"
        );
    }

    #[test]
    fn memory_is_bounded() {
        let mut c = ClickIds::new(3);
        for i in 0..10 {
            c.check("1", &i.to_string(), 1000, i);
        }
        assert_eq!(c.len(), 3);
        assert_eq!(c.forgotten, 7);
        assert!(c.check("1", "9", 1001, 11).is_some());
        assert!(c.check("1", "0", 1001, 12).is_none(), "forgotten first");
    }
}
