//! Each export's fields, in the order AppMetrica's Logs API reference lists them, and the rows
//! the mock has for it.

use crate::journal::Entry;
use crate::postback::deliveries::{Attempt, Delivery};
use crate::postback::export_row::{logs_datetime, Row};
use crate::postback::touches::touch_of;
use crate::postback::values::{ipv6_of, os_name};
use crate::state::State;
use metrica_s2s_rules::calendar::format_rfc3339;
use metrica_s2s_rules::{Code, Kind};
use std::sync::Arc;

/// Which export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Export {
    Postbacks,
    Clicks,
    Installations,
}

pub(crate) const POSTBACKS: &[&str] = &[
    "application_id",
    "attributed_touch_type",
    "click_datetime",
    "click_id",
    "click_ipv6",
    "click_timestamp",
    "click_url_parameters",
    "click_user_agent",
    "publisher_id",
    "publisher_name",
    "tracker_name",
    "tracking_id",
    "install_datetime",
    "install_ipv6",
    "install_timestamp",
    "match_type",
    "appmetrica_device_id",
    "device_locale",
    "device_manufacturer",
    "device_model",
    "device_type",
    "google_aid",
    "oaid",
    "ios_ifa",
    "ios_ifv",
    "os_name",
    "os_version",
    "windows_aid",
    "app_package_name",
    "app_version_name",
    "conversion_datetime",
    "conversion_timestamp",
    "event_name",
    "attempt_datetime",
    "attempt_timestamp",
    "cost_model",
    "notifying_status",
    "postback_url",
    "postback_url_parameters",
    "response_body",
    "response_code",
];

pub(crate) const CLICKS: &[&str] = &[
    "application_id",
    "click_datetime",
    "click_id",
    "click_ipv6",
    "click_timestamp",
    "click_url_parameters",
    "click_user_agent",
    "publisher_id",
    "publisher_name",
    "tracker_name",
    "tracking_id",
    "touch_type",
    "is_bot",
    "city",
    "country_iso_code",
    "device_manufacturer",
    "device_model",
    "device_type",
    "google_aid",
    "oaid",
    "ios_ifa",
    "ios_ifv",
    "os_name",
    "os_version",
    "windows_aid",
];

pub(crate) const INSTALLATIONS: &[&str] = &[
    "application_id",
    "installation_id",
    "attributed_touch_type",
    "click_datetime",
    "click_id",
    "click_ipv6",
    "click_timestamp",
    "click_url_parameters",
    "click_user_agent",
    "profile_id",
    "publisher_id",
    "publisher_name",
    "tracker_name",
    "tracking_id",
    "install_datetime",
    "install_ipv6",
    "install_receive_datetime",
    "install_receive_timestamp",
    "install_timestamp",
    "is_reattribution",
    "is_reinstallation",
    "match_type",
    "appmetrica_device_id",
    "city",
    "connection_type",
    "country_iso_code",
    "device_locale",
    "device_manufacturer",
    "device_model",
    "device_type",
    "google_aid",
    "oaid",
    "ios_ifa",
    "ios_ifv",
    "mcc",
    "mnc",
    "operator_name",
    "os_name",
    "os_version",
    "windows_aid",
    "app_package_name",
    "app_version_name",
];

impl Export {
    pub(crate) fn parse(name: &str) -> Option<Export> {
        match name {
            "postbacks" => Some(Export::Postbacks),
            "clicks" => Some(Export::Clicks),
            "installations" => Some(Export::Installations),
            _ => None,
        }
    }

    pub(crate) fn fields(self) -> &'static [&'static str] {
        match self {
            Export::Postbacks => POSTBACKS,
            Export::Clicks => CLICKS,
            Export::Installations => INSTALLATIONS,
        }
    }

    /// The field whose Unix seconds `date_since` and `date_until` bound: the device's time,
    /// or with `date_dimension=receive` the server's.
    pub(crate) fn time_field(self, receive: bool) -> &'static str {
        match (self, receive) {
            (Export::Postbacks, _) => "attempt_timestamp",
            (Export::Clicks, false) => "click_timestamp",
            (Export::Clicks, true) => "receive_timestamp",
            (Export::Installations, false) => "install_timestamp",
            (Export::Installations, true) => "install_receive_timestamp",
        }
    }

    /// Every row the mock keeps for this export, oldest first.
    pub(crate) fn rows(self, state: &State) -> Vec<Row> {
        match self {
            Export::Postbacks => postback_rows(state),
            Export::Clicks => click_rows(state),
            Export::Installations => state
                .postbacks()
                .exports
                .installations()
                .iter()
                .map(|r| Row::clone(r))
                .collect(),
        }
    }
}

