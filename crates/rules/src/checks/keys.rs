//! Parameter names: aliases, typos, repeats, and the required three being there at all.

use super::view::{Found, Scope, View};
use crate::catalogue::{Code, Severity};
use crate::diagnostic::Draft;
use crate::params::{Key, KNOWN, REQUIRED};

/// Names other trackers or habits use for a documented parameter; too far from it for an
/// edit distance to catch.
const MISNAMES: &[(&str, &str)] = &[
    ("ip", "device_ip"),
    ("user_ip", "device_ip"),
    ("client_ip", "device_ip"),
    ("ua", "device_ua"),
    ("user_agent", "device_ua"),
    ("useragent", "device_ua"),
    ("timestamp", "click_timestamp"),
    ("ts", "click_timestamp"),
    ("click_time", "click_timestamp"),
    ("gaid", "google_aid"),
    ("gps_adid", "google_aid"),
    ("aaid", "google_aid"),
    ("advertising_id", "google_aid"),
];

/// Well-known ids of their own, near a documented name by spelling only.
const NOT_TYPOS: &[&str] = &["idfv", "android_id", "imei"];

/// The documented key an unknown one was probably meant to be.
pub(crate) fn intended_key(key: &str) -> Option<&'static str> {
    let folded = key.to_ascii_lowercase().replace('-', "_");
    if NOT_TYPOS.contains(&folded.as_str()) {
        return None;
    }
    if let Some(k) = KNOWN.iter().find(|k| **k == folded) {
        return Some(k);
    }
    if let Some((_, k)) = MISNAMES.iter().find(|(m, _)| *m == folded) {
        return Some(k);
    }
    let limit = match folded.chars().count() {
        0..=3 => return None,
        4..=5 => 1,
        _ => 2,
    };
    // Optimal string alignment: edits and adjacent swaps (`clikc`), without the allocation
    // of the unrestricted Damerau distance. A length gap beyond the limit cannot match.
    let len = folded.len();
    KNOWN
        .iter()
        .filter(|k| k.len().abs_diff(len) <= limit)
        .map(|k| (strsim::osa_distance(&folded, k), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

pub(super) fn check(scope: &Scope<'_, '_>, out: &mut Found) {
    let params = &scope.params;
    for (i, p) in params.iter().enumerate() {
        match p.kind {
            Key::Alias(canonical) => out.push(
                Draft::new(Code::ParamAlias)
                    .param(&p.key)
                    .arg("canonical", canonical)
                    .span(p.raw.key),
            ),
            Key::Unknown => {
                if let Some(intended) = intended_key(&p.key) {
                    let taken = params.iter().any(|q| q.kind.canonical() == Some(intended));
                    if !taken {
                        out.push(
                            Draft::new(Code::ParamTypo)
                                .param(&p.key)
                                .arg("intended", intended)
                                .span(p.raw.key),
                        );
                    }
                }
            }
            Key::Known(_) => {}
        }
        let earlier = params[..i].iter().any(|q| q.key == p.key);
        if !earlier {
            duplicates(params, i, out);
        }
    }
    for name in REQUIRED {
        match scope.get(name) {
            None => out.push(missing(params, name)),
            Some(p) if p.value.as_ref().is_none_or(|v| v.bytes().is_empty()) => {
                out.push(Draft::new(Code::EmptyParam).param(name).span(p.raw.span()))
            }
            Some(_) => {}
        }
    }
}

/// Reports the key of `params[first]` once if it repeats.
fn duplicates(params: &[View<'_>], first: usize, out: &mut Found) {
    let key = &params[first].key;
    // Counted before anything is collected: nearly every key is sent once.
    if params[first + 1..].iter().all(|q| &q.key != key) {
        return;
    }
    let same: Vec<&View<'_>> = params[first..].iter().filter(|q| &q.key == key).collect();
    let bytes = |v: &View<'_>| v.value.as_ref().map(|d| d.bytes().to_vec());
    let differ = same.iter().any(|q| bytes(q) != bytes(same[0]));
    let values = if differ {
        let shown: Vec<String> = same
            .iter()
            .take(4)
            .map(|q| crate::escape::quote(&bytes(q).unwrap_or_default()))
            .collect();
        format!(" with different values: {}", shown.join(", "))
    } else {
        " with the same value".to_owned()
    };
    out.push(
        Draft::new(Code::DuplicateParam)
            .param(key)
            .arg("count", same.len().to_string())
            .arg("values", values)
            .severity(if differ {
                Severity::Error
            } else {
                Severity::Warning
            })
            .span(same[1].raw.span()),
    );
}

fn missing(params: &[View<'_>], name: &'static str) -> Draft {
    let stray = params
        .iter()
        .find(|p| p.kind == Key::Unknown && intended_key(&p.key) == Some(name));
    let fix = match stray {
        Some(p) => format!(
            "a parameter {} was sent: rename it to {name}",
            crate::escape::quote_str(&p.key)
        ),
        None => match name {
            "device_ip" => {
                "add device_ip=<the IP address of the user's device>, URL-encoded".to_owned()
            }
            "device_ua" => {
                "add device_ua=<the User-Agent header of the user's click request>, URL-encoded"
                    .to_owned()
            }
            _ => "add click_timestamp=<UTC Unix time of the click, in seconds>".to_owned(),
        },
    };
    Draft::new(Code::MissingParam).param(name).arg("fix", fix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intended_keys() {
        for (typo, key) in [
            ("click_timestmp", "click_timestamp"),
            ("Device_UA", "device_ua"),
            ("device-ip", "device_ip"),
            ("clickid", "click_id"),
            ("ios_idfa", "ios_ifa"),
            ("gaid", "google_aid"),
            ("user_agent", "device_ua"),
            ("devcie_ua", "device_ua"),
        ] {
            assert_eq!(intended_key(typo), Some(key), "{typo}");
        }
        for custom in [
            "utm_source",
            "sub1",
            "idfv",
            "site",
            "campaign",
            "x",
            "adgroup_id",
            "os",
        ] {
            assert_eq!(intended_key(custom), None, "{custom}");
        }
    }
}
