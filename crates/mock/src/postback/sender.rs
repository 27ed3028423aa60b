//! Delivering one postback: an attempt through the real HTTP client, then retries on
//! AppMetrica's schedule until a 200, the end of the retry period, or shutdown.

use super::deliveries::{Attempt, Change, Deliveries, DeliveryState, FailureKind};
use super::options::{PostbackOptions, USER_AGENT};
use super::policy::{Policy, Success};
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
pub(crate) struct ResultLabels {
    /// The HTTP status, or `timeout`, `unreachable`, `broken`.
    pub(crate) result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct StateLabels {
    pub(crate) state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct MatchLabels {
    pub(crate) match_type: &'static str,
}

/// Prometheus counters of the postback side; `Metrics` registers them.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) attempts: Family<ResultLabels, Counter>,
    pub(crate) finished: Family<StateLabels, Counter>,
    pub(crate) conversions: Family<MatchLabels, Counter>,
    pub(crate) pending: Gauge,
}

impl Counters {
    pub(crate) fn finished(&self, state: DeliveryState) {
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
pub(crate) struct Courier {
    pub(crate) options: PostbackOptions,
    client: Client,
    permits: Semaphore,
    pub(crate) stop: CancellationToken,
    pub(crate) counters: Counters,
    pub(crate) deliveries: Deliveries,
}

impl Courier {
    pub(crate) fn new(options: PostbackOptions, client: Client) -> Courier {
        Courier {
            deliveries: Deliveries::new(options.keep, options.keep_bytes),
            permits: Semaphore::new(options.concurrency.max(1)),
            options,
            client,
            stop: CancellationToken::new(),
            counters: Counters::default(),
        }
    }
}

pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The file line of a change to delivery `id` (`transaction_id`), as the sender sees it; the
/// record fills in the state it keeps.
fn line(id: u64, tx: &str, change: &'static str, state: DeliveryState) -> Change {
    Change {
        id,
        transaction_id: tx.to_owned(),
        change,
        state,
        delivered: state == DeliveryState::Delivered,
        next_attempt_at: None,
        attempt: None,
        delivery: None,
    }
}

/// First attempt and every retry of delivery `id`, on `policy`'s schedule.
pub(super) async fn deliver(p: &Courier, id: u64, tx: &str, send: &Rendered, policy: Policy) {
    let scale = p.options.time_scale;
    let first_delay = policy.first_delay(scale);
    // The delivery was created with its first attempt's time.
    if !first_delay.is_zero() && stopped_while_waiting(p, id, tx, first_delay).await {
        return;
    }
    // Counted from the first attempt, as the quota page says.
    let give_up_at = Instant::now() + policy.give_up_after(scale);
    loop {
        let attempt = attempt(p, send, false).await;
        let ok = attempt.status.is_some_and(|s| policy.success.accepts(s));
        let every = policy.next_interval(scale);
        let next = (!ok && Instant::now() + every <= give_up_at)
            .then(|| now_ms() + every.as_millis() as u64);
        let state = if ok {
            DeliveryState::Delivered
        } else if next.is_some() {
            DeliveryState::Pending
        } else {
            DeliveryState::Failed
        };
        let mut l = line(id, tx, "attempt", state);
        l.next_attempt_at = next;
        l.attempt = Some(attempt.clone());
        p.deliveries.update(l, |d| {
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
        if stopped_while_waiting(p, id, tx, every).await {
            return;
        }
    }
}

/// Records delivery `id` as stopped: the mock stopped while its retries were still due.
pub(super) fn stopped(p: &Courier, id: u64, tx: &str) {
    p.deliveries
        .update(line(id, tx, "stopped", DeliveryState::Stopped), |d| {
            d.state = DeliveryState::Stopped;
            d.next_attempt_at = None;
        });
}

/// Waits `wait`, unless the mock stops first: then the delivery is recorded as stopped, and
/// true is returned.
async fn stopped_while_waiting(p: &Courier, id: u64, tx: &str, wait: std::time::Duration) -> bool {
    tokio::select! {
        () = tokio::time::sleep(wait) => false,
        () = p.stop.cancelled() => {
            stopped(p, id, tx);
            p.counters.finished(DeliveryState::Stopped);
            true
        }
    }
}

/// One attempt on request, recorded beside the others; it changes no schedule.
pub(super) async fn repeat(p: &Courier, id: u64, tx: &str, send: &Rendered, success: Success) {
    let attempt = attempt(p, send, true).await;
    let ok = attempt.status.is_some_and(|s| success.accepts(s));
    let mut l = line(id, tx, "attempt", DeliveryState::Pending);
    l.attempt = Some(attempt.clone());
    p.deliveries.update(l, |d| {
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
        .send_keeping(
            method,
            &send.url,
            &headers,
            body.into(),
            p.options.timeout,
            ANSWER_EXCERPT,
        )
        .await;
    let duration_ms = started.elapsed().as_millis() as u64;
    let attempt = match answer {
        Ok(r) => Attempt {
            at,
            status: Some(r.status),
            error: None,
            error_kind: None,
            duration_ms,
            answer: (!r.body.is_empty()).then(|| String::from_utf8_lossy(&r.body).into_owned()),
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
