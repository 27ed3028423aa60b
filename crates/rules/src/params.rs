//! Parameter names, and the one way to read "the value of parameter X".
//!
//! The mock, the journal, `lint` and the conformance runner all answer that question through
//! [`find_param`], so `click%5Fid=X` is the same `click_id` to the duplicate check, to a
//! journal filter and to the runner: the first parameter whose decoded key is the name itself,
//! or failing that the first sent under one of its documented aliases (`idfa` for `ios_ifa`).

use crate::decode::percent_decode;
use crate::escape::lossy;
use crate::parse::Request;
use std::borrow::Cow;

/// The parameters AppMetrica documents for S2S calls and tracking URLs.
pub(crate) const KNOWN: &[&str] = &[
    "device_ip",
    "device_ua",
    "click_timestamp",
    "noredirect",
    "click_id",
    "external_click_id",
    "google_aid",
    "ios_ifa",
    "oaid",
    "windows_aid",
    "google_aid_sha1",
    "google_aid_md5",
    "ios_ifa_sha1",
    "ios_ifa_md5",
    "oaid_sha1",
    "oaid_md5",
    "windows_aid_sha1",
    "windows_aid_md5",
    "afpub_id",
    "site_id",
    "creative_id",
    "appmetrica_js_redirect",
];

/// The hashed forms of the device ids a tracking URL may carry instead of the raw ones.
pub const HASHED_ID_PARAMS: [&str; 8] = [
    "google_aid_sha1",
    "google_aid_md5",
    "ios_ifa_sha1",
    "ios_ifa_md5",
    "oaid_sha1",
    "oaid_md5",
    "windows_aid_sha1",
    "windows_aid_md5",
];

/// Whether `name` is a parameter AppMetrica documents for tracking URLs.
pub fn is_known_param(name: &str) -> bool {
    KNOWN.contains(&name)
}

pub(crate) const REQUIRED: &[&str] = &["device_ip", "device_ua", "click_timestamp"];

/// Spellings the S2S page uses but the tracking URL specification does not.
pub(crate) const ALIASES: &[(&str, &str)] = &[
    ("idfa", "ios_ifa"),
    ("google-aid", "google_aid"),
    ("no_redirect", "noredirect"),
];

/// What a parameter name is to AppMetrica.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Key {
    Known(&'static str),
    /// An alias of the canonical name given.
    Alias(&'static str),
    Unknown,
}

impl Key {
    pub(crate) fn canonical(self) -> Option<&'static str> {
        match self {
            Key::Known(k) | Key::Alias(k) => Some(k),
            Key::Unknown => None,
        }
    }
}

/// A documented name sent exactly as written: it decodes to itself, so most keys are
/// recognised without decoding.
pub(crate) fn known_raw(raw: &[u8]) -> Option<&'static str> {
    KNOWN.iter().find(|k| k.as_bytes() == raw).copied()
}

pub(crate) fn canonical_key(key: &str) -> Key {
    if let Some(k) = known_raw(key.as_bytes()) {
        return Key::Known(k);
    }
    match ALIASES.iter().find(|(a, _)| *a == key) {
        Some((_, canonical)) => Key::Alias(canonical),
        None => Key::Unknown,
    }
}

/// The first of `items` whose decoded key is `name`; failing that, the first whose key is a
/// documented alias of `name`. `key_is(item, n)` says whether an item's decoded key is `n`.
#[inline]
pub fn find_param<I, T>(items: I, name: &str, key_is: impl Fn(&T, &str) -> bool) -> Option<T>
where
    I: IntoIterator<Item = T>,
    I::IntoIter: Clone,
{
    let items = items.into_iter();
    if let Some(found) = items.clone().find(|p| key_is(p, name)) {
        return Some(found);
    }
    let mut aliases = ALIASES
        .iter()
        .filter(|(_, canonical)| *canonical == name)
        .map(|(alias, _)| *alias);
    // Most names have no alias; none has more than one.
    let alias = aliases.next()?;
    items.into_iter().find(|p| key_is(p, alias))
}

/// Whether a key as sent decodes to `name`. Nearly every key holds no escape and is compared
/// as it is; only one with `%` or `+` is decoded. Keys are short: a plain loop beats a
/// vectorised search's setup.
#[inline]
pub(crate) fn raw_key_is(raw: &[u8], name: &str) -> bool {
    let name = name.as_bytes();
    match (raw.first(), name.first()) {
        // A first byte that is no escape decodes to itself: most keys differ right there.
        (Some(&r), Some(&n)) if r != n && r != b'%' && r != b'+' => return false,
        _ if raw == name => return true,
        _ => {}
    }
    // Decoding never lengthens a key, and a key without an escape decodes to itself.
    raw.len() >= name.len()
        && raw.iter().any(|&b| b == b'%' || b == b'+')
        && decode_key(raw).as_bytes() == name
}

