//! Parser and validator invariants over generated input.

mod common;

use common::*;
use metrica_s2s_rules::{parse_input, percent_decode, Context, Diagnostic, Settings, Validator};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn errors(input: &str) -> Vec<Diagnostic> {
    lint(input)
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect()
}

/// The decoded value of the first `key` parameter.
fn decoded(input: &str, key: &str) -> Option<Vec<u8>> {
    let req = parse_input(input.as_bytes()).ok()?;
    let p = req
        .params
        .iter()
        .find(|p| req.bytes(p.key) == key.as_bytes())?;
    Some(percent_decode(req.bytes(p.value?), true).bytes.into_owned())
}

/// UAs that are errors by definition, not by encoding: an HTTP library's name first, a whole
/// value shaped like a template macro, or the text an empty variable prints. And UAs holding
/// `%XX` themselves, which nothing can tell from double encoding.
fn outside_the_property(ua: &str) -> bool {
    let first = ua
        .split(['/', ' ', ';', '(', ','])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let library = [
        "okhttp",
        "go-http-client",
        "python-requests",
        "python-urllib",
        "python-httpx",
        "python",
        "aiohttp",
        "curl",
        "wget",
        "wget2",
        "java",
        "apache-httpclient",
        "axios",
        "node-fetch",
        "undici",
        "node",
        "guzzle",
        "guzzlehttp",
        "php",
        "libwww-perl",
        "reqwest",
        "postmanruntime",
        "httpie",
        "ruby",
        "faraday",
    ]
    .contains(&first.as_str());
    let t = ua.trim();
    let wrapped = [
        ("{", "}"),
        ("[", "]"),
        ("__", "__"),
        ("%%", "%%"),
        ("#", "#"),
        ("${", "}"),
    ]
    .iter()
    .any(|(o, c)| t.len() > o.len() + c.len() && t.starts_with(o) && t.ends_with(c));
    let placeholder = [
        "null",
        "undefined",
        "none",
        "nil",
        "nan",
        "unknown",
        "-",
        "n/a",
        "(null)",
    ]
    .iter()
    .any(|p| p.eq_ignore_ascii_case(t));
    let escape = ua
        .as_bytes()
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit());
    // No letters, or a value that may be nothing but template placeholders (`$UA`, `<UA>`,
    // `{a}_{b}`): not a User-Agent, and said so.
    let not_a_ua = !t.chars().any(char::is_alphabetic)
        || t.starts_with(['{', '[', '_', '%', '#', '<', '$'])
        || (!t.starts_with(char::is_alphanumeric) && t.contains(['{', '[', '%', '#', '<', '$']));
    // Markup: `<` opening a tag that a `>` closes later.
    let markup = t.match_indices('<').any(|(at, _)| {
        let rest = &t[at + 1..];
        rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!')
            && rest.contains('>')
    });
    library || wrapped || placeholder || escape || not_a_ua || markup
}

/// Printable text: ASCII, the characters that need care in a query, Cyrillic, CJK, emoji.
fn printable() -> impl Strategy<Value = String> {
    let c = prop_oneof![
        4 => proptest::char::range(' ', '~'),
        2 => prop::sample::select(vec!['+', '&', '#', '%', '=', ';', '?', '/', ' ', '"', '\\', '<', '{', '}']),
        1 => proptest::char::range('А', 'я'),
        1 => proptest::char::range('一', '龥'),
        1 => proptest::char::range('😀', '🙏'),
    ];
    prop::collection::vec(c, 1..200).prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let settings = Settings::default();
        let ctx = Context::new(NOW, &settings);
        if let Ok(req) = parse_input(&bytes) {
            let _ = Validator::new(8).validate(&req, &ctx);
        }
    }

    #[test]
    fn arbitrary_access_log_prefixes_never_panic(prefix in "[ -~]{0,40}", time in "[0-9A-Za-z/: +\\[\\]-]{0,32}") {
        let _ = lint(&format!("{prefix}[{time} \"GET /serve/{TRACKER}?a=1 HTTP/1.1\" 204"));
    }

    #[test]
    fn arbitrary_query_text_never_panics(q in "[a-z_%&=+#;0-9A-F\\[\\]:./ {}-]{0,200}") {
        let _ = lint(&format!("/serve/{TRACKER}?{q}"));
        let _ = lint(&format!("GET /serve/{TRACKER}?{q} HTTP/1.1"));
    }

    #[test]
    fn any_correctly_encoded_ua_is_clean_and_decodes_back(ua in printable()) {
        prop_assume!(!outside_the_property(&ua));
        let input = target(&[("device_ua", Some(&enc(&ua)))]);
        prop_assert_eq!(errors(&input), vec![]);
        prop_assert_eq!(decoded(&input, "device_ua"), Some(ua.into_bytes()));
    }

    #[test]
    fn any_ipv4_address_is_accepted(octets in any::<[u8; 4]>()) {
        let ip = Ipv4Addr::from(octets);
        let input = target(&[("device_ip", Some(&enc(&ip.to_string())))]);
        prop_assert_eq!(errors(&input), vec![]);
        let back = decoded(&input, "device_ip").and_then(|b| String::from_utf8(b).ok());
        prop_assert_eq!(back.and_then(|s| s.parse::<IpAddr>().ok()), Some(IpAddr::V4(ip)));
    }

    #[test]
    fn any_ipv6_address_is_accepted(segments in any::<[u16; 8]>()) {
        let ip = Ipv6Addr::from(segments);
        for raw in [ip.to_string(), enc(&ip.to_string())] {
            let input = target(&[("device_ip", Some(&raw))]);
            prop_assert_eq!(errors(&input), vec![]);
            let back = decoded(&input, "device_ip").and_then(|b| String::from_utf8(b).ok());
            prop_assert_eq!(back.and_then(|s| s.parse::<IpAddr>().ok()), Some(IpAddr::V6(ip)));
        }
    }

    #[test]
    fn any_timestamp_inside_the_window_is_accepted(ts in (NOW - 12 * 3600)..=(NOW + 300)) {
        let input = target(&[("click_timestamp", Some(&ts.to_string()))]);
        prop_assert_eq!(errors(&input), vec![]);
    }

    #[test]
    fn any_timestamp_outside_the_window_is_an_error(ts in prop_oneof![0..(NOW - 12 * 3600), (NOW + 301)..(NOW * 3)]) {
        let input = target(&[("click_timestamp", Some(&ts.to_string()))]);
        prop_assert!(!errors(&input).is_empty());
    }

    #[test]
    fn spans_always_point_inside_the_input(q in "[a-z_%&=+#0-9A-F:./ ]{0,120}") {
        let input = format!("GET /serve/{TRACKER}?{q} HTTP/1.1");
        for d in lint(&input) {
            if let Some(s) = d.span {
                prop_assert!(s.start <= s.end && s.end <= input.len(), "{:?} outside {}", s, input.len());
            }
        }
    }
}
