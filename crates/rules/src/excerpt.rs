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
    // The whole input shown once; for each input character, where it starts in the input, and
    // in the shown text (bytes and characters), so spans map onto escaped text.
    let mut shown = String::with_capacity(input.len() + 16);
    let mut at: Vec<Place> = Vec::with_capacity(input.len());
    let mut offset = 0;
    let mut chars = 0;
    for chunk in input.utf8_chunks() {
        for c in chunk.valid().chars() {
            let (text_byte, before_len) = (shown.len(), shown.len());
            visible_char(c, &mut shown);
            at.push(Place {
                input: offset,
                text_byte,
                text_char: chars,
            });
            chars += if c.len_utf8() == shown.len() - before_len {
                1
            } else {
                shown[before_len..].chars().count()
            };
            offset += c.len_utf8();
        }
        for b in chunk.invalid() {
            at.push(Place {
                input: offset,
                text_byte: shown.len(),
                text_char: chars,
            });
            let _ = std::fmt::Write::write_fmt(&mut shown, format_args!("\\x{b:02X}"));
            chars += 4;
            offset += 1;
        }
    }
    let end = Place {
        input: offset,
        text_byte: shown.len(),
        text_char: chars,
    };
    let place = |i: usize| at.get(i).copied().unwrap_or(end);
    let first = at.partition_point(|p| p.input < span.start);
    let last = at.partition_point(|p| p.input < span.end);
    let from = first.saturating_sub(before);
    let to = (last + after).min(at.len());
    let cut_front = from > 0;
    let mut text = String::with_capacity(place(to).text_byte - place(from).text_byte + 8);
    if cut_front {
        text.push('…');
    }
    text.push_str(&shown[place(from).text_byte..place(to).text_byte]);
    if to < at.len() {
        text.push('…');
    }
    Excerpt {
        text,
        mark_start: usize::from(cut_front) + place(first).text_char - place(from).text_char,
        mark_width: place(last).text_char - place(first).text_char,
    }
}

/// Where one input character begins, in the input and in the shown text.
#[derive(Clone, Copy)]
struct Place {
    input: usize,
    text_byte: usize,
    text_char: usize,
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
    fn escapes_and_multibyte_characters_keep_the_mark_aligned() {
        let input = "/s?ua=Тел\u{1b}\x00é&ip=1.2.3.4:5".as_bytes();
        let start = input.len() - 2;
        let e = excerpt(input, Span::new(start, input.len()), 40, 24);
        assert_eq!(marked(&e), ":5");
        let mut bad = b"a\xFF\xFEb".to_vec();
        bad.extend_from_slice(b"XY");
        let e = excerpt(&bad, Span::new(4, 6), 40, 24);
        assert_eq!(e.text, "a\\xFF\\xFEbXY");
        assert_eq!(marked(&e), "XY");
        let e = excerpt(b"abc", Span::new(3, 3), 40, 24);
        assert_eq!((e.mark_start, e.mark_width), (3, 0));
    }

    #[test]
    fn long_inputs_are_cut_with_an_ellipsis_and_the_mark_counts_it() {
        let input = format!("{}MARK{}", "a".repeat(100), "b".repeat(100));
        let e = excerpt(input.as_bytes(), Span::new(100, 104), 10, 5);
        assert!(e.text.starts_with('…') && e.text.ends_with('…'));
        assert_eq!(marked(&e), "MARK");
    }
}
