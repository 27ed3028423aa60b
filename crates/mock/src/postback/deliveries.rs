//! The record of every postback: each delivery with its attempts, kept in a bounded store the
//! admin API reads and waits on, and appended to an NDJSON file as it changes.

use super::template::{ConversionKind, PostbackMethod};
use crate::lock::lock;
use crate::ndjson::{FileHealth, FileSink};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
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
    /// For `wait`: how many matching deliveries to wait for (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// For `wait`: how long to wait at most (default 5,000 ms, at most 60,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

impl DeliveryFilter {
    fn matches(&self, d: &Delivery) -> bool {
        self.tracking_id
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
            && self.delivered.is_none_or(|x| d.delivered == x)
            && self.attempts.is_none_or(|n| d.attempts.len() >= n)
    }
}

/// A snapshot answer, as the admin API writes it and its clients read it.
#[derive(Debug, Serialize, Deserialize)]
pub struct DeliveryPage {
    pub postbacks: Vec<Delivery>,
    pub total: usize,
    /// Deliveries forgotten because the store was full (their lines stay in the file).
    pub evicted: u64,
}

#[derive(Debug)]
pub(crate) struct Deliveries {
    store: Mutex<Store>,
    file: Mutex<FileSink<Delivery>>,
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
    next_id: u64,
    evicted: u64,
}

impl Deliveries {
    pub(crate) fn new(capacity: usize) -> Deliveries {
        Deliveries {
            store: Mutex::new(Store {
                items: VecDeque::new(),
                capacity: capacity.max(1),
                next_id: 1,
                evicted: 0,
            }),
            file: Mutex::new(FileSink::default()),
            file_health: None,
            changed: watch::Sender::new(0),
            recent: Mutex::new(VecDeque::new()),
        }
    }

    /// Also append each delivery, as one JSON line, whenever it changes: the last line of an
    /// id is its final state.
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
            if s.items.len() >= s.capacity {
                s.items.pop_front();
                s.evicted += 1;
            }
            s.items.push_back(d.clone());
        }
        self.written(&d);
        d
    }

    /// Changes delivery `id` in place (or only in the file, when the store has let it go)
    /// and returns it as changed.
    pub(crate) fn update(&self, id: u64, change: impl FnOnce(&mut Delivery)) -> Option<Delivery> {
        let changed = {
            let mut s = lock(&self.store);
            let first = s.items.front()?.id;
            let i = usize::try_from(id.checked_sub(first)?).ok()?;
            let d = s.items.get_mut(i).filter(|d| d.id == id)?;
            change(d);
            d.clone()
        };
        self.written(&changed);
        Some(changed)
    }

    pub(crate) fn get(&self, id: u64) -> Option<Delivery> {
        let s = lock(&self.store);
        let first = s.items.front()?.id;
        let i = usize::try_from(id.checked_sub(first)?).ok()?;
        s.items.get(i).filter(|d| d.id == id).cloned()
    }

    fn written(&self, d: &Delivery) {
        let bytes =
            std::mem::size_of::<Delivery>() + d.url.len() + d.body.as_ref().map_or(0, String::len);
        lock(&self.file).send(Arc::new(d.clone()), bytes);
        let n = {
            let mut recent = lock(&self.recent);
            let n = recent.back().map_or(1, |(n, _)| n + 1);
            recent.push_back((n, d.id));
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

    /// The deliveries changed after change `n` (as they are now, each once), and the latest
    /// change's number. Only the latest changes are remembered: an older `n` gets those.
    pub(crate) fn changed_since(&self, n: u64) -> (Vec<Delivery>, u64) {
        let (ids, latest) = {
            let recent = lock(&self.recent);
            let mut ids: Vec<u64> = recent
                .iter()
                .filter(|(m, _)| *m > n)
                .map(|(_, id)| *id)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            (ids, recent.back().map_or(0, |(m, _)| *m))
        };
        (
            ids.into_iter().filter_map(|id| self.get(id)).collect(),
            latest,
        )
    }

    pub(crate) fn query(&self, f: &DeliveryFilter) -> DeliveryPage {
        let s = lock(&self.store);
        let postbacks: Vec<Delivery> = s.items.iter().filter(|d| f.matches(d)).cloned().collect();
        DeliveryPage {
            total: postbacks.len(),
            postbacks,
            evicted: s.evicted,
        }
    }

    /// Answers as soon as `count` deliveries match, or at `timeout` with what there is.
    pub(crate) async fn wait(
        &self,
        f: &DeliveryFilter,
        count: usize,
        timeout: Duration,
    ) -> DeliveryPage {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut changes = self.changed.subscribe();
        loop {
            changes.borrow_and_update();
            let page = self.query(f);
            if page.total >= count {
                return page;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => continue,
                _ => return self.query(f),
            }
        }
    }

    /// Every delivery still pending.
    pub(crate) fn pending(&self) -> Vec<u64> {
        lock(&self.store)
            .items
            .iter()
            .filter(|d| d.state == DeliveryState::Pending)
            .map(|d| d.id)
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
