//! The journal: every request the mock answered, in a ring bounded in entries and in bytes,
//! optionally appended to an NDJSON file.
//!
//! The ring drops its oldest entry when full and counts it, so memory stays bounded however
//! long the mock runs. Under the ring's lock only bytes are copied: entries are decoded, and
//! pages built, after it is released, and long scans let go of it every few thousand entries,
//! so a reader never stalls the request path for long. Waiters are filed by what they wait
//! for and woken only by an entry they match (see `waiters`).

mod byte_ring;
mod entry;
mod filter;
mod layout;
mod ring;
mod waiters;

pub use entry::Entry;
pub(crate) use entry::Record;
pub use filter::Filter;

use crate::lock::lock;
use crate::ndjson::{FileHealth, FileSink};
use filter::Parts;
use ring::{Raw, Ring};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use waiters::{Waiter, Waiters};

/// The byte budget of a journal unless told otherwise: 10,000 entries of 1.6 KB.
pub(crate) const DEFAULT_MAX_BYTES: usize = 16 << 20;
/// Entries a page holds unless `limit` says otherwise, and at most.
pub(crate) const DEFAULT_PAGE: usize = 100;
pub(crate) const MAX_PAGE: usize = 1_000;
/// Slots looked at per hold of the ring's lock by a scan.
const SCAN_STEP: usize = 2_048;

#[derive(Debug)]
pub(crate) struct Journal {
    ring: Mutex<Ring>,
    file: Mutex<FileSink<Raw>>,
    /// Set once by [`Journal::with_file`], so a journal without a file never locks `file`.
    has_file: bool,
    file_health: Option<Arc<FileHealth>>,
    /// The sequence number the next entry will get; advanced only under the ring's lock, read
    /// without it.
    next_seq: AtomicU64,
    waiters: Mutex<Waiters>,
    /// How many waiters are filed: read on every record without taking `waiters`' lock.
    waiting: AtomicUsize,
    /// Tells followers of every entry (the dashboard's streams) that one was recorded; only
    /// sent to when one is listening.
    recorded: watch::Sender<u64>,
}

/// A snapshot answer to a query, as the admin API writes it and its clients read it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Page {
    pub requests: Vec<Arc<Entry>>,
    /// Entries matching the filter, on this page or not.
    pub total: usize,
    pub dropped: u64,
    /// When more matching entries follow this page: the `since` that reads the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

impl Journal {
    #[cfg(test)]
    pub(crate) fn new(capacity: usize) -> Journal {
        Journal::bounded(capacity, DEFAULT_MAX_BYTES)
    }

    /// A journal keeping at most `capacity` entries and about `max_bytes` bytes of them.
    pub(crate) fn bounded(capacity: usize, max_bytes: usize) -> Journal {
        Journal {
            ring: Mutex::new(Ring::new(capacity, max_bytes)),
            file: Mutex::new(FileSink::default()),
            has_file: false,
            file_health: None,
            next_seq: AtomicU64::new(1),
            waiters: Mutex::new(Waiters::default()),
            waiting: AtomicUsize::new(0),
            recorded: watch::Sender::new(1),
        }
    }

    /// Also append every entry, as one JSON line, to `path`. Sequence numbers go on from the
    /// file's last entry, so a reused file never repeats one.
    pub(crate) fn with_file(mut self, path: &Path) -> std::io::Result<Journal> {
        let opened = FileSink::open(path)?;
        if let Some(last) = opened.last_line.as_deref().and_then(last_seq) {
            self.next_seq = AtomicU64::new(last.saturating_add(1));
        }
        self.file_health = opened.sink.health().cloned();
        *lock(&self.file) = opened.sink;
        self.has_file = true;
        Ok(self)
    }

    /// The journal file's health, when there is one.
    pub(crate) fn file_health(&self) -> Option<&FileHealth> {
        self.file_health.as_deref()
    }

    /// Records one request and returns its sequence number.
    ///
    /// Under the lock: a sequence number, the waiters this entry is news to, a slot written
    /// over the evicted one's place and a copy of the texts into the byte buffer. An evicted
    /// entry's diagnostics, if any, are freed after the lock is released.
    pub(crate) fn record(&self, r: Record<'_>) -> u64 {
        let seq;
        let evicted;
        let mut woken = Vec::new();
        {
            let mut ring = lock(&self.ring);
            // Taken under the ring's lock, so sequence numbers follow ring order.
            seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
            if self.waiting.load(Ordering::Acquire) > 0 {
                woken = lock(&self.waiters).matching(&Parts {
                    seq,
                    kind: r.kind,
                    status: r.status,
                    target: r.target.as_bytes(),
                    diagnostics: &r.diagnostics,
                    fault: r.fault.as_deref(),
                });
            }
            evicted = ring.push(seq, r);
            // Sent while the ring is locked, so the file keeps sequence order.
            if self.has_file {
                if let Some(slot) = ring.slots.back() {
                    let raw = ring.copy(slot);
                    let bytes = raw.bytes();
                    lock(&self.file).send(Arc::new(raw), bytes);
                }
            }
        }
        drop(evicted);
        if !woken.is_empty() {
            woken.iter().for_each(|w| w.wake());
        }
        // A follower subscribes before it reads, and the entry is in the ring by now: one that
        // subscribes after this check finds the entry by reading.
        if self.recorded.receiver_count() > 0 {
            self.recorded.send_replace(seq + 1);
        }
        seq
    }

