//! `click-id-duplicate`: AppMetrica drops a click_id it has seen on the same tracker within 7
//! days. The mock remembers (tracker, click_id) pairs for that window in bounded memory: a
//! 64-bit hash of the pair, not the string, and at most `capacity` pairs, oldest forgotten
//! first (and counted). Two different pairs sharing a 64-bit hash is not a practical concern.
//!
//! Click ids are the sender's choice, so the pair hash is seeded per process (foldhash): nobody
//! can precompute ids that collide with another partner's.
//!
//! Nearly every click is new, so the common case is "look up, miss, insert, forget the oldest",
//! and at the default half a million pairs each step is a cache miss. So the pairs sit oldest
//! first in `order`, which is only touched at its two ends, and `index` is a hash table of
//! 8-byte slots: the upper half of a pair's hash and the pair's place in `order`. A slot is
//! hashed from what it holds, so the table can grow, and the oldest pair's slot be found and
//! dropped, without reading `order`; a lookup reads `order` only when the upper halves agree.
//! A map from hash to first sighting beside a queue of hashes was measurably slower at that
//! size (see docs/performance-log.md).
//!
//! The first sighting's journal sequence number is only known once the request is recorded,
//! after it was judged: [`ClickIds::check`] remembers a new pair with no number yet, and
//! [`ClickIds::confirm`] fills it in. Reading the journal's next number before recording would
//! race with a neighbour recorded in between.

use crate::lock::lock;
use hashbrown::HashTable;
use std::collections::VecDeque;
use std::hash::{BuildHasher, Hasher};
use std::num::NonZeroU64;
use std::sync::{Mutex, MutexGuard};

/// About 44 bytes a pair at this size: 24 in `order`, and 9 a slot (8 bytes and hashbrown's
/// control byte) in a table about half full. Half a million pairs take about 22 MB.
pub(crate) const DEFAULT_CAPACITY: usize = 500_000;
/// Places in `order` are kept modulo 2^32 in a slot; the capacity stays well below that.
pub(crate) const MAX_CAPACITY: usize = 1 << 30;
pub(crate) const WINDOW_SECS: u64 = 7 * 86_400;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seen {
    pub(crate) at: u64,
    /// The journal entry of the first sighting; `None` while it is still being recorded.
    pub(crate) seq: Option<NonZeroU64>,
}

/// What [`ClickIds::check`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sighting {
    /// The pair was seen before, within the window.
    Repeat(Seen),
    /// A new pair, now remembered; its ticket takes the journal's number to `confirm`.
    First(Ticket),
}

/// A pair remembered by [`ClickIds::check`], waiting for its journal sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ticket {
    key: u64,
    /// The pair's running number in `order`.
    n: u64,
}

/// The memory, safe to share: the pair is hashed before the lock is taken.
#[derive(Debug)]
pub(crate) struct ClickIds {
    pairs: foldhash::fast::RandomState,
    memory: Mutex<Memory>,
}

impl ClickIds {
    /// `capacity` is clamped to 1..=[`MAX_CAPACITY`].
    pub(crate) fn new(capacity: usize) -> ClickIds {
        ClickIds {
            pairs: foldhash::fast::RandomState::default(),
            memory: Mutex::new(Memory::new(capacity)),
        }
    }

    /// When the pair was first seen within the window; otherwise remembers it now, and the
    /// ticket takes its sequence number to [`ClickIds::confirm`].
    pub(crate) fn check(&self, tracker: &[u8], click_id: &[u8], now: u64) -> Sighting {
        let key = self.key(tracker, click_id);
        self.lock().check(key, now)
    }

    /// Records the journal sequence number of a pair `check` has just remembered.
    pub(crate) fn confirm(&self, ticket: Ticket, seq: u64) {
        self.lock().confirm(ticket, NonZeroU64::new(seq));
    }

    /// Pairs forgotten before their window ended because the memory was full.
    pub(crate) fn forgotten(&self) -> u64 {
        self.lock().forgotten
    }

    fn key(&self, tracker: &[u8], click_id: &[u8]) -> u64 {
        let mut h = self.pairs.build_hasher();
        // Length-prefixed, so ("12", "3") and ("1", "23") differ.
        h.write_usize(tracker.len());
        h.write(tracker);
        h.write(click_id);
        h.finish()
    }

    fn lock(&self) -> MutexGuard<'_, Memory> {
        lock(&self.memory)
    }
}

#[derive(Clone, Copy, Debug)]
struct Remembered {
    key: u64,
    first_seen: Seen,
}

#[derive(Debug)]
struct Memory {
    order: VecDeque<Remembered>,
    /// The running number of `order[0]`: pair number `n` sits at `order[n - first]`.
    first: u64,
    index: HashTable<u64>,
    capacity: usize,
    forgotten: u64,
}

impl Memory {
    fn new(capacity: usize) -> Memory {
        Memory {
            order: VecDeque::new(),
            first: 0,
            index: HashTable::new(),
            capacity: capacity.clamp(1, MAX_CAPACITY),
            forgotten: 0,
        }
    }

