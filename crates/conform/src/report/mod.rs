//! One result model; one module per output format renders it. The verdict, every scenario's
//! outcome and the exit code are decided once (`crate::gate`) and every format says the same.

pub mod codequality;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod refused;
pub mod terminal;

use crate::judge::Finding;
use crate::suite::{Scenario, Suite};
use crate::truth::Truth;
use metrica_s2s_mock::model::{Delivery, Entry, Kind};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// What the scenario's last run found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Passed,
    Failed,
    /// The run itself broke (not the partner's integration).
    Error,
    /// Not run, and why is in the report (a postback scenario without a receiver).
    NotRun,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::Error => "error",
            Status::NotRun => "not-run",
        }
    }
}

/// What a scenario's result means for the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// A gating failure: required (or recommended under `--fail-on recommended`), not
    /// accepted by the baseline.
    Failed,
    /// The runner could not judge it.
    Error,
    /// Failed, but the baseline accepts it.
    Accepted,
    /// A recommended scenario failed; it does not gate.
    FailedRecommended,
    /// Failed (or could not be judged), then passed on a retry.
    Flaky,
    Passed,
    NotRun,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed => "failed",
            Outcome::FailedRecommended => "failed-recommended",
            Outcome::Accepted => "accepted",
            Outcome::Flaky => "flaky",
            Outcome::Error => "error",
            Outcome::NotRun => "not-run",
        }
    }

    pub const ALL: [Outcome; 7] = [
        Outcome::Passed,
        Outcome::Failed,
        Outcome::FailedRecommended,
        Outcome::Accepted,
        Outcome::Flaky,
        Outcome::Error,
        Outcome::NotRun,
    ];
}

/// An earlier run of a scenario that failed or errored, before the retry that is reported.
#[derive(Clone, Debug, Serialize)]
pub struct EarlierAttempt {
    pub tracking_id: String,
    pub click_id: String,
    pub status: Status,
    /// Its error codes, comma-separated.
    pub codes: String,
    /// Its first error's message, or why the runner could not judge it.
    pub message: String,
    pub duration_ms: u64,
}

/// A baseline entry that accepted a scenario's failure.
#[derive(Clone, Debug, Serialize)]
pub struct AcceptedBy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScenarioReport {
    pub id: String,
    pub title: String,
    pub event: Kind,
    pub required: bool,
    pub status: Status,
    pub outcome: Outcome,
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
    /// Why the runner could not judge the scenario, when its status is `error`, or why it was
    /// not run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The runs before the reported one that failed or errored (`--retries`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub earlier_attempts: Vec<EarlierAttempt>,
    /// The baseline entries that accepted its failure.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub accepted_by: Vec<AcceptedBy>,
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
            outcome: Outcome::Passed,
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
            earlier_attempts: Vec::new(),
            accepted_by: Vec::new(),
        }
    }

    /// A scenario the run left out, and why.
    pub fn not_run(scenario: &Scenario, truth: &Truth, reason: &str) -> ScenarioReport {
        let mut r = ScenarioReport::new(scenario, truth, Duration::ZERO);
        r.status = Status::NotRun;
        r.outcome = Outcome::NotRun;
        r.error = Some(reason.to_owned());
        r
    }

    /// The truth the scenario ran with.
    pub fn truth(&self) -> Truth {
        Truth {
            tracking_id: self.tracking_id.parse().unwrap_or_default(),
            click_id: self.click_id.clone(),
            event_time: self.event_time,
        }
    }

    pub fn warnings(&self) -> impl Iterator<Item = &Finding> {
        self.diagnostics.iter().filter(|f| !f.is_error())
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.diagnostics.iter().filter(|f| f.is_error())
    }

    /// The codes of its warnings, comma-separated.
    pub fn warning_codes(&self) -> String {
        codes(self.warnings())
    }

    /// The codes of its error-severity findings, comma-separated: the reason it failed.
    pub fn error_codes(&self) -> String {
        codes(self.errors())
    }
}

fn codes<'a>(findings: impl Iterator<Item = &'a Finding>) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for f in findings {
        let c = f.diagnostic.code.as_str();
        if !seen.contains(&c) {
            seen.push(c);
        }
    }
    seen.join(", ")
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
    /// The partner file, as given on the command line (annotations point at it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// Scenarios by outcome; `total` counts every selected scenario, run or not.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub errored: usize,
    pub failed_recommended: usize,
    pub accepted: usize,
    pub flaky: usize,
    pub not_run: usize,
    /// Warning-severity findings over all scenarios.
    pub warnings: usize,
}

