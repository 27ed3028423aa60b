//! The http (click-through) driver: the runner is the user's device. It clicks the partner's
//! click URL with the device's User-Agent and `X-Forwarded-For`, expects a direct redirect to
//! the store carrying AppMetrica's referrer, and leaves the S2S call to the partner's server.
//! Loopback only; one bounded request per scenario.

use crate::checks::{Finding, Truth};
use crate::partner::HttpDriver;
use crate::suite::Scenario;
use metrica_s2s_rules::{kind_for_host, Code, Draft, Kind};
use std::time::Duration;

/// Store hosts a direct redirect may go to.
const STORES: &[&str] = &[
    "play.google.com",
    "apps.apple.com",
    "itunes.apple.com",
    "appgallery.huawei.com",
    "apps.rustore.ru",
];

/// Clicks and judges the answer: redirect-not-direct, referrer-missing, or driver-failed.
pub async fn click(driver: &HttpDriver, scenario: &Scenario, truth: &Truth) -> Vec<Finding> {
    let template = match scenario.event {
        Kind::Click => &driver.click_url,
        Kind::Impression => &driver.impression_url,
    };
    let id = |v: &Option<String>| v.as_deref().map(encode).unwrap_or_default();
    let url = template
        .replace("{tracking_id}", &truth.tracking_id.to_string())
        .replace("{click_id}", &encode(&truth.click_id))
        .replace("{google_aid}", &id(&scenario.device.google_aid))
        .replace("{ios_ifa}", &id(&scenario.device.ios_ifa));
    let answer = tokio::time::timeout(
        Duration::from_millis(driver.timeout_ms),
        get(&url, scenario),
    )
    .await;
    let (status, location) = match answer {
        Err(_) => {
            return vec![failed(format!(
                "its click URL did not answer within {} ms",
                driver.timeout_ms
            ))]
        }
        Ok(Err(e)) => return vec![failed(format!("its click URL could not be fetched: {e}"))],
        Ok(Ok(a)) => a,
    };
    if status >= 400 {
        return vec![failed(format!("its click URL answered HTTP {status}"))];
    }
    // An impression URL is a pixel: any success will do.
    if scenario.event == Kind::Impression && (200..300).contains(&status) {
        return Vec::new();
    }
    let Some(location) = location.filter(|_| (300..400).contains(&status)) else {
        let d = Draft::new(Code::RedirectNotDirect)
            .arg("actual", format!("HTTP {status} without a redirect"))
            .finish();
        return vec![Finding::plain(d)];
    };
    let host = location
        .split("://")
        .nth(1)
        .and_then(|r| r.split(['/', '?', ':']).next())
        .unwrap_or("");
    let to_store =
        location.starts_with("market://") || STORES.iter().any(|s| host.eq_ignore_ascii_case(s));
    if !to_store {
        let via = if kind_for_host(host.as_bytes()).is_some() {
            " (via the tracking URL)"
        } else {
            ""
        };
        let d = Draft::new(Code::RedirectNotDirect)
            .arg(
                "actual",
                format!(
                    "HTTP {status} to {}{via}",
                    metrica_s2s_rules::quote_str(&location)
                ),
            )
            .finish();
        return vec![Finding::plain(d)];
    }
    let referrer = format!("referrer=appmetrica_click_id%3D{}", encode(&truth.click_id));
    if scenario.event == Kind::Click && !location.contains(&referrer) {
        let d = Draft::new(Code::ReferrerMissing)
            .quoted("actual", location.as_bytes())
            .arg("expected", encode(&truth.click_id))
            .finish();
        return vec![Finding {
            diagnostic: d,
            expected: Some(referrer),
            actual: Some(location),
        }];
    }
    Vec::new()
}

fn failed(reason: String) -> Finding {
    Finding::plain(
        Draft::new(Code::DriverFailed)
            .arg("reason", reason)
            .finish(),
    )
}

/// Percent-encodes everything but unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b => format!("%{b:02X}"),
        })
        .collect()
}

/// The device's click: its User-Agent and address as a proxy would pass them.
async fn get(url: &str, scenario: &Scenario) -> std::io::Result<(u16, Option<String>)> {
    let ip = scenario.device.ip.to_string();
    let r = crate::http::get(
        url,
        &[
            ("User-Agent", &scenario.device.ua),
            ("X-Forwarded-For", &ip),
        ],
    )
    .await?;
    Ok((r.status, r.header("location").map(str::to_owned)))
}
