//! The request headers the journal keeps, found in one pass.

use axum::http::header::{HOST, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue};
use std::borrow::Cow;

static X_FORWARDED_FOR: axum::http::HeaderName =
    axum::http::HeaderName::from_static("x-forwarded-for");

/// The headers the journal keeps, found in one pass: a request carries a handful of headers,
/// and a scan compares names by their standard-header tag, where each `get` would hash.
#[derive(Default)]
pub(super) struct Headers<'a> {
    pub host: Option<&'a HeaderValue>,
    /// Host headers sent: more than one is a bad request.
    pub hosts: u8,
    pub user_agent: Option<&'a HeaderValue>,
    pub forwarded_for: Option<&'a HeaderValue>,
}

impl<'a> Headers<'a> {
    /// The first value of each, as `HeaderMap::get` gives it.
    pub(super) fn of(map: &'a HeaderMap) -> Headers<'a> {
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
pub(super) fn text(value: &HeaderValue) -> Cow<'_, str> {
    match value.to_str() {
        Ok(visible) => Cow::Borrowed(visible),
        Err(_) => String::from_utf8_lossy(value.as_bytes()),
    }
}
