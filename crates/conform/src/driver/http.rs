//! The http (click-through) driver: the runner is the user's device. It clicks the partner's
//! click URL with the device's User-Agent and `X-Forwarded-For`, expects a direct redirect to
//! the store carrying AppMetrica's referrer, and leaves the S2S call to the partner's server.
//! Loopback only; one bounded request per scenario.

use super::interface::{BoxFuture, Driver, Endpoints, Event, Supplies};
use super::server::PartnerServer;
use crate::error::{RunError, ScenarioError};
use crate::judge::Finding;
use crate::partner::{loopback_addr, HttpDriver};
use crate::suite::Scenario;
use crate::truth::Truth;
use metrica_s2s_mock::{ClientError, HttpClient as Client};
use metrica_s2s_rules::{kind_for_host, percent_encode, Code, Draft, Kind};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug)]
pub struct ClickThrough {
    config: HttpDriver,
    dir: PathBuf,
    client: Client,
    server: Option<PartnerServer>,
}

impl ClickThrough {
    pub fn new(config: HttpDriver, dir: PathBuf) -> ClickThrough {
        ClickThrough {
            config,
            dir,
            client: Client::new(),
            server: None,
        }
    }

    /// Starts the partner's server, when the partner file names one.
    async fn start(&mut self, endpoints: &Endpoints) -> Result<(), RunError> {
        let Some(cmd) = &self.config.start else {
            return Ok(());
        };
        // The partner file's check guarantees a loopback address.
        let ready = loopback_addr(&self.config.click_url).ok_or_else(|| {
            RunError::PartnerServer(format!(
                "click_url {:?} has no host:port",
                self.config.click_url
            ))
        })?;
        let ca = endpoints
            .ca_file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let env = [
            ("S2S_CLICK_BASE", endpoints.click_base.as_str()),
            ("S2S_IMPRESSION_BASE", endpoints.impression_base.as_str()),
            ("S2S_CA_FILE", ca.as_str()),
        ];
        let server = PartnerServer::start("click_url", cmd, &self.dir, &env, ready).await?;
        self.server = Some(server);
        Ok(())
    }
}

impl Driver for ClickThrough {
    fn prepare<'a>(&'a mut self, endpoints: &'a Endpoints) -> BoxFuture<'a, Result<(), RunError>> {
        Box::pin(self.start(endpoints))
    }

    fn trigger<'a>(
        &'a self,
        event: Event<'a>,
    ) -> BoxFuture<'a, Result<Vec<Finding>, ScenarioError>> {
        Box::pin(click(
            &self.client,
            &self.config,
            event.scenario,
            event.truth,
        ))
    }

    fn supplies(&self) -> Supplies {
        let templates = [&self.config.click_url, &self.config.impression_url];
        Supplies {
            ad_ids: templates
                .iter()
                .any(|u| u.contains("{google_aid}") || u.contains("{ios_ifa}")),
        }
    }

    fn finish(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async {
            if let Some(s) = self.server.take() {
                s.stop().await;
            }
        })
    }
}

/// Store hosts a direct redirect may go to.
const STORES: &[&str] = &[
    "play.google.com",
    "apps.apple.com",
    "itunes.apple.com",
    "appgallery.huawei.com",
    "apps.rustore.ru",
];

/// Clicks and judges the answer: redirect-not-direct, referrer-missing, or driver-failed.
async fn click(
    client: &Client,
    driver: &HttpDriver,
    scenario: &Scenario,
    truth: &Truth,
) -> Result<Vec<Finding>, ScenarioError> {
    let template = match scenario.event {
        Kind::Click => &driver.click_url,
        Kind::Impression => &driver.impression_url,
    };
    let id = |v: &Option<String>| v.as_deref().map(percent_encode).unwrap_or_default();
    let url = template
        .replace("{tracking_id}", &truth.tracking_id.to_string())
        .replace("{click_id}", &percent_encode(&truth.click_id))
        .replace("{google_aid}", &id(&scenario.device.google_aid))
        .replace("{ios_ifa}", &id(&scenario.device.ios_ifa));
    let ip = scenario.device.ip.to_string();
    let headers = [
        ("User-Agent", scenario.device.ua.as_str()),
        ("X-Forwarded-For", ip.as_str()),
    ];
    let timeout = Duration::from_millis(driver.timeout_ms);
    let (status, location) = match client.get(&url, &headers, timeout).await {
        Err(e @ (ClientError::BadUrl(_) | ClientError::BadHeader(_))) => {
            return Err(ScenarioError::DriverStart(format!(
                "the device's click cannot be sent: {e}"
            )))
        }
        Err(e) => {
            return Ok(vec![failed(format!(
                "its click URL could not be fetched: {e}"
            ))])
        }
        Ok(r) => (r.status, r.header("location").map(str::to_owned)),
    };
    Ok(judge_answer(scenario, truth, status, location))
}

