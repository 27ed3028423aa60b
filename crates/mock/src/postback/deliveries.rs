//! The record of every postback: each delivery with its attempts, kept in a bounded store the
//! admin API reads and waits on, and appended to an NDJSON file as it changes.

use super::template::{ConversionKind, PostbackMethod};
use crate::lock::lock;
use crate::ndjson::{FileHealth, FileSink};
use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Waiting for its first attempt or its next retry.
    Pending,
    /// An attempt was answered 200.
    Delivered,
    /// No attempt was answered 200 within the retry period.
    Failed,
    /// Never attempted: the queue was full.
    Dropped,
    /// The mock stopped while retries were still due.
    Stopped,
}

/// Why an attempt got no answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureKind {
    /// No answer within the timeout.
    Timeout,
    /// The connection was refused, reset or could not be made.
    Unreachable,
    /// The answer broke off or was not HTTP.
    Broken,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    #[serde(with = "crate::wire::millis")]
    pub at: u64,
    pub status: Option<u16>,
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<FailureKind>,
    pub duration_ms: u64,
    /// The start of the receiver's answer body, for the diagnosis (untrusted text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
    /// Sent again on request (`POST /__admin/postbacks/<id>/repeat`), not by the retry clock.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeat: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: u64,
    pub transaction_id: String,
    pub tracking_id: String,
    pub event: ConversionKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_name: Option<String>,
    pub click_id: Option<String>,
    pub method: PostbackMethod,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub delivered: bool,
    pub state: DeliveryState,
    #[serde(default, with = "crate::wire::millis_opt")]
    pub next_attempt_at: Option<u64>,
    pub attempts: Vec<Attempt>,
}

/// Which deliveries a query wants; every field optional.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryFilter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub click_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivered: Option<bool>,
    /// Only deliveries with at least this many attempts (to wait for a retry's outcome).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<usize>,
    /// Only deliveries with this id or a later one (a page's `next`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// Deliveries on a page: 100 unless asked, at most 1,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// For `wait`: how many matching deliveries to wait for (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// For `wait`: how long to wait at most (default 5,000 ms, at most 60,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl DeliveryFilter {
    fn matches(&self, d: &Delivery) -> bool {
        self.may_match(d)
            && self.delivered.is_none_or(|x| d.delivered == x)
            && self.attempts.is_none_or(|n| d.attempts.len() >= n)
    }

    /// Whether `d` matches the parts of the filter no change to a delivery can alter: a wait
    /// looks again only when a delivery that may match changed.
    fn may_match(&self, d: &Delivery) -> bool {
        self.since.is_none_or(|s| d.id >= s)
            && self
                .tracking_id
                .as_deref()
                .is_none_or(|t| d.tracking_id == t)
            && self
                .click_id
                .as_deref()
                .is_none_or(|c| d.click_id.as_deref() == Some(c))
            && self
                .transaction_id
                .as_deref()
                .is_none_or(|t| d.transaction_id == t)
    }
}

/// A snapshot answer, as the admin API writes it and its clients read it: one page.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeliveryPage {
    pub postbacks: Vec<Delivery>,
    /// Deliveries matching the filter, on this page or not.
    pub total: usize,
    /// Deliveries forgotten because the store was full (their lines stay in the file).
    pub evicted: u64,
    /// When more matching deliveries follow this page: the `since` that reads the next one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

/// Deliveries a page holds unless `limit` says otherwise, and at most.
pub(crate) const DEFAULT_PAGE: usize = 100;
pub(crate) const MAX_PAGE: usize = 1_000;

/// What one change to a delivery adds to the file: one line, never the delivery's history, so
/// the file grows with the attempts, not with their square.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Change {
    pub id: u64,
    pub transaction_id: String,
    /// `created`, `attempt`, `stopped`, `dropped`.
    pub change: &'static str,
    pub state: DeliveryState,
    pub delivered: bool,
    #[serde(with = "crate::wire::millis_opt")]
    pub next_attempt_at: Option<u64>,
    /// The attempt, for `attempt`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<Attempt>,
    /// The delivery as made, without attempts, for `created` and `dropped`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

#[derive(Debug)]
pub(crate) struct Deliveries {
    store: Mutex<Store>,
    file: Mutex<FileSink<Change>>,
    file_health: Option<Arc<FileHealth>>,
    /// The latest change's number, for waiters and for [`Deliveries::changed_since`].
    changed: watch::Sender<u64>,
    /// The latest changes, as (change number, delivery id), oldest first.
    recent: Mutex<VecDeque<(u64, u64)>>,
}

/// Changes [`Deliveries::changed_since`] can tell about.
const RECENT: usize = 1024;

