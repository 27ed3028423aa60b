//! RFC 9457 problem+json answers.

use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use metrica_s2s_rules::Diagnostic;
use serde::Serialize;

#[derive(Serialize)]
struct Problem<'a> {
    r#type: &'a str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
    diagnostics: &'a [Diagnostic],
}

/// A problem+json response. `kind` is the stable last part of the problem type URI.
pub fn problem(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: &str,
    diagnostics: &[Diagnostic],
    seq: Option<u64>,
) -> Response {
    let r#type = format!("https://metrica-s2s.invalid/problems/{kind}");
    let body = Problem {
        r#type: &r#type,
        title,
        status: status.as_u16(),
        detail,
        seq,
        diagnostics,
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    (status, [(CONTENT_TYPE, "application/problem+json")], json).into_response()
}
