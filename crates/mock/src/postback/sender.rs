//! Delivering one postback: an attempt through the real HTTP client, then retries on
//! AppMetrica's schedule until a 200, the end of the retry period, or shutdown.

use super::deliveries::{Attempt, Deliveries, DeliveryState, FailureKind};
use super::options::{PostbackOptions, USER_AGENT};
use super::template::{PostbackMethod, Rendered};
use crate::client::{Client, ClientError};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// How much of a receiver's answer body the record keeps.
const ANSWER_EXCERPT: usize = 256;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// The HTTP status, or `timeout`, `unreachable`, `broken`.
    pub result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MatchLabels {
    pub match_type: &'static str,
}

/// Prometheus counters of the postback side; `Metrics` registers them.
#[derive(Debug, Default)]
pub struct Counters {
    pub attempts: Family<ResultLabels, Counter>,
    pub finished: Family<StateLabels, Counter>,
    pub conversions: Family<MatchLabels, Counter>,
    pub pending: Gauge,
}

impl Counters {
    pub fn finished(&self, state: DeliveryState) {
        let state = match state {
            DeliveryState::Pending => return,
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
            DeliveryState::Dropped => "dropped",
            DeliveryState::Stopped => "stopped",
        };
        self.finished.get_or_create(&StateLabels { state }).inc();
    }
}

/// What delivering needs: the client, the timings, the record, and the stop signal.
#[derive(Debug)]
pub struct Courier {
    pub options: PostbackOptions,
    client: Client,
    permits: Semaphore,
    pub stop: CancellationToken,
    pub counters: Counters,
    pub deliveries: Deliveries,
}

impl Courier {
    pub fn new(options: PostbackOptions, client: Client) -> Courier {
        Courier {
            deliveries: Deliveries::new(options.keep),
            permits: Semaphore::new(options.concurrency.max(1)),
            options,
            client,
            stop: CancellationToken::new(),
            counters: Counters::default(),
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// First attempt and every retry of delivery `id`.
pub(super) async fn deliver(p: &Courier, id: u64, send: &Rendered) {
    let every = p.options.scaled(p.options.retry_every);
    let give_up_at = Instant::now() + p.options.scaled(p.options.retry_for);
    loop {
        let attempt = attempt(p, send, false).await;
        let ok = attempt.status == Some(200);
        let next = (!ok && Instant::now() + every <= give_up_at)
            .then(|| now_ms() + every.as_millis() as u64);
        let state = if ok {
            DeliveryState::Delivered
        } else if next.is_some() {
            DeliveryState::Pending
        } else {
            DeliveryState::Failed
        };
        p.deliveries.update(id, |d| {
            d.attempts.push(attempt);
            d.delivered |= ok;
            d.state = if d.delivered {
                DeliveryState::Delivered
            } else {
                state
            };
            d.next_attempt_at = next;
        });
        if next.is_none() {
            p.counters.finished(state);
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = p.stop.cancelled() => {
                p.deliveries.update(id, |d| {
                    d.state = DeliveryState::Stopped;
                    d.next_attempt_at = None;
                });
                p.counters.finished(DeliveryState::Stopped);
                return;
            }
        }
    }
}

/// One attempt on request, recorded beside the others; it changes no schedule.
pub(super) async fn repeat(p: &Courier, id: u64, send: &Rendered) {
    let attempt = attempt(p, send, true).await;
    let ok = attempt.status == Some(200);
    p.deliveries.update(id, |d| {
        d.attempts.push(attempt);
        if ok && !d.delivered {
            d.delivered = true;
            d.state = DeliveryState::Delivered;
            d.next_attempt_at = None;
        }
    });
}

async fn attempt(p: &Courier, send: &Rendered, repeat: bool) -> Attempt {
    let _permit = p.permits.acquire().await;
    let at = now_ms();
    let started = Instant::now();
    let mut headers = vec![("user-agent", USER_AGENT)];
    if let Some(t) = &send.content_type {
        headers.push(("content-type", t.as_str()));
    }
    let body = send.body.clone().unwrap_or_default();
    let method = match send.method {
        PostbackMethod::Get => hyper::Method::GET,
        PostbackMethod::Post => hyper::Method::POST,
    };
    let answer = p
        .client
        .send(method, &send.url, &headers, body.into(), p.options.timeout)
        .await;
    let duration_ms = started.elapsed().as_millis() as u64;
    let attempt = match answer {
        Ok(r) => Attempt {
            at,
            status: Some(r.status),
            error: None,
            error_kind: None,
            duration_ms,
            answer: (!r.body.is_empty()).then(|| {
                let cut = &r.body[..r.body.len().min(ANSWER_EXCERPT)];
                String::from_utf8_lossy(cut).into_owned()
            }),
            repeat,
        },
        Err(e) => {
            let kind = match &e {
                ClientError::Timeout(_) => FailureKind::Timeout,
                ClientError::Connect(_) => FailureKind::Unreachable,
                ClientError::Answer(_) | ClientError::BadUrl(_) | ClientError::BadHeader(_) => {
                    FailureKind::Broken
                }
            };
            Attempt {
                at,
                status: None,
                error: Some(e.to_string()),
                error_kind: Some(kind),
                duration_ms,
                answer: None,
                repeat,
            }
        }
    };
    let result = match (attempt.status, attempt.error_kind) {
        (Some(s), _) => s.to_string(),
        (None, Some(FailureKind::Timeout)) => "timeout".into(),
        (None, Some(FailureKind::Unreachable)) => "unreachable".into(),
        (None, _) => "broken".into(),
    };
    p.counters
        .attempts
        .get_or_create(&ResultLabels { result })
        .inc();
    attempt
}
