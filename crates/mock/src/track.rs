//! `/serve/<tracking id>`: judge, remember, answer as AppMetrica would.
//!
//! The clean path does the least work it can: one parse, one validation (thread-local UA
//! cache), a journal append of the raw target, two counter increments. Messages are only
//! rendered when a rule fires, and parameters are only decoded for the journal when read.

use crate::clickids::{Sighting, Ticket};
use crate::fault::{Applied, FaultKind};
use crate::problem::problem;
use crate::{Mode, SharedState};
use axum::extract::{Request, State};
use axum::http::header::{HOST, LOCATION, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use metrica_s2s_rules::{
    calendar, classify_ua, kind_for_host, parse_input, percent_decode, Code, Context, Diagnostic,
    Draft, Kind, Request as Target, Validator,
};
use std::borrow::Cow;
use std::cell::RefCell;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

static X_FORWARDED_FOR: axum::http::HeaderName =
    axum::http::HeaderName::from_static("x-forwarded-for");

/// Longest request target the mock reads (path and query).
pub const MAX_TARGET_BYTES: usize = 16 * 1024;

/// Which listener took a request: its kind unless the Host header names a real host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenerKind(pub Kind);

/// The peer of the connection a request came on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

thread_local! {
    static VALIDATOR: RefCell<Validator> =
        RefCell::new(Validator::new(metrica_s2s_rules::Settings::default().ua_cache_entries));
}

/// The router's fallback: the same answer as [`answer`], for routers built by [`crate::app`]
/// (in-process tests, embedding). The server calls [`answer`] directly for `/serve/`. Here a
/// delay fault waits; reset and close faults need the connection, which only the server has:
/// the answer goes out instead.
pub async fn track(State(state): State<SharedState>, req: Request) -> Response {
    let (parts, _body) = req.into_parts();
    let listener = parts
        .extensions
        .get::<ListenerKind>()
        .map_or(Kind::Click, |k| k.0);
    let peer = parts.extensions.get::<RemoteAddr>().map(|r| r.0);
    let answered = answer(&state, listener, peer, &parts);
    if let Some(Break::Delay(d)) = answered.then {
        tokio::time::sleep(d).await;
    }
    answered.response
}

/// An answer, and what a fault wants done with it.
pub(crate) struct Answered {
    pub response: Response,
    pub then: Option<Break>,
}

/// What a fault does instead of answering at once.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Break {
    Delay(std::time::Duration),
    Reset,
    Close,
}

impl From<Response> for Answered {
    fn from(response: Response) -> Answered {
        Answered {
            response,
            then: None,
        }
    }
}

/// Judges, records and answers one request that came in on a `listener` of this kind.
pub(crate) fn answer(
    state: &SharedState,
    listener: Kind,
    peer: Option<SocketAddr>,
    parts: &Parts,
) -> Answered {
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
    if target.len() > MAX_TARGET_BYTES {
        return target_too_long(target.len()).into();
    }
    if headers.hosts > 1 {
        return duplicate_host().into();
    }
    let fault = state.faults.pick(
        || {
            let path = target.split(['?', '#']).next().unwrap_or_default();
            metrica_s2s_rules::tracking_segment(path.as_bytes())
        },
        kind,
    );
    // A faulted request never reached AppMetrica: its retry must not be a duplicate.
    let answered = fault.as_ref().is_none_or(|f| f.fault == FaultKind::Delay);

    let Judged {
        status,
        location,
        diagnostics,
        first_click,
    } = judge(state, &parts.method, target, kind, now_ms / 1000, answered);
    let then = fault.as_ref().and_then(|f| match f.fault {
        FaultKind::Status => None,
        FaultKind::Delay => f.delay().map(Break::Delay),
        FaultKind::Reset => Some(Break::Reset),
        FaultKind::Close => Some(Break::Close),
    });
    // What the client gets: the fault's status, nothing at all (0) for a reset or close.
    let status_sent = match then {
        Some(Break::Reset | Break::Close) => 0,
        _ => fault
            .as_ref()
            .and_then(Applied::status)
            .unwrap_or(status.as_u16()),
    };
    let fault_response = fault
        .as_ref()
        .filter(|f| f.fault == FaultKind::Status)
        .map(fault_answer);
    let m = &state.metrics;
    m.count_request(kind, status_sent);
    if let Some(f) = &fault {
        m.count_fault(f.fault);
    }
    for d in &diagnostics {
        m.diagnostics
            .get_or_create(&crate::metrics::CodeLabels {
                code: d.code.as_str(),
                severity: d.severity.as_str(),
            })
            .inc();
    }
    // Problem answers list the diagnostics, which the journal keeps: copy them for those only.
    let problem = status.is_client_error() && status_sent == status.as_u16();
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
        status: status_sent,
        diagnostics,
        fault: fault.map(Box::new),
    });
    if let Some(ticket) = first_click {
        state.clicks.confirm(ticket, seq);
    }
    if problem {
        // Debug formatting escapes control characters: the target is the client's text.
        let codes: Vec<&str> = shown.iter().map(|d| d.code.as_str()).collect();
        tracing::info!(seq, %kind, status = status.as_u16(), codes = ?codes, target = ?target, "rejected");
    } else {
        tracing::debug!(seq, %kind, status = status.as_u16(), "answered");
    }
    let response = fault_response.unwrap_or_else(|| respond(status, location, seq, &shown));
    m.latency.observe(started.elapsed().as_secs_f64());
    Answered { response, then }
}

