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
    /// The request field that is wrong, for answers to JSON bodies.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    diagnostics: &'a [Diagnostic],
}

/// A problem+json response. `kind` is the stable last part of the problem type URI.
pub(crate) fn problem(
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
        field: None,
        diagnostics,
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    (status, [(CONTENT_TYPE, "application/problem+json")], json).into_response()
}

/// A 400 problem+json naming the request field that is wrong.
pub(crate) fn bad_field(kind: &str, title: &str, field: &str, detail: &str) -> Response {
    let r#type = format!("https://metrica-s2s.invalid/problems/{kind}");
    let body = Problem {
        r#type: &r#type,
        title,
        status: 400,
        detail,
        seq: None,
        field: Some(field),
        diagnostics: &[],
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    (
        StatusCode::BAD_REQUEST,
        [(CONTENT_TYPE, "application/problem+json")],
        json,
    )
        .into_response()
}
