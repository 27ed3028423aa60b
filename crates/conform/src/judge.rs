//! What arrived, against what the runner knows happened: the conformance-only rules.
//!
//! Each mismatch names the likely cause, because "device_ua differs" alone sends a partner
//! hunting; "truncated at 255 characters" sends them to the right column.

use crate::suite::Scenario;
use crate::truth::Truth;
use metrica_s2s_mock::model::Entry;
use metrica_s2s_rules::{calendar, percent_decode, quote_str, Code, Diagnostic, Draft, Severity};
use serde::Serialize;
use std::net::IpAddr;

/// A diagnostic with, for conformance rules, what was expected beside what arrived.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    #[serde(flatten)]
    pub diagnostic: Diagnostic,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

impl Finding {
    pub fn plain(diagnostic: Diagnostic) -> Finding {
        Finding {
            diagnostic,
            expected: None,
            actual: None,
        }
    }

    pub(crate) fn with(
        diagnostic: Diagnostic,
        expected: impl Into<String>,
        actual: impl Into<String>,
    ) -> Finding {
        Finding {
            diagnostic,
            expected: Some(expected.into()),
            actual: Some(actual.into()),
        }
    }

    pub fn is_error(&self) -> bool {
        self.diagnostic.severity == Severity::Error
    }
}

/// What the partner could know and what the mock could see, so checks never blame a partner
/// for what it was not given.
#[derive(Clone, Copy, Debug)]
pub struct Known {
    /// The partner was given the device's advertising ids (the http driver passes them only
    /// when its URL templates ask for `{google_aid}` / `{ios_ifa}`).
    pub ids: bool,
    /// Clicks and impressions reach different listeners, so the endpoint used is known.
    pub endpoint: bool,
}

/// Every finding for the requests that arrived for a scenario.
pub fn check(scenario: &Scenario, truth: &Truth, entries: &[&Entry], known: Known) -> Vec<Finding> {
    let mut out = Vec::new();
    if entries.is_empty() {
        let d = Draft::new(Code::NoRequest)
            .quoted("scenario", scenario.id.as_bytes())
            .arg("timeout", format!("{} ms", scenario.timeout_ms))
            .finish();
        out.push(Finding::plain(d));
        return out;
    }
    if entries.len() > scenario.requests {
        let d = Draft::new(Code::DuplicateEvent)
            .arg("count", entries.len().to_string())
            .quoted("scenario", scenario.id.as_bytes())
            .arg("expected", scenario.requests.to_string())
            .finish();
        out.push(Finding::with(
            d,
            scenario.requests.to_string(),
            entries.len().to_string(),
        ));
    }
    for entry in entries {
        out.extend(entry.diagnostics.iter().cloned().map(Finding::plain));
        out.extend(check_one(scenario, truth, entry, known));
    }
    out
}

