//! Counts for the summary and the exit code.

use metrica_s2s_rules::{Code, Diagnostic, Severity};
use std::collections::BTreeMap;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub inputs: u64,
    /// Inputs with an error-severity diagnostic.
    pub invalid: u64,
    pub by_code: BTreeMap<(Code, Severity), u64>,
}

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

    pub(crate) fn add(&mut self, other: Tally) {
        self.inputs += other.inputs;
        self.invalid += other.invalid;
        for (k, n) in other.by_code {
            *self.by_code.entry(k).or_default() += n;
        }
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
}
