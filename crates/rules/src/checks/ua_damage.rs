//! What happens to a User-Agent on its way into a query: it was never one (a placeholder word
//! from sample code), it was cut at a raw separator, or its UTF-8 was read as Latin-1.

use super::view::{Scope, View};
use crate::catalogue::Code;
use crate::diagnostic::Draft;
use crate::escape::quote_str;
use crate::params::{Key, KNOWN};

/// Words sample code and documentation put where a User-Agent belongs, compared lowercase
/// with everything but letters and digits dropped.
const PLACEHOLDER_WORDS: &[&str] = &[
    "ua",
    "useragent",
    "deviceua",
    "deviceuseragent",
    "useragentstring",
    "uastring",
    "useragentheader",
    "macro",
    "placeholder",
];

/// What a UA parser returns for a browser, device or OS, and the words tests send, compared as
/// `PLACEHOLDER_WORDS` are: sent alone, they are a parsed field or a test value, not a header.
const NAMES_NOT_UAS: &[&str] = &[
    "chrome",
    "chromium",
    "safari",
    "firefox",
    "opera",
    "edge",
    "mozilla",
    "samsungbrowser",
    "webview",
    "ipad",
    "iphone",
    "ipod",
    "android",
    "ios",
    "windows",
    "macos",
    "linux",
    "mobile",
    "desktop",
    "tablet",
    "browser",
    "hello",
    "helloworld",
    "test",
    "testing",
    "foo",
    "bar",
    "foobar",
    "asdf",
    "example",
    "sample",
    "string",
    "text",
    "value",
    "default",
];

/// Prefixes of the same kind: `YOUR_USER_AGENT`, `INSERT_UA_HERE`, `REPLACE_ME`.
const PLACEHOLDER_PREFIXES: &[&str] = &["your", "insert", "replace", "enter", "put"];

/// `ua-not-a-user-agent`, when the value cannot be any device's User-Agent. `known` says the
/// classifier already named a bot or library in it, which a single word may still be
/// (`bingbot`): that diagnosis says more.
pub(super) fn not_a_user_agent(ua: &str, known: bool) -> Option<Draft> {
    let (reason, fix) = what_it_is_instead(ua.trim(), known)?;
    Some(
        Draft::new(Code::UaNotAUserAgent)
            .value(ua.as_bytes())
            .arg("reason", reason)
            .arg("fix", fix),
    )
}

const UNFILLED: &str =
    "the variable that should hold it was never filled, or the template's example text was sent";

fn what_it_is_instead(t: &str, known: bool) -> Option<(&'static str, &'static str)> {
    if markup(t) && !known {
        return Some((
            "it is markup (an HTML or XML snippet), not a header value",
            "a page, a template or an injection probe was put where the User-Agent header belongs; pass the header's own text",
        ));
    }
    if let Some(reason) = serialised(t) {
        return Some((
            reason,
            "the code printed an object instead of its User-Agent field; take the header's string (request.headers['User-Agent'], req.get('User-Agent'))",
        ));
    }
    if base64_like(t) {
        return Some((
            "it is base64 or another encoded blob, not readable text",
            "decode it before sending, or pass the header as it arrived; a User-Agent is sent as plain text, percent-encoded once",
        ));
    }
    // Nearly every UA has a letter at once and a product token's '/', and no placeholder word
    // is longer than a few dozen bytes.
    let has_letter =
        t.bytes().any(|b| b.is_ascii_alphabetic()) || t.chars().any(char::is_alphabetic);
    if has_letter && (t.len() > 40 || t.contains('/')) {
        return None;
    }
    if !has_letter {
        return Some((
            "it holds no letters, as an ellipsis or a dash left in a template does",
            UNFILLED,
        ));
    }
    let folded: String = t
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let placeholder = PLACEHOLDER_WORDS.contains(&folded.as_str())
        || (!t.contains('/')
            && !t.contains(' ')
            && PLACEHOLDER_PREFIXES.iter().any(|p| folded.starts_with(p)));
    if placeholder {
        return Some((
            "it is a placeholder word copied from documentation or sample code",
            UNFILLED,
        ));
    }
    // A lone word is a real UA for some apps (`Superhuman`, `ALCATEL-MANDARINA-DUCK`), so only
    // the words a parser or a test puts in its place count.
    let lone_name = !known && !t.contains(' ') && NAMES_NOT_UAS.contains(&folded.as_str());
    lone_name.then_some((
        "it is a single word, not the `product/version (comment)` form every client sends",
        "a browser, device or app name was sent in its place (a parsed field such as `browser` or `device` instead of the raw header); pass the header's whole text",
    ))
}

