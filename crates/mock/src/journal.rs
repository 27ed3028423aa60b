//! The journal: every request the mock answered, in a bounded ring, optionally appended to an
//! NDJSON file.
//!
//! The ring drops its oldest entry when full and counts it, so memory stays bounded however
//! long the mock runs. Recording allocates and frees nothing once the ring has grown: an
//! entry's fixed fields go in a slot, its texts in a circular byte buffer, and the slot and
//! bytes of the entry it evicts are simply reused. The evicted entry was recorded thousands of
//! requests ago, so freeing its heap blocks would touch cold memory on every request. Entries
//! become [`Entry`] values only when read; parameters are decoded only then too. Waiters are
//! woken through a `watch` channel carrying the next sequence number: no polling.

use crate::byte_ring::ByteRing;
use crate::entry_text::Layout;
use crate::EntryText;
use metrica_s2s_rules::{clock, lossy, parse_input, percent_decode, Diagnostic, Kind};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{BufWriter, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// One request as the mock saw and answered it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub seq: u64,
    pub received_at_ms: u64,
    pub kind: Kind,
    /// Borrowed for the standard methods: no allocation per request.
    pub method: Cow<'static, str>,
    /// The Host header (or the authority of an absolute-form target), the target as received,
    /// the sender's own User-Agent header (not device_ua: the conformance runner compares them)
    /// and X-Forwarded-For; read them through the methods of the same names.
    pub text: EntryText,
    pub remote_addr: Option<SocketAddr>,
    pub status: u16,
    pub diagnostics: Vec<Diagnostic>,
}

impl Entry {
    pub fn host(&self) -> Option<&str> {
        self.text.host()
    }

    /// The request target as received (path and query).
    pub fn target(&self) -> &str {
        self.text.target()
    }

    pub fn user_agent(&self) -> Option<&str> {
        self.text.user_agent()
    }

    pub fn forwarded_for(&self) -> Option<&str> {
        self.text.forwarded_for()
    }

    /// The raw segment after `/serve/`.
    pub fn tracking_id(&self) -> Option<&str> {
        tracking_id_in(self.target())
    }

    /// Decoded query parameters in order; the first of a repeated key wins, as in `params`.
    pub fn params(&self) -> Vec<(String, String)> {
        params_in(self.target())
    }

    pub fn param(&self, name: &str) -> Option<String> {
        param_in(self.target(), name)
    }
}

fn tracking_id_in(target: &str) -> Option<&str> {
    let path = target.split(['?', '#']).next()?;
    let id = metrica_s2s_rules::tracking_segment(path.as_bytes())?;
    // A suffix of a str after an ASCII prefix: still valid UTF-8.
    std::str::from_utf8(id).ok()
}

fn params_in(target: &str) -> Vec<(String, String)> {
    let Ok(req) = parse_input(target.as_bytes()) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = Vec::with_capacity(req.params.len());
    for p in &req.params {
        let key = lossy(&percent_decode(req.bytes(p.key), true).bytes).into_owned();
        if out.iter().any(|(k, _)| *k == key) {
            continue;
        }
        let value = p
            .value
            .map(|v| lossy(&percent_decode(req.bytes(v), true).bytes).into_owned())
            .unwrap_or_default();
        out.push((key, value));
    }
    out
}

fn param_in(target: &str, name: &str) -> Option<String> {
    params_in(target)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// What the server records for one request; the journal assigns the sequence number.
#[derive(Debug)]
pub struct Record<'a> {
    pub received_at_ms: u64,
    pub kind: Kind,
    pub method: Cow<'static, str>,
    pub host: Option<&'a str>,
    pub target: &'a str,
    pub remote_addr: Option<SocketAddr>,
    pub user_agent: Option<&'a str>,
    pub forwarded_for: Option<&'a str>,
    pub status: u16,
    pub diagnostics: Vec<Diagnostic>,
}

