//! Attribution as AppMetrica documents it: installs by identifier, referrer and fingerprint,
//! later conversions through the install, reinstalls, duplicate click ids, postbacks for all
//! users and the first target event only.

use crate::support::{http_get, now, start};
use crate::{
    click, click_with, convert, delivered, postback, query_of, stop, tracker_file, Receiver,
};
use crate::{ANDROID_UA, DAY, GAID, IFA, IPHONE_UA};
use serde_json::json;

#[test]
fn an_event_on_day_11_goes_with_the_installs_click_and_its_documented_macros() {
    let rx = Receiver::start(200);
    let q = "click={click_id}&match={match_type}&conv={conversion_timestamp}&inst={install_timestamp}&os={os_name}&old={event_timestamp}";
    let file = tracker_file(
        "day11",
        &format!(
            "{}{}{}",
            postback("install", &rx, q, ""),
            postback("event", &rx, q, "event_name = \"checkout\""),
            postback(
                "ad_revenue",
                &rx,
                "click={click_id}&price={price}&cur={currency}",
                ""
            )
        ),
    );
    let server = start(&["--config", file.to_str().expect("path")]);
    let t = now();
    click(
        &server,
        "first",
        &format!("google_aid={GAID}"),
        ANDROID_UA,
        t - 10,
    );
    let install = convert(
        &server,
        json!({"tracking_id": 7, "event": "install", "google_aid": GAID, "at": t}),
    );
    assert_eq!(install["match_type"], "identifier", "{install}");
    // A later click of the same device: the event still belongs to the install's click.
    click(
        &server,
        "later",
        &format!("google_aid={GAID}"),
        ANDROID_UA,
        t - 1,
    );
    let event = convert(
        &server,
        json!({"tracking_id": 7, "event": "event", "event_name": "checkout",
               "google_aid": GAID, "at": t + 11 * DAY}),
    );
    assert_eq!(
        event["postbacks"].as_array().map(Vec::len),
        Some(1),
        "{event}"
    );
    delivered(&server, &event);
    let seen = rx.seen();
    let sent = query_of(
        seen.iter()
            .find(|l| l.contains("/event?"))
            .expect("the event postback"),
    );
    assert_eq!(sent["click"], "first");
    assert_eq!(sent["match"], "identifier");
    assert_eq!(sent["conv"], (t + 11 * DAY).to_string());
    assert_eq!(sent["inst"], t.to_string());
    assert_eq!(sent["os"], "android");
    assert_eq!(
        sent["old"], "",
        "{{event_timestamp}} is not AppMetrica's: empty"
    );
    // Ad revenue on day 11 too: through the install, with its amount.
    let revenue = convert(
        &server,
        json!({"tracking_id": 7, "event": "ad_revenue", "google_aid": GAID,
               "price": 0.0125, "currency": "USD", "at": t + 11 * DAY}),
    );
    delivered(&server, &revenue);
    let seen = rx.seen();
    let sent = query_of(
        seen.iter()
            .find(|l| l.contains("/ad_revenue?"))
            .expect("the ad-revenue postback"),
    );
    assert_eq!(
        (
            sent["click"].as_str(),
            sent["price"].as_str(),
            sent["cur"].as_str()
        ),
        ("first", "0.0125", "USD")
    );
    // Past 6 months after the install, nothing goes.
    let late = convert(
        &server,
        json!({"tracking_id": 7, "event": "event", "event_name": "checkout",
               "google_aid": GAID, "at": t + 200 * DAY}),
    );
    assert_eq!(late["postbacks"], json!([]), "{late}");
    assert!(late["not_attributed"]
        .as_str()
        .is_some_and(|w| w.contains("6 months")));
    stop(server, &file);
}

