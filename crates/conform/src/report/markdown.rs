//! Markdown for CI step summaries. User text is escaped so it cannot break the table or
//! inject markup.

use super::{Outcome, RunReport};
use metrica_s2s_rules::visible;
use std::fmt::Write;

pub fn render(r: &RunReport) -> String {
    let mut s = String::new();
    let mark = match r.verdict {
        super::Verdict::Passed => "✅",
        super::Verdict::Failed => "❌",
        super::Verdict::Error => "⚠️",
        super::Verdict::NotRun => "⏭️",
    };
    let _ = writeln!(
        s,
        "## {mark} metrica-s2s conform: {} — {} (exit {})\n",
        esc(&r.partner.name),
        r.verdict.as_str(),
        r.exit_code
    );
    let _ = writeln!(
        s,
        "{} scenarios: {}; {} warning(s). Gate: {} scenarios fail the run{}{}. Suite `{}` (sha256 `{}`), metrica-s2s {}.\n",
        r.summary.total,
        esc(&r.summary.outcomes_text()),
        r.summary.warnings,
        r.gate.fail_on,
        if r.gate.retries > 0 {
            format!(", {} retries", r.gate.retries)
        } else {
            String::new()
        },
        r.gate
            .baseline
            .as_ref()
            .map(|b| format!(", baseline {} ({} of {} entries used)", code_span(&b.file), b.used, b.entries))
            .unwrap_or_default(),
        esc(&r.suite.id),
        r.suite.sha256,
        r.tool.version
    );
    s.push_str("| scenario | event | required | outcome | errors | warnings |\n|---|---|---|---|---|---|\n");
    for sc in &r.scenarios {
        let mark = match sc.outcome {
            Outcome::Passed => "✅ passed",
            Outcome::Failed => "❌ failed",
            Outcome::FailedRecommended => "🟡 failed (recommended)",
            Outcome::Accepted => "☑️ accepted",
            Outcome::Flaky => "🔁 flaky",
            Outcome::Error => "⚠️ error",
            Outcome::NotRun => "⏭️ not run",
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {mark} | {} | {} |",
            esc(&sc.id),
            sc.event,
            if sc.required { "yes" } else { "no" },
            sc.error_codes(),
            sc.warning_codes()
        );
    }
    if let Some(b) = &r.gate.baseline {
        for (_, p) in b.problems() {
            let _ = writeln!(
                s,
                "\n- **baseline** {} line {}: {}{}: {}",
                code_span(&b.file),
                p.line,
                code_span(&p.scenario),
                p.code
                    .as_deref()
                    .map(|c| format!(" `{c}`"))
                    .unwrap_or_default(),
                esc(&p.why)
            );
        }
    }
    for sc in r
        .scenarios
        .iter()
        .filter(|sc| sc.outcome != Outcome::Passed || !sc.diagnostics.is_empty())
    {
        let _ = writeln!(s, "\n### {} ({})\n", esc(&sc.title), sc.outcome.as_str());
        if let Some(e) = &sc.error {
            let _ = writeln!(s, "- {}", esc(e));
        }
        for a in &sc.accepted_by {
            let _ = writeln!(
                s,
                "- accepted{}: {}{}",
                a.code
                    .as_deref()
                    .map(|c| format!(" `{c}`"))
                    .unwrap_or_default(),
                esc(&a.reason),
                a.until
                    .as_deref()
                    .map(|u| format!(" (until {u})"))
                    .unwrap_or_default()
            );
        }
        for (i, a) in sc.earlier_attempts.iter().enumerate() {
            let _ = writeln!(
                s,
                "- attempt {}: {} {} {}",
                i + 1,
                a.status.as_str(),
                esc(&a.codes),
                esc(&a.message)
            );
        }
        for f in &sc.diagnostics {
            let d = &f.diagnostic;
            let _ = writeln!(
                s,
                "- **{}** ({}): {}  \n  hint: {}",
                d.code,
                d.severity.as_str(),
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
    s
}

/// Markdown-inert text: control characters become visible escapes first, then every
/// punctuation character that means something is backslashed, and HTML-significant ones become
/// entities (GitHub renders inline HTML).
pub(crate) fn escape(text: &str) -> String {
    esc(text)
}

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
