//! The rows of the Logs API's postbacks and installations exports, as AppMetrica shapes them,
//! made when a conversion is attributed: what a row says of the click, the install and the
//! device never changes afterwards, so it is kept, and an attempt adds its own fields when
//! the export is asked for.

use super::template::ConversionKind;
use super::values::{value, Converted, Touched};
use crate::lock::lock;
use indexmap::IndexMap;
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};

/// A row: field name to value, every value text (the export writes them as strings).
pub(crate) type Row = IndexMap<&'static str, String>;

/// The fields a conversion's row takes from its macros, by the macro that fills it.
const FROM_MACROS: &[(&str, &str)] = &[
    ("attributed_touch_type", "attributed_touch_type"),
    ("click_datetime", "click_datetime"),
    ("click_id", "click_id"),
    ("click_ipv6", "click_ipv6"),
    ("click_timestamp", "click_timestamp"),
    ("click_user_agent", "click_user_agent"),
    ("install_datetime", "install_datetime"),
    ("install_ipv6", "install_ipv6"),
    ("install_timestamp", "install_timestamp"),
    ("match_type", "match_type"),
    ("appmetrica_device_id", "appmetrica_device_id"),
    ("device_locale", "device_locale"),
    ("device_manufacturer", "device_manufacturer"),
    ("device_model", "device_model"),
    ("google_aid", "google_aid"),
    ("oaid", "oaid"),
    ("ios_ifa", "ios_ifa"),
    ("ios_ifv", "ios_ifv"),
    ("os_name", "os_name"),
    ("os_version", "os_version"),
    ("windows_aid", "windows_aid"),
    ("app_package_name", "app_package_name"),
    ("app_version_name", "app_version_name"),
    ("conversion_datetime", "conversion_datetime"),
    ("conversion_timestamp", "conversion_timestamp"),
    ("event_name", "conversion_event_name"),
    ("profile_id", "profile_id"),
    ("mcc", "mcc"),
    ("mnc", "mnc"),
    ("operator_name", "operator_name"),
];

/// Where a conversion's row stands: its tracker, when attributed, and the application.
pub(crate) struct Source<'a> {
    pub(crate) application_id: u64,
    /// `None` for an unattributed row (a postback for all users): tracking_id 0, no names.
    pub(crate) tracker: Option<(u64, &'a str)>,
}

/// The row of a conversion: its click, install, device and conversion fields.
pub(crate) fn conversion_row(
    c: &Converted<'_>,
    t: Option<&Touched<'_>>,
    source: &Source<'_>,
) -> Row {
    let mut row = Row::new();
    row.insert("application_id", source.application_id.to_string());
    for (field, name) in FROM_MACROS {
        let v = value(name, c, t).unwrap_or_default();
        let v = if field.ends_with("_datetime") {
            logs_datetime(&v)
        } else {
            v
        };
        row.insert(field, v);
    }
    if row["attributed_touch_type"].is_empty() {
        row.insert("attributed_touch_type", "unknown".into());
    }
    row.insert(
        "click_url_parameters",
        t.map(|t| {
            t.entry
                .target
                .split_once('?')
                .map_or("", |(_, q)| q)
                .to_owned()
        })
        .unwrap_or_default(),
    );
    let (tracking_id, tracker_name) = source
        .tracker
        .map_or(("0".to_owned(), ""), |(id, name)| (id.to_string(), name));
    row.insert("tracking_id", tracking_id);
    row.insert("tracker_name", tracker_name.to_owned());
    // The mock knows no publishers (media sources): 0 and empty, as for unattributed rows.
    row.insert("publisher_id", "0".into());
    row.insert("publisher_name", String::new());
    // The Logs API knows `phone`, `tablet` and `unknown`, where the macro has four types.
    let device_type = match value("device_type", c, t).as_deref() {
        Some("PHONE") => "phone",
        Some("TABLET") => "tablet",
        _ => "unknown",
    };
    row.insert("device_type", device_type.into());
    row.insert("city", String::new());
    row.insert("country_iso_code", String::new());
    row.insert("connection_type", "unknown".into());
    row
}

/// `2026-11-28T10:00:00Z` as the Logs API writes times: `2026-11-28 10:00:00`.
pub(crate) fn logs_datetime(rfc3339: &str) -> String {
    rfc3339.trim_end_matches('Z').replacen('T', " ", 1)
}

/// What the postbacks export needs of each delivery beyond its attempts.
pub(crate) fn postback_row(mut row: Row, kind: ConversionKind, url: &str) -> Row {
    row.insert("cost_model", kind.cost_model().to_owned());
    row.insert("postback_url", url.to_owned());
    row.insert(
        "postback_url_parameters",
        url.split_once('?').map_or("", |(_, q)| q).to_owned(),
    );
    row
}

/// The rows kept for the exports, bounded: deliveries' rows by delivery id (forgotten with
/// the oldest ids), installations in order.
#[derive(Debug)]
pub(crate) struct ExportRows {
    postbacks: Mutex<BTreeMap<u64, Arc<Row>>>,
    installations: Mutex<VecDeque<Arc<Row>>>,
    capacity: usize,
}

impl ExportRows {
    pub(crate) fn new(capacity: usize) -> ExportRows {
        ExportRows {
            postbacks: Mutex::new(BTreeMap::new()),
            installations: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
        }
    }

    pub(crate) fn keep_postback(&self, id: u64, row: Row) {
        let mut rows = lock(&self.postbacks);
        rows.insert(id, Arc::new(row));
        while rows.len() > self.capacity {
            rows.pop_first();
        }
    }

    pub(crate) fn postback(&self, id: u64) -> Option<Arc<Row>> {
        lock(&self.postbacks).get(&id).cloned()
    }

    pub(crate) fn keep_installation(&self, row: Row) {
        let mut rows = lock(&self.installations);
        rows.push_back(Arc::new(row));
        while rows.len() > self.capacity {
            rows.pop_front();
        }
    }

    pub(crate) fn installations(&self) -> Vec<Arc<Row>> {
        lock(&self.installations).iter().cloned().collect()
    }
}
