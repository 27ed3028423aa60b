//! Documentation generated from the catalogue: `explain` text and `docs/rules.md`. Both are
//! rendered here so the docs cannot drift from the rules they describe.

use crate::catalogue::{Code, GROUPS};
use std::fmt::Write;

/// The `metrica-s2s explain CODE` text: what triggers the rule, why it matters, a bad and a
/// fixed example.
pub fn explain(code: Code) -> String {
    let r = code.rule();
    let mut s = String::new();
    let _ = writeln!(s, "{} ({})", r.code, r.severity.describe());
    let _ = writeln!(s, "group: {}", r.group.title());
    if let Some(p) = r.param {
        let _ = writeln!(s, "param: {p}");
    }
    if !r.stateless {
        let _ = writeln!(
            s,
            "applied by: {}",
            if code == Code::ClickIdDuplicate {
                "the mock server (it remembers click ids)"
            } else {
                "the conformance runner (it knows what each scenario really sent)"
            }
        );
    }
    let _ = writeln!(s, "\nWhen: {}\n", r.when);
    let _ = writeln!(s, "Why it matters: {}\n", r.why);
    let _ = writeln!(s, "Bad:   {}", r.bad);
    let _ = writeln!(s, "Fixed: {}\n", r.good);
    let _ = writeln!(s, "How to fix: {}", r.hint);
    s
}

/// `docs/rules.md`.
pub fn rules_markdown() -> String {
    let mut s = String::new();
    s.push_str("# Rule catalogue\n\n");
    s.push_str("<!-- Generated from crates/rules/src/catalogue/entries.rs by `metrica-s2s explain --markdown`; tests/docs.rs fails when it is stale. -->\n\n");
    s.push_str("Every diagnostic metrica-s2s emits, from the mock, `lint` and the conformance runner alike. Codes are stable. `metrica-s2s explain CODE` prints one rule with examples.\n");
    for group in GROUPS {
        let _ = write!(
            s,
            "\n## {}\n\n| code | severity | param | when |\n|---|---|---|---|\n",
            group.title()
        );
        for code in Code::ALL.iter().filter(|c| c.rule().group == *group) {
            let r = code.rule();
            let _ = writeln!(
                s,
                "| `{}` | {} | {} | {} |",
                r.code,
                r.severity.describe(),
                r.param.unwrap_or("-"),
                r.when.replace('|', "\\|")
            );
        }
    }
    s.push_str("\n## Details\n");
    for code in Code::ALL {
        let r = code.rule();
        let _ = write!(
            s,
            "\n### `{}`\n\n{}\n\nBad: `{}`  \nFixed: `{}`  \nHint: {}\n",
            r.code,
            r.why,
            r.bad.replace('`', "'"),
            r.good.replace('`', "'"),
            r.hint
        );
    }
    s
}
