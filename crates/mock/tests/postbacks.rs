//! Postbacks end to end over loopback: a click into the mock, a conversion through the admin
//! API, and the postback at a real receiver, with its retries and its record.

mod support;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use metrica_s2s_mock::{Config, PostbackConfig, Trackers};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{get, now, send_json, Mock, UA};

const GAID: &str = "38400000-8cf0-11bd-b23e-10b96e40000d";
const YANDEX_UA: &str = "Mozilla/5.0 (compatible; YandexMetrika/2.0; +http://yandex.com/bots)";

#[derive(Clone, Debug)]
struct Received {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

/// A postback receiver on port 0: records every request and answers with the statuses given,
/// in order, then `then`, after `delay`.
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(script: &[u16], then: u16, delay: Duration) -> Receiver {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let record = seen.clone();
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (record, script) = (record.clone(), script.clone());
                async move {
                    record.lock().expect("lock").push(Received {
                        method,
                        uri,
                        headers,
                        body,
                    });
                    tokio::time::sleep(delay).await;
                    let status = script.lock().expect("lock").pop_front().unwrap_or(then);
                    StatusCode::from_u16(status).expect("status")
                }
            },
        );
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver { addr, seen }
    }

    fn seen(&self) -> Vec<Received> {
        self.seen.lock().expect("lock").clone()
    }
}

