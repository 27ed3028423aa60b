//! The admin API under `/__admin/`: health, the journal, and waiting for requests; postbacks
//! in their own module.

mod body;
pub(crate) mod faults;
pub(crate) mod guard;
pub(crate) mod postbacks;
pub(crate) mod segment;

use crate::journal::{Filter, MAX_PAGE};
use crate::model::{FileStatus, Health, JournalHealth};
use crate::problem::problem;
use crate::state::SharedState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use segment::Segment;
use serde_json::json;
use std::time::Duration;

/// Longest a `wait` may block.
const MAX_WAIT: Duration = Duration::from_secs(60);
const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// How long a `wait` call may block: `timeout_ms` as asked, 5 s by default, 60 s at most.
pub(crate) fn wait_limit(timeout_ms: Option<u64>) -> Duration {
    timeout_ms
        .map_or(DEFAULT_WAIT, Duration::from_millis)
        .min(MAX_WAIT)
}

/// 200 while every file the mock writes is being written; 503 naming the file and its error
/// otherwise, so a supervisor or a CI step notices a journal that is silently incomplete.
pub(crate) async fn health(State(state): State<SharedState>) -> Response {
    let journal = state.journal();
    let (bytes, max_bytes) = journal.bytes();
    let files: Vec<FileStatus> = [
        ("journal", journal.file_health()),
        ("postbacks", state.postbacks().deliveries().file_health()),
    ]
    .into_iter()
    .filter_map(|(what, h)| h.map(|h| (what, h)))
    .map(|(what, h)| FileStatus {
        file: what.to_owned(),
        path: h.path.display().to_string(),
        error: h.error(),
        errors: h.errors(),
        lost: h.lost(),
    })
    .collect();
    let failing = files.iter().any(|f| f.error.is_some());
    let body = Json(Health {
        status: if failing { "error" } else { "ok" }.to_owned(),
        mode: state.mode().as_str().to_owned(),
        journal: JournalHealth {
            entries: journal.len(),
            capacity: journal.capacity(),
            bytes,
            max_bytes,
            dropped: journal.dropped(),
            next_seq: journal.next_seq(),
            waiting: journal.waiting(),
        },
        files,
        trackers: state.trackers().len(),
    });
    if failing {
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    } else {
        body.into_response()
    }
}

pub(crate) async fn list(
    State(state): State<SharedState>,
    filter: Result<Query<Filter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(f)) => Json(state.journal().page_of(&f, MAX_PAGE)).into_response(),
        Err(e) => bad_filter(&e),
    }
}

pub(crate) async fn one(State(state): State<SharedState>, Segment(seq): Segment) -> Response {
    let Ok(seq) = seq.parse::<u64>() else {
        let detail = format!(
            "{} is not a sequence number",
            metrica_s2s_rules::quote_str(&seq)
        );
        return problem(
            StatusCode::BAD_REQUEST,
            "bad-seq",
            "Bad sequence number",
            &detail,
            &[],
            None,
        );
    };
    match state.journal().get(seq) {
        Some(e) => Json(&*e).into_response(),
        None => {
            let detail =
                format!("no journal entry {seq}: never recorded, dropped from the ring, or reset");
            problem(
                StatusCode::NOT_FOUND,
                "no-entry",
                "No such journal entry",
                &detail,
                &[],
                None,
            )
        }
    }
}

pub(crate) async fn reset(State(state): State<SharedState>) -> Response {
    let cleared = state.journal().reset();
    Json(json!({ "cleared": cleared })).into_response()
}

/// Answers as soon as `count` matching entries exist, or at the timeout with what there is.
pub(crate) async fn wait(
    State(state): State<SharedState>,
    filter: Result<Query<Filter>, QueryRejection>,
) -> Response {
    let f = match filter {
        Ok(Query(f)) => f,
        Err(e) => return bad_filter(&e),
    };
    let want = f.count.unwrap_or(1);
    let timeout = wait_limit(f.timeout_ms);
    let page = until_shutdown(
        &state,
        state.journal().wait_most(&f, want, timeout, MAX_PAGE),
        || state.journal().page_of(&f, MAX_PAGE),
    )
    .await;
    Json(page).into_response()
}

/// A wait's answer; at shutdown, what there is now, rather than a connection cut off.
pub(crate) async fn until_shutdown<T>(
    state: &crate::state::State,
    wait: impl std::future::Future<Output = T>,
    now: impl FnOnce() -> T,
) -> T {
    tokio::select! {
        answer = wait => answer,
        () = state.closing() => now(),
    }
}

fn bad_filter(e: &QueryRejection) -> Response {
    let detail = format!(
        "{}; filters are tracking_id, click_id, kind (click|impression), status, code, fault (any|status|delay|reset|close), since, limit (default 100, at most 1,000; follow `next` for more), and for wait count and timeout_ms",
        e.body_text()
    );
    problem(
        StatusCode::BAD_REQUEST,
        "bad-filter",
        "Bad journal filter",
        &detail,
        &[],
        None,
    )
}

/// Lets a request through only with the configured bearer token.
pub(crate) async fn require_token(
    State(state): State<SharedState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let want = state.admin_token().unwrap_or_default();
    let given = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| bearer(v.as_bytes()))
        .unwrap_or_default();
    if !want.is_empty() && same(given, want.as_bytes()) {
        return next.run(req).await;
    }
    let mut r = problem(
        StatusCode::UNAUTHORIZED,
        "admin-token",
        "Admin token required",
        "the admin API and /metrics need Authorization: Bearer <the token given with --admin-token or METRICA_S2S_ADMIN_TOKEN>",
        &[],
        None,
    );
    r.headers_mut().insert(
        axum::http::header::WWW_AUTHENTICATE,
        axum::http::HeaderValue::from_static("Bearer"),
    );
    r
}

/// The credentials of an `Authorization: Bearer` header; the scheme is case-insensitive
/// (RFC 9110 §11.1), as are the spaces after it.
fn bearer(header: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = header.split_at(header.iter().position(|b| *b == b' ')?);
    // `OAuth <token>` too, as AppMetrica's Logs API is called.
    (scheme.eq_ignore_ascii_case(b"bearer") || scheme.eq_ignore_ascii_case(b"oauth"))
        .then(|| rest.trim_ascii())
}

/// Comparison whose time depends neither on where the first difference is nor on the token's
/// length: both sides are hashed to 32 bytes first.
fn same(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// `GET /metrics`: Prometheus text format.
pub(crate) async fn metrics(State(state): State<SharedState>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics_text(),
    )
        .into_response()
}

/// The admin API on a non-loopback listener without a token.
pub(crate) async fn disabled() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "admin-disabled",
        "Admin API disabled on this listener",
        "this listener is not on a loopback address and no admin token is set; use a loopback listener, or start the mock with --admin-token (or METRICA_S2S_ADMIN_TOKEN) and send Authorization: Bearer <token>",
        &[],
        None,
    )
}