/// One row per attempt: a postback that failed appears once per attempt, `failed` each time
/// until the one `sent`.
fn postback_rows(state: &State) -> Vec<Row> {
    let p = state.postbacks();
    let mut rows = Vec::new();
    for d in p.deliveries().all() {
        let Some(base) = p.exports.postback(d.id) else {
            continue;
        };
        for a in &d.attempts {
            rows.push(attempt_row(state, &base, &d, a));
        }
    }
    rows
}

fn attempt_row(state: &State, base: &Arc<Row>, d: &Delivery, a: &Attempt) -> Row {
    let mut row = Row::clone(base);
    let secs = i64::try_from(a.at / 1000).unwrap_or(i64::MAX);
    let policy = d
        .tracking_id
        .parse()
        .map(|id| state.trackers().policy(id))
        .unwrap_or_default();
    let sent = a.status.is_some_and(|s| policy.success.accepts(s));
    row.insert("attempt_datetime", logs_datetime(&format_rfc3339(secs)));
    row.insert("attempt_timestamp", secs.to_string());
    row.insert(
        "notifying_status",
        if sent { "sent" } else { "failed" }.to_owned(),
    );
    row.insert(
        "response_code",
        a.status.map_or_else(String::new, |s| s.to_string()),
    );
    row.insert("response_body", a.answer.clone().unwrap_or_default());
    row
}

/// Clicks and impressions the mock accepted, from the journal.
fn click_rows(state: &State) -> Vec<Row> {
    let journal = state.journal();
    let mut rows = Vec::new();
    let mut next = journal.first_seq();
    loop {
        let batch = journal.since(next, 1024);
        let Some(last) = batch.last() else { break };
        next = last.seq + 1;
        rows.extend(batch.iter().filter_map(|e| click_row(state, e)));
    }
    rows
}

fn click_row(state: &State, e: &Entry) -> Option<Row> {
    if e.status >= 400 || !matches!(e.kind, Kind::Click | Kind::Impression) {
        return None;
    }
    let tracking_id: u64 = e.tracking_id.as_deref()?.parse().ok()?;
    let received = i64::try_from(e.received_at_ms / 1000).unwrap_or(i64::MAX);
    // The click's time and ids as attribution reads them.
    let touch = touch_of(e);
    let at = touch.at_ms.div_euclid(1000);
    let param = |n: &str| e.param(n).unwrap_or_default().to_owned();
    let ua = touch.device_ua.unwrap_or_default();
    let os_name = os_name(&touch.ids, touch.device_ua).unwrap_or_default();
    let trackers = state.trackers();
    let mut row = Row::new();
    row.insert(
        "application_id",
        trackers.application_id(tracking_id).to_string(),
    );
    row.insert("click_datetime", logs_datetime(&format_rfc3339(at)));
    row.insert("click_id", param("click_id"));
    row.insert(
        "click_ipv6",
        e.param("device_ip")
            .and_then(|ip| ip.trim().parse().ok())
            .map(|ip| ipv6_of(ip).to_string())
            .unwrap_or_default(),
    );
    row.insert("click_timestamp", at.to_string());
    row.insert(
        "click_url_parameters",
        e.target.split_once('?').map_or("", |(_, q)| q).to_owned(),
    );
    row.insert("click_user_agent", ua.to_owned());
    row.insert("publisher_id", "0".into());
    row.insert("publisher_name", String::new());
    row.insert(
        "tracker_name",
        trackers
            .get(tracking_id)
            .map(|t| t.name.clone())
            .unwrap_or_default(),
    );
    row.insert("tracking_id", tracking_id.to_string());
    row.insert(
        "touch_type",
        match e.kind {
            Kind::Impression => "impression",
            _ => "click",
        }
        .to_owned(),
    );
    let bot = e.diagnostics.iter().any(|d| d.code == Code::UaBot);
    row.insert("is_bot", bot.to_string());
    for empty in [
        "city",
        "country_iso_code",
        "device_manufacturer",
        "device_model",
        "ios_ifv",
        "os_version",
    ] {
        row.insert(empty, String::new());
    }
    row.insert("device_type", "unknown".into());
    for id in ["google_aid", "oaid", "ios_ifa", "windows_aid"] {
        row.insert(id, param(id));
    }
    row.insert("os_name", os_name.to_owned());
    row.insert("receive_timestamp", received.to_string());
    Some(row)
}