    fn check(&mut self, key: u64, now: u64) -> Sighting {
        self.expire(now);
        if let Some(r) = self.find(key) {
            return Sighting::Repeat(r.first_seen);
        }
        if self.order.len() >= self.capacity {
            self.forget_oldest();
            self.forgotten += 1;
        }
        let n = self.first + self.order.len() as u64;
        let slot = slot(key, n);
        self.order.push_back(Remembered {
            key,
            first_seen: Seen { at: now, seq: None },
        });
        self.index
            .insert_unique(slot_hash(slot), slot, |&s| slot_hash(s));
        Sighting::First(Ticket { key, n })
    }

    /// Fills in the number, unless the pair was forgotten meanwhile.
    fn confirm(&mut self, ticket: Ticket, seq: Option<NonZeroU64>) {
        let Some(i) = ticket.n.checked_sub(self.first) else {
            return;
        };
        if let Some(r) = usize::try_from(i).ok().and_then(|i| self.order.get_mut(i)) {
            if r.key == ticket.key {
                r.first_seen.seq = seq;
            }
        }
    }

    fn expire(&mut self, now: u64) {
        while self
            .order
            .front()
            .is_some_and(|r| r.first_seen.at.saturating_add(WINDOW_SECS) <= now)
        {
            self.forget_oldest();
        }
    }

    fn find(&self, key: u64) -> Option<&Remembered> {
        let upper = key >> 32;
        let slot = self.index.find(slot_hash(key), |&s| {
            s >> 32 == upper && self.order.get(self.place(s)).is_some_and(|r| r.key == key)
        })?;
        self.order.get(self.place(*slot))
    }

    /// Where in `order` a slot's pair sits: of the `order.len()` numbers from `first`, the one
    /// that agrees with the slot's lower 32 bits.
    fn place(&self, slot: u64) -> usize {
        (slot as u32).wrapping_sub(self.first as u32) as usize
    }

    fn forget_oldest(&mut self) {
        let Some(oldest) = self.order.pop_front() else {
            return;
        };
        let wanted = slot(oldest.key, self.first);
        self.first += 1;
        if let Ok(found) = self.index.find_entry(slot_hash(wanted), |&s| s == wanted) {
            found.remove();
        }
    }
}

/// The upper half of the pair's hash, then the pair's number modulo 2^32.
fn slot(key: u64, n: u64) -> u64 {
    (key >> 32) << 32 | (n & 0xFFFF_FFFF)
}

/// From the upper half alone, which keys and slots share, repeated in the lower half:
/// hashbrown takes its tag from the top bits and its bucket from the bottom ones.
fn slot_hash(key_or_slot: u64) -> u64 {
    let upper = key_or_slot >> 32;
    upper << 32 | upper
}

#[cfg(test)]
mod tests {
    use crate::clickids::*;
    use proptest::prelude::*;

    fn seen(at: u64, seq: u64) -> Seen {
        Seen {
            at,
            seq: NonZeroU64::new(seq),
        }
    }

    /// `check`, then `confirm` at once: what the mock does when nothing races.
    fn check_and_confirm(
        c: &ClickIds,
        tracker: &[u8],
        id: &[u8],
        now: u64,
        seq: u64,
    ) -> Option<Seen> {
        match c.check(tracker, id, now) {
            Sighting::Repeat(s) => Some(s),
            Sighting::First(ticket) => {
                c.confirm(ticket, seq);
                None
            }
        }
    }

    impl Memory {
        fn check_seq(&mut self, key: u64, now: u64, seq: u64) -> Option<Seen> {
            match self.check(key, now) {
                Sighting::Repeat(s) => Some(s),
                Sighting::First(t) => {
                    self.confirm(t, NonZeroU64::new(seq));
                    None
                }
            }
        }
    }

    #[test]
    fn repeats_within_seven_days_are_seen() {
        let c = ClickIds::new(10);
        let check = |t: &[u8], id: &[u8], now, seq| check_and_confirm(&c, t, id, now, seq);
        assert_eq!(check(b"1", b"a", 1000, 1), None);
        assert_eq!(check(b"1", b"a", 2000, 2), Some(seen(1000, 1)));
        assert_eq!(check(b"2", b"a", 2000, 3), None, "another tracker");
        assert_eq!(check(b"12", b"3", 2000, 4), None);
        assert_eq!(check(b"1", b"23", 2000, 5), None, "length-prefixed");
        assert_eq!(
            check(b"1", b"a", 1000 + WINDOW_SECS, 6),
            None,
            "the window has passed"
        );
    }

