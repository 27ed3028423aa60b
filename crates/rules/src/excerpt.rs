//! An escaped excerpt of an input around the bytes a diagnostic points at, and where those
//! bytes sit in it: what `lint`'s text output and the mock's dashboard mark.

use crate::escape::visible_char;
use crate::span::Span;

/// Characters shown before and after the marked bytes by default.
pub const CONTEXT_BEFORE: usize = 40;
pub const CONTEXT_AFTER: usize = 24;

/// `text` is printable whatever the input held (control characters as visible escapes,
/// invalid UTF-8 as `\xNN`); the marked bytes are the characters `mark_start ..
/// mark_start + mark_width` of it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Excerpt {
    pub text: String,
    pub mark_start: usize,
    pub mark_width: usize,
}

/// The input around `span`, `before` and `after` characters either side; `…` where it is cut.
pub fn excerpt(input: &[u8], span: Span, before: usize, after: usize) -> Excerpt {
    // Each shown piece remembers its byte offset, so spans map onto escaped text.
    let mut pieces: Vec<(usize, String)> = Vec::new();
    let mut offset = 0;
    for chunk in input.utf8_chunks() {
        for c in chunk.valid().chars() {
            let mut shown = String::new();
            visible_char(c, &mut shown);
            pieces.push((offset, shown));
            offset += c.len_utf8();
        }
        for b in chunk.invalid() {
            pieces.push((offset, format!("\\x{b:02X}")));
            offset += 1;
        }
    }
    let first = pieces
        .iter()
        .position(|(o, _)| *o >= span.start)
        .unwrap_or(pieces.len());
    let last = pieces
        .iter()
        .position(|(o, _)| *o >= span.end)
        .unwrap_or(pieces.len());
    let from = first.saturating_sub(before);
    let to = (last + after).min(pieces.len());
    let mut text = String::new();
    if from > 0 {
        text.push('…');
    }
    let mut mark_start = usize::from(from > 0);
    let mut mark_width = 0;
    for (i, (_, s)) in pieces[from..to].iter().enumerate() {
        let n = s.chars().count();
        if from + i < first {
            mark_start += n;
        } else if from + i < last {
            mark_width += n;
        }
        text.push_str(s);
    }
    if to < pieces.len() {
        text.push('…');
    }
    Excerpt {
        text,
        mark_start,
        mark_width,
    }
}

#[cfg(test)]
mod tests {
    use crate::excerpt::excerpt;
    use crate::span::Span;

    fn marked(e: &crate::excerpt::Excerpt) -> String {
        e.text
            .chars()
            .skip(e.mark_start)
            .take(e.mark_width)
            .collect()
    }

    #[test]
    fn the_mark_sits_on_the_span() {
        let input = b"/serve/1?device_ip=203.0.113.7:51234&x=1";
        let start = input.iter().position(|&b| b == b':').expect("colon");
        let e = excerpt(input, Span::new(start, start + 6), 40, 24);
        assert_eq!(marked(&e), ":51234");
    }

    #[test]
    fn hostile_bytes_are_shown_escaped_and_the_mark_holds() {
        let input = b"/serve/1?device_ua=\x1b[2J\xC1&device_ip=1.2.3.4:5";
        let start = input.len() - 2;
        let e = excerpt(input, Span::new(start, input.len()), 40, 24);
        assert!(!e.text.contains('\x1b'));
        assert!(e.text.contains("\\u{1B}[2J\\xC1"));
        assert_eq!(marked(&e), ":5");
    }

    #[test]
    fn long_inputs_are_cut_with_an_ellipsis_and_the_mark_counts_it() {
        let input = format!("{}MARK{}", "a".repeat(100), "b".repeat(100));
        let e = excerpt(input.as_bytes(), Span::new(100, 104), 10, 5);
        assert!(e.text.starts_with('…') && e.text.ends_with('…'));
        assert_eq!(marked(&e), "MARK");
    }
}
