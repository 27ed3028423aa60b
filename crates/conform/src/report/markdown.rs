//! Markdown for CI step summaries. User text is escaped so it cannot break the table or
//! inject markup.

use super::{RunReport, Status};
use metrica_s2s_rules::visible;
use std::fmt::Write;

pub fn render(r: &RunReport) -> String {
    let mut s = String::new();
    let verdict = r.verdict().as_str();
    let _ = writeln!(
        s,
        "## metrica-s2s conform: {} ({verdict})\n",
        esc(&r.partner.name)
    );
    let _ = writeln!(
        s,
        "{} scenarios: {} passed, {} failed, {} errored. Suite `{}` (sha256 `{}`), metrica-s2s {}.\n",
        r.summary.total, r.summary.passed, r.summary.failed, r.summary.errored, esc(&r.suite.id), r.suite.sha256, r.tool.version
    );
    s.push_str("| scenario | event | required | status | errors |\n|---|---|---|---|---|\n");
    for sc in &r.scenarios {
        let mark = match sc.status {
            Status::Passed => "✅ passed",
            Status::Failed => "❌ failed",
            Status::Error => "⚠️ error",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {mark} | {} |",
            esc(&sc.id),
            sc.event,
            if sc.required { "yes" } else { "no" },
            sc.error_codes()
        );
    }
    for sc in r.scenarios.iter().filter(|sc| sc.status != Status::Passed) {
        let _ = writeln!(s, "\n### {}\n", esc(&sc.title));
        if let Some(e) = &sc.error {
            let _ = writeln!(s, "- **error**: {}", esc(e));
        }
        for f in sc.diagnostics.iter().filter(|f| f.is_error()) {
            let d = &f.diagnostic;
            let _ = writeln!(
                s,
                "- **{}**: {}  \n  hint: {}",
                d.code,
                esc(&d.message),
                esc(&d.hint)
            );
            if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                let _ = writeln!(
                    s,
                    "  expected: {}  \n  actual: {}",
                    code_span(e),
                    code_span(a)
                );
            }
        }
    }
    if !r.unmatched.is_empty() {
        let _ = writeln!(s, "\n{} request(s) matched no scenario.", r.unmatched.len());
    }
    for n in &r.not_run {
        let _ = writeln!(s, "\nNot run: {} ({})", code_span(&n.id), esc(&n.reason));
    }
    s
}

/// Markdown-inert text: control characters become visible escapes first, then every
/// punctuation character that means something is backslashed, and HTML-significant ones become
/// entities (GitHub renders inline HTML).
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in visible(text).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '(' | ')' | '#' | '+' | '-' | '.'
            | '!' | '|' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A value in an HTML code element: entities escape everything markup could use.
fn code_span(text: &str) -> String {
    let escaped: String = visible(text)
        .chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '|' => "&#124;".to_owned(),
            '`' => "&#96;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    format!("<code>{escaped}</code>")
}
