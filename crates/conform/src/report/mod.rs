//! One result model; one module per output format renders it.

pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod terminal;

use crate::judge::Finding;
use crate::suite::{Scenario, Suite};
use crate::truth::Truth;
use metrica_s2s_mock::model::Delivery;
use metrica_s2s_mock::model::Entry;
use metrica_s2s_rules::Kind;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Passed,
    Failed,
    /// The run itself broke (not the partner's integration).
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ScenarioReport {
    pub id: String,
    pub title: String,
    pub event: Kind,
    pub required: bool,
    pub status: Status,
    pub duration_ms: u64,
    /// Time spent in the partner's driver (command or click), part of `duration_ms`.
    pub driver_ms: u64,
    /// The settle window spent watching for duplicates, part of `duration_ms`.
    pub settle_ms: u64,
    pub tracking_id: String,
    pub click_id: String,
    /// The truth the partner was given: the device and the time of the event.
    pub device: crate::suite::Device,
    pub event_time: u64,
    pub requests: Vec<Arc<Entry>>,
    /// The postback to the partner's receiver, with every attempt (postback scenarios only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub postbacks: Vec<Delivery>,
    pub diagnostics: Vec<Finding>,
    /// Why the runner could not judge the scenario, when its status is `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ScenarioReport {
    /// A report of `scenario` run with `truth`, with nothing found yet.
    pub fn new(scenario: &Scenario, truth: &Truth, took: Duration) -> ScenarioReport {
        ScenarioReport {
            id: scenario.id.clone(),
            title: scenario.title.clone(),
            event: scenario.event,
            required: scenario.required,
            status: Status::Passed,
            duration_ms: took.as_millis() as u64,
            driver_ms: 0,
            settle_ms: 0,
            tracking_id: truth.tracking_id.to_string(),
            click_id: truth.click_id.clone(),
            device: scenario.device.clone(),
            event_time: truth.event_time,
            requests: Vec::new(),
            postbacks: Vec::new(),
            diagnostics: Vec::new(),
            error: None,
        }
    }

    /// The truth the scenario ran with.
    pub fn truth(&self) -> Truth {
        Truth {
            tracking_id: self.tracking_id.parse().unwrap_or_default(),
            click_id: self.click_id.clone(),
            event_time: self.event_time,
        }
    }

    /// The codes of its warnings, comma-separated.
    pub fn warning_codes(&self) -> String {
        let codes: Vec<&str> = self
            .diagnostics
            .iter()
            .filter(|f| !f.is_error())
            .map(|f| f.diagnostic.code.as_str())
            .collect();
        codes.join(", ")
    }

    /// The codes of its error-severity findings, comma-separated: the reason it failed.
    pub fn error_codes(&self) -> String {
        let codes: Vec<&str> = self
            .diagnostics
            .iter()
            .filter(|f| f.is_error())
            .map(|f| f.diagnostic.code.as_str())
            .collect();
        codes.join(", ")
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Unmatched {
    pub resembles: Option<String>,
    pub request: Arc<Entry>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Clone, Debug, Serialize)]
pub struct SuiteRef {
    pub id: String,
    pub title: String,
    pub sha256: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PartnerRef {
    pub name: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub errored: usize,
}

/// Everything a run found; every report format renders exactly this.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub tool: Tool,
    pub suite: SuiteRef,
    pub partner: PartnerRef,
    pub summary: Summary,
    pub duration_ms: u64,
    pub scenarios: Vec<ScenarioReport>,
    pub unmatched: Vec<Unmatched>,
    /// Scenarios of the suite this run left out, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_run: Vec<NotRun>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NotRun {
    pub id: String,
    pub reason: String,
}

impl RunReport {
    pub fn new(
        suite: &Suite,
        partner: &str,
        scenarios: Vec<ScenarioReport>,
        unmatched: Vec<Unmatched>,
        took: Duration,
    ) -> RunReport {
        let count = |s: Status| scenarios.iter().filter(|r| r.status == s).count();
        RunReport {
            tool: Tool {
                name: "metrica-s2s",
                version: env!("CARGO_PKG_VERSION"),
            },
            suite: SuiteRef {
                id: suite.id.clone(),
                title: suite.title.clone(),
                sha256: suite.sha256.clone(),
            },
            partner: PartnerRef {
                name: partner.to_owned(),
            },
            summary: Summary {
                total: scenarios.len(),
                passed: count(Status::Passed),
                failed: count(Status::Failed),
                errored: count(Status::Error),
            },
            duration_ms: took.as_millis() as u64,
            scenarios,
            unmatched,
            not_run: Vec::new(),
        }
    }

    pub fn with_not_run(mut self, not_run: Vec<NotRun>) -> RunReport {
        self.not_run = not_run;
        self
    }

    /// Failed when a required scenario failed (or nothing ran: never a pass); otherwise
    /// errored when the runner could not judge a scenario; otherwise passed. A recommended
    /// scenario's failure is reported but fails nothing.
    pub fn verdict(&self) -> Verdict {
        let required_failed = self
            .scenarios
            .iter()
            .any(|s| s.required && s.status == Status::Failed);
        if self.summary.total == 0 || required_failed {
            Verdict::Failed
        } else if self.summary.errored > 0 {
            Verdict::Errored
        } else {
            Verdict::Passed
        }
    }

    pub fn passed(&self) -> bool {
        self.verdict() == Verdict::Passed
    }
}

/// What a run says about the partner, as a CI gate reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Passed,
    Failed,
    /// Nothing required failed, but the runner could not judge some scenario.
    Errored,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "PASSED",
            Verdict::Failed => "FAILED",
            Verdict::Errored => "ERRORED",
        }
    }
}
