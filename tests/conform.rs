//! `metrica-s2s conform` end to end against the example partners in fixtures/partners/: each
//! is diagnosed exactly (which scenarios fail, with which error codes), and every report format
//! keeps hostile text inert.

mod support;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const SCENARIOS: &[&str] = &[
    "android-click-gaid-ipv4",
    "ios-click-idfa-ipv6",
    "android-impression",
    "click-without-ad-id",
    "ua-special-characters",
    "ua-cyrillic-model",
    "ua-long",
    "ios-impression-ipv6",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A fresh directory for reports and generated files, removed with everything in it on drop,
/// also when the test fails.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("metrica-s2s-conform-")
        .tempdir()
        .expect("temp dir")
}

fn conform(args: &[&str]) -> Output {
    conform_env(args, &[])
}

/// `conform` with `env` added to its environment.
fn conform_env(args: &[&str], env: &[(&str, &Path)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_metrica-s2s"))
        .arg("conform")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .output()
        .expect("runs")
}

/// Runs conform with `args` plus a JSON report named `report_name`; the outcome and the report.
fn conform_json(report_name: &str, args: &[&str]) -> (Output, String) {
    conform_json_env(report_name, args, &[])
}

/// `conform_json` with `env` added to the environment.
fn conform_json_env(report_name: &str, args: &[&str], env: &[(&str, &Path)]) -> (Output, String) {
    let dir = scratch();
    let report = dir.path().join(report_name);
    let flag = format!("json={}", report.display());
    let mut all = args.to_vec();
    all.extend_from_slice(&["--report", &flag]);
    let out = conform_env(&all, env);
    let text = std::fs::read_to_string(&report)
        .unwrap_or_else(|e| panic!("no report ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (out, text)
}

/// Per scenario id: its status and its error codes.
type Verdicts = BTreeMap<String, (String, BTreeSet<String>)>;

/// Runs a partner; returns the exit code and the verdicts.
fn run_partner(name: &str) -> (Option<i32>, Verdicts) {
    let partner = format!("fixtures/partners/{name}.toml");
    let (out, text) = conform_json(
        &format!("{}.json", name.replace('/', "-")),
        &["--partner", &partner],
    );
    let json: Value = serde_json::from_str(&text).expect("json");
    let mut by = BTreeMap::new();
    for s in json["scenarios"].as_array().expect("scenarios") {
        let errors = s["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| d["code"].as_str().expect("code").to_owned())
            .collect();
        by.insert(
            s["id"].as_str().expect("id").to_owned(),
            (s["status"].as_str().expect("status").to_owned(), errors),
        );
    }
    (out.status.code(), by)
}

/// Scenarios that must fail, each with its exact error codes.
type Failing = Vec<(&'static str, &'static [&'static str])>;

/// The standard suite's postback scenarios: run for partners with a `[postback]` table.
const POSTBACK_SCENARIOS: &[&str] = &[
    "postback-install-gaid",
    "postback-install-referrer",
    "postback-ios-fingerprint-ipv6",
    "postback-event-cyrillic",
    "postback-post-json",
];

/// The standard suite's retry scenarios (recommended): the mock fails the first attempts.
const RETRY_SCENARIOS: &[&str] = &[
    "retry-after-503",
    "retry-after-reset",
    "retry-after-503-retry-after",
];

/// The scenarios whose failure fails nothing.
fn recommended(id: &str) -> bool {
    id == "ios-impression-ipv6" || RETRY_SCENARIOS.contains(&id)
}

/// `failing` lists the scenarios that must fail and their exact error codes; all others of
/// the core scenarios pass.
fn assert_diagnosed(name: &str, failing: &[(&str, &[&str])]) {
    assert_diagnosed_over(name, SCENARIOS, failing);
}

/// As `assert_diagnosed`, over `scenarios`; the run's other scenarios are judged elsewhere.
fn assert_diagnosed_over(name: &str, scenarios: &[&str], failing: &[(&str, &[&str])]) {
    let (code, mut got) = run_partner(name);
    got.retain(|id, _| scenarios.contains(&id.as_str()));
    let mut want = BTreeMap::new();
    for id in scenarios {
        want.insert(id.to_string(), ("passed".to_owned(), BTreeSet::new()));
    }
    for (id, codes) in failing {
        want.insert(
            id.to_string(),
            (
                "failed".to_owned(),
                codes.iter().map(|c| c.to_string()).collect(),
            ),
        );
    }
    assert_eq!(got, want, "partner {name}");
    let required_failed = failing.iter().any(|(id, _)| !recommended(id));
    assert_eq!(
        code,
        Some(if required_failed { 1 } else { 0 }),
        "partner {name} exit code"
    );
}

fn everywhere(codes: &'static [&'static str]) -> Failing {
    SCENARIOS.iter().map(|s| (*s, codes)).collect()
}

#[test]
fn the_correct_partner_passes_everything() {
    let all: Vec<&str> = SCENARIOS.iter().chain(RETRY_SCENARIOS).copied().collect();
    assert_diagnosed_over("correct", &all, &[]);
}

/// Side by side: most of these never retry, so each waits out the retry scenarios' windows.
#[test]
fn broken_partners_are_diagnosed_exactly() {
    let cases: Vec<(&str, Failing)> = vec![
        (
            "plus-signs",
            vec![("ua-special-characters", &["ua-mismatch"][..])],
        ),
        ("truncate-255", vec![("ua-long", &["ua-mismatch"][..])]),
        ("proxy-ip", everywhere(&["ip-mismatch"])),
        ("milliseconds", everywhere(&["timestamp-milliseconds"])),
        (
            "local-time",
            everywhere(&["timestamp-in-future", "timestamp-skew"]),
        ),
        ("no-click-id", everywhere(&["click-id-mismatch"])),
        (
            "clicks-only",
            vec![
                ("android-impression", &["wrong-endpoint"][..]),
                ("ios-impression-ipv6", &["wrong-endpoint"][..]),
            ],
        ),
        ("double-send", everywhere(&["duplicate-event"])),
        ("own-ua", everywhere(&["ua-server-client", "ua-mismatch"])),
        (
            "drops-ad-ids",
            vec![
                ("android-click-gaid-ipv4", &["device-id-mismatch"][..]),
                ("ios-click-idfa-ipv6", &["device-id-mismatch"][..]),
                ("android-impression", &["device-id-mismatch"][..]),
                ("ios-impression-ipv6", &["device-id-mismatch"][..]),
            ],
        ),
        ("exits-nonzero", everywhere(&["driver-failed"])),
    ];
    std::thread::scope(|s| {
        for (name, failing) in &cases {
            s.spawn(move || assert_diagnosed(name, failing));
        }
    });
}

/// The example retriers: the correct one passes (above); each broken one fails every retry
/// scenario with its code, or for a storm warns.
#[test]
fn retriers_are_diagnosed_exactly() {
    let each = |codes: &'static [&'static str]| -> Failing {
        RETRY_SCENARIOS.iter().map(|s| (*s, codes)).collect()
    };
    let cases: Vec<(&str, Failing)> = vec![
        ("no-retry", each(&["retry-missing"])),
        ("retry-new-timestamp", each(&["retry-changed"])),
        ("retry-storm", Vec::new()),
    ];
    std::thread::scope(|s| {
        for (name, failing) in &cases {
            s.spawn(move || assert_diagnosed_over(name, RETRY_SCENARIOS, failing));
        }
    });
    let (_, text) = conform_json(
        "retry-causes.json",
        &[
            "--partner",
            "fixtures/partners/retry-new-timestamp.toml",
            "--only",
            "retry-after-503",
        ],
    );
    let v: Value = serde_json::from_str(&text).expect("json");
    let d = &v["scenarios"][0]["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), d["param"].as_str()),
        (Some("retry-changed"), Some("click_timestamp"))
    );
    let message = d["message"].as_str().expect("message");
    assert!(
        message.starts_with("the retry changed click_timestamp: \"")
            && message.ends_with("on attempt 2"),
        "{message}"
    );
    let requests = v["scenarios"][0]["requests"].as_array().expect("requests");
    assert_eq!(
        requests[0]["fault"]["status"], 503,
        "the faulted attempt is in the report"
    );
    let (_, text) = conform_json(
        "storm.json",
        &[
            "--partner",
            "fixtures/partners/retry-storm.toml",
            "--only",
            "retry-after-503-retry-after",
        ],
    );
    let v: Value = serde_json::from_str(&text).expect("json");
    let s = &v["scenarios"][0];
    assert_eq!(s["status"], "passed", "a storm warns");
    assert_eq!(s["diagnostics"][0]["code"], "retry-storm");
    assert_eq!(s["diagnostics"][0]["severity"], "warning");
}

/// The example receivers of fixtures/partners/receiver.py: the correct one passes the whole
/// standard suite, postback scenarios included; each broken one fails exactly the postback
/// scenarios its bug breaks, with its code. Run side by side: each has a port of its own.
#[test]
fn postback_receivers_are_diagnosed_exactly() {
    let all: Vec<&str> = SCENARIOS
        .iter()
        .chain(POSTBACK_SCENARIOS)
        .copied()
        .collect();
    let each = |codes: &'static [&'static str]| -> Failing {
        POSTBACK_SCENARIOS.iter().map(|s| (*s, codes)).collect()
    };
    let cases: Vec<(&str, Failing)> = vec![
        ("postback-correct", Vec::new()),
        ("postback-answers-204", each(&["postback-status"])),
        (
            "postback-rejects-repeat",
            each(&["postback-retry-rejected"]),
        ),
        ("postback-ipv4-only", each(&["postback-status"])),
        ("postback-slow", each(&["postback-timeout"])),
        (
            "postback-get-only",
            vec![("postback-post-json", &["postback-status"][..])],
        ),
    ];
    std::thread::scope(|s| {
        for (name, failing) in &cases {
            let all = &all;
            s.spawn(move || assert_diagnosed_over(name, all, failing));
        }
    });
}

#[test]
fn postback_causes_are_named() {
    let (_, text) = conform_json(
        "answers-204-causes.json",
        &[
            "--partner",
            "fixtures/partners/postback-answers-204.toml",
            "--only",
            "postback-install-gaid",
        ],
    );
    let v: Value = serde_json::from_str(&text).expect("json");
    let s = &v["scenarios"][0];
    let d = &s["diagnostics"][0];
    assert_eq!(d["code"], "postback-status");
    let message = d["message"].as_str().expect("message");
    assert!(
        message.contains("answered 204: AppMetrica counts only 200 as delivered and will repeat this postback for 24 hours"),
        "{message}"
    );
    assert_eq!(
        (d["expected"].as_str(), d["actual"].as_str()),
        (Some("200"), Some("204"))
    );
    let delivery = &s["postbacks"][0];
    assert_eq!(delivery["attempts"][0]["status"], 204);
    assert_eq!(
        delivery["attempts"][1]["repeat"], true,
        "the repeat is on record"
    );
    let url = delivery["url"].as_str().expect("url");
    assert!(url.contains("ip=%3A%3Affff%3A5.255.232.147"), "{url}");
}

#[test]
fn without_a_receiver_postback_scenarios_are_listed_as_not_run() {
    let (out, text) = conform_json(
        "no-receiver.json",
        &[
            "--partner",
            "fixtures/partners/correct.toml",
            "--only",
            "android-click-gaid-ipv4",
        ],
    );
    assert_eq!(out.status.code(), Some(0));
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        v["not_run"],
        Value::Null,
        "--only picked none of them: nothing to list"
    );
    let out = conform(&[
        "--partner",
        "fixtures/partners/correct.toml",
        "--only",
        "postback-install-gaid",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[postback]"), "{err}");
    let (_, text) = conform_json("all.json", &["--partner", "fixtures/partners/correct.toml"]);
    let v: Value = serde_json::from_str(&text).expect("json");
    let ids: Vec<&str> = v["not_run"]
        .as_array()
        .expect("not_run")
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    assert_eq!(ids, POSTBACK_SCENARIOS);
}

#[test]
fn causes_are_named() {
    let (_, text) = conform_json(
        "local-time-causes.json",
        &[
            "--partner",
            "fixtures/partners/local-time.toml",
            "--only",
            "ua-long",
        ],
    );
    assert!(text.contains("local UTC+3 time was sent as UTC"), "{text}");
    let (_, text) = conform_json(
        "truncate-causes.json",
        &[
            "--partner",
            "fixtures/partners/truncate-255.toml",
            "--only",
            "ua-long",
        ],
    );
    assert!(text.contains("truncated at 255 characters"), "{text}");
}

#[test]
fn reports_name_tool_suite_and_hash_and_follow_the_contract() {
    let dir = scratch();
    let (json, junit, md) = (
        dir.path().join("c.json"),
        dir.path().join("c.xml"),
        dir.path().join("c.md"),
    );
    let out = conform(&[
        "--partner",
        "fixtures/partners/correct.toml",
        "--report",
        &format!("json={}", json.display()),
        "--report",
        &format!("junit={}", junit.display()),
        "--report",
        &format!("markdown={}", md.display()),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("valid");
    assert_eq!(v["tool"]["name"], "metrica-s2s");
    assert_eq!(v["suite"]["id"], "standard");
    assert_eq!(v["suite"]["sha256"].as_str().map(str::len), Some(64));
    assert_eq!(v["summary"]["total"], 11);
    assert_eq!(v["summary"]["passed"], 11);
    let s0 = &v["scenarios"][0];
    for key in [
        "id",
        "title",
        "event",
        "status",
        "duration_ms",
        "requests",
        "diagnostics",
    ] {
        assert!(s0.get(key).is_some(), "scenario lacks {key}");
    }
    assert_eq!(s0["requests"].as_array().map(Vec::len), Some(1));
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert!(xml.starts_with("<?xml"));
    assert_eq!(xml.matches("<testcase").count(), 11);
    assert!(xml.contains(v["suite"]["sha256"].as_str().expect("sha")));
    let markdown = std::fs::read_to_string(&md).expect("markdown");
    assert!(markdown.contains("(PASSED)"), "{markdown}");
    assert!(
        markdown.contains("| android\\-click\\-gaid\\-ipv4 | click | yes | ✅ passed |"),
        "{markdown}"
    );
}

#[test]
fn hostile_user_agents_stay_inert_in_every_report() {
    let hostile = "<script>alert(1)</script> ]]> \u{1b}[2J \"quoted\" & 'single'";
    let suite = format!(
        "[suite]\nid = \"hostile\"\ntitle = \"hostile\"\n[[scenario]]\nid = \"x\"\ntitle = \"<b>bold</b>\"\nevent = \"click\"\ndevice = {{ ua = {}, ip = \"5.255.232.147\" }}\n",
        toml_string(hostile)
    );
    let dir = scratch();
    let suite_path = dir.path().join("hostile.toml");
    std::fs::write(&suite_path, suite).expect("suite");
    let (json, junit, md) = (
        dir.path().join("h.json"),
        dir.path().join("h.xml"),
        dir.path().join("h.md"),
    );
    let out = conform(&[
        "--partner",
        "fixtures/partners/truncate-255.toml",
        "--suite",
        suite_path.to_str().expect("path"),
        "--report",
        &format!("json={}", json.display()),
        "--report",
        &format!("junit={}", junit.display()),
        "--report",
        &format!("markdown={}", md.display()),
    ]);
    assert!(
        !out.stdout.contains(&0x1b),
        "terminal output carries a raw ESC"
    );
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("valid JSON");
    assert_eq!(
        v["scenarios"][0]["requests"][0]["params"]["device_ua"], hostile,
        "JSON keeps the value exactly"
    );
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert!(!xml.contains("<script>") && !xml.contains("<b>"), "{xml}");
    assert!(!xml.contains('\u{1b}'), "XML forbids ESC");
    assert!(xml.contains("&lt;b&gt;bold&lt;/b&gt;"), "{xml}");
    let markdown = std::fs::read_to_string(&md).expect("markdown");
    assert!(
        !markdown.contains("<script>") && !markdown.contains("<b>") && !markdown.contains('\u{1b}'),
        "{markdown}"
    );
}

#[test]
fn configuration_errors_exit_2() {
    let out = conform(&["--partner", "fixtures/partners/nope.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let out = conform(&[
        "--partner",
        "fixtures/partners/correct.toml",
        "--only",
        "no-such-scenario",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-scenario"));
    let out = conform(&[
        "--partner",
        "fixtures/partners/correct.toml",
        "--report",
        "pdf=x.pdf",
    ]);
    assert_eq!(out.status.code(), Some(2));
}

fn toml_string(s: &str) -> String {
    let mut out = String::from('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[test]
fn click_through_partners_are_diagnosed() {
    assert_diagnosed("http/correct", &[]);
    assert_diagnosed(
        "http/via-tracker",
        &[
            ("android-click-gaid-ipv4", &["redirect-not-direct"]),
            ("ios-click-idfa-ipv6", &["redirect-not-direct"]),
            ("click-without-ad-id", &["redirect-not-direct"]),
            ("ua-special-characters", &["redirect-not-direct"]),
            ("ua-cyrillic-model", &["redirect-not-direct"]),
            ("ua-long", &["redirect-not-direct"]),
        ],
    );
    // A missing referrer is a warning: reported, not failed.
    assert_diagnosed("http/no-referrer", &[]);
    let (_, text) = conform_json(
        "no-referrer.json",
        &[
            "--partner",
            "fixtures/partners/http/no-referrer.toml",
            "--only",
            "ua-long",
        ],
    );
    assert!(text.contains("\"code\": \"referrer-missing\""), "{text}");
}

/// `[mock] url`: a mock started by the user (`metrica-s2s serve`), used through its admin API.
#[test]
fn a_running_mock_can_be_used() {
    let mut serve = support::start(&[]);
    let _stderr = serve.drain_stderr();
    let (click, impression) = (
        format!("http://{}", serve.click),
        format!("http://{}", serve.impression),
    );
    let sender = root().join("fixtures/partners");
    let dir = scratch();
    for (name, script, want_exit) in [
        ("remote-correct", "correct.sh", 0),
        ("remote-proxy-ip", "proxy-ip.sh", 1),
    ] {
        let partner = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &partner,
            format!(
                "[partner]\nname = \"{name}\"\n[driver]\nkind = \"exec\"\ncommand = \"sh {}\"\ntimeout_ms = 20000\n[mock]\nurl = \"{click}\"\nimpression_url = \"{impression}\"\n",
                sender.join(script).display()
            ),
        )
        .expect("partner file");
        let (out, text) = conform_json(
            &format!("{name}.json"),
            &["--partner", partner.to_str().expect("path")],
        );
        assert_eq!(
            out.status.code(),
            Some(want_exit),
            "{name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let v: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v["summary"]["total"], 11, "{name}");
        let first = &v["scenarios"][0]["requests"][0];
        assert_eq!(
            first["kind"], "click",
            "{name}: entries come back from the admin API"
        );
    }
    // `serve` is stopped when dropped.
}

/// Postback scenarios through a running mock: templates, conversions, deliveries and
/// repeats all go through its admin API.
#[test]
fn a_running_mock_delivers_postbacks_too() {
    let mut serve = support::start(&[]);
    let _stderr = serve.drain_stderr();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = scratch();
    let partners = root().join("fixtures/partners");
    let partner = dir.path().join("remote-postbacks.toml");
    std::fs::write(
        &partner,
        format!(
            "[partner]\nname = \"remote postbacks\"\n[driver]\nkind = \"exec\"\ncommand = \"sh {sender}\"\n[mock]\nurl = \"http://{click}\"\nimpression_url = \"http://{impression}\"\n[postback]\nstart = \"python3 {receiver} {port} rejects-repeat\"\nurl = \"http://127.0.0.1:{port}/pb?tx={{transaction_id}}&ip={{install_ipv6}}\"\n",
            sender = partners.join("correct.sh").display(),
            receiver = partners.join("receiver.py").display(),
            click = serve.click,
            impression = serve.impression,
        ),
    )
    .expect("partner file");
    let (out, text) = conform_json(
        "remote-postbacks.json",
        &[
            "--partner",
            partner.to_str().expect("path"),
            "--only",
            "postback-install-gaid",
            "--only",
            "postback-post-json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_str(&text).expect("json");
    for s in v["scenarios"].as_array().expect("scenarios") {
        assert_eq!(
            s["diagnostics"][0]["code"], "postback-retry-rejected",
            "{s}"
        );
        assert_eq!(s["postbacks"][0]["attempts"][1]["status"], 409);
    }
}

/// A partner server that cannot start is the runner's failure to run, not the partner's
/// failure to conform: every scenario is `error` (JUnit `<error>`), and the exit code is 2.
#[test]
fn a_partner_server_that_cannot_start_errors_and_exits_2() {
    let dir = scratch();
    let partner = dir.path().join("broken-start.toml");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    std::fs::write(
        &partner,
        format!(
            "[partner]\nname = \"broken start\"\n[driver]\nkind = \"http\"\nstart = \"exit 3\"\nclick_url = \"http://127.0.0.1:{port}/c?t={{tracking_id}}\"\nimpression_url = \"http://127.0.0.1:{port}/i?t={{tracking_id}}\"\n"
        ),
    )
    .expect("partner file");
    let junit = dir.path().join("e.xml");
    let (out, text) = conform_json(
        "broken-start.json",
        &[
            "--partner",
            partner.to_str().expect("path"),
            "--report",
            &format!("junit={}", junit.display()),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["summary"]["errored"], 11);
    for s in v["scenarios"].as_array().expect("scenarios") {
        assert_eq!(s["status"], "error");
        assert!(
            s["error"]
                .as_str()
                .is_some_and(|e| e.contains("exited with")),
            "{s}"
        );
        assert_eq!(s["diagnostics"].as_array().map(Vec::len), Some(0));
    }
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert_eq!(xml.matches("<error ").count(), 11, "{xml}");
    assert!(!xml.contains("<failure"), "{xml}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("ERRORED"));
}

/// `[mock] tls = true`: the scenarios over https, the example sender trusting the local CA
/// given in S2S_CA_FILE.
#[test]
fn a_partner_can_be_certified_over_https() {
    let tls = scratch();
    let (out, text) = conform_json_env(
        "tls.json",
        &[
            "--partner",
            "fixtures/partners/tls.toml",
            "--only",
            "android-click-gaid-ipv4",
            "--only",
            "ios-impression-ipv6",
        ],
        &[("METRICA_S2S_TLS_DIR", tls.path())],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_str(&text).expect("json");
    for s in v["scenarios"].as_array().expect("scenarios") {
        let host = s["requests"][0]["host"].as_str().expect("host");
        assert!(host.starts_with("localhost:"), "{host}");
    }
    assert!(
        tls.path().join("ca.pem").exists(),
        "the CA the sender trusted"
    );
}

/// A report that cannot be written is found before the partner runs; a partner command that
/// would leave a mark shows it never ran.
#[test]
fn report_paths_are_checked_before_anything_runs() {
    let dir = scratch();
    let marker = dir.path().join("ran");
    let partner = dir.path().join("marks.toml");
    std::fs::write(
        &partner,
        format!(
            "[partner]\nname = \"marks\"\n[driver]\nkind = \"exec\"\ncommand = \"touch {}\"\ntimeout_ms = 5000\n",
            toml_string(&marker.display().to_string()).trim_matches('"')
        ),
    )
    .expect("partner file");
    let missing = dir.path().join("no/such/dir/r.json");
    for bad in [
        format!("json={}", missing.display()),
        format!("html={}", dir.path().display()),
    ] {
        let out = conform(&[
            "--partner",
            partner.to_str().expect("path"),
            "--report",
            &bad,
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("checked before running anything"), "{err}");
        assert!(
            !marker.exists(),
            "the partner ran before the report path was checked"
        );
    }
}

/// A running mock that accepts connections and never answers: the run ends, bounded, as an
/// error naming it, never hangs.
#[test]
fn a_running_mock_that_never_answers_cannot_hang_the_run() {
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = silent.local_addr().expect("addr");
    // Accepted by the kernel's backlog, never read or answered.
    let dir = scratch();
    let partner = dir.path().join("silent.toml");
    std::fs::write(
        &partner,
        format!("[partner]\nname = \"silent mock\"\n[driver]\nkind = \"exec\"\ncommand = \"true\"\ntimeout_ms = 1000\n[mock]\nurl = \"http://{addr}\"\n"),
    )
    .expect("partner file");
    let started = std::time::Instant::now();
    let out = conform(&["--partner", partner.to_str().expect("path")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&addr.to_string()) && err.contains("no answer within"),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    drop(silent);
}
