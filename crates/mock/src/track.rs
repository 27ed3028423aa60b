//! `/serve/<tracking id>`: judge, remember, answer as AppMetrica would.
//!
//! The clean path does the least work it can: one parse, one validation (thread-local UA
//! cache), a journal append of the raw target, two counter increments. Messages are only
//! rendered when a rule fires, and parameters are only decoded for the journal when read.

use crate::problem::problem;
use crate::server::{ListenerKind, RemoteAddr};
use crate::{Mode, SharedState};
use axum::extract::{Request, State};
use axum::http::header::{HOST, LOCATION, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use metrica_s2s_rules::{
    clock, kind_for_host, parse_input, percent_decode, Code, Context, Diagnostic, Draft, Kind,
    Request as Target, Validator,
};
use std::borrow::Cow;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static X_FORWARDED_FOR: axum::http::HeaderName =
    axum::http::HeaderName::from_static("x-forwarded-for");

thread_local! {
    static VALIDATOR: RefCell<Validator> =
        RefCell::new(Validator::new(metrica_s2s_rules::Settings::default().ua_cache_entries));
}

/// The router's fallback: the same answer as [`answer`], for routers built by [`crate::app`]
/// (in-process tests, embedding). The server calls [`answer`] directly for `/serve/`.
pub async fn track(State(state): State<SharedState>, req: Request) -> Response {
    let (parts, _body) = req.into_parts();
    let listener = parts
        .extensions
        .get::<ListenerKind>()
        .map_or(Kind::Click, |k| k.0);
    let peer = parts.extensions.get::<RemoteAddr>().map(|r| r.0);
    answer(&state, listener, peer, &parts)
}

/// Judges, records and answers one request that came in on a `listener` of this kind.
pub(crate) fn answer(
    state: &SharedState,
    listener: Kind,
    peer: Option<SocketAddr>,
    parts: &Parts,
) -> Response {
    let started = Instant::now();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let headers = Headers::of(&parts.headers);
    let host = parts
        .uri
        .authority()
        .map(|a| Cow::Borrowed(a.as_str()))
        .or_else(|| headers.host.map(text));
    let kind = host
        .as_deref()
        .and_then(|h| kind_for_host(h.as_bytes()))
        .unwrap_or(listener);
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    if target.len() > crate::problem::MAX_TARGET_BYTES {
        return crate::problem::target_too_long(target.len());
    }

    let (status, location, diagnostics) = judge(state, &parts.method, target, kind, now_ms / 1000);
    let m = &state.metrics;
    m.count_request(kind, status.as_u16());
    for d in &diagnostics {
        m.diagnostics
            .get_or_create(&crate::metrics::CodeLabels {
                code: d.code.as_str(),
                severity: d.severity.as_str(),
            })
            .inc();
    }
    // Problem answers list the diagnostics, which the journal keeps: copy them for those only.
    let problem = status.is_client_error();
    let shown = if problem {
        diagnostics.clone()
    } else {
        Vec::new()
    };
    let seq = state.journal.record(crate::Record {
        received_at_ms: now_ms,
        kind,
        method: method_name(&parts.method),
        host: host.as_deref(),
        target,
        remote_addr: peer,
        user_agent: headers.user_agent.map(text).as_deref(),
        forwarded_for: headers.forwarded_for.map(text).as_deref(),
        status: status.as_u16(),
        diagnostics,
    });
    if problem {
        // Debug formatting escapes control characters: the target is the client's text.
        let codes: Vec<&str> = shown.iter().map(|d| d.code.as_str()).collect();
        tracing::info!(seq, %kind, status = status.as_u16(), codes = ?codes, target = ?target, "rejected");
    } else {
        tracing::debug!(seq, %kind, status = status.as_u16(), "answered");
    }
    let response = respond(status, location, seq, &shown);
    m.latency.observe(started.elapsed().as_secs_f64());
    response
}

/// The status, the redirect target for a 302, and the diagnostics.
fn judge(
    state: &SharedState,
    method: &Method,
    target: &str,
    kind: Kind,
    now: u64,
) -> (StatusCode, Option<String>, Vec<Diagnostic>) {
    let req = match parse_input(target.as_bytes()) {
        Ok(r) => r,
        Err(d) => return (StatusCode::BAD_REQUEST, None, vec![d]),
    };
    let Some(tracker) = req.tracking_id().map(|id| req.bytes(id)) else {
        let d = Draft::new(Code::UnknownEndpoint)
            .value(req.bytes(req.path))
            .finish();
        return (StatusCode::NOT_FOUND, None, vec![d]);
    };
    if method != Method::GET {
        let d = Draft::new(Code::MethodNotAllowed)
            .value(method.as_str().as_bytes())
            .finish();
        return (StatusCode::METHOD_NOT_ALLOWED, None, vec![d]);
    }
    let trackers = |id: u64| state.trackers.status(id);
    let mut ctx = Context::new(now, &state.settings);
    ctx.kind = Some(kind);
    ctx.trackers = Some(&trackers);
    let mut diagnostics = VALIDATOR.with(|v| v.borrow_mut().validate(&req, &ctx));
    let has_error = diagnostics.iter().any(Diagnostic::is_error);
    if !has_error {
        if let Some(d) = duplicate_click(state, &req, tracker, now) {
            diagnostics.push(d);
        }
    }
    let unknown_tracker = diagnostics
        .iter()
        .any(|d| d.code == Code::TrackingIdUnknown);
    let status = match (state.mode, has_error) {
        (Mode::Strict, true) if unknown_tracker => StatusCode::NOT_FOUND,
        (Mode::Strict, true) => StatusCode::BAD_REQUEST,
        _ if noredirect_zero(&req) => StatusCode::FOUND,
        _ => StatusCode::NO_CONTENT,
    };
    let location = (status == StatusCode::FOUND).then(|| store_redirect(state, &req));
    (status, location, diagnostics)
}

fn param<'a>(req: &'a Target<'_>, name: &str) -> Option<std::borrow::Cow<'a, [u8]>> {
    let p = req
        .params
        .iter()
        .find(|p| req.bytes(p.key) == name.as_bytes())?;
    Some(percent_decode(req.bytes(p.value?), true).bytes)
}

fn noredirect_zero(req: &Target<'_>) -> bool {
    param(req, "noredirect").is_some_and(|v| v.as_ref() == b"0")
}

fn duplicate_click(
    state: &SharedState,
    req: &Target<'_>,
    tracker: &[u8],
    now: u64,
) -> Option<Diagnostic> {
    let click_id = param(req, "click_id").filter(|c| !c.is_empty())?;
    let next_seq = state.journal.next_seq();
    let seen = state.clicks.check(tracker, &click_id, now, next_seq)?;
    let tracker = String::from_utf8_lossy(tracker);
    Some(
        Draft::new(Code::ClickIdDuplicate)
            .value(&click_id)
            .arg("tracking_id", tracker)
            .arg("ago", clock::format_duration(now.saturating_sub(seen.at)))
            .arg("first_seq", seen.seq.to_string())
            .finish(),
    )
}

/// The store URL with AppMetrica's referrer appended.
fn store_redirect(state: &SharedState, req: &Target<'_>) -> String {
    let device = param(req, "device_ua").and_then(|ua| {
        metrica_s2s_rules::UaClassifier::new(0)
            .classify(&String::from_utf8_lossy(&ua))
            .platform
    });
    let id = req.tracking_number();
    let store = state.trackers.store_url(id, device);
    let sep = if store.contains('?') { '&' } else { '?' };
    let unique = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let tid = id.map_or_else(|| "0".to_owned(), |i| i.to_string());
    format!("{store}{sep}referrer=appmetrica_tracking_id%3D{tid}%26ym_tracking_id%3D{unique}")
}

fn respond(status: StatusCode, location: Option<String>, seq: u64, d: &[Diagnostic]) -> Response {
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

fn method_name(method: &Method) -> Cow<'static, str> {
    match *method {
        Method::GET => Cow::Borrowed("GET"),
        Method::HEAD => Cow::Borrowed("HEAD"),
        Method::POST => Cow::Borrowed("POST"),
        _ => Cow::Owned(method.as_str().to_owned()),
    }
}

/// The headers the journal keeps, found in one pass: a request carries a handful of headers,
/// and a scan compares names by their standard-header tag, where each `get` would hash.
#[derive(Default)]
struct Headers<'a> {
    host: Option<&'a HeaderValue>,
    user_agent: Option<&'a HeaderValue>,
    forwarded_for: Option<&'a HeaderValue>,
}

impl<'a> Headers<'a> {
    /// The first value of each, as `HeaderMap::get` gives it.
    fn of(map: &'a HeaderMap) -> Headers<'a> {
        let mut found = Headers::default();
        for (name, value) in map {
            let slot = if name == HOST {
                &mut found.host
            } else if name == USER_AGENT {
                &mut found.user_agent
            } else if name == X_FORWARDED_FOR {
                &mut found.forwarded_for
            } else {
                continue;
            };
            slot.get_or_insert(value);
        }
        found
    }
}

/// A header as text; non-UTF-8 bytes are kept as replacement characters, never dropped.
fn text(value: &HeaderValue) -> Cow<'_, str> {
    match value.to_str() {
        Ok(visible) => Cow::Borrowed(visible),
        Err(_) => String::from_utf8_lossy(value.as_bytes()),
    }
}
