//! AppMetrica's S2S hosts and the event kind each one receives.

use serde::{Deserialize, Serialize};

/// The four domains AppMetrica answers S2S calls under.
pub const REAL_DOMAINS: &[&str] = &[
    "appmetrica.yandex.com",
    "appmetrika.yandex.com",
    "appmetrica.yandex.ru",
    "appmetrika.yandex.ru",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Click,
    Impression,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Click => "click",
            Kind::Impression => "impression",
        }
    }

    /// The real host that receives this kind of event.
    pub fn host(self) -> &'static str {
        match self {
            Kind::Click => "redirect.appmetrica.yandex.com",
            Kind::Impression => "impression.appmetrica.yandex.com",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The kind of event a real AppMetrica host receives, from a Host header or URL authority
/// (a port and a trailing dot are ignored, case too). Other hosts give `None`.
pub fn kind_for_host(host: &[u8]) -> Option<Kind> {
    let host = strip_port(host);
    let host = host.strip_suffix(b".").unwrap_or(host);
    let (kind, domain) = if let Some(d) = strip_prefix_ignore_case(host, b"redirect.") {
        (Kind::Click, d)
    } else if let Some(d) = strip_prefix_ignore_case(host, b"impression.") {
        (Kind::Impression, d)
    } else {
        return None;
    };
    REAL_DOMAINS
        .iter()
        .any(|real| real.as_bytes().eq_ignore_ascii_case(domain))
        .then_some(kind)
}

fn strip_port(host: &[u8]) -> &[u8] {
    match host.iter().rposition(|&b| b == b':') {
        Some(i) if !host.contains(&b']') || host[..i].ends_with(b"]") => &host[..i],
        _ => host,
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    (s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &s[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_hosts_route_by_prefix() {
        assert_eq!(
            kind_for_host(b"redirect.appmetrica.yandex.com"),
            Some(Kind::Click)
        );
        assert_eq!(
            kind_for_host(b"Impression.AppMetrika.Yandex.RU:443"),
            Some(Kind::Impression)
        );
        assert_eq!(
            kind_for_host(b"redirect.appmetrika.yandex.com."),
            Some(Kind::Click)
        );
    }

    #[test]
    fn other_hosts_have_no_kind() {
        assert_eq!(kind_for_host(b"redirect.appmetrica.yandex.net"), None);
        assert_eq!(kind_for_host(b"appmetrica.yandex.com"), None);
        assert_eq!(kind_for_host(b"127.0.0.1:8080"), None);
        assert_eq!(kind_for_host(b""), None);
    }
}