impl Entry {
    /// An entry back from the JSON the admin API and the journal file write (see `Serialize`
    /// below), for clients of a running mock. `None` when a required field is missing.
    pub fn from_json(v: &serde_json::Value) -> Option<Entry> {
        let text = |k: &str| v.get(k).and_then(serde_json::Value::as_str);
        Some(Entry {
            seq: v.get("seq")?.as_u64()?,
            received_at_ms: v
                .get("received_at")
                .and_then(serde_json::Value::as_str)
                .and_then(clock::parse_rfc3339_millis)
                .and_then(|ms| u64::try_from(ms).ok())
                .unwrap_or(0),
            kind: serde_json::from_value(v.get("kind")?.clone()).ok()?,
            method: text("method")?.to_owned().into(),
            text: EntryText::new(
                text("host"),
                text("target")?,
                text("user_agent"),
                text("x_forwarded_for"),
            ),
            remote_addr: v
                .get("remote_addr")
                .and_then(serde_json::Value::as_str)
                .and_then(|a| a.parse().ok()),
            status: u16::try_from(v.get("status")?.as_u64()?).ok()?,
            diagnostics: serde_json::from_value(v.get("diagnostics")?.clone()).ok()?,
        })
    }
}

impl Serialize for Entry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Params<'a>(&'a [(String, String)]);
        impl Serialize for Params<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
            }
        }
        let params = self.params();
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("seq", &self.seq)?;
        m.serialize_entry(
            "received_at",
            &clock::format_rfc3339_millis(self.received_at_ms as i64),
        )?;
        m.serialize_entry("kind", &self.kind)?;
        m.serialize_entry("method", &self.method)?;
        m.serialize_entry("host", &self.host())?;
        m.serialize_entry("tracking_id", &self.tracking_id())?;
        m.serialize_entry("target", self.target())?;
        m.serialize_entry("params", &Params(&params))?;
        m.serialize_entry("remote_addr", &self.remote_addr.map(|a| a.to_string()))?;
        m.serialize_entry("user_agent", &self.user_agent())?;
        m.serialize_entry("x_forwarded_for", &self.forwarded_for())?;
        m.serialize_entry("status", &self.status)?;
        m.serialize_entry("diagnostics", &self.diagnostics)?;
        m.end()
    }
}

/// Which entries a query wants; every field optional. `since` is a sequence number, inclusive.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub tracking_id: Option<String>,
    pub click_id: Option<String>,
    pub kind: Option<Kind>,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub since: Option<u64>,
    pub limit: Option<usize>,
    /// For `wait`: how many matching entries to wait for (default 1).
    pub count: Option<usize>,
    /// For `wait`: how long to wait at most (default 5,000 ms, at most 60,000).
    pub timeout_ms: Option<u64>,
}

impl Filter {
    pub fn matches(&self, e: &Entry) -> bool {
        self.matches_parts(e.seq, e.kind, e.status, e.target(), &e.diagnostics)
    }

    fn matches_parts(
        &self,
        seq: u64,
        kind: Kind,
        status: u16,
        target: &str,
        diagnostics: &[Diagnostic],
    ) -> bool {
        self.since.is_none_or(|s| seq >= s)
            && self.kind.is_none_or(|k| kind == k)
            && self.status.is_none_or(|s| status == s)
            && self
                .tracking_id
                .as_deref()
                .is_none_or(|t| tracking_id_in(target) == Some(t))
            && self
                .code
                .as_deref()
                .is_none_or(|c| diagnostics.iter().any(|d| d.code.as_str() == c))
            && self
                .click_id
                .as_deref()
                .is_none_or(|c| param_in(target, "click_id").as_deref() == Some(c))
    }
}

/// An entry as the ring keeps it: fixed fields here, texts in the ring's byte buffer.
#[derive(Debug)]
struct Slot {
    seq: u64,
    received_at_ms: u64,
    kind: Kind,
    method: Cow<'static, str>,
    remote_addr: Option<SocketAddr>,
    status: u16,
    diagnostics: Vec<Diagnostic>,
    layout: Layout,
    /// Where the texts start in the ring's byte buffer.
    text_at: u64,
}

#[derive(Debug)]
struct Ring {
    slots: VecDeque<Slot>,
    text: ByteRing,
    capacity: usize,
    dropped: u64,
}

