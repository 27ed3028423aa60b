//! The admin API under `/__admin/`: health, the journal, and waiting for requests; postbacks
//! in their own module.

mod body;
pub mod faults;
pub mod postbacks;

use crate::journal::Filter;
use crate::problem::problem;
use crate::SharedState;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
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

pub async fn health(State(state): State<SharedState>) -> Response {
    Json(json!({
        "status": "ok",
        "mode": state.mode.as_str(),
        "journal": {
            "entries": state.journal.len(),
            "capacity": state.journal.capacity(),
            "dropped": state.journal.dropped(),
            "next_seq": state.journal.next_seq(),
        },
        "trackers": state.trackers.len(),
    }))
    .into_response()
}

pub async fn list(
    State(state): State<SharedState>,
    filter: Result<Query<Filter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(f)) => Json(state.journal.query(&f)).into_response(),
        Err(e) => bad_filter(&e),
    }
}

pub async fn one(State(state): State<SharedState>, Path(seq): Path<String>) -> Response {
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
    match state.journal.get(seq) {
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

pub async fn reset(State(state): State<SharedState>) -> Response {
    let cleared = state.journal.reset();
    Json(json!({ "cleared": cleared })).into_response()
}

/// Answers as soon as `count` matching entries exist, or at the timeout with what there is.
pub async fn wait(
    State(state): State<SharedState>,
    filter: Result<Query<Filter>, QueryRejection>,
) -> Response {
    let f = match filter {
        Ok(Query(f)) => f,
        Err(e) => return bad_filter(&e),
    };
    let want = f.count.unwrap_or(1);
    let timeout = wait_limit(f.timeout_ms);
    Json(state.journal.wait(&f, want, timeout).await).into_response()
}

fn bad_filter(e: &QueryRejection) -> Response {
    let detail = format!(
        "{}; filters are tracking_id, click_id, kind (click|impression), status, code, fault (any|status|delay|reset|close), since, limit, and for wait count and timeout_ms",
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
pub async fn require_token(
    State(state): State<SharedState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let want = state.admin_token.as_deref().unwrap_or_default();
    let given = req
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !want.is_empty() && same(given.as_bytes(), want.as_bytes()) {
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

/// Comparison whose time does not depend on where the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The admin API on a non-loopback listener without a token.
pub async fn disabled() -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "admin-disabled",
        "Admin API disabled on this listener",
        "this listener is not on a loopback address and no admin token is set; use a loopback listener, or start the mock with --admin-token (or METRICA_S2S_ADMIN_TOKEN) and send Authorization: Bearer <token>",
        &[],
        None,
    )
}
