//! Runs a suite against a partner: an embedded mock on loopback, scenarios concurrently, each
//! with a fresh tracking id and click id, waiting on the journal (no sleeps) for what arrives.

use crate::checks::{self, Finding, Truth};
use crate::driver::{self, Endpoints};
use crate::mock_handle::MockHandle;
use crate::partner::{Driver, Partner};
use crate::report::{RunReport, ScenarioReport, Status, Unmatched};
use crate::suite::{Scenario, Suite};
use metrica_s2s_mock::Entry;
use metrica_s2s_rules::{Code, Draft};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

/// Told about each scenario as it finishes, for progress displays.
pub type OnDone = Arc<dyn Fn(&ScenarioReport) + Send + Sync>;

#[derive(Clone)]
pub struct Options {
    pub jobs: usize,
    /// Run only these scenario ids (all when empty).
    pub only: Vec<String>,
    pub on_done: Option<OnDone>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("jobs", &self.jobs)
            .field("only", &self.only)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Config(String),
    #[error("cannot start the embedded mock: {0}")]
    Mock(std::io::Error),
}

pub async fn run(
    suite: &Suite,
    partner: &Partner,
    options: &Options,
) -> Result<RunReport, RunError> {
    let unknown: Vec<&String> = options
        .only
        .iter()
        .filter(|id| !suite.scenarios.iter().any(|s| &s.id == *id))
        .collect();
    if !unknown.is_empty() {
        return Err(RunError::Config(format!(
            "--only names scenarios the suite does not have: {unknown:?}"
        )));
    }
    let scenarios: Vec<&Scenario> = suite
        .scenarios
        .iter()
        .filter(|s| options.only.is_empty() || options.only.contains(&s.id))
        .collect();
    let mock = Arc::new(MockHandle::start(partner).await?);
    let endpoints = mock.endpoints().clone();
    let partner_server = match start_partner_server(partner, &endpoints).await {
        Ok(p) => p,
        Err(e) => {
            if let Ok(m) = Arc::try_unwrap(mock) {
                m.stop().await;
            }
            return Err(e);
        }
    };
    let started = Instant::now();
    let base = fresh_base();
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    let mut tasks = Vec::new();
    for (i, scenario) in scenarios.iter().enumerate() {
        let truth = Truth {
            tracking_id: base + i as u64,
            click_id: format!(
                "{}-{:x}",
                scenario.id,
                base.wrapping_mul(31).wrapping_add(i as u64) & 0xffff_ffff
            ),
            event_time: 0,
        };
        let (scenario, partner, endpoints, mock, permits) = (
            (*scenario).clone(),
            partner.clone(),
            endpoints.clone(),
            mock.clone(),
            permits.clone(),
        );
        let on_done = options.on_done.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            let done = run_scenario(&scenario, truth, &partner, &endpoints, &mock).await;
            if let Some(f) = on_done {
                f(&done.0);
            }
            done
        }));
    }
    let mut reports = Vec::new();
    let mut truths = Vec::new();
    for t in tasks {
        match t.await {
            Ok((report, truth)) => {
                reports.push(report);
                truths.push(truth);
            }
            Err(e) => return Err(RunError::Config(format!("a scenario task failed: {e}"))),
        }
    }
    let unmatched = unmatched(&mock.arrivals().await, &truths, &scenarios, mock.as_ref());
    attribute_wrong_tracking_ids(&mut reports, &truths, &unmatched);
    if let Some(p) = partner_server {
        p.stop().await;
    }
    if let Ok(m) = Arc::try_unwrap(mock) {
        m.stop().await;
    }
    Ok(RunReport::new(
        suite,
        &partner.name,
        reports,
        unmatched,
        started.elapsed(),
    ))
}

/// A base for this run's tracking ids: 19 digits, different every run.
fn fresh_base() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    1_000_000_000_000_000_000 + nanos % 8_000_000_000_000_000_000 / 1000 * 1000
}

