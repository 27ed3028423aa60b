//! The terminal summary: a table, then each failure with expected beside actual. User text is
//! escaped so it cannot drive the terminal.

use super::{RunReport, Status};
use metrica_s2s_rules::visible;
use std::fmt::Write;

pub fn render(r: &RunReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<28} {:<11} {:<9} {:>6}  errors",
        "scenario", "event", "status", "ms"
    );
    for sc in &r.scenarios {
        let req = if sc.required { "" } else { " (recommended)" };
        let warnings = sc.warning_codes();
        let warnings = if warnings.is_empty() {
            warnings
        } else {
            format!(" warning: {warnings}")
        };
        let _ = writeln!(
            s,
            "{:<28} {:<11} {:<9} {:>6}  {}{warnings}{req}",
            visible(&sc.id),
            sc.event.as_str(),
            sc.status.as_str(),
            sc.duration_ms,
            sc.error_codes()
        );
    }
    for sc in r.scenarios.iter().filter(|sc| sc.status != Status::Passed) {
        let _ = writeln!(s, "\n{} — {}", visible(&sc.id), visible(&sc.title));
        if let Some(e) = &sc.error {
            let _ = writeln!(s, "  error: {}", visible(e));
        }
        for f in sc.diagnostics.iter().filter(|f| f.is_error()) {
            let d = &f.diagnostic;
            let _ = writeln!(
                s,
                "  error[{}] {}\n    hint: {}",
                d.code,
                visible(&d.message),
                visible(&d.hint)
            );
            if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                let _ = writeln!(
                    s,
                    "    expected: {}\n    actual:   {}",
                    visible(e),
                    visible(a)
                );
                // A caret helps find a difference in a long value, not in "200" and "204".
                let long = e.chars().count().max(a.chars().count()) > 8;
                if let Some(col) = long
                    .then(|| e.chars().zip(a.chars()).position(|(x, y)| x != y))
                    .flatten()
                    .or((long && e.chars().count() != a.chars().count())
                        .then(|| e.chars().count().min(a.chars().count())))
                {
                    let _ = writeln!(
                        s,
                        "              {}^ first difference at character {col}",
                        " ".repeat(col.min(120))
                    );
                }
            }
        }
    }
    for u in &r.unmatched {
        let _ = writeln!(
            s,
            "\nunmatched request #{} to {}{}",
            u.request.seq,
            visible(&u.request.target),
            u.resembles
                .as_deref()
                .map(|id| format!(" (resembles scenario {})", visible(id)))
                .unwrap_or_default()
        );
    }
    if !r.not_run.is_empty() {
        let ids: Vec<String> = r
            .not_run
            .iter()
            .map(|n| visible(&n.id).into_owned())
            .collect();
        let _ = writeln!(
            s,
            "\nnot run: {} ({})",
            ids.join(", "),
            visible(&r.not_run[0].reason)
        );
    }
    let verdict = r.verdict().as_str();
    let _ = writeln!(
        s,
        "\n{verdict}: {} scenarios, {} passed, {} failed, {} errored in {} ms (suite {} sha256 {}, metrica-s2s {})",
        r.summary.total, r.summary.passed, r.summary.failed, r.summary.errored, r.duration_ms, visible(&r.suite.id), r.suite.sha256, r.tool.version
    );
    s
}
