//! The tracker file: which trackers exist, their platform and store URL.
//!
//! ```toml
//! [defaults]
//! allow_unknown = true   # accept tracking ids not listed below (the default)
//! android_store_url = "https://play.google.com/store/apps/details?id=com.example.app"
//! ios_store_url = "https://apps.apple.com/app/id1234567890"
//!
//! [[tracker]]
//! id = "1234567890123456789"   # a string or an integer: ids above i64 do not fit TOML integers
//! name = "Example app, Android"
//! platform = "android"          # android | ios | any
//! store_url = "https://play.google.com/store/apps/details?id=com.example.app"
//! attribution = { identifier_days = 10, fingerprint_hours = 24 }   # optional
//!
//! [[tracker.postback]]          # up to 5 per tracker, as AppMetrica allows
//! event = "install"             # install | event | purchase
//! method = "GET"                # or POST, with `body`
//! url = "http://127.0.0.1:9100/pb?click_id={click_id}&tx={transaction_id}&ip={install_ipv6}"
//! ```

use crate::fault::{FaultError, FaultSpec, Faults};
use crate::postback::attribution::Windows;
use crate::postback::policy::Policy;
use crate::postback::template::{Template, TemplateError};
use metrica_s2s_rules::{Diagnostic, Platform, TrackerStatus};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// How the mock answers requests that break error-severity rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// 400 problem+json with the diagnostics: what a partner needs to see in development.
    Strict,
    /// 204 whatever the diagnostics, as production may; diagnostics only in the journal.
    Lenient,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Strict => "strict",
            Mode::Lenient => "lenient",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TrackersError {
    #[error("cannot read tracker file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("tracker file {path} is not valid: {source}")]
    Invalid {
        path: PathBuf,
        source: TrackerFileError,
    },
}

