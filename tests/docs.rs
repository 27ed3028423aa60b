//! The rules documentation lists exactly the catalogue, and is the catalogue's own rendering.

use assert_cmd::Command;
use metrica_s2s_rules::{docs, Code};
use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Codes named in the first column of a Markdown table.
fn table_codes(markdown: &str) -> BTreeSet<String> {
    markdown
        .lines()
        .filter_map(|l| l.strip_prefix("| "))
        .filter_map(|l| l.split(" |").next())
        .map(|c| c.trim_matches('`').to_owned())
        .filter(|c| {
            c.contains('-')
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        .collect()
}

#[test]
fn docs_rules_md_is_up_to_date() {
    let on_disk = std::fs::read_to_string(root().join("docs/rules.md")).expect("docs/rules.md");
    assert!(
        on_disk == docs::rules_markdown(),
        "docs/rules.md is stale: regenerate it with `cargo run -q -- explain --markdown > docs/rules.md`"
    );
    let out = Command::cargo_bin("metrica-s2s")
        .expect("binary")
        .args(["explain", "--markdown"])
        .output()
        .expect("runs");
    assert_eq!(String::from_utf8(out.stdout).expect("utf-8"), on_disk);
}

#[test]
fn docs_list_exactly_the_catalogue() {
    let on_disk = std::fs::read_to_string(root().join("docs/rules.md")).expect("docs/rules.md");
    let all: BTreeSet<String> = Code::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    assert_eq!(table_codes(&on_disk), all);
}
