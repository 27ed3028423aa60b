//! Template placeholders left unfilled, in every syntax ad networks and trackers use:
//! `{x}` (Yandex Direct, Mintegral, Unity), `{{x}}` (Meta, VK Ads), `${X}` (Xandr, DV360),
//! `[[X]]` (GetIntent), `[X]` (Google Ad Manager), `__X__` (TikTok), `%%X%%` (Google Ad
//! Manager, MyTracker), `%X%` (Adobe), `$X`, `$$X$$`, `#X#`, `<X>`; Google Ads ValueTrack's
//! `{ifmobile:x}` and `{_custom}`; the format strings a URL was built with but never
//! formatted: printf's `%s`, `%d`, `%1$s`, `%@` and `String.format`/`MessageFormat`'s `{0}`;
//! and concatenations of them, such as `{transaction_id}_{affiliate_id}`. The sources are
//! listed with the examples in `fixtures/requests/realworld.txt`.
//!
//! A GUID in registry braces (`{3F2504E0-4F89-11D3-9A0C-0305E82C3301}`) is a filled value.
//!
//! A value counts as a placeholder when it is made of placeholders and separators only. Inside
//! other text only the unambiguous forms count (`{{x}}`, `${x}`, `[[X]]`, `{x}`), and not in
//! `device_ua` at all: real User-Agents carry `%ROM_VERSION%`, `__weibo__` and `[en]`.

/// Placeholder words that stand bare, as TUNE's documentation writes them
/// (`google_aid=GOOGLEAID`), compared lowercase without `_` and `-`.
const BARE_WORDS: &[&str] = &[
    "transactionid",
    "clickid",
    "googleaid",
    "gaid",
    "idfa",
    "iosifa",
    "ip",
    "deviceip",
    "ipaddress",
    "useragent",
    "deviceua",
    "timestamp",
    "clicktimestamp",
    "offerid",
    "affid",
    "trackingid",
    "advertisingid",
];

/// A bare capitalised placeholder word standing for the value of `param`: `GOOGLEAID` in
/// google_aid, `TRANSACTIONID` in click_id. Only capitals, digits and `_`, so real words and
/// ids are left alone.
pub(crate) fn bare_word<'v>(value: &'v str, param: &str) -> Option<&'v str> {
    // Digits, lowercase letters and punctuation start nearly every real value.
    if !value
        .trim_start()
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_uppercase)
    {
        return None;
    }
    let v = value.trim();
    let capitals = v.len() >= 2
        && v.bytes().filter(u8::is_ascii_alphabetic).count() >= 2
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !capitals {
        return None;
    }
    let fold = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let word = fold(v);
    (word == fold(param) || BARE_WORDS.contains(&word.as_str())).then_some(v)
}

/// Where placeholders are looked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    /// The whole value must be placeholders and separators.
    Whole,
    /// Also an unambiguous placeholder anywhere inside the value.
    Anywhere,
}

/// A placeholder's delimiters, longest openers first so `{{x}}` is not read as `{` + `{x}`.
const SYNTAXES: &[(&str, &str)] = &[
    ("{{", "}}"),
    ("${", "}"),
    ("$$", "$$"),
    ("[[", "]]"),
    ("%%", "%%"),
    ("__", "__"),
    ("{", "}"),
    ("[", "]"),
    ("%", "%"),
    ("#", "#"),
    ("<", ">"),
];

/// The forms that cannot be anything but a placeholder, wherever they stand.
const UNAMBIGUOUS: &[&str] = &["{{", "${", "[[", "{"];

/// [`macro_name`] of raw bytes, looked at only when they could hold a placeholder: most values
/// start with a letter or digit and hold no `{`, `$` or `[`.
pub(crate) fn raw_macro_name(raw: &[u8], reach: Reach) -> Option<&str> {
    let starts_plain = raw.first().is_some_and(u8::is_ascii_alphanumeric);
    let may_embed = reach == Reach::Anywhere && may_embed(raw);
    if starts_plain && !may_embed {
        return None;
    }
    macro_name(std::str::from_utf8(raw).ok()?, reach)
}