fn check_one(scenario: &Scenario, truth: &Truth, entry: &Entry, known: Known) -> Vec<Finding> {
    let mut out = Vec::new();
    if known.endpoint && entry.kind != scenario.event {
        let d = Draft::new(Code::WrongEndpoint)
            .arg("event", scenario.event.as_str())
            .arg("endpoint", entry.kind.as_str())
            .finish();
        out.push(Finding::with(d, scenario.event.host(), entry.kind.host()));
    }
    let param = |name: &str| entry.param(name);
    if let Some(ip) = param("device_ip").and_then(|v| v.parse::<IpAddr>().ok()) {
        if ip.to_canonical() != scenario.device.ip.to_canonical() {
            let cause = ip_cause(ip, entry);
            let d = Draft::new(Code::IpMismatch)
                .quoted("actual", ip.to_string().as_bytes())
                .arg("expected", scenario.device.ip.to_string())
                .arg("cause", cause)
                .finish();
            out.push(Finding::with(
                d,
                scenario.device.ip.to_string(),
                ip.to_string(),
            ));
        }
    }
    // A UA the stateless rules already call mojibake is one cause, reported once.
    let garbled = entry.diagnostics.iter().any(|d| d.code == Code::UaMojibake);
    if let Some(ua) = param("device_ua").filter(|_| !garbled) {
        if ua != scenario.device.ua {
            let (cause, fix) = ua_cause(&scenario.device.ua, ua, entry.user_agent.as_deref());
            let d = Draft::new(Code::UaMismatch)
                .arg("cause", cause)
                .arg("fix", fix)
                .finish();
            out.push(Finding::with(d, scenario.device.ua.clone(), ua));
        }
    }
    let unit_error = entry.diagnostics.iter().any(|d| {
        matches!(
            d.code,
            Code::TimestampInvalid | Code::TimestampMilliseconds | Code::TimestampMicroseconds
        )
    });
    if let (Some(ts), false) = (
        param("click_timestamp").and_then(|v| v.parse::<u64>().ok()),
        unit_error,
    ) {
        let skew = ts.abs_diff(truth.event_time);
        if skew > scenario.timestamp_tolerance_secs {
            let d = Draft::new(Code::TimestampSkew)
                .arg(
                    "actual",
                    format!("{ts} ({})", calendar::format_utc(ts as i64)),
                )
                .arg(
                    "expected",
                    format!(
                        "{} ({})",
                        truth.event_time,
                        calendar::format_utc(truth.event_time as i64)
                    ),
                )
                .arg("skew", calendar::format_duration(skew))
                .arg(
                    "direction",
                    if ts > truth.event_time {
                        "late"
                    } else {
                        "early"
                    },
                )
                .arg("cause", zone_cause(ts, truth.event_time))
                .finish();
            out.push(Finding::with(
                d,
                truth.event_time.to_string(),
                ts.to_string(),
            ));
        }
    }
    let click = param("click_id");
    if click != Some(truth.click_id.as_str()) {
        let actual = click.map_or_else(|| "missing".to_owned(), quote_str);
        let d = Draft::new(Code::ClickIdMismatch)
            .arg("actual", actual.clone())
            .quoted("expected", truth.click_id.as_bytes())
            .finish();
        out.push(Finding::with(
            d,
            truth.click_id.clone(),
            click.unwrap_or(""),
        ));
    }
    for (name, want) in [
        ("google_aid", &scenario.device.google_aid),
        ("ios_ifa", &scenario.device.ios_ifa),
    ] {
        let Some(want) = want.as_ref().filter(|_| known.ids) else {
            continue;
        };
        let got = param(name);
        if got != Some(want.as_str()) {
            let actual = match got {
                None => "missing".to_owned(),
                Some(g) if g.eq_ignore_ascii_case(want) => {
                    format!("{} (case changed)", quote_str(g))
                }
                Some(g) => quote_str(g),
            };
            let d = Draft::new(Code::DeviceIdMismatch)
                .param(name)
                .arg("actual", actual)
                .quoted("expected", want.as_bytes())
                .finish();
            out.push(Finding::with(d, want.clone(), got.unwrap_or("")));
        }
    }
    out
}

fn ip_cause(ip: IpAddr, entry: &Entry) -> String {
    if entry
        .remote_addr
        .is_some_and(|r| r.ip().to_canonical() == ip.to_canonical())
    {
        return "it is the address of the server that sent the S2S call, your own".into();
    }
    let private = match ip.to_canonical() {
        IpAddr::V4(a) => a.is_private() || a.is_loopback() || a.is_link_local(),
        IpAddr::V6(a) => a.is_loopback() || (a.segments()[0] & 0xfe00) == 0xfc00,
    };
    if private {
        "it is a private address, probably a proxy's or load balancer's: take the client address, or the first public X-Forwarded-For entry".into()
    } else {
        "take it from the user's click request (the first public X-Forwarded-For entry behind a proxy), not from a cache or another user".into()
    }
}

/// Names the time-zone mistake a skew points at: the rules' own list of real offsets, with
/// their default slack.
fn zone_cause(ts: u64, event: u64) -> String {
    let slack = metrica_s2s_rules::Settings::default().timezone_slack_secs;
    calendar::zone_offset(ts, event, slack)
        .map(|zone| format!("; exactly the {zone} offset: local {zone} time was sent as UTC"))
        .unwrap_or_default()
}

