//! Real-world User-Agents (uap-core, 17,816 strings) in otherwise valid requests: none may get
//! an error-severity diagnostic, except `ua-server-client` on genuine HTTP-library UAs and
//! "not a device" codes on the reviewed non-devices (`uap-core-not-devices.txt`).

mod common;

use common::*;
use metrica_s2s_rules::{classify_ua, parse_input, Code, Context, Platform, Settings, Validator};
use std::collections::BTreeMap;

struct Entry {
    ua_family: String,
    os_family: String,
    ua: String,
}

fn corpus() -> Vec<Entry> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/user-agents/uap-core.tsv"
    );
    let text = std::fs::read_to_string(path).expect("fixtures/user-agents/uap-core.tsv");
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.splitn(4, '\t').collect();
            assert_eq!(f.len(), 4, "malformed row {l:?}");
            Entry {
                ua_family: f[0].into(),
                os_family: f[1].into(),
                ua: f[3].into(),
            }
        })
        .collect()
}

/// uap-core's names for HTTP-library clients: the ground truth for "genuine".
const LIBRARY_FAMILIES: &[&str] = &[
    "okhttp",
    "Go-http-client",
    "Python Requests",
    "Python-urllib",
    "Python aiohttp",
    "curl",
    "Wget",
    "wget2",
    "Java",
    "Apache-HttpClient",
    "axios",
    "GuzzleHttp",
    "libwww-perl",
    "reqwest",
    "PostmanRuntime",
    "HTTPie",
];

/// For UAs uap-core's UA file does not name: the product tokens rules.md lists.
fn names_a_library(ua: &str) -> bool {
    let first = ua.split(['/', ' ']).next().unwrap_or("");
    [
        "okhttp",
        "Go-http-client",
        "python-requests",
        "Python-urllib",
        "aiohttp",
        "curl",
        "Wget",
        "Java",
        "Apache-HttpClient",
        "axios",
        "node-fetch",
        "undici",
        "Guzzle",
        "GuzzleHttp",
        "PHP",
        "libwww-perl",
        "reqwest",
        "PostmanRuntime",
        "HTTPie",
        "Ruby",
        "Faraday",
        "Python",
        "wget2",
    ]
    .iter()
    .any(|name| name.eq_ignore_ascii_case(first))
}

#[test]
fn no_real_user_agent_is_called_malformed() {
    let settings = Settings::default();
    let ctx = Context::new(NOW, &settings);
    let mut validator = Validator::new(settings.ua_cache_entries);
    let entries = corpus();
    assert!(
        entries.len() > 17_000,
        "the corpus lost rows: {}",
        entries.len()
    );
    let not_devices: std::collections::BTreeSet<String> = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/user-agents/uap-core-not-devices.txt"
    ))
    .expect("fixtures/user-agents/uap-core-not-devices.txt")
    .lines()
    .filter(|l| !l.starts_with('#'))
    .map(str::to_owned)
    .collect();
    let not_a_device = [Code::UaBot, Code::UaServerClient, Code::UaNotAUserAgent];
    let mut wrong = Vec::new();
    let mut server_clients = 0;
    let mut warnings: BTreeMap<Code, usize> = BTreeMap::new();
    for e in &entries {
        let input = target(&[("device_ua", Some(&enc(&e.ua)))]);
        let req = parse_input(input.as_bytes()).expect("parses");
        for d in validator.validate(&req, &ctx) {
            let genuine_library = LIBRARY_FAMILIES.contains(&e.ua_family.as_str())
                || (e.ua_family.is_empty() && names_a_library(&e.ua));
            match (d.code, d.is_error()) {
                (Code::UaServerClient, _) if genuine_library => server_clients += 1,
                (code, _) if not_a_device.contains(&code) && not_devices.contains(&e.ua) => {}
                (_, true) => wrong.push(format!("{:?}: {} {}", e.ua, d.code, d.message)),
                (code, false) => *warnings.entry(code).or_default() += 1,
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} real UAs got errors:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        server_clients >= 15,
        "only {server_clients} library UAs recognised"
    );
    eprintln!("warnings and infos over the corpus: {warnings:?}");
}

/// Every UA uap-core files under a library family is recognised, when the library is the
/// UA's own product (its first token). Apps that merely embed one (`IMVU Client/498.0
/// Python-urllib/2.7`) are clients of their own, as in-app UAs ending in `okhttp/4.x` are.
#[test]
fn every_uap_library_family_is_a_server_client() {
    let (mut recognised, mut embedded) = (0, Vec::new());
    let mut missed = Vec::new();
    for e in corpus()
        .into_iter()
        .filter(|e| LIBRARY_FAMILIES.contains(&e.ua_family.as_str()))
    {
        let own_product = names_a_library(&e.ua);
        match (classify_ua(&e.ua).library.is_some(), own_product) {
            (true, _) => recognised += 1,
            (false, true) => missed.push(e.ua),
            (false, false) => embedded.push(e.ua),
        }
    }
    assert!(missed.is_empty(), "library UAs not recognised: {missed:?}");
    assert!(recognised >= 15, "only {recognised} recognised");
    assert!(
        embedded.len() <= 3,
        "many library-family UAs lead with another product: {embedded:?}"
    );
}

#[test]
fn platform_agrees_with_uap_os_family() {
    let (mut agree, mut total) = (0, 0);
    let mut disagree = Vec::new();
    for e in corpus() {
        let want = match e.os_family.as_str() {
            "Android" => Some(Platform::Android),
            "iOS" => Some(Platform::Ios),
            _ => continue,
        };
        total += 1;
        let got = classify_ua(&e.ua).platform;
        if got == want {
            agree += 1;
        } else {
            disagree.push(format!("{:?} → {got:?}: {}", want, e.ua));
        }
    }
    // Ground truth from another parser; a few exotic UAs may differ, most must not.
    assert!(
        total > 100,
        "only {total} UAs with an Android or iOS family"
    );
    assert!(
        agree * 100 >= total * 95,
        "platform agrees on {agree} of {total}:\n{}",
        disagree.join("\n")
    );
}
