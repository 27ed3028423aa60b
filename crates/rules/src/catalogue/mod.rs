//! The rule catalogue: every diagnostic code, defined exactly once.
//!
//! Codes are stable: users' CI gates and certification reports name them, so a code never
//! changes meaning once released. The entries live in `entries.rs`, what a rule is in
//! `rule.rs`; this module makes `Code` and its lookups.

mod rule;
pub use rule::{Group, Rule, Severity, SeverityPolicy, GROUPS};

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
