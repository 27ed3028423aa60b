//! Runs a suite against a partner: a mock on loopback (embedded, or one already running),
//! scenarios concurrently, each with a fresh tracking id and click id (fresh again for each
//! retry), waiting on the journal (no sleeps) for what arrives; then the gate decides.

use crate::baseline::Baseline;
use crate::driver::{self, Driver, PartnerServer};
use crate::error::{RunError, ScenarioError};
use crate::gate::{self, Applied, Policy};
use crate::judge::Finding;
use crate::mock_handle::MockHandle;
use crate::partner::Partner;
use crate::report::{EarlierAttempt, PartnerRef, RunReport, ScenarioReport, Status, Unmatched};
use crate::scenario::{self, Setting};
use crate::suite::{Scenario, Suite};
use crate::truth::Truth;
use metrica_s2s_mock::model::Entry;
use metrica_s2s_rules::{Code, Draft};
use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

/// Told about each scenario as it finishes, for progress displays.
pub type OnDone = Arc<dyn Fn(&ScenarioReport) + Send + Sync>;

#[derive(Clone, Default)]
pub struct Options {
    pub jobs: usize,
    /// Run only these scenario ids (all when empty).
    pub only: Vec<String>,
    /// A failed or errored scenario is run again up to this many times.
    pub retries: u32,
    /// Recommended scenarios gate too.
    pub fail_on_recommended: bool,
    /// Known failures the gate accepts, and the day they are judged on.
    pub baseline: Option<(Arc<Baseline>, i64)>,
    pub on_done: Option<OnDone>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("jobs", &self.jobs)
            .field("only", &self.only)
            .field("retries", &self.retries)
            .field("fail_on_recommended", &self.fail_on_recommended)
            .finish_non_exhaustive()
    }
}

/// Why postback scenarios are left out of a run without a receiver.
const NO_RECEIVER: &str = "postback scenarios need a [postback] table in the partner file: where the partner's receiver listens";

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
    let scenarios = selected(suite, options)?;
    crate::process::adopt_orphans();
    let mock = Arc::new(MockHandle::start(partner).await?);
    let endpoints = mock.endpoints().clone();
    let started = Instant::now();
    // Configuration errors end the run before anything is judged.
    let receiver_server = match start_receiver(partner).await {
        Ok(r) => r,
        Err(e) => {
            stop(mock).await;
            return Err(e);
        }
    };
    if let Err(e) = driver.prepare(&endpoints).await {
        if let Some(r) = receiver_server {
            r.stop().await;
        }
        stop(mock).await;
        return Err(e);
    }
    let driver: Arc<dyn Driver> = Arc::from(driver);
    let base = id_base();
    let permits = Arc::new(Semaphore::new(options.jobs.max(1)));
    let mut tasks = Vec::new();
    for (place, scenario) in scenarios.iter().enumerate() {
        let scenario = (*scenario).clone();
        let (driver, mock, endpoints, permits) = (
            driver.clone(),
            mock.clone(),
            endpoints.clone(),
            permits.clone(),
        );
        let on_done = options.on_done.clone();
        let receiver = partner.postback.clone();
        let (retries, count) = (options.retries, scenarios.len());
        tasks.push(tokio::spawn(async move {
            let _permit = permits.acquire_owned().await;
            let report = if scenario.postback.is_some() && receiver.is_none() {
                Ok(ScenarioReport::not_run(
                    &scenario,
                    &truth(base, place, 0, count, &scenario),
                    NO_RECEIVER,
                ))
            } else {
                let at = Setting {
                    driver: &*driver,
                    mock: &mock,
                    endpoints: &endpoints,
                    receiver: receiver.as_ref(),
                };
                with_retries(retries, |attempt| {
                    scenario::run(
                        &scenario,
                        truth(base, place, attempt, count, &scenario),
                        &at,
                    )
                })
                .await
            };
            if let (Ok(r), Some(f)) = (&report, on_done) {
                f(r);
            }
            report
        }));
    }
    let mut reports = Vec::new();
    let mut config_error = None;
    for (place, (task, scenario)) in tasks.into_iter().zip(&scenarios).enumerate() {
        match task.await {
            Ok(Ok(report)) => reports.push(report),
            Ok(Err(e)) => config_error = config_error.or(Some(e)),
            Err(e) => {
                let t = truth(base, place, 0, scenarios.len(), scenario);
                let report =
                    scenario::not_judged(scenario, &t, ScenarioError::Panicked(panic_text(e)));
                if let Some(f) = &options.on_done {
                    f(&report);
                }
                reports.push(report);
            }
        }
    }
    let unmatched = match (&config_error, mock.arrivals().await) {
        (None, Ok(arrivals)) => unmatched(&arrivals, &reports, &scenarios, mock.is_shared()),
        _ => Vec::new(),
    };
    attribute_wrong_tracking_ids(&mut reports, &unmatched);
    // Every task is done, so this is the last handle on the driver.
    let mut driver = driver;
    if let Some(d) = Arc::get_mut(&mut driver) {
        d.finish().await;
    }
    if let Some(server) = receiver_server {
        server.stop().await;
    }
    stop(mock).await;
    let leftovers = crate::process::sweep();
    if let Some(e) = config_error {
        return Err(e);
    }
    let partner_ref = PartnerRef {
        name: partner.name.clone(),
        file: partner.file.clone(),
    };
    let mut report = RunReport::new(suite, partner_ref, reports, unmatched, started.elapsed());
    report.leftovers = leftovers;
    let ids: BTreeSet<String> = suite.scenarios.iter().map(|s| s.id.clone()).collect();
    let policy = Policy {
        fail_on_recommended: options.fail_on_recommended,
        retries: options.retries,
    };
    let applied = options.baseline.as_ref().map(|(b, today)| Applied {
        baseline: b,
        today: *today,
        suite: &ids,
        only: &options.only,
    });
    gate::decide(&mut report, &policy, applied);
    Ok(report)
}