fn query_of(r: &Received) -> Vec<(String, String)> {
    form_urlencoded::parse(r.uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

fn param<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

fn trackers(postbacks: &str) -> Trackers {
    Trackers::parse(&format!(
        "[[tracker]]\nid = 7\nname = \"app\"\nplatform = \"android\"\nstore_url = \"https://x\"\n{postbacks}"
    ))
    .expect("tracker file")
}

fn get_postback(url: &str) -> String {
    format!("[[tracker.postback]]\nevent = \"install\"\nurl = \"{url}\"\n")
}

async fn mock_with(trackers: Trackers, postbacks: PostbackConfig) -> Mock {
    Mock::start(Config {
        trackers,
        postbacks,
        ..support::with_journal(1000)
    })
    .await
}

fn fast() -> PostbackConfig {
    // Retries every 10 ms for 4.8 s.
    PostbackConfig {
        time_scale: 18_000.0,
        ..PostbackConfig::default()
    }
}

/// A click of tracker 7 with the test's google_aid, timestamped a second ago.
async fn click_with_gaid(m: &Mock, click_id: &str) {
    let target = format!(
        "/serve/7?click_id={click_id}&google_aid={GAID}&device_ip=1.2.3.4&device_ua={UA}&click_timestamp={}",
        now() - 1
    );
    assert_eq!(get(m.click, &target).await.status, 204);
}

/// An install of that device, reported through the admin API.
async fn install_by_gaid(m: &Mock) -> support::Response {
    send_json(
        m.click,
        "POST",
        "/__admin/conversions",
        &format!(r#"{{"tracking_id": 7, "event": "install", "google_aid": "{GAID}"}}"#),
    )
    .await
}

/// A click and then an install of device `n`, each device its own: AppMetrica sends no second
/// install postback for a device it has seen installed.
async fn click_and_install_device(m: &Mock, n: usize) -> support::Response {
    let gaid = format!("38400000-8cf0-11bd-b23e-{n:012x}");
    let target = format!(
        "/serve/7?click_id=d{n}&google_aid={gaid}&device_ip=1.2.3.4&device_ua={UA}&click_timestamp={}",
        now() - 1
    );
    assert_eq!(get(m.click, &target).await.status, 204);
    send_json(
        m.click,
        "POST",
        "/__admin/conversions",
        &format!(r#"{{"tracking_id": 7, "event": "install", "google_aid": "{gaid}"}}"#),
    )
    .await
}

async fn wait_postbacks(m: &Mock, query: &str) -> serde_json::Value {
    get(
        m.click,
        &format!("/__admin/postbacks/wait?{query}&timeout_ms=20000"),
    )
    .await
    .json()
}

#[tokio::test]
async fn an_install_matched_by_gaid_is_posted_back_with_every_macro_filled() {
    let rx = Receiver::start(&[], 200, Duration::ZERO).await;
    let url = format!(
        "http://{}/pb?cid={{click_id}}&tx={{transaction_id}}&ip={{install_ipv6}}&cip={{click_ipv6}}&ua={{click_user_agent}}&m={{match_type}}&t={{attributed_touch_type}}&sub={{sub_id}}&os={{os_name}}&none={{never}}",
        rx.addr
    );
    let m = mock_with(trackers(&get_postback(&url)), fast()).await;
    let click = get(
        m.click,
        &format!(
            "/serve/7?click_id=c%2B1&google_aid={GAID}&device_ip=5.255.232.147&device_ua={UA}&click_timestamp={}&sub_id=%D0%B0%26b",
            now() - 5
        ),
    )
    .await;
    assert_eq!(click.status, 204);
    let conv = send_json(
        m.click,
        "POST",
        "/__admin/conversions",
        &format!(r#"{{"tracking_id": "7", "event": "install", "google_aid": "{}", "device_ip": "5.255.232.147"}}"#, GAID.to_uppercase()),
    )
    .await;
    assert_eq!(conv.status, 200, "{}", String::from_utf8_lossy(&conv.body));
    let c = conv.json();
    assert_eq!(c["attributed"], true);
    assert_eq!(c["match_type"], "identifier");
    assert_eq!(c["touch"]["kind"], "click");
    assert_eq!(c["touch"]["seq"], 1);
    assert_eq!(c["postbacks"].as_array().map(Vec::len), Some(1));
    let tx = c["transaction_id"].as_str().expect("tx").to_owned();

    let page = wait_postbacks(&m, "delivered=true").await;
    assert_eq!(page["total"], 1, "{page}");
    let d = &page["postbacks"][0];
    assert_eq!(d["state"], "delivered");
    assert_eq!(d["attempts"][0]["status"], 200);
    assert_eq!(d["transaction_id"], tx.as_str());

    let seen = rx.seen();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, Method::GET);
    assert_eq!(r.headers["user-agent"], YANDEX_UA);
    let q = query_of(r);
    assert_eq!(param(&q, "cid"), Some("c+1"));
    assert_eq!(param(&q, "tx"), Some(tx.as_str()));
    assert_eq!(param(&q, "ip"), Some("::ffff:5.255.232.147"));
    assert_eq!(param(&q, "cip"), Some("::ffff:5.255.232.147"));
    let ua = metrica_s2s_rules::percent_decode(UA.as_bytes(), true);
    assert_eq!(param(&q, "ua").map(str::as_bytes), Some(&ua.bytes[..]));
    assert_eq!(param(&q, "m"), Some("identifier"));
    assert_eq!(param(&q, "t"), Some("click"));
    assert_eq!(
        param(&q, "sub"),
        Some("а&b"),
        "a tracking parameter, re-encoded"
    );
    assert_eq!(param(&q, "os"), Some("android"));
    assert_eq!(param(&q, "none"), Some(""), "an unknown macro is empty");
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn only_200_delivers_and_everything_else_is_retried() {
    let rx = Receiver::start(&[204, 500, 202], 200, Duration::ZERO).await;
    let m = mock_with(
        trackers(&get_postback(&format!(
            "http://{}/pb?c={{click_id}}",
            rx.addr
        ))),
        fast(),
    )
    .await;
    // Time runs 18,000 times faster: the fingerprint window is 4.8 s.
    get(
        m.click,
        &format!(
            "/serve/7?click_id=retry-me&device_ip=5.255.232.147&device_ua={UA}&click_timestamp={}",
            now() - 1
        ),
    )
    .await;
    let c = send_json(
        m.click,
        "POST",
        "/__admin/conversions",
        r#"{"tracking_id": 7, "event": "install", "device_ip": "::ffff:5.255.232.147", "device_ua": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"}"#,
    )
    .await
    .json();
    assert_eq!(c["match_type"], "fingerprint", "{c}");
    let page = wait_postbacks(&m, "delivered=true").await;
    let statuses: Vec<_> = page["postbacks"][0]["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["status"].as_u64())
        .collect();
    assert_eq!(statuses, [Some(204), Some(500), Some(202), Some(200)]);
    assert_eq!(rx.seen().len(), 4);
    let metrics = String::from_utf8(get(m.click, "/metrics").await.body).expect("utf-8");
    assert!(
        metrics.contains(r#"s2s_postback_attempts_total{result="204"} 1"#),
        "{metrics}"
    );
    assert!(metrics.contains(r#"s2s_postbacks_finished_total{state="delivered"} 1"#));
    assert!(metrics.contains(r#"s2s_conversions_total{match_type="fingerprint"} 1"#));
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn a_receiver_that_never_answers_200_fails_after_the_retry_period() {
    let rx = Receiver::start(&[], 503, Duration::ZERO).await;
    // Every 50 ms for 0.4 s.
    let options = PostbackConfig {
        time_scale: 3600.0,
        ..PostbackConfig::default()
    };
    let policy = "[tracker.postback_policy]\ngive_up_after_secs = 1440\n";
    let m = mock_with(
        trackers(&format!(
            "{}{policy}",
            get_postback(&format!("http://{}/pb", rx.addr))
        )),
        options,
    )
    .await;
    click_with_gaid(&m, "x").await;
    install_by_gaid(&m).await;
    let page = loop {
        let p = get(m.click, "/__admin/postbacks").await.json();
        if p["postbacks"][0]["state"] == "failed" {
            break p;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let attempts = page["postbacks"][0]["attempts"]
        .as_array()
        .expect("attempts")
        .len();
    assert!((8..=10).contains(&attempts), "{attempts} attempts");
    assert_eq!(page["postbacks"][0]["delivered"], false);
    assert_eq!(
        page["postbacks"][0]["next_attempt_at"],
        serde_json::Value::Null
    );
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn a_post_carries_a_json_body_with_a_cyrillic_event_name() {
    let rx = Receiver::start(&[], 200, Duration::ZERO).await;
    let postback = format!(
        "[[tracker.postback]]\nevent = \"event\"\nmethod = \"POST\"\nurl = \"http://{}/events\"\nbody = '{{\"name\": \"{{conversion_event_name}}\", \"ua\": \"{{click_user_agent}}\", \"click\": \"{{click_id}}\"}}'\n",
        rx.addr
    );
    let m = mock_with(trackers(&postback), fast()).await;
    get(m.click, &format!("/serve/7?click_id=q%22uote&google_aid={GAID}&device_ip=1.2.3.4&device_ua={UA}&click_timestamp={}", now() - 1)).await;
    // The app reports its install first: events are attributed through it.
    assert_eq!(install_by_gaid(&m).await.status, 200);
    let c = send_json(
        m.click,
        "POST",
        "/__admin/conversions",
        &format!(r#"{{"tracking_id": 7, "event": "event", "event_name": "Покупка \"премиум\"", "google_aid": "{GAID}"}}"#),
    )
    .await
    .json();
    assert_eq!(c["postbacks"].as_array().map(Vec::len), Some(1), "{c}");
    wait_postbacks(&m, "delivered=true").await;
    let seen = rx.seen();
    assert_eq!(seen[0].method, Method::POST);
    assert_eq!(seen[0].headers["content-type"], "application/json");
    let body: serde_json::Value = serde_json::from_slice(&seen[0].body).expect("JSON body");
    assert_eq!(body["name"], "Покупка \"премиум\"");
    assert_eq!(body["click"], "q\"uote");
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn no_touch_no_postback_and_a_repeat_is_one_more_attempt() {
    let rx = Receiver::start(&[200], 409, Duration::ZERO).await;
    let m = mock_with(
        trackers(&get_postback(&format!("http://{}/pb", rx.addr))),
        fast(),
    )
    .await;
    let none = install_by_gaid(&m).await.json();
    assert_eq!(none["attributed"], false);
    assert_eq!(none["match_type"], serde_json::Value::Null);
    assert_eq!(none["postbacks"], serde_json::json!([]));

    get(
        m.click,
        &format!(
            "/serve/7?click_id=r1&device_ip=1.2.3.4&device_ua={UA}&click_timestamp={}",
            now() - 1
        ),
    )
    .await;
    let c = send_json(
        m.click,
        "POST",
        "/__admin/conversions",
        r#"{"tracking_id": 7, "event": "install", "referrer_click_id": "r1"}"#,
    )
    .await
    .json();
    assert_eq!(c["match_type"], "referrer", "{c}");
    let id = c["postbacks"][0].as_u64().expect("id");
    wait_postbacks(&m, "delivered=true").await;
    let again = support::raw(
        m.click,
        format!("POST /__admin/postbacks/{id}/repeat HTTP/1.1\r\nHost: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", m.click).as_bytes(),
    )
    .await;
    assert_eq!(again.status, 202);
    let page = wait_postbacks(&m, "attempts=2").await;
    let attempts = &page["postbacks"][0]["attempts"];
    assert_eq!(attempts[1]["status"], 409);
    assert_eq!(attempts[1]["repeat"], true);
    assert_eq!(
        page["postbacks"][0]["delivered"], true,
        "delivered stays delivered"
    );
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn bad_conversions_get_a_problem_naming_the_field() {
    let m = mock_with(trackers(""), fast()).await;
    for (body, field, says) in [
        (r#"{"event": "install"}"#, "tracking_id", "missing field"),
        (
            r#"{"tracking_id": "7x", "event": "install"}"#,
            "tracking_id",
            "\"7x\"",
        ),
        (
            r#"{"tracking_id": 7, "event": "signup"}"#,
            "event",
            "signup",
        ),
        (r#"{"tracking_id": 7}"#, "event", "install"),
        (
            r#"{"tracking_id": 7, "event": "install", "device_ip": "1.2.3.4:80"}"#,
            "device_ip",
            "\"1.2.3.4:80\"",
        ),
        (
            r#"{"tracking_id": 7, "event": "install", "at": 1795860000000}"#,
            "at",
            "milliseconds",
        ),
        (
            r#"{"tracking_id": 7, "event": "install", "at": "yesterday"}"#,
            "at",
            "RFC 3339",
        ),
        (
            r#"{"tracking_id": 7, "event": "install", "gaid": "x"}"#,
            "gaid",
            "unknown field",
        ),
        (
            r#"{"tracking_id": 7, "event": "install", "google_aid": ""}"#,
            "google_aid",
            "empty",
        ),
        (
            r#"{"tracking_id": 7, "event": "install", "device_ua": "a\u0000b"}"#,
            "device_ua",
            "control",
        ),
        ("tracking_id=7", "(body)", "not JSON"),
    ] {
        let r = send_json(m.click, "POST", "/__admin/conversions", body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        let p = r.json();
        assert_eq!(p["field"], field, "{body}: {p}");
        let detail = p["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{body}: {detail}");
    }
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn postbacks_go_only_where_the_tracker_or_the_admin_api_says() {
    // A listener no configuration names: nothing may ever connect to it.
    let bait = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let bait_addr = bait.local_addr().expect("addr");
    let connected = Arc::new(Mutex::new(0usize));
    let count = connected.clone();
    tokio::spawn(async move {
        while bait.accept().await.is_ok() {
            *count.lock().expect("lock") += 1;
        }
    });
    let rx = Receiver::start(&[], 200, Duration::ZERO).await;
    let m = mock_with(
        trackers(&get_postback(&format!(
            "http://{}/pb?c={{click_id}}&u={{postback_url}}",
            rx.addr
        ))),
        fast(),
    )
    .await;
    let bait_url = format!("http://{bait_addr}/steal");
    let enc: String = form_urlencoded::byte_serialize(bait_url.as_bytes()).collect();
    get(m.click, &format!("/serve/7?click_id=%40{bait_addr}%2F&postback_url={enc}&url={enc}&host={bait_addr}&google_aid={GAID}&device_ip=1.2.3.4&device_ua={UA}&click_timestamp={}", now() - 1)).await;
    install_by_gaid(&m).await;
    wait_postbacks(&m, "delivered=true").await;
    let seen = rx.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        param(&query_of(&seen[0]), "u"),
        Some(bait_url.as_str()),
        "echoed as a value, encoded"
    );

    // The admin API refuses a template whose host a macro would choose.
    let r = send_json(
        m.click,
        "PUT",
        "/__admin/trackers/7/postbacks",
        r#"[{"event": "install", "url": "http://{host}/pb"}]"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["field"], "[0]");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        *connected.lock().expect("lock"),
        0,
        "the bait was never contacted"
    );
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn admin_templates_replace_the_tracker_files_at_run_time() {
    let rx = Receiver::start(&[], 200, Duration::ZERO).await;
    let m = mock_with(trackers(""), fast()).await;
    let put = send_json(
        m.click,
        "PUT",
        "/__admin/trackers/7/postbacks",
        &format!(
            r#"[{{"event": "install", "url": "http://{}/runtime?tx={{transaction_id}}"}}]"#,
            rx.addr
        ),
    )
    .await;
    assert_eq!(put.status, 200, "{}", String::from_utf8_lossy(&put.body));
    assert_eq!(put.json()["warnings"], serde_json::json!([]));
    let typo = send_json(
        m.click,
        "PUT",
        "/__admin/trackers/8/postbacks",
        r#"[{"event": "install", "url": "http://127.0.0.1:9/pb?c={clik_id}"}]"#,
    )
    .await
    .json();
    assert_eq!(
        typo["warnings"][0]["code"], "postback-macro-unknown",
        "{typo}"
    );
    assert!(
        typo["warnings"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("did you mean {click_id}")),
        "{typo}"
    );
    let listed = get(m.click, "/__admin/trackers/7/postbacks").await.json();
    assert_eq!(listed["source"], "admin");
    click_with_gaid(&m, "a").await;
    install_by_gaid(&m).await;
    wait_postbacks(&m, "delivered=true").await;
    assert_eq!(rx.seen()[0].uri.path(), "/runtime");
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn the_queue_is_bounded_and_its_drops_counted() {
    let rx = Receiver::start(&[], 200, Duration::from_millis(500)).await;
    let options = PostbackConfig {
        queue_capacity: 2,
        ..fast()
    };
    let m = mock_with(
        trackers(&get_postback(&format!("http://{}/pb", rx.addr))),
        options,
    )
    .await;
    for n in 0..5 {
        click_and_install_device(&m, n).await;
    }
    let page = get(m.click, "/__admin/postbacks").await.json();
    let states: Vec<_> = page["postbacks"]
        .as_array()
        .expect("list")
        .iter()
        .map(|d| d["state"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        states,
        ["pending", "pending", "dropped", "dropped", "dropped"]
    );
    let metrics = String::from_utf8(get(m.click, "/metrics").await.body).expect("utf-8");
    assert!(
        metrics.contains(r#"s2s_postbacks_finished_total{state="dropped"} 3"#),
        "{metrics}"
    );
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn shutdown_writes_every_delivery_to_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("postbacks.ndjson");
    let rx = Receiver::start(&[], 503, Duration::ZERO).await;
    let m = mock_with(
        trackers(&get_postback(&format!("http://{}/pb", rx.addr))),
        PostbackConfig {
            file: Some(path.clone()),
            ..PostbackConfig::default()
        },
    )
    .await;
    for n in 0..3 {
        click_and_install_device(&m, n).await;
    }
    // Each has had its first attempt and waits 3 minutes for its retry.
    wait_postbacks(&m, "attempts=1&count=3").await;
    m.stop().await.expect("stopped");
    let text = std::fs::read_to_string(&path).expect("file");
    let mut last = std::collections::BTreeMap::new();
    let mut attempts = std::collections::BTreeMap::<u64, Vec<serde_json::Value>>::new();
    for line in text.lines() {
        let d: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let id = d["id"].as_u64().expect("id");
        if d["change"] == "attempt" {
            attempts.entry(id).or_default().push(d["attempt"].clone());
        }
        last.insert(id, d);
    }
    assert_eq!(last.len(), 3);
    for (id, d) in &last {
        assert_eq!(
            d["state"], "stopped",
            "the last line of a delivery is its end: {d}"
        );
        assert_eq!(attempts[id][0]["status"], 503);
    }
    assert_eq!(
        text.lines().count(),
        3 * 3,
        "created, its attempt, stopped: each once"
    );
}

/// The file holds a line per change, never a delivery's history again: over many attempts it
/// grows with their number, each line about the same size.
#[tokio::test]
async fn the_postbacks_file_grows_linearly_with_the_attempts() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("postbacks.ndjson");
    let rx = Receiver::start(&[], 503, Duration::ZERO).await;
    let m = mock_with(
        trackers(&get_postback(&format!("http://{}/pb", rx.addr))),
        PostbackConfig {
            file: Some(path.clone()),
            ..fast()
        },
    )
    .await;
    click_with_gaid(&m, "a").await;
    install_by_gaid(&m).await;
    wait_postbacks(&m, "attempts=200").await;
    m.stop().await.expect("stopped");
    let text = std::fs::read_to_string(&path).expect("file");
    let lines: Vec<&str> = text.lines().collect();
    let attempt_lines: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains(r#""change":"attempt""#))
        .collect();
    assert!(attempt_lines.len() >= 200, "{}", attempt_lines.len());
    let longest = lines.iter().map(|l| l.len()).max().unwrap_or(0);
    let first = attempt_lines[0].len();
    let last = attempt_lines[attempt_lines.len() - 1].len();
    assert!(
        longest < 2_000,
        "a line never carries the history: {longest} bytes"
    );
    assert!(
        last < first + 64,
        "the 200th attempt's line is no longer than the first's: {first} then {last}"
    );
    assert!(
        text.len() < 200 * 2_000,
        "{} bytes for {} attempts",
        text.len(),
        attempt_lines.len()
    );
}

/// A receiver over https with a certificate of the local CA: delivered when the mock trusts
/// that CA (`--postback-ca`), a failed attempt naming the certificate when it does not.
#[tokio::test]
async fn https_receivers_work_with_an_extra_ca() {
    use hyper_util::rt::TokioIo;
    use metrica_s2s_mock::TlsFiles;
    let dir = tempfile::tempdir().expect("dir");
    let files = TlsFiles::at(Some(dir.path())).expect("files");
    let acceptor = tokio_rustls::TlsAcceptor::from(receiver_tls(&files));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let hits = Arc::new(Mutex::new(0usize));
    let counted = hits.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, counted) = (acceptor.clone(), counted.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper::service::service_fn(move |_req| {
                    *counted.lock().expect("lock") += 1;
                    async {
                        Ok::<_, std::convert::Infallible>(hyper::Response::new(
                            http_body_util::Full::new(Bytes::from("ok")),
                        ))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    let url = format!("https://localhost:{port}/pb?tx={{transaction_id}}");
    for (trusted, want) in [(true, true), (false, false)] {
        let m = mock_with(
            trackers(&get_postback(&url)),
            PostbackConfig {
                extra_ca: trusted.then(|| files.ca_cert()),
                ..fast()
            },
        )
        .await;
        click_with_gaid(&m, "tls").await;
        install_by_gaid(&m).await;
        let page = wait_postbacks(&m, "attempts=1").await;
        let d = &page["postbacks"][0];
        assert_eq!(d["delivered"], want, "{d}");
        if !trusted {
            let error = d["attempts"][0]["error"].as_str().unwrap_or_default();
            assert!(
                error.contains("certificate") || error.contains("UnknownIssuer"),
                "{error}"
            );
        }
        m.stop().await.expect("stopped");
    }
    assert_eq!(
        *hits.lock().expect("lock"),
        1,
        "only the trusted attempt got through"
    );
}

/// A receiver's TLS: a certificate for `localhost` signed by the local CA in `files`, made
/// the way any user of that CA would (rcgen), not through the mock's internals.
fn receiver_tls(files: &metrica_s2s_mock::TlsFiles) -> Arc<rustls::ServerConfig> {
    use rustls_pki_types::pem::PemObject;
    let ca_pem = files.prepare().expect("the CA");
    let ca_key_pem = std::fs::read_to_string(files.dir.join("ca.key")).expect("the CA key");
    let ca_key = rcgen::KeyPair::from_pem(&ca_key_pem).expect("a key");
    let ca_cert = std::fs::read_to_string(&ca_pem).expect("the CA certificate");
    let issuer = rcgen::Issuer::from_ca_cert_pem(&ca_cert, ca_key).expect("an issuer");
    let key = rcgen::KeyPair::generate().expect("a key");
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .expect("params")
        .signed_by(&key, &issuer)
        .expect("signed");
    let chain = vec![cert.der().clone()];
    let key = rustls_pki_types::PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes())
        .expect("the key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("a server config");
    Arc::new(config)
}

/// `GET /__admin/postbacks` is paged as the journal's listing is: 100 by default, `next` to
/// read on, `limit` up to 1,000.
#[tokio::test]
async fn the_postback_listing_is_paged() {
    let rx = Receiver::start(&[], 200, Duration::ZERO).await;
    let m = mock_with(
        trackers(&get_postback(&format!("http://{}/pb", rx.addr))),
        fast(),
    )
    .await;
    for n in 0..120 {
        assert_eq!(click_and_install_device(&m, n).await.status, 200);
    }
    let first = get(m.click, "/__admin/postbacks").await.json();
    assert_eq!(first["postbacks"].as_array().map(Vec::len), Some(100));
    assert_eq!(first["total"], 120);
    let next = first["next"].as_u64().expect("a next page");
    let rest = get(m.click, &format!("/__admin/postbacks?since={next}"))
        .await
        .json();
    assert_eq!(rest["postbacks"].as_array().map(Vec::len), Some(20));
    assert!(rest.get("next").is_none());
    let small = get(m.click, "/__admin/postbacks?limit=7").await.json();
    assert_eq!(small["postbacks"].as_array().map(Vec::len), Some(7));
    m.stop().await.expect("stopped");
}
