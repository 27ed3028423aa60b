//! The reports of a run that could not be made as configured (exit 2): no scenario was
//! judged, so none is blamed, yet every report asked for says so, in its own format. A CI job
//! reading last run's file from the same path would otherwise show a verdict this run never
//! gave.

use super::{PartnerRef, Tool};
use maud::html;
use metrica_s2s_rules::ci::{
    fingerprint, Annotation, CodeQualityIssue, Level, Lines, Location, Severity,
};
use metrica_s2s_rules::visible;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use serde::Serialize;

/// Why the run was refused, for every format.
#[derive(Clone, Debug, Serialize)]
pub struct Refused {
    pub tool: Tool,
    pub partner: PartnerRef,
    /// Always `configuration-error`.
    pub verdict: &'static str,
    pub exit_code: u8,
    pub error: String,
}

impl Refused {
    pub fn new(partner: PartnerRef, error: String) -> Refused {
        Refused {
            tool: Tool {
                name: "metrica-s2s",
                version: env!("CARGO_PKG_VERSION"),
            },
            partner,
            verdict: "configuration-error",
            exit_code: 2,
            error,
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn junit(&self) -> String {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_message(self.error.clone())
            .set_type("configuration");
        let mut suite = TestSuite::new("metrica-s2s conform: configuration");
        suite.add_test_case(TestCase::new(
            "the run could not be made as configured",
            status,
        ));
        let mut report = Report::new(format!("metrica-s2s conform: {}", self.partner.name));
        report.add_test_suite(suite);
        report.to_string().unwrap_or_default()
    }

    pub fn markdown(&self) -> String {
        format!(
            "## ⛔ metrica-s2s conform: configuration error (exit 2)\n\nNo scenario was judged: {}\n",
            super::markdown::escape(&self.error)
        )
    }

    pub fn html(&self) -> String {
        html! {
            (maud::DOCTYPE)
            html lang="en" {
                head { meta charset="utf-8"; title { "metrica-s2s conform: configuration error" } }
                body {
                    h1 { "Configuration error (exit 2)" }
                    p { "No scenario was judged: " (visible(&self.error)) }
                }
            }
        }
        .into_string()
    }

    pub fn github(&self) -> String {
        Annotation {
            level: Level::Error,
            title: "conform: configuration error",
            file: self.partner.file.as_deref(),
            line: None,
            message: &visible(&self.error),
        }
        .render()
    }

    pub fn codequality(&self) -> String {
        let issue = CodeQualityIssue {
            description: format!("conform could not run: {}", self.error),
            check_name: "metrica-s2s/configuration".into(),
            fingerprint: fingerprint(&["conform", "configuration", &self.partner.name]),
            severity: Severity::Blocker,
            location: Location {
                path: self.partner.file.clone().unwrap_or_default(),
                lines: Lines { begin: 1 },
            },
        };
        serde_json::to_string_pretty(&[issue]).unwrap_or_default()
    }
}
