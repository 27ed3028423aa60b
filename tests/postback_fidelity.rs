//! Postbacks as AppMetrica documents them, through the real binary: events attributed through
//! the device's install, the documented macros filled, reinstalls silent, postbacks for all
//! users, the first target event only, both delivery readings, and the tracker file's
//! undocumented macros reported when it loads.

mod support;

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use support::{http, http_get, now, sigterm, start};

const GAID: &str = "38400000-8cf0-11bd-b23e-10b96e40000d";
const IFA: &str = "8C1D2E3F-4A5B-4C6D-9E7F-0A1B2C3D4E5F";
const ANDROID_UA: &str = "Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)";
const IPHONE_UA: &str =
    "Mozilla%2F5.0%20(iPhone%3B%20CPU%20iPhone%20OS%2017_1%20like%20Mac%20OS%20X)";
const DAY: u64 = 86_400;

/// A postback receiver on loopback that answers every request with `status` and keeps each
/// request line.
struct Receiver {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    fn start(status: u16) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let kept = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // The rest of the head; postbacks here are GETs without a body.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                kept.lock().expect("lock").push(line.trim_end().to_owned());
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
            }
        });
        Receiver { addr, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().expect("lock").clone()
    }
}

/// A tracker file with one tracker (id 7, Android) and `postbacks` (TOML tables).
fn tracker_file(name: &str, extra: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!(
        "metrica-s2s-fidelity-{name}-{}.toml",
        std::process::id()
    ));
    let text = format!(
        "[[tracker]]\nid = 7\nname = \"Fidelity\"\nplatform = \"android\"\nstore_url = \"https://play.google.com/store/apps/details?id=x\"\n{extra}"
    );
    std::fs::write(&path, text).expect("tracker file");
    path
}

fn postback(event: &str, rx: &Receiver, query: &str, more: &str) -> String {
    format!(
        "[[tracker.postback]]\nevent = \"{event}\"\nurl = \"http://{}/{event}?{query}\"\n{more}\n",
        rx.addr
    )
}

fn convert(server: &support::Server, body: Value) -> Value {
    let (status, bytes) = http(
        server.click,
        "POST",
        "/__admin/conversions",
        &body.to_string(),
    );
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(status, 200, "{v}");
    v
}

/// The delivery of `outcome`'s first postback after its first attempt.
fn delivered(server: &support::Server, outcome: &Value) -> Value {
    let tx = outcome["transaction_id"].as_str().expect("tx");
    let (_, body) = http(
        server.click,
        "GET",
        &format!("/__admin/postbacks/wait?transaction_id={tx}&attempts=1&timeout_ms=10000"),
        "",
    );
    let page: Value = serde_json::from_slice(&body).expect("json");
    page["postbacks"][0].clone()
}

fn click(server: &support::Server, click_id: &str, ids: &str, ua: &str, at: u64) {
    let target = format!(
        "/serve/7?click_id={click_id}&{ids}&device_ip=5.255.232.147&device_ua={ua}&click_timestamp={at}"
    );
    assert_eq!(http_get(server.click, &target), 204);
}

/// Stops the mock with SIGTERM, asserts it exits 0, and removes its tracker file.
fn stop(mut server: support::Server, file: &std::path::Path) {
    sigterm(&server.child);
    assert_eq!(server.child.wait().expect("wait").code(), Some(0));
    let _ = std::fs::remove_file(file);
}

