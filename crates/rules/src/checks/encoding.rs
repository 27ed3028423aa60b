//! How each value was encoded, and whether it is data at all: broken escapes, non-UTF-8
//! bytes, double encoding, raw characters, `+` mixed with `%20`, unfilled macros and the text
//! an empty variable prints.

use super::bytes::needs_escape;
use super::macros::{bare_word, is_valuetrack, macro_name, raw_macro_name, Reach};
use super::view::{Found, Scope};
use crate::catalogue::Code;
use crate::decode::hex;
use crate::diagnostic::Draft;
use crate::span::Span;

pub(super) fn check(scope: &mut Scope<'_, '_>, out: &mut Found) {
    let input = scope.req.input;
    for view in &mut scope.params {
        let Some(value) = &view.value else { continue };
        let span = view.value_span();
        let raw = span.of(input);
        let param = view.key.as_ref();

        // A placeholder is the one cause, whatever else its raw form breaks: `%UA%` is also a
        // broken escape, `{ip}` also unencoded braces, `%DEVICE_ID%` not even UTF-8 once
        // decoded. Looked for as sent, then decoded (`%7Bip%7D`).
        let reach = if view.kind.canonical() == Some("device_ua") {
            Reach::Whole
        } else {
            Reach::Anywhere
        };
        let text = value.text();
        // A value with nothing to decode is its raw form: looked at once. Compared, not told
        // by the Cow: a remembered UA is borrowed from the cache, decoded or not.
        let decoded = text.filter(|t| t.as_bytes() != raw);
        let placeholder = raw_macro_name(raw, reach)
            .or_else(|| decoded.and_then(|t| macro_name(t, reach)))
            .or_else(|| {
                // A User-Agent that is a bare word is `ua-not-a-user-agent`'s to name.
                (reach == Reach::Anywhere)
                    .then(|| {
                        text.and_then(|t| bare_word(t, view.kind.canonical().unwrap_or(param)))
                    })
                    .flatten()
            });
        if let Some(name) = placeholder {
            out.push(
                Draft::new(Code::UnsubstitutedMacro)
                    .param(param)
                    .value(text.map_or(raw, str::as_bytes))
                    .span(span)
                    .arg("name", name)
                    .arg("fix", macro_fix(name)),
            );
            view.not_data = true;
            continue;
        }
        if let Some(off) = value.bad_escape {
            let esc_end = (off + 3).min(raw.len());
            out.push(
                Draft::new(Code::InvalidPercentEncoding)
                    .param(param)
                    .value(raw)
                    .quoted("escape", &raw[off..esc_end])
                    .span(Span::new(span.start + off, span.start + esc_end)),
            );
        }
        if let Some(off) = value.marks.flagged {
            out.push(
                unencoded(param, raw, off).span(Span::new(span.start + off, span.start + off + 1)),
            );
        }
        let Some(text) = text else {
            out.push(invalid_utf8(param, raw, value.bytes()).span(span));
            view.spoiled = true;
            continue;
        };
        if let Some(accident) = Accident::of(text) {
            out.push(
                Draft::new(Code::PlaceholderValue)
                    .param(param)
                    .value(text.as_bytes())
                    .arg("cause", accident.cause())
                    .arg("fix", accident.fix(param))
                    .span(span),
            );
            view.not_data = true;
            continue;
        }
        let strict = matches!(view.kind.canonical(), Some("device_ip" | "click_timestamp"));
        // Only an escaped '%' (%25) can leave an escape behind after one decoding.
        let twice = value
            .marks
            .escaped_percent
            .then(|| double_escape(text.as_bytes(), strict))
            .flatten();
        if let Some(off) = twice {
            out.push(
                Draft::new(Code::DoubleEncoded)
                    .param(param)
                    .value(raw)
                    .quoted("escape", &text.as_bytes()[off..off + 3])
                    .span(span),
            );
            view.spoiled = true;
        }
        if view.kind.canonical() == Some("device_ua") {
            let plus = value.marks.plus.filter(|_| value.marks.escaped_space);
            if let Some(plus) = plus {
                out.push(
                    Draft::new(Code::AmbiguousPlus)
                        .value(raw)
                        .span(Span::new(span.start + plus, span.start + plus + 1)),
                );
            }
        }
    }
    if let Some(frag) = scope.req.fragment {
        let hash = Span::new(frag.start - 1, frag.start);
        let cut = scope
            .params
            .last()
            .filter(|p| p.raw.span().end == hash.start);
        // A User-Agent cut here is reported as such (ua-cut-by-separator): one cause.
        let ua_cut = cut.is_some_and(|p| {
            p.kind.canonical() == Some("device_ua") && p.usable().is_some_and(|t| !t.is_empty())
        });
        if ua_cut {
            return;
        }
        // Quote what was meant to be sent: the cut value, the '#' and what followed it.
        let meant = Span::new(cut.map_or(hash.start, |p| p.value_span().start), frag.end);
        let mut d = Draft::new(Code::UnencodedCharacter)
            .arg("what", "'#'")
            .quoted("value", meant.of(input))
            .arg(
                "consequence",
                format!(
                    "a raw '#' starts the URL fragment, so everything after it ({}) is never sent: encode it as %23",
                    crate::escape::quote(frag.of(input))
                ),
            )
            .span(hash);
        if let Some(p) = cut {
            d = d.param(&p.key);
        }
        out.push(d);
    }
}