async fn run_scenario(
    scenario: &Scenario,
    mut truth: Truth,
    partner: &Partner,
    endpoints: &Endpoints,
    mock: &MockHandle,
) -> (ScenarioReport, Truth) {
    let started = Instant::now();
    truth.event_time = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut findings: Vec<Finding> = Vec::new();
    if let Err(reason) = driver::run(partner, scenario, &truth, endpoints).await {
        let d = Draft::new(Code::DriverFailed)
            .arg("reason", reason)
            .finish();
        findings.push(Finding::plain(d));
    }
    if let Driver::Http(h) = &partner.driver {
        findings.extend(crate::click::click(h, scenario, &truth).await);
    }
    let driver_ms = started.elapsed().as_millis() as u64;
    let driver_failed = findings
        .iter()
        .any(|f| f.diagnostic.code == Code::DriverFailed);
    // After a failed driver, look only briefly: whatever it sent before failing is already
    // on its way.
    let wait = if !driver_failed {
        scenario.timeout_ms
    } else {
        scenario.settle_ms
    };
    let entries = mock
        .wait_for(
            truth.tracking_id,
            scenario.requests,
            Duration::from_millis(wait),
            Duration::from_millis(scenario.settle_ms),
        )
        .await;
    let refs: Vec<&Entry> = entries.iter().map(|e| &**e).collect();
    let ids_known = match &partner.driver {
        Driver::Exec { .. } => true,
        Driver::Http(h) => [&h.click_url, &h.impression_url]
            .iter()
            .any(|u| u.contains("{google_aid}") || u.contains("{ios_ifa}")),
    };
    let checked = checks::check(
        scenario,
        &truth,
        &refs,
        checks::Known {
            ids: ids_known,
            endpoint: mock.knows_endpoints(),
        },
    );
    // A failed driver explains a missing request: one cause, one error.
    findings.extend(
        checked
            .into_iter()
            .filter(|f| !(driver_failed && f.diagnostic.code == Code::NoRequest)),
    );
    let status = if findings.iter().any(Finding::is_error) {
        Status::Failed
    } else {
        Status::Passed
    };
    let report = ScenarioReport {
        id: scenario.id.clone(),
        title: scenario.title.clone(),
        event: scenario.event,
        required: scenario.required,
        status,
        duration_ms: started.elapsed().as_millis() as u64,
        driver_ms,
        settle_ms: if entries.is_empty() {
            0
        } else {
            scenario.settle_ms
        },
        tracking_id: truth.tracking_id.to_string(),
        click_id: truth.click_id.clone(),
        device: scenario.device.clone(),
        event_time: truth.event_time,
        requests: entries,
        diagnostics: findings,
    };
    (report, truth)
}

/// Requests that carry none of the run's tracking ids, each with the scenario it most
/// resembles (same click id, else same UA, else same IP).
fn unmatched(
    arrivals: &[Arc<Entry>],
    truths: &[Truth],
    scenarios: &[&Scenario],
    mock: &MockHandle,
) -> Vec<Unmatched> {
    let ours: HashSet<String> = truths.iter().map(|t| t.tracking_id.to_string()).collect();
    // A running mock serves others too: there, only requests carrying one of our click ids
    // are this run's business.
    let shared = matches!(mock, MockHandle::Remote { .. });
    arrivals
        .iter()
        .filter(|e| !e.tracking_id().is_some_and(|t| ours.contains(t)))
        .filter(|e| {
            !shared
                || e.param("click_id")
                    .is_some_and(|c| truths.iter().any(|t| t.click_id == c))
        })
        .cloned()
        .map(|e| {
            let click = e.param("click_id");
            let ua = e.param("device_ua");
            let ip = e.param("device_ip");
            let by_click = truths
                .iter()
                .position(|t| Some(&t.click_id) == click.as_ref());
            let by_ua = || {
                scenarios
                    .iter()
                    .position(|s| Some(&s.device.ua) == ua.as_ref())
            };
            let by_ip = || {
                scenarios
                    .iter()
                    .position(|s| Some(s.device.ip.to_string()) == ip)
            };
            let resembles = by_click
                .or_else(by_ua)
                .or_else(by_ip)
                .map(|i| scenarios[i].id.clone());
            Unmatched {
                resembles,
                request: e,
            }
        })
        .collect()
}

/// A request carrying a scenario's click id under another tracking id is that scenario's
/// request sent to the wrong tracker: one cause, so it replaces the scenario's no-request.
fn attribute_wrong_tracking_ids(
    reports: &mut [ScenarioReport],
    truths: &[Truth],
    unmatched: &[Unmatched],
) {
    for u in unmatched {
        let Some(click) = u.request.param("click_id") else {
            continue;
        };
        let Some(i) = truths.iter().position(|t| t.click_id == click) else {
            continue;
        };
        let actual = u.request.tracking_id().unwrap_or("").to_owned();
        let d = Draft::new(Code::WrongTrackingId)
            .quoted("actual", actual.as_bytes())
            .arg("expected", truths[i].tracking_id.to_string())
            .finish();
        let r = &mut reports[i];
        r.diagnostics
            .retain(|f| f.diagnostic.code != Code::NoRequest);
        r.diagnostics.push(Finding {
            diagnostic: d,
            expected: Some(truths[i].tracking_id.to_string()),
            actual: Some(actual),
        });
        r.requests.push(u.request.clone());
        r.status = crate::report::Status::Failed;
    }
}

/// Starts the partner's server for the http driver, when the partner file names one.
async fn start_partner_server(
    partner: &Partner,
    endpoints: &Endpoints,
) -> Result<Option<driver::PartnerServer>, RunError> {
    let Driver::Http(h) = &partner.driver else {
        return Ok(None);
    };
    let Some(cmd) = &h.start else { return Ok(None) };
    let ready = h
        .click_url
        .strip_prefix("http://")
        .and_then(|r| r.split(['/', '?']).next())
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| RunError::Config(format!("click_url {:?} has no host:port", h.click_url)))?;
    driver::PartnerServer::start(cmd, &partner.dir, endpoints, ready)
        .await
        .map(Some)
        .map_err(RunError::Config)
}