impl Ring {
    fn text_of(&self, slot: &Slot) -> Cow<'_, [u8]> {
        self.text.read(slot.text_at, slot.layout.len())
    }

    /// The slot as an [`Entry`] of its own.
    fn entry(&self, slot: &Slot) -> Entry {
        let joined = String::from_utf8_lossy(&self.text_of(slot)).into_owned();
        Entry {
            seq: slot.seq,
            received_at_ms: slot.received_at_ms,
            kind: slot.kind,
            method: slot.method.clone(),
            text: EntryText::from_joined(joined, slot.layout),
            remote_addr: slot.remote_addr,
            status: slot.status,
            diagnostics: slot.diagnostics.clone(),
        }
    }

    fn matches(&self, slot: &Slot, filter: &Filter) -> bool {
        let text = self.text_of(slot);
        let target = text
            .get(slot.layout.target())
            .map_or(Cow::Borrowed(""), String::from_utf8_lossy);
        filter.matches_parts(slot.seq, slot.kind, slot.status, &target, &slot.diagnostics)
    }
}

/// Appends entries to a file from a thread of its own, in sequence order.
#[derive(Debug)]
struct FileSink {
    tx: Option<mpsc::Sender<Arc<Entry>>>,
    writer: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

#[derive(Debug)]
pub struct Journal {
    ring: Mutex<Ring>,
    file: Mutex<FileSink>,
    /// Set once by [`Journal::with_file`], so a journal without a file never locks `file`.
    has_file: bool,
    /// The sequence number the next entry will get; advanced only under the ring's lock, read
    /// without it.
    next_seq: AtomicU64,
    /// Tells `wait` requests an entry was recorded; only sent to when one is listening.
    next: watch::Sender<u64>,
}

/// A snapshot answer to a query.
#[derive(Debug, Serialize)]
pub struct Page {
    pub requests: Vec<Arc<Entry>>,
    pub total: usize,
    pub dropped: u64,
}

impl Journal {
    pub fn new(capacity: usize) -> Journal {
        Journal {
            ring: Mutex::new(Ring {
                slots: VecDeque::with_capacity(capacity.min(1 << 16)),
                text: ByteRing::default(),
                capacity: capacity.max(1),
                dropped: 0,
            }),
            file: Mutex::new(FileSink {
                tx: None,
                writer: None,
            }),
            has_file: false,
            next_seq: AtomicU64::new(1),
            next: watch::Sender::new(1),
        }
    }

    /// Also append every entry, as one JSON line, to `path`.
    pub fn with_file(mut self, path: &Path) -> std::io::Result<Journal> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        let (tx, rx) = mpsc::channel::<Arc<Entry>>();
        let writer = std::thread::Builder::new()
            .name("journal-file".into())
            .spawn(move || write_lines(file, rx))?;
        *lock(&self.file) = FileSink {
            tx: Some(tx),
            writer: Some(writer),
        };
        self.has_file = true;
        Ok(self)
    }

    /// Records one request and returns its sequence number.
    ///
    /// Under the lock: a sequence number, a slot written over the evicted one's place and a
    /// copy of the texts into the byte buffer. An evicted entry's diagnostics, if any, are freed
    /// after the lock is released.
    pub fn record(&self, r: Record<'_>) -> u64 {
        let (layout, texts) = Layout::of([r.host, Some(r.target), r.user_agent, r.forwarded_for]);
        let seq;
        let evicted;
        {
            let mut ring = lock(&self.ring);
            // Taken under the ring's lock, so sequence numbers follow ring order.
            seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
            evicted = if ring.slots.len() >= ring.capacity {
                ring.dropped += 1;
                let old = ring.slots.pop_front();
                ring.text
                    .pop_front(old.as_ref().map_or(0, |o| o.layout.len()));
                old
            } else {
                None
            };
            let text_at = ring.text.push(&texts);
            ring.slots.push_back(Slot {
                seq,
                received_at_ms: r.received_at_ms,
                kind: r.kind,
                method: r.method,
                remote_addr: r.remote_addr,
                status: r.status,
                diagnostics: r.diagnostics,
                layout,
                text_at,
            });
            // Sent while the ring is locked, so the file keeps sequence order.
            if self.has_file {
                if let Some(tx) = &lock(&self.file).tx {
                    if let Some(slot) = ring.slots.back() {
                        let _ = tx.send(Arc::new(ring.entry(slot)));
                    }
                }
            }
        }
        drop(evicted);
        // A waiter subscribes before it queries the ring, and the entry is in the ring by now:
        // one that subscribes after this check finds the entry by querying.
        if self.next.receiver_count() > 0 {
            self.next.send_replace(seq + 1);
        }
        seq
    }

