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
pub mod client;
mod config;
mod dashboard;
pub mod fault;
mod header_clock;
mod journal;
mod lock;
mod metrics;
mod ndjson;
pub mod postback;
mod problem;
mod server;
pub mod tls;
mod track;
pub mod wire;

pub use config::{ConfigError, Mode, Tracker, TrackerFileError, TrackerPlatform, Trackers};
pub use journal::{
    Entry, Filter, Journal, Page, Record, DEFAULT_MAX_BYTES as DEFAULT_JOURNAL_BYTES, MAX_PAGE,
};
pub use metrics::Metrics;
pub use postback::{PostbackOptions, Postbacks};
pub use server::{serve, Limits, Listeners};
pub use track::{ListenerKind, RemoteAddr, MAX_TARGET_BYTES};

use axum::routing::{delete, get, post};
use axum::Router;
use metrica_s2s_rules::Settings;
use std::sync::Arc;

/// Everything the handlers share.
#[derive(Debug)]
pub struct State {
    pub mode: Mode,
    pub trackers: Trackers,
    pub settings: Settings,
    pub journal: Journal,
    pub metrics: Metrics,
    /// When set, the admin API and `/metrics` answer on every listener, to this bearer token.
    pub admin_token: Option<String>,
    pub postbacks: Arc<Postbacks>,
    /// Faults set through the admin API or the tracker file.
    pub faults: fault::Faults,
    /// Cancelled when the server starts shutting down: open event streams end then.
    pub closing: tokio_util::sync::CancellationToken,
    clicks: clickids::ClickIds,
}

pub use clickids::{
    DEFAULT_CAPACITY as DEFAULT_CLICK_ID_CAPACITY, MAX_CAPACITY as MAX_CLICK_ID_CAPACITY,
};

pub type SharedState = Arc<State>;

impl State {
    pub fn new(mode: Mode, trackers: Trackers, journal: Journal) -> State {
        let postbacks = Arc::new(Postbacks::default());
        let mut metrics = Metrics::new();
        metrics.register_postbacks(postbacks.counters());
        let faults = fault::Faults::default();
        trackers.add_faults(&faults);
        State {
            mode,
            trackers,
            settings: Settings::default(),
            journal,
            metrics,
            admin_token: None,
            postbacks,
            faults,
            closing: tokio_util::sync::CancellationToken::new(),
            clicks: clickids::ClickIds::new(clickids::DEFAULT_CAPACITY),
        }
    }

    /// Draws fault probabilities from a generator seeded with `seed`: the same requests in
    /// the same order are faulted alike in every run. The tracker file's faults are kept.
    pub fn with_fault_seed(mut self, seed: u64) -> State {
        self.faults = fault::Faults::new(Some(seed));
        self.trackers.add_faults(&self.faults);
        self
    }

    /// Postbacks delivered with these options (the default ones otherwise).
    pub fn with_postbacks(mut self, postbacks: Postbacks) -> State {
        let mut metrics = Metrics::new();
        metrics.register_postbacks(postbacks.counters());
        self.metrics = metrics;
        self.postbacks = Arc::new(postbacks);
        self
    }
}

impl State {
    /// Click ids dropped from the dedup memory before their 7-day window ended.
    pub fn forgotten_click_ids(&self) -> u64 {
        self.clicks.forgotten()
    }

    /// Remembers at most `capacity` click ids for `click-id-duplicate`; older ones are
    /// forgotten (and counted) before their 7-day window ends.
    pub fn with_click_id_capacity(mut self, capacity: usize) -> State {
        self.clicks = clickids::ClickIds::new(capacity);
        self
    }

    /// Requires `Authorization: Bearer <token>` on the admin API and `/metrics`, and opens them
    /// on non-loopback listeners too.
    pub fn with_admin_token(mut self, token: Option<String>) -> State {
        self.admin_token = token.filter(|t| !t.is_empty());
        self
    }
}

/// The mock's routes, as served on a loopback listener.
pub fn app(state: SharedState) -> Router {
    router(state, true, None)
}

/// The routes for one listener. The admin API and `/metrics` expose every request's data, so
/// they answer on loopback listeners only, unless an admin token is set, in which case they
/// answer everywhere but only to `Authorization: Bearer <token>`. There is no CORS: browsers
/// on other origins get nothing from them, and without a token they answer only to requests
/// that name the mock itself (see [`admin::guard`]). `port` is the listener's (`None` in
/// process).
pub(crate) fn router(state: SharedState, loopback_listener: bool, port: Option<u16>) -> Router {
    let admin = Router::new()
        .route("/__admin/health", get(admin::health))
        .route("/__admin/requests", get(admin::list).delete(admin::reset))
        .route("/__admin/requests/wait", get(admin::wait))
        .route("/__admin/requests/{seq}", get(admin::one))
        .route("/__admin/events", get(dashboard::events))
        .route("/__admin/rules/{code}", get(dashboard::rule))
        .route(
            "/__admin/faults",
            get(admin::faults::list)
                .post(admin::faults::add)
                .delete(admin::faults::clear),
        )
        .route("/__admin/faults/{id}", delete(admin::faults::remove))
        .route("/__admin/conversions", post(admin::postbacks::conversions))
        .route("/__admin/postbacks", get(admin::postbacks::list))
        .route("/__admin/postbacks/wait", get(admin::postbacks::wait))
        .route("/__admin/postbacks/{id}", get(admin::postbacks::one))
        .route(
            "/__admin/postbacks/{id}/repeat",
            post(admin::postbacks::repeat),
        )
        .route(
            "/__admin/trackers/{id}/postbacks",
            get(admin::postbacks::templates)
                .put(admin::postbacks::set_templates)
                .delete(admin::postbacks::clear_templates),
        )
        .route("/metrics", get(metrics::render));
    // The page and its assets hold no data: with a token they load without it, and ask.
    let ui = Router::new()
        .route("/", get(dashboard::page))
        .route("/__admin/ui", get(dashboard::page))
        .route("/__admin/ui/app.js", get(dashboard::script))
        .route("/__admin/ui/app.css", get(dashboard::style))
        // Browsers ask for it with the page: not a request worth journaling.
        .route("/favicon.ico", get(dashboard::no_icon));
    let admin = match (&state.admin_token, loopback_listener) {
        (Some(_), _) => admin
            .route_layer(axum::middleware::from_fn_with_state(
                state.clone(),
                admin::require_token,
            ))
            .merge(ui),
        (None, true) => admin
            .merge(ui)
            .route_layer(axum::middleware::from_fn_with_state(
                admin::guard::OwnAuthority { port },
                admin::guard::same_origin_only,
            )),
        (None, false) => Router::new()
            .route("/", axum::routing::any(admin::disabled))
            .route("/__admin/{*rest}", axum::routing::any(admin::disabled))
            .route("/metrics", axum::routing::any(admin::disabled)),
    };
    admin.fallback(track::track).with_state(state)
}