fn query_of(request_line: &str) -> std::collections::BTreeMap<String, String> {
    let target = request_line.split(' ').nth(1).expect("target");
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn an_event_on_day_11_goes_with_the_installs_click_and_its_documented_macros() {
    let rx = Receiver::start(200);
    let q = "click={click_id}&match={match_type}&conv={conversion_timestamp}&inst={install_timestamp}&os={os_name}&old={event_timestamp}";
    let file = tracker_file(
        "day11",
        &format!(
            "{}{}",
            postback("install", &rx, q, ""),
            postback("event", &rx, q, "event_name = \"checkout\"")
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

#[test]
fn a_204_is_delivered_under_the_2xx_reading_and_retried_under_200() {
    let rx = Receiver::start(204);
    for (success, delivered_state) in [("2xx", "delivered"), ("200", "pending")] {
        let file = tracker_file(
            &format!("policy-{success}"),
            &format!(
                "[tracker.postback_policy]\nsuccess = \"{success}\"\n{}",
                postback("install", &rx, "tx={transaction_id}", "")
            ),
        );
        let server = start(&["--config", file.to_str().expect("path")]);
        click(
            &server,
            "p",
            &format!("google_aid={GAID}"),
            ANDROID_UA,
            now() - 1,
        );
        let install = convert(
            &server,
            json!({"tracking_id": 7, "event": "install", "google_aid": GAID}),
        );
        let d = delivered(&server, &install);
        assert_eq!(d["attempts"][0]["status"], 204, "{d}");
        assert_eq!(d["state"], delivered_state, "success = {success}: {d}");
        stop(server, &file);
    }
}

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

/// What a reconciliation script reads: a row per attempt, `failed` until `sent`, only the
/// fields asked in their order, in JSON and CSV; clicks and installations beside them.
#[test]
fn the_logs_api_export_has_a_row_per_attempt() {
    let failing = Receiver::start(503);
    let file = tracker_file(
        "export",
        &format!(
            "application_id = 42\n[tracker.postback_policy]\nretry_interval_secs = 60\n{}",
            postback("install", &failing, "tx={transaction_id}&c={click_id}", "")
        ),
    );
    // Retries every 60 s / 600 = 0.1 s.
    let server = start(&[
        "--config",
        file.to_str().expect("path"),
        "--postback-time-scale",
        "600",
    ]);
    click(
        &server,
        "exp-1",
        &format!("google_aid={GAID}"),
        ANDROID_UA,
        now() - 1,
    );
    let install = convert(
        &server,
        json!({"tracking_id": 7, "event": "install", "google_aid": GAID}),
    );
    let tx = install["transaction_id"].as_str().expect("tx").to_owned();
    let (_, body) = http(
        server.click,
        "GET",
        &format!("/__admin/postbacks/wait?transaction_id={tx}&attempts=3&timeout_ms=10000"),
        "",
    );
    let page: Value = serde_json::from_slice(&body).expect("json");
    let attempts = page["postbacks"][0]["attempts"]
        .as_array()
        .expect("attempts")
        .len();
    assert!(attempts >= 3, "{page}");
    let day = |offset: i64| {
        let secs = i64::try_from(now()).expect("now") + offset;
        metrica_s2s_rules::calendar::format_rfc3339(secs)[..10].to_owned()
    };
    let range = format!("date_since={}&date_until={}", day(-86_400), day(86_400));
    let fields =
        "response_code,notifying_status,click_id,cost_model,tracking_id,postback_url_parameters";
    let (status, body) = http(
        server.click,
        "GET",
        &format!("/logs/v1/export/postbacks.json?application_id=42&{range}&fields={fields}"),
        "",
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let text = String::from_utf8(body).expect("utf-8");
    let export: Value = serde_json::from_str(&text).expect("json");
    let rows = export["data"].as_array().expect("data");
    // Attempts may have gone on since the wait: at least those seen, each one a row.
    assert!(rows.len() >= attempts, "{export}");
    let first = &rows[0];
    // The first row as sent: its keys in the order asked.
    let sent_row = &text[text.find("[{").expect("a row")..text.find('}').expect("its end")];
    let at: Vec<usize> = fields
        .split(',')
        .map(|f| sent_row.find(&format!("\"{f}\"")).expect("each field"))
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "the fields asked, in order: {sent_row}"
    );
    assert_eq!(first.as_object().expect("row").len(), 6, "only those");
    assert_eq!(first["response_code"], "503");
    assert_eq!(first["notifying_status"], "failed");
    assert_eq!(first["click_id"], "exp-1");
    assert_eq!(first["cost_model"], "cpi");
    assert_eq!(first["tracking_id"], "7");
    assert_eq!(first["postback_url_parameters"], format!("tx={tx}&c=exp-1"));
    // Another application has none of these rows.
    let (_, body) = http(
        server.click,
        "GET",
        &format!("/logs/v1/export/postbacks.json?application_id=1&{range}&fields=click_id"),
        "",
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&body).expect("json")["data"],
        json!([])
    );
    // CSV: a header row, then the same rows.
    let (status, body) = http(
        server.click,
        "GET",
        &format!("/logs/v1/export/postbacks.csv?application_id=42&{range}&fields=click_id,notifying_status&limit=2"),
        "",
    );
    assert_eq!(status, 200);
    let text = String::from_utf8(body).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        ["click_id,notifying_status", "exp-1,failed", "exp-1,failed"]
    );
    // An unknown field is refused by name.
    let (status, body) = http(
        server.click,
        "GET",
        &format!(
            "/logs/v1/export/postbacks.json?application_id=42&{range}&fields=click_id,clik_id"
        ),
        "",
    );
    assert_eq!(status, 400);
    assert!(String::from_utf8_lossy(&body).contains("clik_id"));
    // Clicks and installations.
    let (_, body) = http(
        server.click,
        "GET",
        &format!("/logs/v1/export/clicks.json?application_id=42&{range}&fields=click_id,touch_type,is_bot,google_aid"),
        "",
    );
    let clicks: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        clicks["data"],
        json!([{"click_id": "exp-1", "touch_type": "click", "is_bot": "false", "google_aid": GAID}])
    );
    let (_, body) = http(
        server.click,
        "GET",
        &format!("/logs/v1/export/installations.json?application_id=42&{range}&fields=installation_id,click_id,match_type,is_reinstallation"),
        "",
    );
    let installs: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(
        installs["data"],
        json!([{"installation_id": tx, "click_id": "exp-1", "match_type": "identifier", "is_reinstallation": "false"}])
    );
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
    stop(server, &path);
}
