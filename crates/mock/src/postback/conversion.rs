//! A conversion reported to the mock: attributed as AppMetrica documents it (an install by its
//! touches, every later conversion through the device's install), and turned into the
//! tracker's postbacks.

use super::attribution::{attribute, Conversion, DeviceIds, MatchType};
use super::deliveries::{Delivery, DeliveryState};
use super::export_row::{conversion_row, logs_datetime, postback_row, Source};
use super::hashed::digests_of;
use super::installs::{
    Device, InstallTouch, Recorded, CONVERSIONS_WITHIN_MS, SOURCE_OVERWRITTEN_AFTER_MS,
};
use super::request::{
    check, Checked, ConversionError, ConversionOutcome, ConversionRequest, TouchRef,
};
use super::sender::MatchLabels;
use super::service::Postbacks;
use super::template::ConversionKind;
use super::touches::{is_of, touch_of, Lookup};
use super::values::{os_name, value, Converted, InstallSide, Touched};
use crate::journal::{Entry, Journal};
use crate::trackers::{TrackerPlatform, Trackers};
use metrica_s2s_rules::calendar::format_rfc3339;
use std::sync::Arc;

/// Why a conversion sent no attributed postback, in words.
const NO_INSTALL: &str = "no install of this device is on record: AppMetrica attributes events, purchases, e-commerce and ad revenue through the device's install, so report the install first";

