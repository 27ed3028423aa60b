//! The data the admin API speaks, the journal file holds and the runner's reports carry: one
//! set of types, serialized one way (derived serde) by the mock and read back by its clients.

pub use crate::fault::{Applied, FaultError, FaultKind, FaultSpec, ListedFault};
pub use crate::journal::{Entry, Filter, Page};
pub use crate::postback::{
    Attempt, ConversionKind, ConversionOutcome, ConversionRequest, Delivery, DeliveryFilter,
    DeliveryPage, DeliveryState, Ecom, FailureKind, MatchType, PostbackMethod, Template,
    TemplateError, TouchRef,
};
pub use crate::wire::TextOrNumber;
pub use metrica_s2s_rules::{Diagnostic, Kind};

/// The most entries one page of the journal holds (`limit` above it is cut to it).
pub const MAX_PAGE: usize = crate::journal::MAX_PAGE;

/// `GET /__admin/health`: whether every file is being written, and the journal's numbers.
/// Read leniently (every field defaults): a running mock of another version still answers.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Health {
    /// `ok`, or `error` when a file cannot be written (the answer is then 503).
    pub status: String,
    /// `strict` or `lenient`.
    pub mode: String,
    pub journal: JournalHealth,
    pub files: Vec<FileStatus>,
    /// Trackers configured.
    pub trackers: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct JournalHealth {
    pub entries: usize,
    pub capacity: usize,
    pub bytes: usize,
    pub max_bytes: usize,
    pub dropped: u64,
    /// The sequence number the next request will get: a reader's `since` for "from now on".
    pub next_seq: u64,
    /// Journal waits pending.
    pub waiting: usize,
}

/// A file the mock appends to.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FileStatus {
    /// `journal` or `postbacks`.
    pub file: String,
    pub path: String,
    /// The last write error, while writes fail.
    pub error: Option<String>,
    pub errors: u64,
    /// Records that never reached the file.
    pub lost: u64,
}