#[derive(Debug)]
struct Store {
    items: VecDeque<Delivery>,
    capacity: usize,
    /// What the kept deliveries weigh, and the most they may.
    bytes: usize,
    max_bytes: usize,
    next_id: u64,
    evicted: u64,
}

/// Roughly what a delivery takes in memory: its texts and its attempts.
fn weight(d: &Delivery) -> usize {
    std::mem::size_of::<Delivery>()
        + d.url.len()
        + d.body.as_ref().map_or(0, String::len)
        + d.transaction_id.len()
        + d.tracking_id.len()
        + d.click_id.as_ref().map_or(0, String::len)
        + d.attempts
            .iter()
            .map(|a| {
                std::mem::size_of::<Attempt>()
                    + a.error.as_ref().map_or(0, String::len)
                    + a.answer.as_ref().map_or(0, String::len)
            })
            .sum::<usize>()
}

impl Store {
    fn position(&self, id: u64) -> Option<usize> {
        let first = self.items.front()?.id;
        let i = usize::try_from(id.checked_sub(first)?).ok()?;
        (self.items.get(i)?.id == id).then_some(i)
    }

    /// Forgets the oldest deliveries while over the bounds (the newest is always kept).
    fn trim(&mut self) {
        while self.items.len() > 1
            && (self.items.len() > self.capacity || self.bytes > self.max_bytes)
        {
            if let Some(old) = self.items.pop_front() {
                self.bytes = self.bytes.saturating_sub(weight(&old));
                self.evicted += 1;
            }
        }
    }
}

impl Deliveries {
    /// A record of at most `capacity` deliveries weighing about `max_bytes` at most.
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Deliveries {
        Deliveries {
            store: Mutex::new(Store {
                items: VecDeque::new(),
                capacity: capacity.max(1),
                bytes: 0,
                max_bytes,
                next_id: 1,
                evicted: 0,
            }),
            file: Mutex::new(FileSink::default()),
            file_health: None,
            changed: watch::Sender::new(0),
            recent: Mutex::new(VecDeque::new()),
        }
    }

    /// Also append a line to the file at each change: the delivery when made, then each
    /// attempt and each change of state, never repeating history.
    pub(crate) fn with_file(mut self, path: &Path) -> std::io::Result<Deliveries> {
        let opened = FileSink::open(path)?;
        self.file_health = opened.sink.health().cloned();
        *lock(&self.file) = opened.sink;
        Ok(self)
    }

    /// The deliveries file's health, when there is one.
    pub(crate) fn file_health(&self) -> Option<&FileHealth> {
        self.file_health.as_deref()
    }

    /// Stores a new delivery, giving it its id.
    pub(crate) fn add(&self, mut d: Delivery) -> Delivery {
        {
            let mut s = lock(&self.store);
            d.id = s.next_id;
            s.next_id += 1;
            s.bytes += weight(&d);
            s.items.push_back(d.clone());
            s.trim();
        }
        let change = if d.state == DeliveryState::Dropped {
            "dropped"
        } else {
            "created"
        };
        self.written(Change {
            id: d.id,
            transaction_id: d.transaction_id.clone(),
            change,
            state: d.state,
            delivered: d.delivered,
            next_attempt_at: d.next_attempt_at,
            attempt: None,
            delivery: Some(d.clone()),
        });
        d
    }

    /// Changes delivery `id` in place and records `line` (its state fields taken from the
    /// delivery as changed, when the store still keeps it).
    pub(crate) fn update(&self, mut line: Change, change: impl FnOnce(&mut Delivery)) {
        {
            let mut s = lock(&self.store);
            if let Some(i) = s.position(line.id) {
                let before = weight(&s.items[i]);
                let d = &mut s.items[i];
                change(d);
                line.state = d.state;
                line.delivered = d.delivered;
                line.next_attempt_at = d.next_attempt_at;
                let after = weight(d);
                s.bytes = (s.bytes + after).saturating_sub(before);
                s.trim();
            }
        }
        self.written(line);
    }

    pub(crate) fn get(&self, id: u64) -> Option<Delivery> {
        let s = lock(&self.store);
        s.position(id).map(|i| s.items[i].clone())
    }

    fn written(&self, line: Change) {
        let id = line.id;
        let bytes = std::mem::size_of::<Change>()
            + line.attempt.as_ref().map_or(0, |a| {
                a.answer.as_ref().map_or(0, String::len) + a.error.as_ref().map_or(0, String::len)
            })
            + line.delivery.as_ref().map_or(0, weight);
        lock(&self.file).send(Arc::new(line), bytes);
        let n = {
            let mut recent = lock(&self.recent);
            let n = recent.back().map_or(1, |(n, _)| n + 1);
            recent.push_back((n, id));
            if recent.len() > RECENT {
                recent.pop_front();
            }
            n
        };
        self.changed.send_replace(n);
    }

