//! JUnit XML for CI test views (GitHub, GitLab, Jenkins), which go red on any `<failure>`: so
//! only a gating failure writes one. An `error` writes `<error>`; an accepted failure and a
//! scenario not run are `<skipped>` with the reason (as pytest writes xfail); a recommended
//! failure and warnings pass, their codes in `<system-err>`; a flaky scenario passes with a
//! `<flakyFailure>` per failed attempt (as Maven Surefire and nextest write). Every testcase
//! carries its outcome as a property. A stale or expired baseline entry, which fails the run,
//! is a failing testcase of its own.
//!
//! quick-junit writes the XML (escaping included); characters XML 1.0 forbids are removed
//! from user text first.

use super::{Outcome, RunReport, ScenarioReport};
use quick_junit::{
    NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite,
};
use std::time::Duration;

pub fn render(report: &RunReport) -> String {
    let mut junit = Report::new(format!(
        "metrica-s2s conform: {}",
        clean(&report.partner.name)
    ));
    let mut suite = TestSuite::new(format!(
        "{} (sha256 {})",
        clean(&report.suite.id),
        report.suite.sha256
    ));
    suite.add_property(Property::new("verdict", report.verdict.as_str()));
    suite.add_property(Property::new("exit_code", report.exit_code.to_string()));
    for s in &report.scenarios {
        suite.add_test_case(case(report, s));
    }
    if let Some(b) = &report.gate.baseline {
        for (kind, p) in b.problems() {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(clean(&p.why))
                .set_type(format!("baseline-{kind}"));
            let name = format!(
                "baseline {}:{}: {}{}",
                b.file,
                p.line,
                p.scenario,
                p.code
                    .as_deref()
                    .map(|c| format!(" [{c}]"))
                    .unwrap_or_default()
            );
            let mut case = TestCase::new(clean(&name), status);
            case.set_classname(clean(&format!("{}.baseline", report.suite.id)));
            suite.add_test_case(case);
        }
    }
    junit.add_test_suite(suite);
    junit.to_string().unwrap_or_default()
}

fn case(report: &RunReport, s: &ScenarioReport) -> TestCase {
    let status = match s.outcome {
        Outcome::Passed | Outcome::FailedRecommended => TestCaseStatus::success(),
        Outcome::Flaky => {
            let mut st = TestCaseStatus::success();
            for a in &s.earlier_attempts {
                let mut rerun = TestRerun::new(match a.status {
                    super::Status::Error => NonSuccessKind::Error,
                    _ => NonSuccessKind::Failure,
                });
                rerun
                    .set_message(clean(&format!("{}: {}", a.codes, a.message)))
                    .set_time(Duration::from_millis(a.duration_ms));
                st.add_rerun(rerun);
            }
            st
        }
        Outcome::Failed | Outcome::Error => {
            let kind = if s.outcome == Outcome::Failed {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut st = TestCaseStatus::non_success(kind);
            st.set_message(clean(s.error.as_deref().unwrap_or(&s.error_codes())));
            st.set_type(if s.required {
                "required"
            } else {
                "recommended"
            });
            st.set_description(clean(&findings(s)));
            st
        }
        Outcome::Accepted => {
            let mut st = TestCaseStatus::skipped();
            let reasons: Vec<String> = s
                .accepted_by
                .iter()
                .map(|a| match &a.code {
                    Some(c) => format!("{c}: {}", a.reason),
                    None => a.reason.clone(),
                })
                .collect();
            st.set_message(clean(&format!(
                "accepted by the baseline ({}): {}",
                s.error_codes(),
                reasons.join("; ")
            )));
            st.set_description(clean(&findings(s)));
            st
        }
        Outcome::NotRun => {
            let mut st = TestCaseStatus::skipped();
            st.set_message(clean(&format!(
                "not run: {}",
                s.error.as_deref().unwrap_or_default()
            )));
            st
        }
    };
    let mut case = TestCase::new(clean(&format!("{}: {}", s.id, s.title)), status);
    case.set_classname(clean(&format!("{}.{}", report.suite.id, s.event.as_str())));
    case.set_time(Duration::from_millis(s.duration_ms));
    case.add_property(Property::new("outcome", s.outcome.as_str()));
    // What passes, yet was found: a recommended failure's codes and every warning.
    let passing_with_findings = matches!(
        s.outcome,
        Outcome::Passed | Outcome::Flaky | Outcome::FailedRecommended
    ) && !s.diagnostics.is_empty();
    if passing_with_findings {
        case.set_system_err(clean(&findings(s)));
    }
    case
}

/// Every finding of a scenario, one block each.
fn findings(s: &ScenarioReport) -> String {
    let detail: Vec<String> = s
        .diagnostics
        .iter()
        .map(|f| {
            let d = &f.diagnostic;
            let mut line = format!(
                "{}[{}]: {}\n  hint: {}",
                d.severity, d.code, d.message, d.hint
            );
            if let (Some(e), Some(a)) = (&f.expected, &f.actual) {
                line.push_str(&format!("\n  expected: {e}\n  actual:   {a}"));
            }
            line
        })
        .collect();
    detail.join("\n")
}

/// XML 1.0 allows TAB, LF, CR and U+0020 up; everything else (NUL, ESC, ...) goes, marked.
fn clean(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => '\u{FFFD}',
            c => c,
        })
        .collect()
}
