//! `/serve/<tracking id>`: judge, remember, answer as AppMetrica would.
//!
//! The clean path does the least work it can: one parse, one validation (thread-local UA
//! cache), a journal append of the raw target, two counter increments. Messages are only
//! rendered when a rule fires, and parameters are only decoded for the journal when read.

mod headers;
mod judge;
mod respond;

use crate::fault::{Applied, FaultKind};
use crate::state::SharedState;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::Method;
use axum::response::Response;
use headers::{text, Headers};
use judge::{judge, Judged};
use metrica_s2s_rules::{kind_for_host, Kind};
use respond::{fault_answer, respond, target_too_long, MAX_TARGET_BYTES};
use std::borrow::Cow;
use std::net::SocketAddr;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

pub(crate) use respond::duplicate_host;

/// Which listener took a request: its kind unless the Host header names a real host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ListenerKind(pub Kind);

/// The peer of the connection a request came on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RemoteAddr(pub SocketAddr);

/// The router's fallback: the same answer as [`answer`], for routers built by [`crate::app`]
/// (in-process tests, embedding). The server calls [`answer`] directly for `/serve/`. Here a
/// delay fault waits; reset and close faults need the connection, which only the server has:
/// the answer goes out instead.
pub(crate) async fn track(State(state): State<SharedState>, req: Request) -> Response {
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
    pub(crate) response: Response,
    pub(crate) then: Option<Break>,
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
    let fault = state.faults().pick(
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
    let m = state.metrics();
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
    let seq = state.journal().record(crate::journal::Record {
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
        state.click_ids().confirm(ticket, seq);
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

fn method_name(method: &Method) -> Cow<'static, str> {
    match *method {
        Method::GET => Cow::Borrowed("GET"),
        Method::HEAD => Cow::Borrowed("HEAD"),
        Method::POST => Cow::Borrowed("POST"),
        _ => Cow::Owned(method.as_str().to_owned()),
    }
}