/// What left a placeholder of this form unfilled, and what to do about it.
fn macro_fix(name: &str) -> &'static str {
    if name.starts_with('%') || name.bytes().all(|b| b.is_ascii_digit()) {
        "the URL was built from a format string that was never formatted (printf's %s, String.format's {0}): pass the values to the formatter, or build the query with a URL library that encodes each value"
    } else if is_valuetrack(name) {
        "Google Ads fills ValueTrack parameters such as {ifmobile:...} only in its own tracking templates; send the value itself, not the ValueTrack syntax"
    } else {
        "the ad server sent its URL template without substituting this macro; check the macro name your platform expects and that the value exists for this event"
    }
}

fn unencoded(param: &str, raw: &[u8], off: usize) -> Draft {
    let b = raw[off];
    let more = raw[off + 1..].iter().filter(|&&b| needs_escape(b)).count();
    let what = match b {
        b' ' => "a space".to_owned(),
        b if b < 0x20 || b == 0x7F => format!("the control byte 0x{b:02X}"),
        b if b >= 0x80 => "non-ASCII bytes".to_owned(),
        b => format!("'{}'", b as char),
    };
    let what = if more > 0 {
        format!("{what} (and {more} more such bytes)")
    } else {
        what
    };
    let consequence = match b {
        b' ' => "a raw space ends the request target at most servers and proxies, cutting the value there",
        b if b >= 0x80 => "raw non-ASCII bytes are re-encoded differently by each client and proxy",
        _ => "clients and proxies may reject the URL or re-encode the character",
    };
    Draft::new(Code::UnencodedCharacter)
        .param(param)
        .value(raw)
        .arg("what", what)
        .arg("consequence", consequence)
}

/// Characters whose `%XX` escape, left in a decoded value, shows it was encoded twice. Legal
/// raw characters (`/`, `,`, `:` ...) are left out: real UAs quote them (`MacBookPro11%2C1`).
fn needed_encoding(b: u8) -> bool {
    needs_escape(b) || matches!(b, b'%' | b'&' | b'=' | b'+' | b'#' | b';')
}

/// Offset of the first `%XX` in a decoded value whose character needed encoding. `strict`
/// is for values that never hold a `%` of their own (addresses, timestamps): any escape left
/// after decoding shows a second encoding, `%3A` in an IPv6 address included.
fn double_escape(decoded: &[u8], strict: bool) -> Option<usize> {
    // By the whole value's shape: a space every encoder escapes, left literal by one decoding,
    // says the value was encoded once, so most `%XX` in it belong to the value itself (iOS
    // escapes an app's name in its CFNetwork UA: `My%20App/90 CFNetwork/1410.0.3 Darwin/22.6.0`).
    // An escaped `;`, `(` or `)` is still a second encoding: iOS leaves those as they
    // are, and a template that pre-escaped one separator sends `(Linux%253B Android 14`; Macs
    // send `MacBookPro11%2C1` and Baidu's app `main%2F1.0` of their own.
    let encoded_once = !strict && decoded.contains(&b' ');
    decoded.windows(3).position(|w| {
        let Some(c) = hex(&w[1]).zip(hex(&w[2])).map(|(h, l)| h << 4 | l) else {
            return false;
        };
        w[0] == b'%'
            && if encoded_once {
                matches!(c, b';' | b'(' | b')')
            } else {
                strict || needed_encoding(c)
            }
    })
}

