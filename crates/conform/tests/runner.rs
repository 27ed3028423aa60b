//! The runner in process, with drivers written here: what a partner gets wrong is a failure,
//! what keeps the runner from judging is an error, and neither stops the rest of the run.

use metrica_s2s_conform::driver::{BoxFuture, Driver, Endpoints, Event, Supplies};
use metrica_s2s_conform::error::{RunError, ScenarioError};
use metrica_s2s_conform::judge::Finding;
use metrica_s2s_conform::report::{RunReport, Status, Verdict};
use metrica_s2s_conform::runner::{run_with, Options};
use metrica_s2s_conform::{Partner, Suite};
use metrica_s2s_mock::HttpClient as Client;
use std::collections::BTreeMap;
use std::time::Duration;

/// Two scenarios, so one can break while the other passes.
const SUITE: &str = r#"
[suite]
id = "two"
title = "two scenarios"
[defaults]
timeout_ms = 2000
settle_ms = 100
[[scenario]]
id = "first"
title = "first"
event = "click"
device = { ua = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36", ip = "5.255.232.147" }
[[scenario]]
id = "second"
title = "second"
event = "impression"
device = { ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", ip = "2a02:6b8::2:242" }
"#;

fn partner(extra: &str) -> Partner {
    let text = format!(
        "[partner]\nname = \"in-process\"\n[driver]\nkind = \"exec\"\ncommand = \"true\"\n{extra}"
    );
    Partner::parse(&text, Default::default()).expect("partner")
}

/// What the fake driver does for one scenario.
#[derive(Clone, Copy)]
enum Act {
    /// Sends the S2S call as a correct integration would.
    Send,
    /// Sends it with the click id left out.
    SendWithoutClickId,
    Panic,
    CannotStart,
}

struct Fake {
    acts: BTreeMap<&'static str, Act>,
    prepare_fails: bool,
    client: Client,
}

impl Fake {
    fn new(acts: &[(&'static str, Act)]) -> Fake {
        Fake {
            acts: acts.iter().copied().collect(),
            prepare_fails: false,
            client: Client::new(),
        }
    }

    async fn act(&self, e: Event<'_>) -> Result<Vec<Finding>, ScenarioError> {
        let act = self
            .acts
            .get(e.scenario.id.as_str())
            .copied()
            .unwrap_or(Act::Send);
        let base = match e.scenario.event {
            metrica_s2s_rules::Kind::Click => &e.endpoints.click_base,
            metrica_s2s_rules::Kind::Impression => &e.endpoints.impression_base,
        };
        let click_id = match act {
            Act::Send => format!(
                "click_id={}&",
                metrica_s2s_rules::percent_encode(&e.truth.click_id)
            ),
            Act::SendWithoutClickId => String::new(),
            Act::Panic => panic!("the fake driver broke on {}", e.scenario.id),
            Act::CannotStart => return Err(ScenarioError::DriverStart("no such program".into())),
        };
        let url = format!(
            "{base}/serve/{}?{click_id}device_ip={}&device_ua={}&click_timestamp={}",
            e.truth.tracking_id,
            metrica_s2s_rules::percent_encode(&e.scenario.device.ip.to_string()),
            metrica_s2s_rules::percent_encode(&e.scenario.device.ua),
            e.truth.event_time
        );
        let r = self.client.get(&url, &[], Duration::from_secs(5)).await;
        assert_eq!(r.map(|r| r.status).ok(), Some(204));
        Ok(Vec::new())
    }
}

impl Driver for Fake {
    fn prepare<'a>(&'a mut self, _: &'a Endpoints) -> BoxFuture<'a, Result<(), RunError>> {
        let fails = self.prepare_fails;
        Box::pin(async move {
            if fails {
                Err(RunError::PartnerServer(
                    "`serve.py` exited with status 1 before listening".into(),
                ))
            } else {
                Ok(())
            }
        })
    }

    fn trigger<'a>(
        &'a self,
        event: Event<'a>,
    ) -> BoxFuture<'a, Result<Vec<Finding>, ScenarioError>> {
        Box::pin(self.act(event))
    }

    fn supplies(&self) -> Supplies {
        Supplies { ad_ids: true }
    }

    fn finish(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {})
    }
}

async fn run(driver: Fake, partner_extra: &str) -> RunReport {
    try_run(driver, partner_extra, Options::default())
        .await
        .expect("the run starts")
}

async fn try_run(
    driver: Fake,
    partner_extra: &str,
    options: Options,
) -> Result<RunReport, RunError> {
    let suite = Suite::parse(SUITE).expect("suite");
    let options = Options { jobs: 2, ..options };
    run_with(&suite, &partner(partner_extra), Box::new(driver), &options).await
}

fn statuses(r: &RunReport) -> Vec<(&str, Status)> {
    r.scenarios
        .iter()
        .map(|s| (s.id.as_str(), s.status))
        .collect()
}

#[tokio::test]
async fn a_correct_driver_passes() {
    let r = run(Fake::new(&[]), "").await;
    assert_eq!(
        statuses(&r),
        vec![("first", Status::Passed), ("second", Status::Passed)]
    );
    assert_eq!(r.verdict(), Verdict::Passed);
    assert_eq!(r.scenarios[0].requests.len(), 1);
}

#[tokio::test]
async fn a_partner_mistake_fails_its_scenario_only() {
    let r = run(Fake::new(&[("second", Act::SendWithoutClickId)]), "").await;
    assert_eq!(
        statuses(&r),
        vec![("first", Status::Passed), ("second", Status::Failed)]
    );
    assert_eq!(r.scenarios[1].error_codes(), "click-id-mismatch");
    assert_eq!(r.verdict(), Verdict::Failed);
}

#[tokio::test]
async fn a_panicking_scenario_is_an_error_and_the_run_goes_on() {
    let r = run(Fake::new(&[("first", Act::Panic)]), "").await;
    assert_eq!(
        statuses(&r),
        vec![("first", Status::Error), ("second", Status::Passed)]
    );
    let e = r.scenarios[0].error.as_deref().expect("a reason");
    assert!(
        e.contains("could not judge") && e.contains("the fake driver broke"),
        "{e}"
    );
    assert!(
        r.scenarios[0].diagnostics.is_empty(),
        "not blamed on the partner"
    );
    assert_eq!(r.verdict(), Verdict::Error);
    assert_eq!(r.summary.errored, 1);
}

#[tokio::test]
async fn a_driver_that_cannot_start_is_an_error() {
    let r = run(Fake::new(&[("second", Act::CannotStart)]), "").await;
    assert_eq!(
        statuses(&r),
        vec![("first", Status::Passed), ("second", Status::Error)]
    );
    assert!(r.scenarios[1]
        .error
        .as_deref()
        .is_some_and(|e| e.contains("no such program")));
}

/// A partner server that does not start is a configuration error: nothing is judged, and
/// nothing blamed on the partner.
#[tokio::test]
async fn a_partner_server_that_cannot_start_is_a_configuration_error() {
    let mut fake = Fake::new(&[]);
    fake.prepare_fails = true;
    let e = try_run(fake, "", Options::default())
        .await
        .expect_err("not a run");
    assert!(
        matches!(&e, RunError::PartnerServer(m) if m.contains("before listening")),
        "{e}"
    );
}

/// A running mock whose journal cannot be read: the scenario is the runner's failure, not a
/// `no-request` blamed on the partner.
#[tokio::test]
async fn an_unreadable_mock_is_an_error_not_no_request() {
    use axum::routing::get;
    let app = axum::Router::new()
        .route(
            "/__admin/health",
            get(|| async { axum::Json(serde_json::json!({"journal": {"next_seq": 1}})) }),
        )
        .route(
            "/__admin/requests/wait",
            get(|| async {
                (
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "journal on fire",
                )
            }),
        )
        .fallback(|| async { axum::http::StatusCode::NO_CONTENT });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let r = run(
        Fake::new(&[]),
        &format!("[mock]\nurl = \"http://{addr}\"\n"),
    )
    .await;
    assert_eq!(
        statuses(&r),
        vec![("first", Status::Error), ("second", Status::Error)]
    );
    let e = r.scenarios[0].error.as_deref().expect("a reason");
    assert!(
        e.contains("journal could not be read") && e.contains("500"),
        "{e}"
    );
    assert!(r.scenarios.iter().all(|s| s.diagnostics.is_empty()));
}
