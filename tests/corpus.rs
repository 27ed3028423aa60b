//! Table test: every request in fixtures/requests/ gets exactly the codes its `# expect:` line
//! names, judged by the real binary the way a user runs it.

use assert_cmd::Command;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

struct Case {
    line: u64,
    desc: String,
    /// The public page the input comes from, where the corpus names one.
    source: Option<String>,
    expect: BTreeSet<String>,
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/requests")
}

/// Reads a corpus file: its `# now:` and each case's line number and expected codes.
fn read_corpus(path: &Path) -> (u64, Vec<Case>) {
    let text = std::fs::read_to_string(path).expect("corpus readable");
    let mut now = None;
    let mut cases = Vec::new();
    let (mut desc, mut source, mut expect) = (String::new(), None, None);
    for (i, line) in text.lines().enumerate() {
        if let Some(n) = line.strip_prefix("# now:") {
            now = Some(n.trim().parse().expect("now is a number"));
        } else if let Some(s) = line.strip_prefix("# source:") {
            source = Some(s.trim().to_owned());
        } else if let Some(codes) = line.strip_prefix("# expect:") {
            expect = Some(codes.split_whitespace().map(str::to_owned).collect());
        } else if let Some(d) = line.strip_prefix("# ") {
            desc = d.to_owned();
        } else if !line.trim().is_empty() {
            let expect = expect
                .take()
                .unwrap_or_else(|| panic!("{}:{}: input without # expect:", path.display(), i + 1));
            cases.push(Case {
                line: i as u64 + 1,
                desc: desc.clone(),
                source: source.take(),
                expect,
            });
        }
    }
    (now.expect("corpus names # now:"), cases)
}

#[test]
fn every_corpus_request_gets_exactly_its_expected_codes() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("fixtures/requests exists")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    files.sort();
    let mut total = 0;
    let mut real_world = 0;
    let mut failures = Vec::new();
    for file in &files {
        let (now, cases) = read_corpus(file);
        if file.file_name().is_some_and(|n| n == "realworld.txt") {
            for case in &cases {
                let source = case.source.as_deref().unwrap_or_else(|| {
                    panic!("realworld.txt:{}: input without # source:", case.line)
                });
                assert!(
                    source.contains("://"),
                    "realworld.txt:{}: source {source:?} is no address",
                    case.line
                );
                real_world += 1;
            }
        }
        let out = Command::cargo_bin("metrica-s2s")
            .expect("binary built")
            .args([
                "lint",
                "--format",
                "json",
                "--now",
                &now.to_string(),
                "--file",
            ])
            .arg(file)
            .output()
            .expect("lint runs");
        let code = out.status.code();
        let stdout = String::from_utf8(out.stdout).expect("utf-8 output");
        let reports: Vec<Value> = stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("json line"))
            .collect();
        assert_eq!(
            reports.len(),
            cases.len(),
            "{}: one report per input",
            file.display()
        );
        let any_invalid = reports.iter().any(|r| r["valid"] == false);
        assert_eq!(
            code,
            Some(if any_invalid { 1 } else { 0 }),
            "{}: exit code",
            file.display()
        );
        for (case, report) in cases.iter().zip(&reports) {
            total += 1;
            assert_eq!(
                report["line"],
                case.line,
                "{}: reports keep input order",
                file.display()
            );
            let got: BTreeSet<String> = report["diagnostics"]
                .as_array()
                .expect("diagnostics array")
                .iter()
                .map(|d| d["code"].as_str().expect("code").to_owned())
                .collect();
            if got != case.expect {
                failures.push(format!(
                    "{}:{} ({})\n  expected {:?}\n  got      {:?}",
                    file.file_name().and_then(|n| n.to_str()).unwrap_or("?"),
                    case.line,
                    case.desc,
                    case.expect,
                    got
                ));
            }
        }
    }
    assert!(
        total >= 150,
        "the corpus has {total} requests; it must keep at least 150"
    );
    assert!(
        real_world >= 60,
        "realworld.txt has {real_world} inputs with a public source; it must keep at least 60"
    );
    assert!(
        failures.is_empty(),
        "{} of {total} corpus requests disagree:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
