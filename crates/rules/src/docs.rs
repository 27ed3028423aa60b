//! Documentation generated from the catalogue: `explain` text and `docs/rules.md`. Both are
//! rendered here so the docs cannot drift from the rules they describe.

use crate::catalogue::{Code, GROUPS};
use crate::diagnostic::render;
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
    let _ = writeln!(s, "How to fix: {}", for_readers(r.hint));
    s
}

/// What each field of a hint stands for, said to someone reading the rule with no request in
/// front of them; a diagnostic fills the same fields with what it found.
const FIELDS_FOR_READERS: &[(&str, &str)] = &[
    (
        "fix",
        "the fix for the case found, which the diagnostic names (see Bad and Fixed above)",
    ),
    ("param", "the parameter"),
    ("canonical", "the spelling of the specification"),
    ("intended", "the key it is closest to"),
    ("cause", "the cause the diagnostic names"),
    (
        "consequence",
        "what the diagnostic says the character does to the request",
    ),
    ("first", "the value of the first attempt"),
    ("fixed", "the value as it should be sent"),
    ("address", "the address the diagnostic names"),
    ("seconds", "the number of seconds the diagnostic names"),
    ("v4", "the IPv4 address inside it"),
];

/// A hint as a reader sees it: its fields said in words, a macro written in it left as it is.
fn for_readers(hint: &str) -> String {
    render(hint, &|name| {
        FIELDS_FOR_READERS
            .iter()
            .find(|(field, _)| *field == name)
            .map(|(_, words)| *words)
    })
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
            for_readers(r.hint)
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use crate::catalogue::Code;
    use crate::docs::explain;

    /// No page a person reads shows a field only a diagnostic can fill. The hint is the one
    /// template a page shows; `{transaction_id}` in it is a macro the rule is about.
    #[test]
    fn every_explain_page_is_finished() {
        for code in Code::ALL {
            let page = explain(*code);
            let hint = page
                .lines()
                .find_map(|l| l.strip_prefix("How to fix: "))
                .expect("a hint line");
            let hint = hint.replace("{transaction_id}", "");
            assert!(!hint.contains('{'), "{code}: {hint}");
        }
    }
}
