//! The documented postback macros, and the undocumented ones reported when the tracker file
//! loads.

use crate::support::{now, sigterm, start};
use crate::{click, convert, delivered, postback, query_of, tracker_file, Receiver};
use crate::{DAY, IFA, IPHONE_UA};
use serde_json::json;

#[test]
fn undocumented_macros_are_reported_when_the_tracker_file_loads() {
    let rx = Receiver::start(200);
    let file = tracker_file(
        "typo",
        &postback(
            "install",
            &rx,
            "c={clik_id}&ts={event_timestamp}&sub={sub_id}",
            "",
        ),
    );
    let mut server = start(&["--config", file.to_str().expect("path")]);
    let stderr = server.drain_stderr();
    sigterm(&server.child);
    assert_eq!(server.child.wait().expect("wait").code(), Some(0));
    let text = String::from_utf8(stderr.join().expect("stderr")).expect("utf-8");
    assert!(text.contains("postback-macro-unknown"), "{text}");
    assert!(text.contains("did you mean {click_id}"), "{text}");
    assert!(
        text.contains("did you mean {conversion_timestamp}"),
        "{text}"
    );
    assert!(
        text.contains("{sub_id}")
            && text.contains("filled only when the click's tracking URL carries"),
        "{text}"
    );
    let _ = std::fs::remove_file(file);
}

/// Every system macro of AppMetrica's postback specification page, as the page lists them.
const SYSTEM_MACROS: &[&str] = &[
    "adwords_link_id",
    "click_id",
    "match_type",
    "attributed_touch_type",
    "transaction_id",
    "click_user_agent",
    "click_datetime",
    "click_timestamp",
    "click_timezone",
    "click_ipv6",
    "conversion_datetime",
    "conversion_timestamp",
    "conversion_timezone",
    "conversion_event_name",
    "conversion_event_json",
    "install_datetime",
    "install_timestamp",
    "install_timezone",
    "install_ipv6",
    "start_datetime",
    "start_timestamp",
    "start_timezone",
    "session_id",
    "adwords_rdid",
    "appmetrica_device_id",
    "profile_id",
    "limit_ad_tracking",
    "google_aid",
    "ios_ifa",
    "oaid",
    "windows_aid",
    "ios_ifv",
    "device_manufacturer",
    "device_model",
    "device_type",
    "device_locale",
    "os_name",
    "os_version",
    "operator_name",
    "mcc",
    "mnc",
    "app_version_name",
    "app_package_name",
    "appmetrica_sdk_version",
    "store_app_id",
    "price",
    "currency",
    "product_id",
    "order_id",
    "inapp_transaction_id",
    "inapp_validated",
    "inapp_receipt",
    "ecom_revenue",
    "ecom_quantity",
    "ecom_product_name",
    "ecom_promocodes",
    "ecom_type",
    "ecom_category_path_1",
    "ecom_category_path_2",
    "ecom_category_path_3",
    "ecom_category_path_4",
    "ecom_category_path_5",
    "ecom_category_path_6",
    "ecom_category_path_7",
    "ecom_category_path_8",
    "ecom_category_path_9",
    "ecom_category_path_10",
];

/// A purchase 11 days after an iPhone's install, reported with every field the conversion API
/// takes: every documented macro is filled, but the device ids an iPhone does not have and the two
/// AppMetrica derives from what a mock cannot have (a Google Ads link, the click's time zone);
/// none is reported at load.
#[test]
fn every_documented_macro_is_filled_from_the_conversion_the_install_and_the_touch() {
    let rx = Receiver::start(200);
    let query: Vec<String> = SYSTEM_MACROS
        .iter()
        .map(|m| format!("{m}={{{m}}}"))
        .collect();
    let file = tracker_file(
        "every-macro",
        &postback("purchase", &rx, &query.join("&"), ""),
    );
    let mut server = start(&["--config", file.to_str().expect("path")]);
    let stderr = server.drain_stderr();
    let t = now();
    click(
        &server,
        "every-1",
        &format!("ios_ifa={IFA}"),
        IPHONE_UA,
        t - 5,
    );
    let device = json!({
        "ios_ifa": IFA, "device_ip": "2a02:6b8::2:242", "ios_ifv": "6D8B9C0A-1E2F-4A3B-8C4D-5E6F7A8B9C0D",
        "profile_id": "user-42", "device_manufacturer": "Apple", "device_model": "iPhone 15",
        "device_type": "phone", "device_locale": "ru_RU", "os_version": "17.1",
        "operator_name": "MTS", "mcc": "250", "mnc": "01", "app_version_name": "3.2.1",
        "app_package_name": "com.example.shop", "appmetrica_sdk_version": "7.4.0",
        "store_app_id": "id1234567890", "timezone_offset_secs": 10_800
    });
    let mut install = json!({"tracking_id": 7, "event": "install", "at": t});
    let mut purchase = json!({
        "tracking_id": 7, "event": "purchase", "at": t + 11 * DAY,
        "event_name": "subscription", "event_json": {"plan": "year"},
        "session_id": "10000000017", "session_start": t + 11 * DAY - 60,
        "price": "4.99", "currency": "EUR", "product_id": "sub.year", "order_id": "o-17",
        "inapp_transaction_id": "2000000123", "inapp_validated": true, "inapp_receipt": "MIIT...",
        "ecom": {"type": 7, "revenue": 4.99, "quantity": 1, "product_name": "Year",
                 "promocodes": "NEWYEAR", "category_path": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"]}
    });
    for (k, v) in device.as_object().expect("fields") {
        install[k] = v.clone();
        purchase[k] = v.clone();
    }
    assert_eq!(convert(&server, install)["attributed"], true);
    let outcome = convert(&server, purchase);
    delivered(&server, &outcome);
    let sent = query_of(&rx.seen()[0]);
    let empty: Vec<&str> = SYSTEM_MACROS
        .iter()
        .copied()
        .filter(|m| sent.get(*m).is_none_or(String::is_empty))
        .collect();
    // An iPhone has no Android or Windows id.
    assert_eq!(
        empty,
        [
            "adwords_link_id",
            "click_timezone",
            "google_aid",
            "oaid",
            "windows_aid"
        ],
        "{sent:?}"
    );
    let v = |m: &str| sent[m].as_str();
    assert_eq!(v("click_id"), "every-1", "the install's click");
    assert_eq!(v("os_name"), "ios");
    assert_eq!(v("device_type"), "PHONE");
    assert_eq!(v("conversion_timestamp"), (t + 11 * DAY).to_string());
    assert_eq!(v("install_timestamp"), t.to_string());
    assert_eq!(v("start_timestamp"), (t + 11 * DAY - 60).to_string());
    assert_eq!(v("install_timezone"), "10800");
    assert_eq!(v("install_ipv6"), "2a02%3A6b8%3A%3A2%3A242");
    assert_eq!(v("conversion_event_json"), "%7B%22plan%22%3A%22year%22%7D");
    assert_eq!(v("adwords_rdid"), IFA);
    assert_eq!(v("limit_ad_tracking"), "0");
    assert_eq!(v("ecom_category_path_10"), "j");
    sigterm(&server.child);
    assert_eq!(server.child.wait().expect("wait").code(), Some(0));
    let text = String::from_utf8(stderr.join().expect("stderr")).expect("utf-8");
    assert!(!text.contains("postback-macro-unknown"), "{text}");
    let _ = std::fs::remove_file(file);
}