/// A status fault's answer: the status, `Retry-After` when asked, and a line saying so.
fn fault_answer(f: &Applied) -> Response {
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

/// What judging a request decided.
struct Judged {
    status: StatusCode,
    /// The redirect target of a 302.
    location: Option<String>,
    diagnostics: Vec<Diagnostic>,
    /// A click id seen for the first time, waiting for its journal sequence number.
    first_click: Option<Ticket>,
}

impl Judged {
    fn refused(status: StatusCode, d: Diagnostic) -> Judged {
        Judged {
            status,
            location: None,
            diagnostics: vec![d],
            first_click: None,
        }
    }
}

/// `remember` is false for a request that will get no real answer (a fault): its click id is
/// then not remembered, so the retry is not a duplicate.
fn judge(
    state: &SharedState,
    method: &Method,
    target: &str,
    kind: Kind,
    now: u64,
    remember: bool,
) -> Judged {
    let req = match parse_input(target.as_bytes()) {
        Ok(r) => r,
        Err(d) => return Judged::refused(StatusCode::BAD_REQUEST, d),
    };
    let Some(tracker) = req.tracking_id().map(|id| req.bytes(id)) else {
        let d = Draft::new(Code::UnknownEndpoint)
            .value(req.bytes(req.path))
            .finish();
        return Judged::refused(StatusCode::NOT_FOUND, d);
    };
    if method != Method::GET {
        let d = Draft::new(Code::MethodNotAllowed)
            .value(method.as_str().as_bytes())
            .finish();
        return Judged::refused(StatusCode::METHOD_NOT_ALLOWED, d);
    }
    let trackers = |id: u64| state.trackers.status(id);
    let mut ctx = Context::new(now, &state.settings);
    ctx.kind = Some(kind);
    ctx.trackers = Some(&trackers);
    let (mut diagnostics, facts) = VALIDATOR.with(|v| v.borrow_mut().judge(&req, &ctx));
    let has_error = diagnostics.iter().any(Diagnostic::is_error);
    let mut first_click = None;
    if !has_error && remember {
        let click_id = facts
            .click_id
            .map(|span| percent_decode(req.bytes(span), true).bytes);
        match duplicate_click(state, click_id.as_deref(), tracker, now) {
            Some(Ok(d)) => diagnostics.push(d),
            Some(Err(ticket)) => first_click = Some(ticket),
            None => {}
        }
    }
    let unknown_tracker = diagnostics
        .iter()
        .any(|d| d.code == Code::TrackingIdUnknown);
    let status = match (state.mode, has_error) {
        (Mode::Strict, true) if unknown_tracker => StatusCode::NOT_FOUND,
        (Mode::Strict, true) => StatusCode::BAD_REQUEST,
        _ if facts.noredirect_zero => StatusCode::FOUND,
        _ => StatusCode::NO_CONTENT,
    };
    let location = (status == StatusCode::FOUND).then(|| store_redirect(state, &req));
    Judged {
        status,
        location,
        diagnostics,
        first_click,
    }
}

/// `click-id-duplicate` for a click id seen before; for a new one, the ticket that records
/// its sequence number once the request is journaled.
fn duplicate_click(
    state: &SharedState,
    click_id: Option<&[u8]>,
    tracker: &[u8],
    now: u64,
) -> Option<Result<Diagnostic, Ticket>> {
    let click_id = click_id.filter(|c| !c.is_empty())?;
    let seen = match state.clicks.check(tracker, click_id, now) {
        Sighting::Repeat(seen) => seen,
        Sighting::First(ticket) => return Some(Err(ticket)),
    };
    let first = match seen.seq {
        Some(seq) => format!("request #{seq}"),
        None => "by a request still being recorded".to_owned(),
    };
    let tracker = String::from_utf8_lossy(tracker);
    Some(Ok(Draft::new(Code::ClickIdDuplicate)
        .value(click_id)
        .arg("tracking_id", tracker)
        .arg(
            "ago",
            calendar::format_duration(now.saturating_sub(seen.at)),
        )
        .arg("first", first)
        .finish()))
}

/// The store URL with AppMetrica's referrer appended.
fn store_redirect(state: &SharedState, req: &Target<'_>) -> String {
    let device = req
        .value("device_ua")
        .and_then(|ua| classify_ua(&String::from_utf8_lossy(&ua)).platform);
    let id = req.tracking_number();
    let store = state.trackers.store_url(id, device);
    let sep = if store.contains('?') { '&' } else { '?' };
    let unique = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let tid = id.map_or_else(|| "0".to_owned(), |i| i.to_string());
    format!("{store}{sep}referrer=appmetrica_tracking_id%3D{tid}%26ym_tracking_id%3D{unique}")
}

/// 414 for a target longer than the mock reads.
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

fn target_too_long(len: usize) -> Response {
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
    /// Host headers sent: more than one is a bad request.
    hosts: u8,
    user_agent: Option<&'a HeaderValue>,
    forwarded_for: Option<&'a HeaderValue>,
}

impl<'a> Headers<'a> {
    /// The first value of each, as `HeaderMap::get` gives it.
    fn of(map: &'a HeaderMap) -> Headers<'a> {
        let mut found = Headers::default();
        for (name, value) in map {
            let slot = if name == HOST {
                found.hosts = found.hosts.saturating_add(1);
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
