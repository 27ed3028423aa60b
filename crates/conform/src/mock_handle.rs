//! The mock a run talks to: embedded on free loopback ports (the default), or one that is
//! already running, reached through its admin API. Both answer the same two questions: what
//! arrived for a tracking id (waiting for it, event-driven), and what else arrived.

use crate::driver::Endpoints;
use crate::error::{RunError, ScenarioError};
use crate::partner::{Partner, RemoteMock};
use hyper::Method;
use metrica_s2s_mock::client::Client;
use metrica_s2s_mock::fault::FaultSpec;
use metrica_s2s_mock::postback::deliveries::{Delivery, DeliveryFilter, DeliveryPage};
use metrica_s2s_mock::postback::template::Template;
use metrica_s2s_mock::postback::{convert, ConversionOutcome, ConversionRequest};
use metrica_s2s_mock::tls::{server_config, TlsFiles, TlsListener};
use metrica_s2s_mock::{
    serve, Entry, Filter, Journal, Limits, Listeners, Mode, Page, State, Trackers,
};
use metrica_s2s_rules::Kind;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long one admin call to a running mock may take beyond its own wait.
const ADMIN_SLACK: Duration = Duration::from_secs(5);
/// Pages of a running mock's journal read at most for one run's arrivals.
const MAX_PAGES: usize = 1_000;

pub enum MockHandle {
    Embedded {
        state: Arc<State>,
        stop: oneshot::Sender<()>,
        server: JoinHandle<std::io::Result<()>>,
        endpoints: Endpoints,
    },
    Remote {
        mock: RemoteMock,
        client: Box<Client>,
        /// The first sequence number of this run: older entries are not ours.
        since: u64,
        endpoints: Endpoints,
    },
}

impl MockHandle {
    pub async fn start(partner: &Partner) -> Result<MockHandle, RunError> {
        match &partner.remote {
            Some(mock) => {
                let client = Client::new();
                let url = format!("{}/__admin/health", mock.url);
                let health: serde_json::Value =
                    admin(&client, &url, ADMIN_SLACK)
                        .await
                        .map_err(|e| RunError::RemoteMock {
                            url: mock.url.clone(),
                            reason: e.to_string(),
                        })?;
                let since = health["journal"]["next_seq"].as_u64().unwrap_or(0);
                let endpoints = Endpoints {
                    click_base: mock.url.clone(),
                    impression_base: mock
                        .impression_url
                        .clone()
                        .unwrap_or_else(|| mock.url.clone()),
                    ca_file: None,
                };
                Ok(MockHandle::Remote {
                    mock: mock.clone(),
                    client: Box::new(client),
                    since,
                    endpoints,
                })
            }
            None => {
                let bind = |a: Option<std::net::SocketAddr>| {
                    TcpListener::bind(a.unwrap_or(([127, 0, 0, 1], 0).into()))
                };
                let click = bind(partner.click_listen).await.map_err(RunError::Mock)?;
                let impression = bind(partner.impression_listen)
                    .await
                    .map_err(RunError::Mock)?;
                let mut listeners = Listeners::plain(click, impression);
                let endpoints = if partner.tls {
                    https_endpoints(&mut listeners).await?
                } else {
                    Endpoints {
                        click_base: format!(
                            "http://{}",
                            listeners.click.local_addr().map_err(RunError::Mock)?
                        ),
                        impression_base: format!(
                            "http://{}",
                            listeners.impression.local_addr().map_err(RunError::Mock)?
                        ),
                        ca_file: None,
                    }
                };
                // Lenient: the partner's code sees 204 as from production; the verdicts are
                // ours to report.
                let state = Arc::new(State::new(
                    Mode::Lenient,
                    Trackers::default(),
                    Journal::new(100_000),
                ));
                let (stop, stop_rx) = oneshot::channel::<()>();
                let server =
                    tokio::spawn(serve(listeners, state.clone(), Limits::default(), async {
                        let _ = stop_rx.await;
                    }));
                Ok(MockHandle::Embedded {
                    state,
                    stop,
                    server,
                    endpoints,
                })
            }
        }
    }

    pub fn endpoints(&self) -> &Endpoints {
        match self {
            MockHandle::Embedded { endpoints, .. } | MockHandle::Remote { endpoints, .. } => {
                endpoints
            }
        }
    }

    /// False when clicks and impressions share one listener of a running mock: the endpoint a
    /// request used cannot be told then.
    pub fn knows_endpoints(&self) -> bool {
        !matches!(self, MockHandle::Remote { mock, .. } if mock.impression_url.is_none())
    }

