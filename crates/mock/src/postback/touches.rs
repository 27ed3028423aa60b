//! The clicks and impressions a conversion may be attributed to, found through an index the
//! conversion path builds from the journal as it goes: the click path records nothing extra,
//! and each journal entry is read once however many conversions follow.
//!
//! Keys are hashes of (tracking id, value); a collision only adds a candidate, which the
//! attribution then compares value by value.

use super::attribution::{DeviceIds, Touch};
use crate::journal::{Entry, Journal};
use crate::lock::lock;
use metrica_s2s_rules::{Code, Kind};
use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Entries read from the journal per lock: the click path waits at most that long.
const STEP: usize = 1024;

#[derive(Debug, Default)]
pub(crate) struct TouchIndex {
    inner: Mutex<Index>,
}

#[derive(Debug, Default)]
struct Index {
    /// The next journal sequence number to read.
    upto: u64,
    seqs: HashMap<u64, Vec<u64>>,
    /// Entries indexed since the index last forgot the ones the journal let go of.
    since_pruned: usize,
}

/// What a conversion brings to be matched on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lookup<'a> {
    pub(crate) tracking_id: &'a str,
    pub(crate) referrer_click_id: Option<&'a str>,
    pub(crate) ids: DeviceIds<'a>,
    pub(crate) digests: &'a [String],
    pub(crate) device_ip: Option<IpAddr>,
    pub(crate) device_ua: Option<&'a str>,
}

impl TouchIndex {
    /// The journal entries that may match `lookup`, oldest first.
    pub(crate) fn candidates(&self, journal: &Journal, lookup: &Lookup<'_>) -> Vec<Arc<Entry>> {
        let mut index = lock(&self.inner);
        index.catch_up(journal);
        let mut seqs: Vec<u64> = keys_of_lookup(lookup)
            .filter_map(|k| index.seqs.get(&k))
            .flatten()
            .copied()
            .collect();
        drop(index);
        seqs.sort_unstable();
        seqs.dedup();
        seqs.into_iter().filter_map(|s| journal.get(s)).collect()
    }
}

impl Index {
    fn catch_up(&mut self, journal: &Journal) {
        loop {
            let batch = journal.since(self.upto, STEP);
            let Some(last) = batch.last() else { break };
            self.upto = last.seq + 1;
            for e in &batch {
                if e.status >= 400 {
                    continue;
                }
                for key in keys_of_entry(e) {
                    self.seqs.entry(key).or_default().push(e.seq);
                }
                self.since_pruned += 1;
            }
        }
        // Entries the journal has let go of cannot be attributed to: forget them once a
        // journal's worth of new ones came in, so the index stays about the journal's size and
        // each entry pays for its own forgetting once.
        if self.since_pruned > journal.capacity().max(STEP) {
            let first = journal.first_seq();
            self.seqs.retain(|_, v| {
                v.retain(|&s| s >= first);
                !v.is_empty()
            });
            self.since_pruned = 0;
        }
    }
}

#[derive(Hash)]
enum KeyOf<'a> {
    ClickId(&'a str, &'a str),
    DeviceId(&'a str, String),
    Fingerprint(&'a str, IpAddr, &'a str),
}

fn hash(k: &KeyOf<'_>) -> u64 {
    foldhash::fast::FixedState::with_seed(0x5eed).hash_one(k)
}

fn device_keys<'a>(tid: &'a str, ids: &DeviceIds<'a>) -> impl Iterator<Item = u64> + 'a {
    [ids.google_aid, ids.ios_ifa, ids.oaid, ids.windows_aid]
        .into_iter()
        .flatten()
        .map(|id| id.trim().to_ascii_lowercase())
        .filter(|id| !id.is_empty())
        .map(move |id| hash(&KeyOf::DeviceId(tid, id)))
}

fn keys_of_lookup<'a>(l: &Lookup<'a>) -> impl Iterator<Item = u64> + 'a {
    let tid = l.tracking_id;
    let click = l.referrer_click_id.map(|c| hash(&KeyOf::ClickId(tid, c)));
    let fingerprint = l
        .device_ip
        .zip(l.device_ua)
        .map(|(ip, ua)| hash(&KeyOf::Fingerprint(tid, ip.to_canonical(), ua.trim())));
    let digests = l
        .digests
        .iter()
        .map(move |d| hash(&KeyOf::DeviceId(tid, d.to_ascii_lowercase())));
    click
        .into_iter()
        .chain(fingerprint)
        .chain(device_keys(tid, &l.ids))
        .chain(digests)
}

