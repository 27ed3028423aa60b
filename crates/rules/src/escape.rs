//! Quoting user-controlled values for messages.
//!
//! Everything a diagnostic quotes (User-Agents, IPs, click ids, raw bytes) is hostile. A quoted
//! value is printable on its own: control characters, invisible and bidirectional formatting
//! characters and invalid UTF-8 come out as visible escapes, so a message is inert in a terminal
//! and a log line even before an HTML, XML or JSON renderer escapes it again for its format.

use std::fmt::Write;

/// Longest value quoted in full; longer ones keep their head and tail, since truncation bugs
/// show at the end of a value.
const MAX_QUOTED_CHARS: usize = 160;
const HEAD_CHARS: usize = 110;
const TAIL_CHARS: usize = 40;

/// Quotes `bytes` in double quotes with every unsafe character escaped, shortening long values.
pub fn quote(bytes: &[u8]) -> String {
    // Counted first, so a long value is cut by characters without holding them all.
    let count = match bytes.is_ascii() {
        true => bytes.len(),
        false => pieces(bytes).count(),
    };
    let mut out = String::with_capacity(bytes.len().min(4 * MAX_QUOTED_CHARS) + 2);
    out.push('"');
    let printable = |b: u8| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\';
    let plain = std::str::from_utf8(bytes)
        .ok()
        .filter(|text| count <= MAX_QUOTED_CHARS && text.bytes().all(printable));
    if let Some(text) = plain {
        // Nothing to escape: printable ASCII is its own quoted form.
        out.push_str(text);
        out.push('"');
    } else if count <= MAX_QUOTED_CHARS {
        pieces(bytes).for_each(|p| p.push_to(&mut out));
        out.push('"');
    } else {
        pieces(bytes)
            .take(HEAD_CHARS)
            .for_each(|p| p.push_to(&mut out));
        out.push('…');
        pieces(bytes)
            .skip(count - TAIL_CHARS)
            .for_each(|p| p.push_to(&mut out));
        let _ = write!(out, "\" ({count} characters)");
    }
    out
}

/// The characters of `bytes`, and each byte of invalid UTF-8 on its own.
fn pieces(bytes: &[u8]) -> impl Iterator<Item = Piece> + '_ {
    bytes.utf8_chunks().flat_map(|chunk| {
        let chars = chunk.valid().chars().map(Piece::Char);
        chars.chain(chunk.invalid().iter().map(|&b| Piece::Byte(b)))
    })
}

/// [`quote`] for text that is already a `str`.
pub fn quote_str(s: &str) -> String {
    quote(s.as_bytes())
}

/// Text of `bytes`, invalid UTF-8 replaced; borrowed when valid. `str::from_utf8` validates
/// ASCII far faster than `String::from_utf8_lossy`'s chunk iterator, and inputs are mostly
/// ASCII.
pub fn lossy(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// `text` with every unsafe character (see [`is_unsafe_char`]) as a visible escape (`\r`,
/// `\0`, `\u{1B}`) and nothing else changed: for values shown unquoted, in reports and
/// tables, where a raw ESC would drive a terminal and a raw NUL or CR would vanish from an
/// HTML page while still being what the partner sent. Borrowed when nothing needs escaping.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        visible_char(c, &mut out);
    }
    std::borrow::Cow::Owned(out)
}

/// True for characters that must never reach a terminal or log unescaped.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// One character of a quoted value, or one byte that is not UTF-8.
#[derive(Clone, Copy)]
enum Piece {
    Char(char),
    Byte(u8),
}

impl Piece {
    fn push_to(self, out: &mut String) {
        match self {
            Piece::Char(c) => escape_char(c, out),
            Piece::Byte(b) => {
                let _ = write!(out, "\\x{b:02X}");
            }
        }
    }
}

/// One character as [`visible`] shows it.
pub(crate) fn visible_char(c: char, out: &mut String) {
    if is_unsafe_char(c) {
        escape_char(c, out);
    } else {
        out.push(c);
    }
}

/// `c` as a quoted value shows it: quotes and backslashes escaped, unsafe characters visible.
fn escape_char(c: char, out: &mut String) {
    match c {
        '"' => out.push_str("\\\""),
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c if is_unsafe_char(c) => {
            let _ = write!(out, "\\u{{{:X}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_only_quoted() {
        assert_eq!(quote_str("Mozilla/5.0 (Linux)"), "\"Mozilla/5.0 (Linux)\"");
        assert_eq!(quote_str("Телефон"), "\"Телефон\"");
    }

    #[test]
    fn hostile_characters_become_visible_escapes() {
        let q = quote(b"a\"b\\c\r\n\t\0\x1b[31mred\xC1\xE5 \xE2\x80\xAEevil");
        assert_eq!(
            q,
            "\"a\\\"b\\\\c\\r\\n\\t\\0\\u{1B}[31mred\\xC1\\xE5 \\u{202E}evil\""
        );
        assert!(!q.chars().any(is_unsafe_char));
    }

    #[test]
    fn visible_escapes_only_what_is_unsafe() {
        assert!(matches!(
            visible("a \"b\" \\ <c>"),
            std::borrow::Cow::Borrowed(_)
        ));
        assert_eq!(
            visible("ua\u{1b}[2J\r\nX: 1\0\u{202E}"),
            "ua\\u{1B}[2J\\r\\nX: 1\\0\\u{202E}"
        );
        assert!(!visible("\u{7}\u{85}\u{2066}").chars().any(is_unsafe_char));
    }

    #[test]
    fn long_values_keep_head_and_tail() {
        let ua = format!("{}TAIL", "x".repeat(600));
        let q = quote_str(&ua);
        assert!(q.starts_with("\"xxx"));
        assert!(q.contains("xTAIL\" (604 characters)"), "{q}");
        assert!(q.chars().count() < 200);
    }

    /// Undoes [`quote`] on a value it did not shorten.
    fn unquote(q: &str) -> Vec<u8> {
        let inner = &q[1..q.len() - 1];
        let mut out = Vec::new();
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                continue;
            }
            match chars.next() {
                Some('n') => out.push(b'\n'),
                Some('r') => out.push(b'\r'),
                Some('t') => out.push(b'\t'),
                Some('0') => out.push(0),
                Some('x') => {
                    let hex: String = chars.by_ref().take(2).collect();
                    out.push(u8::from_str_radix(&hex, 16).expect("hex"));
                }
                Some('u') => {
                    let hex: String = chars.by_ref().skip(1).take_while(|&c| c != '}').collect();
                    let c =
                        char::from_u32(u32::from_str_radix(&hex, 16).expect("hex")).expect("char");
                    out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                }
                Some(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                None => panic!("a lone backslash in {q}"),
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn quoted_values_are_inert_and_exact(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let q = quote(&bytes);
            proptest::prop_assert!(q.starts_with('"'));
            proptest::prop_assert!(!q.chars().any(is_unsafe_char), "{q}");
            let shown = bytes.utf8_chunks().map(|c| c.valid().chars().count() + c.invalid().len()).sum::<usize>();
            if shown <= MAX_QUOTED_CHARS {
                proptest::prop_assert_eq!(unquote(&q), bytes);
            } else {
                let suffix = format!(" ({shown} characters)");
                proptest::prop_assert!(q.ends_with(&suffix), "{}", q);
            }
        }
    }
}
