//! A conversion reported to the mock (`POST /__admin/conversions`): checked field by field,
//! attributed, and turned into the tracker's postbacks.

use super::attribution::{attribute, Conversion, DeviceIds, MatchType};
use super::deliveries::{Delivery, DeliveryState};
use super::sender::MatchLabels;
use super::service::Postbacks;
use super::template::ConversionKind;
use super::touches::{is_of, touch_of, Lookup};
use super::values::{value, Converted, Touched};
use crate::journal::Journal;
use crate::trackers::{TrackerPlatform, Trackers};
use crate::wire::TextOrNumber;
use metrica_s2s_rules::{platform_of, quote_str, Kind, Platform};
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
    pub referrer_click_id: Option<String>,
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
struct Checked<'a> {
    tracking_id: u64,
    kind: ConversionKind,
    event_name: Option<&'a str>,
    at_ms: i64,
    device_ip: Option<IpAddr>,
    device_ua: Option<&'a str>,
    ids: DeviceIds<'a>,
    referrer_click_id: Option<&'a str>,
}

fn check(r: &ConversionRequest, now_ms: i64) -> Result<Checked<'_>, ConversionError> {
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
            "missing: say which conversion this is, \"install\", \"event\" or \"purchase\"".into(),
        )
    })?;
    let at_ms = match &r.at {
        None => now_ms,
        Some(TextOrNumber::Number(n)) => n
            .as_f64()
            .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e11)
            .map(|s| (s * 1000.0) as i64)
            .ok_or_else(|| {
                bad(
                    "at",
                    format!("{n} is not a Unix time in seconds (milliseconds? divide by 1000)"),
                )
            })?,
        Some(TextOrNumber::Text(t)) => metrica_s2s_rules::calendar::parse_rfc3339(t)
            .ok_or_else(|| {
                bad(
                    "at",
                    format!(
                        "{} is not an RFC 3339 time such as \"2026-11-28T10:00:00Z\" (or give Unix seconds as a number)",
                        quote_str(t)
                    ),
                )
            })?,
    };
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
        },
        referrer_click_id: text("referrer_click_id", &r.referrer_click_id, MAX_ID)?,
    })
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

/// Attributes the conversion in `r` at `now_ms` and starts its postbacks.
pub(crate) fn convert(
    r: &ConversionRequest,
    journal: &Journal,
    trackers: &Trackers,
    postbacks: &Postbacks,
    now_ms: i64,
) -> Result<ConversionOutcome, ConversionError> {
    let c = check(r, now_ms)?;
    let tid = c.tracking_id.to_string();
    let candidates = postbacks.index.candidates(
        journal,
        &Lookup {
            tracking_id: &tid,
            referrer_click_id: c.referrer_click_id,
            ids: c.ids,
            device_ip: c.device_ip,
            device_ua: c.device_ua,
        },
    );
    let entries: Vec<_> = candidates.iter().filter(|e| is_of(e, &tid)).collect();
    let touches: Vec<_> = entries.iter().map(|e| touch_of(e)).collect();
    let windows = trackers
        .windows(c.tracking_id)
        .scaled(postbacks.options().time_scale);
    let conversion = Conversion {
        at_ms: c.at_ms,
        referrer_click_id: c.referrer_click_id,
        ids: c.ids,
        device_ip: c.device_ip,
        device_ua: c.device_ua,
    };
    let transaction_id = postbacks.transaction_id();
    let Some(found) = attribute(&touches, &conversion, &windows) else {
        postbacks
            .counters()
            .conversions
            .get_or_create(&MatchLabels { match_type: "none" })
            .inc();
        return Ok(ConversionOutcome {
            attributed: false,
            match_type: None,
            touch: None,
            transaction_id,
            postbacks: Vec::new(),
        });
    };
    postbacks
        .counters()
        .conversions
        .get_or_create(&MatchLabels {
            match_type: found.match_type.as_str(),
        })
        .inc();
    let entry = entries[found.touch];
    let touch = touches[found.touch];
    let converted = Converted {
        kind: c.kind,
        event_name: c.event_name,
        at_ms: c.at_ms,
        transaction_id: &transaction_id,
        device_ip: c.device_ip,
        google_aid: c.ids.google_aid,
        ios_ifa: c.ids.ios_ifa,
        oaid: c.ids.oaid,
        os_name: os_name(
            trackers,
            c.tracking_id,
            &c.ids,
            c.device_ua.or(touch.device_ua),
        ),
    };
    let touched = Touched {
        entry,
        at_ms: touch.at_ms,
        match_type: found.match_type,
    };
    let templates = postbacks
        .templates_set(c.tracking_id)
        .or_else(|| trackers.get(c.tracking_id).map(|t| t.postbacks.clone()))
        .unwrap_or_default();
    let ids = templates
        .iter()
        .filter(|t| t.wants(c.kind, c.event_name))
        .map(|t| {
            let send = t.render(&|name| value(name, &converted, &touched));
            let d = Delivery {
                id: 0,
                transaction_id: transaction_id.clone(),
                tracking_id: tid.clone(),
                event: c.kind,
                event_name: c.event_name.map(str::to_owned),
                click_id: touch.click_id.map(str::to_owned),
                method: send.method,
                url: send.url.clone(),
                body: send.body.clone(),
                content_type: send.content_type.clone(),
                delivered: false,
                state: DeliveryState::Pending,
                next_attempt_at: None,
                attempts: Vec::new(),
            };
            postbacks.dispatch(d, send, trackers.policy(c.tracking_id))
        })
        .collect();
    Ok(ConversionOutcome {
        attributed: true,
        match_type: Some(found.match_type),
        touch: Some(TouchRef {
            kind: entry.kind,
            seq: entry.seq,
        }),
        transaction_id,
        postbacks: ids,
    })
}

/// `ios`, `android` or `windows`: the tracker's platform, else the identifier's, else the
/// User-Agent's.
fn os_name(
    trackers: &Trackers,
    id: u64,
    ids: &DeviceIds<'_>,
    ua: Option<&str>,
) -> Option<&'static str> {
    match trackers.get(id).map(|t| t.platform) {
        Some(TrackerPlatform::Android) => return Some("android"),
        Some(TrackerPlatform::Ios) => return Some("ios"),
        _ => {}
    }
    if ids.ios_ifa.is_some() {
        return Some("ios");
    }
    if ids.google_aid.is_some() || ids.oaid.is_some() {
        return Some("android");
    }
    let ua = ua?;
    match platform_of(ua) {
        Some(Platform::Ios) => Some("ios"),
        Some(Platform::Android) => Some("android"),
        None if ua.contains("Windows") => Some("windows"),
        None => None,
    }
}