    #[test]
    fn a_sighting_still_being_recorded_has_no_number_until_confirmed() {
        let c = ClickIds::new(10);
        let Sighting::First(ticket) = c.check(b"1", b"a", 1000) else {
            panic!("new")
        };
        // A repeat racing the first request's journal write: seen, number not known yet.
        assert_eq!(
            c.check(b"1", b"a", 1000),
            Sighting::Repeat(Seen {
                at: 1000,
                seq: None
            })
        );
        c.confirm(ticket, 42);
        assert_eq!(c.check(b"1", b"a", 1001), Sighting::Repeat(seen(1000, 42)));
    }

    #[test]
    fn a_ticket_for_a_forgotten_pair_changes_nothing() {
        let c = ClickIds::new(1);
        let (Sighting::First(ticket), Sighting::First(other)) =
            (c.check(b"1", b"a", 1000), c.check(b"1", b"b", 1000))
        else {
            panic!("both new; b forgets a")
        };
        c.confirm(ticket, 7);
        c.confirm(other, 8);
        assert_eq!(c.check(b"1", b"b", 1000), Sighting::Repeat(seen(1000, 8)));
    }

    #[test]
    fn memory_is_bounded() {
        let c = ClickIds::new(3);
        for i in 0..10 {
            check_and_confirm(&c, b"1", i.to_string().as_bytes(), 1000, i + 1);
        }
        assert_eq!(c.lock().order.len(), 3);
        assert_eq!(c.lock().index.len(), 3);
        assert_eq!(c.forgotten(), 7);
        assert!(matches!(c.check(b"1", b"9", 1001), Sighting::Repeat(_)));
        assert!(
            matches!(c.check(b"1", b"0", 1001), Sighting::First(_)),
            "forgotten first"
        );
    }

    /// Keys agreeing in their upper half share a hash and a tag; only `order` tells them apart.
    #[test]
    fn keys_sharing_an_upper_half_stay_apart() {
        let mut m = Memory::new(4);
        let twin = |low: u64| 0xABCD_EF01_0000_0000 | low;
        for low in 0..10 {
            assert_eq!(m.check_seq(twin(low), 1000, low + 1), None, "pair {low}");
            assert_eq!(m.check_seq(twin(low), 1001, 100), Some(seen(1000, low + 1)));
        }
        assert_eq!(m.index.len(), 4);
        assert!(m.find(twin(5)).is_none(), "forgotten");
        assert_eq!(m.find(twin(6)).map(|r| r.first_seen), Some(seen(1000, 7)));
    }

    #[test]
    fn places_survive_the_32_bit_wrap() {
        let mut m = Memory::new(4);
        m.first = (1 << 32) - 2;
        for n in 0..10u64 {
            m.check_seq(spread(n), 1000, n + 1);
            assert_eq!(
                m.find(spread(n)).map(|r| r.first_seen),
                Some(seen(1000, n + 1))
            );
        }
        assert!(m.first > 1 << 32);
        assert_eq!(m.index.len(), 4);
    }

    #[test]
    fn expiry_frees_slots_too() {
        let mut m = Memory::new(100);
        for n in 0..50u64 {
            m.check_seq(spread(n), 1000 + n, n + 1);
        }
        m.check_seq(spread(1000), 1000 + WINDOW_SECS + 10, 1000);
        assert_eq!(m.order.len(), 40, "pairs 0..=10 expired");
        assert_eq!(m.index.len(), 40);
        assert!(m.find(spread(10)).is_none());
        assert!(m.find(spread(11)).is_some());
    }

    fn spread(n: u64) -> u64 {
        n.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    /// The plain statement of the rule: a queue searched from end to end.
    struct Reference {
        pairs: VecDeque<(u64, Seen)>,
        capacity: usize,
    }

    impl Reference {
        fn check(&mut self, key: u64, now: u64, seq: u64) -> Option<Seen> {
            self.pairs
                .retain(|(_, s)| s.at.saturating_add(WINDOW_SECS) > now);
            if let Some((_, s)) = self.pairs.iter().find(|(k, _)| *k == key) {
                return Some(*s);
            }
            if self.pairs.len() >= self.capacity {
                self.pairs.pop_front();
            }
            self.pairs.push_back((key, seen(now, seq)));
            None
        }
    }

    proptest! {
        /// Few distinct keys, some sharing an upper half, so repeats, twins, forgetting and
        /// expiry all happen within one run.
        #[test]
        fn agrees_with_a_queue_searched_end_to_end(
            capacity in 1usize..12,
            steps in prop::collection::vec((0u64..24, 0u64..WINDOW_SECS / 3), 1..300),
        ) {
            let mut m = Memory::new(capacity);
            let mut reference = Reference { pairs: VecDeque::new(), capacity };
            let mut now = 1_000;
            for (seq, (k, dt)) in steps.into_iter().enumerate() {
                now += dt;
                let key = (k % 6) << 32 | k;
                let seq = seq as u64 + 1;
                prop_assert_eq!(m.check_seq(key, now, seq), reference.check(key, now, seq));
                prop_assert_eq!(m.order.len(), reference.pairs.len());
                prop_assert_eq!(m.index.len(), m.order.len());
            }
        }
    }
}
