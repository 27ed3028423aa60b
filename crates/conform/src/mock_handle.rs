//! The mock a run talks to: embedded on free loopback ports (the default), or one that is
//! already running, reached through its admin API. Both answer the same two questions: what
//! arrived for a tracking id (waiting for it, event-driven), and what else arrived.

use crate::driver::Endpoints;
use crate::error::{RunError, ScenarioError};
use crate::partner::{Partner, RemoteMock};
use metrica_s2s_mock::client::Client;
use metrica_s2s_mock::{
    serve, Entry, Filter, Journal, Limits, Listeners, Mode, Page, State, Trackers,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long one admin call to a running mock may take beyond its own wait.
const ADMIN_SLACK: Duration = Duration::from_secs(5);

pub enum MockHandle {
    Embedded {
        state: Arc<State>,
        stop: oneshot::Sender<()>,
        server: JoinHandle<std::io::Result<()>>,
        endpoints: Endpoints,
    },
    Remote {
        mock: RemoteMock,
        client: Client,
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
                };
                Ok(MockHandle::Remote {
                    mock: mock.clone(),
                    client,
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
                let endpoints = Endpoints {
                    click_base: format!("http://{}", click.local_addr().map_err(RunError::Mock)?),
                    impression_base: format!(
                        "http://{}",
                        impression.local_addr().map_err(RunError::Mock)?
                    ),
                };
                // Lenient: the partner's code sees 204 as from production; the verdicts are
                // ours to report.
                let state = Arc::new(State::new(
                    Mode::Lenient,
                    Trackers::default(),
                    Journal::new(100_000),
                ));
                let (stop, stop_rx) = oneshot::channel::<()>();
                let server = tokio::spawn(serve(
                    Listeners { click, impression },
                    state.clone(),
                    Limits::default(),
                    async {
                        let _ = stop_rx.await;
                    },
                ));
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
                let url = format!("{}/__admin/requests?since={since}", mock.url);
                let page: Page = admin(client, &url, ADMIN_SLACK)
                    .await
                    .map_err(|e| ScenarioError::MockUnreadable(e.to_string()))?;
                Ok(page.requests)
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
