//! Request bodies of the admin API: JSON, read with the path of whatever is wrong, so a 400
//! names the field.

use crate::problem::bad_field;
use axum::response::Response;
use serde::de::DeserializeOwned;

/// A JSON body, or a 400 that names the field at fault.
pub(crate) fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Box<Response>> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let text = inner.to_string();
        // A missing or unknown field is reported at its parent: take its name from serde.
        let named = text
            .split('`')
            .nth(1)
            .filter(|_| text.starts_with("missing field") || text.starts_with("unknown field"));
        let field = match (named, path.as_str()) {
            (Some(name), ".") => name.to_owned(),
            // An unknown field is in the path already.
            (Some(name), p) if p == name || p.ends_with(&format!(".{name}")) => p.to_owned(),
            (Some(name), parent) => format!("{parent}.{name}"),
            (None, ".") => "(body)".to_owned(),
            (None, p) => p.to_owned(),
        };
        let detail = if inner.is_syntax() || inner.is_eof() {
            format!("the body is not JSON: {text}")
        } else {
            text
        };
        Box::new(bad_field("bad-json", "Bad request body", &field, &detail))
    })
}