fn keys_of_entry(e: &Entry) -> Vec<u64> {
    let Some(tid) = e.tracking_id.as_deref() else {
        return Vec::new();
    };
    let touch = touch_of(e);
    let mut keys: Vec<u64> = device_keys(tid, &touch.ids).collect();
    keys.extend(
        touch
            .hashed
            .iter()
            .flatten()
            .map(|h| hash(&KeyOf::DeviceId(tid, h.trim().to_ascii_lowercase()))),
    );
    for c in touch.click_id.into_iter().chain(touch.external_click_id) {
        keys.push(hash(&KeyOf::ClickId(tid, c)));
    }
    if let (Some(ip), Some(ua)) = (touch.device_ip, touch.device_ua) {
        keys.push(hash(&KeyOf::Fingerprint(tid, ip.to_canonical(), ua.trim())));
    }
    keys
}

/// A journal entry as attribution sees it.
pub(crate) fn touch_of(e: &Entry) -> Touch<'_> {
    let received_ms = i64::try_from(e.received_at_ms).unwrap_or(i64::MAX);
    // click_timestamp in seconds is the event's time; anything else is the arrival's.
    let at_ms = e
        .param("click_timestamp")
        .map(str::trim)
        .filter(|t| (1..=10).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|t| t.parse::<i64>().ok())
        .map_or(received_ms, |s| s * 1000);
    Touch {
        seq: e.seq,
        kind: e.kind,
        at_ms,
        received_ms,
        click_id: e.param("click_id"),
        external_click_id: e.param("external_click_id"),
        hashed: metrica_s2s_rules::HASHED_ID_PARAMS.map(|p| e.param(p)),
        ids: DeviceIds {
            google_aid: e.param("google_aid"),
            ios_ifa: e.param("ios_ifa"),
            oaid: e.param("oaid"),
            windows_aid: e.param("windows_aid"),
        },
        device_ip: e.param("device_ip").and_then(|ip| ip.trim().parse().ok()),
        device_ua: e.param("device_ua"),
        // What the mock refused, bots, and a click_id repeated within 7 days on the tracker
        // AppMetrica would not count.
        counted: e.status < 400
            && !e
                .diagnostics
                .iter()
                .any(|d| matches!(d.code, Code::UaBot | Code::ClickIdDuplicate)),
    }
}

/// Whether `e` is a click or impression of `tracking_id`.
pub(crate) fn is_of(e: &Entry, tracking_id: &str) -> bool {
    e.tracking_id.as_deref() == Some(tracking_id)
        && matches!(e.kind, Kind::Click | Kind::Impression)
}

#[cfg(test)]
mod tests {
    use crate::journal::{Journal, Record};
    use crate::postback::attribution::DeviceIds;
    use crate::postback::touches::{Lookup, TouchIndex};

    fn click(j: &Journal, target: &str) -> u64 {
        j.record(Record::click(target, 204))
    }

    fn by_gaid<'a>(tid: &'a str, gaid: &'a str) -> Lookup<'a> {
        Lookup {
            tracking_id: tid,
            referrer_click_id: None,
            ids: DeviceIds {
                google_aid: Some(gaid),
                ..DeviceIds::default()
            },
            digests: &[],
            device_ip: None,
            device_ua: None,
        }
    }

    #[test]
    fn candidates_follow_the_journal_and_forget_what_it_dropped() {
        let j = Journal::new(4);
        let index = TouchIndex::default();
        click(&j, "/serve/7?click_id=a&google_aid=AAAA-1");
        click(&j, "/serve/8?click_id=b&google_aid=aaaa-1");
        let seqs = |tid, gaid| -> Vec<u64> {
            index
                .candidates(&j, &by_gaid(tid, gaid))
                .iter()
                .map(|e| e.seq)
                .collect()
        };
        assert_eq!(
            seqs("7", "aaaa-1"),
            [1],
            "per tracker, without regard to case"
        );
        // Entries recorded after the first lookup are found by the next one.
        click(&j, "/serve/7?click_id=c&google_aid=%61aaa-1");
        assert_eq!(seqs("7", "AAAA-1"), [1, 3], "decoded before indexing");
        for i in 0..10 {
            click(&j, &format!("/serve/9?click_id=x{i}"));
        }
        assert!(seqs("7", "aaaa-1").is_empty(), "the journal let both go");
    }
}
