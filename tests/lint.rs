//! `metrica-s2s lint` end to end, run as a user runs it.

use assert_cmd::Command;
use serde_json::Value;
use std::io::Write;

const NOW: &str = "1795860000";
const UA: &str = "Mozilla%2F5.0%20(Linux%3B%20Android%2014%3B%20Pixel%208)%20AppleWebKit%2F537.36%20(KHTML%2C%20like%20Gecko)%20Chrome%2F120.0.0.0%20Mobile%20Safari%2F537.36";

fn clean(host_path: &str) -> String {
    format!(
        "{host_path}?click_id=c1&device_ip=5.255.232.147&device_ua={UA}&click_timestamp=1795859900"
    )
}

fn lint() -> Command {
    let mut c = Command::cargo_bin("metrica-s2s").expect("binary");
    c.arg("lint")
        .args(["--now", NOW])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    c
}

fn json_lines(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// A file holding `contents`, removed on drop.
fn temp_file(contents: &[u8]) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new()
        .prefix("metrica-s2s-lint-")
        .tempfile()
        .expect("temp file");
    std::io::Write::write_all(&mut f, contents).expect("write temp file");
    f
}

#[test]
fn a_valid_url_exits_0() {
    let out = lint()
        .arg(clean(
            "https://redirect.appmetrica.yandex.com/serve/1234567890123456789",
        ))
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 input(s): 1 valid, 0 with errors"));
}

#[test]
fn json_follows_the_contract() {
    let out = lint()
        .args(["--format", "json"])
        .arg(clean("redirect.appmetrica.yandex.com/serve/1"))
        .arg(clean("https://impression.appmetrika.yandex.ru/serve/1"))
        .arg("/serve/1?device_ip=10.0.0.1:80")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let r = json_lines(&out.stdout);
    assert_eq!(r.len(), 3);
    assert_eq!(r[0]["line"], 1);
    assert_eq!(r[0]["kind"], "click");
    assert_eq!(r[0]["valid"], true);
    assert_eq!(r[0]["diagnostics"], Value::Array(vec![]));
    assert_eq!(r[1]["kind"], "impression");
    assert_eq!(r[2]["kind"], Value::Null);
    assert_eq!(r[2]["valid"], false);
    assert_eq!(r[2]["input"], "/serve/1?device_ip=10.0.0.1:80");
    let d = r[2]["diagnostics"].as_array().expect("array");
    let keys: Vec<&str> = d[0]
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, vec!["code", "hint", "message", "param", "severity"]);
    let port = d
        .iter()
        .find(|d| d["code"] == "ip-with-port")
        .expect("ip-with-port");
    assert_eq!(port["severity"], "error");
    assert_eq!(port["param"], "device_ip");
    assert!(port["message"]
        .as_str()
        .expect("message")
        .contains("\"10.0.0.1:80\""));
    assert!(port["hint"]
        .as_str()
        .expect("hint")
        .contains("device_ip=10.0.0.1"));
}

#[test]
fn kind_flag_applies_to_hostless_inputs_only() {
    let out = lint()
        .args(["--format", "json", "--kind", "impression"])
        .arg(clean("/serve/1"))
        .arg(clean("redirect.appmetrica.yandex.com/serve/1"))
        .output()
        .expect("runs");
    let r = json_lines(&out.stdout);
    assert_eq!(r[0]["kind"], "impression");
    assert_eq!(r[1]["kind"], "click");
}

