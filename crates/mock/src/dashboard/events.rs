//! `GET /__admin/events`: one server-sent event per journal entry as it is recorded, resumable
//! with `Last-Event-ID`, and one per change to a postback delivery.
//!
//! The stream pulls from the journal only when hyper asks for more, that is when the client
//! has read what it was sent: a slow client holds at most one batch, never slows the request
//! path (which only bumps a `watch` value, and only while someone listens), and when it falls
//! further behind than the journal keeps, it is told how many entries it missed.

use crate::journal::Entry;
use crate::state::SharedState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream};
use metrica_s2s_rules::{excerpt, Excerpt, CONTEXT_AFTER, CONTEXT_BEFORE};
use serde::Serialize;
use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

/// Entries a new page is sent first, without `Last-Event-ID`.
const BACKLOG: u64 = 200;
/// Entries read from the journal at a time.
const BATCH: usize = 64;

/// One event's data: the entry, and for each of its diagnostics the escaped excerpt of the
/// target with the offending bytes marked (as `lint` marks them), when the rule points at any.
#[derive(Serialize)]
struct Payload<'a> {
    entry: &'a Entry,
    excerpts: Vec<Option<Excerpt>>,
}

fn request_event(e: &Entry) -> Event {
    let excerpts = e
        .diagnostics
        .iter()
        .map(|d| {
            d.span
                .map(|span| excerpt(e.target.as_bytes(), span, CONTEXT_BEFORE, CONTEXT_AFTER))
        })
        .collect();
    let data = serde_json::to_string(&Payload { entry: e, excerpts }).unwrap_or_default();
    Event::default()
        .event("request")
        .id(e.seq.to_string())
        .data(data)
}

struct Follow {
    state: SharedState,
    changes: tokio::sync::watch::Receiver<u64>,
    next: u64,
    /// Postback deliveries: their changes, and the last change sent.
    postbacks: tokio::sync::watch::Receiver<u64>,
    postbacks_seen: u64,
    ready: VecDeque<Event>,
}

pub(crate) async fn events(State(state): State<SharedState>, headers: HeaderMap) -> Response {
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    // Subscribed before the first read: an entry recorded in between wakes the stream.
    let changes = state.journal().subscribe();
    let postbacks = state.postbacks().deliveries().subscribe();
    // The latest postback changes first, as for requests: a bounded backlog.
    let postbacks_seen = postbacks.borrow().saturating_sub(BATCH as u64);
    let next = match resume {
        Some(seen) => seen + 1,
        None => state.journal().next_seq().saturating_sub(BACKLOG).max(1),
    };
    let follow = Follow {
        state,
        changes,
        next,
        postbacks,
        postbacks_seen,
        ready: VecDeque::new(),
    };
    Sse::new(stream_of(follow))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response()
}

fn stream_of(follow: Follow) -> impl Stream<Item = Result<Event, Infallible>> {
    stream::unfold(follow, |mut f| async move {
        loop {
            if let Some(e) = f.ready.pop_front() {
                return Some((Ok(e), f));
            }
            f.changes.borrow_and_update();
            f.postbacks.borrow_and_update();
            let (changed, upto, missed) = f
                .state
                .postbacks()
                .deliveries()
                .changed_since(f.postbacks_seen, BATCH);
            f.postbacks_seen = upto;
            if missed > 0 {
                let data = format!(r#"{{"missed_postback_changes": {missed}}}"#);
                f.ready.push_back(Event::default().event("gap").data(data));
            }
            f.ready.extend(changed.iter().map(|d| {
                Event::default()
                    .event("postback")
                    .data(serde_json::to_string(d).unwrap_or_default())
            }));
            let batch = f.state.journal().since(f.next, BATCH);
            if let Some(first) = batch.first() {
                if first.seq > f.next {
                    let data = format!(r#"{{"missed": {}}}"#, first.seq - f.next);
                    f.ready.push_back(Event::default().event("gap").data(data));
                }
                f.ready.extend(batch.iter().map(|e| request_event(e)));
                f.next = batch.last().map_or(f.next, |e| e.seq + 1);
                continue;
            }
            if !f.ready.is_empty() {
                continue;
            }
            tokio::select! {
                changed = f.changes.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                changed = f.postbacks.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                () = f.state.closing() => return None,
            }
        }
    })
}
