//! Runs a suite against a partner: a mock on loopback (embedded, or one already running),
//! scenarios concurrently, each with a fresh tracking id and click id, waiting on the journal
//! (no sleeps) for what arrives.

use crate::driver::{self, Driver, PartnerServer};
use crate::error::{RunError, ScenarioError};
use crate::judge::Finding;
use crate::mock_handle::MockHandle;
use crate::partner::Partner;
use crate::report::{NotRun, RunReport, ScenarioReport, Status, Unmatched};
use crate::scenario::{self, Setting};
use crate::suite::{Scenario, Suite};
use crate::truth::Truth;
use metrica_s2s_mock::model::Entry;
use metrica_s2s_rules::{Code, Draft};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
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

/// Runs `suite` against `partner` with the driver its partner file describes.
pub async fn run(
    suite: &Suite,
    partner: &Partner,
    options: &Options,
) -> Result<RunReport, RunError> {
    run_with(suite, partner, driver::for_partner(partner), options).await
}

/// Runs `suite` with `driver`: the partner file says where the mock is, the driver how the
/// partner's integration is made to act.
pub async fn run_with(
    suite: &Suite,
    partner: &Partner,
    mut driver: Box<dyn Driver>,
    options: &Options,
) -> Result<RunReport, RunError> {
    let scenarios = selected(suite, options, partner.postback.is_some())?;
    let mock = Arc::new(MockHandle::start(partner).await?);
    let endpoints = mock.endpoints().clone();
    let started = Instant::now();
    let prepared = driver.prepare(&endpoints).await;
    let (receiver_server, receiver_ready) = start_receiver(partner).await;
    let driver: Arc<dyn Driver> = Arc::from(driver);
    let truths = fresh_truths(&scenarios);
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    let mut tasks = Vec::new();
    for (scenario, truth) in scenarios.iter().zip(&truths) {
        let (scenario, truth) = ((*scenario).clone(), truth.clone());
        let (driver, mock, endpoints, permits) = (
            driver.clone(),
            mock.clone(),
            endpoints.clone(),
            permits.clone(),
        );
        let on_done = options.on_done.clone();
        let prepared = match (&prepared, &receiver_ready) {
            (Err(e), _) => Err(e.clone()),
            (Ok(()), Err(e)) if scenario.postback.is_some() => Err(e.clone()),
            (Ok(()), _) => Ok(()),
        };
        let receiver = partner.postback.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            let report = match prepared {
                Err(e) => scenario::not_run(&scenario, &truth, e),
                Ok(()) => {
                    let at = Setting {
                        driver: &*driver,
                        mock: &mock,
                        endpoints: &endpoints,
                        receiver: receiver.as_ref(),
                    };
                    scenario::run(&scenario, truth, at).await
                }
            };
            if let Some(f) = on_done {
                f(&report);
            }
            report
        }));
    }
    let mut reports = Vec::new();
    for ((task, scenario), truth) in tasks.into_iter().zip(&scenarios).zip(&truths) {
        reports.push(match task.await {
            Ok(report) => report,
            Err(e) => {
                let report =
                    scenario::not_run(scenario, truth, ScenarioError::Panicked(panic_text(e)));
                if let Some(f) = &options.on_done {
                    f(&report);
                }
                report
            }
        });
    }
    // Each scenario's report carries the truth it ran with (its event time included).
    let truths: Vec<Truth> = reports.iter().map(ScenarioReport::truth).collect();
    let unmatched = match mock.arrivals().await {
        Ok(arrivals) => unmatched(&arrivals, &truths, &scenarios, mock.is_shared()),
        Err(_) => Vec::new(),
    };
    attribute_wrong_tracking_ids(&mut reports, &truths, &unmatched);
    // Every task is done, so this is the last handle on the driver.
    let mut driver = driver;
    if let Some(d) = Arc::get_mut(&mut driver) {
        d.finish().await;
    }
    if let Some(server) = receiver_server {
        server.stop().await;
    }
    if let Ok(m) = Arc::try_unwrap(mock) {
        m.stop().await;
    }
    let not_run = suite
        .scenarios
        .iter()
        .filter(|s| s.postback.is_some() && partner.postback.is_none())
        .filter(|s| options.only.is_empty() || options.only.contains(&s.id))
        .map(|s| NotRun {
            id: s.id.clone(),
            reason: "postback scenarios need a [postback] table in the partner file: where the partner's receiver listens".into(),
        })
        .collect();
    Ok(
        RunReport::new(suite, &partner.name, reports, unmatched, started.elapsed())
            .with_not_run(not_run),
    )
}

