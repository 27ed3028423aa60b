//! `/__admin/faults`: set, list and remove faults.

use super::body::parse;
use super::segment::Segment;
use crate::fault::FaultSpec;
use crate::problem::{bad_field, problem};
use crate::state::SharedState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// `POST /__admin/faults` with a fault: `{"id": N}`.
pub(crate) async fn add(State(state): State<SharedState>, body: Bytes) -> Response {
    let spec: FaultSpec = match parse(&body) {
        Ok(s) => s,
        Err(e) => return *e,
    };
    match state.faults().add(spec) {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(e) => bad_field("bad-fault", "Bad fault", e.field, &e.detail),
    }
}

pub(crate) async fn list(State(state): State<SharedState>) -> Response {
    Json(json!({ "faults": state.faults().list() })).into_response()
}

pub(crate) async fn clear(State(state): State<SharedState>) -> Response {
    Json(json!({ "cleared": state.faults().clear() })).into_response()
}

pub(crate) async fn remove(State(state): State<SharedState>, Segment(id): Segment) -> Response {
    match id.parse::<u64>() {
        Ok(n) if state.faults().remove(n) => StatusCode::NO_CONTENT.into_response(),
        _ => problem(
            StatusCode::NOT_FOUND,
            "no-fault",
            "No such fault",
            &format!(
                "no fault {} is set (GET /__admin/faults lists them)",
                metrica_s2s_rules::quote_str(&id)
            ),
            &[],
            None,
        ),
    }
}
