//! What a rule is: its severity policy, its group in the documentation, its texts.

use serde::{Deserialize, Serialize};

/// How much a diagnostic matters: an error breaks the documented contract (the mock answers
/// 400 in strict mode, lint exits 1), a warning is very likely a bug, info is worth knowing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a rule's severity is decided. Most rules have one severity; a few depend on which
/// parameter they fire on, as the catalogue in `docs/rules.md` spells out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeverityPolicy {
    Fixed(Severity),
    /// Error on `device_ip`, `device_ua` or `click_timestamp`, warning on any other parameter:
    /// a broken required value loses the attribution, a broken optional one loses a detail.
    ErrorOnRequired,
    /// Error on `device_ua` or `device_ip` (the fingerprint), warning elsewhere.
    ErrorOnFingerprint,
    /// Error when the repeated values differ (which one wins is undefined), warning when equal.
    ErrorWhenValuesDiffer,
    /// A recommended check of the conformance runner: a warning, which gates as an error
    /// under `conform --fail-on recommended`, as a failed recommended scenario does.
    Recommended,
}

impl SeverityPolicy {
    /// The severity a diagnostic of this rule gets on `param`.
    pub fn for_param(self, param: Option<&str>) -> Severity {
        match self {
            SeverityPolicy::Fixed(s) => s,
            SeverityPolicy::ErrorOnRequired => match param {
                Some("device_ip" | "device_ua" | "click_timestamp") => Severity::Error,
                _ => Severity::Warning,
            },
            SeverityPolicy::ErrorOnFingerprint => match param {
                Some("device_ip" | "device_ua") => Severity::Error,
                _ => Severity::Warning,
            },
            // The checker states which case applies; error is the safe default.
            SeverityPolicy::ErrorWhenValuesDiffer => Severity::Error,
            SeverityPolicy::Recommended => Severity::Warning,
        }
    }

    /// The wording used in the generated rules documentation.
    pub fn describe(self) -> &'static str {
        match self {
            SeverityPolicy::Fixed(Severity::Error) => "error",
            SeverityPolicy::Fixed(Severity::Warning) => "warning",
            SeverityPolicy::Fixed(Severity::Info) => "info",
            SeverityPolicy::ErrorOnRequired => "error on required params, warning elsewhere",
            SeverityPolicy::ErrorOnFingerprint => {
                "error on device_ua / device_ip, warning elsewhere"
            }
            SeverityPolicy::ErrorWhenValuesDiffer => "error (values differ) / warning (same value)",
            SeverityPolicy::Recommended => "warning (error under `--fail-on recommended`)",
        }
    }
}

/// A section of the catalogue, in documentation order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    Request,
    Encoding,
    DeviceIp,
    DeviceUa,
    Timestamp,
    Other,
    Conformance,
}

/// Every group, in the order the documentation lists them.
pub const GROUPS: &[Group] = &[
    Group::Request,
    Group::Encoding,
    Group::DeviceIp,
    Group::DeviceUa,
    Group::Timestamp,
    Group::Other,
    Group::Conformance,
];

impl Group {
    pub fn title(self) -> &'static str {
        match self {
            Group::Request => "The request",
            Group::Encoding => "Parameters and encoding",
            Group::DeviceIp => "device_ip",
            Group::DeviceUa => "device_ua",
            Group::Timestamp => "click_timestamp",
            Group::Other => "Other parameters",
            Group::Conformance => "Conformance only (the runner knows the truth of each scenario)",
        }
    }
}

/// One rule. `message` and `hint` are templates: `{name}` is replaced by the diagnostic's
/// argument of that name, and user-controlled arguments are always quoted and escaped first.
#[derive(Debug)]
pub struct Rule {
    pub code: &'static str,
    pub group: Group,
    pub severity: SeverityPolicy,
    /// The parameter the rule is about, when it is always the same one.
    pub param: Option<&'static str>,
    /// When the rule fires, in one sentence.
    pub when: &'static str,
    pub message: &'static str,
    pub hint: &'static str,
    /// Why it matters: what AppMetrica does with such a request.
    pub why: &'static str,
    pub bad: &'static str,
    pub good: &'static str,
    /// False for the rules that only the conformance runner or the mock's state can apply.
    pub stateless: bool,
}