fn invalid_utf8(param: &str, raw: &[u8], decoded: &[u8]) -> Draft {
    let bad: Vec<u8> = decoded
        .utf8_chunks()
        .flat_map(|c| c.invalid().iter().copied())
        .collect();
    let shown: Vec<String> = bad.iter().take(8).map(|b| format!("{b:02X}")).collect();
    let latin1: String = bad.iter().take(24).map(|&b| char::from(b)).collect();
    let fix = match cp1251_text(&bad) {
        // Three or more letters that all read as Cyrillic are almost surely Windows-1251.
        Some(cyr) if bad.len() >= 3 => format!(
            "the bytes read as Windows-1251 Cyrillic (\"{cyr}\"): convert the text to UTF-8 before percent-encoding it"
        ),
        Some(cyr) => format!(
            "the bytes read as {} in Latin-1 or \"{cyr}\" in Windows-1251: convert the text to UTF-8 before percent-encoding it",
            crate::escape::quote_str(&latin1)
        ),
        None => format!(
            "convert the value to UTF-8 before percent-encoding it (the bytes look like a legacy single-byte encoding; in Latin-1 they read {})",
            crate::escape::quote_str(&latin1)
        ),
    };
    Draft::new(Code::InvalidUtf8)
        .param(param)
        .value(raw)
        .arg("bytes", shown.join(" "))
        .arg("fix", fix)
}

/// The bytes as Windows-1251 Cyrillic letters, when every one of them is one.
fn cp1251_text(bytes: &[u8]) -> Option<String> {
    bytes
        .iter()
        .take(24)
        .map(|&b| match b {
            0xC0..=0xFF => char::from_u32(0x0410 + u32::from(b - 0xC0)),
            0xA8 => Some('Ё'),
            0xB8 => Some('ё'),
            _ => None,
        })
        .collect()
}

/// What a program prints when it turns a missing value or a whole object into text: the
/// accidents of serialisation, each with its own cause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Accident {
    /// `null`, `undefined`, `None`, `nil` ...: a variable that was empty.
    Empty,
    /// `NaN`: arithmetic on a missing number.
    NotANumber,
    /// `[object Object]`: JavaScript's `String(obj)` of an object.
    JsObject,
    /// `<app.Click object at 0x7f...>`: Python's default `str()` of an object.
    PythonObject,
    /// `com.example.Click@1b6d3586`: Java's default `toString()`.
    JavaObject,
}

impl Accident {
    fn of(value: &str) -> Option<Accident> {
        const EMPTY: &[&str] = &[
            "null",
            "undefined",
            "none",
            "nil",
            "unknown",
            "-",
            "n/a",
            "(null)",
        ];
        let v = value.trim();
        if v.eq_ignore_ascii_case("nan") {
            return Some(Accident::NotANumber);
        }
        if v.len() <= 9 && EMPTY.iter().any(|t| t.eq_ignore_ascii_case(v)) {
            return Some(Accident::Empty);
        }
        if v.starts_with("[object ") && v.ends_with(']') && is_ident(&v[8..v.len() - 1]) {
            return Some(Accident::JsObject);
        }
        if v.starts_with('<') && v.ends_with('>') && v.contains(" object at 0x") {
            return Some(Accident::PythonObject);
        }
        // `pkg.Class@1b6d3586`: the '@' is among the last nine bytes (the hash is 4 to 8 hex
        // digits), so a long value is not searched through; an earlier '@' would be in the class
        // name, which no identifier allows.
        let tail = v.len().saturating_sub(9);
        let at = v.as_bytes()[tail..]
            .iter()
            .rposition(|&b| b == b'@')
            .map(|i| tail + i);
        let java = at
            .map(|at| (&v[..at], &v[at + 1..]))
            .is_some_and(|(class, hash)| {
                class.contains('.')
                    && class.split('.').all(is_ident)
                    && class
                        .rsplit('.')
                        .next()
                        .is_some_and(|c| c.starts_with(|c: char| c.is_ascii_uppercase()))
                    && (4..=8).contains(&hash.len())
                    && hash.bytes().all(|b| b.is_ascii_hexdigit())
            });
        java.then_some(Accident::JavaObject)
    }

