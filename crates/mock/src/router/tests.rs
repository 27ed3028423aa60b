//! The router in process, through `tower::ServiceExt::oneshot`: no sockets.

use super::app;
use crate::journal::Journal;
use crate::postback::Postbacks;
use crate::state::{Parts, State};
use crate::track::ListenerKind;
use crate::trackers::{Mode, Trackers};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use metrica_s2s_rules::Kind;
use std::sync::Arc;
use tower::ServiceExt;

const UA: &str = "Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)%20AppleWebKit%2F537.36%20(KHTML%2C%20like%20Gecko)%20Chrome%2F120.0%20Mobile%20Safari%2F537.36";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A valid click target for `tracker` and `click_id`, timestamped now.
fn click(tracker: &str, click_id: &str) -> String {
    format!(
        "/serve/{tracker}?click_id={click_id}&device_ip=5.255.232.147&device_ua={UA}&click_timestamp={}",
        now() - 5
    )
}

fn parts(mode: Mode, trackers: Trackers) -> Parts {
    Parts {
        mode,
        trackers,
        click_id_capacity: crate::clickids::DEFAULT_CAPACITY,
        seed: None,
        admin_token: None,
    }
}

fn state_of(parts: Parts, journal: usize) -> Arc<State> {
    Arc::new(State::new(
        parts,
        Journal::new(journal),
        Postbacks::default(),
    ))
}

fn state(mode: Mode, trackers: Trackers) -> Arc<State> {
    state_of(parts(mode, trackers), 100)
}

