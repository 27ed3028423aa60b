//! Decoded User-Agent values and their verdicts, remembered by their raw text.
//!
//! A UA is the longest and most escape-dense value of a click: decoding and classifying it
//! are the largest costs of validating a clean request, and real traffic repeats a few
//! thousand UAs. Keyed by the raw text, one lookup (one hash of the UA) finds both.
//! Purely a cache: a miss decodes and classifies as usual, so what is found never depends
//! on it.
//!
//! A UA is kept only on its second sighting within the last `capacity` first sightings: a day
//! of logs has a long tail of UAs seen once or rarely, and copying each into the cache only to
//! free it cold a few thousand lines later costs more than it saves. The first sightings are
//! remembered as bare hashes (the doorkeeper), no more of them than the cache holds UAs, so
//! that a UA must come back soon to be kept: the hot ones do, a long tail of rare ones does
//! not, and on such a tail the cache costs next to nothing.

use super::view::Value;
use crate::ua_class::{classify_ua, UaClass, MAX_CACHED_UA_BYTES};
use hashbrown::{HashSet, HashTable};
use std::hash::BuildHasher;

/// Seeded per process: the text is the client's, so the cache must not be open to hash
/// flooding.
type Hasher = foldhash::fast::RandomState;

#[derive(Debug)]
pub(crate) struct DecodedValues {
    table: HashTable<Remembered>,
    /// Hashes of UAs seen once, bounded like the table.
    doorkeeper: HashSet<u64, foldhash::fast::FixedState>,
    hasher: Hasher,
    capacity: usize,
}

#[derive(Debug)]
struct Remembered {
    raw: Box<[u8]>,
    hash: u64,
    value: Value<'static>,
    /// `None` when the decoded bytes are not UTF-8, which no UA rule classifies.
    class: Option<UaClass>,
}

impl DecodedValues {
    /// Remembers up to `capacity` values; 0 remembers none.
    pub(crate) fn new(capacity: usize) -> DecodedValues {
        DecodedValues {
            table: HashTable::new(),
            doorkeeper: HashSet::default(),
            hasher: Hasher::default(),
            capacity,
        }
    }

    /// Decodes and classifies `raw` into the cache when it is seen the second time.
    pub(crate) fn remember(&mut self, raw: &[u8]) {
        // Escaped, a UA is up to three times its length.
        let too_long = raw.len() > 3 * MAX_CACHED_UA_BYTES;
        if self.capacity == 0 || too_long {
            return;
        }
        let hash = self.hasher.hash_one(raw);
        if self.find(hash, raw).is_some() {
            return;
        }
        // Both bounded by dropping everything: crude but cheap, and the hot UAs come back at
        // once. A second sighting leaves the doorkeeper for the cache.
        if !self.doorkeeper.remove(&hash) {
            if self.doorkeeper.len() >= self.capacity {
                self.doorkeeper.clear();
            }
            self.doorkeeper.insert(hash);
            return;
        }
        if self.table.len() >= self.capacity {
            self.table.clear();
        }
        let value = Value::decode(raw).into_owned();
        let class = value.text().map(classify_ua);
        self.table.insert_unique(
            hash,
            Remembered {
                raw: raw.into(),
                hash,
                value,
                class,
            },
            |r| r.hash,
        );
    }

    fn find(&self, hash: u64, raw: &[u8]) -> Option<&Remembered> {
        self.table.find(hash, |r| *r.raw == *raw)
    }

    /// `raw` decoded, with its verdicts when remembered: borrowed from the cache when it is
    /// there, decoded now (and left unclassified) otherwise.
    pub(crate) fn decode<'a>(&'a self, raw: &'a [u8]) -> (Value<'a>, Option<&'a UaClass>) {
        let hit = (!self.table.is_empty())
            .then(|| self.find(self.hasher.hash_one(raw), raw))
            .flatten();
        match hit {
            Some(r) => (r.value.borrowed(), r.class.as_ref()),
            None => (Value::decode(raw), None),
        }
    }
}

#[cfg(test)]
mod tests {
    // Absolute paths: this module's items, named from the crate root.
    use crate::checks::memo::DecodedValues;
    use crate::checks::view::Value;
    use crate::ua_class::{classify_ua, MAX_CACHED_UA_BYTES};

    #[test]
    fn a_remembered_value_decodes_as_a_fresh_one() {
        let mut memo = DecodedValues::new(2);
        for raw in [&b"a%20b+c"[..], b"%ZZ%C3%28", b"plain", b"a%20b+c"] {
            memo.remember(raw);
            memo.remember(raw);
            let ((cached, class), fresh) = (memo.decode(raw), Value::decode(raw));
            assert_eq!(class, fresh.text().map(classify_ua).as_ref());
            assert_eq!(cached.decoded, fresh.decoded);
            assert_eq!(
                (cached.bad_escape, cached.marks),
                (fresh.bad_escape, fresh.marks)
            );
            assert!(memo.table.len() <= 2);
        }
    }

    #[test]
    fn values_longer_than_a_real_ua_are_decoded_but_not_kept() {
        let mut memo = DecodedValues::new(8);
        let long = "%41".repeat(MAX_CACHED_UA_BYTES + 1);
        memo.remember(long.as_bytes());
        memo.remember(long.as_bytes());
        assert!(memo.table.is_empty());
        let (value, class) = memo.decode(long.as_bytes());
        assert_eq!(value.bytes().len(), MAX_CACHED_UA_BYTES + 1);
        assert_eq!(class, None, "left for the classifier");
    }

    #[test]
    fn a_ua_is_kept_on_its_second_sighting() {
        let mut memo = DecodedValues::new(8);
        memo.remember(b"Once%2F1.0");
        assert!(memo.table.is_empty(), "seen once: not copied");
        assert_eq!(memo.decode(b"Once%2F1.0").1, None);
        memo.remember(b"Once%2F1.0");
        assert_eq!(memo.table.len(), 1);
        assert!(
            memo.decode(b"Once%2F1.0").1.is_some(),
            "remembered with its verdicts"
        );
    }

    #[test]
    fn a_ua_back_only_after_many_others_is_not_kept() {
        let mut memo = DecodedValues::new(4);
        memo.remember(b"Rare%2F1.0");
        for i in 0..8 {
            memo.remember(format!("Other%2F{i}").as_bytes());
        }
        memo.remember(b"Rare%2F1.0");
        assert!(memo.table.is_empty(), "a long tail is not copied in");
        memo.remember(b"Hot%2F1.0");
        memo.remember(b"Other%2F7");
        memo.remember(b"Hot%2F1.0");
        assert_eq!(memo.table.len(), 2, "UAs back soon are kept");
    }

    #[test]
    fn capacity_zero_remembers_nothing() {
        let mut memo = DecodedValues::new(0);
        memo.remember(b"a%20b");
        memo.remember(b"a%20b");
        assert!(memo.table.is_empty());
        assert_eq!(memo.decode(b"a%20b").0.text(), Some("a b"));
    }
}
