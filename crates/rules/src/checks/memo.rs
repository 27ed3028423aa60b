//! Decoded User-Agent values and their verdicts, remembered by their raw text.
//!
//! A UA is the longest and most escape-dense value of a click: decoding and classifying it
//! are the largest costs of validating a clean request, and real traffic repeats a few
//! thousand UAs. Keyed by the raw text, one lookup (one hash of the UA) finds both.
//! Purely a cache: a miss decodes and classifies as usual, so what is found never depends
//! on it.

use super::view::Value;
use crate::ua_class::{classify_ua, UaClass, MAX_CACHED_UA_BYTES};
use std::collections::HashMap;

/// Seeded per process: the text is the client's, so the map must not be open to hash
/// flooding.
type Hasher = foldhash::fast::RandomState;

#[derive(Debug)]
pub(crate) struct DecodedValues {
    map: HashMap<Box<[u8]>, Remembered, Hasher>,
    capacity: usize,
}

#[derive(Debug)]
struct Remembered {
    value: Value<'static>,
    /// `None` when the decoded bytes are not UTF-8, which no UA rule classifies.
    class: Option<UaClass>,
}

impl DecodedValues {
    /// Remembers up to `capacity` values; 0 remembers none.
    pub(crate) fn new(capacity: usize) -> DecodedValues {
        DecodedValues {
            map: HashMap::with_hasher(Hasher::default()),
            capacity,
        }
    }

    /// Decodes and classifies `raw` into the cache unless it is there already.
    pub(crate) fn remember(&mut self, raw: &[u8]) {
        // Escaped, a UA is up to three times its length.
        let too_long = raw.len() > 3 * MAX_CACHED_UA_BYTES;
        if self.capacity == 0 || too_long || self.map.contains_key(raw) {
            return;
        }
        // Dropping everything is crude but bounded and cheap: the hot UAs come back at once.
        if self.map.len() >= self.capacity {
            self.map.clear();
        }
        let value = Value::decode(raw).into_owned();
        let class = value.text().map(classify_ua);
        self.map.insert(raw.into(), Remembered { value, class });
    }

    /// `raw` decoded, with its verdicts when remembered: borrowed from the cache when it is
    /// there, decoded now (and left unclassified) otherwise.
    pub(crate) fn decode<'a>(&'a self, raw: &'a [u8]) -> (Value<'a>, Option<&'a UaClass>) {
        match self.map.get(raw) {
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
            let ((cached, class), fresh) = (memo.decode(raw), Value::decode(raw));
            assert_eq!(class, fresh.text().map(classify_ua).as_ref());
            assert_eq!(cached.decoded, fresh.decoded);
            assert_eq!(
                (cached.bad_escape, cached.marks),
                (fresh.bad_escape, fresh.marks)
            );
            assert!(memo.map.len() <= 2);
        }
    }

    #[test]
    fn values_longer_than_a_real_ua_are_decoded_but_not_kept() {
        let mut memo = DecodedValues::new(8);
        let long = "%41".repeat(MAX_CACHED_UA_BYTES + 1);
        memo.remember(long.as_bytes());
        assert!(memo.map.is_empty());
        let (value, class) = memo.decode(long.as_bytes());
        assert_eq!(value.bytes().len(), MAX_CACHED_UA_BYTES + 1);
        assert_eq!(class, None, "left for the classifier");
    }

    #[test]
    fn capacity_zero_remembers_nothing() {
        let mut memo = DecodedValues::new(0);
        memo.remember(b"a%20b");
        assert!(memo.map.is_empty());
        assert_eq!(memo.decode(b"a%20b").0.text(), Some("a b"));
    }
}
