//! Helpers shared by the rules crate's integration tests.
#![allow(dead_code)]

use metrica_s2s_rules::{
    parse_input, Code, Context, Diagnostic, Settings, TrackerStatus, Validator,
};

/// 2026-11-28 10:00:00 UTC.
pub const NOW: u64 = 1_795_860_000;
pub const TRACKER: &str = "1234567890123456789";
pub const ANDROID_UA: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36";
pub const IPHONE_UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1";

/// The correct encoding of any value (the one encoder metrica-s2s has).
pub use metrica_s2s_rules::percent_encode as enc;

/// A clean request's parameters, raw (already encoded).
pub fn base() -> Vec<(String, Option<String>)> {
    vec![
        ("click_id".into(), Some("c-8f14e45f".into())),
        ("device_ip".into(), Some("5.255.232.147".into())),
        ("device_ua".into(), Some(enc(ANDROID_UA))),
        ("click_timestamp".into(), Some(NOW.to_string())),
    ]
}

/// Builds a request target from `base()` with `changes` applied: `(key, Some(raw))` sets or
/// appends, `(key, None)` removes.
pub fn target(changes: &[(&str, Option<&str>)]) -> String {
    let mut params = base();
    for (k, v) in changes {
        match (params.iter().position(|(pk, _)| pk == k), v) {
            (Some(i), Some(v)) => params[i].1 = Some((*v).to_owned()),
            (Some(i), None) => {
                params.remove(i);
            }
            (None, Some(v)) => params.push(((*k).to_owned(), Some((*v).to_owned()))),
            (None, None) => {}
        }
    }
    let query: Vec<String> = params
        .into_iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k,
        })
        .collect();
    format!("/serve/{TRACKER}?{}", query.join("&"))
}

pub fn lint_with(input: &str, trackers: Option<&dyn Fn(u64) -> TrackerStatus>) -> Vec<Diagnostic> {
    let settings = Settings::default();
    let mut ctx = Context::new(NOW, &settings);
    ctx.trackers = trackers;
    match parse_input(input.as_bytes()) {
        Ok(req) => Validator::new(64).validate(&req, &ctx),
        Err(d) => vec![d],
    }
}

pub fn lint(input: &str) -> Vec<Diagnostic> {
    lint_with(input, None)
}

pub fn codes(input: &str) -> Vec<Code> {
    let mut c: Vec<Code> = lint(input).iter().map(|d| d.code).collect();
    c.sort();
    c.dedup();
    c
}
