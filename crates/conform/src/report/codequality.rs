//! A GitLab Code Quality report: an issue per finding of a scenario that did not pass cleanly,
//! per scenario that could not be judged, and per stale or expired baseline entry. The
//! fingerprint is the suite, the scenario and the code, so the same problem keeps its identity
//! from run to run and a merge request shows what is new.

use super::{Outcome, RunReport};
use metrica_s2s_rules::ci::{fingerprint, CodeQualityIssue, Lines, Location, Severity};
use metrica_s2s_rules::Severity as RuleSeverity;

pub fn render(r: &RunReport) -> String {
    let path = r
        .partner
        .file
        .clone()
        .unwrap_or_else(|| "partner.toml".into());
    let mut issues: Vec<CodeQualityIssue> = Vec::new();
    let mut push = |issue: CodeQualityIssue| {
        if !issues.iter().any(|i| i.fingerprint == issue.fingerprint) {
            issues.push(issue);
        }
    };
    let at = |path: &str, line: usize| Location {
        path: path.to_owned(),
        lines: Lines {
            begin: line.max(1) as u64,
        },
    };
    for s in &r.scenarios {
        if s.outcome == Outcome::Error {
            push(CodeQualityIssue {
                description: format!(
                    "conform {}: not judged: {}",
                    s.id,
                    s.error.as_deref().unwrap_or_default()
                ),
                check_name: "metrica-s2s/runner-error".into(),
                fingerprint: fingerprint(&["conform", &r.suite.id, &s.id, "error"]),
                severity: Severity::Major,
                location: at(&path, 1),
            });
        }
        for f in &s.diagnostics {
            let d = &f.diagnostic;
            let severity = match (d.severity, s.outcome) {
                (RuleSeverity::Error, Outcome::Failed) => Severity::Critical,
                (RuleSeverity::Error, Outcome::FailedRecommended) => Severity::Minor,
                (RuleSeverity::Error, _) | (RuleSeverity::Warning, _) => Severity::Info,
                (RuleSeverity::Info, _) => Severity::Info,
            };
            let accepted = if s.outcome == Outcome::Accepted {
                " (accepted by the baseline)"
            } else {
                ""
            };
            push(CodeQualityIssue {
                description: format!("conform {}: {}{accepted}. Fix: {}", s.id, d.message, d.hint),
                check_name: format!("metrica-s2s/{}", d.code),
                fingerprint: fingerprint(&["conform", &r.suite.id, &s.id, d.code.as_str()]),
                severity,
                location: at(&path, 1),
            });
        }
    }
    if let Some(b) = &r.gate.baseline {
        for (kind, p) in b.problems() {
            let code = p.code.as_deref().unwrap_or("");
            push(CodeQualityIssue {
                description: format!("baseline entry for {} {code}: {}", p.scenario, p.why),
                check_name: format!("metrica-s2s/baseline-{kind}"),
                fingerprint: fingerprint(&["baseline", kind, &p.scenario, code]),
                severity: Severity::Major,
                location: at(&b.file, p.line),
            });
        }
    }
    serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".into())
}