/// What a conversion is attributed to: the touch and how it matched.
struct Attributed {
    entry: Arc<Entry>,
    at_ms: i64,
    match_type: MatchType,
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
    let device = Device::new(
        &[
            c.ids.google_aid,
            c.ids.ios_ifa,
            c.ids.oaid,
            c.ids.windows_aid,
        ],
        c.device_ip,
        c.device_ua,
    );
    let scale = postbacks.options().time_scale.max(1e-9);
    let prior = postbacks.installs.of(&device);
    let (attributed, install, reason) = match c.kind {
        ConversionKind::Install => {
            let found = by_touches(&c, journal, trackers, postbacks);
            let reattribution = trackers.get(c.tracking_id).is_some_and(|t| t.reattribution);
            let overwritten_after = (SOURCE_OVERWRITTEN_AFTER_MS as f64 / scale).round() as i64;
            // AppMetrica counts every install of a registered test device as new.
            let test_device = trackers.is_test_device(&device.ids);
            match &prior {
                // A reinstall is attributed again only when the tracker asks for it, and only
                // to another tracker than the install's, or once 180 days have passed.
                Some(p)
                    if !test_device
                        && c.at_ms - p.at_ms <= overwritten_after
                        && !(reattribution && p.tracking_id != Some(c.tracking_id)) =>
                {
                    let reason = match p.tracking_id {
                        Some(t) if t == c.tracking_id => "a reinstall: this device was installed before through this tracker, and AppMetrica sends no second install postback for it (unless 180 days have passed since that install)".to_owned(),
                        Some(t) => format!("a reinstall: this device was installed before through tracker {t}, within 180 days; AppMetrica leaves reattribution off unless the tracker sets reattribution = true"),
                        None => "a reinstall: this device was installed before (organic), within 180 days; AppMetrica leaves reattribution off unless the tracker sets reattribution = true".to_owned(),
                    };
                    let hint = " (to install on one test device again and again, list its advertising id in the tracker file's test_devices, as AppMetrica's Settings > Test devices does)";
                    (None, None, Some(reason + hint))
                }
                _ => {
                    let touch = found.as_ref().map(|a| {
                        (
                            c.tracking_id,
                            InstallTouch {
                                entry: a.entry.clone(),
                                at_ms: a.at_ms,
                                match_type: a.match_type,
                            },
                        )
                    });
                    let recorded = postbacks.installs.record(
                        device.clone(),
                        c.at_ms,
                        c.device_ip,
                        c.timezone_offset_secs,
                        touch,
                    );
                    debug_assert!(prior.is_some() || matches!(recorded, Recorded::First));
                    let reason = found
                        .is_none()
                        .then(|| "no click or impression of this tracker matches the device within its windows".to_owned());
                    (found, None, reason)
                }
            }
        }
        _ => {
            let within = (CONVERSIONS_WITHIN_MS as f64 / scale).round() as i64;
            let reason = match &prior {
                None => Some(NO_INSTALL.to_owned()),
                Some(p) if p.tracking_id != Some(c.tracking_id) => Some(match p.tracking_id {
                    Some(t) => {
                        format!("the device's install was attributed to tracker {t}, not this one")
                    }
                    None => {
                        "the device's install was organic (attributed to no tracker)".to_owned()
                    }
                }),
                Some(p) if c.at_ms < p.at_ms || c.at_ms - p.at_ms > within => Some(
                    "the conversion is not within 6 months after the device's install".to_owned(),
                ),
                Some(_) => None,
            };
            let found = reason
                .is_none()
                .then_some(prior.as_ref())
                .flatten()
                .and_then(|p| {
                    p.touch.as_ref().map(|t| Attributed {
                        entry: t.entry.clone(),
                        at_ms: t.at_ms,
                        match_type: t.match_type,
                    })
                });
            let install = prior.as_ref().map(|p| InstallSide {
                at_ms: p.at_ms,
                ip: p.ip,
                timezone_offset_secs: p.timezone_offset_secs,
            });
            (found, install, reason)
        }
    };
    let first = match c.kind {
        ConversionKind::Install => true,
        kind => postbacks
            .installs
            .note(&device, kind, c.event_name)
            .unwrap_or(true),
    };
    let label = attributed
        .as_ref()
        .map_or("none", |a| a.match_type.as_str());
    postbacks
        .counters()
        .conversions
        .get_or_create(&MatchLabels { match_type: label })
        .inc();
    let transaction_id = postbacks.transaction_id();
    let tid = c.tracking_id.to_string();
    let os_name = c
        .os_name
        .or_else(|| os_name(&c.ids, c.device_ua))
        .or_else(|| {
            let touch_ua = attributed.as_ref().and_then(|a| a.entry.param("device_ua"));
            os_name(&DeviceIds::default(), touch_ua)
        })
        .or_else(|| tracker_platform(trackers, c.tracking_id));
    let converted = Converted {
        kind: c.kind,
        event_name: c.event_name,
        at_ms: c.at_ms,
        transaction_id: &transaction_id,
        device_ip: c.device_ip,
        google_aid: c.ids.google_aid,
        ios_ifa: c.ids.ios_ifa,
        oaid: c.ids.oaid,
        windows_aid: c.ids.windows_aid,
        os_name,
        install,
        request: r,
    };
    let touched = attributed.as_ref().map(|a| Touched {
        entry: &a.entry,
        at_ms: a.at_ms,
        match_type: a.match_type,
    });
    let tracker_name = trackers.get(c.tracking_id).map_or("", |t| t.name.as_str());
    let application_id = trackers.application_id(c.tracking_id);
    let attributed_source = Source {
        application_id,
        tracker: Some((c.tracking_id, tracker_name)),
    };
    let unattributed_source = Source {
        application_id,
        tracker: None,
    };
    // The export's row of this conversion, made once for each way a postback may carry it:
    // with the attribution, and without (a postback for all users, an unattributed install).
    let attributed_row = touched
        .as_ref()
        .map(|t| conversion_row(&converted, Some(t), &attributed_source));
    let unattributed_row = std::cell::OnceCell::new();
    let row_of = |touch: Option<&Touched<'_>>| match (touch, &attributed_row) {
        (Some(_), Some(row)) => row.clone(),
        _ => unattributed_row
            .get_or_init(|| conversion_row(&converted, None, &unattributed_source))
            .clone(),
    };
    if c.kind == ConversionKind::Install {
        let mut row = row_of(touched.as_ref());
        let received = format_rfc3339(now_ms.div_euclid(1000));
        row.insert("installation_id", transaction_id.clone());
        row.insert("install_receive_datetime", logs_datetime(&received));
        row.insert(
            "install_receive_timestamp",
            now_ms.div_euclid(1000).to_string(),
        );
        row.insert("is_reinstallation", prior.is_some().to_string());
        row.insert(
            "is_reattribution",
            (prior.is_some() && touched.is_some()).to_string(),
        );
        postbacks.exports.keep_installation(row);
    }
    let templates = postbacks
        .templates_set(c.tracking_id)
        .or_else(|| trackers.get(c.tracking_id).map(|t| t.postbacks.clone()))
        .unwrap_or_default();
    let ids = templates
        .iter()
        .filter(|t| t.wants(c.kind, c.event_name))
        .filter(|t| !t.first_event_only || first)
        .filter_map(|t| {
            // A postback for all users carries no attribution; the others need one.
            let touch = if t.all_users {
                None
            } else {
                Some(touched.as_ref()?)
            };
            let send = t.render(&|name| value(name, &converted, touch));
            let row = postback_row(row_of(touch), c.kind, &send.url);
            let d = Delivery {
                id: 0,
                transaction_id: transaction_id.clone(),
                tracking_id: tid.clone(),
                event: c.kind,
                event_name: c.event_name.map(str::to_owned),
                click_id: touch
                    .and_then(|t| t.entry.param("click_id"))
                    .map(str::to_owned),
                method: send.method,
                url: send.url.clone(),
                body: send.body.clone(),
                content_type: send.content_type.clone(),
                delivered: false,
                state: DeliveryState::Pending,
                next_attempt_at: None,
                attempts: Vec::new(),
            };
            let id = postbacks.dispatch(d, send, trackers.policy(c.tracking_id));
            postbacks.exports.keep_postback(id, row);
            Some(id)
        })
        .collect();
    Ok(ConversionOutcome {
        attributed: attributed.is_some(),
        match_type: attributed.as_ref().map(|a| a.match_type),
        touch: attributed.as_ref().map(|a| TouchRef {
            kind: a.entry.kind,
            seq: a.entry.seq,
        }),
        transaction_id,
        postbacks: ids,
        not_attributed: reason,
    })
}

