//! Keeps web pages out of a token-less admin API.
//!
//! Without a token the admin API trusts whoever can reach a loopback listener. A web page the
//! developer opens can reach it too, through DNS rebinding (a name of the attacker's that
//! resolves to 127.0.0.1, so the browser sends the attacker's Host) or by simply sending
//! requests to 127.0.0.1 (which carry the page's Origin). Both are refused here: the Host must
//! name a loopback address or `localhost` on the listener's port, and a request sent by a page
//! of another origin is refused.

use crate::problem::problem;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::Response;
use std::net::IpAddr;

/// The listener the admin API is served on, as the browser must name it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OwnAuthority {
    /// `None` in process (no listener): any port is the mock's.
    pub(crate) port: Option<u16>,
}

/// Lets a request through only when it names the mock itself and comes from no foreign page.
pub(crate) async fn same_origin_only(
    axum::extract::State(own): axum::extract::State<OwnAuthority>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match refusal(own, req.uri(), req.headers()) {
        None => next.run(req).await,
        Some(detail) => problem(
            StatusCode::FORBIDDEN,
            "admin-foreign-origin",
            "Admin API refused to a foreign host or origin",
            &detail,
            &[],
            None,
        ),
    }
}

/// Why the request is refused, or `None` when it may pass.
fn refusal(own: OwnAuthority, uri: &Uri, headers: &HeaderMap) -> Option<String> {
    // HTTP/2 names the authority in the URI; HTTP/1.1 in Host. A request naming none is not
    // from a browser.
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| text(headers, header::HOST).map(str::to_owned));
    if let Some(authority) = &authority {
        if !is_own(own, authority) {
            return Some(format!(
                "Host {} is not this mock: without an admin token the admin API answers only to a loopback address or localhost on its own port (a page using DNS rebinding sends its own name). Use http://127.0.0.1:<port>/, or set --admin-token",
                metrica_s2s_rules::quote_str(authority)
            ));
        }
    }
    if text(headers, "sec-fetch-site") == Some("cross-site") {
        return Some(
            "Sec-Fetch-Site: cross-site: a page on another site sent this request; the admin API answers only to its own pages and to non-browser clients".to_owned(),
        );
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = String::from_utf8_lossy(origin.as_bytes());
        let own_origin = origin
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
            .is_some_and(|(_, rest)| {
                authority.as_deref() == Some(rest) || (authority.is_none() && is_own(own, rest))
            });
        if !own_origin {
            return Some(format!(
                "Origin {} is not this mock: a page of another origin sent this request; the admin API answers only to its own pages and to non-browser clients",
                metrica_s2s_rules::quote_str(&origin)
            ));
        }
    }
    None
}

fn text<K: header::AsHeaderName>(headers: &HeaderMap, name: K) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `authority` is a loopback address or `localhost`, on the listener's port.
fn is_own(own: OwnAuthority, authority: &str) -> bool {
    let (host, port) = split_port(authority);
    let port_ok = match (own.port, port) {
        (None, _) => true,
        (Some(p), Some(given)) => given.parse::<u16>().ok() == Some(p),
        (Some(p), None) => p == 80,
    };
    let host_ok = host.eq_ignore_ascii_case("localhost")
        || host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    port_ok && host_ok
}

/// Host and port of an authority; IPv6 literals keep their brackets.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    if let Some(end) = authority.find(']') {
        let (host, rest) = authority.split_at(end + 1);
        return (host, rest.strip_prefix(':'));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

#[cfg(test)]
mod tests {
    use super::{refusal, OwnAuthority};
    use axum::http::{HeaderMap, HeaderValue, Uri};

    fn check(host: Option<&str>, origin: Option<&str>, site: Option<&str>) -> bool {
        let mut h = HeaderMap::new();
        for (name, value) in [("host", host), ("origin", origin), ("sec-fetch-site", site)] {
            if let Some(v) = value {
                h.insert(name, HeaderValue::from_str(v).expect("header"));
            }
        }
        let uri: Uri = "/__admin/requests".parse().expect("uri");
        refusal(OwnAuthority { port: Some(18080) }, &uri, &h).is_none()
    }

    #[test]
    fn only_the_mock_itself_passes() {
        for ok in [
            "127.0.0.1:18080",
            "127.1.2.3:18080",
            "localhost:18080",
            "LocalHost:18080",
            "[::1]:18080",
        ] {
            assert!(check(Some(ok), None, None), "{ok}");
        }
        for bad in [
            "attacker.example:18080",
            "127.0.0.1:18081",
            "127.0.0.1",
            "10.0.0.1:18080",
            "localhost.attacker.example:18080",
            "[::2]:18080",
            "",
        ] {
            assert!(!check(Some(bad), None, None), "{bad}");
        }
        assert!(check(None, None, None), "no Host: not a browser");
        assert!(check(
            Some("127.0.0.1:18080"),
            Some("http://127.0.0.1:18080"),
            Some("same-origin")
        ));
        assert!(check(
            Some("localhost:18080"),
            Some("https://localhost:18080"),
            None
        ));
        for origin in [
            "http://attacker.example",
            "null",
            "http://localhost:18080",
            "file://",
        ] {
            assert!(
                !check(Some("127.0.0.1:18080"), Some(origin), None),
                "{origin}"
            );
        }
        assert!(!check(Some("127.0.0.1:18080"), None, Some("cross-site")));
    }
}