#[test]
fn unattributed_devices_get_postbacks_only_for_all_users_and_reinstalls_are_silent() {
    let rx = Receiver::start(200);
    let file = tracker_file(
        "all-users",
        &format!(
            "{}{}{}",
            postback("install", &rx, "click={click_id}", ""),
            postback("purchase", &rx, "click={click_id}&price={price}", ""),
            postback(
                "purchase",
                &rx,
                "all=1&click={click_id}&price={price}&cur={currency}",
                "all_users = true"
            )
        ),
    );
    let server = start(&["--config", file.to_str().expect("path")]);
    let t = now();
    // A device no click or install is known for.
    let stranger = convert(
        &server,
        json!({"tracking_id": 7, "event": "purchase", "google_aid": "11111111-2222-4333-8444-555555555555",
               "price": 4.99, "currency": "USD"}),
    );
    assert_eq!(
        stranger["postbacks"].as_array().map(Vec::len),
        Some(1),
        "only the all-users postback: {stranger}"
    );
    assert!(stranger["not_attributed"]
        .as_str()
        .is_some_and(|w| w.contains("no install")));
    delivered(&server, &stranger);
    let sent = query_of(&rx.seen()[0]);
    assert_eq!(
        (
            sent["all"].as_str(),
            sent["click"].as_str(),
            sent["price"].as_str(),
            sent["cur"].as_str()
        ),
        ("1", "", "4.99", "USD")
    );
    // An attributed install, then the same device installs again.
    click(
        &server,
        "c1",
        &format!("google_aid={GAID}"),
        ANDROID_UA,
        t - 5,
    );
    let first = convert(
        &server,
        json!({"tracking_id": 7, "event": "install", "google_aid": GAID}),
    );
    assert_eq!(
        first["postbacks"].as_array().map(Vec::len),
        Some(1),
        "{first}"
    );
    click(
        &server,
        "c2",
        &format!("google_aid={GAID}"),
        ANDROID_UA,
        t - 1,
    );
    let again = convert(
        &server,
        json!({"tracking_id": 7, "event": "install", "google_aid": GAID}),
    );
    assert_eq!(
        again["postbacks"],
        json!([]),
        "a reinstall is silent: {again}"
    );
    assert_eq!(again["attributed"], false);
    assert!(again["not_attributed"]
        .as_str()
        .is_some_and(|w| w.contains("reinstall")));
    stop(server, &file);
}

#[test]
fn os_name_is_the_converting_devices_and_the_first_event_only_goes_once() {
    let rx = Receiver::start(200);
    let file = tracker_file(
        "os-name",
        &format!(
            "{}{}",
            postback("install", &rx, "os={os_name}&ifa={ios_ifa}", ""),
            postback("event", &rx, "first=1", "first_event_only = true")
        ),
    );
    let server = start(&["--config", file.to_str().expect("path")]);
    // An iPhone converting on the Android tracker.
    click(
        &server,
        "ip1",
        &format!("ios_ifa={IFA}"),
        IPHONE_UA,
        now() - 2,
    );
    let install = convert(
        &server,
        json!({"tracking_id": 7, "event": "install", "ios_ifa": IFA}),
    );
    delivered(&server, &install);
    let sent = query_of(&rx.seen()[0]);
    assert_eq!(sent["os"], "ios");
    for n in 0..2 {
        let e = convert(
            &server,
            json!({"tracking_id": 7, "event": "event", "event_name": "level", "ios_ifa": IFA}),
        );
        let want = if n == 0 { 1 } else { 0 };
        assert_eq!(e["postbacks"].as_array().map(Vec::len), Some(want), "{e}");
    }
    stop(server, &file);
}

/// A click that carries only a hashed id (`google_aid_md5`, as coreutils' md5sum writes it) is
/// matched to the raw id the install reports, by identifier.
#[test]
fn hashed_ids_match_the_raw_id() {
    let rx = Receiver::start(200);
    let file = tracker_file("hashed", &postback("install", &rx, "c={click_id}", ""));
    let server = start(&["--config", file.to_str().expect("path")]);
    // `printf %s 38400000-8cf0-11bd-b23e-10b96e40000d | md5sum`
    let md5 = "5756ae9022b2ea1e47d84fead75220c8";
    click(
        &server,
        "hashed-1",
        &format!("google_aid_md5={md5}"),
        ANDROID_UA,
        now() - 1,
    );
    let install = convert(
        &server,
        json!({"tracking_id": 7, "event": "install", "google_aid": GAID, "device_ip": "203.0.113.9"}),
    );
    assert_eq!(install["match_type"], "identifier", "{install}");
    assert_eq!(install["postbacks"].as_array().map(Vec::len), Some(1));
    stop(server, &file);
}

