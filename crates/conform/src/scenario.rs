//! One scenario: the driver makes the event happen, the mock's journal says what arrived, and
//! the judge compares the two with the truth.

use crate::driver::{Driver, Endpoints, Event};
use crate::error::{RunError, ScenarioError};
use crate::judge::{self, Finding, Known};
use crate::mock_handle::MockHandle;
use crate::partner::Receiver;
use crate::report::{ScenarioReport, Status};
use crate::suite::Scenario;
use crate::truth::Truth;
use metrica_s2s_mock::model::Delivery;
use metrica_s2s_mock::model::Entry;
use metrica_s2s_rules::Code;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Everything one scenario run needs besides the scenario itself.
pub(crate) struct Setting<'a> {
    pub driver: &'a dyn Driver,
    pub mock: &'a MockHandle,
    pub endpoints: &'a Endpoints,
    /// The partner's postback receiver, for scenarios with a postback phase.
    pub receiver: Option<&'a Receiver>,
}

/// Runs `scenario`; `truth` gets the event's time now. An error is the run's configuration
/// failing (a command that does not exist), not the scenario's.
pub(crate) async fn run(
    scenario: &Scenario,
    mut truth: Truth,
    at: &Setting<'_>,
) -> Result<ScenarioReport, RunError> {
    let started = Instant::now();
    truth.event_time = unix_now();
    let outcome = drive_and_judge(scenario, &truth, at, started).await;
    if let Some(config) = outcome
        .as_ref()
        .err()
        .and_then(ScenarioError::configuration)
    {
        return Err(config);
    }
    let (findings, requests, driver_ms, postbacks, error) = match outcome {
        Ok(o) => (o.findings, o.requests, o.driver_ms, o.postbacks, None),
        Err(e) => (
            Vec::new(),
            Vec::new(),
            started.elapsed().as_millis() as u64,
            Vec::new(),
            Some(e),
        ),
    };
    let mut report = ScenarioReport::new(scenario, &truth, started.elapsed());
    report.driver_ms = driver_ms;
    report.settle_ms = if requests.is_empty() {
        0
    } else {
        scenario.settle_ms
    };
    report.requests = requests;
    report.postbacks = postbacks;
    report.diagnostics = findings;
    report.judge(error);
    Ok(report)
}

struct Judged {
    findings: Vec<Finding>,
    requests: Vec<Arc<Entry>>,
    driver_ms: u64,
    postbacks: Vec<Delivery>,
}

async fn drive_and_judge(
    scenario: &Scenario,
    truth: &Truth,
    at: &Setting<'_>,
    started: Instant,
) -> Result<Judged, ScenarioError> {
    let fault = match &scenario.fault {
        Some(f) => Some(at.mock.add_fault(truth.tracking_id, f.clone()).await?),
        None => None,
    };
    let faulted = scenario.fault.as_ref().and_then(|f| f.times).unwrap_or(0) as usize;
    let driven = at
        .driver
        .trigger(Event {
            scenario,
            truth,
            endpoints: at.endpoints,
        })
        .await;
    let mut findings = match driven {
        Ok(f) => f,
        Err(e) => {
            if let Some(id) = fault {
                at.mock.remove_fault(id).await;
            }
            return Err(e);
        }
    };
    let driver_ms = started.elapsed().as_millis() as u64;
    let driver_failed = findings
        .iter()
        .any(|f| f.diagnostic.code == Code::DriverFailed);
    // After a failed driver, look only briefly: whatever it sent before failing is already
    // on its way.
    let wait = if driver_failed {
        scenario.settle_ms
    } else {
        scenario.timeout_ms
    };
    let requests = at
        .mock
        .wait_for(
            truth.tracking_id,
            scenario.requests + faulted,
            Duration::from_millis(wait),
            Duration::from_millis(scenario.settle_ms),
        )
        .await;
    if let Some(id) = fault {
        at.mock.remove_fault(id).await;
    }
    let requests = requests?;
    let refs: Vec<&Entry> = requests.iter().map(|e| &**e).collect();
    let known = Known {
        ids: at.driver.supplies().ad_ids,
        endpoint: at.mock.knows_endpoints(),
    };
    // The attempts the mock failed on purpose are the retry judge's; the rest are the event.
    let answered: Vec<&Entry> = refs.iter().copied().filter(|e| e.fault.is_none()).collect();
    let mut checked = if scenario.fault.is_some() && !refs.is_empty() && answered.is_empty() {
        Vec::new()
    } else {
        judge::check(scenario, truth, &answered, known)
    };
    if scenario.fault.is_some() {
        checked.extend(crate::retry::check(scenario, &refs, wait));
    }
    // A failed driver explains a missing request: one cause, one error.
    findings.extend(
        checked
            .into_iter()
            .filter(|f| !(driver_failed && f.diagnostic.code == Code::NoRequest)),
    );
    let mut postbacks = Vec::new();
    if let (Some(spec), Some(receiver), false) =
        (&scenario.postback, at.receiver, requests.is_empty())
    {
        match crate::postback::run(
            scenario,
            spec,
            truth,
            receiver,
            at.mock,
            at.driver.supplies(),
        )
        .await
        {
            Ok(o) => {
                findings.extend(o.findings);
                postbacks.extend(o.delivery);
            }
            // A click the partner reported wrongly cannot be attributed: its findings say why.
            Err(ScenarioError::Postback(_)) if findings.iter().any(Finding::is_error) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Judged {
        findings,
        requests,
        driver_ms,
        postbacks,
    })
}

/// The report of a scenario the runner could not judge at all.
pub(crate) fn not_judged(
    scenario: &Scenario,
    truth: &Truth,
    error: ScenarioError,
) -> ScenarioReport {
    let mut report = ScenarioReport::new(scenario, truth, Duration::ZERO);
    report.judge(Some(error));
    report
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl ScenarioReport {
    /// Passed, failed (an error-severity finding), or error (the runner could not judge).
    fn judge(&mut self, error: Option<ScenarioError>) {
        self.status = match &error {
            Some(_) => Status::Error,
            None if self.diagnostics.iter().any(Finding::is_error) => Status::Failed,
            None => Status::Passed,
        };
        self.error = error.map(|e| format!("the runner could not judge this scenario: {e}"));
    }
}