/// The name inside the first placeholder of `value`, when the value is one (see [`Reach`]).
pub(crate) fn macro_name(value: &str, reach: Reach) -> Option<&str> {
    // Nearly every real value starts with a letter or digit, so it is not placeholders only.
    let starts_plain = value
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_alphanumeric);
    if !starts_plain {
        if let Some(name) = whole(value) {
            return Some(name);
        }
    }
    match reach {
        Reach::Anywhere if may_embed(value.as_bytes()) => embedded(value),
        _ => None,
    }
}

/// Whether `value` holds a byte an embedded placeholder starts with, or a printf conversion.
fn may_embed(value: &[u8]) -> bool {
    memchr::memchr3(b'{', b'$', b'[', value).is_some()
        || memchr::memchr_iter(b'%', value).any(|at| printf_at(&value[at..]).is_some())
}

/// The first placeholder's name when `value` is placeholders and separators only.
fn whole(value: &str) -> Option<&str> {
    let v = value.trim_matches(|c: char| c.is_whitespace());
    let mut rest = v;
    let mut first = None;
    while !rest.is_empty() {
        if let Some((name, len)) = token_at(rest) {
            first.get_or_insert(name);
            rest = &rest[len..];
            continue;
        }
        let c = rest.chars().next()?;
        // Anything alphanumeric outside a placeholder is data, not a template.
        if c.is_alphanumeric() {
            return None;
        }
        rest = &rest[c.len_utf8()..];
    }
    first
}

/// The first unambiguous placeholder anywhere in `value`.
fn embedded(value: &str) -> Option<&str> {
    for (at, _) in value.match_indices(['{', '$', '[', '%']) {
        let rest = &value[at..];
        if let Some(len) = printf_at(rest.as_bytes()) {
            return Some(&rest[..len]);
        }
        if !UNAMBIGUOUS.iter().any(|o| rest.starts_with(o)) {
            continue;
        }
        if let Some((name, _)) = token_at(rest).filter(|_| !rest.starts_with("$$")) {
            if !rest.starts_with('[') || rest.starts_with("[[") {
                return Some(name);
            }
        }
    }
    None
}

/// A placeholder at the start of `s`: its name and its length.
fn token_at(s: &str) -> Option<(&str, usize)> {
    if let Some(len) = printf_at(s.as_bytes()) {
        return Some((&s[..len], len));
    }
    if let Some(found) = brace_special_at(s) {
        return Some(found);
    }
    for (open, close) in SYNTAXES {
        let Some(after) = s.strip_prefix(open) else {
            continue;
        };
        let Some(end) = after.find(close) else {
            continue;
        };
        let inner = after[..end].trim_matches(' ');
        if is_name(inner) {
            return Some((inner, open.len() + end + close.len()));
        }
    }
    // `$NAME`, with no closing delimiter.
    let after = s.strip_prefix('$')?;
    let len = after
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    let name = &after[..len];
    (name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && is_name(name))
    .then_some((name, 1 + len))
}

/// A printf conversion at the start of `s` (`%s`, `%d`, `%1$s`, `%-5d`, `%lld`, `%@`), only
/// where it cannot be a percent-escape: `%d` followed by a hex digit is one.
pub(crate) fn printf_at(s: &[u8]) -> Option<usize> {
    let rest = s.strip_prefix(b"%")?;
    let mut at = 0;
    // `%1$s`: a positional argument.
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > 0 && rest.get(digits) == Some(&b'$') {
        at = digits + 1;
    }
    at += rest[at..]
        .iter()
        .take_while(|b| matches!(b, b'-' | b'+' | b'0'..=b'9' | b'.'))
        .count();
    at += rest[at..]
        .iter()
        .take(2)
        .take_while(|b| matches!(b, b'l' | b'h' | b'z'))
        .count();
    let conversion = *rest.get(at)?;
    if !matches!(conversion, b's' | b'd' | b'i' | b'u' | b'f' | b'x' | b'@') {
        return None;
    }
    let len = 1 + at + 1;
    // `%5d`, `%dE` and `%20s` read as escapes, whatever a template meant by them.
    let escape = s.len() >= 3 && s[1].is_ascii_hexdigit() && s[2].is_ascii_hexdigit();
    // A name goes on after `%s` only in text (`%status`), not in a placeholder.
    let word_goes_on = s.get(len).is_some_and(u8::is_ascii_alphabetic);
    (!escape && !word_goes_on).then_some(len)
}

