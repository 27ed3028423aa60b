//! JUnit XML for CI tools: one testcase per scenario, `<failure>` for a broken rule,
//! `<error>` for a run that broke. quick-junit writes the XML (escaping included); characters
//! XML 1.0 forbids are removed from user text first.

use super::{RunReport, Status};
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
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
    for s in &report.scenarios {
        let status = match s.status {
            Status::Passed => TestCaseStatus::success(),
            Status::Failed | Status::Error => {
                let kind = if s.status == Status::Failed {
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
                st.set_description(clean(&detail.join("\n")));
                st
            }
        };
        let mut case = TestCase::new(clean(&format!("{}: {}", s.id, s.title)), status);
        case.set_classname(clean(&format!("{}.{}", report.suite.id, s.event.as_str())));
        case.set_time(Duration::from_millis(s.duration_ms));
        suite.add_test_case(case);
    }
    junit.add_test_suite(suite);
    junit.to_string().unwrap_or_default()
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