/// A tag (`<` then a letter, `/` or `!`, and a `>` after it) before any product token: HbbTV
/// TVs send `HbbTV/1.1.1 (...) CE-HTML/1.0 (<profilelist>...)`, a real UA.
fn markup(t: &str) -> bool {
    t.match_indices('<').any(|(at, _)| {
        let rest = &t[at + 1..];
        !t[..at].contains('/')
            && rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!')
            && rest.contains('>')
    })
}

/// What a program prints for an object it was never meant to print: a JavaScript object, a
/// Python dict or object repr, a JSON document, Python's bytes.
fn serialised(t: &str) -> Option<&'static str> {
    if t.starts_with("[object ") && t.ends_with(']') {
        return Some("it is a JavaScript object turned into text ([object Object])");
    }
    // `{"User-Agent": ...}`, `{'ua': ...}`, `[{...}]`, `["..."]`; not Facebook's in-app
    // `[FBAN/FB4A;FBAV/3.4;...]`, which is a real UA.
    let opens_a_document = |inner: &str| inner.trim_start().starts_with(['"', '\'', '{']);
    let document = (t.ends_with('}') && t.strip_prefix('{').is_some_and(opens_a_document))
        || (t.ends_with(']') && t.strip_prefix('[').is_some_and(opens_a_document));
    if document {
        return Some("it is a serialised object (JSON or a dict), not the header's text");
    }
    if (t.starts_with("b'") && t.ends_with('\'')) || (t.starts_with("b\"") && t.ends_with('"')) {
        return Some("it is the repr of Python bytes (b'...'), not the text they hold");
    }
    None
}

/// An encoded blob: 20 or more characters of the base64 alphabet with no space or '.', that no
/// product token looks like: '=' padding, or mixed case and digits with no '/' at all (old
/// phones send `SonyEricsson290i/R101`).
fn base64_like(t: &str) -> bool {
    // Asked of every UA, and nearly every one fails the first two tests: the rest waits.
    let alphabet = || {
        t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    };
    if t.len() < 20 || !alphabet() {
        return false;
    }
    let padded = t.ends_with('=');
    let mixed = t.bytes().any(|b| b.is_ascii_uppercase())
        && t.bytes().any(|b| b.is_ascii_lowercase())
        && t.bytes().any(|b| b.is_ascii_digit());
    let versioned = t
        .split('/')
        .skip(1)
        .any(|v| v.starts_with(|c: char| c.is_ascii_digit()) && v.len() <= 12);
    (padded || (mixed && !t.contains('/'))) && !versioned
}

/// `ua-cut-by-separator`: the rest of the User-Agent sits in a stray parameter after it (a raw
/// `&`), in the URL fragment (a raw `#`), or other parameters sit inside it (`;` used between
/// parameters).
pub(super) fn cut_by_separator(scope: &Scope<'_, '_>, view: &View<'_>, ua: &str) -> Option<Draft> {
    let at = scope.params.iter().position(|p| std::ptr::eq(p, view))?;
    let (separator, rest) = if let Some(next) = scope.params.get(at + 1).filter(|n| is_ua_rest(n)) {
        let mut rest = format!(
            "the rest of the User-Agent arrived as a stray parameter {}",
            quote_str(&next.key)
        );
        rest.push_str(&unclosed(ua));
        ("a raw '&'", rest)
    } else if let Some(frag) = scope
        .req
        .fragment
        .filter(|f| at + 1 == scope.params.len() && view.raw.span().end + 1 == f.start)
    {
        let mut rest = format!(
            "everything after it ({}) became the URL fragment, which is never sent",
            crate::escape::quote(frag.of(scope.req.input))
        );
        rest.push_str(&unclosed(ua));
        ("a raw '#'", rest)
    } else {
        let swallowed = swallowed_param(ua)?;
        (
            "';'",
            format!(
                "the sender separated parameters with ';', so device_ua swallowed {}",
                quote_str(swallowed)
            ),
        )
    };
    Some(
        Draft::new(Code::UaCutBySeparator)
            .value(ua.as_bytes())
            .arg("separator", separator)
            .arg("rest", rest),
    )
}

/// An unknown key that reads like the middle of a User-Agent: `T;FBID/phone;FBLC/en_US]`.
fn is_ua_rest(next: &View<'_>) -> bool {
    next.kind == Key::Unknown
        && next
            .key
            .chars()
            .any(|c| matches!(c, ';' | '/' | '(' | ')' | '[' | ']' | ' ' | ','))
}

