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
    let mut out = Vec::with_capacity(raw.len());
    let mut bad_escape = None;
    let mut i = first;
    out.extend_from_slice(&raw[..i]);
    while i < raw.len() {
        match raw[i] {
            b'%' => match (raw.get(i + 1).and_then(hex), raw.get(i + 2).and_then(hex)) {
                (Some(hi), Some(lo)) => {
                    out.push(hi << 4 | lo);
                    i += 3;
                }
                _ => {
                    bad_escape.get_or_insert(i);
                    out.push(b'%');
                    i += 1;
                }
            },
            b'+' if plus_as_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    Decoded {
        bytes: Cow::Owned(out),
        bad_escape,
    }
}

pub(crate) fn hex(b: &u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
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
