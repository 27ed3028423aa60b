//! Which journal entries a query wants.

use crate::fault::Applied;
use metrica_s2s_rules::{parse_input, tracking_segment, Diagnostic, Kind};
use serde::{Deserialize, Serialize};

/// Every field optional. `since` is a sequence number, inclusive.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub click_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Kind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<u64>,
    /// `any`, or a fault's kind: `status`, `delay`, `reset`, `close`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// For `wait`: how many matching entries to wait for (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// For `wait`: how long to wait at most (default 5,000 ms, at most 60,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// The parts of an entry a filter reads, as the ring keeps them.
pub(crate) struct Parts<'a> {
    pub(crate) seq: u64,
    pub(crate) kind: Kind,
    pub(crate) status: u16,
    pub(crate) target: &'a [u8],
    pub(crate) diagnostics: &'a [Diagnostic],
    pub(crate) fault: Option<&'a Applied>,
}

impl Filter {
    pub(crate) fn matches(&self, e: &Parts<'_>) -> bool {
        self.since.is_none_or(|s| e.seq >= s)
            && self
                .fault
                .as_deref()
                .is_none_or(|f| e.fault.is_some_and(|a| f == "any" || f == a.fault.as_str()))
            && self.kind.is_none_or(|k| e.kind == k)
            && self.status.is_none_or(|s| e.status == s)
            && self
                .code
                .as_deref()
                .is_none_or(|c| e.diagnostics.iter().any(|d| d.code.as_str() == c))
            && self
                .tracking_id
                .as_deref()
                .is_none_or(|t| tracking_id_in(e.target) == Some(t.as_bytes()))
            && self.click_id.as_deref().is_none_or(|c| {
                parse_input(e.target)
                    .ok()
                    .and_then(|r| r.value("click_id").map(|v| v.as_ref() == c.as_bytes()))
                    .unwrap_or(false)
            })
    }
}

pub(super) fn tracking_id_in(target: &[u8]) -> Option<&[u8]> {
    let end = memchr::memchr2(b'?', b'#', target).unwrap_or(target.len());
    tracking_segment(&target[..end])
}
