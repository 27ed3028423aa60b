//! The journal: every request the mock answered, in a bounded ring, optionally appended to an
//! NDJSON file.
//!
//! The ring drops its oldest entry when full and counts it, so memory stays bounded however
//! long the mock runs. Entries keep the raw target and decode parameters only when read, so
//! recording costs the request path almost nothing. Waiters are woken through a `watch`
//! channel carrying the next sequence number: no polling.

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
        let path = self.target().split(['?', '#']).next()?;
        let id = metrica_s2s_rules::tracking_segment(path.as_bytes())?;
        // A suffix of a str after an ASCII prefix: still valid UTF-8.
        std::str::from_utf8(id).ok()
    }

    /// Decoded query parameters in order; the first of a repeated key wins, as in `params`.
    pub fn params(&self) -> Vec<(String, String)> {
        let Ok(req) = parse_input(self.target().as_bytes()) else {
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

    pub fn param(&self, name: &str) -> Option<String> {
        self.params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
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
        self.since.is_none_or(|s| e.seq >= s)
            && self.kind.is_none_or(|k| e.kind == k)
            && self.status.is_none_or(|s| e.status == s)
            && self
                .tracking_id
                .as_deref()
                .is_none_or(|t| e.tracking_id() == Some(t))
            && self
                .code
                .as_deref()
                .is_none_or(|c| e.diagnostics.iter().any(|d| d.code.as_str() == c))
            && self
                .click_id
                .as_deref()
                .is_none_or(|c| e.param("click_id").as_deref() == Some(c))
    }
}

#[derive(Debug)]
struct Ring {
    entries: VecDeque<Arc<Entry>>,
    capacity: usize,
    next_seq: u64,
    dropped: u64,
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
    /// The sequence number the next entry will get, readable without the ring's lock.
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
                entries: VecDeque::with_capacity(capacity.min(1 << 16)),
                capacity: capacity.max(1),
                next_seq: 1,
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

    /// Records an entry built around the sequence number it gets.
    ///
    /// The entry is built before the ring is locked and an evicted entry is freed after it is
    /// unlocked: the lock covers a sequence number, one allocation and two pointer moves.
    pub fn record(&self, build: impl FnOnce(u64) -> Entry) -> Arc<Entry> {
        let mut built = build(0);
        let entry;
        let evicted;
        {
            let mut ring = lock(&self.ring);
            built.seq = ring.next_seq;
            ring.next_seq += 1;
            self.next_seq.store(ring.next_seq, Ordering::Relaxed);
            entry = Arc::new(built);
            evicted = if ring.entries.len() >= ring.capacity {
                ring.dropped += 1;
                ring.entries.pop_front()
            } else {
                None
            };
            ring.entries.push_back(entry.clone());
            // Sent while the ring is locked, so the file keeps sequence order.
            if self.has_file {
                if let Some(tx) = &lock(&self.file).tx {
                    let _ = tx.send(entry.clone());
                }
            }
        }
        drop(evicted);
        // A waiter subscribes before it queries the ring, and the entry is in the ring by now:
        // one that subscribes after this check finds the entry by querying.
        if self.next.receiver_count() > 0 {
            self.next.send_replace(entry.seq + 1);
        }
        entry
    }

    pub fn query(&self, filter: &Filter) -> Page {
        let ring = lock(&self.ring);
        let matching: Vec<&Arc<Entry>> =
            ring.entries.iter().filter(|e| filter.matches(e)).collect();
        let total = matching.len();
        let limit = filter.limit.unwrap_or(usize::MAX);
        Page {
            requests: matching.into_iter().take(limit).cloned().collect(),
            total,
            dropped: ring.dropped,
        }
    }

    pub fn get(&self, seq: u64) -> Option<Arc<Entry>> {
        let ring = lock(&self.ring);
        let first = ring.entries.front()?.seq;
        let i = usize::try_from(seq.checked_sub(first)?).ok()?;
        ring.entries.get(i).filter(|e| e.seq == seq).cloned()
    }

    /// Forgets every entry and the drop count; sequence numbers keep counting up.
    pub fn reset(&self) -> usize {
        let mut ring = lock(&self.ring);
        let n = ring.entries.len();
        ring.entries.clear();
        ring.dropped = 0;
        n
    }

    pub fn len(&self) -> usize {
        lock(&self.ring).entries.len()
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

    #[test]
    fn the_ring_drops_oldest_first_and_counts() {
        let j = Journal::new(3);
        for i in 0..5 {
            j.record(|seq| entry(seq, &format!("/serve/{i}?click_id=c{i}"), 204));
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
        j.record(|s| {
            entry(
                s,
                "/serve/7?click_id=a%20b&click_id=second&device_ip=1.2.3.4",
                204,
            )
        });
        j.record(|s| entry(s, "/serve/8?click_id=x", 400));
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
