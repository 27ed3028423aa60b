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

/// Every code of the shared specification is in the catalogue (when the spec is beside the
/// checkout, as on developers' machines and CI). metrica-s2s adds codes of its own, each
/// marked "A metrica-s2s extension" in its catalogue entry.
#[test]
fn catalogue_covers_the_shared_specification() {
    let spec = root().join("../shared/spec/rules.md");
    let Ok(text) = std::fs::read_to_string(&spec) else {
        eprintln!("skipped: {} is not here", spec.display());
        return;
    };
    let spec_codes = table_codes(&text);
    assert!(
        spec_codes.len() > 50,
        "spec parse found only {spec_codes:?}"
    );
    let ours: BTreeSet<String> = Code::ALL.iter().map(|c| c.as_str().to_owned()).collect();
    let missing: Vec<_> = spec_codes.difference(&ours).collect();
    assert!(
        missing.is_empty(),
        "codes of the spec missing from the catalogue: {missing:?}"
    );
    for extra in ours.difference(&spec_codes) {
        let rule = Code::from_name(extra).expect("ours").rule();
        assert!(
            rule.when.contains("metrica-s2s extension")
                || rule.why.contains("metrica-s2s extension"),
            "{extra} is beyond the spec and does not say it is our extension"
        );
    }
}
