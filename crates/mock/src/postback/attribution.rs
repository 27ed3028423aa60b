//! Which earlier click or impression a conversion belongs to, by AppMetrica's published
//! attribution policy: a device identifier first, then the install referrer's click id (either
//! 10 days), then the fingerprint of IP and User-Agent (24 hours), and impressions last
//! (24 hours). The last click wins, any click beats an impression, and among impressions the
//! latest wins.
//!
//! Pure: the touches and the conversion's time come in, a verdict goes out. The mock gathers
//! the touches from its journal; tests build them by hand.

use metrica_s2s_rules::Kind;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// AppMetrica uses a click or impression only when it arrives within 12 hours of the event.
pub(crate) const LATE_AFTER_MS: i64 = 12 * HOUR_MS;

/// How far back each kind of match reaches, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Windows {
    /// A click matched by referrer or device identifier: 1-10 days, 10 by default.
    pub(crate) identifier_ms: i64,
    /// A click matched by IP and User-Agent: 1-24 hours, 24 by default.
    pub(crate) fingerprint_ms: i64,
    /// An impression, however matched: 24 hours.
    pub(crate) impression_ms: i64,
}

impl Default for Windows {
    fn default() -> Self {
        Windows {
            identifier_ms: 10 * DAY_MS,
            fingerprint_ms: 24 * HOUR_MS,
            impression_ms: 24 * HOUR_MS,
        }
    }
}

/// Why a tracker's windows cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum WindowError {
    #[error("identifier_days = {0}: AppMetrica allows 1 to 10 days")]
    IdentifierDays(u32),
    #[error("fingerprint_hours = {0}: AppMetrica allows 1 to 24 hours")]
    FingerprintHours(u32),
}

impl Windows {
    /// A tracker's own windows, within the ranges AppMetrica's settings offer.
    pub(crate) fn new(
        identifier_days: u32,
        fingerprint_hours: u32,
    ) -> Result<Windows, WindowError> {
        if !(1..=10).contains(&identifier_days) {
            return Err(WindowError::IdentifierDays(identifier_days));
        }
        if !(1..=24).contains(&fingerprint_hours) {
            return Err(WindowError::FingerprintHours(fingerprint_hours));
        }
        Ok(Windows {
            identifier_ms: i64::from(identifier_days) * DAY_MS,
            fingerprint_ms: i64::from(fingerprint_hours) * HOUR_MS,
            ..Windows::default()
        })
    }

    /// Every window divided by `scale`, for tests that cannot wait days.
    pub(crate) fn scaled(self, scale: f64) -> Windows {
        let s = |ms: i64| ((ms as f64) / scale.max(1e-9)).round().max(1.0) as i64;
        Windows {
            identifier_ms: s(self.identifier_ms),
            fingerprint_ms: s(self.fingerprint_ms),
            impression_ms: s(self.impression_ms),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchType {
    Referrer,
    Identifier,
    Fingerprint,
}

impl MatchType {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Referrer => "referrer",
            MatchType::Identifier => "identifier",
            MatchType::Fingerprint => "fingerprint",
        }
    }
}

/// The device identifiers a touch or a conversion carries.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DeviceIds<'a> {
    pub(crate) google_aid: Option<&'a str>,
    pub(crate) ios_ifa: Option<&'a str>,
    pub(crate) oaid: Option<&'a str>,
    pub(crate) windows_aid: Option<&'a str>,
}

impl DeviceIds<'_> {
    /// Ids compare without regard to case (IDFAs arrive upper-case, GAIDs lower-case); an
    /// empty or all-zero id (limited ad tracking) matches nothing.
    fn shares_one_with(&self, other: &DeviceIds<'_>) -> bool {
        let same = |a: Option<&str>, b: Option<&str>| match (a.and_then(usable), b.and_then(usable))
        {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        same(self.google_aid, other.google_aid)
            || same(self.ios_ifa, other.ios_ifa)
            || same(self.oaid, other.oaid)
            || same(self.windows_aid, other.windows_aid)
    }
}