/// A key as sent, decoded: percent-escapes and `+`, invalid UTF-8 replaced.
pub(crate) fn decode_key(raw: &[u8]) -> Cow<'_, str> {
    match percent_decode(raw, true).bytes {
        Cow::Borrowed(b) => lossy(b),
        Cow::Owned(v) => Cow::Owned(lossy(&v).into_owned()),
    }
}

impl<'a> Request<'a> {
    /// The decoded value of parameter `name` (see [`find_param`]); a bare flag (`&noredirect`)
    /// is an empty value. Keys are decoded only when they hold an escape.
    pub fn value(&self, name: &str) -> Option<Cow<'a, [u8]>> {
        let input = self.input;
        let p = find_param(&self.params, name, |p, n| raw_key_is(p.key.of(input), n))?;
        Some(match p.value {
            Some(v) => percent_decode(v.of(input), true).bytes,
            None => Cow::Borrowed(&[]),
        })
    }
}

/// A query's parameters, decoded (keys and values; `+` as a space, invalid UTF-8 replaced),
/// in the order sent: what the journal and the conformance runner read of a request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn of(req: &Request<'_>) -> Query {
        Query(
            req.params
                .iter()
                .map(|p| {
                    let key = decode_key(req.bytes(p.key)).into_owned();
                    let value = p.value.map_or_else(String::new, |v| {
                        lossy(&percent_decode(req.bytes(v), true).bytes).into_owned()
                    });
                    (key, value)
                })
                .collect(),
        )
    }

    /// The parameters of a request target (`/serve/1?a=b`); none when it cannot be read.
    pub fn parse(target: &str) -> Query {
        crate::parse::parse_input(target.as_bytes())
            .map(|r| Query::of(&r))
            .unwrap_or_default()
    }

    /// The value of parameter `name` (see [`find_param`]).
    pub fn get(&self, name: &str) -> Option<&str> {
        find_param(&self.0, name, |(k, _), n| k == n).map(|(_, v)| v.as_str())
    }

    /// Every pair, repeats included, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// Each key once, with its first value: the form the journal shows.
    pub fn first_of_each(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .enumerate()
            .filter(|(i, (k, _))| !self.0[..*i].iter().any(|(e, _)| e == k))
            .map(|(_, (k, v))| (k.as_str(), v.as_str()))
    }
}

/// An advertising id of zeros and dashes: what a device with ad tracking limited reports. It
/// names no device, so nothing may match by it.
pub fn is_zeroed_id(id: &str) -> bool {
    id.bytes().all(|b| b == b'0' || b == b'-')
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_hashed_id_is_a_known_parameter() {
        for p in crate::params::HASHED_ID_PARAMS {
            assert!(crate::params::is_known_param(p), "{p}");
        }
    }

    use super::*;
    use crate::parse::parse_input;

    #[test]
    fn canonical_keys() {
        assert_eq!(canonical_key("device_ua"), Key::Known("device_ua"));
        assert_eq!(canonical_key("idfa"), Key::Alias("ios_ifa"));
        assert_eq!(canonical_key("Device_UA"), Key::Unknown);
    }

    #[test]
    fn a_parameter_is_found_by_its_decoded_key_then_by_alias() {
        let r =
            parse_input(b"/serve/1?idfa=A&click%5Fid=x%20y&ios_ifa=B&noredirect").expect("parses");
        assert_eq!(r.value("click_id").as_deref(), Some(&b"x y"[..]));
        assert_eq!(
            r.value("ios_ifa").as_deref(),
            Some(&b"B"[..]),
            "the name itself wins"
        );
        assert_eq!(r.value("noredirect").as_deref(), Some(&b""[..]));
        assert_eq!(r.value("google_aid"), None);
        let aliased = parse_input(b"/serve/1?x=1&google-aid=G").expect("parses");
        assert_eq!(aliased.value("google_aid").as_deref(), Some(&b"G"[..]));
        let escaped_alias = parse_input(b"/serve/1?x=1&google%2Daid=G").expect("parses");
        assert_eq!(
            escaped_alias.value("google_aid").as_deref(),
            Some(&b"G"[..])
        );
        assert!(raw_key_is(b"click+id", "click id") && raw_key_is(b"click_id", "click_id"));
        let q = Query::of(&r);
        assert_eq!(q.get("click_id"), Some("x y"));
        assert_eq!(q.get("ios_ifa"), Some("B"));
        assert_eq!(
            Query::parse("/serve/1?google-aid=G").get("google_aid"),
            Some("G")
        );
    }

    #[test]
    fn first_of_each_keeps_the_first_value_of_a_repeated_key() {
        let q = Query::parse("/serve/1?a=1&b=2&a=3");
        assert_eq!(
            q.first_of_each().collect::<Vec<_>>(),
            vec![("a", "1"), ("b", "2")]
        );
        assert_eq!(q.pairs().len(), 3);
    }
}
