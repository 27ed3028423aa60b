//! Counts for the summary and the exit code.

use metrica_s2s_rules::calendar::ZoneOffset;
use metrica_s2s_rules::{Code, Diagnostic, Facts, Severity};
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub inputs: u64,
    /// Inputs with an error-severity diagnostic.
    pub invalid: u64,
    pub by_code: BTreeMap<(Code, Severity), u64>,
    /// Inputs whose click_timestamp is off by a time zone's offset, by zone.
    pub by_zone: BTreeMap<ZoneOffset, u64>,
}

/// A time zone most inputs share: worth a finding of its own, since one clock is wrong, not
/// each line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedZone {
    pub zone: ZoneOffset,
    pub count: u64,
    /// Of all inputs, in whole percent.
    pub percent: u64,
}

/// At least this many lines, and this share of all, make a zone shared.
const SHARED_ZONE_MIN_LINES: u64 = 5;
const SHARED_ZONE_MIN_PERCENT: u64 = 10;

impl Tally {
    pub(crate) fn count(&mut self, diagnostics: &[Diagnostic]) -> bool {
        let valid = !diagnostics.iter().any(Diagnostic::is_error);
        self.inputs += 1;
        self.invalid += u64::from(!valid);
        for d in diagnostics {
            *self.by_code.entry((d.code, d.severity)).or_default() += 1;
        }
        valid
    }

    pub(crate) fn note(&mut self, facts: &Facts) {
        if let Some(z) = facts.clock_zone {
            *self.by_zone.entry(z).or_default() += 1;
        }
    }

    pub(crate) fn add(&mut self, other: Tally) {
        self.inputs += other.inputs;
        self.invalid += other.invalid;
        for (k, n) in other.by_code {
            *self.by_code.entry(k).or_default() += n;
        }
        for (z, n) in other.by_zone {
            *self.by_zone.entry(z).or_default() += n;
        }
    }

    /// The zone the most inputs' timestamps are off by, when enough of them are.
    pub fn shared_zone(&self) -> Option<SharedZone> {
        let (&zone, &count) = self.by_zone.iter().max_by_key(|(_, n)| **n)?;
        let percent = count * 100 / self.inputs.max(1);
        (count >= SHARED_ZONE_MIN_LINES && percent >= SHARED_ZONE_MIN_PERCENT).then_some(
            SharedZone {
                zone,
                count,
                percent,
            },
        )
    }

    /// Codes by how much they matter: severity first, then how often they fired.
    pub fn rows(&self) -> Vec<(Code, Severity, u64)> {
        let mut rows: Vec<_> = self.by_code.iter().map(|(&(c, s), &n)| (c, s, n)).collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
        rows
    }
}

#[cfg(test)]
mod tests {
    use crate::tally::Tally;
    use metrica_s2s_rules::{Code, Draft, Severity};

    #[test]
    fn counts_inputs_errors_and_codes_and_adds_up() {
        let err = Draft::new(Code::IpInvalid).finish();
        let warn = Draft::new(Code::ClickIdMissing).arg("reason", "r").finish();
        let mut a = Tally::default();
        assert!(!a.count(&[err.clone(), warn.clone()]));
        assert!(a.count(std::slice::from_ref(&warn)));
        let mut b = Tally::default();
        b.count(&[warn]);
        a.add(b);
        assert_eq!((a.inputs, a.invalid), (3, 1));
        assert_eq!(
            a.rows(),
            vec![
                (Code::IpInvalid, Severity::Error, 1),
                (Code::ClickIdMissing, Severity::Warning, 3)
            ]
        );
    }

    #[test]
    fn a_zone_is_shared_when_enough_lines_carry_it() {
        use metrica_s2s_rules::calendar::ZoneOffset;
        use metrica_s2s_rules::Facts;
        let minus3 = Facts {
            clock_zone: Some(ZoneOffset { minutes: -180 }),
            ..Facts::default()
        };
        let none = Facts::default();
        let mut t = Tally::default();
        for i in 0..40 {
            t.count(&[]);
            t.note(if i % 4 == 0 { &minus3 } else { &none });
        }
        assert_eq!(
            t.shared_zone().map(|z| (z.count, z.percent)),
            Some((10, 25))
        );
        let mut few = Tally::default();
        for _ in 0..3 {
            few.count(&[]);
            few.note(&minus3);
        }
        assert_eq!(few.shared_zone(), None, "three lines are not a pattern");
    }
}
