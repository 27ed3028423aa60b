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
    let mut escaped = Vec::new();
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            escaped.push(escape_char(c));
        }
        for b in chunk.invalid() {
            escaped.push(Piece::Text(format!("\\x{b:02X}")));
        }
    }
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    if escaped.len() <= MAX_QUOTED_CHARS {
        escaped.iter().for_each(|p| p.push_to(&mut out));
        out.push('"');
    } else {
        escaped[..HEAD_CHARS]
            .iter()
            .for_each(|p| p.push_to(&mut out));
        out.push('…');
        escaped[escaped.len() - TAIL_CHARS..]
            .iter()
            .for_each(|p| p.push_to(&mut out));
        let _ = write!(out, "\" ({} characters)", escaped.len());
    }
    out
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
        if is_unsafe_char(c) {
            escape_char(c).push_to(&mut out);
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// True for characters that must never reach a terminal or log unescaped.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

enum Piece {
    Char(char),
    Text(String),
}

impl Piece {
    fn push_to(&self, out: &mut String) {
        match self {
            Piece::Char(c) => out.push(*c),
            Piece::Text(t) => out.push_str(t),
        }
    }
}

/// One character as [`visible`] shows it.
pub(crate) fn visible_char(c: char, out: &mut String) {
    if is_unsafe_char(c) {
        escape_char(c).push_to(out);
    } else {
        out.push(c);
    }
}

fn escape_char(c: char) -> Piece {
    match c {
        '"' => Piece::Text("\\\"".into()),
        '\\' => Piece::Text("\\\\".into()),
        '\n' => Piece::Text("\\n".into()),
        '\r' => Piece::Text("\\r".into()),
        '\t' => Piece::Text("\\t".into()),
        '\0' => Piece::Text("\\0".into()),
        c if is_unsafe_char(c) => Piece::Text(format!("\\u{{{:X}}}", c as u32)),
        c => Piece::Char(c),
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
}
