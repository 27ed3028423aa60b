//! What each postback macro stands for, for one attributed conversion: AppMetrica's system
//! macros, then any parameter of the tracking request the conversion was attributed to.

use super::attribution::MatchType;
use super::template::ConversionKind;
use crate::journal::Entry;
use metrica_s2s_rules::calendar::format_rfc3339;
use metrica_s2s_rules::Kind;
use std::net::IpAddr;

/// The conversion's side of the values.
#[derive(Clone, Debug)]
pub(crate) struct Converted<'a> {
    pub(crate) kind: ConversionKind,
    pub(crate) event_name: Option<&'a str>,
    pub(crate) at_ms: i64,
    pub(crate) transaction_id: &'a str,
    pub(crate) device_ip: Option<IpAddr>,
    pub(crate) google_aid: Option<&'a str>,
    pub(crate) ios_ifa: Option<&'a str>,
    pub(crate) oaid: Option<&'a str>,
    /// `ios`, `android` or `windows`, when known.
    pub(crate) os_name: Option<&'static str>,
}

/// The touch's side: the journal entry and when its event happened.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Touched<'a> {
    pub(crate) entry: &'a Entry,
    pub(crate) at_ms: i64,
    pub(crate) match_type: MatchType,
}

/// The value of macro `name`, or `None` (the macro becomes empty).
pub(crate) fn value(name: &str, c: &Converted<'_>, t: &Touched<'_>) -> Option<String> {
    let secs = |ms: i64| ms.div_euclid(1000);
    let param = |n: &str| t.entry.param(n).map(str::to_owned);
    let is_install = c.kind == ConversionKind::Install;
    Some(match name {
        "click_id" => return param("click_id"),
        "transaction_id" => c.transaction_id.to_owned(),
        "match_type" => t.match_type.as_str().to_owned(),
        "attributed_touch_type" => match t.entry.kind {
            Kind::Click => "click".to_owned(),
            Kind::Impression => "impression".to_owned(),
        },
        "click_timestamp" => secs(t.at_ms).to_string(),
        "click_datetime" => format_rfc3339(secs(t.at_ms)),
        "click_user_agent" => return param("device_ua"),
        "click_ipv6" => return param("device_ip").and_then(|ip| ipv6_form(&ip)),
        "install_timestamp" if is_install => secs(c.at_ms).to_string(),
        "install_datetime" if is_install => format_rfc3339(secs(c.at_ms)),
        "event_timestamp" if !is_install => secs(c.at_ms).to_string(),
        "event_datetime" if !is_install => format_rfc3339(secs(c.at_ms)),
        "install_ipv6" => return c.device_ip.map(|ip| ipv6_of(ip).to_string()),
        "google_aid" => {
            return c
                .google_aid
                .map(str::to_owned)
                .or_else(|| param("google_aid"))
        }
        "ios_ifa" => return c.ios_ifa.map(str::to_owned).or_else(|| param("ios_ifa")),
        "oaid" => return c.oaid.map(str::to_owned).or_else(|| param("oaid")),
        "os_name" => return c.os_name.map(str::to_owned),
        "conversion_event_name" => return c.event_name.map(str::to_owned),
        "appmetrica_device_id" => device_id(c, t).to_string(),
        "install_timestamp" | "install_datetime" | "event_timestamp" | "event_datetime" => {
            return None
        }
        other => return param(other),
    })
}

/// AppMetrica gives every IP in IPv6 form: `5.255.232.147` as `::ffff:5.255.232.147`.
pub(crate) fn ipv6_of(ip: IpAddr) -> std::net::Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

fn ipv6_form(text: &str) -> Option<String> {
    text.trim()
        .parse::<IpAddr>()
        .ok()
        .map(|ip| ipv6_of(ip).to_string())
}

/// A stable stand-in for AppMetrica's device id: a number derived from the device's
/// identifiers (or its click's fingerprint), so one device keeps one id across conversions.
fn device_id(c: &Converted<'_>, t: &Touched<'_>) -> u64 {
    let basis = c
        .google_aid
        .or(c.ios_ifa)
        .or(c.oaid)
        .map(str::to_ascii_lowercase)
        .or_else(|| {
            let ip = t.entry.param("device_ip").unwrap_or_default();
            let ua = t.entry.param("device_ua").unwrap_or_default();
            Some(format!("{ip}\n{ua}"))
        })
        .unwrap_or_default();
    // FNV-1a: fixed, so the same device gets the same id in every run of the mock.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in basis.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h % 10_000_000_000_000_000_000
}

#[cfg(test)]
mod tests {
    use crate::journal::Entry;
    use crate::postback::attribution::MatchType;
    use crate::postback::template::ConversionKind;
    use crate::postback::values::{value, Converted, Touched};
    use metrica_s2s_rules::Kind;

    fn entry(target: &str) -> Entry {
        let (tracking_id, params) = Entry::derived_from(target);
        Entry {
            seq: 3,
            received_at_ms: 1_795_860_001_000,
            kind: Kind::Click,
            method: "GET".into(),
            host: None,
            tracking_id,
            target: target.into(),
            params,
            remote_addr: None,
            user_agent: None,
            x_forwarded_for: None,
            status: 204,
            diagnostics: Vec::new(),
            fault: None,
        }
    }

    #[test]
    fn system_macros_and_the_clicks_own_parameters() {
        let e = entry("/serve/1?click_id=c%201&device_ip=5.255.232.147&device_ua=Mozilla%2F5.0%20(X)&sub_id=42&idfa=AB");
        let c = Converted {
            kind: ConversionKind::Install,
            event_name: None,
            at_ms: 1_795_863_600_000,
            transaction_id: "tx-1",
            device_ip: "2a02:6b8::2:242".parse().ok(),
            google_aid: None,
            ios_ifa: None,
            oaid: None,
            os_name: Some("ios"),
        };
        let t = Touched {
            entry: &e,
            at_ms: 1_795_860_000_000,
            match_type: MatchType::Fingerprint,
        };
        let v = |n: &str| value(n, &c, &t);
        assert_eq!(v("click_id").as_deref(), Some("c 1"));
        assert_eq!(v("click_ipv6").as_deref(), Some("::ffff:5.255.232.147"));
        assert_eq!(v("install_ipv6").as_deref(), Some("2a02:6b8::2:242"));
        assert_eq!(v("click_user_agent").as_deref(), Some("Mozilla/5.0 (X)"));
        assert_eq!(v("click_timestamp").as_deref(), Some("1795860000"));
        assert_eq!(v("click_datetime").as_deref(), Some("2026-11-28T10:00:00Z"));
        assert_eq!(
            v("install_datetime").as_deref(),
            Some("2026-11-28T11:00:00Z")
        );
        assert_eq!(v("event_timestamp"), None, "an install has no event time");
        assert_eq!(v("match_type").as_deref(), Some("fingerprint"));
        assert_eq!(v("attributed_touch_type").as_deref(), Some("click"));
        assert_eq!(v("sub_id").as_deref(), Some("42"), "any tracking parameter");
        assert_eq!(
            v("ios_ifa").as_deref(),
            Some("AB"),
            "the click's, under its alias"
        );
        assert_eq!(v("never_sent"), None);
        let id = v("appmetrica_device_id").expect("an id");
        assert!(id.bytes().all(|b| b.is_ascii_digit()), "{id}");
        assert_eq!(v("appmetrica_device_id"), Some(id), "stable");
    }
}
