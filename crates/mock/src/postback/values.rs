//! What each postback macro stands for, for one conversion: AppMetrica's documented system
//! macros (`macros::DOCUMENTED`) from the conversion, the device's install and the touch that
//! install was attributed to; any other name from the touch's tracking request. What is not
//! known stays empty, as AppMetrica leaves it.

use super::attribution::{DeviceIds, MatchType};
use super::macros::is_documented;
use super::request::{device_type, time_of, ConversionRequest};
use super::template::ConversionKind;
use crate::journal::Entry;
use crate::wire::TextOrNumber;
use metrica_s2s_rules::calendar::format_rfc3339;
use metrica_s2s_rules::{is_zeroed_id, platform_of, Kind, Platform};
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
    pub(crate) windows_aid: Option<&'a str>,
    /// `ios`, `android` or `windows`: the converting device's, when known.
    pub(crate) os_name: Option<&'static str>,
    /// The device's install, for a conversion after it (an install is its own).
    pub(crate) install: Option<InstallSide>,
    /// The optional fields the app reported (revenue, device, app).
    pub(crate) request: &'a ConversionRequest,
}

/// What the install of the converting device left.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InstallSide {
    pub(crate) at_ms: i64,
    pub(crate) ip: Option<IpAddr>,
    pub(crate) timezone_offset_secs: Option<i32>,
}

/// The touch's side: the journal entry and when its event happened.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Touched<'a> {
    pub(crate) entry: &'a Entry,
    pub(crate) at_ms: i64,
    pub(crate) match_type: MatchType,
}