async fn stop(mock: Arc<MockHandle>) {
    if let Ok(m) = Arc::try_unwrap(mock) {
        m.stop().await;
    }
}

/// Runs a scenario until it passes, at most `retries` more times: the report of the last run,
/// with the runs before it that failed or errored.
async fn with_retries<'a, F, Fut>(retries: u32, mut run: F) -> Result<ScenarioReport, RunError>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<ScenarioReport, RunError>> + 'a,
{
    let mut earlier = Vec::new();
    let mut attempt = 0;
    loop {
        let mut report = run(attempt).await?;
        let again = matches!(report.status, Status::Failed | Status::Error) && attempt < retries;
        if !again {
            report.earlier_attempts = earlier;
            return Ok(report);
        }
        earlier.push(EarlierAttempt {
            tracking_id: report.tracking_id.clone(),
            click_id: report.click_id.clone(),
            status: report.status,
            codes: report.error_codes(),
            message: report.error.clone().unwrap_or_else(|| {
                report
                    .errors()
                    .next()
                    .map(|f| f.diagnostic.message.clone())
                    .unwrap_or_default()
            }),
            duration_ms: report.duration_ms,
        });
        attempt += 1;
    }
}

/// The scenarios to run: those `--only` names, or all.
fn selected<'s>(suite: &'s Suite, options: &Options) -> Result<Vec<&'s Scenario>, RunError> {
    let unknown: Vec<&String> = options
        .only
        .iter()
        .filter(|id| !suite.scenarios.iter().any(|s| &s.id == *id))
        .collect();
    if !unknown.is_empty() {
        return Err(RunError::UnknownScenarios(format!("{unknown:?}")));
    }
    Ok(suite
        .scenarios
        .iter()
        .filter(|s| options.only.is_empty() || options.only.contains(&s.id))
        .collect())
}

/// The partner's postback receiver, started when its `[postback]` table says how.
async fn start_receiver(partner: &Partner) -> Result<Option<PartnerServer>, RunError> {
    let Some(r) = &partner.postback else {
        return Ok(None);
    };
    let Some(command) = &r.start else {
        return Ok(None);
    };
    PartnerServer::start("[postback] url", command, &partner.dir, &[], r.addr)
        .await
        .map(Some)
}

/// The first tracking id of this run: 19 digits from the clock.
fn id_base() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    1_000_000_000_000_000_000 + nanos % 8_000_000_000_000_000_000 / 1000 * 1000
}

/// The tracking id and click id of run `attempt` of the scenario at `place` (of `count`),
/// never used before in this run or another.
fn truth(base: u64, place: usize, attempt: u32, count: usize, s: &Scenario) -> Truth {
    let n = u64::from(attempt) * count as u64 + place as u64;
    Truth {
        tracking_id: base + n,
        click_id: format!(
            "{}-{:x}",
            s.id,
            base.wrapping_mul(31).wrapping_add(n) & 0xffff_ffff
        ),
        event_time: 0,
    }
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
    reports: &[ScenarioReport],
    scenarios: &[&Scenario],
    shared: bool,
) -> Vec<Unmatched> {
    let truths: Vec<Truth> = reports.iter().map(ScenarioReport::truth).collect();
    let ours: HashSet<&str> = reports
        .iter()
        .flat_map(|r| {
            std::iter::once(r.tracking_id.as_str())
                .chain(r.earlier_attempts.iter().map(|a| a.tracking_id.as_str()))
        })
        .collect();
    let earlier_clicks: HashSet<&str> = reports
        .iter()
        .flat_map(|r| r.earlier_attempts.iter().map(|a| a.click_id.as_str()))
        .collect();
    arrivals
        .iter()
        .filter(|e| !e.tracking_id.as_deref().is_some_and(|t| ours.contains(t)))
        .filter(|e| {
            !shared
                || e.param("click_id").is_some_and(|c| {
                    truths.iter().any(|t| t.click_id == c) || earlier_clicks.contains(c)
                })
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
fn attribute_wrong_tracking_ids(reports: &mut [ScenarioReport], unmatched: &[Unmatched]) {
    let truths: Vec<Truth> = reports.iter().map(ScenarioReport::truth).collect();
    for u in unmatched {
        let Some(click) = u.request.param("click_id") else {
            continue;
        };
        let Some(i) = truths.iter().position(|t| t.click_id == click) else {
            continue;
        };
        let r = &mut reports[i];
        if matches!(r.status, Status::Error | Status::NotRun) {
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