    pub fn query(&self, filter: &Filter) -> Page {
        let ring = lock(&self.ring);
        let limit = filter.limit.unwrap_or(usize::MAX);
        let mut requests = Vec::new();
        let mut total = 0;
        for slot in ring.slots.iter().filter(|s| ring.matches(s, filter)) {
            if total < limit {
                requests.push(Arc::new(ring.entry(slot)));
            }
            total += 1;
        }
        Page {
            requests,
            total,
            dropped: ring.dropped,
        }
    }

    pub fn get(&self, seq: u64) -> Option<Arc<Entry>> {
        let ring = lock(&self.ring);
        let first = ring.slots.front()?.seq;
        let i = usize::try_from(seq.checked_sub(first)?).ok()?;
        let slot = ring.slots.get(i).filter(|s| s.seq == seq)?;
        Some(Arc::new(ring.entry(slot)))
    }

    /// Forgets every entry and the drop count; sequence numbers keep counting up.
    pub fn reset(&self) -> usize {
        let mut ring = lock(&self.ring);
        let n = ring.slots.len();
        ring.slots.clear();
        ring.text.clear();
        ring.dropped = 0;
        n
    }

    pub fn len(&self) -> usize {
        lock(&self.ring).slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn capacity(&self) -> usize {
        lock(&self.ring).capacity
    }

    pub fn dropped(&self) -> u64 {
        lock(&self.ring).dropped
    }

    /// The sequence number the next entry will get.
    pub fn next_seq(&self) -> u64 {
        self.next_seq.load(Ordering::Relaxed)
    }

    /// A receiver that changes whenever an entry is recorded.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.next.subscribe()
    }

    /// Flushes and closes the journal file: after this returns, every entry recorded so far is
    /// in it. Later entries go to the ring only.
    pub fn close(&self) -> std::io::Result<()> {
        let writer = {
            let mut sink = lock(&self.file);
            sink.tx = None;
            sink.writer.take()
        };
        match writer {
            Some(w) => w
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the journal file writer panicked"))),
            None => Ok(()),
        }
    }
}

fn write_lines(file: std::fs::File, rx: mpsc::Receiver<Arc<Entry>>) -> std::io::Result<()> {
    let mut out = BufWriter::with_capacity(1 << 16, file);
    while let Ok(first) = rx.recv() {
        let mut next = Some(first);
        while let Some(entry) = next {
            serde_json::to_writer(&mut out, &*entry)?;
            out.write_all(b"\n")?;
            next = rx.try_recv().ok();
        }
        // Nothing more queued: hand what we have to the OS.
        out.flush()?;
    }
    out.flush()
}

