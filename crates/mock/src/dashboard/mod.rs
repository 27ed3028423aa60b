//! The dashboard: a live page of arriving requests at `/` and `/__admin/ui`, fed by
//! `/__admin/events`. Everything it needs is embedded in the binary; the page runs under a CSP
//! of `default-src 'self'` with no inline script, and puts every value in as text.
//!
//! The page and its assets hold no data, so on a mock with an admin token they load without
//! it; the data (events, rules, journal) needs the token, which the page asks for once and
//! sends as a header.

mod events;

pub(crate) use events::events;

use crate::admin::segment::Segment;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use metrica_s2s_rules::Code;

const PAGE: &str = include_str!("assets/index.html");
const SCRIPT: &str = include_str!("assets/app.js");
const STYLE: &str = include_str!("assets/app.css");

const CSP: &str = "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'";

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CSP),
    );
    h.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

pub(crate) async fn page() -> Response {
    asset(PAGE, "text/html; charset=utf-8")
}

pub(crate) async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

pub(crate) async fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}

pub(crate) async fn no_icon() -> StatusCode {
    StatusCode::NO_CONTENT
}

/// `GET /__admin/rules/<code>`: what `metrica-s2s explain CODE` prints.
pub(crate) async fn rule(Segment(code): Segment) -> Response {
    match Code::from_name(&code) {
        Some(c) => (
            [(CONTENT_TYPE, "text/plain; charset=utf-8")],
            metrica_s2s_rules::docs::explain(c),
        )
            .into_response(),
        None => crate::problem::problem(
            StatusCode::NOT_FOUND,
            "no-rule",
            "No such rule",
            &format!(
                "{} is not a diagnostic code (docs/rules.md lists them)",
                metrica_s2s_rules::quote_str(&code)
            ),
            &[],
            None,
        ),
    }
}