/// `{0}` (`String.format` in C#, Java's `MessageFormat`), ValueTrack's `{ifmobile:text}` and
/// `{_custom}`, at the start of `s`. A GUID in braces is a value, never a placeholder.
fn brace_special_at(s: &str) -> Option<(&str, usize)> {
    let after = s.strip_prefix('{').filter(|a| !a.starts_with('{'))?;
    let end = after.find('}')?;
    let inner = &after[..end];
    let len = 1 + end + 1;
    if !inner.is_empty() && inner.len() <= 3 && inner.bytes().all(|b| b.is_ascii_digit()) {
        return Some((inner, len));
    }
    if let Some((name, _text)) = inner.split_once(':') {
        let valuetrack = is_valuetrack(name) && !inner.contains('{');
        return valuetrack.then_some((name, len));
    }
    let custom = inner.strip_prefix('_').is_some_and(is_name);
    custom.then_some((inner, len))
}

/// ValueTrack's conditional parameters: `{ifmobile:[value]}` and its kin, as Google Ads
/// documents them.
const VALUETRACK_CONDITIONALS: &[&str] = &[
    "ifmobile",
    "ifnotmobile",
    "ifsearch",
    "ifcontent",
    "ifmaps",
    "ifyoutube",
    "ifdisplay",
];

/// Whether `name` is one of ValueTrack's conditionals (`ifmobile` in `{ifmobile:text}`).
pub(crate) fn is_valuetrack(name: &str) -> bool {
    VALUETRACK_CONDITIONALS.contains(&name)
}

