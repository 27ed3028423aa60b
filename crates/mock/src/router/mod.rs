//! The routes of one listener: the admin API, `/metrics` and the dashboard where they may
//! answer, and the click path as the fallback.

use crate::state::SharedState;
use crate::{admin, dashboard, track};
use axum::routing::{delete, get, post};
use axum::Router;

#[cfg(test)]
mod tests;

/// The mock's routes, as served on a loopback listener.
#[cfg(test)]
pub(crate) fn app(state: SharedState) -> Router {
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
        .route("/logs/v1/export/{file}", get(crate::logs_api::export))
        .route("/metrics", get(admin::metrics));
    // The page and its assets hold no data: with a token they load without it, and ask.
    let ui = Router::new()
        .route("/", get(dashboard::page))
        .route("/__admin/ui", get(dashboard::page))
        .route("/__admin/ui/app.js", get(dashboard::script))
        .route("/__admin/ui/app.css", get(dashboard::style))
        // Browsers ask for it with the page: not a request worth journaling.
        .route("/favicon.ico", get(dashboard::no_icon));
    let admin = match (state.admin_token(), loopback_listener) {
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
            .route("/metrics", axum::routing::any(admin::disabled))
            .route("/logs/{*rest}", axum::routing::any(admin::disabled)),
    };
    admin.fallback(track::track).with_state(state)
}
