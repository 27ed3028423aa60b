//! The conversion API's shapes (`POST /__admin/conversions`) and the request's checks, field
//! by field, each refusal naming the field and quoting its value.

use super::attribution::{DeviceIds, MatchType};
use super::template::ConversionKind;
use crate::wire::TextOrNumber;
use metrica_s2s_rules::{quote_str, Kind};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// Longest identifier, click id or event name accepted.
const MAX_ID: usize = 256;
/// Longest User-Agent accepted.
const MAX_UA: usize = 8 * 1024;

/// The request body, as docs/contract.md gives it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionRequest {
    pub tracking_id: TextOrNumber,
    pub event: Option<ConversionKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// Unix seconds, or an RFC 3339 time; now when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<TextOrNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_ua: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_aid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ios_ifa: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oaid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows_aid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer_click_id: Option<String>,
    /// `ios`, `android` or `windows`; else read from the ids and the User-Agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<TextOrNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inapp_transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inapp_validated: Option<bool>,
    /// The event's nested attributes, as `{conversion_event_json}` carries them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_json: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecom: Option<Ecom>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_model: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_version_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_package_name: Option<String>,
    /// The user's time zone at the conversion, as a UTC offset in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone_offset_secs: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ios_ifv: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_manufacturer: Option<String>,
    /// `PHONE`, `TABLET`, `PHABLET` or `TV`, as the postback macro writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mnc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appmetrica_sdk_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_app_id: Option<String>,
    /// The store's purchase information, for `{inapp_receipt}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inapp_receipt: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    /// When the session of the conversion began: Unix seconds, or an RFC 3339 time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_start: Option<TextOrNumber>,
}

/// An e-commerce event's details, for the `{ecom_*}` macros.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ecom {
    /// 1 page viewed ... 7 purchased, as AppMetrica numbers them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue: Option<TextOrNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity: Option<TextOrNumber>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promocodes: Option<String>,
    /// Category levels, outermost first: `{ecom_category_path_1}` ... `_10`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub category_path: Vec<String>,
}

/// The touch a conversion went to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TouchRef {
    pub kind: Kind,
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConversionOutcome {
    pub attributed: bool,
    pub match_type: Option<MatchType>,
    pub touch: Option<TouchRef>,
    pub transaction_id: String,
    /// Ids of the deliveries started (see `GET /__admin/postbacks`).
    pub postbacks: Vec<u64>,
    /// Why no attributed postback could go, when none could: a reinstall, no install on
    /// record, an install of another tracker, too late.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_attributed: Option<String>,
}

/// A field that cannot be used, named, with the value quoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub(crate) struct ConversionError {
    pub(crate) field: String,
    pub(crate) detail: String,
}

fn bad(field: &str, detail: String) -> ConversionError {
    ConversionError {
        field: field.to_owned(),
        detail,
    }
}

/// The request, checked.
pub(super) struct Checked<'a> {
    pub(super) tracking_id: u64,
    pub(super) kind: ConversionKind,
    pub(super) event_name: Option<&'a str>,
    pub(super) at_ms: i64,
    pub(super) device_ip: Option<IpAddr>,
    pub(super) device_ua: Option<&'a str>,
    pub(super) ids: DeviceIds<'a>,
    pub(super) referrer_click_id: Option<&'a str>,
    pub(super) os_name: Option<&'static str>,
    pub(super) timezone_offset_secs: Option<i32>,
}

pub(super) fn check(r: &ConversionRequest, now_ms: i64) -> Result<Checked<'_>, ConversionError> {
    let tracking_id = r.tracking_id.tracking_id().ok_or_else(|| {
        bad(
            "tracking_id",
            format!(
                "{} is not a tracking id: give the tracker's id, 1-20 decimal digits, as a string or a number",
                r.tracking_id.shown()
            ),
        )
    })?;
    let kind = r.event.ok_or_else(|| {
        bad(
            "event",
            "missing: say which conversion this is: \"install\", \"event\", \"purchase\", \"ecommerce\" or \"ad_revenue\"".into(),
        )
    })?;
    let at_ms = match &r.at {
        None => now_ms,
        Some(at) => time_of("at", at)?,
    };
    if let Some(t) = &r.session_start {
        time_of("session_start", t)?;
    }
    for (field, v) in [
        ("currency", &r.currency),
        ("product_id", &r.product_id),
        ("order_id", &r.order_id),
        ("inapp_transaction_id", &r.inapp_transaction_id),
        ("device_model", &r.device_model),
        ("os_version", &r.os_version),
        ("app_version_name", &r.app_version_name),
        ("app_package_name", &r.app_package_name),
        ("ios_ifv", &r.ios_ifv),
        ("profile_id", &r.profile_id),
        ("device_manufacturer", &r.device_manufacturer),
        ("device_locale", &r.device_locale),
        ("operator_name", &r.operator_name),
        ("mcc", &r.mcc),
        ("mnc", &r.mnc),
        ("appmetrica_sdk_version", &r.appmetrica_sdk_version),
        ("store_app_id", &r.store_app_id),
        ("session_id", &r.session_id),
    ] {
        text(field, v, MAX_ID)?;
    }
    // A receipt is the store's blob (base64 of a few kilobytes on iOS).
    text("inapp_receipt", &r.inapp_receipt, MAX_UA)?;
    if let Some(t) = r.device_type.as_deref() {
        if device_type(t).is_none() {
            return Err(bad(
                "device_type",
                format!(
                    "{} is not one of AppMetrica's device types: \"PHONE\", \"TABLET\", \"PHABLET\" or \"TV\"",
                    quote_str(t)
                ),
            ));
        }
    }
    let device_ip = r
        .device_ip
        .as_deref()
        .map(|ip| {
            ip.trim().parse::<IpAddr>().map_err(|_| {
                bad(
                    "device_ip",
                    format!(
                        "{} is not an IPv4 or IPv6 address (no port, no brackets)",
                        quote_str(ip)
                    ),
                )
            })
        })
        .transpose()?;
    Ok(Checked {
        tracking_id,
        kind,
        event_name: text("event_name", &r.event_name, MAX_ID)?,
        at_ms,
        device_ip,
        device_ua: text("device_ua", &r.device_ua, MAX_UA)?,
        ids: DeviceIds {
            google_aid: text("google_aid", &r.google_aid, MAX_ID)?,
            ios_ifa: text("ios_ifa", &r.ios_ifa, MAX_ID)?,
            oaid: text("oaid", &r.oaid, MAX_ID)?,
            windows_aid: text("windows_aid", &r.windows_aid, MAX_ID)?,
        },
        referrer_click_id: text("referrer_click_id", &r.referrer_click_id, MAX_ID)?,
        os_name: match r.os_name.as_deref() {
            None => None,
            Some("ios") => Some("ios"),
            Some("android") => Some("android"),
            Some("windows") => Some("windows"),
            Some(other) => {
                return Err(bad(
                    "os_name",
                    format!(
                    "{} is not one of AppMetrica's OS names: \"ios\", \"android\" or \"windows\"",
                    quote_str(other)
                ),
                ))
            }
        },
        timezone_offset_secs: match r.timezone_offset_secs {
            Some(s) if s.abs() > 14 * 3600 => {
                return Err(bad(
                    "timezone_offset_secs",
                    format!("{s} is beyond any time zone (UTC-14:00 to UTC+14:00, in seconds)"),
                ))
            }
            other => other,
        },
    })
}

