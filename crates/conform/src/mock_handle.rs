//! The mock a run talks to: embedded on free loopback ports (the default), or one that is
//! already running. Either way the run speaks to it through its admin API, with the one typed
//! client the mock crate offers, so both are driven alike.

use crate::driver::Endpoints;
use crate::error::{RunError, ScenarioError};
use crate::partner::Partner;
use metrica_s2s_mock::model::{
    ConversionOutcome, ConversionRequest, Delivery, DeliveryFilter, Entry, FaultSpec, Filter, Kind,
    Template, MAX_PAGE,
};
use metrica_s2s_mock::{AdminClient, AdminError, Config, MockServer, Mode, TlsListen};
use std::sync::Arc;
use std::time::Duration;

/// Pages of a mock's journal read at most for one run's arrivals.
const MAX_PAGES: usize = 1_000;
/// Entries the embedded mock keeps: every request of a run, with room to spare.
const EMBEDDED_JOURNAL: usize = 100_000;

pub struct MockHandle {
    /// The embedded mock, stopped with the run; `None` for a running one.
    embedded: Option<MockServer>,
    admin: AdminClient,
    /// The first sequence number of this run: older entries are not ours.
    since: u64,
    endpoints: Endpoints,
    /// False when clicks and impressions share one listener of a running mock.
    knows_endpoints: bool,
}

impl MockHandle {
    pub async fn start(partner: &Partner) -> Result<MockHandle, RunError> {
        let (embedded, admin, endpoints, knows_endpoints) = match &partner.remote {
            Some(mock) => {
                let endpoints = Endpoints {
                    click_base: mock.url.clone(),
                    impression_base: mock
                        .impression_url
                        .clone()
                        .unwrap_or_else(|| mock.url.clone()),
                    ca_file: None,
                };
                let knows = mock.impression_url.is_some();
                (None, AdminClient::new(&mock.url), endpoints, knows)
            }
            None => {
                let mock = MockServer::start(embedded_config(partner))
                    .await
                    .map_err(RunError::Mock)?;
                let endpoints = match mock.ca_cert() {
                    Some(ca) => {
                        let base = |kind| {
                            mock.tls_addrs()
                                .iter()
                                .find(|(k, _)| *k == kind)
                                .map(|(_, a)| format!("https://localhost:{}", a.port()))
                                .unwrap_or_default()
                        };
                        Endpoints {
                            click_base: base(Kind::Click),
                            impression_base: base(Kind::Impression),
                            ca_file: Some(ca.to_owned()),
                        }
                    }
                    None => Endpoints {
                        click_base: mock.click_url(),
                        impression_base: mock.impression_url(),
                        ca_file: None,
                    },
                };
                let admin = mock.admin();
                (Some(mock), admin, endpoints, true)
            }
        };
        let health = admin.health().await.map_err(|e| RunError::RemoteMock {
            url: admin.base().to_owned(),
            reason: e.to_string(),
        })?;
        Ok(MockHandle {
            embedded,
            admin,
            since: health.journal.next_seq,
            endpoints,
            knows_endpoints,
        })
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// False when clicks and impressions share one listener of a running mock: the endpoint a
    /// request used cannot be told then.
    pub fn knows_endpoints(&self) -> bool {
        self.knows_endpoints
    }

    /// A running mock serves others too: there, only requests carrying one of the run's click
    /// ids are the run's business.
    pub fn is_shared(&self) -> bool {
        self.embedded.is_none()
    }

    /// Waits up to `timeout` for `count` requests with this tracking id, then up to `settle`
    /// for one more (a duplicate answers at once); returns what arrived.
    pub async fn wait_for(
        &self,
        tracking_id: u64,
        count: usize,
        timeout: Duration,
        settle: Duration,
    ) -> Result<Vec<Arc<Entry>>, ScenarioError> {
        let first = self.wait(tracking_id, count, timeout).await?;
        if first.len() < count {
            return Ok(first);
        }
        self.wait(tracking_id, first.len() + 1, settle).await
    }

    async fn wait(
        &self,
        tracking_id: u64,
        count: usize,
        timeout: Duration,
    ) -> Result<Vec<Arc<Entry>>, ScenarioError> {
        let filter = Filter {
            tracking_id: Some(tracking_id.to_string()),
            since: Some(self.since),
            count: Some(count),
            limit: Some(MAX_PAGE),
            timeout_ms: Some(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)),
            ..Filter::default()
        };
        let page = self
            .admin
            .wait_requests(&filter)
            .await
            .map_err(unreadable)?;
        Ok(page.requests)
    }