fn usable(id: &str) -> Option<&str> {
    let id = id.trim();
    (!metrica_s2s_rules::is_zeroed_id(id)).then_some(id)
}

/// One click or impression the mock journaled.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Touch<'a> {
    pub(crate) seq: u64,
    pub(crate) kind: Kind,
    /// When the event happened: its click_timestamp, or when it arrived if it has none.
    pub(crate) at_ms: i64,
    pub(crate) received_ms: i64,
    pub(crate) click_id: Option<&'a str>,
    /// The referrer may carry this instead of `click_id`.
    pub(crate) external_click_id: Option<&'a str>,
    pub(crate) ids: DeviceIds<'a>,
    /// The hashed ids it carries, as `HASHED_ID_PARAMS` names them.
    pub(crate) hashed: [Option<&'a str>; 8],
    pub(crate) device_ip: Option<IpAddr>,
    pub(crate) device_ua: Option<&'a str>,
    /// False for what AppMetrica would not count: a bot's click, or a request it refused.
    pub(crate) counted: bool,
}

/// The conversion as the app's SDK would report it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Conversion<'a> {
    pub(crate) at_ms: i64,
    pub(crate) referrer_click_id: Option<&'a str>,
    pub(crate) ids: DeviceIds<'a>,
    /// Digests of its raw ids (`hashed::digests_of`), to match touches that carry only those.
    pub(crate) digests: &'a [String],
    pub(crate) device_ip: Option<IpAddr>,
    pub(crate) device_ua: Option<&'a str>,
}

/// The touch a conversion is attributed to (an index into the touches given) and how.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Attribution {
    pub(crate) touch: usize,
    pub(crate) match_type: MatchType,
}

pub(crate) fn attribute(
    touches: &[Touch<'_>],
    c: &Conversion<'_>,
    w: &Windows,
) -> Option<Attribution> {
    let within = |t: &Touch<'_>, window: i64| {
        t.counted
            && t.received_ms - t.at_ms <= LATE_AFTER_MS
            && t.at_ms <= c.at_ms
            && c.at_ms - t.at_ms <= window
    };
    let clicks = || {
        touches
            .iter()
            .enumerate()
            .filter(|(_, t)| t.kind == Kind::Click)
    };
    let by_referrer = || {
        let r = c.referrer_click_id.filter(|r| !r.is_empty())?;
        latest(clicks().filter(|(_, t)| {
            (t.click_id == Some(r) || t.external_click_id == Some(r)) && within(t, w.identifier_ms)
        }))
    };
    let same_id = |t: &Touch<'_>| {
        t.ids.shares_one_with(&c.ids)
            || t.hashed
                .iter()
                .flatten()
                .any(|h| c.digests.iter().any(|d| d.eq_ignore_ascii_case(h.trim())))
    };
    let by_identifier =
        || latest(clicks().filter(|(_, t)| same_id(t) && within(t, w.identifier_ms)));
    let by_fingerprint =
        || latest(clicks().filter(|(_, t)| same_device(t, c) && within(t, w.fingerprint_ms)));
    // AppMetrica's order: the device's identifier, then the install referrer, then the
    // fingerprint.
    let found = by_identifier()
        .map(|i| (i, MatchType::Identifier))
        .or_else(|| by_referrer().map(|i| (i, MatchType::Referrer)))
        .or_else(|| by_fingerprint().map(|i| (i, MatchType::Fingerprint)))
        .or_else(|| {
            let impression = latest(touches.iter().enumerate().filter(|(_, t)| {
                t.kind == Kind::Impression
                    && within(t, w.impression_ms)
                    && (t.ids.shares_one_with(&c.ids) || same_device(t, c))
            }))?;
            let how = if touches[impression].ids.shares_one_with(&c.ids) {
                MatchType::Identifier
            } else {
                MatchType::Fingerprint
            };
            Some((impression, how))
        })?;
    Some(Attribution {
        touch: found.0,
        match_type: found.1,
    })
}

