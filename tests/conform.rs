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

/// `conform` with `env` added to its environment. Runs of one partner file take turns: its
/// receiver's port is its own, so two at once would find it held (exit 2).
fn conform_env(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let partner = args
        .iter()
        .position(|a| *a == "--partner")
        .and_then(|i| args.get(i + 1))
        .map_or(String::new(), |p| (*p).to_owned());
    let turn = partner_turn(partner);
    let _mine = turn
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    Command::new(env!("CARGO_BIN_EXE_metrica-s2s"))
        .arg("conform")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root())
        .output()
        .expect("runs")
}

/// The lock that partner file `partner`'s runs take turns by.
fn partner_turn(partner: String) -> std::sync::Arc<std::sync::Mutex<()>> {
    static TURNS: std::sync::Mutex<BTreeMap<String, std::sync::Arc<std::sync::Mutex<()>>>> =
        std::sync::Mutex::new(BTreeMap::new());
    TURNS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .entry(partner)
        .or_default()
        .clone()
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

/// One run of an example partner: its exit code, its verdicts, and every code it got.
#[derive(Clone, Debug)]
struct Run {
    exit: Option<i32>,
    verdicts: Verdicts,
    codes: BTreeSet<String>,
}

/// Every example partner of fixtures/partners/ (and http/), each run once with the standard
/// suite, side by side (each has a port of its own), the first time a test asks.
fn all_runs() -> &'static BTreeMap<String, Run> {
    static RUNS: std::sync::OnceLock<BTreeMap<String, Run>> = std::sync::OnceLock::new();
    RUNS.get_or_init(|| {
        // A few at a time: a retry storm is told by its timing, which a loaded machine blurs.
        let names = example_partners();
        let next = std::sync::Mutex::new(names.iter());
        let runs = std::sync::Mutex::new(BTreeMap::new());
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| loop {
                    let Some(name) = next.lock().expect("lock").next() else {
                        return;
                    };
                    let run = run_partner_now(name);
                    runs.lock().expect("lock").insert(name.clone(), run);
                });
            }
        });
        runs.into_inner().expect("lock")
    })
}

/// `correct`, `http/correct`, ...: every partner file under fixtures/partners/.
fn example_partners() -> Vec<String> {
    let dir = root().join("fixtures/partners");
    let mut names = Vec::new();
    for sub in ["", "http/"] {
        for e in std::fs::read_dir(dir.join(sub)).expect("partners") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "toml") {
                let stem = p.file_stem().and_then(|s| s.to_str()).expect("name");
                names.push(format!("{sub}{stem}"));
            }
        }
    }
    names.sort();
    names
}