/// A click whose click_id repeats one of the tracker's within 7 days is never linked; a
/// reinstall goes to another tracker only when that tracker sets `reattribution = true`, and
/// e-commerce conversions carry their `{ecom_*}` macros.
#[test]
fn duplicate_click_ids_reattribution_and_ecommerce() {
    let rx = Receiver::start(200);
    let path = std::env::temp_dir().join(format!(
        "metrica-s2s-fidelity-reattribution-{}.toml",
        std::process::id()
    ));
    let tracker = |id: u64, more: &str| {
        let rx = rx.addr;
        format!(
            "[[tracker]]\nid = {id}\nname = \"T{id}\"\nplatform = \"android\"\nstore_url = \"https://play.google.com/store/apps/details?id=x\"\n{more}[[tracker.postback]]\nevent = \"install\"\nurl = \"http://{rx}/i{id}?c={{click_id}}\"\n"
        )
    };
    let ecom = format!(
        "[[tracker.postback]]\nevent = \"ecommerce\"\nurl = \"http://{}/e?c={{click_id}}&rev={{ecom_revenue}}&type={{ecom_type}}&cat2={{ecom_category_path_2}}&price={{price}}\"\n",
        rx.addr
    );
    std::fs::write(
        &path,
        format!(
            "{}{}",
            tracker(7, &ecom),
            tracker(8, "reattribution = true\n")
        ),
    )
    .expect("tracker file");
    let server = start(&["--config", path.to_str().expect("path")]);
    let t = now();
    let other = "11111111-2222-4333-8444-555555555555";
    // The same click_id twice on tracker 7: the second click, a new device's, is never linked.
    click(
        &server,
        "dup",
        &format!("google_aid={GAID}"),
        ANDROID_UA,
        t - 20,
    );
    click(
        &server,
        "dup",
        &format!("google_aid={other}"),
        ANDROID_UA,
        t - 10,
    );
    let unlinked = convert(
        &server,
        json!({"tracking_id": 7, "event": "install", "google_aid": other}),
    );
    assert_eq!(unlinked["attributed"], false, "{unlinked}");
    // The first device installs through tracker 7, then reinstalls through tracker 8.
    let first = convert(
        &server,
        json!({"tracking_id": 7, "event": "install", "google_aid": GAID}),
    );
    assert_eq!(first["attributed"], true, "{first}");
    let e = convert(
        &server,
        json!({"tracking_id": 7, "event": "ecommerce", "google_aid": GAID, "price": "19.90",
               "ecom": {"type": 7, "revenue": 39.8, "quantity": 2, "category_path": ["Shoes", "Running"]}}),
    );
    delivered(&server, &e);
    let sent = rx.seen();
    let line = sent
        .iter()
        .find(|l| l.contains("/e?"))
        .expect("the e-commerce postback");
    let q = query_of(line);
    assert_eq!(
        (
            q["c"].as_str(),
            q["rev"].as_str(),
            q["type"].as_str(),
            q["cat2"].as_str(),
            q["price"].as_str()
        ),
        ("dup", "39.8", "7", "Running", "19.90")
    );
    let on_8 = format!(
        "/serve/8?click_id=c8&google_aid={GAID}&device_ip=5.255.232.147&device_ua={ANDROID_UA}&click_timestamp={}",
        t - 1
    );
    assert_eq!(http_get(server.click, &on_8), 204);
    let moved = convert(
        &server,
        json!({"tracking_id": 8, "event": "install", "google_aid": GAID}),
    );
    assert_eq!(
        moved["attributed"], true,
        "reattributed to tracker 8: {moved}"
    );
    let back = convert(
        &server,
        json!({"tracking_id": 7, "event": "install", "google_aid": GAID}),
    );
    assert_eq!(
        back["attributed"], false,
        "tracker 7 does not reattribute: {back}"
    );
    // Tracker 8 reattributes, but a reinstall through the tracker it already went to is silent.
    let on_8_again = format!(
        "/serve/8?click_id=c8-again&google_aid={GAID}&device_ip=5.255.232.147&device_ua={ANDROID_UA}&click_timestamp={}",
        t
    );
    assert_eq!(http_get(server.click, &on_8_again), 204);
    let again = convert(
        &server,
        json!({"tracking_id": 8, "event": "install", "google_aid": GAID}),
    );
    assert_eq!(
        (again["attributed"].clone(), again["postbacks"].clone()),
        (json!(false), json!([])),
        "a reinstall through the same tracker sends nothing: {again}"
    );
    stop(server, &path);
}