impl Summary {
    pub fn count(&self, o: Outcome) -> usize {
        match o {
            Outcome::Passed => self.passed,
            Outcome::Failed => self.failed,
            Outcome::FailedRecommended => self.failed_recommended,
            Outcome::Accepted => self.accepted,
            Outcome::Flaky => self.flaky,
            Outcome::Error => self.errored,
            Outcome::NotRun => self.not_run,
        }
    }

    /// `8 passed, 1 failed (recommended), 2 not run`: the outcomes that occurred.
    pub fn outcomes_text(&self) -> String {
        let parts: Vec<String> = Outcome::ALL
            .iter()
            .filter(|o| self.count(**o) > 0)
            .map(|o| {
                let name = match o {
                    Outcome::FailedRecommended => "failed (recommended, not gating)",
                    Outcome::Accepted => "accepted by the baseline",
                    Outcome::Flaky => "flaky (passed on a retry)",
                    Outcome::Error => "errored (not judged)",
                    Outcome::NotRun => "not run",
                    other => other.as_str(),
                };
                format!("{} {name}", self.count(*o))
            })
            .collect();
        parts.join(", ")
    }
}

/// What the run says, as a CI gate reads it; `exit_code` is `conform`'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Passed,
    /// A gating failure, or a stale or expired baseline entry.
    Failed,
    /// Nothing failed, but the runner could not judge a scenario.
    Error,
    /// No selected scenario ran.
    NotRun,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "PASSED",
            Verdict::Failed => "FAILED",
            Verdict::Error => "ERROR",
            Verdict::NotRun => "NOT RUN",
        }
    }

    /// The exit code docs/contract.md gives this verdict.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Passed => 0,
            Verdict::Failed => 1,
            Verdict::Error => 3,
            Verdict::NotRun => 4,
        }
    }
}

/// How the gate was set for this run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct GateReport {
    /// `required`, or `recommended` under `--fail-on recommended`.
    pub fail_on: &'static str,
    pub retries: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineReport>,
}

/// What the baseline did: how many entries it used, and those that fail the run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct BaselineReport {
    pub file: String,
    pub entries: usize,
    pub used: usize,
    pub stale: Vec<BaselineProblem>,
    pub expired: Vec<BaselineProblem>,
}

impl BaselineReport {
    pub fn problems(&self) -> impl Iterator<Item = (&'static str, &BaselineProblem)> {
        self.stale
            .iter()
            .map(|p| ("stale", p))
            .chain(self.expired.iter().map(|p| ("expired", p)))
    }
}

/// A baseline entry that fails the run.
#[derive(Clone, Debug, Serialize)]
pub struct BaselineProblem {
    pub scenario: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The entry's line in its file.
    pub line: usize,
    /// Why it fails the run, and what to do.
    pub why: String,
}

/// Everything a run found; every report format renders exactly this.
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    pub tool: Tool,
    pub suite: SuiteRef,
    pub partner: PartnerRef,
    pub verdict: Verdict,
    pub exit_code: u8,
    pub summary: Summary,
    pub gate: GateReport,
    pub duration_ms: u64,
    pub scenarios: Vec<ScenarioReport>,
    pub unmatched: Vec<Unmatched>,
    /// The scenarios with outcome `not-run`, and why (also in `scenarios`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_run: Vec<NotRun>,
    /// Processes the partner's commands left running (a daemon that called `setsid`), stopped
    /// at the end of the run: `pid (name)`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub leftovers: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct NotRun {
    pub id: String,
    pub reason: String,
}

impl RunReport {
    /// A report of `scenarios`, not yet judged: the gate's `decide` sets its outcomes, verdict
    /// and exit code, so that one place decides them.
    pub fn new(
        suite: &Suite,
        partner: PartnerRef,
        scenarios: Vec<ScenarioReport>,
        unmatched: Vec<Unmatched>,
        took: Duration,
    ) -> RunReport {
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
            partner,
            verdict: Verdict::NotRun,
            exit_code: Verdict::NotRun.exit_code(),
            summary: Summary::default(),
            gate: GateReport::default(),
            duration_ms: took.as_millis() as u64,
            scenarios,
            unmatched,
            not_run: Vec::new(),
            leftovers: Vec::new(),
        }
    }

    pub fn verdict(&self) -> Verdict {
        self.verdict
    }

    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Passed
    }
}