    /// A receiver that changes with every change to a delivery.
    pub(crate) fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// At most `most` of the deliveries changed after change `n` (as they are now, each once),
    /// the number of the last change they cover, and how many changes were too old to tell.
    pub(crate) fn changed_since(&self, n: u64, most: usize) -> (Vec<Delivery>, u64, u64) {
        let (ids, upto, missed) = {
            let recent = lock(&self.recent);
            let oldest = recent.front().map_or(n + 1, |(m, _)| *m);
            let missed = oldest.saturating_sub(n + 1);
            let mut ids: Vec<u64> = Vec::new();
            let mut upto = n.max(oldest.saturating_sub(1));
            for (m, id) in recent.iter().filter(|(m, _)| *m > n) {
                if !ids.contains(id) {
                    if ids.len() == most {
                        break;
                    }
                    ids.push(*id);
                }
                upto = *m;
            }
            (ids, upto, missed)
        };
        (
            ids.into_iter().filter_map(|id| self.get(id)).collect(),
            upto,
            missed,
        )
    }

    /// One page of the deliveries matching `f`: only the page is copied.
    pub(crate) fn query(&self, f: &DeliveryFilter) -> DeliveryPage {
        let limit = f.limit.unwrap_or(DEFAULT_PAGE).min(MAX_PAGE);
        let s = lock(&self.store);
        let mut postbacks = Vec::new();
        let mut total = 0;
        let mut next = None;
        for d in s.items.iter().filter(|d| f.matches(d)) {
            if postbacks.len() < limit {
                postbacks.push(d.clone());
            } else if next.is_none() {
                next = Some(d.id);
            }
            total += 1;
        }
        DeliveryPage {
            postbacks,
            total,
            evicted: s.evicted,
            next,
        }
    }

    /// Every delivery kept, oldest first: for the Logs API's export.
    pub(crate) fn all(&self) -> Vec<Delivery> {
        lock(&self.store).items.iter().cloned().collect()
    }

    /// The ids of the deliveries matching `f` now.
    fn matching(&self, f: &DeliveryFilter) -> HashSet<u64> {
        lock(&self.store)
            .items
            .iter()
            .filter(|d| f.matches(d))
            .map(|d| d.id)
            .collect()
    }

    /// Brings `matching` (the deliveries matching `f` as of change `seen`) up to date with the
    /// changes since, looking at the changed deliveries only; the last change now seen.
    fn follow(&self, f: &DeliveryFilter, matching: &mut HashSet<u64>, seen: u64) -> u64 {
        let changed: Option<Vec<(u64, u64)>> = {
            let recent = lock(&self.recent);
            // Changes too old to tell: look at everything again.
            recent
                .front()
                .is_none_or(|(m, _)| *m <= seen + 1)
                .then(|| recent.iter().filter(|(m, _)| *m > seen).copied().collect())
        };
        let Some(changed) = changed else {
            *matching = self.matching(f);
            return *self.changed.borrow();
        };
        let s = lock(&self.store);
        for (_, id) in &changed {
            match s.position(*id) {
                Some(i) if f.matches(&s.items[i]) => matching.insert(*id),
                _ => matching.remove(id),
            };
        }
        changed.last().map_or(seen, |(m, _)| *m)
    }

    /// Answers as soon as `count` deliveries match, or at `timeout` with what there is. Each
    /// change costs a waiter a look at the deliveries that changed, never a scan or a copy of
    /// the record: it keeps the ids that match, and copies a page only to answer.
    pub(crate) async fn wait(
        &self,
        f: &DeliveryFilter,
        count: usize,
        timeout: Duration,
    ) -> DeliveryPage {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut changes = self.changed.subscribe();
        let mut seen = *changes.borrow_and_update();
        let mut matching = self.matching(f);
        while matching.len() < count {
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                _ => break,
            }
            changes.borrow_and_update();
            seen = self.follow(f, &mut matching, seen);
        }
        self.query(f)
    }

    /// Every delivery still pending.
    pub(crate) fn pending(&self) -> Vec<(u64, String)> {
        lock(&self.store)
            .items
            .iter()
            .filter(|d| d.state == DeliveryState::Pending)
            .map(|d| (d.id, d.transaction_id.clone()))
            .collect()
    }

    /// Flushes and closes the file: every change made so far is in it after this returns.
    pub(crate) fn close(&self, within: std::time::Duration) -> std::io::Result<()> {
        let writer = lock(&self.file).finish();
        match writer {
            Some(w) => w.join_within(within),
            None => Ok(()),
        }
    }
}
