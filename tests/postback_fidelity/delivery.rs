//! Delivery under both documented readings of AppMetrica's postback pages.

use crate::support::{http, start};
use crate::{click_and_install, delivered, postback, stop, tracker_file, Receiver};
use serde_json::{json, Value};

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
        let install = click_and_install(&server, "p");
        let d = delivered(&server, &install);
        assert_eq!(d["attempts"][0]["status"], 204, "{d}");
        assert_eq!(d["state"], delivered_state, "success = {success}: {d}");
        stop(server, &file);
    }
}

/// The specification page's reading: the first attempt about 5 minutes after attribution,
/// retries every 5-10 minutes, and the 24 hours counted from the first attempt, not from the
/// attribution (here 1 hour for each, scaled 3600 times: 1 s, 50-100 ms, 1 s).
#[test]
fn the_first_delay_the_retry_range_and_the_give_up_counted_from_the_first_attempt() {
    let rx = Receiver::start(503);
    let file = tracker_file(
        "schedule",
        &format!(
            "[tracker.postback_policy]\nfirst_delay_secs = 3600\nretry_interval_secs = [180, 360]\ngive_up_after_secs = 3600\n{}",
            postback("install", &rx, "tx={transaction_id}", "")
        ),
    );
    let server = start(&[
        "--config",
        file.to_str().expect("path"),
        "--postback-time-scale",
        "3600",
    ]);
    let install = click_and_install(&server, "sched");
    let attributed_ms = millis_now();
    let id = install["postbacks"][0].as_u64().expect("a delivery");
    let (_, body) = http(server.click, "GET", &format!("/__admin/postbacks/{id}"), "");
    let waiting: Value = serde_json::from_slice(&body).expect("json");
    // Nothing sent yet: the first attempt is scheduled a (scaled) hour away.
    assert_eq!(waiting["attempts"], json!([]), "{waiting}");
    assert_eq!(waiting["state"], "pending", "{waiting}");
    let first_at = at_ms(&waiting["next_attempt_at"]);
    assert!(
        first_at >= attributed_ms + 800,
        "first attempt scheduled {} ms after the install",
        first_at - attributed_ms
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let d = loop {
        assert!(
            std::time::Instant::now() < deadline,
            "still pending after 30 s"
        );
        let (_, body) = http(server.click, "GET", &format!("/__admin/postbacks/{id}"), "");
        let d: Value = serde_json::from_slice(&body).expect("json");
        if d["state"] != "pending" {
            break d;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(d["state"], "failed", "{d}");
    let times: Vec<i64> = d["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| at_ms(&a["at"]))
        .collect();
    // Counted from the attribution, the hour would be over at the first attempt: one at most.
    assert!(times.len() >= 5, "{} attempts: {d}", times.len());
    assert!(
        times[0] >= attributed_ms + 900,
        "the first attempt waited the first delay: {} ms",
        times[0] - attributed_ms
    );
    assert!(
        times.windows(2).all(|w| w[1] - w[0] >= 45),
        "retries at least 3 minutes (50 ms) apart: {times:?}"
    );
    assert!(
        times[times.len() - 1] - times[0] <= 1_000,
        "no attempt after the hour from the first: {times:?}"
    );
    stop(server, &file);
}

fn at_ms(v: &Value) -> i64 {
    let text = v.as_str().unwrap_or_else(|| panic!("a time: {v}"));
    metrica_s2s_rules::calendar::parse_rfc3339(text).expect("RFC 3339")
}

fn millis_now() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970");
    i64::try_from(d.as_millis()).expect("millis")
}
