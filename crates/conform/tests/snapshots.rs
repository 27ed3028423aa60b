//! Every report format, rendered from one fixed run: a pass, a failure with expected beside
//! actual (hostile text included), a scenario the runner could not judge, a postback answered
//! 204 with a hostile body, a scenario not run, and a request that matched no scenario. A change to any format shows here as a diff to review.

use metrica_s2s_conform::judge::Finding;
use metrica_s2s_conform::report::{
    html, json, junit, markdown, terminal, NotRun, RunReport, ScenarioReport, Status, Unmatched,
};
use metrica_s2s_conform::truth::Truth;
use metrica_s2s_conform::Suite;
use metrica_s2s_mock::model::Delivery;
use metrica_s2s_mock::model::Entry;
use metrica_s2s_rules::{Code, Draft};
use std::sync::Arc;
use std::time::Duration;

const SUITE: &str = r#"
[suite]
id = "snapshot"
title = "a fixed run"
[[scenario]]
id = "passes"
title = "A click that arrives intact"
event = "click"
device = { ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8)", ip = "5.255.232.147", google_aid = "38400000-8cf0-11bd-b23e-10b96e40000d" }
[[scenario]]
id = "fails"
title = "A <b>hostile</b> UA"
event = "click"
device = { ua = "Mozilla/5.0 <script>alert(1)</script> \u001b[2J A+B", ip = "2a02:6b8::2:242" }
[[scenario]]
id = "errors"
title = "A scenario the runner could not judge"
event = "impression"
tags = ["recommended"]
device = { ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)", ip = "77.88.55.242" }
[[scenario]]
id = "postback"
title = "A postback answered 204"
event = "click"
device = { ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8)", ip = "5.255.232.147", google_aid = "38400000-8cf0-11bd-b23e-10b96e40000d" }
postback = { event = "install", match = "identifier" }
"#;

fn entry(seq: u64, target: &str, status: u16) -> Arc<Entry> {
    let json = serde_json::json!({
        "seq": seq,
        "received_at": "2026-11-28T10:00:00.250Z",
        "kind": "click",
        "method": "GET",
        "host": "127.0.0.1:18080",
        "tracking_id": "1000000000000000001",
        "target": target,
        "params": {},
        "remote_addr": "127.0.0.1:40000",
        "user_agent": "curl/8.5.0",
        "x_forwarded_for": null,
        "status": status,
        "diagnostics": [],
    });
    let mut e: Entry = serde_json::from_value(json).expect("entry");
    e.params = metrica_s2s_rules::Query::parse(target)
        .first_of_each()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Arc::new(e)
}

fn fixed_run() -> RunReport {
    let suite = Suite::parse(SUITE).expect("suite");
    let truth = |i: u64, id: &str| Truth {
        tracking_id: 1_000_000_000_000_000_000 + i,
        click_id: format!("{id}-c0ffee"),
        event_time: 1_795_860_000,
    };
    let mut passes = ScenarioReport::new(
        &suite.scenarios[0],
        &truth(0, "passes"),
        Duration::from_millis(41),
    );
    passes.requests.push(entry(1, "/serve/1000000000000000000?click_id=passes-c0ffee&device_ip=5.255.232.147&device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)&click_timestamp=1795860000&google_aid=38400000-8cf0-11bd-b23e-10b96e40000d", 204));

    let mut fails = ScenarioReport::new(
        &suite.scenarios[1],
        &truth(1, "fails"),
        Duration::from_millis(57),
    );
    fails.requests.push(entry(2, "/serve/1000000000000000001?click_id=fails-c0ffee&device_ip=2a02:6b8::2:242&device_ua=Mozilla/5.0+%3Cscript%3Ealert(1)%3C/script%3E+%1B[2J+A+B&click_timestamp=1795860000", 204));
    let expected = suite.scenarios[1].device.ua.clone();
    let actual = expected.replace('+', " ");
    fails.diagnostics.push(Finding {
        diagnostic: Draft::new(Code::UaMismatch)
            .arg(
                "cause",
                "'+' decoded as spaces: the plus signs were sent unencoded",
            )
            .arg("fix", "percent-encode '+' as %2B")
            .finish(),
        expected: Some(expected),
        actual: Some(actual),
    });
    fails.status = Status::Failed;

    let mut errors = ScenarioReport::new(&suite.scenarios[2], &truth(2, "errors"), Duration::ZERO);
    errors.status = Status::Error;
    errors.error = Some("the runner could not judge this scenario: the mock's journal could not be read: it answered HTTP 500".into());

    let mut postback = ScenarioReport::new(
        &suite.scenarios[3],
        &truth(3, "postback"),
        Duration::from_millis(88),
    );
    postback.requests.push(entry(4, "/serve/1000000000000000003?click_id=postback-c0ffee&device_ip=5.255.232.147&device_ua=Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)&click_timestamp=1795860000&google_aid=38400000-8cf0-11bd-b23e-10b96e40000d", 204));
    let delivery: Delivery = serde_json::from_value(serde_json::json!({
        "id": 1,
        "transaction_id": "tx-1",
        "tracking_id": "1000000000000000003",
        "event": "install",
        "click_id": "postback-c0ffee",
        "method": "GET",
        "url": "http://127.0.0.1:9100/pb?click_id=postback-c0ffee&ip=%3A%3Affff%3A5.255.232.147",
        "delivered": false,
        "state": "stopped",
        "next_attempt_at": null,
        "attempts": [
            {"at": "2026-11-28T10:00:01.000Z", "status": 204, "error": null, "duration_ms": 2, "answer": "</pre><script>alert(1)</script>\u{1b}[2J"},
            {"at": "2026-11-28T10:00:01.010Z", "status": 204, "error": null, "duration_ms": 1, "repeat": true}
        ]
    }))
    .expect("delivery");
    postback.diagnostics = metrica_s2s_conform::postback::judge(&delivery);
    postback.postbacks.push(delivery);
    postback.status = Status::Failed;

    let stray = Unmatched {
        resembles: Some("fails".into()),
        request: entry(
            3,
            "/serve/42?click_id=fails-c0ffee&device_ua=%3Cimg%20src%3Dx%3E",
            204,
        ),
    };
    let mut r = RunReport::new(
        &suite,
        "Snapshot <network> & co",
        vec![passes, fails, errors, postback],
        vec![stray],
        Duration::from_millis(1234),
    )
    .with_not_run(vec![NotRun {
        id: "postback-post-json".into(),
        reason: "postback scenarios need a [postback] table in the partner file".into(),
    }]);
    r.tool.version = "0.0.0-snapshot";
    r
}

#[test]
fn json() {
    insta::assert_snapshot!(json::render(&fixed_run()));
}

#[test]
fn junit() {
    insta::assert_snapshot!(junit::render(&fixed_run()));
}

#[test]
fn markdown() {
    insta::assert_snapshot!(markdown::render(&fixed_run()));
}

#[test]
fn html() {
    insta::assert_snapshot!(html::render(&fixed_run()));
}

#[test]
fn terminal() {
    insta::assert_snapshot!(terminal::render(&fixed_run()));
}