/// Why `actual` is not `expected`, and how to fix it.
pub fn ua_cause(expected: &str, actual: &str, sender: Option<&str>) -> (String, String) {
    let pair = |c: String, f: &str| (c, f.to_owned());
    if actual.is_empty() {
        return pair(
            "it is empty".into(),
            "pass the User-Agent header of the user's click request",
        );
    }
    if sender == Some(actual) {
        return pair(
            format!(
                "it is the sender's own User-Agent header ({})",
                quote_str(actual)
            ),
            "pass the device's User-Agent from the click request, not your HTTP client's",
        );
    }
    if expected.starts_with(actual) {
        return pair(
            format!(
                "truncated at {} characters (the device's has {})",
                actual.chars().count(),
                expected.chars().count()
            ),
            "store and pass the whole User-Agent: look for column sizes and string-length limits",
        );
    }
    if expected.replace('+', " ") == actual {
        return pair(
            "'+' decoded as spaces: the plus signs were sent unencoded".into(),
            "percent-encode '+' as %2B",
        );
    }
    if actual.contains('%')
        && percent_decode(actual.as_bytes(), false).bytes.as_ref() == expected.as_bytes()
    {
        return pair(
            "still percent-encoded: the value was encoded twice".into(),
            "percent-encode the User-Agent exactly once",
        );
    }
    if actual.to_lowercase() == expected.to_lowercase() {
        return pair(
            "case changed".into(),
            "pass the User-Agent unchanged; do not normalise its case",
        );
    }
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    if squash(actual) == squash(expected) {
        return pair(
            "whitespace changed".into(),
            "pass the User-Agent unchanged; do not trim or collapse spaces",
        );
    }
    let latin1: String = expected.bytes().map(char::from).collect();
    if actual == latin1 {
        let first = expected.find(|c: char| !c.is_ascii()).unwrap_or(0);
        let meant: String = expected[first..].chars().take(3).collect();
        let shown: String = meant.bytes().map(char::from).collect();
        return pair(
            format!(
                "UTF-8 read as Latin-1 on the way: {} is {}",
                quote_str(&shown),
                quote_str(&meant)
            ),
            "read the User-Agent header as UTF-8 (or as raw bytes) before percent-encoding it",
        );
    }
    if actual.contains('\u{FFFD}') {
        return pair(
            "its non-ASCII characters were replaced (U+FFFD): they were not passed on as UTF-8"
                .into(),
            "keep the User-Agent in UTF-8 end to end and percent-encode its UTF-8 bytes",
        );
    }
    let at = expected
        .chars()
        .zip(actual.chars())
        .take_while(|(a, b)| a == b)
        .count();
    pair(
        format!(
            "it differs from character {at} on: {}",
            quote_str(&actual.chars().skip(at).take(40).collect::<String>())
        ),
        "pass the User-Agent of the same click, unchanged",
    )
}

#[cfg(test)]
mod tests {
    use super::ua_cause;

    #[test]
    fn ua_causes() {
        let ua = "Mozilla/5.0 (Linux; A+B) Ж";
        let cause = |actual: &str, sender: Option<&str>| ua_cause(ua, actual, sender).0;
        assert!(cause("Mozilla/5.0 (Li", None).starts_with("truncated at 15"));
        assert!(cause("Mozilla/5.0 (Linux; A B) Ж", None).starts_with("'+' decoded"));
        assert!(cause("Mozilla%2F5.0%20(Linux%3B%20A%2BB)%20%D0%96", None)
            .starts_with("still percent-encoded"));
        assert!(cause("okhttp/4.12.0", Some("okhttp/4.12.0")).starts_with("it is the sender's own"));
        assert_eq!(cause("mozilla/5.0 (linux; a+b) ж", None), "case changed");
        assert_eq!(
            cause("Mozilla/5.0  (Linux; A+B) Ж", None),
            "whitespace changed"
        );
        let latin1: String = ua.bytes().map(char::from).collect();
        let read = cause(&latin1, None);
        assert!(read.starts_with("UTF-8 read as Latin-1"), "{read}");
        assert!(read.contains(r#""Ð\u{96}" is "Ж""#), "{read}");
        assert!(cause("Mozilla/5.0 (Linux; A+B) \u{FFFD}", None).contains("replaced (U+FFFD)"));
        assert!(cause("Mozilla/5.0 (Linux; X)", None).starts_with("it differs from character 20"));
    }
}
