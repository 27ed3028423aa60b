//! The gate: each scenario's outcome from what its runs found, the gate's settings and the
//! baseline; then the run's verdict and exit code. Decided once, here, so every report and the
//! exit code say the same thing.
//!
//! Exit codes, the first that applies: 1 a gating failure, or a stale or expired baseline
//! entry; 3 nothing failed, but a scenario could not be judged; 4 no selected scenario ran;
//! 0 otherwise. (2, a usage or configuration error, is found before a report exists.)

use crate::baseline::{date_of, Baseline};
use crate::report::{
    AcceptedBy, BaselineProblem, BaselineReport, GateReport, NotRun, Outcome, RunReport,
    ScenarioReport, Status, Summary, Verdict,
};
use metrica_s2s_rules::{Severity, SeverityPolicy};
use std::collections::BTreeSet;

/// How strict the gate is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// `--fail-on recommended`: recommended scenarios gate too, and so do the findings of
    /// recommended checks (`postback-status-not-200`, `postback-macro-unknown`).
    pub fail_on_recommended: bool,
    /// `--retries N`, for the report.
    pub retries: u32,
}

/// Makes the warnings of recommended checks errors, and fails a scenario that had passed with
/// one: a strict gate asks for what both of AppMetrica's readings accept (a 200, not a 204).
fn gate_recommended_checks(s: &mut ScenarioReport) {
    let mut promoted = false;
    for f in &mut s.diagnostics {
        if f.diagnostic.code.rule().severity == SeverityPolicy::Recommended
            && f.diagnostic.severity == Severity::Warning
        {
            f.diagnostic.severity = Severity::Error;
            promoted = true;
        }
    }
    if promoted && s.status == Status::Passed {
        s.status = Status::Failed;
    }
}

/// A baseline, and the day it is judged on (days since 1970-01-01).
#[derive(Clone, Copy, Debug)]
pub struct Applied<'a> {
    pub baseline: &'a Baseline,
    pub today: i64,
    /// The scenario ids the suite has (an entry naming another one is stale).
    pub suite: &'a BTreeSet<String>,
    /// `--only`: entries for scenarios left out are ignored.
    pub only: &'a [String],
}

/// Sets every scenario's outcome, the summary, the verdict and the exit code of `r`.
pub fn decide(r: &mut RunReport, policy: &Policy, baseline: Option<Applied<'_>>) {
    if policy.fail_on_recommended {
        r.scenarios.iter_mut().for_each(gate_recommended_checks);
    }
    let mut report = baseline.map(|b| BaselineReport {
        file: b.baseline.path.display().to_string(),
        entries: b.baseline.accept.len(),
        ..BaselineReport::default()
    });
    for s in &mut r.scenarios {
        s.accepted_by.clear();
        s.outcome = match s.status {
            Status::NotRun => Outcome::NotRun,
            Status::Error => Outcome::Error,
            Status::Passed if !s.earlier_attempts.is_empty() => Outcome::Flaky,
            Status::Passed => Outcome::Passed,
            Status::Failed => {
                let accepted = baseline
                    .map(|b| accepting(b, &s.id, &s.error_codes()))
                    .unwrap_or_default();
                if !accepted.is_empty() {
                    s.accepted_by = accepted;
                    Outcome::Accepted
                } else if s.required || policy.fail_on_recommended {
                    Outcome::Failed
                } else {
                    Outcome::FailedRecommended
                }
            }
        };
    }
    if let (Some(b), Some(rep)) = (baseline, report.as_mut()) {
        judge_entries(b, r, rep);
    }
    let mut summary = Summary {
        total: r.scenarios.len(),
        ..Summary::default()
    };
    for s in &r.scenarios {
        match s.outcome {
            Outcome::Passed => summary.passed += 1,
            Outcome::Failed => summary.failed += 1,
            Outcome::FailedRecommended => summary.failed_recommended += 1,
            Outcome::Accepted => summary.accepted += 1,
            Outcome::Flaky => summary.flaky += 1,
            Outcome::Error => summary.errored += 1,
            Outcome::NotRun => summary.not_run += 1,
        }
        summary.warnings += s.warnings().count();
    }
    let baseline_fails = report
        .as_ref()
        .is_some_and(|b| !b.stale.is_empty() || !b.expired.is_empty());
    r.verdict = if summary.failed > 0 || baseline_fails {
        Verdict::Failed
    } else if summary.errored > 0 {
        Verdict::Error
    } else if summary.not_run == summary.total {
        Verdict::NotRun
    } else {
        Verdict::Passed
    };
    r.exit_code = r.verdict.exit_code();
    r.summary = summary;
    r.not_run = r
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::NotRun)
        .map(|s| NotRun {
            id: s.id.clone(),
            reason: s.error.clone().unwrap_or_default(),
        })
        .collect();
    r.gate = GateReport {
        fail_on: if policy.fail_on_recommended {
            "recommended"
        } else {
            "required"
        },
        retries: policy.retries,
        baseline: report,
    };
}