#[test]
fn files_skip_blank_and_comment_lines_and_keep_line_numbers() {
    let text = format!(
        "# a comment\n\n{}\r\n   \n  # indented comment\nnot a url at all\n{}\n",
        clean("/serve/1"),
        clean("/serve/2")
    );
    let f = temp_file(text.as_bytes());
    let out = lint()
        .args(["--format", "json", "--file"])
        .arg(f.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let r = json_lines(&out.stdout);
    let lines: Vec<u64> = r
        .iter()
        .map(|v| v["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, vec![3, 6, 7]);
    assert_eq!(
        r[0]["input"],
        clean("/serve/1"),
        "CRLF is not part of the input"
    );
    assert_eq!(r[1]["diagnostics"][0]["code"], "not-a-url");
    assert_eq!(
        r[2]["valid"], true,
        "an unreadable line does not stop the run"
    );
}

#[test]
fn stdin_is_read_with_dash_or_without_inputs() {
    for args in [vec!["--file", "-"], vec![]] {
        let out = lint()
            .args(["--format", "json"])
            .args(&args)
            .write_stdin(format!("{}\n{}\n", clean("/serve/1"), clean("/serve/2")))
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(json_lines(&out.stdout).len(), 2);
    }
}

#[test]
fn large_inputs_stream_in_order_across_workers() {
    let mut text = Vec::new();
    for i in 0..30_000 {
        let line = if i % 7 == 0 {
            format!("/serve/{i}?device_ip=bad")
        } else {
            clean(&format!("/serve/{i}"))
        };
        writeln!(text, "{line}").expect("write");
    }
    let f = temp_file(&text);
    let out = lint()
        .args(["--format", "json", "--jobs", "2", "--file"])
        .arg(f.path())
        .output()
        .expect("runs");
    let r = json_lines(&out.stdout);
    assert_eq!(r.len(), 30_000);
    for (i, v) in r.iter().enumerate() {
        assert_eq!(v["line"], i as u64 + 1);
        assert_eq!(v["valid"], i % 7 != 0, "line {}", i + 1);
        assert!(v["input"]
            .as_str()
            .expect("input")
            .starts_with(&format!("/serve/{i}?")));
    }
}

#[test]
fn io_errors_exit_2_with_one_line() {
    let out = lint()
        .args(["--file", "/nonexistent/metrica-s2s/input.txt"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot open /nonexistent/metrica-s2s/input.txt"),
        "{err}"
    );
    let dir = lint().args(["--file", "/"]).output().expect("runs");
    assert_eq!(dir.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&dir.stderr).starts_with("error: cannot read /"));
}

#[test]
fn usage_errors_exit_2() {
    let out = lint().arg("--no-such-flag").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = lint()
        .args(["--format", "yaml", "/serve/1"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn invalid_utf8_bytes_are_reported_not_lost() {
    let mut text = b"/serve/1?click_id=1&device_ip=5.255.232.147&click_timestamp=1795859900&device_ua=Mozilla/5.0%20(Linux;%20".to_vec();
    text.extend_from_slice(b"\xD2\xE5\xEB)\n");
    let f = temp_file(&text);
    let out = lint()
        .args(["--format", "json", "--file"])
        .arg(f.path())
        .output()
        .expect("runs");
    let r = json_lines(&out.stdout);
    assert_eq!(r.len(), 1);
    let d = r[0]["diagnostics"].as_array().expect("array");
    let raw = d
        .iter()
        .find(|d| d["code"] == "unencoded-character")
        .expect("unencoded");
    assert!(
        raw["message"]
            .as_str()
            .expect("message")
            .contains("\\xD2\\xE5\\xEB"),
        "{raw}"
    );
    assert!(d.iter().any(|d| d["code"] == "invalid-utf8"));
}

#[test]
fn text_marks_the_offending_bytes_and_counts_codes() {
    let input = "/serve/1?click_id=1&device_ip=5.255.232.147:51234&device_ua=curl%2F8.5.0&click_timestamp=1795859900";
    let out = lint().arg(input).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("error[ip-with-port]"))
        .expect("ip-with-port shown");
    let excerpt = lines[at + 1];
    let carets = lines[at + 2];
    let col = carets.find('^').expect("carets");
    let width = carets.matches('^').count();
    assert_eq!(
        &excerpt[col..col + width],
        "5.255.232.147:51234",
        "{excerpt}\n{carets}"
    );
    assert!(lines[at + 3]
        .trim_start()
        .starts_with("= hint: send only the address"));
    assert!(text.contains("1 input(s): 0 valid, 1 with errors"));
    assert!(
        lines
            .iter()
            .any(|l| l.trim_start().starts_with("1  error") && l.ends_with("ua-server-client")),
        "{text}"
    );
}

#[test]
fn colour_only_when_asked_and_never_with_no_color() {
    let bad = "/serve/1?device_ip=x";
    let piped = lint().arg(bad).output().expect("runs");
    assert!(!piped.stdout.contains(&0x1b), "no colour into a pipe");
    let forced = lint()
        .arg(bad)
        .env("CLICOLOR_FORCE", "1")
        .output()
        .expect("runs");
    assert!(forced.stdout.contains(&0x1b), "CLICOLOR_FORCE gives colour");
    let vetoed = lint()
        .arg(bad)
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .expect("runs");
    assert!(!vetoed.stdout.contains(&0x1b), "NO_COLOR wins");
}

#[test]
fn hostile_user_agents_stay_inert_in_text_and_json() {
    let hostile =
        "%1B%5B2J%3Cscript%3Ealert(1)%3C%2Fscript%3E%5D%5D%3E%00%22%0D%0AX-Injected%3A%201";
    let input = format!("/serve/1?click_id=1&device_ip=5.255.232.147&device_ua={hostile}&click_timestamp=1795859900");
    let text = lint().arg(&input).output().expect("runs");
    assert!(
        !text.stdout.iter().any(|&b| b == 0x1b || b == 0),
        "raw control bytes reached the terminal"
    );
    let shown = String::from_utf8_lossy(&text.stdout);
    assert!(shown.contains("\\u{1B}[2J<script>"), "{shown}");
    assert!(
        !shown.lines().any(|l| l.starts_with("X-Injected")),
        "CRLF split a line"
    );
    let json = lint()
        .args(["--format", "json"])
        .arg(&input)
        .output()
        .expect("runs");
    let r = json_lines(&json.stdout);
    assert_eq!(r.len(), 1, "one JSON line per input, whatever the UA holds");
    assert!(r[0]["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .any(|d| d["code"] == "ua-control-chars"));
}

#[test]
fn access_log_lines_are_judged_at_their_logged_time() {
    // Logged at 2026-11-28 10:00:00 UTC (13:00 +0300), clicked a minute earlier; linted a week
    // later it is still on time, because the log says when it was sent.
    let line = format!(
        r#"5.255.232.147 - - [28/Nov/2026:13:00:00 +0300] "GET {} HTTP/1.1" 204 0 "-" "okhttp/4.12.0""#,
        clean("/serve/1")
    );
    let week_later = (1_795_860_000u64 + 7 * 86_400).to_string();
    let out = Command::cargo_bin("metrica-s2s")
        .expect("binary")
        .args(["lint", "--format", "json", "--now", &week_later])
        .arg(&line)
        .output()
        .expect("runs");
    let r = json_lines(&out.stdout);
    assert_eq!(r[0]["valid"], true, "{}", r[0]);
    // The same request without its log line is a week old.
    let bare = lint_at(&week_later, &clean("/serve/1"));
    assert!(bare[0]["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .any(|d| d["code"] == "timestamp-too-old"));
}

fn lint_at(now: &str, input: &str) -> Vec<Value> {
    let out = Command::cargo_bin("metrica-s2s")
        .expect("binary")
        .args(["lint", "--format", "json", "--now", now, input])
        .output()
        .expect("runs");
    json_lines(&out.stdout)
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every request of the corpora, with a hostile line: its many diagnostics as SARIF, which
/// is valid against the SARIF 2.1.0 schema, with a result per diagnostic and every rule of
/// the catalogue described.
#[test]
fn sarif_is_valid_against_the_2_1_0_schema() {
    let mut log = Vec::new();
    for e in std::fs::read_dir(root().join("fixtures/requests")).expect("corpora") {
        log.extend(std::fs::read(e.expect("entry").path()).expect("corpus"));
    }
    log.extend_from_slice(b"/serve/1?device_ua=%1B%5B2J%3Cscript%3E&device_ip=1.2.3.4:80\n");
    let file = temp_file(&log);
    let out = lint()
        .args(["--format", "sarif", "--file"])
        .arg(file.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let sarif: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let mut schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("fixtures/sarif/sarif-schema-2.1.0.json"))
            .expect("schema"),
    )
    .expect("the schema is JSON");
    // An erratum of the published schema: the `language` patterns have a stray `]`, which no
    // regex engine accepts; their intended form replaces them, and nothing else is touched.
    fn fix(v: &mut Value) -> usize {
        match v {
            Value::String(s) if s == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" => {
                *s = "^[a-zA-Z]{2}(-[a-zA-Z]{2})?$".into();
                1
            }
            Value::Array(a) => a.iter_mut().map(fix).sum(),
            Value::Object(o) => o.values_mut().map(fix).sum(),
            _ => 0,
        }
    }
    assert!(fix(&mut schema) >= 1);
    let validator = jsonschema::validator_for(&schema).expect("a schema");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .take(5)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
    assert_eq!(rules.len(), metrica_s2s_rules::Code::ALL.len());
    assert!(rules.iter().all(|r| r["help"]["text"]
        .as_str()
        .is_some_and(|t| t.contains("When:"))));
    let results = run["results"].as_array().expect("results");
    // As many results as the JSON format has diagnostics.
    let json = lint()
        .args(["--format", "json", "--file"])
        .arg(file.path())
        .output()
        .expect("runs");
    let diagnostics: usize = json_lines(&json.stdout)
        .iter()
        .map(|l| l["diagnostics"].as_array().map_or(0, Vec::len))
        .sum();
    assert!(diagnostics > 100, "{diagnostics}");
    assert_eq!(results.len(), diagnostics);
    for r in results {
        let rule = r["ruleIndex"].as_u64().expect("an index") as usize;
        assert_eq!(rules[rule]["id"], r["ruleId"]);
        assert!(r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64() > Some(0));
    }
}

/// `--format github`: annotations with the input file and line, ten errors and ten warnings
/// at most, then a notice; hostile values cannot start a command of their own.
#[test]
fn github_annotations_point_at_the_line_and_are_capped() {
    let mut log = String::new();
    for i in 0..15 {
        log.push_str(&format!("/serve/1?click_id={i}&device_ip=1.2.3.4:80&device_ua=x%0A::error::injected&click_timestamp=1795859900\n"));
    }
    let file = temp_file(log.as_bytes());
    let out = lint()
        .args(["--format", "github", "--file"])
        .arg(file.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    let path = file.path().display().to_string();
    let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 10, "{text}");
    assert!(
        errors[0].starts_with(&format!("::error file={path},line=1,title=")),
        "{}",
        errors[0]
    );
    assert!(
        lines.iter().all(|l| l.starts_with("::error ")
            || l.starts_with("::warning ")
            || l.starts_with("::notice ")),
        "{text}"
    );
    assert!(
        !text.contains("\n::error::injected"),
        "a value started a command: {text}"
    );
    let notice = lines
        .iter()
        .find(|l| l.starts_with("::notice "))
        .expect("a notice");
    assert!(notice.contains("more error(s)"), "{notice}");
}

/// `--format codequality`: a JSON array of GitLab issues, located at the file's lines.
#[test]
fn codequality_locates_each_issue_at_its_line() {
    let file = temp_file(b"# a comment\n/serve/1?device_ip=1.2.3.4:80\n");
    let out = lint()
        .args(["--format", "codequality", "--file"])
        .arg(file.path())
        .output()
        .expect("runs");
    let issues: Vec<Value> = serde_json::from_slice(&out.stdout).expect("a JSON array");
    assert!(issues.len() >= 3, "{issues:?}");
    let port = issues
        .iter()
        .find(|i| i["check_name"] == "metrica-s2s/ip-with-port")
        .expect("ip-with-port");
    assert_eq!(port["location"]["lines"]["begin"], 2);
    assert_eq!(port["severity"], "major");
    let none = lint()
        .args(["--format", "codequality"])
        .arg(clean("/serve/1234567890123456789"))
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8_lossy(&none.stdout).trim(), "[]");
}
