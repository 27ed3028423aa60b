//! Suites: scenarios whose truth the runner knows (device, event, expectations).

use metrica_s2s_mock::model::FaultSpec;
use metrica_s2s_mock::model::MatchType;
use metrica_s2s_mock::model::{ConversionKind, PostbackMethod};
use metrica_s2s_rules::Kind;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Why a suite file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error("cannot read suite {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("suite {path} is not valid: {source}")]
    InFile {
        path: PathBuf,
        source: Box<SuiteError>,
    },
    #[error("{0}")]
    Toml(String),
    #[error("scenario id {0:?} is used twice")]
    DuplicateId(String),
    #[error("scenario {scenario:?}: tag {tag:?} is neither required nor recommended")]
    BadTag { scenario: String, tag: String },
    #[error("the suite has no scenarios")]
    Empty,
    #[error("scenario {scenario:?}: {reason}")]
    Scenario {
        scenario: String,
        reason: &'static str,
    },
}

/// The standard suite, compiled in from the same file users can read and copy.
pub const STANDARD: &str = include_str!("../suites/standard.toml");

#[derive(Clone, Debug)]
pub struct Suite {
    pub id: String,
    pub title: String,
    /// sha256 of the suite file's bytes, so a certification result can be reproduced.
    pub sha256: String,
    pub scenarios: Vec<Scenario>,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub id: String,
    pub title: String,
    pub event: Kind,
    pub required: bool,
    pub device: Device,
    pub requests: usize,
    pub timestamp_tolerance_secs: u64,
    pub timeout_ms: u64,
    pub settle_ms: u64,
    /// After the click, a conversion and its postback to the partner's receiver (run only for
    /// partners with a `[postback]` table).
    pub postback: Option<PostbackSpec>,
    /// The mock fails the scenario's first `times` requests this way; the partner is to send
    /// the event again, unchanged.
    pub fault: Option<FaultSpec>,
}

/// The conversion a postback scenario reports, and how the mock is to attribute it.
#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PostbackSpec {
    pub event: ConversionKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    /// referrer: the install referrer's click id; identifier: the device's advertising id;
    /// fingerprint: its IP and User-Agent.
    #[serde(rename = "match")]
    pub match_type: MatchType,
    /// The partner's `[postback] method` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<PostbackMethod>,
}