/// The methods in AppMetrica's order: identifier, then referrer (`click_id` or
/// `external_click_id`), then fingerprint; each device's click is older than the clicks a later
/// method would find, so the last click alone would pick another.
#[test]
fn identifier_goes_before_referrer_before_fingerprint() {
    let rx = Receiver::start(200);
    let file = tracker_file(
        "order",
        &postback(
            "install",
            &rx,
            "tx={transaction_id}&c={click_id}&m={match_type}&os={os_name}",
            "",
        ),
    );
    let server = start(&["--config", file.to_str().expect("path")]);
    let t = now();
    let ua = ANDROID_UA;
    let windows_aid = "5E1F3A7C-9B2D-4E6F-8A0B-1C2D3E4F5A6B";
    // Device 1: its id on the oldest click, its referrer and its fingerprint on later ones.
    click_with(&server, &format!("click_id=by-id&google_aid={GAID}&device_ip=192.0.2.1&device_ua={ua}&click_timestamp={}", t - 30));
    click_with(
        &server,
        &format!(
            "click_id=by-ref&device_ip=192.0.2.2&device_ua={ua}&click_timestamp={}",
            t - 20
        ),
    );
    click_with(
        &server,
        &format!(
            "click_id=by-fp&device_ip=203.0.113.5&device_ua={ua}&click_timestamp={}",
            t - 10
        ),
    );
    // Device 2: a referrer carrying the click's external_click_id, and a later fingerprint.
    click_with(&server, &format!("click_id=ck-77&external_click_id=ext-77&device_ip=192.0.2.3&device_ua={ua}&click_timestamp={}", t - 30));
    click_with(
        &server,
        &format!(
            "click_id=fp-2&device_ip=198.51.100.9&device_ua={ua}&click_timestamp={}",
            t - 10
        ),
    );
    // Device 3: a Windows id; device 4: nothing but its IP and User-Agent.
    click_with(&server, &format!("click_id=by-waid&windows_aid={windows_aid}&device_ip=192.0.2.4&device_ua={ua}&click_timestamp={}", t - 30));
    click_with(
        &server,
        &format!(
            "click_id=fp-only&device_ip=198.51.100.44&device_ua={ua}&click_timestamp={}",
            t - 5
        ),
    );
    let pixel = "Mozilla/5.0 (Linux; Android 14; Pixel 8)";
    let cases = [
        (
            json!({"google_aid": GAID, "referrer_click_id": "by-ref", "device_ip": "203.0.113.5", "device_ua": pixel}),
            "identifier",
            "by-id",
            "android",
        ),
        (
            json!({"referrer_click_id": "ext-77", "device_ip": "198.51.100.9", "device_ua": pixel}),
            "referrer",
            "ck-77",
            "android",
        ),
        (
            json!({"windows_aid": windows_aid, "device_ip": "198.51.100.77"}),
            "identifier",
            "by-waid",
            "windows",
        ),
        (
            json!({"device_ip": "198.51.100.44", "device_ua": pixel}),
            "fingerprint",
            "fp-only",
            "android",
        ),
    ];
    for (device, match_type, click_id, os) in cases {
        let mut body = json!({"tracking_id": 7, "event": "install"});
        for (k, v) in device.as_object().expect("fields") {
            body[k] = v.clone();
        }
        let install = convert(&server, body);
        assert_eq!(install["match_type"], match_type, "{device}: {install}");
        delivered(&server, &install);
        let tx = install["transaction_id"].as_str().expect("tx");
        let seen = rx.seen();
        let line = seen
            .iter()
            .find(|l| l.contains(&format!("tx={tx}&")))
            .expect("its postback");
        let q = query_of(line);
        assert_eq!(
            (q["c"].as_str(), q["m"].as_str(), q["os"].as_str()),
            (click_id, match_type, os),
            "{device}"
        );
    }
    stop(server, &file);
}