/// The latest by event time; of two at the same time, the one journaled later.
fn latest<'a, 't: 'a>(candidates: impl Iterator<Item = (usize, &'a Touch<'t>)>) -> Option<usize> {
    candidates
        .max_by_key(|(_, t)| (t.at_ms, t.seq))
        .map(|(i, _)| i)
}

/// Same IP (an IPv4 address and its IPv4-mapped IPv6 form are one) and the same User-Agent.
fn same_device(t: &Touch<'_>, c: &Conversion<'_>) -> bool {
    let ip = match (t.device_ip, c.device_ip) {
        (Some(a), Some(b)) => a.to_canonical() == b.to_canonical(),
        _ => false,
    };
    let ua = match (t.device_ua, c.device_ua) {
        (Some(a), Some(b)) => !a.trim().is_empty() && a.trim() == b.trim(),
        _ => false,
    };
    ip && ua
}

#[cfg(test)]
mod tests {
    use crate::postback::attribution::*;

    const NOW: i64 = 1_795_860_000_000;
    const GAID: &str = "38400000-8cf0-11bd-b23e-10b96e40000d";
    const UA: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X)";

    fn click(seq: u64, ago_ms: i64) -> Touch<'static> {
        Touch {
            seq,
            kind: Kind::Click,
            at_ms: NOW - ago_ms,
            received_ms: NOW - ago_ms + 1_000,
            click_id: None,
            external_click_id: None,
            ids: DeviceIds::default(),
            hashed: [None; 8],
            device_ip: None,
            device_ua: None,
            counted: true,
        }
    }

    fn with_gaid(t: Touch<'static>) -> Touch<'static> {
        Touch {
            ids: DeviceIds {
                google_aid: Some(GAID),
                ..DeviceIds::default()
            },
            ..t
        }
    }

    fn fingerprinted(t: Touch<'static>, ip: &str) -> Touch<'static> {
        Touch {
            device_ip: ip.parse().ok(),
            device_ua: Some(UA),
            ..t
        }
    }

    fn install() -> Conversion<'static> {
        Conversion {
            at_ms: NOW,
            ..Conversion::default()
        }
    }

    fn by_gaid(id: &'static str) -> Conversion<'static> {
        Conversion {
            ids: DeviceIds {
                google_aid: Some(id),
                ..DeviceIds::default()
            },
            ..install()
        }
    }

    fn verdict(touches: &[Touch<'_>], c: &Conversion<'_>) -> Option<(u64, MatchType)> {
        attribute(touches, c, &Windows::default()).map(|a| (touches[a.touch].seq, a.match_type))
    }

    #[test]
    fn the_last_click_by_identifier_wins_within_ten_days() {
        let touches = [
            with_gaid(click(1, 3 * DAY_MS)),
            with_gaid(click(2, DAY_MS)),
            with_gaid(click(3, 11 * DAY_MS)),
        ];
        assert_eq!(
            verdict(&touches, &by_gaid(GAID)),
            Some((2, MatchType::Identifier))
        );
        let upper = GAID.to_ascii_uppercase().leak();
        assert_eq!(
            verdict(&touches, &by_gaid(upper)),
            Some((2, MatchType::Identifier)),
            "ids compare without case"
        );
        assert_eq!(verdict(&touches[2..], &by_gaid(GAID)), None, "11 days ago");
    }

    #[test]
    fn the_identifier_goes_before_the_referrer_as_appmetrica_documents() {
        let mut referred = click(1, 5 * DAY_MS);
        referred.click_id = Some("abc");
        let touches = [referred, with_gaid(click(2, HOUR_MS))];
        let c = Conversion {
            referrer_click_id: Some("abc"),
            ..by_gaid(GAID)
        };
        assert_eq!(verdict(&touches, &c), Some((2, MatchType::Identifier)));
        let no_id = Conversion {
            referrer_click_id: Some("abc"),
            ids: DeviceIds::default(),
            ..by_gaid(GAID)
        };
        assert_eq!(verdict(&touches, &no_id), Some((1, MatchType::Referrer)));
        let mut external = click(3, DAY_MS);
        external.external_click_id = Some("ext-9");
        let by_external = Conversion {
            referrer_click_id: Some("ext-9"),
            ids: DeviceIds::default(),
            ..by_gaid(GAID)
        };
        assert_eq!(
            verdict(&[external], &by_external),
            Some((3, MatchType::Referrer)),
            "the referrer may carry external_click_id"
        );
        let unknown = Conversion {
            referrer_click_id: Some("zzz"),
            ..by_gaid(GAID)
        };
        assert_eq!(
            verdict(&touches, &unknown),
            Some((2, MatchType::Identifier))
        );
    }

    #[test]
    fn fingerprints_reach_back_24_hours_and_ipv4_equals_its_mapped_form() {
        let touches = [
            fingerprinted(click(1, 23 * HOUR_MS), "5.255.232.147"),
            fingerprinted(click(2, 25 * HOUR_MS), "5.255.232.147"),
        ];
        let c = Conversion {
            device_ip: "::ffff:5.255.232.147".parse().ok(),
            device_ua: Some(UA),
            ..install()
        };
        assert_eq!(verdict(&touches, &c), Some((1, MatchType::Fingerprint)));
        assert_eq!(verdict(&touches[1..], &c), None);
        let other_ua = Conversion {
            device_ua: Some("Mozilla/5.0 (Linux; Android 14)"),
            ..c
        };
        assert_eq!(verdict(&touches, &other_ua), None);
    }

    #[test]
    fn any_click_beats_an_impression_and_the_latest_impression_wins() {
        let impression = |seq, ago| Touch {
            kind: Kind::Impression,
            ..with_gaid(click(seq, ago))
        };
        let touches = [impression(1, HOUR_MS), with_gaid(click(2, 20 * HOUR_MS))];
        assert_eq!(
            verdict(&touches, &by_gaid(GAID)),
            Some((2, MatchType::Identifier))
        );
        let only_impressions = [impression(3, 2 * HOUR_MS), impression(4, HOUR_MS)];
        assert_eq!(
            verdict(&only_impressions, &by_gaid(GAID)),
            Some((4, MatchType::Identifier))
        );
        let old = [impression(5, 25 * HOUR_MS)];
        assert_eq!(verdict(&old, &by_gaid(GAID)), None, "impressions: 24 hours");
    }

    #[test]
    fn bots_late_arrivals_later_events_and_zero_ids_are_not_counted() {
        let mut bot = with_gaid(click(1, HOUR_MS));
        bot.counted = false;
        let mut late = with_gaid(click(2, 2 * HOUR_MS));
        late.received_ms = late.at_ms + 13 * HOUR_MS;
        let after = with_gaid(click(3, -1_000));
        assert_eq!(verdict(&[bot, late, after], &by_gaid(GAID)), None);
        let zero = "00000000-0000-0000-0000-000000000000";
        let touches = [Touch {
            ids: DeviceIds {
                google_aid: Some(zero),
                ..DeviceIds::default()
            },
            ..click(4, HOUR_MS)
        }];
        assert_eq!(
            verdict(&touches, &by_gaid(zero)),
            None,
            "limited ad tracking"
        );
    }

    #[test]
    fn windows_are_configurable_within_appmetricas_ranges() {
        let w = Windows::new(1, 2).expect("in range");
        let touches = [
            with_gaid(fingerprinted(click(1, 3 * HOUR_MS), "1.2.3.4")),
            with_gaid(click(2, 2 * DAY_MS)),
        ];
        let c = Conversion {
            device_ip: "1.2.3.4".parse().ok(),
            device_ua: Some(UA),
            ..install()
        };
        assert_eq!(attribute(&touches, &c, &w), None, "3 h ago, 2 h window");
        assert_eq!(attribute(&touches[1..], &by_gaid(GAID), &w), None);
        assert_eq!(Windows::new(11, 24), Err(WindowError::IdentifierDays(11)));
        assert_eq!(Windows::new(10, 0), Err(WindowError::FingerprintHours(0)));
        assert_eq!(Windows::default().scaled(1000.0).identifier_ms, 864_000);
    }
}