/// A time given as Unix seconds or as RFC 3339 text, in milliseconds.
pub(crate) fn time_of(field: &str, t: &TextOrNumber) -> Result<i64, ConversionError> {
    match t {
        TextOrNumber::Number(n) => n
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e11)
            .map(|s| (s * 1000.0) as i64)
            .ok_or_else(|| {
                bad(
                    field,
                    format!("{n} is not a Unix time in seconds (milliseconds? divide by 1000)"),
                )
            }),
        TextOrNumber::Text(t) => metrica_s2s_rules::calendar::parse_rfc3339(t).ok_or_else(|| {
            bad(
                field,
                format!(
                    "{} is not an RFC 3339 time such as \"2026-11-28T10:00:00Z\" (or give Unix seconds as a number)",
                    quote_str(t)
                ),
            )
        }),
    }
}

/// AppMetrica's spelling of a device type (its postback macro's), whatever the case given.
pub(crate) fn device_type(t: &str) -> Option<&'static str> {
    ["PHONE", "TABLET", "PHABLET", "TV"]
        .into_iter()
        .find(|d| d.eq_ignore_ascii_case(t.trim()))
}

/// An optional text field: absent, or non-empty, bounded and free of control characters.
fn text<'a>(
    field: &str,
    v: &'a Option<String>,
    max: usize,
) -> Result<Option<&'a str>, ConversionError> {
    match v.as_deref() {
        Some(s) if s.trim().is_empty() => {
            Err(bad(field, "is empty: leave the field out instead".into()))
        }
        Some(s) if s.len() > max => Err(bad(
            field,
            format!("is {} bytes long; at most {max} are accepted", s.len()),
        )),
        Some(s) if s.chars().any(char::is_control) => Err(bad(
            field,
            format!("{} holds a control character", quote_str(s)),
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use crate::postback::request::{check, device_type, ConversionRequest};
    use crate::wire::TextOrNumber;

    fn request(fields: serde_json::Value) -> ConversionRequest {
        let mut body = serde_json::json!({"tracking_id": 7, "event": "purchase"});
        for (k, v) in fields.as_object().expect("fields") {
            body[k] = v.clone();
        }
        serde_json::from_value(body).expect("parses")
    }

    #[test]
    fn device_types_are_appmetricas_four_in_any_case() {
        assert_eq!(device_type("phone"), Some("PHONE"));
        assert_eq!(device_type(" Tablet "), Some("TABLET"));
        assert_eq!(device_type("tv"), Some("TV"));
        assert_eq!(device_type("watch"), None);
        let r = request(serde_json::json!({"device_type": "watch"}));
        let e = check(&r, 0).err().expect("refused");
        assert_eq!(e.field, "device_type");
        assert!(
            e.detail.contains("\"watch\"") && e.detail.contains("PHABLET"),
            "{e}"
        );
    }

    #[test]
    fn the_new_fields_are_checked_by_name() {
        let r = request(serde_json::json!({"session_start": "yesterday"}));
        let e = check(&r, 0).err().expect("refused");
        assert_eq!(e.field, "session_start");
        assert!(e.detail.contains("\"yesterday\""), "{e}");
        let r = request(serde_json::json!({"mcc": ""}));
        assert_eq!(check(&r, 0).err().expect("refused").field, "mcc");
        let r = request(serde_json::json!({"inapp_receipt": "a\u{1b}[2J"}));
        assert_eq!(check(&r, 0).err().expect("refused").field, "inapp_receipt");
        let mut fine =
            request(serde_json::json!({"session_start": 1_796_000_000, "device_type": "PHABLET"}));
        assert!(check(&fine, 0).is_ok());
        fine.session_start = Some(TextOrNumber::Text("2026-12-06T10:00:00+03:00".into()));
        assert!(check(&fine, 0).is_ok());
    }
}