async fn call(
    state: &Arc<State>,
    req: Request<Body>,
) -> (StatusCode, Vec<(String, String)>, Vec<u8>) {
    let resp = app(state.clone()).oneshot(req).await.expect("infallible");
    let status = resp.status();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body = resp
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

fn get(target: &str) -> Request<Body> {
    Request::get(target).body(Body::empty()).expect("request")
}

#[tokio::test]
async fn the_journal_keeps_the_headers_as_sent() {
    let s = state(Mode::Strict, Trackers::default());
    let req = Request::get(click("1234567890123456789", "h1"))
        .header("Host", "redirect.appmetrica.yandex.com")
        .header("User-Agent", "partner-sender/1.0")
        .header("X-Forwarded-For", "203.0.113.7")
        .header("X-Forwarded-For", "198.51.100.1")
        .body(Body::empty())
        .expect("request");
    call(&s, req).await;
    let e = s.journal().get(1).expect("journaled");
    assert_eq!(e.host.as_deref(), Some("redirect.appmetrica.yandex.com"));
    assert_eq!(e.user_agent.as_deref(), Some("partner-sender/1.0"));
    assert_eq!(
        e.x_forwarded_for.as_deref(),
        Some("203.0.113.7"),
        "the first value"
    );

    // Bytes that are not visible ASCII are kept, non-UTF-8 ones as replacement characters.
    let ua = axum::http::HeaderValue::from_bytes(b"caf\xc3\xa9 \xff/1").expect("obs-text");
    let req = Request::get(click("1234567890123456789", "h2"))
        .header("User-Agent", ua)
        .body(Body::empty())
        .expect("request");
    call(&s, req).await;
    let e = s.journal().get(2).expect("journaled");
    assert_eq!(e.user_agent.as_deref(), Some("caf\u{e9} \u{fffd}/1"));
    assert_eq!(
        (e.host.as_deref(), e.x_forwarded_for.as_deref()),
        (None, None)
    );
}

#[tokio::test]
async fn clean_click_is_204_and_journaled() {
    let s = state(Mode::Strict, Trackers::default());
    let (status, _, body) = call(&s, get(&click("1234567890123456789", "c1"))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(body.is_empty());
    let e = s.journal().get(1).expect("journaled");
    assert_eq!(e.status, 204);
    assert_eq!(e.tracking_id.as_deref(), Some("1234567890123456789"));
    assert_eq!(e.param("device_ua"), Some("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"));
}

#[tokio::test]
async fn strict_mode_answers_problem_json_with_the_diagnostics() {
    let s = state(Mode::Strict, Trackers::default());
    let target = format!(
        "/serve/1?click_id=1&device_ip=10.0.0.1:80&device_ua={UA}&click_timestamp={}",
        now()
    );
    let (status, headers, body) = call(&s, get(&target)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers
        .iter()
        .any(|(k, v)| k == "content-type" && v == "application/problem+json"));
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["status"], 400);
    let d = &v["diagnostics"][0];
    assert_eq!(d["code"], "ip-with-port");
    for key in ["code", "severity", "param", "message", "hint"] {
        assert!(d.get(key).is_some(), "diagnostic lacks {key}");
    }
}

#[tokio::test]
async fn lenient_mode_answers_204_and_keeps_the_diagnostics() {
    let s = state(Mode::Lenient, Trackers::default());
    let (status, _, _) = call(&s, get("/serve/1?device_ip=nope")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let e = s.journal().get(1).expect("journaled");
    assert!(e
        .diagnostics
        .iter()
        .any(|d| d.code.as_str() == "ip-invalid"));
}

#[tokio::test]
async fn noredirect_zero_redirects_to_the_store_with_the_referrer() {
    let trackers = Trackers::parse(
        "[[tracker]]\nid = \"42\"\nname = \"x\"\nplatform = \"android\"\nstore_url = \"https://play.google.com/store/apps/details?id=com.x\"",
    )
    .expect("trackers");
    let s = state(Mode::Strict, trackers);
    let (status, headers, _) = call(&s, get(&format!("{}&noredirect=0", click("42", "c1")))).await;
    assert_eq!(status, StatusCode::FOUND);
    let loc = headers
        .iter()
        .find(|(k, _)| k == "location")
        .map(|(_, v)| v.clone())
        .expect("location");
    assert!(loc.starts_with("https://play.google.com/store/apps/details?id=com.x&referrer=appmetrica_tracking_id%3D42%26ym_tracking_id%3D"), "{loc}");
}

#[tokio::test]
async fn unknown_paths_methods_and_trackers() {
    let trackers = Trackers::parse("[defaults]\nallow_unknown = false\n").expect("trackers");
    let s = state(Mode::Strict, trackers);
    let (status, _, body) = call(&s, get("/click/1?x=1")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("unknown-endpoint"));
    let post = Request::post(click("1", "c"))
        .body(Body::from("x"))
        .expect("request");
    let (status, headers, _) = call(&s, post).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(headers.iter().any(|(k, v)| k == "allow" && v == "GET"));
    let (status, _, body) = call(&s, get(&click("999", "c"))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("tracking-id-unknown"));
    assert_eq!(s.journal().len(), 3, "every answered request is journaled");
}

#[tokio::test]
async fn overlong_targets_get_414() {
    let s = state(Mode::Strict, Trackers::default());
    let target = format!("{}&pad={}", click("1", "c"), "x".repeat(17 * 1024));
    let (status, headers, _) = call(&s, get(&target)).await;
    assert_eq!(status, StatusCode::URI_TOO_LONG);
    assert!(headers
        .iter()
        .any(|(k, v)| k == "content-type" && v == "application/problem+json"));
}

#[tokio::test]
async fn host_header_routes_whatever_the_listener() {
    let s = state(Mode::Strict, Trackers::default());
    for (host, kind) in [
        ("impression.appmetrica.yandex.com", Kind::Impression),
        ("impression.appmetrika.yandex.ru", Kind::Impression),
        ("redirect.appmetrica.yandex.ru", Kind::Click),
        ("localhost:8080", Kind::Click),
    ] {
        let mut req = get(&click("1", host));
        req.headers_mut()
            .insert("host", host.parse().expect("header"));
        req.extensions_mut().insert(ListenerKind(Kind::Click));
        call(&s, req).await;
        let last = s.journal().get(s.journal().next_seq() - 1).expect("entry");
        assert_eq!(last.kind, kind, "{host}");
    }
}

#[tokio::test]
async fn repeated_click_ids_are_flagged_per_tracker() {
    let s = state(Mode::Strict, Trackers::default());
    for target in [click("1", "same"), click("1", "same"), click("2", "same")] {
        let (status, _, _) = call(&s, get(&target)).await;
        assert_eq!(status, StatusCode::NO_CONTENT, "a duplicate is a warning");
    }
    let codes = |seq| {
        s.journal().get(seq).map(|e| {
            e.diagnostics
                .iter()
                .map(|d| d.code.as_str())
                .collect::<Vec<_>>()
        })
    };
    assert_eq!(codes(1), Some(vec![]));
    assert_eq!(codes(2), Some(vec!["click-id-duplicate"]));
    assert_eq!(codes(3), Some(vec![]));
    let msg = &s.journal().get(2).expect("entry").diagnostics[0].message;
    assert!(msg.contains("request #1"), "{msg}");
}

#[tokio::test]
async fn an_escaped_click_id_key_is_the_same_click_id() {
    let s = state(Mode::Strict, Trackers::default());
    let escaped = click("1", "x").replace("click_id=", "click%5Fid=");
    for target in [&escaped, &escaped] {
        call(&s, get(target)).await;
    }
    let second = s.journal().get(2).expect("entry");
    assert_eq!(
        second
            .diagnostics
            .iter()
            .map(|d| d.code.as_str())
            .collect::<Vec<_>>(),
        vec!["click-id-duplicate"]
    );
    assert_eq!(second.param("click_id"), Some("x"));
}

/// The number a duplicate names is the first sighting's own journal entry, however requests
/// interleave: it is assigned when that entry is recorded, not guessed before.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_duplicate_names_the_first_sightings_entry_under_concurrency() {
    let s = state_of(parts(Mode::Strict, Trackers::default()), 100_000);
    let mut tasks = Vec::new();
    for task in 0..8 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..400 {
                // Every id is sent twice, once by an even and once by an odd task.
                let id = format!("c{}-{i}", task / 2);
                call(&s, get(&click("1", &id))).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let all = s
        .journal()
        .query(&crate::journal::Filter::default())
        .requests;
    assert_eq!(all.len(), 3200);
    let mut checked = 0;
    for e in &all {
        let Some(d) = e
            .diagnostics
            .iter()
            .find(|d| d.code.as_str() == "click-id-duplicate")
        else {
            continue;
        };
        let Some(first) = d
            .message
            .split("request #")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .and_then(|n| n.parse::<u64>().ok())
        else {
            // Named as still being recorded: true, and nothing to cross-check.
            continue;
        };
        let original = s.journal().get(first).expect("the named entry is kept");
        assert_eq!(
            original.param("click_id"),
            e.param("click_id"),
            "#{} names #{first}",
            e.seq
        );
        assert!(first < e.seq);
        checked += 1;
    }
    assert!(checked > 1500, "only {checked} duplicates named a number");
}

#[tokio::test]
async fn click_ids_beyond_the_capacity_are_forgotten_and_counted() {
    let s = state_of(
        Parts {
            click_id_capacity: 1,
            ..parts(Mode::Strict, Trackers::default())
        },
        100,
    );
    for id in ["a", "b", "a"] {
        call(&s, get(&click("1", id))).await;
    }
    let last = s.journal().get(3).expect("entry");
    assert!(last.diagnostics.is_empty(), "{:?}", last.diagnostics);
    assert_eq!(s.click_ids().forgotten(), 2);
}

#[tokio::test]
async fn admin_filters_get_and_reset() {
    let s = state(Mode::Strict, Trackers::default());
    call(&s, get(&click("1", "a"))).await;
    call(&s, get("/serve/2?device_ip=x")).await;
    let (status, _, body) = call(&s, get("/__admin/requests?status=400")).await;
    assert_eq!(status, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(v["total"], 1);
    assert_eq!(v["dropped"], 0);
    assert_eq!(v["requests"][0]["seq"], 2);
    let (_, _, body) = call(&s, get("/__admin/requests?code=ip-invalid&kind=click")).await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).expect("json")["total"],
        1
    );
    let (_, _, body) = call(&s, get("/__admin/requests?click_id=a")).await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).expect("json")["requests"][0]["seq"],
        1
    );
    let (status, _, body) = call(&s, get("/__admin/requests?bogus=1")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(String::from_utf8_lossy(&body).contains("bogus"));
    let (status, _, body) = call(&s, get("/__admin/requests/1")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).expect("json")["seq"],
        1
    );
    let (status, _, _) = call(&s, get("/__admin/requests/99")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let del = Request::delete("/__admin/requests")
        .body(Body::empty())
        .expect("request");
    let (status, _, _) = call(&s, del).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s.journal().len(), 0);
    let (status, _, body) = call(&s, get("/__admin/health")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("\"status\":\"ok\""));
}