fn run_partner_now(name: &str) -> Run {
    let partner = format!("fixtures/partners/{name}.toml");
    let (out, text) = conform_json(
        &format!("{}.json", name.replace('/', "-")),
        &["--partner", &partner],
    );
    let json: Value = serde_json::from_str(&text).expect("json");
    let mut verdicts = BTreeMap::new();
    let mut codes = BTreeSet::new();
    for s in json["scenarios"].as_array().expect("scenarios") {
        let errors = s["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| d["code"].as_str().expect("code").to_owned())
            .collect();
        codes.extend(
            s["diagnostics"]
                .as_array()
                .expect("diagnostics")
                .iter()
                .map(|d| d["code"].as_str().expect("code").to_owned()),
        );
        verdicts.insert(
            s["id"].as_str().expect("id").to_owned(),
            (s["status"].as_str().expect("status").to_owned(), errors),
        );
    }
    Run {
        exit: out.status.code(),
        verdicts,
        codes,
    }
}

/// A partner's run: its exit code and its verdicts.
fn run_partner(name: &str) -> (Option<i32>, Verdicts) {
    let run = all_runs()
        .get(name)
        .unwrap_or_else(|| panic!("no example partner {name}"));
    (run.exit, run.verdicts.clone())
}

/// Each example partner says on its first lines what it is expected to get (`# expect: exit
/// N; codes a b`), and its name says what kind it is: one whose name starts with `correct`
/// (or is `postback-correct` or `tls`) passes with no finding, every other is broken and gets
/// at least one. Each keeps both promises.
#[test]
fn every_example_partner_keeps_the_promise_of_its_name() {
    let runs = all_runs();
    assert!(runs.len() >= 20, "{:?}", runs.keys());
    for (name, run) in runs {
        let text = std::fs::read_to_string(root().join(format!("fixtures/partners/{name}.toml")))
            .expect("partner file");
        let expect = text
            .lines()
            .find_map(|l| l.strip_prefix("# expect: "))
            .unwrap_or_else(|| panic!("{name} says nothing of what to expect"));
        let (exit, codes) = expect.split_once("; codes ").unwrap_or((expect, ""));
        let exit: i32 = exit
            .strip_prefix("exit ")
            .and_then(|e| e.parse().ok())
            .unwrap_or_else(|| panic!("{name}: {expect:?}"));
        let codes: BTreeSet<String> = codes.split_whitespace().map(str::to_owned).collect();
        let stem = name.rsplit('/').next().unwrap_or(name);
        let correct = stem.starts_with("correct") || stem == "postback-correct" || stem == "tls";
        assert_eq!(
            correct,
            exit == 0 && codes.is_empty(),
            "{name}: its name and its expectation disagree"
        );
        assert_eq!(
            (run.exit, &run.codes),
            (Some(exit), &codes),
            "{name}: not the verdict it promises"
        );
    }
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
        (
            "gives-up",
            vec![("retry-after-503-retry-after", &["retry-gave-up"][..])],
        ),
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
        "gave-up.json",
        &[
            "--partner",
            "fixtures/partners/gives-up.toml",
            "--only",
            "retry-after-503-retry-after",
        ],
    );
    let v: Value = serde_json::from_str(&text).expect("json");
    let d = &v["scenarios"][0]["diagnostics"][0];
    assert_eq!(d["code"], "retry-gave-up");
    let message = d["message"].as_str().expect("message");
    assert!(
        message.contains("on all 4 attempts") && message.contains("retried 3 times"),
        "the finding says what the partner did: {message}"
    );
    let times = message
        .split_once("(attempts at ")
        .and_then(|(_, t)| t.split_once(')'))
        .map(|(t, _)| t)
        .expect("the attempts' times");
    assert_eq!(times.split(", ").count(), 4, "{message}");
    assert!(times.starts_with("0 s, +1."), "{message}");
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
        ("postback-answers-204", Vec::new()),
        ("postback-undocumented-macro", Vec::new()),
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

/// A partner's template with a macro AppMetrica does not document passes, warned, with the
/// name AppMetrica gives it: in production the value would arrive empty.
#[test]
fn an_undocumented_macro_in_the_partners_template_is_named() {
    let (out, text) = conform_json(
        "undocumented-macro.json",
        &[
            "--partner",
            "fixtures/partners/postback-undocumented-macro.toml",
            "--only",
            "postback-install-gaid",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let v: Value = serde_json::from_str(&text).expect("json");
    let s = &v["scenarios"][0];
    assert_eq!(s["status"], "passed", "{s}");
    let d = &s["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), d["severity"].as_str()),
        (Some("postback-macro-unknown"), Some("warning"))
    );
    let message = d["message"].as_str().expect("message");
    assert!(
        message.starts_with("the partner's [postback] url: \"{event_timestamp}\"")
            && message.contains("did you mean {conversion_timestamp}?"),
        "{message}"
    );
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
    assert_eq!(s["status"], "passed", "a 2xx other than 200 warns");
    assert_eq!(d["code"], "postback-status-not-200");
    assert_eq!(d["severity"], "warning");
    let message = d["message"].as_str().expect("message");
    assert!(
        message.contains("answered 204")
            && message.contains("postback quota page counts any 2xx")
            && message.contains("postback specification page counts only 200"),
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
    a_204_receiver_fails_a_gate_asked_to_fail_on_recommended_checks();
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
    // Only postback scenarios, and no receiver: nothing ran, exit 4, and the reason said.
    let (out, text) = conform_json(
        "only-postbacks.json",
        &[
            "--partner",
            "fixtures/partners/correct.toml",
            "--only",
            "postback-install-gaid",
        ],
    );
    assert_eq!(out.status.code(), Some(4));
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["verdict"], "not-run");
    assert_eq!(v["scenarios"][0]["outcome"], "not-run");
    assert!(v["scenarios"][0]["error"]
        .as_str()
        .is_some_and(|e| e.contains("[postback]")));
    assert!(String::from_utf8_lossy(&out.stdout).contains("NOT RUN"));
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
    assert_eq!(
        v["summary"]["total"], 16,
        "the postback scenarios too, not run"
    );
    assert_eq!(v["summary"]["passed"], 11);
    assert_eq!(v["summary"]["not_run"], 5);
    assert_eq!(
        (v["verdict"].as_str(), v["exit_code"].as_u64()),
        (Some("passed"), Some(0))
    );
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
    assert_eq!(xml.matches("<testcase").count(), 16);
    assert_eq!(
        xml.matches("<skipped").count(),
        5,
        "not run: skipped, with the reason"
    );
    assert!(xml.contains(v["suite"]["sha256"].as_str().expect("sha")));
    let markdown = std::fs::read_to_string(&md).expect("markdown");
    assert!(markdown.contains("— PASSED (exit 0)"), "{markdown}");
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
        assert_eq!(
            v["summary"]["total"], 16,
            "{name}: with the postback scenarios, not run"
        );
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

/// A partner server that cannot start is a configuration error, found before anything is
/// judged: exit 2, one line saying why, and the report asked for says the same (never a
/// verdict on the partner).
#[test]
fn a_partner_server_that_cannot_start_is_a_configuration_error() {
    let dir = scratch();
    let partner = dir.path().join("broken-start.toml");
    let port = free_port();
    std::fs::write(
        &partner,
        format!(
            "[partner]\nname = \"broken start\"\n[driver]\nkind = \"http\"\nstart = \"sh -c 'echo no config >&2; exit 3'\"\nclick_url = \"http://127.0.0.1:{port}/c?t={{tracking_id}}\"\nimpression_url = \"http://127.0.0.1:{port}/i?t={{tracking_id}}\"\n"
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
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("exited with exit status: 3 before listening") && err.contains("no config"),
        "{err}"
    );
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        (v["verdict"].as_str(), v["exit_code"].as_u64()),
        (Some("configuration-error"), Some(2))
    );
    assert!(v.get("scenarios").is_none(), "nothing was judged: {v}");
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert!(
        xml.contains("<error ") && !xml.contains("<failure"),
        "{xml}"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A process that holds a port, as a stray server left from another job would.
struct Stray(std::process::Child);

impl Stray {
    fn on(port: u16) -> Stray {
        // Held from the start: dropping it (on a panic too) stops the process.
        let stray = Stray(
            Command::new("python3")
                .args([
                    "-m",
                    "http.server",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .expect("python3"),
        );
        for _ in 0..250 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return stray;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the stray server did not listen on {port}");
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Stray {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port the partner's own server is to use, already held by another process: the run
/// stops with exit 2 naming the holder, instead of testing the stray (a PASS for code that
/// never ran) or blaming the partner. Both for the click server and for the receiver.
#[test]
fn a_port_held_by_another_process_gives_exit_2_and_never_a_pass() {
    let partners = root().join("fixtures/partners");
    let dir = scratch();
    let (click_port, rx_port) = (free_port(), free_port());
    let click = dir.path().join("click.toml");
    std::fs::write(
        &click,
        format!(
            "[partner]\nname = \"stray click server\"\n[driver]\nkind = \"http\"\nstart = \"python3 {server} {click_port} none\"\nclick_url = \"http://127.0.0.1:{click_port}/click?tid={{tracking_id}}&cid={{click_id}}\"\nimpression_url = \"http://127.0.0.1:{click_port}/imp?tid={{tracking_id}}&cid={{click_id}}\"\n",
            server = partners.join("http/partner_server.py").display()
        ),
    )
    .expect("partner file");
    let receiver = dir.path().join("receiver.toml");
    std::fs::write(
        &receiver,
        format!(
            "[partner]\nname = \"stray receiver\"\n[driver]\nkind = \"exec\"\ncommand = \"sh {sender}\"\n[postback]\nstart = \"python3 {rx} {rx_port} correct\"\nurl = \"http://127.0.0.1:{rx_port}/pb?tx={{transaction_id}}\"\n",
            sender = partners.join("correct.sh").display(),
            rx = partners.join("receiver.py").display()
        ),
    )
    .expect("partner file");
    for (partner, port, what) in [
        (&click, click_port, "click_url"),
        (&receiver, rx_port, "[postback] url"),
    ] {
        let stray = Stray::on(port);
        let out = conform(&[
            "--partner",
            partner.to_str().expect("path"),
            "--only",
            "postback-install-gaid",
            "--only",
            "android-click-gaid-ipv4",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{what}: {err}{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            err.contains(&format!("{what}'s port 127.0.0.1:{port} is already taken")),
            "{err}"
        );
        if std::path::Path::new("/proc/net/tcp").exists() {
            assert!(
                err.contains(&format!("pid {}", stray.pid())),
                "names the holder: {err}"
            );
        }
        assert!(!String::from_utf8_lossy(&out.stdout).contains("PASSED"));
    }
}

/// An interpreter that is not installed (the shell's 127 on the first run) is a
/// configuration error, not `driver-failed` on every scenario.
#[test]
fn a_command_that_is_not_found_is_a_configuration_error() {
    let dir = scratch();
    let partner = dir.path().join("missing.toml");
    std::fs::write(
        &partner,
        "[partner]\nname = \"missing interpreter\"\n[driver]\nkind = \"exec\"\ncommand = \"no-such-interpreter-4f2 send.xyz\"\n",
    )
    .expect("partner file");
    let out = conform(&["--partner", partner.to_str().expect("path")]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("`no-such-interpreter-4f2 send.xyz` was not found") && err.contains("127"),
        "{err}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("driver-failed"));
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

/// A partner failing only recommended scenarios: exit 0, a summary that says the failures do
/// not gate, and a JUnit file no test view shows red; `--fail-on recommended` makes them gate.
#[test]
fn recommended_failures_pass_the_gate_unless_asked_to_fail_it() {
    let dir = scratch();
    let junit = dir.path().join("r.xml");
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = [
            "--partner",
            "fixtures/partners/no-retry.toml",
            "--only",
            "retry-after-503",
            "--only",
            "android-click-gaid-ipv4",
            "--report",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.push(format!("junit={}", junit.display()));
        a.extend(extra.iter().map(|s| s.to_string()));
        a
    };
    let run = |extra: &[&str]| {
        let a = args(extra);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        conform(&a)
    };
    let out = run(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("PASSED: 2 scenarios: 1 passed, 1 failed (recommended, not gating)"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert!(!xml.contains("<failure"), "{xml}");
    assert!(xml.contains("<system-err>error[retry-missing]"), "{xml}");
    assert!(
        xml.contains(r#"<property name="outcome" value="failed-recommended"/>"#),
        "{xml}"
    );

    let out = run(&["--fail-on", "recommended"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAILED: 2 scenarios: 1 passed, 1 failed;"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
}

/// The same receiver under `--fail-on recommended`, which makes that recommended check gate:
/// the finding is an error, the scenario fails, JUnit shows it red and the exit code is 1, in
/// agreement. (Called by `postback_causes_are_named`: both need the receiver's port.)
fn a_204_receiver_fails_a_gate_asked_to_fail_on_recommended_checks() {
    let dir = scratch();
    let junit = dir.path().join("strict.xml");
    let junit_flag = format!("junit={}", junit.display());
    let (out, text) = conform_json(
        "strict-204.json",
        &[
            "--partner",
            "fixtures/partners/postback-answers-204.toml",
            "--only",
            "postback-install-gaid",
            "--fail-on",
            "recommended",
            "--report",
            &junit_flag,
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let v: Value = serde_json::from_str(&text).expect("json");
    let s = &v["scenarios"][0];
    assert_eq!(
        (s["status"].as_str(), s["outcome"].as_str()),
        (Some("failed"), Some("failed")),
        "{s}"
    );
    let d = &s["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), d["severity"].as_str()),
        (Some("postback-status-not-200"), Some("error"))
    );
    assert_eq!(v["exit_code"], 1, "the report agrees with the exit code");
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert_eq!(xml.matches("<failure").count(), 1, "{xml}");
    assert!(xml.contains("postback-status-not-200"), "{xml}");
}

/// The baseline round trip: a failing run writes its failures as a baseline; the same run
/// with it passes, every failure accepted with its reason; the baseline against a fixed
/// partner has stale entries, which fail the run and are named in every report; an entry
/// past its date is expired, and fails it too.
#[test]
fn a_baseline_is_written_accepted_and_fails_the_run_once_stale_or_expired() {
    let dir = scratch();
    let baseline = dir.path().join("baseline.toml");
    let only = ["--only", "android-click-gaid-ipv4", "--only", "ua-long"];
    let with = |partner: &str, extra: &[&str], report: &str| {
        let mut a = vec!["--partner", partner];
        a.extend_from_slice(&only);
        a.extend_from_slice(extra);
        conform_json(report, &a)
    };
    let path = baseline.to_str().expect("path");
    let (out, _) = with(
        "fixtures/partners/no-click-id.toml",
        &["--write-baseline", path],
        "write.json",
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "writing a baseline changes no exit code"
    );
    let written = std::fs::read_to_string(&baseline).expect("written");
    assert_eq!(written.matches("[[accept]]").count(), 2, "{written}");
    assert!(
        written.contains("code = \"click-id-mismatch\""),
        "{written}"
    );
    assert!(written.contains("reason = \"recorded on "), "{written}");

    let (out, text) = with(
        "fixtures/partners/no-click-id.toml",
        &["--baseline", path],
        "accepted.json",
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["summary"]["accepted"], 2);
    assert_eq!(v["gate"]["baseline"]["used"], 2);
    assert!(v["scenarios"][0]["accepted_by"][0]["reason"]
        .as_str()
        .is_some_and(|r| r.starts_with("recorded on")));

    let md = dir.path().join("stale.md");
    let junit = dir.path().join("stale.xml");
    let (out, text) = with(
        "fixtures/partners/correct.toml",
        &[
            "--baseline",
            path,
            "--report",
            &format!("markdown={}", md.display()),
            "--report",
            &format!("junit={}", junit.display()),
        ],
        "stale.json",
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let v: Value = serde_json::from_str(&text).expect("json");
    let stale = v["gate"]["baseline"]["stale"].as_array().expect("stale");
    assert_eq!(stale.len(), 2, "{v}");
    assert!(stale[0]["why"]
        .as_str()
        .is_some_and(|w| w.contains("passes now")));
    assert!(
        stdout.contains("stale: the scenario passes now"),
        "{stdout}"
    );
    assert!(std::fs::read_to_string(&md)
        .expect("md")
        .contains("stale: the scenario passes now"));
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert_eq!(xml.matches("type=\"baseline-stale\"").count(), 2, "{xml}");

    let expired = written.replacen("reason = ", "until = \"2020-01-01\"\nreason = ", 1);
    std::fs::write(&baseline, expired).expect("write");
    let (out, text) = with(
        "fixtures/partners/no-click-id.toml",
        &["--baseline", path],
        "expired.json",
    );
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        v["gate"]["baseline"]["expired"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        v["summary"]["failed"], 1,
        "an expired entry accepts nothing"
    );

    std::fs::write(
        &baseline,
        "[[accept]]\nscenario = \"ua-long\"\nreason = \"\"\n",
    )
    .expect("write");
    let out = conform(&[
        "--partner",
        "fixtures/partners/correct.toml",
        "--baseline",
        path,
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("reason is empty"));
}

/// Under GitHub Actions: annotations on stdout, at most ten errors (then one notice of how
/// many were left out), every message escaped so no line break or `%` of a message can end or
/// start a command; the Markdown report appended to the step summary.
#[test]
fn github_annotations_are_capped_escaped_and_the_summary_written() {
    let dir = scratch();
    let summary = dir.path().join("summary.md");
    std::fs::write(&summary, "# earlier step\n").expect("summary");
    let out = Command::new(env!("CARGO_BIN_EXE_metrica-s2s"))
        .args(["conform", "--partner", "fixtures/partners/local-time.toml"])
        .args(SCENARIOS.iter().flat_map(|s| ["--only", s]))
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .current_dir(root())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    let errors: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::error "))
        .collect();
    assert_eq!(errors.len(), 10, "{stdout}");
    let notices: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("::notice "))
        .collect();
    assert_eq!(notices.len(), 1, "{stdout}");
    // Seven required scenarios with two errors each; the recommended one's are warnings.
    assert!(
        notices[0].contains("4 more error(s) and 0 more warning(s)"),
        "{}",
        notices[0]
    );
    for e in &errors {
        assert!(
            e.starts_with("::error file=fixtures/partners/local-time.toml,title=conform "),
            "{e}"
        );
        let message = &e[e.find("::").map_or(0, |i| i + 2)..];
        let message = &message[message.find("::").expect("a message") + 2..];
        assert!(
            message.contains("%0AFix: "),
            "lines joined as GitHub wants: {e}"
        );
        assert!(!message.contains('\r'));
    }
    let summary = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        summary.starts_with("# earlier step\n## ❌ metrica-s2s conform:"),
        "{summary}"
    );
    assert!(
        summary.contains("| ua\\-long | click | yes | ❌ failed |"),
        "{summary}"
    );
}

/// GitLab Code Quality: the same problem keeps its fingerprint from run to run.
#[test]
fn codequality_fingerprints_are_stable_across_runs() {
    let dir = scratch();
    let run = |n: &str| -> Vec<Value> {
        let path = dir.path().join(format!("{n}.json"));
        let out = conform(&[
            "--partner",
            "fixtures/partners/proxy-ip.toml",
            "--only",
            "android-click-gaid-ipv4",
            "--only",
            "ua-long",
            "--report",
            &format!("codequality={}", path.display()),
        ]);
        assert_eq!(out.status.code(), Some(1));
        serde_json::from_str(&std::fs::read_to_string(&path).expect("report")).expect("json")
    };
    let (a, b) = (run("a"), run("b"));
    let prints = |v: &[Value]| -> BTreeSet<String> {
        v.iter()
            .map(|i| i["fingerprint"].as_str().expect("fingerprint").to_owned())
            .collect()
    };
    assert!(!a.is_empty());
    assert_eq!(prints(&a), prints(&b));
    assert_eq!(prints(&a).len(), a.len(), "unique within a report");
    let issue = a
        .iter()
        .find(|i| i["check_name"] == "metrica-s2s/ip-mismatch")
        .expect("ip-mismatch");
    assert_eq!(issue["severity"], "critical");
    assert_eq!(issue["location"]["path"], "fixtures/partners/proxy-ip.toml");
    assert_eq!(issue["location"]["lines"]["begin"], 1);
}

/// `--retries`: a scenario that fails, then passes with fresh ids, is flaky: reported, not
/// failing; JUnit shows a pass with the failed attempt as a flakyFailure.
#[test]
fn a_scenario_passing_on_a_retry_is_flaky_and_does_not_fail_the_gate() {
    let dir = scratch();
    let partner = dir.path().join("flaky.toml");
    let marks = dir.path().join("marks");
    std::fs::create_dir(&marks).expect("dir");
    std::fs::write(
        &partner,
        format!(
            "[partner]\nname = \"flaky\"\n[driver]\nkind = \"exec\"\ncommand = \"if [ -e {m}/$S2S_SCENARIO ]; then sh {sender}; else touch {m}/$S2S_SCENARIO; exit 1; fi\"\n",
            m = marks.display(),
            sender = root().join("fixtures/partners/correct.sh").display()
        ),
    )
    .expect("partner file");
    let junit = dir.path().join("f.xml");
    let (out, text) = conform_json(
        "flaky.json",
        &[
            "--partner",
            partner.to_str().expect("path"),
            "--only",
            "android-click-gaid-ipv4",
            "--retries",
            "2",
            "--report",
            &format!("junit={}", junit.display()),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let v: Value = serde_json::from_str(&text).expect("json");
    let s = &v["scenarios"][0];
    assert_eq!(s["outcome"], "flaky");
    assert_eq!(s["earlier_attempts"][0]["codes"], "driver-failed");
    assert_ne!(
        s["earlier_attempts"][0]["tracking_id"], s["tracking_id"],
        "fresh ids"
    );
    assert_eq!(v["summary"]["flaky"], 1);
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert!(
        xml.contains("<flakyFailure") && !xml.contains("<failure"),
        "{xml}"
    );
}

/// A scenario the runner could not judge, and nothing failed: exit 3, not 0 and not 1.
#[test]
fn an_unjudged_scenario_exits_3() {
    let dir = scratch();
    let script = dir.path().join("mock.py");
    std::fs::write(
        &script,
        "import http.server, sys\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        ok = self.path.startswith('/__admin/health')\n        body = b'{\"journal\": {\"next_seq\": 1}}' if ok else b'journal on fire'\n        self.send_response(200 if ok else 500)\n        self.send_header('Content-Length', str(len(body)))\n        self.end_headers()\n        self.wfile.write(body)\n    def log_message(self, *a):\n        pass\nhttp.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n",
    )
    .expect("script");
    let port = free_port();
    let mut mock = Command::new("python3")
        .arg(&script)
        .arg(port.to_string())
        .spawn()
        .expect("python3");
    for _ in 0..250 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let partner = dir.path().join("p.toml");
    std::fs::write(
        &partner,
        format!("[partner]\nname = \"x\"\n[driver]\nkind = \"exec\"\ncommand = \"true\"\n[mock]\nurl = \"http://127.0.0.1:{port}\"\n"),
    )
    .expect("partner");
    let out = conform(&[
        "--partner",
        partner.to_str().expect("path"),
        "--only",
        "android-click-gaid-ipv4",
    ]);
    let _ = mock.kill();
    let _ = mock.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(
        stdout.contains("ERROR: 1 scenarios: 1 errored (not judged); exit 3"),
        "{stdout}"
    );
}