/// The value of macro `name`, or `None` (the macro becomes empty). `t` is `None` in a postback
/// for all users, which carries no attribution.
pub(crate) fn value(name: &str, c: &Converted<'_>, t: Option<&Touched<'_>>) -> Option<String> {
    let secs = |ms: i64| ms.div_euclid(1000);
    let param = |n: &str| t.and_then(|t| t.entry.param(n)).map(str::to_owned);
    let r = c.request;
    let install = match c.kind {
        ConversionKind::Install => Some(InstallSide {
            at_ms: c.at_ms,
            ip: c.device_ip,
            timezone_offset_secs: r.timezone_offset_secs,
        }),
        _ => c.install,
    };
    let text = |v: &Option<String>| v.clone();
    Some(match name {
        "click_id" => return param("click_id"),
        "transaction_id" => c.transaction_id.to_owned(),
        "match_type" => return t.map(|t| t.match_type.as_str().to_owned()),
        "attributed_touch_type" => {
            return t.map(|t| match t.entry.kind {
                Kind::Click => "click".to_owned(),
                Kind::Impression => "impression".to_owned(),
            })
        }
        "click_timestamp" => return t.map(|t| secs(t.at_ms).to_string()),
        "click_datetime" => return t.map(|t| format_rfc3339(secs(t.at_ms))),
        "click_user_agent" => return param("device_ua"),
        "click_ipv6" => return param("device_ip").and_then(|ip| ipv6_form(&ip)),
        "conversion_timestamp" => secs(c.at_ms).to_string(),
        "conversion_datetime" => format_rfc3339(secs(c.at_ms)),
        "conversion_timezone" => return r.timezone_offset_secs.map(|s| s.to_string()),
        "conversion_event_name" => return c.event_name.map(str::to_owned),
        "conversion_event_json" => {
            return r.event_json.as_ref().map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            })
        }
        "install_timestamp" => return install.map(|i| secs(i.at_ms).to_string()),
        "install_datetime" => return install.map(|i| format_rfc3339(secs(i.at_ms))),
        "install_timezone" => {
            return install.and_then(|i| i.timezone_offset_secs.map(|s| s.to_string()))
        }
        "install_ipv6" => return install.and_then(|i| i.ip).map(|ip| ipv6_of(ip).to_string()),
        "google_aid" => {
            return c
                .google_aid
                .map(str::to_owned)
                .or_else(|| param("google_aid"))
        }
        "ios_ifa" => return c.ios_ifa.map(str::to_owned).or_else(|| param("ios_ifa")),
        "oaid" => return c.oaid.map(str::to_owned).or_else(|| param("oaid")),
        "windows_aid" => {
            return c
                .windows_aid
                .map(str::to_owned)
                .or_else(|| param("windows_aid"))
        }
        "adwords_rdid" => c
            .google_aid
            .or(c.ios_ifa)
            .unwrap_or("00000000-0000-0000-0000-000000000000")
            .to_owned(),
        "limit_ad_tracking" => return limit_ad_tracking(c),
        "os_name" => return c.os_name.map(str::to_owned),
        "os_version" => return text(&r.os_version),
        "device_model" => return text(&r.device_model),
        "app_version_name" => return text(&r.app_version_name),
        "app_package_name" => return text(&r.app_package_name),
        "appmetrica_sdk_version" => return text(&r.appmetrica_sdk_version),
        "store_app_id" => return text(&r.store_app_id),
        "ios_ifv" => return text(&r.ios_ifv),
        "profile_id" => return text(&r.profile_id),
        "device_manufacturer" => return text(&r.device_manufacturer),
        "device_type" => {
            return r
                .device_type
                .as_deref()
                .and_then(device_type)
                .map(str::to_owned)
        }
        "device_locale" => return text(&r.device_locale),
        "operator_name" => return text(&r.operator_name),
        "mcc" => return text(&r.mcc),
        "mnc" => return text(&r.mnc),
        "session_id" => return text(&r.session_id),
        "start_timestamp" => return session_start(r).map(|ms| secs(ms).to_string()),
        "start_datetime" => return session_start(r).map(|ms| format_rfc3339(secs(ms))),
        // The session's time zone is the user's at the conversion: the mock has no other.
        "start_timezone" => {
            return session_start(r).and(r.timezone_offset_secs.map(|s| s.to_string()))
        }
        "inapp_receipt" => return text(&r.inapp_receipt),
        "appmetrica_device_id" => device_id(c, t).to_string(),
        "price" => return r.price.as_ref().map(TextOrNumber::as_text),
        "currency" => return text(&r.currency),
        "product_id" => return text(&r.product_id),
        "order_id" => return text(&r.order_id),
        "inapp_transaction_id" => return text(&r.inapp_transaction_id),
        "inapp_validated" => return r.inapp_validated.map(|v| u8::from(v).to_string()),
        "ecom_revenue" => return r.ecom.as_ref()?.revenue.as_ref().map(TextOrNumber::as_text),
        "ecom_quantity" => {
            return r
                .ecom
                .as_ref()?
                .quantity
                .as_ref()
                .map(TextOrNumber::as_text)
        }
        "ecom_product_name" => return r.ecom.as_ref().and_then(|e| e.product_name.clone()),
        "ecom_promocodes" => return r.ecom.as_ref().and_then(|e| e.promocodes.clone()),
        "ecom_type" => {
            return r
                .ecom
                .as_ref()
                .and_then(|e| e.r#type.map(|t| t.to_string()))
        }
        other => {
            if let Some(level) = other.strip_prefix("ecom_category_path_") {
                let at = level.parse::<usize>().ok()?.checked_sub(1)?;
                return r.ecom.as_ref()?.category_path.get(at).cloned();
            }
            // A documented macro the mock has no value for is empty, as AppMetrica leaves what
            // it cannot determine; any other name is a tracking-URL parameter.
            if is_documented(other) {
                return None;
            }
            return param(other);
        }
    })
}

/// When the conversion's session began, if the app said.
fn session_start(r: &ConversionRequest) -> Option<i64> {
    time_of("session_start", r.session_start.as_ref()?).ok()
}