#[tokio::test]
async fn metrics_count_requests_and_codes() {
    let s = state(Mode::Strict, Trackers::default());
    call(&s, get(&click("1", "a"))).await;
    call(&s, get("/serve/2?device_ip=x")).await;
    let (status, _, body) = call(&s, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body).expect("utf-8");
    assert!(
        text.contains("s2s_requests_total{kind=\"click\",status=\"204\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("s2s_diagnostics_total{code=\"ip-invalid\",severity=\"error\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("s2s_request_duration_seconds_count 2"),
        "{text}"
    );
    assert!(text.contains("s2s_click_ids_forgotten 0"), "{text}");
}

#[tokio::test]
async fn admin_needs_the_bearer_token_when_one_is_set() {
    let s = state_of(
        Parts {
            admin_token: Some("s3cret".into()),
            ..parts(Mode::Strict, Trackers::default())
        },
        10,
    );
    for path in ["/__admin/health", "/__admin/requests", "/metrics"] {
        let (status, headers, _) = call(&s, get(path)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(headers
            .iter()
            .any(|(k, v)| k == "www-authenticate" && v == "Bearer"));
        let mut wrong = get(path);
        wrong
            .headers_mut()
            .insert("authorization", "Bearer s3cre".parse().expect("header"));
        assert_eq!(call(&s, wrong).await.0, StatusCode::UNAUTHORIZED, "{path}");
        let mut right = get(path);
        right
            .headers_mut()
            .insert("authorization", "Bearer s3cret".parse().expect("header"));
        assert_eq!(call(&s, right).await.0, StatusCode::OK, "{path}");
    }
    // Tracking calls need no token.
    assert_eq!(
        call(&s, get(&click("1", "a"))).await.0,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn no_cors_headers_are_sent() {
    let s = state(Mode::Strict, Trackers::default());
    let mut req = get("/__admin/requests");
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().expect("header"));
    let (_, headers, _) = call(&s, req).await;
    assert!(
        !headers
            .iter()
            .any(|(k, _)| k.starts_with("access-control-")),
        "{headers:?}"
    );
}
