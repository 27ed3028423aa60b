//! One path segment of an admin route, with a problem+json answer when it cannot be read
//! (axum's own rejection is plain text, which API clients cannot parse).

use crate::problem::problem;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;

#[derive(Debug)]
pub(crate) struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Segment, Response> {
        match Path::<String>::from_request_parts(parts, state).await {
            Ok(Path(s)) => Ok(Segment(s)),
            Err(e) => Err(problem(
                StatusCode::BAD_REQUEST,
                "bad-path",
                "Bad path segment",
                &format!(
                    "{}: the segment after the route's name must be UTF-8 once percent-decoded",
                    e.body_text()
                ),
                &[],
                None,
            )),
        }
    }
}