    /// Entries matching `filter`: the first `limit` of them (all when `limit` is `None`), how
    /// many match in all, and where the next page starts.
    #[cfg(test)]
    pub(crate) fn query(&self, filter: &Filter) -> Page {
        self.page(filter, filter.limit.unwrap_or(usize::MAX))
    }

    /// As [`Journal::query`], with a page of at most `most` entries ([`DEFAULT_PAGE`] when
    /// the filter's `limit` does not say): what the admin API answers.
    pub(crate) fn page_of(&self, filter: &Filter, most: usize) -> Page {
        self.page(filter, filter.limit.unwrap_or(DEFAULT_PAGE).min(most))
    }

    fn page(&self, filter: &Filter, limit: usize) -> Page {
        let mut raws = Vec::new();
        let mut total = 0;
        let mut next = None;
        let dropped = self.scan(
            filter,
            |ring, slot| {
                if raws.len() < limit {
                    raws.push(ring.copy(slot));
                } else if next.is_none() {
                    next = Some(slot.seq);
                }
                total += 1;
            },
            |ring| ring.dropped,
        );
        Page {
            requests: raws.iter().map(|r| Arc::new(r.entry())).collect(),
            total,
            dropped,
            next,
        }
    }

    /// Visits every entry matching `filter`, oldest first, letting go of the ring's lock
    /// every [`SCAN_STEP`] slots; `finish` runs under the same hold of the lock as the last
    /// step, so nothing recorded in between is missed.
    fn scan<R>(
        &self,
        filter: &Filter,
        mut visit: impl FnMut(&Ring, &ring::Slot),
        finish: impl FnOnce(&Ring) -> R,
    ) -> R {
        let mut at = filter.since.unwrap_or(0);
        loop {
            let ring = lock(&self.ring);
            let start = ring.index_of(at).unwrap_or(0).min(ring.slots.len());
            let mut seen = 0;
            for slot in ring.slots.range(start..).take(SCAN_STEP) {
                if ring.matches(slot, filter) {
                    visit(&ring, slot);
                }
                seen += 1;
                at = slot.seq + 1;
            }
            if seen < SCAN_STEP {
                return finish(&ring);
            }
        }
    }

    /// Answers as soon as `count` entries match `filter`, or at `timeout` with what there is.
    /// Woken only by a matching entry; never sleeps on a timer loop. Dropping the future (the
    /// client left) files the waiter away at once.
    #[cfg(test)]
    pub(crate) async fn wait(&self, filter: &Filter, count: usize, timeout: Duration) -> Page {
        self.wait_most(filter, count, timeout, usize::MAX).await
    }

    /// As [`Journal::wait`], its page at most `most` entries long.
    pub(crate) async fn wait_most(
        &self,
        filter: &Filter,
        count: usize,
        timeout: Duration,
        most: usize,
    ) -> Page {
        let deadline = tokio::time::Instant::now() + timeout;
        let (waiter, found) = self.file_waiter(filter);
        let filed = Filed {
            journal: self,
            waiter,
        };
        while found + filed.waiter.hits() < count {
            if tokio::time::timeout_at(deadline, filed.waiter.woken())
                .await
                .is_err()
            {
                break;
            }
        }
        drop(filed);
        self.page(filter, filter.limit.unwrap_or(most).min(most))
    }

    /// Counts what already matches `filter` and files a waiter for what is to come, the last
    /// step under the same hold of the ring's lock as the filing, so no entry is missed or
    /// counted twice.
    fn file_waiter(&self, filter: &Filter) -> (Arc<Waiter>, usize) {
        let mut found = 0;
        let waiter = self.scan(
            filter,
            |_, _| found += 1,
            |_| {
                let waiter = Arc::new(Waiter::new(filter.clone(), self.next_seq()));
                lock(&self.waiters).add(waiter.clone());
                self.waiting.fetch_add(1, Ordering::AcqRel);
                waiter
            },
        );
        (waiter, found)
    }

    /// Up to `limit` entries from `seq` on (or from the oldest kept, when `seq` is gone), in
    /// order: for readers that follow the journal in steps.
    pub(crate) fn since(&self, seq: u64, limit: usize) -> Vec<Arc<Entry>> {
        let raws: Vec<Raw> = {
            let ring = lock(&self.ring);
            let Some(skip) = ring.index_of(seq) else {
                return Vec::new();
            };
            ring.slots
                .range(skip.min(ring.slots.len())..)
                .take(limit)
                .map(|slot| ring.copy(slot))
                .collect()
        };
        raws.iter().map(|r| Arc::new(r.entry())).collect()
    }