/// `ios`, `android` or `windows`, from the device: its identifiers, else its User-Agent.
pub(crate) fn os_name(ids: &DeviceIds<'_>, ua: Option<&str>) -> Option<&'static str> {
    if ids.ios_ifa.is_some() {
        return Some("ios");
    }
    if ids.google_aid.is_some() || ids.oaid.is_some() {
        return Some("android");
    }
    if ids.windows_aid.is_some() {
        return Some("windows");
    }
    let ua = ua?;
    match platform_of(ua) {
        Some(Platform::Ios) => Some("ios"),
        Some(Platform::Android) => Some("android"),
        None if ua.contains("Windows") => Some("windows"),
        None => None,
    }
}

/// `1` when the device's ids are all turned off (zeroed), `0` when one is available, empty
/// when none was reported.
fn limit_ad_tracking(c: &Converted<'_>) -> Option<String> {
    let ids: Vec<&str> = [c.google_aid, c.ios_ifa, c.oaid]
        .into_iter()
        .flatten()
        .collect();
    if ids.is_empty() {
        return None;
    }
    Some(
        if ids.iter().all(|id| is_zeroed_id(id)) {
            "1"
        } else {
            "0"
        }
        .to_owned(),
    )
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
fn device_id(c: &Converted<'_>, t: Option<&Touched<'_>>) -> u64 {
    let basis = c
        .google_aid
        .or(c.ios_ifa)
        .or(c.oaid)
        .map(str::to_ascii_lowercase)
        .or_else(|| {
            let ip = t
                .and_then(|t| t.entry.param("device_ip"))
                .unwrap_or_default();
            let ua = t
                .and_then(|t| t.entry.param("device_ua"))
                .unwrap_or_default();
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
    use crate::postback::request::ConversionRequest;
    use crate::postback::template::ConversionKind;
    use crate::postback::values::{value, Converted, InstallSide, Touched};
    use crate::wire::TextOrNumber;
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
        let request = ConversionRequest::default();
        let c = Converted {
            kind: ConversionKind::Install,
            event_name: None,
            at_ms: 1_795_863_600_000,
            transaction_id: "tx-1",
            device_ip: "2a02:6b8::2:242".parse().ok(),
            google_aid: None,
            ios_ifa: None,
            oaid: None,
            windows_aid: None,
            os_name: Some("ios"),
            install: None,
            request: &request,
        };
        let t = Touched {
            entry: &e,
            at_ms: 1_795_860_000_000,
            match_type: MatchType::Fingerprint,
        };
        let v = |n: &str| value(n, &c, Some(&t));
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
        assert_eq!(
            v("conversion_timestamp").as_deref(),
            Some("1795863600"),
            "an install is its own conversion"
        );
        assert_eq!(
            v("event_timestamp"),
            None,
            "not documented, not a parameter of the click"
        );
        assert_eq!(v("device_model"), None, "documented, not reported: empty");
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

    #[test]
    fn an_event_reads_its_install_and_all_users_postbacks_carry_no_attribution() {
        let e = entry("/serve/1?click_id=c1&device_ip=5.255.232.147&device_ua=UA");
        let request = ConversionRequest {
            price: Some(TextOrNumber::Text("4.99".into())),
            currency: Some("USD".into()),
            timezone_offset_secs: Some(10_800),
            ..ConversionRequest::default()
        };
        let c = Converted {
            kind: ConversionKind::Purchase,
            event_name: None,
            at_ms: 1_795_860_000_000 + 11 * 86_400_000,
            transaction_id: "tx-2",
            device_ip: None,
            google_aid: Some("00000000-0000-0000-0000-000000000000"),
            ios_ifa: None,
            oaid: None,
            windows_aid: None,
            os_name: Some("android"),
            install: Some(InstallSide {
                at_ms: 1_795_860_060_000,
                ip: "5.255.232.147".parse().ok(),
                timezone_offset_secs: Some(10_800),
            }),
            request: &request,
        };
        let t = Touched {
            entry: &e,
            at_ms: 1_795_860_000_000,
            match_type: MatchType::Referrer,
        };
        let v = |n: &str| value(n, &c, Some(&t));
        assert_eq!(v("install_timestamp").as_deref(), Some("1795860060"));
        assert_eq!(v("install_ipv6").as_deref(), Some("::ffff:5.255.232.147"));
        assert_eq!(v("install_timezone").as_deref(), Some("10800"));
        assert_eq!(v("conversion_timestamp").as_deref(), Some("1796810400"));
        assert_eq!(v("price").as_deref(), Some("4.99"));
        assert_eq!(v("limit_ad_tracking").as_deref(), Some("1"));
        assert_eq!(v("click_id").as_deref(), Some("c1"));
        let unattributed = |n: &str| value(n, &c, None);
        assert_eq!(unattributed("click_id"), None);
        assert_eq!(unattributed("match_type"), None);
        assert_eq!(unattributed("price").as_deref(), Some("4.99"));
    }
}
