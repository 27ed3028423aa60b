//! `/metrics` in Prometheus text format (prometheus-client, the Prometheus project's own crate).

use crate::ndjson::FileHealth;
use metrica_s2s_rules::Kind;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelValue)]
#[allow(non_camel_case_types)]
pub(crate) enum KindLabel {
    click,
    impression,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct RequestLabels {
    pub(crate) kind: KindLabel,
    pub(crate) status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct FaultLabels {
    pub(crate) fault: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct FileLabels {
    pub(crate) file: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct CodeLabels {
    pub(crate) code: &'static str,
    pub(crate) severity: &'static str,
}

pub(crate) struct Metrics {
    registry: Registry,
    /// Counters for the statuses the mock answers most, resolved once: the request path then
    /// increments an atomic instead of hashing labels under a lock.
    hot: Vec<((Kind, u16), Counter)>,
    pub(crate) requests: Family<RequestLabels, Counter>,
    pub(crate) diagnostics: Family<CodeLabels, Counter>,
    pub(crate) latency: Histogram,
    pub(crate) journal_dropped: Gauge,
    pub(crate) journal_size: Gauge,
    pub(crate) journal_bytes: Gauge,
    pub(crate) file_lost: Family<FileLabels, Gauge>,
    pub(crate) file_errors: Family<FileLabels, Gauge>,
    pub(crate) click_ids_forgotten: Gauge,
    pub(crate) faults: Family<FaultLabels, Counter>,
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
    pub(crate) fn new() -> Metrics {
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

    pub(crate) fn count_fault(&self, fault: crate::fault::FaultKind) {
        self.faults
            .get_or_create(&FaultLabels {
                fault: fault.as_str(),
            })
            .inc();
    }

    pub(crate) fn count_request(&self, kind: Kind, status: u16) {
        match self.hot.iter().find(|(key, _)| *key == (kind, status)) {
            Some((_, c)) => {
                c.inc();
            }
            None => {
                self.requests.get_or_create(&labels(kind, status)).inc();
            }
        }
    }

    /// The text `/metrics` answers, with the gauges set from `now` first.
    pub(crate) fn render(&self, now: &FileGauges<'_>) -> String {
        self.journal_dropped.set(gauge(now.journal_dropped));
        self.journal_size.set(gauge(now.journal_size));
        self.journal_bytes.set(gauge(now.journal_bytes));
        for (file, health) in now.files {
            if let Some(h) = health {
                let labels = FileLabels { file };
                self.file_lost.get_or_create(&labels).set(gauge(h.lost()));
                self.file_errors
                    .get_or_create(&labels)
                    .set(gauge(h.errors()));
            }
        }
        self.click_ids_forgotten.set(gauge(now.click_ids_forgotten));
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

/// The values `/metrics` reads at each scrape rather than counting as they change.
pub(crate) struct FileGauges<'a> {
    pub(crate) journal_dropped: u64,
    pub(crate) journal_size: usize,
    pub(crate) journal_bytes: usize,
    pub(crate) files: [(&'static str, Option<&'a FileHealth>); 2],
    pub(crate) click_ids_forgotten: u64,
}

fn gauge(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}
