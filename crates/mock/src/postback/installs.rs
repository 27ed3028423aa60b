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
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Installs kept; the oldest go first. A day of a busy test's installs, in a few megabytes.
const KEPT: usize = 100_000;

/// AppMetrica sends event, purchase, e-commerce and ad-revenue postbacks for conversions within
/// 6 months of the install.
pub(crate) const CONVERSIONS_WITHIN_MS: i64 = 183 * 24 * 3_600_000;

/// A device installed again more than 180 days after its attributed install has its source
/// overwritten (AppMetrica's attribution policy page): the new install is attributed afresh,
/// whatever the reattribution switch says.
pub(crate) const SOURCE_OVERWRITTEN_AFTER_MS: i64 = 180 * 24 * 3_600_000;

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
            .filter(|id| !metrica_s2s_rules::is_zeroed_id(id))
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

/// The installs, and an index from each id and fingerprint to the installs holding it, so a
/// conversion finds its device's install without reading every install kept.
#[derive(Debug, Default)]
pub(crate) struct Installs {
    inner: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    list: VecDeque<Install>,
    /// The number of `list[0]`: installs are numbered in order, from 0.
    first: u64,
    by_key: HashMap<String, Vec<u64>>,
}

/// What a new install of a device is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Recorded {
    First,
    /// The device was installed before.
    Reinstall,
}

impl Device {
    /// Where the index files the device: each id, and its IP and User-Agent together.
    fn keys(&self) -> impl Iterator<Item = String> + '_ {
        let print = self
            .ip
            .zip(self.ua.as_deref())
            .map(|(ip, ua)| format!("fp {ip}\n{ua}"));
        self.ids.iter().map(|id| format!("id {id}")).chain(print)
    }
}

impl Kept {
    /// The number of the device's latest install.
    fn find(&self, device: &Device) -> Option<u64> {
        device
            .keys()
            .filter_map(|k| self.by_key.get(&k))
            .flatten()
            .copied()
            .filter(|n| self.get(*n).is_some_and(|i| i.device.is(device)))
            .max()
    }

    fn get(&self, n: u64) -> Option<&Install> {
        self.list
            .get(usize::try_from(n.checked_sub(self.first)?).ok()?)
    }

    fn get_mut(&mut self, n: u64) -> Option<&mut Install> {
        self.list
            .get_mut(usize::try_from(n.checked_sub(self.first)?).ok()?)
    }

    fn file(&mut self, n: u64, device: &Device) {
        for k in device.keys() {
            self.by_key.entry(k).or_default().push(n);
        }
    }

    fn unfile(&mut self, n: u64, device: &Device) {
        for k in device.keys() {
            if let Some(ns) = self.by_key.get_mut(&k) {
                ns.retain(|m| *m != n);
                if ns.is_empty() {
                    self.by_key.remove(&k);
                }
            }
        }
    }
}

impl Installs {
    /// The device's latest install, if any.
    pub(crate) fn of(&self, device: &Device) -> Option<Install> {
        let kept = lock(&self.inner);
        kept.find(device).and_then(|n| kept.get(n)).cloned()
    }

    /// Records an install of `device` at `at_ms`, or says it is a reinstall (then it is kept
    /// as it was, unless `attributed` gives it to another tracker).
    pub(crate) fn record(
        &self,
        device: Device,
        at_ms: i64,
        ip: Option<IpAddr>,
        timezone_offset_secs: Option<i32>,
        attributed: Option<(u64, InstallTouch)>,
    ) -> Recorded {
        let mut kept = lock(&self.inner);
        let (tracking_id, touch) =
            attributed.map_or((None, None), |(t, touch)| (Some(t), Some(touch)));
        let install = Install {
            tracking_id,
            at_ms,
            ip,
            timezone_offset_secs,
            touch,
            device,
            seen: Vec::new(),
        };
        if let Some(n) = kept.find(&install.device) {
            if install.tracking_id.is_some() {
                if let Some(old) = kept.get(n).map(|i| i.device.clone()) {
                    kept.unfile(n, &old);
                }
                kept.file(n, &install.device);
                if let Some(prior) = kept.get_mut(n) {
                    *prior = install;
                }
            }
            return Recorded::Reinstall;
        }
        if kept.list.len() >= KEPT {
            if let Some(old) = kept.list.pop_front() {
                let n = kept.first;
                kept.first += 1;
                kept.unfile(n, &old.device);
            }
        }
        let n = kept.first + kept.list.len() as u64;
        kept.file(n, &install.device);
        kept.list.push_back(install);
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
        let mut kept = lock(&self.inner);
        let n = kept.find(device)?;
        let install = kept.get_mut(n)?;
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

    #[test]
    fn a_reattributed_install_is_found_by_its_new_identity() {
        use crate::postback::attribution::MatchType;
        use crate::postback::installs::InstallTouch;
        let installs = Installs::default();
        installs.record(Device::new(&[Some(GAID)], None, None), 1, None, None, None);
        let ip = "5.255.232.147".parse().ok();
        let (target, params) = crate::journal::Entry::derived_from("/serve/8?click_id=x");
        let entry = crate::journal::Entry {
            seq: 1,
            received_at_ms: 0,
            kind: metrica_s2s_rules::Kind::Click,
            method: "GET".into(),
            host: None,
            tracking_id: target,
            target: "/serve/8?click_id=x".into(),
            params,
            remote_addr: None,
            user_agent: None,
            x_forwarded_for: None,
            status: 204,
            diagnostics: Vec::new(),
            fault: None,
        };
        let touch = InstallTouch {
            entry: std::sync::Arc::new(entry),
            at_ms: 1,
            match_type: MatchType::Identifier,
        };
        let again = Device::new(&[Some(GAID)], ip, Some("UA"));
        assert_eq!(
            installs.record(again, 2, ip, None, Some((8, touch))),
            Recorded::Reinstall
        );
        let by_print = Device::new(&[], ip, Some("UA"));
        let found = installs.of(&by_print).expect("found by its fingerprint");
        assert_eq!((found.tracking_id, found.at_ms), (Some(8), 2));
    }
}