/// The click's answer: a direct redirect to the store with the referrer, or what it was.
fn judge_answer(
    scenario: &Scenario,
    truth: &Truth,
    status: u16,
    location: Option<String>,
) -> Vec<Finding> {
    if status >= 400 {
        return vec![failed(format!("its click URL answered HTTP {status}"))];
    }
    // An impression URL is a pixel: any success will do.
    if scenario.event == Kind::Impression && (200..300).contains(&status) {
        return Vec::new();
    }
    let Some(location) = location.filter(|_| (300..400).contains(&status)) else {
        let d = Draft::new(Code::RedirectNotDirect)
            .arg("actual", format!("HTTP {status} without a redirect"))
            .finish();
        return vec![Finding::plain(d)];
    };
    let host = location
        .split("://")
        .nth(1)
        .and_then(|r| r.split(['/', '?', ':']).next())
        .unwrap_or("");
    let to_store =
        location.starts_with("market://") || STORES.iter().any(|s| host.eq_ignore_ascii_case(s));
    if !to_store {
        let via = if kind_for_host(host.as_bytes()).is_some() {
            " (via the tracking URL)"
        } else {
            ""
        };
        let d = Draft::new(Code::RedirectNotDirect)
            .arg(
                "actual",
                format!(
                    "HTTP {status} to {}{via}",
                    metrica_s2s_rules::quote_str(&location)
                ),
            )
            .finish();
        return vec![Finding::plain(d)];
    }
    let referrer = format!(
        "referrer=appmetrica_click_id%3D{}",
        percent_encode(&truth.click_id)
    );
    if scenario.event == Kind::Click && !location.contains(&referrer) {
        let d = Draft::new(Code::ReferrerMissing)
            .quoted("actual", location.as_bytes())
            .arg("expected", percent_encode(&truth.click_id))
            .finish();
        return vec![Finding {
            diagnostic: d,
            expected: Some(referrer),
            actual: Some(location),
        }];
    }
    Vec::new()
}

fn failed(reason: String) -> Finding {
    Finding::plain(
        Draft::new(Code::DriverFailed)
            .arg("reason", reason)
            .finish(),
    )
}

#[cfg(test)]
mod tests {
    use crate::driver::http::judge_answer;
    use crate::suite::Suite;
    use crate::truth::Truth;

    fn codes(event: &str, status: u16, location: Option<&str>) -> Vec<&'static str> {
        let suite = Suite::parse(&format!(
            "[suite]\nid='s'\ntitle='t'\n[[scenario]]\nid='a'\ntitle='t'\nevent='{event}'\ndevice={{ua='u', ip='5.255.232.147'}}"
        ))
        .expect("suite");
        let truth = Truth {
            tracking_id: 1,
            click_id: "c 1".into(),
            event_time: 0,
        };
        judge_answer(
            &suite.scenarios[0],
            &truth,
            status,
            location.map(str::to_owned),
        )
        .iter()
        .map(|f| f.diagnostic.code.as_str())
        .collect()
    }

    #[test]
    fn the_users_click_must_go_straight_to_the_store_with_the_referrer() {
        let store =
            "https://play.google.com/store/apps/details?id=x&referrer=appmetrica_click_id%3Dc%201";
        assert!(codes("click", 302, Some(store)).is_empty());
        assert_eq!(
            codes("click", 302, Some("market://details?id=x")),
            vec!["referrer-missing"]
        );
        assert_eq!(
            codes(
                "click",
                302,
                Some("https://redirect.appmetrica.yandex.com/serve/1?x")
            ),
            vec!["redirect-not-direct"]
        );
        assert_eq!(codes("click", 200, None), vec!["redirect-not-direct"]);
        assert_eq!(codes("click", 500, None), vec!["driver-failed"]);
        assert!(codes("impression", 204, None).is_empty(), "a pixel");
    }
}