    /// A running mock serves others too: there, only requests carrying one of the run's click
    /// ids are the run's business.
    pub fn is_shared(&self) -> bool {
        matches!(self, MockHandle::Remote { .. })
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
        match self {
            MockHandle::Embedded { state, .. } => {
                let filter = Filter {
                    tracking_id: Some(tracking_id.to_string()),
                    ..Filter::default()
                };
                Ok(state.journal.wait(&filter, count, timeout).await.requests)
            }
            MockHandle::Remote {
                mock,
                client,
                since,
                ..
            } => {
                let url = format!(
                    "{}/__admin/requests/wait?tracking_id={tracking_id}&since={since}&count={count}&timeout_ms={}",
                    mock.url,
                    timeout.as_millis()
                );
                let page: Page = admin(client, &url, timeout + ADMIN_SLACK)
                    .await
                    .map_err(|e| ScenarioError::MockUnreadable(e.to_string()))?;
                Ok(page.requests)
            }
        }
    }

    /// Every request of this run's window, for finding the unmatched ones.
    pub async fn arrivals(&self) -> Result<Vec<Arc<Entry>>, ScenarioError> {
        match self {
            MockHandle::Embedded { state, .. } => {
                Ok(state.journal.query(&Filter::default()).requests)
            }
            MockHandle::Remote {
                mock,
                client,
                since,
                ..
            } => {
                // Page by page, each call with its own deadline, the whole bounded in pages.
                let mut all = Vec::new();
                let mut from = *since;
                for _ in 0..MAX_PAGES {
                    let url = format!(
                        "{}/__admin/requests?since={from}&limit={}",
                        mock.url,
                        metrica_s2s_mock::MAX_PAGE
                    );
                    let page: Page = admin(client, &url, ADMIN_SLACK)
                        .await
                        .map_err(|e| ScenarioError::MockUnreadable(e.to_string()))?;
                    all.extend(page.requests);
                    match page.next {
                        Some(next) if next > from => from = next,
                        _ => break,
                    }
                }
                Ok(all)
            }
        }
    }

    /// Sets `fault` on tracker `tracking_id`; its id, for [`MockHandle::remove_fault`].
    pub async fn add_fault(
        &self,
        tracking_id: u64,
        mut fault: FaultSpec,
    ) -> Result<u64, ScenarioError> {
        fault.tracking_id = Some(tracking_id.into());
        match self {
            MockHandle::Embedded { state, .. } => state
                .faults
                .add(fault)
                .map_err(|e| ScenarioError::Fault(e.to_string())),
            MockHandle::Remote { mock, client, .. } => {
                let url = format!("{}/__admin/faults", mock.url);
                let body = serde_json::to_vec(&fault).unwrap_or_default();
                let v: serde_json::Value =
                    admin_send(client, Method::POST, &url, body, ADMIN_SLACK)
                        .await
                        .map_err(|e| ScenarioError::MockUnreadable(e.to_string()))?;
                v["id"]
                    .as_u64()
                    .ok_or_else(|| ScenarioError::MockUnreadable(format!("no fault id in {v}")))
            }
        }
    }

    pub async fn remove_fault(&self, id: u64) {
        match self {
            MockHandle::Embedded { state, .. } => {
                state.faults.remove(id);
            }
            MockHandle::Remote { mock, client, .. } => {
                let url = format!("{}/__admin/faults/{id}", mock.url);
                let _ = client
                    .send(Method::DELETE, &url, &[], Vec::new().into(), ADMIN_SLACK)
                    .await;
            }
        }
    }

    /// Sets the postbacks of tracker `tracking_id` (each scenario has a tracker of its own).
    pub async fn set_postbacks(
        &self,
        tracking_id: u64,
        templates: Vec<Template>,
    ) -> Result<(), ScenarioError> {
        match self {
            MockHandle::Embedded { state, .. } => state
                .postbacks
                .set_templates(tracking_id, Some(templates))
                .map_err(|(i, e)| ScenarioError::Postback(format!("template {i}: {e}"))),
            MockHandle::Remote { mock, client, .. } => {
                let url = format!("{}/__admin/trackers/{tracking_id}/postbacks", mock.url);
                let body = serde_json::to_vec(&templates).unwrap_or_default();
                admin_send::<serde_json::Value>(client, Method::PUT, &url, body, ADMIN_SLACK)
                    .await
                    .map(|_| ())
                    .map_err(|e| ScenarioError::MockUnreadable(e.to_string()))
            }
        }
    }

    /// Reports a conversion; the mock attributes it and starts its postbacks.
    pub async fn convert(
        &self,
        request: &ConversionRequest,
    ) -> Result<ConversionOutcome, ScenarioError> {
        match self {
            MockHandle::Embedded { state, .. } => {
                let now_ms = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                convert(
                    request,
                    &state.journal,
                    &state.trackers,
                    &state.postbacks,
                    now_ms,
                )
                .map_err(|e| ScenarioError::Postback(e.to_string()))
            }
            MockHandle::Remote { mock, client, .. } => {
                let url = format!("{}/__admin/conversions", mock.url);
                let body = serde_json::to_vec(request).unwrap_or_default();
                admin_send(client, Method::POST, &url, body, ADMIN_SLACK)
                    .await
                    .map_err(|e| ScenarioError::MockUnreadable(e.to_string()))
            }
        }
    }

