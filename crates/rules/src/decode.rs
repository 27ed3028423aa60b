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
    let special = |hay: &[u8]| {
        if plus_as_space {
            memchr::memchr2(b'%', b'+', hay)
        } else {
            memchr::memchr(b'%', hay)
        }
    };
    let Some(first) = special(raw) else {
        return Decoded {
            bytes: Cow::Borrowed(raw),
            bad_escape: None,
        };
    };
    // Decoding only shrinks: write into a buffer of the raw length, then cut it to size.
    let mut out = vec![0u8; raw.len()];
    out[..first].copy_from_slice(&raw[..first]);
    let mut bad_escape = None;
    let (mut i, mut o) = (first, first);
    while i < raw.len() {
        let b = raw[i];
        let decoded = match b {
            b'%' => match (raw.get(i + 1).and_then(hex), raw.get(i + 2).and_then(hex)) {
                (Some(h), Some(l)) => {
                    i += 3;
                    h << 4 | l
                }
                _ => {
                    bad_escape.get_or_insert(i);
                    i += 1;
                    b'%'
                }
            },
            b'+' if plus_as_space => {
                i += 1;
                b' '
            }
            _ => {
                i += 1;
                b
            }
        };
        out[o] = decoded;
        o += 1;
    }
    out.truncate(o);
    Decoded {
        bytes: Cow::Owned(out),
        bad_escape,
    }
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
    fn broken_escapes_are_kept_and_located() {
        let d = percent_decode(b"ab%2x%zz%4", true);
        assert_eq!(d.as_str(), Some("ab%2x%zz%4"));
        assert_eq!(d.bad_escape, Some(2));
    }
}
