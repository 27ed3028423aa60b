//! The postback side's state: the tracker templates set at run time, the journal index, the
//! courier that delivers, and transaction ids.

use super::deliveries::{Deliveries, Delivery, DeliveryState};
use super::export_row::ExportRows;
use super::installs::Installs;
use super::options::PostbackOptions;
use super::policy::{Policy, Success};
use super::sender::{self, now_ms, Counters, Courier};
use super::template::{Rendered, Template, TemplateError};
use super::touches::TouchIndex;
use crate::client::Client;
use crate::lock::lock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::task::TaskTracker;

pub(crate) struct Postbacks {
    courier: Arc<Courier>,
    pub(super) index: TouchIndex,
    pub(super) installs: Installs,
    /// The Logs API's rows of postbacks and installations.
    pub(crate) exports: ExportRows,
    /// Set through the admin API; they replace the tracker file's for that tracker.
    templates: Mutex<HashMap<u64, Vec<Template>>>,
    pending: Arc<AtomicUsize>,
    dropped: AtomicU64,
    next_transaction: AtomicU64,
    /// Transaction ids of one run of the mock differ from another's.
    transaction_prefix: String,
    tasks: TaskTracker,
}

impl std::fmt::Debug for Postbacks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Postbacks")
            .field("options", &self.courier.options)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

impl Default for Postbacks {
    fn default() -> Self {
        Postbacks::new(PostbackOptions::default(), Client::new())
    }
}

impl Postbacks {
    pub(crate) fn new(options: PostbackOptions, client: Client) -> Postbacks {
        let keep = options.keep;
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        Postbacks {
            courier: Arc::new(Courier::new(options, client)),
            index: TouchIndex::default(),
            installs: Installs::default(),
            exports: ExportRows::new(keep),
            templates: Mutex::new(HashMap::new()),
            pending: Arc::new(AtomicUsize::new(0)),
            dropped: AtomicU64::new(0),
            next_transaction: AtomicU64::new(1),
            transaction_prefix: format!("{started:x}"),
            tasks: TaskTracker::new(),
        }
    }

    /// Also append every delivery, as one JSON line, each time it changes.
    pub(crate) fn with_file(mut self, path: &std::path::Path) -> std::io::Result<Postbacks> {
        let courier = Arc::get_mut(&mut self.courier)
            .ok_or_else(|| std::io::Error::other("postbacks already delivering"))?;
        courier.deliveries =
            std::mem::replace(&mut courier.deliveries, Deliveries::new(1, 0)).with_file(path)?;
        Ok(self)
    }

    pub(crate) fn options(&self) -> &PostbackOptions {
        &self.courier.options
    }

    pub(crate) fn deliveries(&self) -> &Deliveries {
        &self.courier.deliveries
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.courier.counters
    }

    /// Replaces the postbacks of tracker `id` (an empty list silences it; `None` goes back to
    /// the tracker file's). Each template is checked first; nothing changes on an error.
    pub(crate) fn set_templates(
        &self,
        id: u64,
        templates: Option<Vec<Template>>,
    ) -> Result<(), (usize, TemplateError)> {
        if let Some(ts) = &templates {
            for (i, t) in ts.iter().enumerate() {
                t.check().map_err(|e| (i, e))?;
            }
        }
        let mut all = lock(&self.templates);
        match templates {
            Some(ts) => all.insert(id, ts),
            None => all.remove(&id),
        };
        Ok(())
    }

    /// The admin API's templates for tracker `id`, when it set any.
    pub(crate) fn templates_set(&self, id: u64) -> Option<Vec<Template>> {
        lock(&self.templates).get(&id).cloned()
    }

    pub(super) fn transaction_id(&self) -> String {
        let n = self.next_transaction.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.transaction_prefix)
    }

    /// Stores `d` and starts delivering it, unless the queue is full: then it is stored as
    /// dropped, and counted.
    pub(super) fn dispatch(&self, mut d: Delivery, send: Rendered, policy: Policy) -> u64 {
        let capacity = self.courier.options.queue_capacity;
        let admitted = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < capacity).then_some(n + 1)
            })
            .is_ok();
        let c = &self.courier;
        if !admitted || c.stop.is_cancelled() {
            if admitted {
                self.pending.fetch_sub(1, Ordering::AcqRel);
            }
            d.state = DeliveryState::Dropped;
            self.dropped.fetch_add(1, Ordering::Relaxed);
            c.counters.finished(DeliveryState::Dropped);
            return c.deliveries.add(d).id;
        }
        // Known from the start, so the record never shows a pending delivery with no time.
        let first_delay = policy.first_delay(c.options.time_scale);
        if !first_delay.is_zero() {
            d.next_attempt_at = Some(now_ms() + first_delay.as_millis() as u64);
        }
        let tx = d.transaction_id.clone();
        let id = c.deliveries.add(d).id;
        c.counters.pending.inc();
        let (courier, pending) = (c.clone(), self.pending.clone());
        self.tasks.spawn(async move {
            sender::deliver(&courier, id, &tx, &send, policy).await;
            pending.fetch_sub(1, Ordering::AcqRel);
            courier.counters.pending.dec();
        });
        id
    }

    /// Sends delivery `id` once more now, whatever became of it (AppMetrica repeats a
    /// postback it saw no 200 for; a receiver must accept the repeat). `None` when no such
    /// delivery is kept.
    pub(crate) fn repeat(&self, id: u64, success: Success) -> Option<Delivery> {
        let d = self.courier.deliveries.get(id)?;
        let send = Rendered {
            method: d.method,
            url: d.url.clone(),
            body: d.body.clone(),
            content_type: d.content_type.clone(),
        };
        let courier = self.courier.clone();
        let tx = d.transaction_id.clone();
        self.tasks.spawn(async move {
            sender::repeat(&courier, id, &tx, &send, success).await;
        });
        Some(d)
    }

    /// Stops retrying: attempts in flight finish (each within the timeout), deliveries whose
    /// retries were still due are recorded as stopped, and the file is completed (its writer
    /// waited for at most `within`).
    pub(crate) async fn shutdown(&self, within: Duration) -> std::io::Result<()> {
        let c = &self.courier;
        c.stop.cancel();
        self.tasks.close();
        let grace = c.options.timeout + Duration::from_secs(1);
        if tokio::time::timeout(grace, self.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("postback attempts still running at shutdown were abandoned");
        }
        for (id, tx) in c.deliveries.pending() {
            sender::stopped(c, id, &tx);
        }
        c.deliveries.close(within)
    }
}
