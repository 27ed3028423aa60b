//! noredirect, advertising ids and click ids.

use super::view::{Found, Scope, View};
use super::Facts;
use crate::catalogue::Code;
use crate::diagnostic::Draft;
use crate::span::Span;

/// Checks these parameters, and returns what the mock acts on: where the click id is, and
/// whether a redirect was asked for.
pub(super) fn check(scope: &Scope<'_, '_>, out: &mut Found) -> Facts {
    for view in &scope.params {
        let Some(name) = view.kind.canonical() else {
            continue;
        };
        if name == "noredirect" {
            noredirect(view, out);
        } else if let Some(format) = id_format(name) {
            if let Some(id) = view.usable().filter(|v| !v.is_empty()) {
                device_id(view, id, format, out);
            }
        }
    }
    Facts {
        click_id: click_id(scope, out),
        noredirect_zero: scope.get("noredirect").and_then(View::text) == Some("0"),
        clock_zone: None,
    }
}

fn noredirect(view: &View<'_>, out: &mut Found) {
    if view.not_data || view.spoiled {
        return;
    }
    let span = view.value_span();
    match view.text() {
        None | Some("" | "1") => {}
        Some("0") => out.push(
            Draft::new(Code::NoredirectDisabled)
                .param(&view.key)
                .span(span),
        ),
        Some(other) => out.push(
            Draft::new(Code::NoredirectInvalid)
                .param(&view.key)
                .value(other.as_bytes())
                .span(span),
        ),
    }
}

/// The shape an advertising id must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IdFormat {
    Uuid,
    /// OAID: a UUID, or 16-64 hex digits.
    Oaid,
    Hex(usize),
}

fn id_format(name: &str) -> Option<IdFormat> {
    if name.ends_with("_sha1") {
        return Some(IdFormat::Hex(40));
    }
    if name.ends_with("_md5") {
        return Some(IdFormat::Hex(32));
    }
    match name {
        "google_aid" | "ios_ifa" | "windows_aid" => Some(IdFormat::Uuid),
        "oaid" => Some(IdFormat::Oaid),
        _ => None,
    }
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn device_id(view: &View<'_>, id: &str, format: IdFormat, out: &mut Found) {
    let valid = match format {
        IdFormat::Uuid => is_uuid(id),
        IdFormat::Oaid => is_uuid(id) || (is_hex(id) && (16..=64).contains(&id.len())),
        IdFormat::Hex(n) => is_hex(id) && id.len() == n,
    };
    let span = view.value_span();
    if !valid {
        let (expected, fix) = id_fix(&view.key, id, format);
        out.push(
            Draft::new(Code::DeviceIdInvalid)
                .param(&view.key)
                .value(id.as_bytes())
                .arg("expected", expected)
                .arg("fix", fix)
                .span(span),
        );
    } else if format != IdFormat::Hex(40)
        && format != IdFormat::Hex(32)
        && crate::params::is_zeroed_id(id)
    {
        out.push(
            Draft::new(Code::DeviceIdZero)
                .param(&view.key)
                .value(id.as_bytes())
                .span(span),
        );
    }
}

fn id_fix(param: &str, id: &str, format: IdFormat) -> (String, String) {
    let base = param.trim_end_matches("_sha1").trim_end_matches("_md5");
    match format {
        IdFormat::Uuid | IdFormat::Oaid if is_hex(id) && id.len() == 32 => (
            "a UUID (8-4-4-4-12 hex digits)".into(),
            format!(
                "insert the dashes: {}-{}-{}-{}-{}",
                &id[..8],
                &id[8..12],
                &id[12..16],
                &id[16..20],
                &id[20..]
            ),
        ),
        IdFormat::Uuid | IdFormat::Oaid if is_hex(id) && id.len() == 40 => (
            "a UUID (8-4-4-4-12 hex digits)".into(),
            format!("40 hex digits is a SHA-1 hash: send it as {base}_sha1"),
        ),
        IdFormat::Uuid => (
            "a UUID (8-4-4-4-12 hex digits)".into(),
            "send the advertising id exactly as the device reports it, e.g. 38400000-8cf0-11bd-b23e-10b96e40000d".into(),
        ),
        IdFormat::Oaid => (
            "a UUID or 16-64 hex digits".into(),
            "send the OAID exactly as the device reports it".into(),
        ),
        IdFormat::Hex(n) => {
            let algo = if n == 40 { "SHA-1" } else { "MD5" };
            let fix = match (is_hex(id), id.len()) {
                (true, 32) => format!("32 hex digits is an MD5 hash: send it as {base}_md5"),
                (true, 40) => format!("40 hex digits is a SHA-1 hash: send it as {base}_sha1"),
                (true, 64) => format!("64 hex digits is SHA-256, which AppMetrica does not take: send the {algo} of the raw id"),
                _ => format!("send the lowercase hex {algo} of the raw advertising id, {n} hex digits"),
            };
            (format!("{n} hex digits ({algo})"), fix)
        }
    }
}

/// `click-id-missing`; returns where the click id's value is.
fn click_id(scope: &Scope<'_, '_>, out: &mut Found) -> Option<Span> {
    let click_id = scope.get("click_id");
    let filled =
        |v: Option<&View<'_>>| v.map(|v| v.value.as_ref().is_some_and(|d| !d.bytes().is_empty()));
    let reason = match (filled(click_id), filled(scope.get("external_click_id"))) {
        (Some(true), _) | (_, Some(true)) => return click_id.and_then(|v| v.raw.value),
        (Some(false), _) => "click_id is sent empty, and there is no external_click_id: repeats cannot be deduplicated and postbacks cannot be matched",
        _ => "neither click_id nor external_click_id is sent: repeats cannot be deduplicated and postbacks cannot be matched",
    };
    let mut d = Draft::new(Code::ClickIdMissing).arg("reason", reason);
    if let Some(v) = click_id {
        d = d.span(v.raw.span());
    }
    out.push(d);
    click_id.and_then(|v| v.raw.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_shapes() {
        assert!(is_uuid("38400000-8cf0-11bd-b23e-10b96e40000d"));
        assert!(is_uuid("6D92078A-8246-4BA4-AE5B-76104861E7DC"));
        assert!(!is_uuid("38400000-8cf0-11bd-b23e-10b96e40000"));
        assert!(!is_uuid("38400000x8cf0-11bd-b23e-10b96e40000d"));
        assert_eq!(id_format("google_aid_sha1"), Some(IdFormat::Hex(40)));
        assert_eq!(id_format("oaid_md5"), Some(IdFormat::Hex(32)));
        assert_eq!(id_format("click_id"), None);
    }

    #[test]
    fn fixes_name_the_likely_mistake() {
        let (_, fix) = id_fix(
            "google_aid",
            "384000008cf011bdb23e10b96e40000d",
            IdFormat::Uuid,
        );
        assert_eq!(
            fix,
            "insert the dashes: 38400000-8cf0-11bd-b23e-10b96e40000d"
        );
        let (_, fix) = id_fix("ios_ifa_sha1", &"a".repeat(32), IdFormat::Hex(40));
        assert!(fix.contains("ios_ifa_md5"), "{fix}");
    }
}
