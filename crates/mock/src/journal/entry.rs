//! One request as the mock saw and answered it: what the admin API and the journal file write,
//! and what clients of a running mock read back (the same derived serde both ways).

use crate::fault::Applied;
use indexmap::IndexMap;
use metrica_s2s_rules::{find_param, Diagnostic, Kind, Query};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::net::SocketAddr;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: u64,
    /// RFC 3339 with milliseconds on the wire.
    #[serde(rename = "received_at", with = "crate::wire::millis")]
    pub received_at_ms: u64,
    pub kind: Kind,
    pub method: String,
    /// The Host header, or the authority of an absolute-form target.
    pub host: Option<String>,
    /// The raw segment after `/serve/`.
    pub tracking_id: Option<String>,
    /// The request target as received (path and query).
    pub target: String,
    /// Decoded query parameters in the order sent; a repeated key keeps its first value.
    pub params: IndexMap<String, String>,
    pub remote_addr: Option<SocketAddr>,
    /// The sender's own User-Agent header (not device_ua: the runner compares the two).
    pub user_agent: Option<String>,
    pub x_forwarded_for: Option<String>,
    /// The answer's status; 0 when a fault reset or closed the connection instead.
    pub status: u16,
    pub diagnostics: Vec<Diagnostic>,
    /// The fault applied to this request, if any.
    #[serde(default)]
    pub fault: Option<Applied>,
}

impl Entry {
    /// The decoded value of parameter `name`, found as every part of metrica-s2s finds it
    /// (see `metrica_s2s_rules::find_param`).
    pub fn param(&self, name: &str) -> Option<&str> {
        find_param(&self.params, name, |(k, _), n| k.as_str() == n).map(|(_, v)| v.as_str())
    }

    /// Every field that derives from the target: its tracking id and decoded parameters.
    pub fn derived_from(target: &str) -> (Option<String>, IndexMap<String, String>) {
        let path = target.split(['?', '#']).next().unwrap_or_default();
        let tracking_id = metrica_s2s_rules::tracking_segment(path.as_bytes())
            .map(|id| String::from_utf8_lossy(id).into_owned());
        let params = Query::parse(target)
            .first_of_each()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        (tracking_id, params)
    }
}

/// What the server records for one request; the journal assigns the sequence number.
#[derive(Debug)]
pub(crate) struct Record<'a> {
    pub(crate) received_at_ms: u64,
    pub(crate) kind: Kind,
    pub(crate) method: Cow<'static, str>,
    pub(crate) host: Option<&'a str>,
    pub(crate) target: &'a str,
    pub(crate) remote_addr: Option<SocketAddr>,
    pub(crate) user_agent: Option<&'a str>,
    pub(crate) forwarded_for: Option<&'a str>,
    pub(crate) status: u16,
    pub(crate) diagnostics: Vec<Diagnostic>,
    /// Boxed: nearly every request has none, and a small record moves cheaply.
    pub(crate) fault: Option<Box<Applied>>,
}

impl<'a> Record<'a> {
    /// A click to `target` answered `status`, nothing else known: for tests.
    #[cfg(test)]
    pub(crate) fn click(target: &'a str, status: u16) -> Record<'a> {
        Record {
            received_at_ms: 1_795_860_000_000,
            kind: Kind::Click,
            method: "GET".into(),
            host: None,
            target,
            remote_addr: None,
            user_agent: None,
            forwarded_for: None,
            status,
            diagnostics: Vec::new(),
            fault: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::journal::entry::Entry;
    use metrica_s2s_rules::Kind;

    #[test]
    fn entries_round_trip_through_json() {
        let target = "/serve/1?click_id=a%20b&click_id=second&idfa=X";
        let (tracking_id, params) = Entry::derived_from(target);
        let e = Entry {
            seq: 7,
            received_at_ms: 1_795_860_000_123,
            kind: Kind::Click,
            method: "GET".into(),
            host: Some("redirect.appmetrica.yandex.com".into()),
            tracking_id,
            target: target.into(),
            params,
            remote_addr: Some("127.0.0.1:5555".parse().expect("addr")),
            user_agent: Some("curl/8\u{1b}".into()),
            x_forwarded_for: None,
            status: 400,
            diagnostics: Vec::new(),
            fault: None,
        };
        let json = serde_json::to_value(&e).expect("json");
        assert_eq!(json["received_at"], "2026-11-28T10:00:00.123Z");
        assert_eq!(json["tracking_id"], "1");
        assert_eq!(
            json["params"]["click_id"], "a b",
            "the first value of a repeated key"
        );
        let back: Entry = serde_json::from_value(json).expect("parses");
        assert_eq!(back, e);
        assert_eq!(back.param("ios_ifa"), Some("X"), "aliases as everywhere");
    }
}