#[derive(Clone, Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Device {
    pub ua: String,
    pub ip: std::net::IpAddr,
    pub google_aid: Option<String>,
    pub ios_ifa: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    suite: Header,
    #[serde(default)]
    defaults: Defaults,
    scenario: Vec<ScenarioDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    id: String,
    title: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Defaults {
    requests: Option<usize>,
    timestamp_tolerance_secs: Option<u64>,
    timeout_ms: Option<u64>,
    settle_ms: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioDef {
    id: String,
    title: String,
    event: Kind,
    #[serde(default)]
    tags: Vec<String>,
    device: Device,
    requests: Option<usize>,
    timestamp_tolerance_secs: Option<u64>,
    timeout_ms: Option<u64>,
    settle_ms: Option<u64>,
    postback: Option<PostbackSpec>,
    fault: Option<FaultSpec>,
}

impl Suite {
    pub fn standard() -> Result<Suite, SuiteError> {
        Suite::parse(STANDARD)
    }

    pub fn load(path: &Path) -> Result<Suite, SuiteError> {
        let text = std::fs::read_to_string(path).map_err(|source| SuiteError::Read {
            path: path.to_owned(),
            source,
        })?;
        Suite::parse(&text).map_err(|e| SuiteError::InFile {
            path: path.to_owned(),
            source: Box::new(e),
        })
    }

    pub fn parse(text: &str) -> Result<Suite, SuiteError> {
        let file: File =
            toml::from_str(text).map_err(|e| SuiteError::Toml(e.to_string().replace('\n', " ")))?;
        let d = &file.defaults;
        let mut scenarios = Vec::new();
        for s in file.scenario {
            if scenarios.iter().any(|o: &Scenario| o.id == s.id) {
                return Err(SuiteError::DuplicateId(s.id));
            }
            if let Some(t) = s
                .tags
                .iter()
                .find(|t| !matches!(t.as_str(), "required" | "recommended"))
            {
                return Err(SuiteError::BadTag {
                    scenario: s.id.clone(),
                    tag: t.clone(),
                });
            }
            if let Some(p) = &s.postback {
                let reason = if s.event != Kind::Click {
                    Some("postback scenarios attribute to a click: event must be \"click\"")
                } else if p.match_type == MatchType::Identifier
                    && s.device.google_aid.is_none()
                    && s.device.ios_ifa.is_none()
                {
                    Some("match = \"identifier\" needs a device with google_aid or ios_ifa")
                } else if p.event_name.is_some() && p.event != ConversionKind::Event {
                    Some("event_name is for event = \"event\" postbacks only")
                } else {
                    None
                };
                if let Some(reason) = reason {
                    return Err(SuiteError::Scenario {
                        scenario: s.id.clone(),
                        reason,
                    });
                }
            }
            if let Some(f) = &s.fault {
                let reason = if f.tracking_id.is_some() {
                    Some("fault: leave tracking_id out; each run's scenario has a tracker of its own")
                } else if f.times.is_none() || f.probability.is_some() {
                    Some("fault: give `times` (how many attempts fail) and no probability, so the runner knows how many attempts to expect")
                } else {
                    f.check()
                        .err()
                        .map(|_| "fault: not a valid fault (see POST /__admin/faults)")
                };
                if let Some(reason) = reason {
                    return Err(SuiteError::Scenario {
                        scenario: s.id.clone(),
                        reason,
                    });
                }
            }
            scenarios.push(Scenario {
                fault: s.fault,
                postback: s.postback,
                required: !s.tags.iter().any(|t| t == "recommended"),
                requests: s.requests.or(d.requests).unwrap_or(1),
                timestamp_tolerance_secs: s
                    .timestamp_tolerance_secs
                    .or(d.timestamp_tolerance_secs)
                    .unwrap_or(60),
                timeout_ms: s.timeout_ms.or(d.timeout_ms).unwrap_or(3000),
                settle_ms: s.settle_ms.or(d.settle_ms).unwrap_or(300).min(500),
                id: s.id,
                title: s.title,
                event: s.event,
                device: s.device,
            });
        }
        if scenarios.is_empty() {
            return Err(SuiteError::Empty);
        }
        Ok(Suite {
            id: file.suite.id,
            title: file.suite.title,
            sha256: hex(&Sha256::digest(text.as_bytes())),
            scenarios,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_suite_covers_what_the_issue_lists() {
        let s = Suite::standard().expect("valid");
        assert_eq!(s.id, "standard");
        assert_eq!(s.sha256.len(), 64);
        let has = |f: &dyn Fn(&Scenario) -> bool| s.scenarios.iter().any(f);
        assert!(has(&|x| x.event == Kind::Click
            && x.device.google_aid.is_some()
            && x.device.ip.is_ipv4()));
        assert!(has(&|x| x.event == Kind::Click
            && x.device.ios_ifa.is_some()
            && x.device.ip.is_ipv6()));
        assert!(has(&|x| x.event == Kind::Impression));
        assert!(has(
            &|x| x.device.google_aid.is_none() && x.device.ios_ifa.is_none()
        ));
        assert!(has(&|x| ['+', '&', '#', '%', '=', ';']
            .iter()
            .all(|c| x.device.ua.contains(*c))));
        assert!(has(&|x| x
            .device
            .ua
            .chars()
            .any(|c| ('А'..='я').contains(&c))));
        assert!(has(&|x| x.device.ua.chars().count() >= 600));
        let pb = |m: MatchType| {
            move |x: &Scenario| x.postback.as_ref().is_some_and(|p| p.match_type == m)
        };
        assert!(has(
            &|x| pb(MatchType::Identifier)(x) && x.device.google_aid.is_some()
        ));
        assert!(has(&pb(MatchType::Referrer)));
        assert!(has(&|x| pb(MatchType::Fingerprint)(x)
            && x.device.ip.is_ipv6()
            && x.device.ua.contains("iPhone")));
        assert!(has(&|x| x.postback.as_ref().is_some_and(|p| p.event
            == ConversionKind::Event
            && p.event_name.as_ref().is_some_and(|n| n
                .chars()
                .any(|c| ('А'..='я').contains(&c))))));
        assert!(has(&|x| x
            .postback
            .as_ref()
            .is_some_and(|p| p.method == Some(PostbackMethod::Post))));
    }

    #[test]
    fn bad_suites_say_why() {
        assert!(matches!(
            Suite::parse("scenario = []\n[suite]\nid='x'\ntitle='t'"),
            Err(SuiteError::Empty)
        ));
        let dup = "[suite]\nid='x'\ntitle='t'\n[[scenario]]\nid='a'\ntitle='t'\nevent='click'\ndevice={ua='u', ip='1.2.3.4'}\n[[scenario]]\nid='a'\ntitle='t'\nevent='click'\ndevice={ua='u', ip='1.2.3.4'}";
        assert!(matches!(Suite::parse(dup), Err(SuiteError::DuplicateId(id)) if id == "a"));
        let bad_ip = "[suite]\nid='x'\ntitle='t'\n[[scenario]]\nid='a'\ntitle='t'\nevent='click'\ndevice={ua='u', ip='1.2.3'}";
        assert!(Suite::parse(bad_ip).is_err());
    }
}
