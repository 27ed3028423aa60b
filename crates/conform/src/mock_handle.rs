//! The mock a run talks to: embedded on free loopback ports (the default), or one that is
//! already running, reached through its admin API. Both answer the same two questions: what
//! arrived for a tracking id (waiting for it, event-driven), and what else arrived.

use crate::driver::Endpoints;
use crate::partner::{Partner, RemoteMock};
use crate::runner::RunError;
use metrica_s2s_mock::{serve, Entry, Filter, Journal, Limits, Listeners, Mode, State, Trackers};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub enum MockHandle {
    Embedded {
        state: Arc<State>,
        stop: oneshot::Sender<()>,
        server: JoinHandle<std::io::Result<()>>,
        endpoints: Endpoints,
    },
    Remote {
        mock: RemoteMock,
        /// The first sequence number of this run: older entries are not ours.
        since: u64,
        endpoints: Endpoints,
    },
}

impl MockHandle {
    pub async fn start(partner: &Partner) -> Result<MockHandle, RunError> {
        match &partner.remote {
            Some(mock) => {
                let health = admin(&format!("{}/__admin/health", mock.url))
                    .await
                    .map_err(|e| {
                        RunError::Config(format!(
                            "the running mock at {} did not answer its health check: {e}",
                            mock.url
                        ))
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

    /// Waits up to `timeout` for `count` requests with this tracking id, then `settle` more for
    /// duplicates; returns what arrived.
    pub async fn wait_for(
        &self,
        tracking_id: u64,
        count: usize,
        timeout: Duration,
        settle: Duration,
    ) -> Vec<Arc<Entry>> {
        match self {
            MockHandle::Embedded { state, .. } => {
                embedded_wait(state, tracking_id, count, timeout, settle).await
            }
            MockHandle::Remote { mock, since, .. } => {
                let url = |count: usize, t: Duration| {
                    format!(
                        "{}/__admin/requests/wait?tracking_id={tracking_id}&since={since}&count={count}&timeout_ms={}",
                        mock.url,
                        t.as_millis()
                    )
                };
                let first = remote_entries(&url(count, timeout)).await;
                if first.len() < count {
                    return first;
                }
                // Wait for one more than arrived: it answers at once on a duplicate, else at
                // the end of the settle window.
                remote_entries(&url(first.len() + 1, settle)).await
            }
        }
    }

    /// Every request of this run's window, for finding the unmatched ones.
    pub async fn arrivals(&self) -> Vec<Arc<Entry>> {
        match self {
            MockHandle::Embedded { state, .. } => state.journal.query(&Filter::default()).requests,
            MockHandle::Remote { mock, since, .. } => {
                remote_entries(&format!("{}/__admin/requests?since={since}", mock.url)).await
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

async fn embedded_wait(
    state: &State,
    tracking_id: u64,
    count: usize,
    timeout: Duration,
    settle: Duration,
) -> Vec<Arc<Entry>> {
    let filter = Filter {
        tracking_id: Some(tracking_id.to_string()),
        ..Filter::default()
    };
    let mut changes = state.journal.subscribe();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        changes.borrow_and_update();
        if state.journal.query(&filter).total >= count {
            break;
        }
        if !matches!(
            tokio::time::timeout_at(deadline, changes.changed()).await,
            Ok(Ok(()))
        ) {
            return state.journal.query(&filter).requests;
        }
    }
    let settle = tokio::time::Instant::now() + settle;
    while let Ok(Ok(())) = tokio::time::timeout_at(settle, changes.changed()).await {}
    state.journal.query(&filter).requests
}

async fn admin(url: &str) -> std::io::Result<serde_json::Value> {
    let r = crate::http::get(url, &[]).await?;
    if r.status != 200 {
        return Err(std::io::Error::other(format!("HTTP {}", r.status)));
    }
    serde_json::from_slice(&r.body).map_err(std::io::Error::other)
}

/// The entries of an admin answer; none when the mock cannot be read (the scenario then
/// reports no-request, which says where to look).
async fn remote_entries(url: &str) -> Vec<Arc<Entry>> {
    let Ok(page) = admin(url).await else {
        return Vec::new();
    };
    page["requests"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(Entry::from_json)
                .map(Arc::new)
                .collect()
        })
        .unwrap_or_default()
}