    /// The oldest entry's sequence number, or the next one's when the journal is empty.
    pub(crate) fn first_seq(&self) -> u64 {
        let ring = lock(&self.ring);
        ring.slots
            .front()
            .map_or_else(|| self.next_seq(), |s| s.seq)
    }

    pub(crate) fn get(&self, seq: u64) -> Option<Arc<Entry>> {
        let raw = {
            let ring = lock(&self.ring);
            ring.get(seq).map(|slot| ring.copy(slot))
        };
        raw.map(|r| Arc::new(r.entry()))
    }

    /// Forgets every entry and the drop count; sequence numbers keep counting up.
    pub(crate) fn reset(&self) -> usize {
        lock(&self.ring).clear()
    }

    pub(crate) fn len(&self) -> usize {
        lock(&self.ring).slots.len()
    }

    pub(crate) fn capacity(&self) -> usize {
        lock(&self.ring).capacity
    }

    /// What the kept entries weigh, and the most they may.
    pub(crate) fn bytes(&self) -> (usize, usize) {
        let ring = lock(&self.ring);
        (ring.bytes, ring.max_bytes)
    }

    pub(crate) fn dropped(&self) -> u64 {
        lock(&self.ring).dropped
    }

    /// A receiver that changes whenever an entry is recorded: for followers of every entry.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.recorded.subscribe()
    }

    /// Waiters filed now.
    pub(crate) fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// The sequence number the next entry will get.
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq.load(Ordering::Relaxed)
    }

    /// Flushes and closes the journal file, waiting at most `within` for a slow disk: after
    /// this returns `Ok`, every entry recorded so far is in it. Later entries go to the ring
    /// only.
    pub(crate) fn close(&self, within: Duration) -> std::io::Result<()> {
        let writer = lock(&self.file).finish();
        match writer {
            Some(w) => w.join_within(within),
            None => Ok(()),
        }
    }
}

/// A filed waiter, filed away again when dropped: by an answer, a timeout, or a client that
/// left (hyper drops the handler's future).
struct Filed<'a> {
    journal: &'a Journal,
    waiter: Arc<Waiter>,
}

impl Drop for Filed<'_> {
    fn drop(&mut self) {
        lock(&self.journal.waiters).remove(&self.waiter);
        self.journal.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The `seq` of a journal file's line.
fn last_seq(line: &str) -> Option<u64> {
    #[derive(Deserialize)]
    struct Seq {
        seq: u64,
    }
    serde_json::from_str::<Seq>(line).ok().map(|s| s.seq)
}

#[cfg(test)]
mod tests {
    use crate::journal::{Filter, Journal, Record};
    use std::time::Duration;

    fn record(target: &str, status: u16) -> Record<'_> {
        Record::click(target, status)
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
            let ua = (!i.is_multiple_of(3)).then(|| format!("ua-{i}\u{1b}"));
            let xff = i.is_multiple_of(4).then(|| format!("10.0.0.{i}"));
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
                assert_eq!(e.target, target, "entry {k} after {i}");
                assert_eq!(e.user_agent, ua);
                assert_eq!(e.x_forwarded_for, xff);
                assert_eq!(
                    e.host.as_deref(),
                    (k % 2 == 0).then_some("redirect.appmetrica.yandex.com")
                );
            }
        }
        assert!(j.get(493).is_none());
        assert_eq!(j.dropped(), 493);
        assert_eq!(j.reset(), 7);
        j.record(record("/serve/1?click_id=after-reset", 204));
        assert_eq!(
            j.get(501).map(|e| e.target.clone()).as_deref(),
            Some("/serve/1?click_id=after-reset")
        );
    }

    #[test]
    fn filters_and_params() {
        let j = Journal::new(10);
        j.record(record(
            "/serve/7?click_id=a%20b&click_id=second&device_ip=1.2.3.4",
            204,
        ));
        j.record(record("/serve/8?click%5Fid=x", 400));
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
                click_id: Some("x".into()),
                ..Filter::default()
            }),
            vec![2],
            "an escaped key is the same parameter"
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
        assert_eq!(first.param("click_id"), Some("a b"));
    }

    #[tokio::test]
    async fn wait_answers_at_the_arrival_or_at_the_timeout() {
        let j = std::sync::Arc::new(Journal::new(10));
        let filter = Filter {
            click_id: Some("late".into()),
            ..Filter::default()
        };
        let started = tokio::time::Instant::now();
        let none = j.wait(&filter, 1, Duration::from_millis(50)).await;
        assert_eq!(none.total, 0);
        assert!(started.elapsed() >= Duration::from_millis(50));
        let writer = j.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            writer.record(record("/serve/1?click_id=other", 204));
            writer.record(record("/serve/1?click_id=late", 204));
        });
        let page = j.wait(&filter, 1, Duration::from_secs(30)).await;
        assert_eq!(page.total, 1);
        assert_eq!(page.requests[0].param("click_id"), Some("late"));
    }
}
