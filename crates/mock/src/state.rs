//! What every handler of one mock shares: its mode and trackers, the journal, postbacks,
//! faults, metrics and the click-id memory. The fields are private; the request path, the
//! admin API and the dashboard reach them through the methods below.

use crate::clickids::ClickIds;
use crate::fault::Faults;
use crate::journal::Journal;
use crate::metrics::{FileGauges, Metrics};
use crate::postback::policy::Policy;
use crate::postback::{
    convert, ConversionError, ConversionOutcome, ConversionRequest, Delivery, Postbacks,
};
use crate::trackers::{Mode, Trackers};
use metrica_s2s_rules::Settings;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

#[derive(Debug)]
pub(crate) struct State {
    mode: Mode,
    trackers: Trackers,
    settings: Settings,
    journal: Journal,
    metrics: Metrics,
    admin_token: Option<String>,
    postbacks: Arc<Postbacks>,
    faults: Faults,
    /// Cancelled when the server starts shutting down: open event streams and waits end then.
    closing: CancellationToken,
    clicks: ClickIds,
}

pub(crate) type SharedState = Arc<State>;

/// What a state is made of besides its journal and postbacks, which open files.
#[derive(Debug)]
pub(crate) struct Parts {
    pub(crate) mode: Mode,
    pub(crate) trackers: Trackers,
    pub(crate) click_id_capacity: usize,
    pub(crate) seed: Option<u64>,
    pub(crate) admin_token: Option<String>,
}

impl State {
    pub(crate) fn new(parts: Parts, journal: Journal, postbacks: Postbacks) -> State {
        let mut metrics = Metrics::new();
        metrics.register_postbacks(postbacks.counters());
        let faults = Faults::new(parts.seed);
        parts.trackers.add_faults(&faults);
        State {
            mode: parts.mode,
            trackers: parts.trackers,
            settings: Settings::default(),
            journal,
            metrics,
            admin_token: parts.admin_token.filter(|t| !t.is_empty()),
            postbacks: Arc::new(postbacks),
            faults,
            closing: CancellationToken::new(),
            clicks: ClickIds::new(parts.click_id_capacity),
        }
    }

    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    pub(crate) fn trackers(&self) -> &Trackers {
        &self.trackers
    }

    /// The rule engine's thresholds.
    pub(crate) fn settings(&self) -> &Settings {
        &self.settings
    }

    pub(crate) fn journal(&self) -> &Journal {
        &self.journal
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The bearer token the admin API wants, when one is set.
    pub(crate) fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref()
    }

    pub(crate) fn postbacks(&self) -> &Postbacks {
        &self.postbacks
    }

    pub(crate) fn faults(&self) -> &Faults {
        &self.faults
    }

    /// The memory behind `click-id-duplicate`.
    pub(crate) fn click_ids(&self) -> &ClickIds {
        &self.clicks
    }

    /// Resolves once the server has begun shutting down.
    pub(crate) async fn closing(&self) {
        self.closing.cancelled().await;
    }

    pub(crate) fn begin_closing(&self) {
        self.closing.cancel();
    }

    /// Attributes a conversion reported now and starts its postbacks.
    pub(crate) fn convert(
        &self,
        request: &ConversionRequest,
    ) -> Result<ConversionOutcome, ConversionError> {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        convert(
            request,
            &self.journal,
            &self.trackers,
            &self.postbacks,
            now_ms,
        )
    }

    /// Sends delivery `id` once more now, judged by its tracker's policy; the delivery as it
    /// was, or `None` when no such delivery is kept.
    pub(crate) fn repeat_postback(&self, id: u64) -> Option<Delivery> {
        let postbacks = self.postbacks();
        let tracking_id = postbacks.deliveries().get(id)?.tracking_id;
        let success = tracking_id
            .parse()
            .map_or_else(|_| Policy::default(), |t| self.trackers.policy(t))
            .success;
        postbacks.repeat(id, success)
    }

    /// `/metrics` in Prometheus text format, its gauges read now.
    pub(crate) fn metrics_text(&self) -> String {
        let (bytes, _) = self.journal.bytes();
        self.metrics.render(&FileGauges {
            journal_dropped: self.journal.dropped(),
            journal_size: self.journal.len(),
            journal_bytes: bytes,
            files: [
                ("journal", self.journal.file_health()),
                ("postbacks", self.postbacks.deliveries().file_health()),
            ],
            click_ids_forgotten: self.clicks.forgotten(),
        })
    }
}
