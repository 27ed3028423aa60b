//! Percent-decoding that reports what lenient decoders hide.
//!
//! `form_urlencoded` and `serde_urlencoded` pass a broken escape through silently; the linter
//! has to see it, so decoding here notes the first one and otherwise decodes the same way.

use std::borrow::Cow;

/// A decoded query component.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub bytes: Cow<'a, [u8]>,
    /// Offset in the raw text of the first `%` not followed by two hex digits; such a `%` is
    /// kept literally, as browsers and most servers do.
    pub bad_escape: Option<usize>,
}

impl Decoded<'_> {
    /// The decoded text, when it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }
}

/// Decodes `%XX` escapes, and `+` as a space when `plus_as_space` (query strings).
pub fn percent_decode(raw: &[u8], plus_as_space: bool) -> Decoded<'_> {
    static NO_FLAGS: ByteClasses = ByteClasses::flagging(&[false; 256]);
    decode_marked(raw, plus_as_space, &NO_FLAGS).0
}

/// What one decoding pass noticed about the raw text, so the encoding checks need no passes
/// of their own over values that are nearly all clean.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Marks {
    /// Offset of the first byte sent raw (not inside a `%XX` escape) that the caller's table
    /// flags.
    pub flagged: Option<usize>,
    /// Offset of the first raw `+`.
    pub plus: Option<usize>,
    /// Some escape decoded to `%` (`%25`): the value may have been encoded twice.
    pub escaped_percent: bool,
    /// Some escape decoded to a space (`%20`).
    pub escaped_space: bool,
}

/// What decoding does with each raw byte: one table lookup per byte decides it.
pub(crate) struct ByteClasses([u8; 256]);

const PLAIN: u8 = 0;
const FLAGGED: u8 = 1;
const PERCENT: u8 = 2;
const PLUS: u8 = 3;

impl ByteClasses {
    /// Classes that flag the bytes `flag` marks (`%` and `+` have classes of their own).
    pub(crate) const fn flagging(flag: &[bool; 256]) -> ByteClasses {
        let mut t = [PLAIN; 256];
        let mut b = 0;
        while b < 256 {
            if flag[b] {
                t[b] = FLAGGED;
            }
            b += 1;
        }
        t[b'%' as usize] = PERCENT;
        t[b'+' as usize] = PLUS;
        ByteClasses(t)
    }
}

/// [`percent_decode`], also noting in [`Marks`] the first raw byte that `classes` flags.
///
/// A value with nothing to decode is borrowed. Once a byte decodes to something else, the
/// rest is written byte by byte into a buffer of the raw length (decoding only shrinks):
/// escapes in a UA come every few bytes, and copying each short run on its own costs more
/// than the bytes themselves.
pub(crate) fn decode_marked<'a>(
    raw: &'a [u8],
    plus_as_space: bool,
    classes: &ByteClasses,
) -> (Decoded<'a>, Marks) {
    let mut marks = Marks::default();
    let mut bad_escape = None;
    // The decoded bytes so far (`out[..written]`), from the first byte that decoded to
    // something else; empty until then.
    let mut out = Vec::new();
    let mut written = 0;
    let mut i = 0;
    loop {
        // Most bytes are plain: a loop of their own, without the dispatch below.
        if out.is_empty() {
            while raw
                .get(i)
                .is_some_and(|&b| classes.0[usize::from(b)] == PLAIN)
            {
                i += 1;
            }
        } else {
            while let Some(&b) = raw.get(i).filter(|&&b| classes.0[usize::from(b)] == PLAIN) {
                out[written] = b;
                written += 1;
                i += 1;
            }
        }
        let Some(&b) = raw.get(i) else { break };
        let (byte, width) = match classes.0[usize::from(b)] {
            FLAGGED => {
                marks.flagged.get_or_insert(i);
                (b, 1)
            }
            PERCENT => match (raw.get(i + 1).and_then(hex), raw.get(i + 2).and_then(hex)) {
                (Some(h), Some(l)) => {
                    let d = h << 4 | l;
                    marks.escaped_percent |= d == b'%';
                    marks.escaped_space |= d == b' ';
                    (d, 3)
                }
                // Kept literally, as browsers and most servers do.
                _ => {
                    bad_escape.get_or_insert(i);
                    (b, 1)
                }
            },
            _ => {
                marks.plus.get_or_insert(i);
                (if plus_as_space { b' ' } else { b }, 1)
            }
        };
        if out.is_empty() && (width > 1 || byte != b) {
            out = vec![0; raw.len()];
            out[..i].copy_from_slice(&raw[..i]);
            written = i;
        }
        if !out.is_empty() {
            out[written] = byte;
            written += 1;
        }
        i += width;
    }
    let bytes = if out.is_empty() {
        Cow::Borrowed(raw)
    } else {
        out.truncate(written);
        Cow::Owned(out)
    };
    (Decoded { bytes, bad_escape }, marks)
}

