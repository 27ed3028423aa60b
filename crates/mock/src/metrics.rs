//! `/metrics` in Prometheus text format (prometheus-client, the Prometheus project's own crate).

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use metrica_s2s_rules::Kind;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub enum KindLabel {
    click,
    impression,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub kind: KindLabel,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FaultLabels {
    pub fault: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FileLabels {
    pub file: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabels {
    pub code: &'static str,
    pub severity: &'static str,
}

pub struct Metrics {
    registry: Registry,
    /// Counters for the statuses the mock answers most, resolved once: the request path then
    /// increments an atomic instead of hashing labels under a lock.
    hot: Vec<((Kind, u16), Counter)>,
    pub requests: Family<RequestLabels, Counter>,
    pub diagnostics: Family<CodeLabels, Counter>,
    pub latency: Histogram,
    pub journal_dropped: Gauge,
    pub journal_size: Gauge,
    pub journal_bytes: Gauge,
    pub file_lost: Family<FileLabels, Gauge>,
    pub file_errors: Family<FileLabels, Gauge>,
    pub click_ids_forgotten: Gauge,
    pub faults: Family<FaultLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("s2s");
        let requests = Family::<RequestLabels, Counter>::default();
        let diagnostics = Family::<CodeLabels, Counter>::default();
        // 10 µs to ~5 s.
        let latency = Histogram::new(exponential_buckets(0.000_01, 2.5, 15));
        let journal_dropped = Gauge::default();
        let journal_size = Gauge::default();
        let journal_bytes = Gauge::default();
        let file_lost = Family::<FileLabels, Gauge>::default();
        let file_errors = Family::<FileLabels, Gauge>::default();
        registry.register(
            "journal_bytes",
            "Bytes the journal ring's entries take, roughly (bounded by --journal-max-bytes)",
            journal_bytes.clone(),
        );
        registry.register(
            "file_lost_records",
            "Records that never reached their file (journal, postbacks): its writer fell behind or its writes failed",
            file_lost.clone(),
        );
        registry.register(
            "file_write_errors",
            "Failed writes to a file (journal, postbacks)",
            file_errors.clone(),
        );
        let click_ids_forgotten = Gauge::default();
        let faults = Family::<FaultLabels, Counter>::default();
        registry.register(
            "faults",
            "Requests faulted on purpose, by fault: status, delay, reset, close",
            faults.clone(),
        );
        registry.register(
            "requests",
            "S2S requests answered, by kind and HTTP status",
            requests.clone(),
        );
        registry.register(
            "diagnostics",
            "Diagnostics found, by code and severity",
            diagnostics.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time to judge and answer an S2S request",
            latency.clone(),
        );
        registry.register(
            "journal_dropped",
            "Journal entries dropped because the ring was full",
            journal_dropped.clone(),
        );
        registry.register(
            "journal_entries",
            "Entries in the journal ring",
            journal_size.clone(),
        );
        registry.register(
            "click_ids_forgotten",
            "Click ids forgotten inside their 7-day window because the dedup memory was full",
            click_ids_forgotten.clone(),
        );
        let hot = [Kind::Click, Kind::Impression]
            .into_iter()
            .flat_map(|k| [204u16, 302, 400, 404].map(|s| (k, s)))
            .map(|(k, s)| ((k, s), requests.get_or_create(&labels(k, s)).clone()))
            .collect();
        Metrics {
            registry,
            hot,
            requests,
            diagnostics,
            latency,
            journal_dropped,
            journal_size,
            journal_bytes,
            file_lost,
            file_errors,
            click_ids_forgotten,
            faults,
        }
    }

    /// Adds the postback side's counters (kept by `Postbacks`, which counts as it delivers).
    pub(crate) fn register_postbacks(&mut self, c: &crate::postback::Counters) {
        self.registry.register(
            "postback_attempts",
            "Postback attempts, by HTTP status or timeout / unreachable / broken",
            c.attempts.clone(),
        );
        self.registry.register(
            "postbacks_finished",
            "Postback deliveries ended, by state: delivered, failed (no 200 within the retry period), dropped (queue full), stopped (shutdown)",
            c.finished.clone(),
        );
        self.registry.register(
            "conversions",
            "Conversions reported, by match type (none: not attributed)",
            c.conversions.clone(),
        );
        self.registry.register(
            "postbacks_pending",
            "Postback deliveries waiting for an attempt or a retry",
            c.pending.clone(),
        );
    }

    pub fn count_fault(&self, fault: crate::fault::FaultKind) {
        self.faults
            .get_or_create(&FaultLabels {
                fault: fault.as_str(),
            })
            .inc();
    }

    pub fn count_request(&self, kind: Kind, status: u16) {
        match self.hot.iter().find(|(key, _)| *key == (kind, status)) {
            Some((_, c)) => {
                c.inc();
            }
            None => {
                self.requests.get_or_create(&labels(kind, status)).inc();
            }
        }
    }

    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

fn labels(kind: Kind, status: u16) -> RequestLabels {
    RequestLabels {
        kind: match kind {
            Kind::Click => KindLabel::click,
            Kind::Impression => KindLabel::impression,
        },
        status,
    }
}

pub async fn render(State(state): State<crate::SharedState>) -> Response {
    let m = &state.metrics;
    m.journal_dropped
        .set(i64::try_from(state.journal.dropped()).unwrap_or(i64::MAX));
    m.journal_size
        .set(i64::try_from(state.journal.len()).unwrap_or(i64::MAX));
    m.journal_bytes
        .set(i64::try_from(state.journal.bytes().0).unwrap_or(i64::MAX));
    for (file, health) in [
        ("journal", state.journal.file_health()),
        ("postbacks", state.postbacks.deliveries().file_health()),
    ] {
        if let Some(h) = health {
            let labels = FileLabels { file };
            m.file_lost
                .get_or_create(&labels)
                .set(i64::try_from(h.lost()).unwrap_or(i64::MAX));
            m.file_errors
                .get_or_create(&labels)
                .set(i64::try_from(h.errors()).unwrap_or(i64::MAX));
        }
    }
    m.click_ids_forgotten
        .set(i64::try_from(state.forgotten_click_ids()).unwrap_or(i64::MAX));
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.encode(),
    )
        .into_response()
}
