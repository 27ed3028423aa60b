//! Postbacks as AppMetrica documents them, through the real binary: events attributed through
//! the device's install, the documented macros filled, reinstalls silent, postbacks for all
//! users, the first target event only, both delivery readings, and the tracker file's
//! undocumented macros reported when it loads.

#[path = "../support/mod.rs"]
mod support;

mod attribution;
mod delivery;
mod export;
mod macros;

use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};
use support::{http, http_get, sigterm};

const GAID: &str = "38400000-8cf0-11bd-b23e-10b96e40000d";
const IFA: &str = "8C1D2E3F-4A5B-4C6D-9E7F-0A1B2C3D4E5F";
const ANDROID_UA: &str = "Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)";
const IPHONE_UA: &str =
    "Mozilla%2F5.0%20(iPhone%3B%20CPU%20iPhone%20OS%2017_1%20like%20Mac%20OS%20X)";
const DAY: u64 = 86_400;

/// A postback receiver on loopback that keeps each request line and answers the n-th request
/// with the n-th of its statuses, and every later one with the last; the body says `SUCCESS`
/// for a 2xx, `NO` otherwise (none for a 204).
struct Receiver {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Receiver {
    fn start(status: u16) -> Receiver {
        Receiver::answering(&[status])
    }

    fn answering(statuses: &[u16]) -> Receiver {
        let statuses = statuses.to_vec();
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
                let n = {
                    let mut seen = kept.lock().expect("lock");
                    seen.push(line.trim_end().to_owned());
                    seen.len()
                };
                let status = statuses[(n - 1).min(statuses.len() - 1)];
                let body = match status {
                    204 => "",
                    200..=299 => "SUCCESS",
                    _ => "NO",
                };
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
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
    click_with(
        server,
        &format!(
            "click_id={click_id}&{ids}&device_ip=5.255.232.147&device_ua={ua}&click_timestamp={at}"
        ),
    );
}

/// A click on tracker 7 with `query` as its whole query.
fn click_with(server: &support::Server, query: &str) {
    assert_eq!(http_get(server.click, &format!("/serve/7?{query}")), 204);
}

/// A click of the Android device on tracker 7 with `click_id`, then its install reported: the
/// conversion's outcome.
fn click_and_install(server: &support::Server, click_id: &str) -> Value {
    click(
        server,
        click_id,
        &format!("google_aid={GAID}"),
        ANDROID_UA,
        support::now() - 1,
    );
    convert(
        server,
        serde_json::json!({"tracking_id": 7, "event": "install", "google_aid": GAID}),
    )
}

/// The Logs API's `date_since` and `date_until` for yesterday to tomorrow.
fn export_dates() -> String {
    let day = |offset: i64| {
        let secs = i64::try_from(support::now()).expect("now") + offset;
        metrica_s2s_rules::calendar::format_rfc3339(secs)[..10].to_owned()
    };
    format!("date_since={}&date_until={}", day(-86_400), day(86_400))
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