/// Hex digit values, 16 for every other byte.
const HEX: [u8; 256] = {
    let mut t = [16u8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

pub(crate) fn hex(b: &u8) -> Option<u8> {
    let v = HEX[usize::from(*b)];
    (v < 16).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_values_are_borrowed() {
        let d = percent_decode(b"203.0.113.7", true);
        assert!(matches!(d.bytes, Cow::Borrowed(_)));
    }

    #[test]
    fn escapes_and_plus_decode() {
        let d = percent_decode(b"a%20b+c%2Bd%e2%82%ac", true);
        assert_eq!(d.as_str(), Some("a b c+d€"));
        assert_eq!(d.bad_escape, None);
        assert_eq!(percent_decode(b"a+b", false).as_str(), Some("a+b"));
    }

    #[test]
    fn marks_point_into_the_raw_text() {
        let mut flag = [false; 256];
        flag[usize::from(b'"')] = true;
        let flag = ByteClasses::flagging(&flag);
        let (d, m) = decode_marked(b"a%20b+c%25\"d\"", true, &flag);
        assert_eq!(d.as_str(), Some("a b c%\"d\""));
        assert_eq!(m.flagged, Some(10));
        assert_eq!(m.plus, Some(5));
        assert!(m.escaped_percent && m.escaped_space);
        // Escaped bytes are not raw: %22 is a quote, but not a flagged one.
        let (_, m) = decode_marked(b"%22x", true, &flag);
        assert_eq!(m.flagged, None);
        // Values with nothing to decode are still scanned, and borrowed.
        let (d, m) = decode_marked(b"ab\"", true, &flag);
        assert!(matches!(d.bytes, Cow::Borrowed(_)));
        assert_eq!(
            m,
            Marks {
                flagged: Some(2),
                ..Marks::default()
            }
        );
        let (d, m) = decode_marked(b"a+b\"%41", false, &flag);
        assert_eq!(d.as_str(), Some("a+b\"A"));
        assert_eq!((m.plus, m.flagged), (Some(1), Some(3)));
    }

    #[test]
    fn broken_escapes_are_kept_and_located() {
        let d = percent_decode(b"ab%2x%zz%4", true);
        assert_eq!(d.as_str(), Some("ab%2x%zz%4"));
        assert_eq!(d.bad_escape, Some(2));
    }

    /// The obvious byte-at-a-time decoder and scans, for the fast one to agree with.
    fn reference(raw: &[u8], plus: bool, flag: &[bool; 256]) -> (Vec<u8>, Option<usize>, Marks) {
        let (mut out, mut bad, mut marks, mut i) = (Vec::new(), None, Marks::default(), 0);
        while i < raw.len() {
            let escape = raw.get(i + 1..i + 3).and_then(|h| {
                let h = std::str::from_utf8(h).ok()?;
                u8::from_str_radix(h, 16)
                    .ok()
                    .filter(|_| !h.starts_with('+'))
            });
            match (raw[i], escape) {
                (b'%', Some(d)) => {
                    marks.escaped_percent |= d == b'%';
                    marks.escaped_space |= d == b' ';
                    out.push(d);
                    i += 3;
                    continue;
                }
                (b'%', None) => {
                    bad.get_or_insert(i);
                }
                (b'+', _) => {
                    marks.plus.get_or_insert(i);
                }
                (b, _) if flag[usize::from(b)] => {
                    marks.flagged.get_or_insert(i);
                }
                _ => {}
            }
            out.push(if raw[i] == b'+' && plus { b' ' } else { raw[i] });
            i += 1;
        }
        (out, bad, marks)
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_byte_at_a_time_decoder(
            raw in proptest::collection::vec(proptest::sample::select(b"%+2aF0g \"\xff\x00x".to_vec()), 0..40),
            plus in proptest::bool::ANY,
        ) {
            let mut flag = [false; 256];
            for b in [b' ', b'"', 0xFF, 0x00] {
                flag[usize::from(b)] = true;
            }
            let (decoded, marks) = decode_marked(&raw, plus, &ByteClasses::flagging(&flag));
            let (out, bad, want) = reference(&raw, plus, &flag);
            proptest::prop_assert_eq!(decoded.bytes.as_ref(), &out[..]);
            proptest::prop_assert_eq!(decoded.bad_escape, bad);
            proptest::prop_assert_eq!(marks, want);
        }

        #[test]
        fn percent_decode_agrees_with_the_byte_at_a_time_decoder(
            raw in proptest::collection::vec(proptest::sample::select(b"%+2aF0g x\xff".to_vec()), 0..40),
            plus in proptest::bool::ANY,
        ) {
            let decoded = percent_decode(&raw, plus);
            let (out, bad, _) = reference(&raw, plus, &[false; 256]);
            proptest::prop_assert_eq!(decoded.bytes.as_ref(), &out[..]);
            proptest::prop_assert_eq!(decoded.bad_escape, bad);
        }
    }
}
