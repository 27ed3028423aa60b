//! The terminal summary: a table, then each scenario that did not simply pass, with expected
//! beside actual, then the verdict with the exit code it gives. User text is escaped so it
//! cannot drive the terminal.

use super::{Outcome, RunReport, ScenarioReport};
use crate::judge::Finding;
use metrica_s2s_rules::visible;
use std::fmt::Write;

pub fn render(r: &RunReport) -> String {
    let mut s = String::new();
    let ids: Vec<String> = r
        .scenarios
        .iter()
        .map(|sc| visible(&sc.id).into_owned())
        .collect();
    let width = ids
        .iter()
        .map(|id| id.chars().count())
        .max()
        .unwrap_or(0)
        .max("scenario".len());
    let _ = writeln!(
        s,
        "{:<width$}  {:<10}  {:<18}  {:>6}  findings",
        "scenario", "event", "outcome", "ms"
    );
    for (sc, id) in r.scenarios.iter().zip(&ids) {
        let mut findings = sc.error_codes();
        let warnings = sc.warning_codes();
        if !warnings.is_empty() {
            if !findings.is_empty() {
                findings.push_str("; ");
            }
            let _ = write!(findings, "warning: {warnings}");
        }
        let _ = writeln!(
            s,
            "{id:<width$}  {:<10}  {:<18}  {:>6}  {findings}",
            sc.event.as_str(),
            sc.outcome.as_str(),
            sc.duration_ms,
        );
    }
    for sc in &r.scenarios {
        details(&mut s, sc);
    }
    if let Some(b) = &r.gate.baseline {
        for (_, p) in b.problems() {
            let _ = writeln!(
                s,
                "\nbaseline {}:{}: {}{}: {}",
                visible(&b.file),
                p.line,
                visible(&p.scenario),
                p.code
                    .as_deref()
                    .map(|c| format!(" [{c}]"))
                    .unwrap_or_default(),
                visible(&p.why)
            );
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
    if !r.leftovers.is_empty() {
        let _ = writeln!(
            s,
            "\nstopped {} process(es) the partner's commands left running: {}",
            r.leftovers.len(),
            visible(&r.leftovers.join(", "))
        );
    }
    let warnings = match r.summary.warnings {
        0 => String::new(),
        1 => "; 1 warning".to_owned(),
        n => format!("; {n} warnings"),
    };
    let baseline = r
        .gate
        .baseline
        .as_ref()
        .map(|b| {
            let bad = b.stale.len() + b.expired.len();
            if bad > 0 {
                format!(
                    "; {bad} baseline entr{} to remove or renew",
                    if bad == 1 { "y" } else { "ies" }
                )
            } else {
                String::new()
            }
        })
        .unwrap_or_default();
    let _ = writeln!(
        s,
        "\n{}: {} scenarios: {}{warnings}{baseline}; exit {} ({} ms; suite {} sha256 {}; metrica-s2s {})",
        r.verdict.as_str(),
        r.summary.total,
        r.summary.outcomes_text(),
        r.exit_code,
        r.duration_ms,
        visible(&r.suite.id),
        r.suite.sha256,
        r.tool.version
    );
    s
}

/// What a reader needs about one scenario beyond its row; nothing for a clean pass.
fn details(s: &mut String, sc: &ScenarioReport) {
    let heading = match sc.outcome {
        Outcome::Passed if sc.warnings().next().is_none() => return,
        Outcome::Passed => "passed, with warnings",
        Outcome::Failed => "failed",
        Outcome::FailedRecommended => "failed (recommended: does not gate the run)",
        Outcome::Accepted => "failed, accepted by the baseline",
        Outcome::Flaky => "flaky: passed on a retry",
        Outcome::Error => "not judged: the runner failed, not the partner",
        Outcome::NotRun => "not run",
    };
    let _ = writeln!(
        s,
        "\n{} — {} ({heading})",
        visible(&sc.id),
        visible(&sc.title)
    );
    if let Some(e) = &sc.error {
        let _ = writeln!(s, "  {}", visible(e));
    }
    for a in &sc.accepted_by {
        let _ = writeln!(
            s,
            "  accepted{}: {}{}",
            a.code
                .as_deref()
                .map(|c| format!(" [{c}]"))
                .unwrap_or_default(),
            visible(&a.reason),
            a.until
                .as_deref()
                .map(|u| format!(" (until {u})"))
                .unwrap_or_default()
        );
    }
    for (i, a) in sc.earlier_attempts.iter().enumerate() {
        let _ = writeln!(
            s,
            "  attempt {} {}: {} {}",
            i + 1,
            a.status.as_str(),
            a.codes,
            visible(&a.message)
        );
    }
    for f in &sc.diagnostics {
        finding(s, f);
    }
}

fn finding(s: &mut String, f: &Finding) {
    let d = &f.diagnostic;
    let _ = writeln!(
        s,
        "  {}[{}] {}\n    hint: {}",
        d.severity.as_str(),
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
        if let Some(col) = first_difference(e, a) {
            let _ = writeln!(
                s,
                "              {}^ first difference at character {col}",
                " ".repeat(col.min(120))
            );
        }
    }
}

/// Where two long values that share a beginning part ways: a caret helps find a change in a
/// User-Agent, not between "200" and "no answer within 5000 ms", which share nothing.
fn first_difference(expected: &str, actual: &str) -> Option<usize> {
    let (e, a) = (expected.chars().count(), actual.chars().count());
    if e.max(a) <= 8 {
        return None;
    }
    let col = expected
        .chars()
        .zip(actual.chars())
        .position(|(x, y)| x != y)
        .or((e != a).then_some(e.min(a)))?;
    (col > 0).then_some(col)
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn a_caret_only_where_the_values_share_a_beginning() {
        assert_eq!(first_difference("200", "204"), None, "short");
        assert_eq!(
            first_difference("200", "no answer within 5000 ms"),
            None,
            "nothing shared: a caret at 0 says nothing"
        );
        assert_eq!(
            first_difference(
                "Mozilla/5.0 (Linux; Android 14)",
                "Mozilla/5.0 (Linux;+Android+14)"
            ),
            Some(19)
        );
        assert_eq!(
            first_difference("Mozilla/5.0 (X)", "Mozilla/5.0"),
            Some(11),
            "cut short"
        );
    }
}
