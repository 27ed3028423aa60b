//! The Logs API export, as a reconciliation script reads it.

use crate::support::{http, http_as, now, start};
use crate::{click, click_and_install, export_dates, postback, stop, tracker_file, Receiver};
use crate::{ANDROID_UA, GAID};
use serde_json::{json, Value};

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
    let install = click_and_install(&server, "exp-1");
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
    let range = export_dates();
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

/// A postback answered 503, 503, then 200: the export has exactly its three attempts, in order,
/// each with its time, status and answer, `failed` twice and then `sent`; with an admin token,
/// the Logs API's own `Authorization: OAuth <token>` is accepted.
#[test]
fn the_exports_rows_are_the_attempts_and_oauth_is_accepted() {
    let rx = Receiver::answering(&[503, 503, 200]);
    let file = tracker_file(
        "attempts",
        &format!(
            "[tracker.postback_policy]\nretry_interval_secs = 60\n{}",
            postback("install", &rx, "tx={transaction_id}", "")
        ),
    );
    let token = "logs-api-token";
    let server = start(&[
        "--config",
        file.to_str().expect("path"),
        "--postback-time-scale",
        "600",
        "--admin-token",
        token,
    ]);
    let ask = |target: &str, authorization: Option<&str>| {
        http_as(server.click, authorization, "GET", target, "")
    };
    let oauth = format!("OAuth {token}");
    click(
        &server,
        "att-1",
        &format!("google_aid={GAID}"),
        ANDROID_UA,
        now() - 1,
    );
    let (status, body) = http_as(
        server.click,
        Some(&oauth),
        "POST",
        "/__admin/conversions",
        &json!({"tracking_id": 7, "event": "install", "google_aid": GAID}).to_string(),
    );
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let install: Value = serde_json::from_slice(&body).expect("json");
    let tx = install["transaction_id"].as_str().expect("tx");
    let (status, body) = ask(
        &format!("/__admin/postbacks/wait?transaction_id={tx}&delivered=true&timeout_ms=20000"),
        Some(&oauth),
    );
    assert_eq!(status, 200);
    let page: Value = serde_json::from_slice(&body).expect("json");
    let attempts = page["postbacks"][0]["attempts"]
        .as_array()
        .expect("attempts")
        .clone();
    assert_eq!(attempts.len(), 3, "{page}");
    let export = format!(
        "/logs/v1/export/postbacks.json?application_id=1&{}&fields=attempt_timestamp,attempt_datetime,notifying_status,response_code,response_body,postback_url",
        export_dates()
    );
    let (status, _) = ask(&export, None);
    assert_eq!(
        status, 401,
        "the export is under the admin API's access rules"
    );
    let (status, _) = ask(&export, Some("OAuth wrong-token"));
    assert_eq!(status, 401);
    let (status, body) = ask(&export, Some(&oauth));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    let rows = serde_json::from_slice::<Value>(&body).expect("json")["data"].clone();
    let url = page["postbacks"][0]["url"].as_str().expect("url");
    let expected: Vec<Value> = attempts
        .iter()
        .zip(["failed", "failed", "sent"])
        .map(|(a, status)| {
            let at = a["at"].as_str().expect("at");
            let ms = metrica_s2s_rules::calendar::parse_rfc3339(at).expect("time");
            json!({
                "attempt_timestamp": (ms / 1000).to_string(),
                "attempt_datetime": format!("{} {}", &at[..10], &at[11..19]),
                "notifying_status": status,
                "response_code": a["status"].to_string(),
                "response_body": a["answer"].as_str().unwrap_or(""),
                "postback_url": url,
            })
        })
        .collect();
    assert_eq!(rows, json!(expected));
    assert_eq!(
        rows.as_array().map(|r| r
            .iter()
            .map(|r| (r["response_code"].clone(), r["response_body"].clone()))
            .collect::<Vec<_>>()),
        Some(vec![
            (json!("503"), json!("NO")),
            (json!("503"), json!("NO")),
            (json!("200"), json!("SUCCESS"))
        ]),
        "the receiver's own answers"
    );
    // An equality filter on any field, as the Logs API takes them.
    let (status, body) = ask(&format!("{export}&notifying_status=failed"), Some(&oauth));
    assert_eq!(status, 200);
    let failed = serde_json::from_slice::<Value>(&body).expect("json")["data"].clone();
    assert_eq!(failed, json!(expected[..2]));
    stop(server, &file);
}