/// What is wrong inside a tracker file.
#[derive(Debug, thiserror::Error)]
pub enum TrackerFileError {
    #[error("{0}")]
    Toml(String),
    #[error("tracker id {0} is negative")]
    NegativeId(i64),
    #[error("tracker id {0:?} is not 1-20 decimal digits within u64")]
    BadId(String),
    #[error("{place} {url:?} {why}; a store URL is sent as the 302's Location: use an absolute http(s) URL without spaces or control characters")]
    StoreUrl {
        place: String,
        url: String,
        why: &'static str,
    },
    #[error("tracker {0} is listed twice")]
    Twice(u64),
    #[error("tracker {id}: postback {index}: {source}")]
    Postback {
        id: u64,
        index: usize,
        source: TemplateError,
    },
    #[error("tracker {id} has {count} postbacks; AppMetrica allows at most {MAX_POSTBACKS}")]
    TooManyPostbacks { id: u64, count: usize },
    #[error("tracker {id}: attribution {reason}")]
    Window { id: u64, reason: String },
    #[error("tracker {id}: {reason}")]
    Policy { id: u64, reason: String },
    #[error("tracker {id}: fault {index}: {reason}")]
    Fault {
        id: u64,
        index: usize,
        reason: String,
    },
    #[error("test_devices: {value:?} {why}")]
    TestDevice { value: String, why: &'static str },
}

/// The application of a tracker that names none.
const DEFAULT_APPLICATION: u64 = 1;

/// Postbacks per tracker AppMetrica allows.
pub(crate) const MAX_POSTBACKS: usize = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum TrackerPlatform {
    Android,
    Ios,
    Any,
}

#[derive(Clone, Debug)]
pub(crate) struct Tracker {
    /// As the tracker file names it (the Logs API's `tracker_name`).
    pub(crate) name: String,
    pub(crate) platform: TrackerPlatform,
    pub(crate) store_url: String,
    pub(crate) postbacks: Vec<Template>,
    pub(crate) windows: Windows,
    /// `[[tracker.fault]]`: set when the mock starts, for this tracker only.
    pub(crate) faults: Vec<FaultSpec>,
    /// `[tracker.postback_policy]`: how its postbacks are judged and retried.
    pub(crate) policy: Policy,
    /// A reinstall through this tracker of a device installed through another is attributed
    /// again (AppMetrica's reattribution switch, off by default).
    pub(crate) reattribution: bool,
    /// The application the tracker belongs to, for the Logs API's `application_id`.
    pub(crate) application_id: u64,
}

const DEFAULT_ANDROID_STORE: &str = "https://play.google.com/store/apps/details?id=com.example.app";
const DEFAULT_IOS_STORE: &str = "https://apps.apple.com/app/id1234567890";

/// The configured trackers, or none (every tracking id accepted).
#[derive(Clone, Debug)]
pub struct Trackers {
    by_id: HashMap<u64, Tracker>,
    /// What the file's postback templates use that AppMetrica does not document.
    warnings: Vec<Diagnostic>,
    allow_unknown: bool,
    android_store_url: String,
    ios_store_url: String,
    /// Advertising ids (lower case) whose every install is attributed afresh, as AppMetrica
    /// treats the test devices registered in an app's settings.
    test_devices: HashSet<String>,
}

impl Default for Trackers {
    fn default() -> Self {
        Trackers {
            by_id: HashMap::new(),
            warnings: Vec::new(),
            allow_unknown: true,
            android_store_url: DEFAULT_ANDROID_STORE.into(),
            ios_store_url: DEFAULT_IOS_STORE.into(),
            test_devices: HashSet::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    test_devices: Vec<String>,
    #[serde(default)]
    defaults: Option<Defaults>,
    #[serde(default)]
    tracker: Vec<TrackerDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    allow_unknown: Option<bool>,
    android_store_url: Option<String>,
    ios_store_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackerDef {
    id: IdDef,
    name: String,
    platform: TrackerPlatform,
    store_url: String,
    #[serde(default)]
    postback: Vec<Template>,
    attribution: Option<WindowsDef>,
    #[serde(default)]
    fault: Vec<FaultSpec>,
    #[serde(default)]
    postback_policy: Policy,
    #[serde(default)]
    reattribution: bool,
    application_id: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowsDef {
    identifier_days: Option<u32>,
    fingerprint_hours: Option<u32>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IdDef {
    Int(i64),
    Text(String),
}

impl Trackers {
    pub fn load(path: &Path) -> Result<Trackers, TrackersError> {
        let text = std::fs::read_to_string(path).map_err(|source| TrackersError::Read {
            path: path.to_owned(),
            source,
        })?;
        Trackers::parse(&text).map_err(|source| TrackersError::Invalid {
            path: path.to_owned(),
            source,
        })
    }

    pub fn parse(text: &str) -> Result<Trackers, TrackerFileError> {
        /// A store URL the 302 can carry as it is, or why not.
        fn checked_store_url(
            url: &str,
            place: impl FnOnce() -> String,
        ) -> Result<(), TrackerFileError> {
            let why = if url.chars().any(|c| c.is_control()) {
                Some("has a control character (CR, LF, NUL, ...), which would break the Location header")
            } else if url.contains(' ') {
                Some("has a space")
            } else if !(url.starts_with("https://") || url.starts_with("http://")) {
                Some("is not an http(s) URL")
            } else if url
                .parse::<axum::http::Uri>()
                .ok()
                .and_then(|u| u.host().map(|h| !h.is_empty()))
                != Some(true)
            {
                Some("names no host")
            } else {
                None
            };
            match why {
                None => Ok(()),
                Some(why) => Err(TrackerFileError::StoreUrl {
                    place: place(),
                    url: url.to_owned(),
                    why,
                }),
            }
        }

        let file: File = toml::from_str(text)
            .map_err(|e| TrackerFileError::Toml(e.to_string().replace('\n', " ")))?;
        let mut t = Trackers::default();
        for id in file.test_devices {
            let why = if id.trim().is_empty() {
                Some("is empty")
            } else if id.len() > 64 || id.chars().any(char::is_control) {
                Some("is not an advertising id (a Google AID or an IDFA)")
            } else if metrica_s2s_rules::is_zeroed_id(&id) {
                Some("is all zeros: a device with ad tracking limited sends it, and it names no device")
            } else {
                None
            };
            if let Some(why) = why {
                return Err(TrackerFileError::TestDevice { value: id, why });
            }
            t.test_devices.insert(id.trim().to_ascii_lowercase());
        }
        if let Some(d) = file.defaults {
            t.allow_unknown = d.allow_unknown.unwrap_or(true);
            t.android_store_url = d.android_store_url.unwrap_or(t.android_store_url);
            t.ios_store_url = d.ios_store_url.unwrap_or(t.ios_store_url);
            checked_store_url(&t.android_store_url, || {
                "[defaults] android_store_url".into()
            })?;
            checked_store_url(&t.ios_store_url, || "[defaults] ios_store_url".into())?;
        }
        for def in file.tracker {
            let id = match def.id {
                IdDef::Int(n) => u64::try_from(n).map_err(|_| TrackerFileError::NegativeId(n))?,
                IdDef::Text(s) => s
                    .parse::<u64>()
                    .ok()
                    .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
                    .ok_or(TrackerFileError::BadId(s))?,
            };
            checked_store_url(&def.store_url, || format!("tracker {id}: store_url"))?;
            if def.postback.len() > MAX_POSTBACKS {
                return Err(TrackerFileError::TooManyPostbacks {
                    id,
                    count: def.postback.len(),
                });
            }
            for (index, p) in def.postback.iter().enumerate() {
                p.check().map_err(|source| TrackerFileError::Postback {
                    id,
                    index: index + 1,
                    source,
                })?;
            }
            t.warnings
                .extend(crate::postback::template::macro_warnings(id, &def.postback));
            let windows = match def.attribution {
                None => Windows::default(),
                Some(w) => Windows::new(
                    w.identifier_days.unwrap_or(10),
                    w.fingerprint_hours.unwrap_or(24),
                )
                .map_err(|e| TrackerFileError::Window {
                    id,
                    reason: e.to_string(),
                })?,
            };
            let mut faults = def.fault;
            for (index, f) in faults.iter_mut().enumerate() {
                if f.tracking_id.is_some() {
                    return Err(TrackerFileError::Fault {
                        id,
                        index: index + 1,
                        reason: FaultError {
                            field: "tracking_id",
                            detail: "is the tracker's own: leave it out".into(),
                        }
                        .to_string(),
                    });
                }
                f.tracking_id = Some(id.into());
                f.check().map_err(|e| TrackerFileError::Fault {
                    id,
                    index: index + 1,
                    reason: e.to_string(),
                })?;
            }
            def.postback_policy
                .check()
                .map_err(|e| TrackerFileError::Policy {
                    id,
                    reason: e.to_string(),
                })?;
            let tracker = Tracker {
                name: def.name,
                platform: def.platform,
                store_url: def.store_url,
                postbacks: def.postback,
                windows,
                faults,
                policy: def.postback_policy,
                reattribution: def.reattribution,
                application_id: def.application_id.unwrap_or(DEFAULT_APPLICATION),
            };
            if t.by_id.insert(id, tracker).is_some() {
                return Err(TrackerFileError::Twice(id));
            }
        }
        Ok(t)
    }

    /// The application tracker `id` belongs to: its own, or 1 for one the file does not list.
    pub(crate) fn application_id(&self, id: u64) -> u64 {
        self.get(id)
            .map_or(DEFAULT_APPLICATION, |t| t.application_id)
    }

    /// Whether one of `ids` (lower case) is a test device's, which reattribution never skips.
    pub(crate) fn is_test_device(&self, ids: &[String]) -> bool {
        ids.iter().any(|id| self.test_devices.contains(id))
    }

    /// The file's postback macros AppMetrica does not document (`postback-macro-unknown`).
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub(crate) fn get(&self, id: u64) -> Option<&Tracker> {
        self.by_id.get(&id)
    }

    /// Sets every tracker's `[[tracker.fault]]` in `faults`.
    pub(crate) fn add_faults(&self, faults: &Faults) {
        let mut ids: Vec<&u64> = self.by_id.keys().collect();
        ids.sort();
        for id in ids {
            for f in &self.by_id[id].faults {
                // Checked when the file was read.
                let _ = faults.add(f.clone());
            }
        }
    }

    /// The attribution windows of tracker `id`: its own, or AppMetrica's defaults.
    pub(crate) fn windows(&self, id: u64) -> Windows {
        self.by_id
            .get(&id)
            .map_or_else(Windows::default, |t| t.windows)
    }

    /// How tracker `id`'s postbacks are judged and retried: its own policy, or the default.
    pub(crate) fn policy(&self, id: u64) -> Policy {
        self.by_id
            .get(&id)
            .map_or_else(Policy::default, |t| t.policy)
    }

    /// What the rule engine needs to know about `id`.
    pub(crate) fn status(&self, id: u64) -> TrackerStatus {
        match self.by_id.get(&id) {
            Some(t) => TrackerStatus::Known(match t.platform {
                TrackerPlatform::Android => Some(Platform::Android),
                TrackerPlatform::Ios => Some(Platform::Ios),
                TrackerPlatform::Any => None,
            }),
            None if self.allow_unknown => TrackerStatus::Unchecked,
            None => TrackerStatus::Unknown,
        }
    }

    /// Where `noredirect=0` sends the user: the tracker's store, or the default store of the
    /// device's platform for an unknown tracker.
    pub(crate) fn store_url(&self, id: Option<u64>, device: Option<Platform>) -> &str {
        match id.and_then(|id| self.by_id.get(&id)) {
            Some(t) => &t.store_url,
            None if device == Some(Platform::Ios) => &self.ios_store_url,
            None => &self.android_store_url,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::trackers::*;

    #[test]
    fn parses_the_documented_example() {
        let t = Trackers::parse(
            r#"
            [defaults]
            allow_unknown = false
            [[tracker]]
            id = "18446744073709551615"
            name = "Big"
            platform = "ios"
            store_url = "https://apps.apple.com/app/id1"
            [[tracker]]
            id = 42
            name = "Small"
            platform = "any"
            store_url = "https://play.google.com/store/apps/details?id=x"
            "#,
        )
        .expect("valid");
        assert_eq!(t.len(), 2);
        assert_eq!(
            t.status(u64::MAX),
            TrackerStatus::Known(Some(Platform::Ios))
        );
        assert_eq!(t.status(42), TrackerStatus::Known(None));
        assert_eq!(t.status(7), TrackerStatus::Unknown);
        assert_eq!(
            t.store_url(Some(42), None),
            "https://play.google.com/store/apps/details?id=x"
        );
    }

    #[test]
    fn unknown_trackers_get_a_store_by_platform() {
        let t = Trackers::default();
        assert_eq!(t.status(7), TrackerStatus::Unchecked);
        assert_eq!(t.store_url(Some(7), Some(Platform::Ios)), DEFAULT_IOS_STORE);
        assert_eq!(
            t.store_url(None, Some(Platform::Android)),
            DEFAULT_ANDROID_STORE
        );
    }

    #[test]
    fn postbacks_and_windows_are_read_and_checked() {
        let head = "[[tracker]]\nid = 1\nname = \"a\"\nplatform = \"android\"\nstore_url = \"https://x\"\n";
        let t = Trackers::parse(&format!(
            "{head}attribution = {{ identifier_days = 3, fingerprint_hours = 6 }}\n[[tracker.postback]]\nevent = \"install\"\nurl = \"http://127.0.0.1:9/pb?c={{click_id}}\"\n[[tracker.postback]]\nevent = \"event\"\nevent_name = \"покупка\"\nmethod = \"POST\"\nurl = \"https://example.com/pb\"\nbody = '{{\"tx\":\"{{transaction_id}}\"}}'\n"
        ))
        .expect("valid");
        let tracker = t.get(1).expect("tracker");
        assert_eq!(tracker.postbacks.len(), 2);
        assert_eq!(t.windows(1), Windows::new(3, 6).expect("in range"));
        assert_eq!(t.windows(2), Windows::default());

        let e = Trackers::parse(&format!(
            "{head}[[tracker.postback]]\nevent = \"install\"\nurl = \"http://{{host}}/pb\"\n"
        ))
        .expect_err("macro in host")
        .to_string();
        assert!(
            e.contains("tracker 1: postback 1") && e.contains("host"),
            "{e}"
        );
        let e = Trackers::parse(&format!("{head}attribution = {{ identifier_days = 30 }}\n"))
            .expect_err("window")
            .to_string();
        assert!(e.contains("identifier_days = 30"), "{e}");
        let six =
            "[[tracker.postback]]\nevent = \"install\"\nurl = \"http://127.0.0.1:9/\"\n".repeat(6);
        let e = Trackers::parse(&format!("{head}{six}"))
            .expect_err("six")
            .to_string();
        assert!(e.contains("at most 5"), "{e}");
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let e = Trackers::parse("[[tracker]]\nid = \"12x\"\nname = \"a\"\nplatform = \"android\"\nstore_url = \"https://x\"").expect_err("bad id");
        assert!(
            matches!(&e, TrackerFileError::BadId(id) if id == "12x"),
            "{e}"
        );
        let e = Trackers::parse(
            "[[tracker]]\nid = 1\nname = \"a\"\nplatform = \"web\"\nstore_url = \"https://x\"",
        )
        .expect_err("bad platform")
        .to_string();
        assert!(e.contains("web") || e.contains("platform"), "{e}");
        let e = Trackers::parse("[[trackers]]\nid = 1")
            .expect_err("typo")
            .to_string();
        assert!(e.contains("trackers"), "{e}");
    }

    #[test]
    fn store_urls_that_would_break_the_redirect_are_refused_at_load() {
        let tracker = |url: &str| {
            format!(
                "[[tracker]]\nid = 1\nname = \"a\"\nplatform = \"android\"\nstore_url = \"{url}\""
            )
        };
        for (url, why) in [
            ("https://x/a\\r\\nSet-Cookie: a=b", "control character"),
            ("https://x/\\u0000", "control character"),
            ("javascript:alert(1)", "not an http(s) URL"),
            ("https://x/a b", "space"),
            ("https://", "no host"),
        ] {
            let e = Trackers::parse(&tracker(url)).expect_err(url).to_string();
            assert!(
                e.contains(why) && e.contains("tracker 1: store_url"),
                "{url}: {e}"
            );
        }
        let e = Trackers::parse("[defaults]\nandroid_store_url = \"javascript:alert(1)\"")
            .expect_err("defaults")
            .to_string();
        assert!(e.contains("[defaults] android_store_url"), "{e}");
        assert!(Trackers::parse(&tracker(
            "https://play.google.com/store/apps/details?id=a.b"
        ))
        .is_ok());
    }
}
