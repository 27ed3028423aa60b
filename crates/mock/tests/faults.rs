//! Faults over real HTTP on loopback: a status with Retry-After, a real TCP RST, a close
//! without an answer, a delay; each journaled with the fault applied, and a retry of the same
//! click never a duplicate.

mod support;

use metrica_s2s_mock::{Config, Trackers};
use std::io::ErrorKind;
use std::time::{Duration, Instant};
use support::{get, send_json, Mock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn add_fault(m: &Mock, body: &str) -> u64 {
    let r = send_json(m.click, "POST", "/__admin/faults", body).await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    r.json()["id"].as_u64().expect("id")
}

/// Sends one request and reads until the server ends the connection: the bytes, or the error.
async fn raw_outcome(m: &Mock, target: &str) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(m.click).await?;
    s.write_all(
        format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    Ok(out)
}

#[tokio::test]
async fn a_status_fault_answers_its_status_once_and_the_retry_is_no_duplicate() {
    let m = Mock::default().await;
    add_fault(
        &m,
        r#"{"tracking_id": "7", "fault": "status", "status": 503, "retry_after": 2, "times": 1}"#,
    )
    .await;
    let click = support::click("7", "again");
    let first = get(m.click, &click).await;
    assert_eq!(first.status, 503);
    assert_eq!(first.header("retry-after"), Some("2"));
    let retry = get(m.click, &click).await;
    assert_eq!(
        retry.status,
        204,
        "{}",
        String::from_utf8_lossy(&retry.body)
    );
    let page = get(m.click, "/__admin/requests").await.json();
    let entries = page["requests"].as_array().expect("entries");
    assert_eq!(entries[0]["fault"]["fault"], "status");
    assert_eq!(entries[0]["fault"]["status"], 503);
    assert_eq!(entries[0]["status"], 503);
    assert_eq!(entries[1]["fault"], serde_json::Value::Null);
    assert!(
        entries[1]["diagnostics"]
            .as_array()
            .expect("list")
            .is_empty(),
        "the retry is not click-id-duplicate: {}",
        entries[1]
    );
    let listed = get(m.click, "/__admin/faults").await.json();
    assert_eq!(listed["faults"][0]["hits"], 1);
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn a_reset_is_a_tcp_rst_and_a_close_is_an_end_without_an_answer() {
    let m = Mock::default().await;
    add_fault(&m, r#"{"fault": "reset", "times": 1}"#).await;
    let reset = raw_outcome(&m, &support::click("1", "r")).await;
    assert_eq!(
        reset.as_ref().map_err(std::io::Error::kind).err(),
        Some(ErrorKind::ConnectionReset),
        "{reset:?}"
    );
    add_fault(&m, r#"{"fault": "close", "times": 1}"#).await;
    let closed = raw_outcome(&m, &support::click("1", "c"))
        .await
        .expect("a clean end");
    assert!(
        closed.is_empty(),
        "no answer at all: {:?}",
        String::from_utf8_lossy(&closed)
    );
    // Both used up: the server answers as usual, on new connections.
    assert_eq!(get(m.click, &support::click("1", "ok")).await.status, 204);
    let page = get(m.click, "/__admin/requests").await.json();
    let faults: Vec<_> = page["requests"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["status"].as_u64(),
                e["fault"]["fault"].as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        faults,
        [
            (Some(0), Some("reset".to_owned())),
            (Some(0), Some("close".to_owned())),
            (Some(204), None)
        ]
    );
    let metrics = String::from_utf8(get(m.click, "/metrics").await.body).expect("utf-8");
    assert!(
        metrics.contains(r#"s2s_faults_total{fault="reset"} 1"#),
        "{metrics}"
    );
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn a_delay_answers_late_and_faults_match_by_kind_and_tracker() {
    let m = Mock::default().await;
    add_fault(
        &m,
        r#"{"fault": "delay", "delay_ms": 300, "kind": "click", "tracking_id": 5}"#,
    )
    .await;
    let started = Instant::now();
    assert_eq!(get(m.click, &support::click("5", "slow")).await.status, 204);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let imp = support::click("5", "imp");
    assert_eq!(
        get(m.impression, &imp).await.status,
        204,
        "impressions untouched"
    );
    let other = get(m.click, "/__admin/requests?tracking_id=5").await.json();
    assert_eq!(other["requests"][0]["fault"]["delay_ms"], 300);
    assert_eq!(other["requests"][1]["fault"], serde_json::Value::Null);
    let r = support::raw(
        m.click,
        format!(
            "DELETE /__admin/faults HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            m.click
        )
        .as_bytes(),
    )
    .await;
    assert_eq!(r.json()["cleared"], 1);
    m.stop().await.expect("stopped");
}

#[tokio::test]
async fn bad_faults_get_a_problem_naming_the_field_and_the_tracker_file_sets_faults() {
    let m = Mock::default().await;
    for (body, field) in [
        (r#"{"fault": "status", "status": 42}"#, "status"),
        (r#"{"fault": "delay"}"#, "delay_ms"),
        (r#"{"fault": "explode"}"#, "fault"),
        (r#"{"fault": "reset", "probability": 2}"#, "probability"),
        (r#"{"fault": "reset", "tracking_id": "x1"}"#, "tracking_id"),
    ] {
        let r = send_json(m.click, "POST", "/__admin/faults", body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.json()["field"], field, "{body}");
    }
    m.stop().await.expect("stopped");

    let trackers = Trackers::parse(
        "[[tracker]]\nid = 9\nname = \"a\"\nplatform = \"any\"\nstore_url = \"https://x\"\n[[tracker.fault]]\nfault = \"status\"\nstatus = 500\ntimes = 1\n",
    )
    .expect("tracker file");
    let m = Mock::start(Config {
        trackers,
        ..support::with_journal(100)
    })
    .await;
    assert_eq!(get(m.click, &support::click("8", "a")).await.status, 204);
    assert_eq!(get(m.click, &support::click("9", "a")).await.status, 500);
    assert_eq!(get(m.click, &support::click("9", "a")).await.status, 204);
    m.stop().await.expect("stopped");
}