/// `; and the '[' it opened is never closed`, or nothing.
fn unclosed(ua: &str) -> String {
    let count = |c: char| ua.chars().filter(|&x| x == c).count();
    let open: Vec<&str> = [("(", '(', ')'), ("[", '[', ']')]
        .into_iter()
        .filter(|(_, o, c)| count(*o) > count(*c))
        .map(|(s, _, _)| s)
        .collect();
    match open.as_slice() {
        [] => String::new(),
        [one] => format!("; the '{one}' it opened is never closed"),
        _ => "; the '(' and '[' it opened are never closed".into(),
    }
}

/// `click_timestamp=1795860000` inside the UA: a documented key after a `;`.
fn swallowed_param(ua: &str) -> Option<&str> {
    // Real UAs seldom hold an '=': settle them without splitting.
    memchr::memchr(b'=', ua.as_bytes())?;
    ua.split(';').skip(1).map(str::trim_start).find(|part| {
        part.split_once('=')
            .is_some_and(|(k, _)| KNOWN.contains(&k) && k != "device_ua")
    })
}

/// The code page a UTF-8 text was read as, when `ua` is such a reading: every character one
/// byte of Latin-1 or Windows-1252, and those bytes UTF-8 with non-ASCII characters in it.
pub(super) fn mojibake(ua: &str) -> Option<Draft> {
    if ua.is_ascii() {
        return None;
    }
    let mut bytes = Vec::with_capacity(ua.len());
    let mut windows = false;
    for c in ua.chars() {
        let b = match u32::from(c) {
            n @ 0..=0xFF => n as u8,
            _ => {
                windows = true;
                cp1252_byte(c)?
            }
        };
        bytes.push(b);
    }
    let meant = std::str::from_utf8(&bytes).ok()?;
    // The first stretch of damage, for the message: a few characters either way.
    let first = ua.char_indices().find(|(_, c)| !c.is_ascii())?.0;
    let sample: String = ua[first..]
        .chars()
        .take_while(|c| !c.is_ascii())
        .take(12)
        .collect();
    let meant_sample: String = meant[first..]
        .chars()
        .take_while(|c| !c.is_ascii())
        .take(6)
        .collect();
    Some(
        Draft::new(Code::UaMojibake)
            .value(ua.as_bytes())
            .arg("charset", if windows { "Windows-1252" } else { "Latin-1" })
            .quoted("sample", sample.as_bytes())
            .quoted("meant", meant_sample.as_bytes()),
    )
}

/// Windows-1252's characters at 0x80-0x9F, where Latin-1 has control characters.
fn cp1252_byte(c: char) -> Option<u8> {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    HIGH.iter().position(|&h| h == c).map(|i| 0x80 + i as u8)
}

#[cfg(test)]
mod tests {
    use crate::checks::ua_damage::{mojibake, not_a_user_agent};

    #[test]
    fn placeholders_are_not_user_agents() {
        for ua in [
            "USER_AGENT",
            "YOURMACRO",
            "your_user_agent",
            "...",
            "…",
            "User Agent",
            "INSERT_UA_HERE",
            "ua",
            "hello",
            "Chrome",
            "ipad",
            "<img src=x onerror=alert(1)>",
            "[object Object]",
            "{'User-Agent': 'Mozilla/5.0'}",
            "b'Mozilla/5.0 (Linux)'",
            "TW96aWxsYS81LjAgKExpbnV4OyBBbmRyb2lkIDE0KQ==",
        ] {
            assert!(not_a_user_agent(ua, false).is_some(), "{ua}");
        }
        for ua in [
            "Superhuman",
            "CFG_SPIDER_USER_AGENT",
            "ALCATEL-MANDARINA-DUCK",
            "okhttp/4.12.0",
            "Dalvik/2.1.0 (Linux; U; Android 13)",
        ] {
            assert!(not_a_user_agent(ua, false).is_none(), "{ua}");
        }
    }

    #[test]
    fn utf8_read_as_latin1_or_windows_1252_is_named() {
        let utf8 = "Mozilla/5.0 (Linux; Android 12; Телефон)";
        let latin1: String = utf8.bytes().map(char::from).collect();
        let d = mojibake(&latin1).expect("mojibake").finish();
        assert!(
            d.message.contains("Latin-1") && d.message.contains("\"Т"),
            "{}",
            d.message
        );
        // 0x96 (the second byte of Ж) is a dash in Windows-1252.
        let windows = "Android 12; Ð–".to_string();
        let d = mojibake(&windows).expect("mojibake").finish();
        assert!(
            d.message.contains("Windows-1252") && d.message.contains("\"Ж\""),
            "{}",
            d.message
        );
        for fine in [utf8, "Mozilla/5.0 (Français)", "plain ascii"] {
            assert!(mojibake(fine).is_none(), "{fine}");
        }
    }
}
