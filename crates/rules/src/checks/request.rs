//! The request itself: method, endpoint path and tracking id.

use super::macros::{macro_name, Reach};
use super::view::Found;
use crate::catalogue::Code;
use crate::diagnostic::Draft;
use crate::parse::{id_number, Request};
use crate::settings::{Context, TrackerStatus};

/// What the other checks need from the request line.
pub(super) struct Endpoint {
    /// The tracking id as a number, when it is a valid one.
    pub tracker: Option<u64>,
}

/// Checks the method and path; `None` when nothing else is worth checking (an unknown
/// endpoint without a query is not a tracking call at all).
pub(super) fn check(req: &Request<'_>, ctx: &Context<'_>, out: &mut Found) -> Option<Endpoint> {
    if let Some(m) = req.method {
        if req.bytes(m) != b"GET" {
            out.push(
                Draft::new(Code::MethodNotAllowed)
                    .value(req.bytes(m))
                    .span(m),
            );
        }
    }
    let Some(id_span) = req.tracking_id() else {
        out.push(
            Draft::new(Code::UnknownEndpoint)
                .value(req.bytes(req.path))
                .span(req.path),
        );
        return req.query.is_some().then_some(Endpoint { tracker: None });
    };
    let id = req.bytes(id_span);
    // A valid id is a number: explaining why it is not one is needed only when it is not.
    let tracker = id_number(id);
    match tracker {
        Some(n) => {
            if ctx
                .trackers
                .is_some_and(|lookup| lookup(n) == TrackerStatus::Unknown)
            {
                out.push(Draft::new(Code::TrackingIdUnknown).value(id).span(id_span));
            }
        }
        None => {
            if let Some((reason, fix)) = tracking_id_problem(id) {
                out.push(
                    Draft::new(Code::TrackingIdInvalid)
                        .value(id)
                        .arg("reason", reason)
                        .arg("fix", fix)
                        .span(id_span),
                );
            }
        }
    }
    Some(Endpoint { tracker })
}

const FIX_NUMERIC: &str = "use the numeric tracker id: the number after /serve/ in the tracking URL AppMetrica shows for the tracker";

/// Why a tracking id is not valid, with the fix.
fn tracking_id_problem(id: &[u8]) -> Option<(String, String)> {
    if id.is_empty() {
        return Some(("it is empty".into(), FIX_NUMERIC.into()));
    }
    if id.iter().all(u8::is_ascii_digit) {
        if id.len() > 20 {
            return Some((
                format!("it has {} digits, at most 20 fit", id.len()),
                FIX_NUMERIC.into(),
            ));
        }
        return id_number(id).is_none().then(|| {
            (
                "it is above the unsigned 64-bit range".into(),
                FIX_NUMERIC.into(),
            )
        });
    }
    let text = String::from_utf8_lossy(id);
    let placeholder =
        text.eq_ignore_ascii_case("TRACKING_ID") || macro_name(&text, Reach::Whole).is_some();
    if placeholder {
        return Some((
            "it is a placeholder, not an id".into(),
            "replace the placeholder with your tracker's numeric id (the documentation's TRACKING_ID stands for the number after /serve/ in your tracking URL)".into(),
        ));
    }
    Some((
        "it holds characters other than the digits 0-9".into(),
        FIX_NUMERIC.into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::tracking_id_problem;

    #[test]
    fn tracking_ids() {
        assert!(tracking_id_problem(b"1234567890123456789").is_none());
        assert!(tracking_id_problem(b"18446744073709551615").is_none());
        assert!(tracking_id_problem(b"1").is_none());
        assert!(tracking_id_problem(b"18446744073709551616").is_some());
        assert!(tracking_id_problem(b"123456789012345678901").is_some());
        assert!(tracking_id_problem(b"").is_some());
        assert!(tracking_id_problem(b"12a").is_some());
        for id in [&b"42"[..], b"18446744073709551616", b"", b"12a", b"007"] {
            let number = crate::parse::id_number(id);
            assert_eq!(
                tracking_id_problem(id).is_none(),
                number.is_some(),
                "{id:?}"
            );
        }
        let (reason, _) = tracking_id_problem(b"TRACKING_ID").expect("invalid");
        assert!(reason.contains("placeholder"));
    }
}
