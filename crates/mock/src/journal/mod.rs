//! The journal: every request the mock answered, in a bounded ring, optionally appended to an
//! NDJSON file.
//!
//! The ring drops its oldest entry when full and counts it, so memory stays bounded however
//! long the mock runs. Entries become [`Entry`] values only when read, their parameters
//! decoded then, once. Waiters are woken through a `watch` channel carrying the next sequence
//! number: no polling.

mod byte_ring;
mod entry;
mod filter;
mod ring;

pub use entry::{Entry, Record};
pub use filter::Filter;

use crate::lock::lock;
use crate::ndjson::FileSink;
use ring::Ring;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug)]
pub struct Journal {
    ring: Mutex<Ring>,
    file: Mutex<FileSink<Entry>>,
    /// Set once by [`Journal::with_file`], so a journal without a file never locks `file`.
    has_file: bool,
    /// The sequence number the next entry will get; advanced only under the ring's lock, read
    /// without it.
    next_seq: AtomicU64,
    /// Tells waiters an entry was recorded; only sent to when one is listening.
    next: watch::Sender<u64>,
}

/// A snapshot answer to a query, as the admin API writes it and its clients read it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Page {
    pub requests: Vec<Arc<Entry>>,
    pub total: usize,
    pub dropped: u64,
}

impl Journal {
    pub fn new(capacity: usize) -> Journal {
        Journal {
            ring: Mutex::new(Ring::new(capacity)),
            file: Mutex::new(FileSink::default()),
            has_file: false,
            next_seq: AtomicU64::new(1),
            next: watch::Sender::new(1),
        }
    }

    /// Also append every entry, as one JSON line, to `path`.
    pub fn with_file(mut self, path: &Path) -> std::io::Result<Journal> {
        *lock(&self.file) = FileSink::open(path)?;
        self.has_file = true;
        Ok(self)
    }

    /// Records one request and returns its sequence number.
    ///
    /// Under the lock: a sequence number, a slot written over the evicted one's place and a
    /// copy of the texts into the byte buffer. An evicted entry's diagnostics, if any, are freed
    /// after the lock is released.
    pub fn record(&self, r: Record<'_>) -> u64 {
        let seq;
        let evicted;
        {
            let mut ring = lock(&self.ring);
            // Taken under the ring's lock, so sequence numbers follow ring order.
            seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
            evicted = ring.push(seq, r);
            // Sent while the ring is locked, so the file keeps sequence order.
            if self.has_file {
                if let Some(slot) = ring.slots.back() {
                    lock(&self.file).send(Arc::new(ring.entry(slot)));
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

    /// Answers as soon as `count` entries match `filter`, or at `timeout` with what there is.
    /// Woken by every append; never sleeps on a timer loop.
    pub async fn wait(&self, filter: &Filter, count: usize, timeout: Duration) -> Page {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut changes = self.subscribe();
        loop {
            // Mark the current value seen before querying, so an append in between wakes us.
            changes.borrow_and_update();
            let page = self.query(filter);
            if page.total >= count {
                return page;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => continue,
                _ => return self.query(filter),
            }
        }
    }

    /// Up to `limit` entries from `seq` on (or from the oldest kept, when `seq` is gone), in
    /// order: for readers that follow the journal in steps.
    pub fn since(&self, seq: u64, limit: usize) -> Vec<Arc<Entry>> {
        let ring = lock(&self.ring);
        let Some(first) = ring.slots.front().map(|s| s.seq) else {
            return Vec::new();
        };
        let skip = usize::try_from(seq.saturating_sub(first))
            .unwrap_or(usize::MAX)
            .min(ring.slots.len());
        ring.slots
            .range(skip..)
            .take(limit)
            .map(|slot| Arc::new(ring.entry(slot)))
            .collect()
    }

    /// The oldest entry's sequence number, or the next one's when the journal is empty.
    pub fn first_seq(&self) -> u64 {
        let ring = lock(&self.ring);
        ring.slots
            .front()
            .map_or_else(|| self.next_seq(), |s| s.seq)
    }

    pub fn get(&self, seq: u64) -> Option<Arc<Entry>> {
        let ring = lock(&self.ring);
        ring.get(seq).map(|slot| Arc::new(ring.entry(slot)))
    }

    /// Forgets every entry and the drop count; sequence numbers keep counting up.
    pub fn reset(&self) -> usize {
        lock(&self.ring).clear()
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
        let writer = lock(&self.file).finish();
        match writer {
            Some(w) => w
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the journal file writer panicked"))),
            None => Ok(()),
        }
    }
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
