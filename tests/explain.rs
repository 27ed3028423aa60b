//! `metrica-s2s explain` end to end, for every code in the catalogue.

use assert_cmd::Command;
use metrica_s2s_rules::Code;

fn explain(arg: &str) -> std::process::Output {
    Command::cargo_bin("metrica-s2s")
        .expect("binary")
        .args(["explain", arg])
        .output()
        .expect("runs")
}

#[test]
fn every_code_is_explained_with_examples() {
    for code in Code::ALL {
        let out = explain(code.as_str());
        assert_eq!(out.status.code(), Some(0), "{code}");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        assert!(text.starts_with(code.as_str()), "{code}: {text}");
        for section in [
            "When: ",
            "Why it matters: ",
            "Bad: ",
            "Fixed: ",
            "How to fix: ",
        ] {
            assert!(text.contains(section), "{code} lacks {section:?}");
        }
    }
}

#[test]
fn unknown_codes_exit_2_with_a_suggestion() {
    let out = explain("timestamp-to-old");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("did you mean timestamp-too-old?"), "{err}");
    assert_eq!(err.lines().count(), 1);
    assert_eq!(explain("x").status.code(), Some(2));
}

#[test]
fn list_names_every_code() {
    let out = Command::cargo_bin("metrica-s2s")
        .expect("binary")
        .args(["explain", "--list"])
        .output()
        .expect("runs");
    let text = String::from_utf8(out.stdout).expect("utf-8");
    let listed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(listed, all);
}
