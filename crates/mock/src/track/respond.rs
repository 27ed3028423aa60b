//! The answers the click path sends: 204, the store redirect, problem+json, a fault's status.

use crate::fault::Applied;
use crate::problem::problem;
use axum::http::header::LOCATION;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use metrica_s2s_rules::Diagnostic;

/// Longest request target the mock reads (path and query).
pub(crate) const MAX_TARGET_BYTES: usize = 16 * 1024;

/// A status fault's answer: the status, `Retry-After` when asked, and a line saying so.
pub(super) fn fault_answer(f: &Applied) -> Response {
    let status =
        StatusCode::from_u16(f.status().unwrap_or(503)).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let text = format!("metrica-s2s fault {}: status {}\n", f.id, status.as_u16());
    let mut r = (status, text).into_response();
    if let Some(secs) = f.retry_after {
        r.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
    }
    r
}

/// The answer to a request with two Host headers, which RFC 9112 (section 3.2) requires.
pub(crate) fn duplicate_host() -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        "duplicate-host",
        "More than one Host header",
        "the request has two Host headers; HTTP/1.1 (RFC 9112, section 3.2) requires exactly one, and servers must answer 400: fix the client or proxy that adds the second",
        &[],
        None,
    )
}

/// 414 for a target longer than the mock reads.
pub(super) fn target_too_long(len: usize) -> Response {
    let detail = format!(
        "the request target is {len} bytes; the mock reads at most {MAX_TARGET_BYTES}. A tracking URL this long usually carries a runaway parameter"
    );
    problem(
        StatusCode::URI_TOO_LONG,
        "target-too-long",
        "Request target too long",
        &detail,
        &[],
        None,
    )
}

pub(super) fn respond(
    status: StatusCode,
    location: Option<String>,
    seq: u64,
    d: &[Diagnostic],
) -> Response {
    match status {
        StatusCode::NO_CONTENT => StatusCode::NO_CONTENT.into_response(),
        StatusCode::FOUND => {
            let mut r = StatusCode::FOUND.into_response();
            if let Some(v) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
                r.headers_mut().insert(LOCATION, v);
            }
            r
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            let mut r = problem(
                status,
                "method-not-allowed",
                "Method not allowed",
                "the S2S endpoints answer GET only",
                d,
                Some(seq),
            );
            r.headers_mut()
                .insert("allow", HeaderValue::from_static("GET"));
            r
        }
        StatusCode::NOT_FOUND => {
            let detail = summary(d);
            problem(
                status,
                "not-found",
                "No such tracker or endpoint",
                &detail,
                d,
                Some(seq),
            )
        }
        _ => {
            let detail = summary(d);
            problem(
                status,
                "rule-violation",
                "The request breaks AppMetrica's S2S rules",
                &detail,
                d,
                Some(seq),
            )
        }
    }
}

/// `2 errors: ip-with-port, timestamp-too-old`.
fn summary(d: &[Diagnostic]) -> String {
    let errors: Vec<&str> = d
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.code.as_str())
        .collect();
    format!("{} error(s): {}", errors.len(), errors.join(", "))
}