    fn cause(self) -> &'static str {
        match self {
            Accident::Empty => "which is what an empty variable prints",
            Accident::NotANumber => "which is what arithmetic on a missing number prints",
            Accident::JsObject => {
                "which is what JavaScript prints for a whole object turned into text (String(obj) or a template literal)"
            }
            Accident::PythonObject => "which is what Python prints for a whole object turned into text",
            Accident::JavaObject => {
                "which is what Java's default toString() prints for a whole object"
            }
        }
    }

    fn fix(self, param: &str) -> String {
        match self {
            Accident::Empty | Accident::NotANumber => format!(
                "the variable behind {param} was empty when the URL was built; send the real value, or leave an optional parameter out"
            ),
            Accident::JsObject | Accident::PythonObject | Accident::JavaObject => format!(
                "the URL builder was given an object where {param} needs one field of it: pass that field (for example req.ip, not req), then URL-encode it"
            ),
        }
    }
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'$')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialisation_accidents_name_their_cause() {
        for v in [
            "null",
            "NULL",
            "undefined",
            "None",
            "nil",
            "unknown",
            "-",
            "N/A",
            "(null)",
        ] {
            assert_eq!(Accident::of(v), Some(Accident::Empty), "{v}");
        }
        assert_eq!(Accident::of("NaN"), Some(Accident::NotANumber));
        assert_eq!(Accident::of("[object Object]"), Some(Accident::JsObject));
        assert_eq!(Accident::of("[object Array]"), Some(Accident::JsObject));
        assert_eq!(
            Accident::of("<app.models.Click object at 0x7f3a2c1d5e80>"),
            Some(Accident::PythonObject)
        );
        assert_eq!(
            Accident::of("com.example.ads.Click@1b6d3586"),
            Some(Accident::JavaObject)
        );
        for v in [
            "0",
            "nullable",
            "--",
            "Nonesuch",
            "[object",
            "user@example.com",
            "a.b@c",
            "c-8f14e45f",
        ] {
            assert_eq!(Accident::of(v), None, "{v}");
        }
    }

    #[test]
    fn each_placeholder_form_gets_its_own_fix() {
        assert!(macro_fix("%s").contains("format string"));
        assert!(macro_fix("0").contains("format string"));
        assert!(macro_fix("ifmobile").contains("ValueTrack"));
        assert!(
            macro_fix("ifa").contains("ad server"),
            "a macro named ifa is no ValueTrack conditional"
        );
    }

    #[test]
    fn double_escapes_only_for_characters_that_needed_encoding() {
        assert_eq!(double_escape(b"Mozilla%2F5.0%20(X)", false), Some(13));
        assert_eq!(double_escape(b"a%3Bb", false), Some(1));
        assert_eq!(double_escape(b"MacBookPro11%2C1", false), None);
        assert_eq!(double_escape(b"main%2F1.0", false), None);
        assert_eq!(double_escape(b"100%", false), None);
        assert_eq!(double_escape(b"2a02%3A6b8%3A%3A1", false), None);
        assert_eq!(double_escape(b"2a02%3A6b8%3A%3A1", true), Some(4));
        // Encoded once: the escapes are the value's own.
        assert_eq!(
            double_escape(b"My%20App/90 CFNetwork/1410.0.3 Darwin/22.6.0", false),
            None
        );
        assert_eq!(double_escape(b"Mozilla/5.0%20%28X%29", false), Some(11));
    }

    #[test]
    fn cp1251_is_recognised() {
        assert_eq!(
            cp1251_text(&[0xD2, 0xE5, 0xEB, 0xE5, 0xF4, 0xEE, 0xED]).as_deref(),
            Some("Телефон")
        );
        assert_eq!(cp1251_text(&[0x80]), None);
    }
}