/// The entries that accept a failed scenario with these error codes: every code must be
/// covered by an entry in force (one without a code covers all), or none accepts it.
fn accepting(b: Applied<'_>, scenario: &str, codes: &str) -> Vec<AcceptedBy> {
    let entries: Vec<_> = b
        .baseline
        .accept
        .iter()
        .filter(|a| a.scenario == scenario && !a.expired(b.today))
        .collect();
    let codes: Vec<&str> = codes.split(", ").filter(|c| !c.is_empty()).collect();
    let covered = |code: &str| {
        entries
            .iter()
            .any(|a| a.code.as_deref().is_none_or(|c| c == code))
    };
    if entries.is_empty() || !codes.iter().all(|c| covered(c)) {
        return Vec::new();
    }
    entries
        .iter()
        .filter(|a| a.code.as_deref().is_none_or(|c| codes.contains(&c)))
        .map(|a| AcceptedBy {
            code: a.code.clone(),
            reason: a.reason.clone(),
            until: a.until.clone(),
        })
        .collect()
}

/// Which entries were used, and which are stale or expired.
fn judge_entries(b: Applied<'_>, r: &RunReport, rep: &mut BaselineReport) {
    for a in &b.baseline.accept {
        let problem = |why: String| BaselineProblem {
            scenario: a.scenario.clone(),
            code: a.code.clone(),
            line: a.line,
            why,
        };
        if a.expired(b.today) {
            rep.expired.push(problem(format!(
                "expired: its until date {} has passed; fix the failure, or agree a new date and change it",
                a.until.as_deref().unwrap_or_default()
            )));
            continue;
        }
        if !b.suite.contains(&a.scenario) {
            rep.stale.push(problem(format!(
                "stale: suite {} has no scenario {:?}; remove the entry",
                r.suite.id, a.scenario
            )));
            continue;
        }
        if !b.only.is_empty() && !b.only.contains(&a.scenario) {
            continue;
        }
        let Some(s) = r.scenarios.iter().find(|s| s.id == a.scenario) else {
            continue;
        };
        match s.status {
            // Nothing can be said of a scenario that was not judged.
            Status::NotRun | Status::Error => {}
            Status::Passed => rep.stale.push(problem(format!(
                "stale: the scenario passes now{}; remove the entry",
                if s.earlier_attempts.is_empty() {
                    ""
                } else {
                    " (on a retry)"
                }
            ))),
            Status::Failed => match &a.code {
                Some(code) if !s.errors().any(|f| f.diagnostic.code.as_str() == code) => {
                    rep.stale.push(problem(format!(
                        "stale: {code} no longer appears (the scenario fails with {}); remove the entry, or name the code it fails with now",
                        s.error_codes()
                    )))
                }
                _ if s.outcome == Outcome::Accepted => rep.used += 1,
                // Some other code of the scenario is not accepted: the entry stands, unused.
                _ => {}
            },
        }
    }
}

/// The run's gating failures as a baseline: one entry per scenario and code, reasons kept
/// from `previous` where it had them, new ones to be filled in.
pub fn baseline_of(r: &RunReport, previous: Option<&Baseline>, today: i64) -> Baseline {
    let mut accept = Vec::new();
    for s in r
        .scenarios
        .iter()
        .filter(|s| matches!(s.outcome, Outcome::Failed | Outcome::Accepted))
    {
        let mut seen = Vec::new();
        for f in s.errors() {
            let code = f.diagnostic.code.as_str().to_owned();
            if seen.contains(&code) {
                continue;
            }
            seen.push(code.clone());
            let kept = previous.and_then(|p| {
                p.accept
                    .iter()
                    .find(|a| a.scenario == s.id && a.code.as_deref().is_none_or(|c| c == code))
            });
            accept.push(crate::baseline::Accept {
                scenario: s.id.clone(),
                code: Some(code),
                reason: kept.map_or_else(
                    || format!("recorded on {}: say why", date_of(today)),
                    |a| a.reason.clone(),
                ),
                until: kept.and_then(|a| a.until.clone()),
                line: 0,
            });
        }
    }
    Baseline {
        path: Default::default(),
        accept,
    }
}
