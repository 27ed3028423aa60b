//! A local mock of AppMetrica's S2S endpoints.
//!
//! Every request to `/serve/<tracking id>` is judged by the shared rule engine, answered as
//! AppMetrica would (204, or 302 for `noredirect=0`; 400 problem+json in strict mode when a rule
//! of error severity fires), and kept in a bounded, queryable [`Journal`]. The admin API under
//! `/__admin/` reads the journal; `/metrics` exposes Prometheus counters.
//!
//! [`app`] builds the router over a [`State`]; [`serve`] runs it on two listeners until a
//! shutdown future resolves, so tests bind port 0 and stop the server themselves.

mod admin;
mod clickids;
mod config;
mod journal;
mod metrics;
mod problem;
mod server;
mod track;

pub use config::{ConfigError, Mode, Tracker, TrackerPlatform, Trackers};
pub use journal::{Entry, Filter, Journal};
pub use metrics::Metrics;
pub use server::{serve, Limits, ListenerKind, Listeners, RemoteAddr};

use axum::routing::get;
use axum::Router;
use metrica_s2s_rules::Settings;
use std::sync::{Arc, Mutex};

/// Everything the handlers share.
#[derive(Debug)]
pub struct State {
    pub mode: Mode,
    pub trackers: Trackers,
    pub settings: Settings,
    pub journal: Journal,
    pub metrics: Metrics,
    clicks: Mutex<clickids::ClickIds>,
}

pub type SharedState = Arc<State>;

impl State {
    pub fn new(mode: Mode, trackers: Trackers, journal: Journal) -> State {
        State {
            mode,
            trackers,
            settings: Settings::default(),
            journal,
            metrics: Metrics::new(),
            clicks: Mutex::new(clickids::ClickIds::new(clickids::DEFAULT_CAPACITY)),
        }
    }
}

/// The mock's routes. Requests reach it with a [`ListenerKind`] extension saying which listener
/// took them (clicks when absent) and a [`RemoteAddr`] when the server knows the peer.
pub fn app(state: SharedState) -> Router {
    Router::new()
        .route("/__admin/health", get(admin::health))
        .route("/__admin/requests", get(admin::list).delete(admin::reset))
        .route("/__admin/requests/wait", get(admin::wait))
        .route("/__admin/requests/{seq}", get(admin::one))
        .route("/metrics", get(metrics::render))
        .fallback(track::track)
        .with_state(state)
}
