//! The rule catalogue: every diagnostic code, defined exactly once.
//!
//! Codes are stable: users' CI gates and certification reports name them, so a code never
//! changes meaning once released. The entries themselves live in `catalogue/entries.rs`; this
//! module holds the types and the lookups everything else uses.

use crate::diagnostic::Severity;

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

macro_rules! catalogue {
    ($( $variant:ident => $rule:expr ),* $(,)?) => {
        /// A diagnostic code. `Code::as_str` gives the stable kebab-case spelling.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant),* }

        impl Code {
            /// Every code, in catalogue order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];
        }

        pub(super) static RULES: &[Rule] = &[$($rule),*];
    };
}

mod entries;
pub use entries::Code;
use entries::RULES;

impl Code {
    pub fn rule(self) -> &'static Rule {
        &RULES[self as usize]
    }

    pub fn as_str(self) -> &'static str {
        self.rule().code
    }

    /// Looks a code up by its kebab-case spelling.
    pub fn from_name(name: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == name)
    }

    /// The code a misspelt name most likely meant, for "did you mean" hints.
    pub fn suggest(name: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .map(|c| (strsim::damerau_levenshtein(name, c.as_str()), *c))
            .filter(|(d, _)| *d <= 4)
            .min_by_key(|(d, _)| *d)
            .map(|(_, c)| c)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Code {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Code::from_name(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown diagnostic code {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_enum_agree() {
        assert_eq!(Code::ALL.len(), RULES.len());
        for (i, code) in Code::ALL.iter().enumerate() {
            assert_eq!(*code as usize, i);
        }
    }

    #[test]
    fn codes_are_unique_kebab_case() {
        let mut seen = std::collections::HashSet::new();
        for code in Code::ALL {
            let s = code.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(
                s.split('-').count() >= 2
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{s} is not kebab-case"
            );
            assert_eq!(Code::from_name(s), Some(*code));
        }
    }

    #[test]
    fn every_rule_is_documented() {
        for code in Code::ALL {
            let r = code.rule();
            for (what, text) in [
                ("when", r.when),
                ("message", r.message),
                ("hint", r.hint),
                ("why", r.why),
                ("bad", r.bad),
                ("good", r.good),
            ] {
                assert!(!text.trim().is_empty(), "{code}: empty {what}");
            }
            assert_ne!(r.bad, r.good, "{code}: bad and good examples are the same");
        }
    }
}