/// A poisoned lock only means another thread panicked mid-update; the ring stays usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64, target: &str, status: u16) -> Entry {
        Entry {
            seq,
            received_at_ms: 1_795_860_000_000,
            kind: Kind::Click,
            method: "GET".into(),
            text: EntryText::new(None, target, None, None),
            remote_addr: None,
            status,
            diagnostics: Vec::new(),
        }
    }

    fn record(target: &str, status: u16) -> Record<'_> {
        Record {
            received_at_ms: 1_795_860_000_000,
            kind: Kind::Click,
            method: "GET".into(),
            host: None,
            target,
            remote_addr: None,
            user_agent: None,
            forwarded_for: None,
            status,
            diagnostics: Vec::new(),
        }
    }

    #[test]
    fn the_ring_drops_oldest_first_and_counts() {
        let j = Journal::new(3);
        for i in 0..5 {
            j.record(record(&format!("/serve/{i}?click_id=c{i}"), 204));
        }
        let page = j.query(&Filter::default());
        assert_eq!(
            page.requests.iter().map(|e| e.seq).collect::<Vec<_>>(),
            vec![3, 4, 5]
        );
        assert_eq!(page.dropped, 2);
        assert!(j.get(2).is_none());
        assert_eq!(j.get(4).map(|e| e.seq), Some(4));
    }

    #[test]
    fn texts_come_back_whole_across_evictions_and_wraps() {
        let j = Journal::new(7);
        let texts = |i: usize| {
            let target = format!("/serve/{i}?click_id={}", "é".repeat(i * 37 % 300));
            let ua = (i % 3 != 0).then(|| format!("ua-{i}\u{1b}"));
            let xff = (i % 4 == 0).then(|| format!("10.0.0.{i}"));
            (target, ua, xff)
        };
        for i in 0..500 {
            let (target, ua, xff) = texts(i);
            let seq = j.record(Record {
                host: (i % 2 == 0).then_some("redirect.appmetrica.yandex.com"),
                user_agent: ua.as_deref(),
                forwarded_for: xff.as_deref(),
                ..record(&target, 204)
            });
            assert_eq!(seq, i as u64 + 1);
            for back in 0..7.min(i + 1) {
                let k = i - back;
                let e = j.get(k as u64 + 1).expect("kept");
                let (target, ua, xff) = texts(k);
                assert_eq!(e.target(), target, "entry {k} after {i}");
                assert_eq!(e.user_agent(), ua.as_deref());
                assert_eq!(e.forwarded_for(), xff.as_deref());
                assert_eq!(
                    e.host(),
                    (k % 2 == 0).then_some("redirect.appmetrica.yandex.com")
                );
            }
        }
        assert!(j.get(493).is_none());
        assert_eq!(j.dropped(), 493);
        assert_eq!(j.reset(), 7);
        j.record(record("/serve/1?click_id=after-reset", 204));
        assert_eq!(
            j.get(501).map(|e| e.target().to_owned()).as_deref(),
            Some("/serve/1?click_id=after-reset")
        );
    }

    #[test]
    fn entries_round_trip_through_json() {
        let mut e = entry(7, "/serve/1?click_id=a%20b", 400);
        e.text = EntryText::new(
            Some("redirect.appmetrica.yandex.com"),
            "/serve/1?click_id=a%20b",
            Some("curl/8"),
            None,
        );
        e.remote_addr = Some("127.0.0.1:5555".parse().expect("addr"));
        let json = serde_json::to_value(&e).expect("json");
        let back = Entry::from_json(&json).expect("parses");
        assert_eq!(serde_json::to_value(&back).expect("json"), json);
    }

    #[test]
    fn filters_and_params() {
        let j = Journal::new(10);
        j.record(record(
            "/serve/7?click_id=a%20b&click_id=second&device_ip=1.2.3.4",
            204,
        ));
        j.record(record("/serve/8?click_id=x", 400));
        let by = |f: Filter| {
            j.query(&f)
                .requests
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            by(Filter {
                tracking_id: Some("7".into()),
                ..Filter::default()
            }),
            vec![1]
        );
        assert_eq!(
            by(Filter {
                click_id: Some("a b".into()),
                ..Filter::default()
            }),
            vec![1]
        );
        assert_eq!(
            by(Filter {
                status: Some(400),
                ..Filter::default()
            }),
            vec![2]
        );
        assert_eq!(
            by(Filter {
                since: Some(2),
                ..Filter::default()
            }),
            vec![2]
        );
        assert_eq!(
            j.query(&Filter {
                limit: Some(1),
                ..Filter::default()
            })
            .total,
            2
        );
        let first = j.get(1).expect("entry");
        assert_eq!(first.params()[0], ("click_id".to_owned(), "a b".to_owned()));
    }
}
