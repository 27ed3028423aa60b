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

/// Prefixes of the same kind: `YOUR_USER_AGENT`, `INSERT_UA_HERE`, `REPLACE_ME`.
const PLACEHOLDER_PREFIXES: &[&str] = &["your", "insert", "replace", "enter", "put"];

/// `ua-not-a-user-agent`, when the value cannot be any device's User-Agent.
pub(super) fn not_a_user_agent(ua: &str) -> Option<Draft> {
    let t = ua.trim();
    // Nearly every UA has a letter at once and a product token's '/', and no placeholder word
    // is longer than a few dozen bytes.
    let has_letter =
        t.bytes().any(|b| b.is_ascii_alphabetic()) || t.chars().any(char::is_alphabetic);
    if has_letter && (t.len() > 40 || t.contains('/')) {
        return None;
    }
    let reason = if !has_letter {
        "it holds no letters, as an ellipsis or a dash left in a template does"
    } else {
        let folded: String = t
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let placeholder = PLACEHOLDER_WORDS.contains(&folded.as_str())
            || (!t.contains('/')
                && !t.contains(' ')
                && PLACEHOLDER_PREFIXES.iter().any(|p| folded.starts_with(p)));
        if !placeholder {
            return None;
        }
        "it is a placeholder word copied from documentation or sample code"
    };
    Some(
        Draft::new(Code::UaNotAUserAgent)
            .value(ua.as_bytes())
            .arg("reason", reason)
            .arg(
                "fix",
                "the variable that should hold it was never filled, or the template's example text was sent",
            ),
    )
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
        ] {
            assert!(not_a_user_agent(ua).is_some(), "{ua}");
        }
        for ua in [
            "Superhuman",
            "CFG_SPIDER_USER_AGENT",
            "ALCATEL-MANDARINA-DUCK",
            "okhttp/4.12.0",
            "Dalvik/2.1.0 (Linux; U; Android 13)",
        ] {
            assert!(not_a_user_agent(ua).is_none(), "{ua}");
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
