//! The admin API's postback side: report a conversion, read and wait for deliveries, repeat
//! one, and set a tracker's postbacks at run time.

use super::body::parse;
use super::segment::Segment;
use crate::postback::deliveries::DeliveryFilter;
use crate::postback::template::Template;
use crate::postback::ConversionRequest;
use crate::problem::{bad_field, problem};
use crate::state::SharedState;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use metrica_s2s_rules::quote_str;
use serde_json::json;

/// `POST /__admin/conversions`.
pub(crate) async fn conversions(State(state): State<SharedState>, body: Bytes) -> Response {
    let request: ConversionRequest = match parse(&body) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    match state.convert(&request) {
        Ok(outcome) => Json(outcome).into_response(),
        Err(e) => bad_field("bad-conversion", "Bad conversion", &e.field, &e.detail),
    }
}

/// `GET /__admin/postbacks`.
pub(crate) async fn list(
    State(state): State<SharedState>,
    filter: Result<Query<DeliveryFilter>, QueryRejection>,
) -> Response {
    match filter {
        Ok(Query(f)) => Json(state.postbacks().deliveries().query(&f)).into_response(),
        Err(e) => bad_filter(&e),
    }
}

/// `GET /__admin/postbacks/wait`: as soon as `count` deliveries match (a filter on
/// `attempts` waits for retries), or at the timeout with what there is.
pub(crate) async fn wait(
    State(state): State<SharedState>,
    filter: Result<Query<DeliveryFilter>, QueryRejection>,
) -> Response {
    let f = match filter {
        Ok(Query(f)) => f,
        Err(e) => return bad_filter(&e),
    };
    let timeout = super::wait_limit(f.timeout_ms);
    let count = f.count.unwrap_or(1);
    let deliveries = state.postbacks().deliveries();
    let page = super::until_shutdown(&state, deliveries.wait(&f, count, timeout), || {
        deliveries.query(&f)
    })
    .await;
    Json(page).into_response()
}

fn bad_filter(e: &QueryRejection) -> Response {
    let detail = format!(
        "{}; filters are tracking_id, click_id, transaction_id, delivered (true|false), attempts (at least N), since (a delivery id), limit (default 100, at most 1,000; follow `next` for more), and for wait count and timeout_ms",
        e.body_text()
    );
    problem(
        StatusCode::BAD_REQUEST,
        "bad-filter",
        "Bad postback filter",
        &detail,
        &[],
        None,
    )
}

fn number(text: &str, what: &str) -> Result<u64, Box<Response>> {
    text.parse::<u64>().map_err(|_| {
        Box::new(problem(
            StatusCode::BAD_REQUEST,
            "bad-id",
            "Bad id",
            &format!("{} is not a {what}", quote_str(text)),
            &[],
            None,
        ))
    })
}

fn no_delivery(id: u64) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "no-postback",
        "No such postback",
        &format!("no postback delivery {id}: never made, or forgotten as the store filled"),
        &[],
        None,
    )
}

/// `GET /__admin/postbacks/<id>`.
pub(crate) async fn one(State(state): State<SharedState>, Segment(id): Segment) -> Response {
    let id = match number(&id, "delivery id") {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match state.postbacks().deliveries().get(id) {
        Some(d) => Json(d).into_response(),
        None => no_delivery(id),
    }
}

/// `POST /__admin/postbacks/<id>/repeat`: one more attempt now, as AppMetrica repeats a
/// postback; its outcome joins the delivery's attempts.
pub(crate) async fn repeat(State(state): State<SharedState>, Segment(id): Segment) -> Response {
    let id = match number(&id, "delivery id") {
        Ok(id) => id,
        Err(r) => return *r,
    };
    match state.repeat_postback(id) {
        Some(d) => (StatusCode::ACCEPTED, Json(d)).into_response(),
        None => no_delivery(id),
    }
}

/// `GET /__admin/trackers/<id>/postbacks`: the templates in force.
pub(crate) async fn templates(State(state): State<SharedState>, Segment(id): Segment) -> Response {
    let id = match number(&id, "tracking id") {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let (source, list) = match state.postbacks().templates_set(id) {
        Some(list) => ("admin", list),
        None => (
            "tracker file",
            state
                .trackers()
                .get(id)
                .map(|t| t.postbacks.clone())
                .unwrap_or_default(),
        ),
    };
    let name = state.trackers().get(id).map(|t| t.name.as_str());
    Json(
        json!({ "tracking_id": id.to_string(), "name": name, "source": source, "postbacks": list }),
    )
    .into_response()
}

/// `PUT /__admin/trackers/<id>/postbacks` with a JSON array of templates: they replace the
/// tracker file's for this tracker until deleted.
pub(crate) async fn set_templates(
    State(state): State<SharedState>,
    Segment(id): Segment,
    body: Bytes,
) -> Response {
    let id = match number(&id, "tracking id") {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let list: Vec<Template> = match parse(&body) {
        Ok(l) => l,
        Err(r) => return *r,
    };
    if list.len() > crate::trackers::MAX_POSTBACKS {
        return bad_field(
            "bad-postbacks",
            "Too many postbacks",
            "(body)",
            &format!(
                "{} postbacks; AppMetrica allows at most {}",
                list.len(),
                crate::trackers::MAX_POSTBACKS
            ),
        );
    }
    let count = list.len();
    let warnings = crate::postback::template::macro_warnings(id, &list);
    match state.postbacks().set_templates(id, Some(list)) {
        Ok(()) => Json(json!({
            "tracking_id": id.to_string(),
            "postbacks": count,
            "warnings": warnings,
        }))
        .into_response(),
        Err((i, e)) => bad_field(
            "bad-postbacks",
            "Bad postback template",
            &format!("[{i}]"),
            &e.to_string(),
        ),
    }
}

/// `DELETE /__admin/trackers/<id>/postbacks`: back to the tracker file's.
pub(crate) async fn clear_templates(
    State(state): State<SharedState>,
    Segment(id): Segment,
) -> Response {
    let id = match number(&id, "tracking id") {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let _ = state.postbacks().set_templates(id, None);
    StatusCode::NO_CONTENT.into_response()
}
