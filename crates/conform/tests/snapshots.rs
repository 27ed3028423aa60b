//! Every report format, rendered from one fixed run with every outcome: a pass with a
//! warning, a failure with expected beside actual (hostile text included), a scenario the
//! runner could not judge, a postback answered 503 with a hostile body, a recommended
//! failure, a failure the baseline accepts, a flaky scenario, a scenario not run, a request
//! that matched no scenario, and a stale and an expired baseline entry. A change to any format
//! shows here as a diff to review.

use metrica_s2s_conform::baseline::{day_number, Baseline};
use metrica_s2s_conform::gate::{self, Applied, Policy};
use metrica_s2s_conform::judge::Finding;
use metrica_s2s_conform::report::{
    codequality, github, html, json, junit, markdown, terminal, EarlierAttempt, PartnerRef,
    RunReport, ScenarioReport, Status, Unmatched,
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
title = "A postback answered 503"
event = "click"
device = { ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8)", ip = "5.255.232.147", google_aid = "38400000-8cf0-11bd-b23e-10b96e40000d" }
postback = { event = "install", match = "identifier" }
[[scenario]]
id = "retry-after-503"
title = "A retry that never comes"
event = "click"
tags = ["recommended"]
device = { ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8)", ip = "5.255.232.147" }
[[scenario]]
id = "accepted"
title = "A known failure, being fixed"
event = "click"
device = { ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8)", ip = "5.255.232.147" }
[[scenario]]
id = "flaky"
title = "A click that arrived on the second try"
event = "click"
device = { ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8)", ip = "5.255.232.147" }
[[scenario]]
id = "postback-post-json"
title = "A postback posted as JSON"
event = "click"
device = { ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8)", ip = "5.255.232.147", google_aid = "38400000-8cf0-11bd-b23e-10b96e40000d" }
postback = { event = "install", match = "identifier", method = "POST" }
"#;

const BASELINE: &str = r#"[[accept]]
scenario = "accepted"
code = "click-id-mismatch"
reason = "click ids ship in 2.3, <b>PROJ-12</b>"
until = "2027-03-01"

[[accept]]
scenario = "passes"
reason = "was broken in 2.1"

[[accept]]
scenario = "fails"
code = "ua-mismatch"
reason = "promised for November"
until = "2026-11-30"

[[accept]]
scenario = "gone"
reason = "a scenario the suite dropped"
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
    passes.diagnostics.push(Finding::plain(
        Draft::new(Code::RetryStorm)
            .arg("reason", "7 attempts within one second")
            .finish(),
    ));

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
            {"at": "2026-11-28T10:00:01.000Z", "status": 503, "error": null, "duration_ms": 2, "answer": "</pre><script>alert(1)</script>\u{1b}[2J"},
            {"at": "2026-11-28T10:00:01.010Z", "status": 503, "error": null, "duration_ms": 1, "repeat": true}
        ]
    }))
    .expect("delivery");
    postback.diagnostics = metrica_s2s_conform::postback::judge(&delivery);
    postback.postbacks.push(delivery);
    postback.status = Status::Failed;

    let mut recommended = ScenarioReport::new(
        &suite.scenarios[4],
        &truth(4, "retry"),
        Duration::from_millis(3000),
    );
    recommended.diagnostics.push(Finding::plain(
        Draft::new(Code::RetryMissing)
            .arg("fault", "answered 503")
            .arg("event", "click")
            .arg("window", "8s")
            .finish(),
    ));
    recommended.status = Status::Failed;

    let mut accepted = ScenarioReport::new(
        &suite.scenarios[5],
        &truth(5, "accepted"),
        Duration::from_millis(20),
    );
    accepted.diagnostics.push(Finding {
        diagnostic: Draft::new(Code::ClickIdMismatch)
            .arg("actual", "missing")
            .arg("expected", "\"accepted-c0ffee\"")
            .finish(),
        expected: Some("accepted-c0ffee".into()),
        actual: Some(String::new()),
    });
    accepted.status = Status::Failed;

    let mut flaky = ScenarioReport::new(
        &suite.scenarios[6],
        &truth(6, "flaky"),
        Duration::from_millis(30),
    );
    flaky.earlier_attempts.push(EarlierAttempt {
        tracking_id: "1000000000000000013".into(),
        click_id: "flaky-0".into(),
        status: Status::Failed,
        codes: "no-request".into(),
        message: "nothing arrived within 3000 ms".into(),
        duration_ms: 3000,
    });

    let not_run = ScenarioReport::not_run(
        &suite.scenarios[7],
        &truth(7, "postback-post-json"),
        "postback scenarios need a [postback] table in the partner file",
    );

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
        PartnerRef {
            name: "Snapshot <network> & co".into(),
            file: Some("partners/snap,shot:1.toml".into()),
        },
        vec![
            passes,
            fails,
            errors,
            postback,
            recommended,
            accepted,
            flaky,
            not_run,
        ],
        vec![stray],
        Duration::from_millis(1234),
    );
    let baseline =
        Baseline::parse(BASELINE, std::path::Path::new("baseline.toml")).expect("baseline");
    let ids = suite.scenarios.iter().map(|s| s.id.clone()).collect();
    gate::decide(
        &mut r,
        &Policy {
            fail_on_recommended: false,
            retries: 1,
        },
        Some(Applied {
            baseline: &baseline,
            today: day_number("2026-12-05").expect("a day"),
            suite: &ids,
            only: &[],
        }),
    );
    r.tool.version = "0.0.0-snapshot";
    r
}

#[test]
fn the_fixed_run_has_every_outcome_and_fails_on_the_required_failures_and_the_baseline() {
    let r = fixed_run();
    let outcomes: Vec<(&str, &str)> = r
        .scenarios
        .iter()
        .map(|s| (s.id.as_str(), s.outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("passes", "passed"),
            ("fails", "failed"),
            ("errors", "error"),
            ("postback", "failed"),
            ("retry-after-503", "failed-recommended"),
            ("accepted", "accepted"),
            ("flaky", "flaky"),
            ("postback-post-json", "not-run"),
        ]
    );
    assert_eq!((r.verdict.as_str(), r.exit_code), ("FAILED", 1));
    let b = r.gate.baseline.as_ref().expect("a baseline");
    let stale: Vec<&str> = b.stale.iter().map(|p| p.scenario.as_str()).collect();
    assert_eq!(stale, ["passes", "gone"]);
    assert_eq!(b.expired[0].scenario, "fails");
    assert_eq!(b.used, 1);
}

#[test]
fn github() {
    insta::assert_snapshot!(github::render(&fixed_run()));
}

#[test]
fn codequality() {
    insta::assert_snapshot!(codequality::render(&fixed_run()));
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