    /// Waits up to `timeout` for delivery `id` to have `attempts` attempts; returns it as it
    /// then is.
    pub async fn wait_delivery(
        &self,
        transaction_id: &str,
        attempts: usize,
        timeout: Duration,
    ) -> Result<Option<Delivery>, ScenarioError> {
        let filter = DeliveryFilter {
            transaction_id: Some(transaction_id.to_owned()),
            attempts: Some(attempts),
            ..DeliveryFilter::default()
        };
        let page = match self {
            MockHandle::Embedded { state, .. } => {
                state.postbacks.deliveries().wait(&filter, 1, timeout).await
            }
            MockHandle::Remote { mock, client, .. } => {
                let query = form_urlencoded::Serializer::new(String::new())
                    .append_pair("transaction_id", transaction_id)
                    .append_pair("attempts", &attempts.to_string())
                    .append_pair("timeout_ms", &timeout.as_millis().to_string())
                    .finish();
                let url = format!("{}/__admin/postbacks/wait?{query}", mock.url);
                admin::<DeliveryPage>(client, &url, timeout + ADMIN_SLACK)
                    .await
                    .map_err(|e| ScenarioError::MockUnreadable(e.to_string()))?
            }
        };
        Ok(page.postbacks.into_iter().next())
    }

    /// Has the mock send delivery `id` once more.
    pub async fn repeat(&self, id: u64) -> Result<(), ScenarioError> {
        match self {
            MockHandle::Embedded { state, .. } => state
                .postbacks
                .repeat(id)
                .map(|_| ())
                .ok_or_else(|| ScenarioError::Postback(format!("delivery {id} is gone"))),
            MockHandle::Remote { mock, client, .. } => {
                let url = format!("{}/__admin/postbacks/{id}/repeat", mock.url);
                admin_send::<serde_json::Value>(client, Method::POST, &url, Vec::new(), ADMIN_SLACK)
                    .await
                    .map(|_| ())
                    .map_err(|e| ScenarioError::MockUnreadable(e.to_string()))
            }
        }
    }

    pub async fn stop(self) {
        if let MockHandle::Embedded { stop, server, .. } = self {
            let _ = stop.send(());
            let _ = server.await;
        }
    }
}

/// Two https listeners beside the plain ones, for clicks and for impressions, at
/// `https://localhost:PORT`, with the local CA's certificate.
async fn https_endpoints(listeners: &mut Listeners) -> Result<Endpoints, RunError> {
    let files = TlsFiles::at(None).map_err(|e| RunError::Tls(e.to_string()))?;
    let served = files.ensure().map_err(|e| RunError::Tls(e.to_string()))?;
    let config = server_config(&served).map_err(RunError::Tls)?;
    let mut bases = Vec::new();
    for kind in [Kind::Click, Kind::Impression] {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(RunError::Mock)?;
        let port = listener.local_addr().map_err(RunError::Mock)?.port();
        bases.push(format!("https://localhost:{port}"));
        listeners.tls.push(TlsListener {
            listener,
            kind,
            config: config.clone(),
        });
    }
    let impression_base = bases.pop().unwrap_or_default();
    let click_base = bases.pop().unwrap_or_default();
    Ok(Endpoints {
        click_base,
        impression_base,
        ca_file: Some(files.ca_cert()),
    })
}

/// Why an admin answer could not be used.
#[derive(Debug, thiserror::Error)]
enum AdminError {
    #[error("{0}")]
    Client(#[from] metrica_s2s_mock::client::ClientError),
    #[error("it answered HTTP {0}")]
    Status(u16),
    #[error("its answer is not the admin API's JSON: {0}")]
    Json(#[from] serde_json::Error),
}

async fn admin_send<T: serde::de::DeserializeOwned>(
    client: &Client,
    method: Method,
    url: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<T, AdminError> {
    let r = client
        .send(
            method,
            url,
            &[("content-type", "application/json")],
            body.into(),
            timeout,
        )
        .await?;
    if !(200..300).contains(&r.status) {
        return Err(AdminError::Status(r.status));
    }
    Ok(serde_json::from_slice(&r.body)?)
}

async fn admin<T: serde::de::DeserializeOwned>(
    client: &Client,
    url: &str,
    timeout: Duration,
) -> Result<T, AdminError> {
    let r = client.get(url, &[], timeout).await?;
    if r.status != 200 {
        return Err(AdminError::Status(r.status));
    }
    Ok(serde_json::from_slice(&r.body)?)
}