/// The scenarios to run: those `--only` names, or all; postback scenarios only for a partner
/// with a receiver.
fn selected<'s>(
    suite: &'s Suite,
    options: &Options,
    has_receiver: bool,
) -> Result<Vec<&'s Scenario>, RunError> {
    let unknown: Vec<&String> = options
        .only
        .iter()
        .filter(|id| !suite.scenarios.iter().any(|s| &s.id == *id))
        .collect();
    if !unknown.is_empty() {
        return Err(RunError::UnknownScenarios(format!("{unknown:?}")));
    }
    let named = |s: &&Scenario| options.only.is_empty() || options.only.contains(&s.id);
    if !has_receiver {
        if let Some(s) = suite
            .scenarios
            .iter()
            .filter(named)
            .find(|s| s.postback.is_some() && !options.only.is_empty())
        {
            return Err(RunError::NoReceiver(s.id.clone()));
        }
    }
    Ok(suite
        .scenarios
        .iter()
        .filter(named)
        .filter(|s| has_receiver || s.postback.is_none())
        .collect())
}

/// The partner's postback receiver, started when its `[postback]` table says how.
async fn start_receiver(partner: &Partner) -> (Option<PartnerServer>, Result<(), ScenarioError>) {
    let Some(r) = &partner.postback else {
        return (None, Ok(()));
    };
    let Some(command) = &r.start else {
        return (None, Ok(()));
    };
    match PartnerServer::start(command, &partner.dir, &[], r.addr).await {
        Ok(server) => (Some(server), Ok(())),
        Err(e) => (None, Err(ScenarioError::PartnerServer(e))),
    }
}

/// A tracking id and click id per scenario, never used before: a base of 19 digits from the
/// clock, plus the scenario's place.
fn fresh_truths(scenarios: &[&Scenario]) -> Vec<Truth> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let base = 1_000_000_000_000_000_000 + nanos % 8_000_000_000_000_000_000 / 1000 * 1000;
    scenarios
        .iter()
        .enumerate()
        .map(|(i, s)| Truth {
            tracking_id: base + i as u64,
            click_id: format!(
                "{}-{:x}",
                s.id,
                base.wrapping_mul(31).wrapping_add(i as u64) & 0xffff_ffff
            ),
            event_time: 0,
        })
        .collect()
}

fn panic_text(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return "it was cancelled".into();
    }
    let payload = e.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into())
}

/// Requests that carry none of the run's tracking ids, each with the scenario it most
/// resembles (same click id, else same UA, else same IP).
fn unmatched(
    arrivals: &[Arc<Entry>],
    truths: &[Truth],
    scenarios: &[&Scenario],
    shared: bool,
) -> Vec<Unmatched> {
    let ours: HashSet<String> = truths.iter().map(|t| t.tracking_id.to_string()).collect();
    arrivals
        .iter()
        .filter(|e| !e.tracking_id.as_ref().is_some_and(|t| ours.contains(t)))
        .filter(|e| {
            !shared
                || e.param("click_id")
                    .is_some_and(|c| truths.iter().any(|t| t.click_id == c))
        })
        .map(|e| {
            let (click, ua, ip) = (
                e.param("click_id"),
                e.param("device_ua"),
                e.param("device_ip"),
            );
            let by_click = truths
                .iter()
                .position(|t| Some(t.click_id.as_str()) == click);
            let by_ua = || {
                scenarios
                    .iter()
                    .position(|s| Some(s.device.ua.as_str()) == ua)
            };
            let by_ip = || {
                scenarios
                    .iter()
                    .position(|s| Some(s.device.ip.to_string().as_str()) == ip)
            };
            Unmatched {
                resembles: by_click
                    .or_else(by_ua)
                    .or_else(by_ip)
                    .map(|i| scenarios[i].id.clone()),
                request: e.clone(),
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
        let r = &mut reports[i];
        if r.status == Status::Error {
            continue;
        }
        let actual = u.request.tracking_id.clone().unwrap_or_default();
        let d = Draft::new(Code::WrongTrackingId)
            .quoted("actual", actual.as_bytes())
            .arg("expected", truths[i].tracking_id.to_string())
            .finish();
        r.diagnostics
            .retain(|f| f.diagnostic.code != Code::NoRequest);
        r.diagnostics.push(Finding {
            diagnostic: d,
            expected: Some(truths[i].tracking_id.to_string()),
            actual: Some(actual),
        });
        r.requests.push(u.request.clone());
        r.status = Status::Failed;
    }
}
