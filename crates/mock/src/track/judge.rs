//! Judging one `/serve/` request: the rules, then the click-id memory, then the status
//! AppMetrica's answer (or the mock's strict one) would have.

use crate::clickids::{Sighting, Ticket};
use crate::state::SharedState;
use crate::trackers::Mode;
use axum::http::{Method, StatusCode};
use metrica_s2s_rules::{
    calendar, parse_input, percent_decode, platform_of, Code, Context, Diagnostic, Draft, Kind,
    Request as Target, Validator,
};
use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    static VALIDATOR: RefCell<Validator> =
        RefCell::new(Validator::new(metrica_s2s_rules::Settings::default().ua_cache_entries));
}

/// What judging a request decided.
pub(super) struct Judged {
    pub status: StatusCode,
    /// The redirect target of a 302.
    pub location: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// A click id seen for the first time, waiting for its journal sequence number.
    pub first_click: Option<Ticket>,
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
pub(super) fn judge(
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
    let trackers = |id: u64| state.trackers().status(id);
    let mut ctx = Context::new(now, state.settings());
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
    let status = match (state.mode(), has_error) {
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
    let seen = match state.click_ids().check(tracker, click_id, now) {
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
        .and_then(|ua| platform_of(&String::from_utf8_lossy(&ua)));
    let id = req.tracking_number();
    let store = state.trackers().store_url(id, device);
    let sep = if store.contains('?') { '&' } else { '?' };
    let unique = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let tid = id.map_or_else(|| "0".to_owned(), |i| i.to_string());
    format!("{store}{sep}referrer=appmetrica_tracking_id%3D{tid}%26ym_tracking_id%3D{unique}")
}
