//! `click-id-duplicate`: AppMetrica drops a click_id it has seen on the same tracker within 7
//! days. The mock remembers (tracker, click_id) pairs for that window in bounded memory: a
//! 64-bit hash of the pair, not the string, and at most `capacity` pairs, oldest forgotten
//! first (and counted). Two different pairs sharing a 64-bit hash is not a practical concern.
//!
//! Click ids are the sender's choice, so the pair hash is seeded per process (foldhash): nobody
//! can precompute ids that collide with another partner's. The map then uses that hash as is.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

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
    pairs: foldhash::fast::RandomState,
    seen: HashMap<u64, Seen, BuildHasherDefault<PreHashed>>,
    order: VecDeque<(u64, u64)>,
    capacity: usize,
    pub forgotten: u64,
}

impl ClickIds {
    pub fn new(capacity: usize) -> ClickIds {
        ClickIds {
            pairs: foldhash::fast::RandomState::default(),
            seen: HashMap::default(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
            forgotten: 0,
        }
    }

    /// When the pair was first seen within the window; otherwise remembers it now.
    pub fn check(&mut self, tracker: &[u8], click_id: &[u8], now: u64, seq: u64) -> Option<Seen> {
        self.expire(now);
        let key = self.key(tracker, click_id);
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

impl ClickIds {
    fn key(&self, tracker: &[u8], click_id: &[u8]) -> u64 {
        let mut h = self.pairs.build_hasher();
        // Length-prefixed, so ("12", "3") and ("1", "23") differ.
        h.write_usize(tracker.len());
        h.write(tracker);
        h.write(click_id);
        h.finish()
    }
}

/// The keys are already seeded hashes: hashing them again would only cost time.
#[derive(Debug, Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are hashed here; fold anything else in rather than lose it.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_within_seven_days_are_seen() {
        let mut c = ClickIds::new(10);
        assert_eq!(c.check(b"1", b"a", 1000, 1), None);
        assert_eq!(
            c.check(b"1", b"a", 2000, 2),
            Some(Seen { at: 1000, seq: 1 })
        );
        assert_eq!(c.check(b"2", b"a", 2000, 3), None, "another tracker");
        assert_eq!(
            c.check(b"1", b"a", 1000 + WINDOW_SECS, 4),
            None,
            "the window has passed"
        );
    }

    #[test]
    fn memory_is_bounded() {
        let mut c = ClickIds::new(3);
        for i in 0..10 {
            c.check(b"1", i.to_string().as_bytes(), 1000, i);
        }
        assert_eq!(c.len(), 3);
        assert_eq!(c.forgotten, 7);
        assert!(c.check(b"1", b"9", 1001, 11).is_some());
        assert!(c.check(b"1", b"0", 1001, 12).is_none(), "forgotten first");
    }
}