/// An install attributed by the touches in the journal, by AppMetrica's policy.
fn by_touches(
    c: &Checked<'_>,
    journal: &Journal,
    trackers: &Trackers,
    postbacks: &Postbacks,
) -> Option<Attributed> {
    let tid = c.tracking_id.to_string();
    let digests = digests_of(&c.ids);
    let candidates = postbacks.index.candidates(
        journal,
        &Lookup {
            tracking_id: &tid,
            referrer_click_id: c.referrer_click_id,
            ids: c.ids,
            digests: &digests,
            device_ip: c.device_ip,
            device_ua: c.device_ua,
        },
    );
    let entries: Vec<_> = candidates.into_iter().filter(|e| is_of(e, &tid)).collect();
    let touches: Vec<_> = entries.iter().map(|e| touch_of(e)).collect();
    let windows = trackers
        .windows(c.tracking_id)
        .scaled(postbacks.options().time_scale);
    let conversion = Conversion {
        at_ms: c.at_ms,
        referrer_click_id: c.referrer_click_id,
        ids: c.ids,
        digests: &digests,
        device_ip: c.device_ip,
        device_ua: c.device_ua,
    };
    let found = attribute(&touches, &conversion, &windows)?;
    Some(Attributed {
        at_ms: touches[found.touch].at_ms,
        match_type: found.match_type,
        entry: entries[found.touch].clone(),
    })
}

/// The tracker's platform, when it names one: the last guess at the device's OS.
fn tracker_platform(trackers: &Trackers, id: u64) -> Option<&'static str> {
    match trackers.get(id).map(|t| t.platform) {
        Some(TrackerPlatform::Android) => Some("android"),
        Some(TrackerPlatform::Ios) => Some("ios"),
        _ => None,
    }
}
