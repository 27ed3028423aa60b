//! The installs the mock has seen, per device: AppMetrica attributes an event, a purchase, an
//! e-commerce or an ad-revenue conversion through the device's install, not by the
//! conversion's own time. A second install of a known device is a reinstall.
//!
//! A device is known by any of its advertising ids, or failing those by its IP and
//! User-Agent together, as the conversion API reports them.

use super::attribution::MatchType;
use super::template::ConversionKind;
use crate::journal::Entry;
use crate::lock::lock;
use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Installs kept; the oldest go first. A day of a busy test's installs, in a few megabytes.
const KEPT: usize = 100_000;

/// AppMetrica sends event, purchase, e-commerce and ad-revenue postbacks for conversions within
/// 6 months of the install.
pub(crate) const CONVERSIONS_WITHIN_MS: i64 = 183 * 24 * 3_600_000;

/// The device's identity as recorded: ids lowercased, the fingerprint as sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Device {
    pub(crate) ids: Vec<String>,
    pub(crate) ip: Option<IpAddr>,
    pub(crate) ua: Option<String>,
}

impl Device {
    pub(crate) fn new(ids: &[Option<&str>], ip: Option<IpAddr>, ua: Option<&str>) -> Device {
        let ids = ids
            .iter()
            .flatten()
            .map(|id| id.trim().to_ascii_lowercase())
            .filter(|id| id.bytes().any(|b| b != b'0' && b != b'-'))
            .collect();
        Device {
            ids,
            ip: ip.map(|ip| ip.to_canonical()),
            ua: ua
                .map(|ua| ua.trim().to_owned())
                .filter(|ua| !ua.is_empty()),
        }
    }

    /// One id in common; with no ids on either side, the same IP and User-Agent.
    fn is(&self, other: &Device) -> bool {
        if self.ids.iter().any(|id| other.ids.contains(id)) {
            return true;
        }
        let no_ids = self.ids.is_empty() || other.ids.is_empty();
        no_ids
            && self.ip.is_some()
            && self.ip == other.ip
            && self.ua.is_some()
            && self.ua == other.ua
    }
}

/// The touch an install was attributed to, kept whole: its macros fill every later
/// conversion's postbacks, even after the journal let the entry go.
#[derive(Clone, Debug)]
pub(crate) struct InstallTouch {
    pub(crate) entry: Arc<Entry>,
    pub(crate) at_ms: i64,
    pub(crate) match_type: MatchType,
}

#[derive(Clone, Debug)]
pub(crate) struct Install {
    /// The tracker it was attributed to; `None` for an organic install.
    pub(crate) tracking_id: Option<u64>,
    pub(crate) at_ms: i64,
    pub(crate) ip: Option<IpAddr>,
    pub(crate) timezone_offset_secs: Option<i32>,
    pub(crate) touch: Option<InstallTouch>,
    device: Device,
    /// The conversions since the install, for `first_event_only`.
    seen: Vec<(ConversionKind, Option<String>)>,
}

#[derive(Debug, Default)]
pub(crate) struct Installs {
    list: Mutex<VecDeque<Install>>,
}

/// What a new install of a device is.
#[derive(Clone, Debug)]
pub(crate) enum Recorded {
    First,
    /// The device was installed before.
    Reinstall,
}

impl Installs {
    /// The device's latest install, if any.
    pub(crate) fn of(&self, device: &Device) -> Option<Install> {
        lock(&self.list)
            .iter()
            .rev()
            .find(|i| i.device.is(device))
            .cloned()
    }

    /// Records an install of `device` at `at_ms`, or says it is a reinstall (then it is kept
    /// as it was, unless `reattributed` gives it to another tracker).
    pub(crate) fn record(
        &self,
        device: Device,
        at_ms: i64,
        ip: Option<IpAddr>,
        timezone_offset_secs: Option<i32>,
        attributed: Option<(u64, InstallTouch)>,
    ) -> Recorded {
        let mut list = lock(&self.list);
        if let Some(prior) = list.iter_mut().rev().find(|i| i.device.is(&device)) {
            if let Some((tracker, touch)) = attributed {
                *prior = Install {
                    tracking_id: Some(tracker),
                    at_ms,
                    ip,
                    timezone_offset_secs,
                    touch: Some(touch),
                    device,
                    seen: Vec::new(),
                };
            }
            return Recorded::Reinstall;
        }
        if list.len() >= KEPT {
            list.pop_front();
        }
        let (tracking_id, touch) =
            attributed.map_or((None, None), |(t, touch)| (Some(t), Some(touch)));
        list.push_back(Install {
            tracking_id,
            at_ms,
            ip,
            timezone_offset_secs,
            touch,
            device,
            seen: Vec::new(),
        });
        Recorded::First
    }

    /// Notes a conversion of the device's install; whether it is the first of its kind (and
    /// name) since the install. `None` when the device has no install on record.
    pub(crate) fn note(
        &self,
        device: &Device,
        kind: ConversionKind,
        name: Option<&str>,
    ) -> Option<bool> {
        let mut list = lock(&self.list);
        let install = list.iter_mut().rev().find(|i| i.device.is(device))?;
        let key = (kind, name.map(str::to_owned));
        let first = !install.seen.contains(&key);
        if first {
            install.seen.push(key);
        }
        Some(first)
    }
}

#[cfg(test)]
mod tests {
    use crate::postback::installs::{Device, Installs, Recorded};
    use crate::postback::template::ConversionKind;

    const GAID: &str = "38400000-8cf0-11bd-b23e-10b96e40000d";

    #[test]
    fn a_device_is_known_by_any_id_or_else_by_its_fingerprint() {
        let installs = Installs::default();
        let phone = Device::new(&[Some(GAID)], None, None);
        assert!(matches!(
            installs.record(phone.clone(), 1, None, None, None),
            Recorded::First
        ));
        let again = Device::new(&[Some(&GAID.to_uppercase())], None, None);
        assert!(matches!(
            installs.record(again, 2, None, None, None),
            Recorded::Reinstall
        ));
        let ip = "5.255.232.147".parse().ok();
        let by_print = Device::new(&[], ip, Some("UA"));
        installs.record(by_print, 3, ip, None, None);
        let mapped = Device::new(&[], "::ffff:5.255.232.147".parse().ok(), Some("UA "));
        assert_eq!(installs.of(&mapped).map(|i| i.at_ms), Some(3));
        let zeros = Device::new(&[Some("00000000-0000-0000-0000-000000000000")], None, None);
        assert!(installs.of(&zeros).is_none(), "a zeroed id is no identity");
    }

    #[test]
    fn first_event_only_counts_per_kind_and_name() {
        let installs = Installs::default();
        let phone = Device::new(&[Some(GAID)], None, None);
        installs.record(phone.clone(), 1, None, None, None);
        let note = |name| installs.note(&phone, ConversionKind::Event, name);
        assert_eq!(note(Some("checkout")), Some(true));
        assert_eq!(note(Some("checkout")), Some(false));
        assert_eq!(note(Some("level")), Some(true));
        let stranger = Device::new(&[Some("aa")], None, None);
        assert_eq!(installs.note(&stranger, ConversionKind::Event, None), None);
    }
}