    /// Every request of this run's window, for finding the unmatched ones: page by page, each
    /// call with its own deadline, the whole bounded in pages.
    pub async fn arrivals(&self) -> Result<Vec<Arc<Entry>>, ScenarioError> {
        let mut all = Vec::new();
        let mut from = self.since;
        for _ in 0..MAX_PAGES {
            let filter = Filter {
                since: Some(from),
                limit: Some(MAX_PAGE),
                ..Filter::default()
            };
            let page = self.admin.requests(&filter).await.map_err(unreadable)?;
            all.extend(page.requests);
            match page.next {
                Some(next) if next > from => from = next,
                _ => break,
            }
        }
        Ok(all)
    }

    /// Sets `fault` on tracker `tracking_id`; its id, for [`MockHandle::remove_fault`].
    pub async fn add_fault(
        &self,
        tracking_id: u64,
        mut fault: FaultSpec,
    ) -> Result<u64, ScenarioError> {
        fault.tracking_id = Some(tracking_id.into());
        self.admin.add_fault(&fault).await.map_err(|e| match e {
            AdminError::Status { .. } => ScenarioError::Fault(e.to_string()),
            other => unreadable(other),
        })
    }

    pub async fn remove_fault(&self, id: u64) {
        let _ = self.admin.remove_fault(id).await;
    }

    /// Sets the postbacks of tracker `tracking_id` (each scenario has a tracker of its own).
    pub async fn set_postbacks(
        &self,
        tracking_id: u64,
        templates: Vec<Template>,
    ) -> Result<(), ScenarioError> {
        self.admin
            .set_postbacks(tracking_id, &templates)
            .await
            .map_err(|e| match e {
                AdminError::Status { .. } => ScenarioError::Postback(e.to_string()),
                other => unreadable(other),
            })
    }

    /// Reports a conversion; the mock attributes it and starts its postbacks.
    pub async fn convert(
        &self,
        request: &ConversionRequest,
    ) -> Result<ConversionOutcome, ScenarioError> {
        self.admin.convert(request).await.map_err(|e| match e {
            AdminError::Status { .. } => ScenarioError::Postback(e.to_string()),
            other => unreadable(other),
        })
    }

    /// Waits up to `timeout` for the delivery of `transaction_id` to have `attempts` attempts;
    /// returns it as it then is.
    pub async fn wait_delivery(
        &self,
        transaction_id: &str,
        attempts: usize,
        timeout: Duration,
    ) -> Result<Option<Delivery>, ScenarioError> {
        let filter = DeliveryFilter {
            transaction_id: Some(transaction_id.to_owned()),
            attempts: Some(attempts),
            timeout_ms: Some(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)),
            ..DeliveryFilter::default()
        };
        let page = self
            .admin
            .wait_postbacks(&filter)
            .await
            .map_err(unreadable)?;
        Ok(page.postbacks.into_iter().next())
    }

    /// Has the mock send delivery `id` once more.
    pub async fn repeat(&self, id: u64) -> Result<(), ScenarioError> {
        self.admin
            .repeat_postback(id)
            .await
            .map(|_| ())
            .map_err(|e| match e {
                AdminError::Status { status: 404, .. } => {
                    ScenarioError::Postback(format!("delivery {id} is gone"))
                }
                other => unreadable(other),
            })
    }

    pub async fn stop(self) {
        if let Some(mock) = self.embedded {
            let _ = mock.stop().await;
        }
    }
}

/// The embedded mock: lenient, so the partner's code sees 204 as from production (the
/// verdicts are the runner's to report), on the partner's fixed ports or free ones.
fn embedded_config(partner: &Partner) -> Config {
    let mut config = Config {
        mode: Mode::Lenient,
        ..Config::ephemeral()
    };
    config.journal.capacity = EMBEDDED_JOURNAL;
    if let Some(a) = partner.click_listen {
        config.click_listen = a;
    }
    if let Some(a) = partner.impression_listen {
        config.impression_listen = a;
    }
    if partner.tls {
        // One https listener per kind: `localhost` names neither real host.
        config.tls = [Kind::Click, Kind::Impression]
            .into_iter()
            .map(|kind| TlsListen {
                addr: ([127, 0, 0, 1], 0).into(),
                kind,
            })
            .collect();
    }
    config
}

fn unreadable(e: AdminError) -> ScenarioError {
    ScenarioError::MockUnreadable(e.to_string())
}
