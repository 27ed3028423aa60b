//! Known failures a gate accepts while a partner fixes them, each with its reason: read from
//! `--baseline FILE`, applied to a run, and written anew by `--write-baseline FILE`.
//!
//! A baseline only shrinks: an entry whose scenario now passes, whose code no longer appears,
//! or whose scenario the suite lacks is stale, and an entry past its `until` date is expired;
//! both fail the run and are named in every report.

use metrica_s2s_rules::Code;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One `[[accept]]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accept {
    pub scenario: String,
    /// Only this code is accepted; the scenario's other codes still fail it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    pub reason: String,
    /// `YYYY-MM-DD`: after this day the entry is expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Where the entry stands in its file (1-based), for annotations; not written.
    #[serde(skip)]
    pub line: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    pub path: PathBuf,
    pub accept: Vec<Accept>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    accept: Vec<Accept>,
}

/// Why a baseline file cannot be used (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {path}: {reason}")]
    Read {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("baseline {path} is not valid: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
        let text = std::fs::read_to_string(path).map_err(|reason| BaselineError::Read {
            path: path.to_owned(),
            reason,
        })?;
        Baseline::parse(&text, path).map_err(|reason| BaselineError::Invalid {
            path: path.to_owned(),
            reason,
        })
    }

    /// The entries of `text`, each checked: a reason, a known code, a real date, no twins.
    pub fn parse(text: &str, path: &Path) -> Result<Baseline, String> {
        let file: File = toml::from_str(text).map_err(|e| e.to_string().replace('\n', " "))?;
        let starts: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with("[[accept]]"))
            .map(|(i, _)| i + 1)
            .collect();
        let mut accept = file.accept;
        for (i, a) in accept.iter_mut().enumerate() {
            a.line = starts.get(i).copied().unwrap_or(1);
            let at = format!("[[accept]] at line {} ({:?})", a.line, a.scenario);
            if a.scenario.trim().is_empty() {
                return Err(format!("{at}: scenario is empty"));
            }
            if a.reason.trim().is_empty() {
                return Err(format!(
                    "{at}: reason is empty; say why the failure is accepted and when it will be fixed"
                ));
            }
            if let Some(code) = &a.code {
                if Code::from_name(code).is_none() {
                    return Err(format!("{at}: {code:?} is not a diagnostic code"));
                }
            }
            if let Some(until) = &a.until {
                if day_number(until).is_none() {
                    return Err(format!(
                        "{at}: until = {until:?} is not a date as YYYY-MM-DD"
                    ));
                }
            }
        }
        for (i, a) in accept.iter().enumerate() {
            if accept[..i]
                .iter()
                .any(|b| b.scenario == a.scenario && b.code == a.code)
            {
                return Err(format!(
                    "[[accept]] at line {} repeats scenario {:?}{}",
                    a.line,
                    a.scenario,
                    a.code
                        .as_deref()
                        .map(|c| format!(" with code {c}"))
                        .unwrap_or_default()
                ));
            }
        }
        Ok(Baseline {
            path: path.to_owned(),
            accept,
        })
    }

    /// The entries as a file, with a header saying how it is used.
    pub fn render(&self) -> String {
        let body = toml::to_string(&File {
            accept: self.accept.clone(),
        })
        .unwrap_or_default();
        format!(
            "# Known failures `metrica-s2s conform --baseline` accepts, each with its reason.\n\
             # An entry whose scenario passes again, or whose code no longer appears, fails the run:\n\
             # remove it then. `until = \"YYYY-MM-DD\"` makes an entry expire.\n\n{body}"
        )
    }
}

impl Accept {
    /// Expired on `today` (days since 1970-01-01): its `until` day is over.
    pub fn expired(&self, today: i64) -> bool {
        self.until
            .as_deref()
            .and_then(day_number)
            .is_some_and(|until| today > until)
    }
}

/// Days since 1970-01-01 of a `YYYY-MM-DD` date that exists (no 30 February).
pub fn day_number(date: &str) -> Option<i64> {
    use metrica_s2s_rules::calendar::{format_rfc3339, unix_from_utc};
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = date.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let secs = unix_from_utc(i64::from(n(0..4)?), n(5..7)?, n(8..10)?, 0, 0, 0);
    // A day past its month's end rolls over: reading it back tells.
    (format_rfc3339(secs).get(..10) == Some(date)).then_some(secs.div_euclid(86_400))
}

/// Today, as days since 1970-01-01 (UTC).
pub fn today() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    i64::try_from(secs / 86_400).unwrap_or(i64::MAX)
}

/// `YYYY-MM-DD` of a day number.
pub fn date_of(day: i64) -> String {
    metrica_s2s_rules::calendar::format_rfc3339(day * 86_400)[..10].to_owned()
}

#[cfg(test)]
mod tests {
    use crate::baseline::{day_number, Baseline};
    use std::path::Path;

    #[test]
    fn entries_need_a_reason_a_known_code_and_a_real_date() {
        let p = Path::new("b.toml");
        let ok = Baseline::parse(
            "[[accept]]\nscenario = \"a\"\nreason = \"fix in 2.3\"\n\n[[accept]]\nscenario = \"b\"\ncode = \"ua-mismatch\"\nreason = \"r\"\nuntil = \"2027-03-01\"\n",
            p,
        )
        .expect("valid");
        assert_eq!(ok.accept.len(), 2);
        assert_eq!((ok.accept[0].line, ok.accept[1].line), (1, 5));
        for (text, says) in [
            ("[[accept]]\nscenario = \"a\"\nreason = \" \"\n", "reason is empty"),
            ("[[accept]]\nscenario = \"a\"\n", "reason"),
            ("[[accept]]\nscenario = \"a\"\nreason = \"r\"\ncode = \"ua-mismach\"\n", "not a diagnostic code"),
            ("[[accept]]\nscenario = \"a\"\nreason = \"r\"\nuntil = \"2027-02-30\"\n", "not a date"),
            ("[[accept]]\nscenario = \"a\"\nreason = \"r\"\nwhy = 1\n", "why"),
            ("[[accept]]\nscenario = \"a\"\nreason = \"r\"\n[[accept]]\nscenario = \"a\"\nreason = \"s\"\n", "repeats"),
        ] {
            let e = Baseline::parse(text, p).expect_err(text);
            assert!(e.contains(says), "{text}: {e}");
        }
    }

    #[test]
    fn an_entry_expires_the_day_after_its_until() {
        let b = Baseline::parse(
            "[[accept]]\nscenario = \"a\"\nreason = \"r\"\nuntil = \"2027-03-01\"\n",
            Path::new("b.toml"),
        )
        .expect("valid");
        let day = day_number("2027-03-01").expect("a day");
        assert!(!b.accept[0].expired(day));
        assert!(b.accept[0].expired(day + 1));
    }

    #[test]
    fn what_is_rendered_reads_back() {
        let b = Baseline::parse(
            "[[accept]]\nscenario = \"a\"\ncode = \"retry-missing\"\nreason = \"recorded on 2026-12-05: say why\"\n",
            Path::new("b.toml"),
        )
        .expect("valid");
        let again = Baseline::parse(&b.render(), Path::new("b.toml")).expect("reads back");
        let entries = |b: &Baseline| {
            b.accept
                .iter()
                .map(|a| {
                    (
                        a.scenario.clone(),
                        a.code.clone(),
                        a.reason.clone(),
                        a.until.clone(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(entries(&again), entries(&b));
    }
}