/// More than 180 days after a device's install, AppMetrica overwrites its source (attribution
/// policy page): a new install through a click is attributed and posted back, with
/// reattribution off; 179 days after, it is still a silent reinstall.
#[test]
fn a_reinstall_180_days_after_the_install_is_attributed_afresh() {
    let rx = Receiver::start(200);
    let file = tracker_file("overwrite", &postback("install", &rx, "c={click_id}", ""));
    let server = start(&["--config", file.to_str().expect("path")]);
    let t = now();
    let other = "11111111-2222-4333-8444-555555555555";
    for (gaid, days, attributed) in [(GAID, 181, true), (other, 179, false)] {
        // The first install, long ago and organic.
        let old = convert(
            &server,
            json!({"tracking_id": 7, "event": "install", "google_aid": gaid, "at": t - days * DAY}),
        );
        assert_eq!(old["attributed"], false, "{old}");
        click(
            &server,
            &format!("again-{days}"),
            &format!("google_aid={gaid}"),
            ANDROID_UA,
            t - 5,
        );
        let again = convert(
            &server,
            json!({"tracking_id": 7, "event": "install", "google_aid": gaid, "at": t}),
        );
        assert_eq!(again["attributed"], attributed, "{days} days: {again}");
        let sent = again["postbacks"].as_array().map_or(0, Vec::len);
        assert_eq!(sent, usize::from(attributed), "{days} days: {again}");
        if !attributed {
            assert!(again["not_attributed"]
                .as_str()
                .is_some_and(|w| w.contains("reinstall") && w.contains("180 days")));
        }
    }
    stop(server, &file);
}

/// A device listed in `test_devices` is installed afresh every time, through the same tracker
/// too, as AppMetrica treats its registered test devices; another device's second install stays
/// a silent reinstall whose reason points to the setting.
#[test]
fn a_test_device_is_attributed_on_every_install() {
    let rx = Receiver::start(200);
    let listed = tracker_file(
        "test-devices",
        &postback("install", &rx, "c={click_id}", ""),
    );
    let text = std::fs::read_to_string(&listed).expect("tracker file");
    // Listed in upper case: ids are compared without regard to case.
    let upper = GAID.to_ascii_uppercase();
    std::fs::write(&listed, format!("test_devices = [\"{upper}\"]\n{text}")).expect("write");
    let server = start(&["--config", listed.to_str().expect("path")]);
    let t = now();
    let other = "11111111-2222-4333-8444-555555555555";
    for (gaid, every_time) in [(GAID, true), (other, false)] {
        for n in 0..3u64 {
            click(
                &server,
                &format!("td-{}-{n}", &gaid[..4]),
                &format!("google_aid={gaid}"),
                ANDROID_UA,
                t - 10 + n,
            );
            let install = convert(
                &server,
                json!({"tracking_id": 7, "event": "install", "google_aid": gaid}),
            );
            let want = every_time || n == 0;
            assert_eq!(install["attributed"], want, "{gaid} install {n}: {install}");
            if !want {
                assert!(install["not_attributed"]
                    .as_str()
                    .is_some_and(|w| w.contains("test_devices")));
            }
        }
    }
    stop(server, &listed);
    // A zeroed id names no device: refused with the reason.
    let zeroed = tracker_file("test-devices-zero", "");
    let text = std::fs::read_to_string(&zeroed).expect("tracker file");
    std::fs::write(
        &zeroed,
        format!("test_devices = [\"00000000-0000-0000-0000-000000000000\"]\n{text}"),
    )
    .expect("write");
    let out = std::process::Command::new(crate::support::bin())
        .args(["serve", "--config", zeroed.to_str().expect("path")])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("test_devices") && err.contains("all zeros"),
        "{err}"
    );
    let _ = std::fs::remove_file(zeroed);
}