/// `3F2504E0-4F89-11D3-9A0C-0305E82C3301`: 8-4-4-4-12 hex digits.
fn is_guid(inner: &str) -> bool {
    let groups: Vec<&str> = inner.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// What placeholder names are made of: letters, digits, `_ . -`, at least one letter, not
/// edged with `_` (`____` is no name), at most 64 bytes. No `:`, so `[2001:db8::1]` stays an
/// address in brackets.
fn is_name(inner: &str) -> bool {
    !inner.is_empty()
        && !is_guid(inner)
        && inner.len() <= 64
        && inner.bytes().any(|b| b.is_ascii_alphabetic())
        && !inner.starts_with('_')
        && !inner.ends_with('_')
        && inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use crate::checks::macros::{macro_name, Reach};

    #[test]
    fn every_syntax_whole() {
        for (v, name) in [
            ("{device_ua}", "device_ua"),
            ("{{ip}}", "ip"),
            ("${ts}", "ts"),
            ("$UA", "UA"),
            ("$$UA$$", "UA"),
            ("[UA]", "UA"),
            ("[[IP]]", "IP"),
            ("[[USER_AGENT]]", "USER_AGENT"),
            ("__IP__", "IP"),
            ("__CALLBACK_PARAM__", "CALLBACK_PARAM"),
            ("%%TS%%", "TS"),
            ("%aw_random%", "aw_random"),
            ("%UA%", "UA"),
            ("#UA#", "UA"),
            ("<UA>", "UA"),
            ("{ transaction_id }", "transaction_id"),
            (" {ip} ", "ip"),
            ("\u{a0}[UA]", "UA"),
            ("{{click.browser.metadata.ip}}", "click.browser.metadata.ip"),
            ("%s", "%s"),
            ("%d", "%d"),
            ("%1$s", "%1$s"),
            ("%@", "%@"),
            ("%lld", "%lld"),
            ("{0}", "0"),
            ("{ifmobile:mobile}", "ifmobile"),
            ("{ifnotmobile:desktop}", "ifnotmobile"),
            ("{_season}", "_season"),
            ("{lpurl}", "lpurl"),
        ] {
            assert_eq!(macro_name(v, Reach::Whole), Some(name), "{v}");
        }
    }

    #[test]
    fn concatenations() {
        for (v, name) in [
            ("{transaction_id}_{affiliate_id}", "transaction_id"),
            ("{UA}{UA2}", "UA"),
            (
                "{{click.browser.metadata.ip}}{{click.device.metadata.ip}}",
                "click.browser.metadata.ip",
            ),
            ("__AID__-__CID__", "AID"),
        ] {
            assert_eq!(macro_name(v, Reach::Whole), Some(name), "{v}");
        }
    }

    #[test]
    fn only_unambiguous_forms_count_inside_text() {
        assert_eq!(
            macro_name("c-{click_id}", Reach::Anywhere),
            Some("click_id")
        );
        assert_eq!(macro_name("x{{ad.id}}", Reach::Anywhere), Some("ad.id"));
        assert_eq!(macro_name("p_${CP_ID}", Reach::Anywhere), Some("CP_ID"));
        assert_eq!(macro_name("c-{click_id}", Reach::Whole), None);
        assert_eq!(macro_name("id_%s", Reach::Anywhere), Some("%s"));
        assert_eq!(macro_name("c-{0}", Reach::Anywhere), Some("0"));
        for data in [
            "abc%2Fdef%2F",
            "100%",
            "a__b__c",
            "price$5",
            "[1]",
            "tag#1#",
            "x[en]",
            "50%25",
            "a%20s",
            "{3F2504E0-4F89-11D3-9A0C-0305E82C3301}",
        ] {
            assert_eq!(macro_name(data, Reach::Anywhere), None, "{data}");
        }
    }

    #[test]
    fn bare_capitalised_words_name_their_parameter() {
        use crate::checks::macros::bare_word;
        assert_eq!(bare_word("GOOGLEAID", "google_aid"), Some("GOOGLEAID"));
        assert_eq!(
            bare_word("TRANSACTIONID", "click_id"),
            Some("TRANSACTIONID")
        );
        assert_eq!(bare_word("IP", "device_ip"), Some("IP"));
        assert_eq!(bare_word("SUB_ID", "sub_id"), Some("SUB_ID"));
        for (v, p) in [
            ("GOOGLE", "utm_source"),
            ("CPC", "utm_medium"),
            ("38400000", "google_aid"),
            ("Transactionid", "click_id"),
            ("A", "x"),
        ] {
            assert_eq!(bare_word(v, p), None, "{v} in {p}");
        }
    }

    #[test]
    fn real_values_are_not_placeholders() {
        for v in [
            "[2001:db8::1]",
            "{}",
            "#1#",
            "Mozilla/5.0 {x}",
            "__",
            "____",
            "{a b}",
            "Mozilla/5.0 (Linux; U; Android 3.1; HTC_PG09410/%ROM_VERSION% Build/HMJ15)",
            "Mozilla/5.0 [en] (X11, U; OpenVAS 7.0.10)",
            "Weibo (iPhone17,1__weibo__15.4.1__iphone__os18.5)",
            "5.255.232.147",
            "1795860000",
            "38400000-8cf0-11bd-b23e-10b96e40000d",
            "{3F2504E0-4F89-11D3-9A0C-0305E82C3301}",
            "%20s",
            "%5d",
            "%status",
            "{ifmobile:{x}}",
            "{other:x}",
        ] {
            assert_eq!(macro_name(v, Reach::Whole), None, "{v}");
        }
    }
}
