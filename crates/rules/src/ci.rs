//! What CI systems read, for `lint` and `conform` alike: GitHub workflow commands (error and
//! warning annotations, escaped as GitHub requires, capped at what GitHub shows) and GitLab
//! Code Quality issues with stable fingerprints.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// GitHub shows at most this many error annotations, and as many warnings, per step.
pub const GITHUB_MAX_PER_LEVEL: usize = 10;

/// The level of a GitHub annotation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// One `::error ...::message` line.
#[derive(Clone, Copy, Debug)]
pub struct Annotation<'a> {
    pub level: Level,
    pub title: &'a str,
    pub file: Option<&'a str>,
    pub line: Option<u64>,
    pub message: &'a str,
}

impl Annotation<'_> {
    /// The workflow command, newline included: hostile text in a title or file name cannot
    /// end the command, and none in the message can start another.
    pub fn render(&self) -> String {
        let mut props = Vec::new();
        if let Some(f) = self.file {
            props.push(format!("file={}", github_property(f)));
        }
        if let Some(l) = self.line {
            props.push(format!("line={l}"));
        }
        if !self.title.is_empty() {
            props.push(format!("title={}", github_property(self.title)));
        }
        let sep = if props.is_empty() { "" } else { " " };
        format!(
            "::{}{sep}{}::{}\n",
            self.level.command(),
            props.join(","),
            github_data(self.message)
        )
    }
}

/// A message as GitHub's workflow commands take it: `%`, CR and LF escaped.
pub fn github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value (`title=`, `file=`): also `:` and `,`, which would end it.
pub fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Counts annotations against GitHub's cap: the first ten errors and ten warnings are shown,
/// the rest counted for one notice at the end.
#[derive(Clone, Copy, Debug, Default)]
pub struct Capped {
    errors: usize,
    warnings: usize,
}

impl Capped {
    /// Whether an annotation of `level` is still shown; counts it either way.
    pub fn admit(&mut self, level: Level) -> bool {
        let n = match level {
            Level::Error => &mut self.errors,
            Level::Warning => &mut self.warnings,
            Level::Notice => return true,
        };
        *n += 1;
        *n <= GITHUB_MAX_PER_LEVEL
    }

    /// The notice saying what was left out, when anything was; `where_` says where to read
    /// it all.
    pub fn notice(&self, where_: &str) -> Option<String> {
        let left = |n: usize| n.saturating_sub(GITHUB_MAX_PER_LEVEL);
        let (e, w) = (left(self.errors), left(self.warnings));
        if e + w == 0 {
            return None;
        }
        let message = format!(
            "{e} more error(s) and {w} more warning(s) were left out: GitHub shows {GITHUB_MAX_PER_LEVEL} of each per step; {where_}"
        );
        Some(
            Annotation {
                level: Level::Notice,
                title: "metrica-s2s: annotations left out",
                file: None,
                line: None,
                message: &message,
            }
            .render(),
        )
    }
}

/// GitLab Code Quality's severities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Minor,
    Major,
    Critical,
    Blocker,
}

/// One issue of a GitLab Code Quality report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CodeQualityIssue {
    pub description: String,
    pub check_name: String,
    pub fingerprint: String,
    pub severity: Severity,
    pub location: Location,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Location {
    pub path: String,
    pub lines: Lines,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Lines {
    pub begin: u64,
}

/// A fingerprint from what identifies an issue across runs (never a line number or a time):
/// the SHA-256 of the parts, hex.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use crate::ci::{fingerprint, Annotation, Capped, Level};

    #[test]
    fn hostile_text_cannot_end_or_start_a_command() {
        let a = Annotation {
            level: Level::Error,
            title: "ua-mismatch: a,b",
            file: Some("dir/p,1:2.toml"),
            line: Some(3),
            message: "100% wrong\r\n::error::injected",
        }
        .render();
        assert_eq!(
            a,
            "::error file=dir/p%2C1%3A2.toml,line=3,title=ua-mismatch%3A a%2Cb::100%25 wrong%0D%0A::error::injected\n"
        );
        assert_eq!(a.matches('\n').count(), 1, "one line");
    }

    #[test]
    fn ten_of_each_then_a_notice() {
        let mut c = Capped::default();
        let shown = (0..13).filter(|_| c.admit(Level::Error)).count();
        assert_eq!(shown, 10);
        assert!(c.admit(Level::Warning));
        let notice = c.notice("see the report").expect("some were left out");
        assert!(
            notice.starts_with("::notice title=")
                && notice.contains("3 more error(s) and 0 more warning(s)"),
            "{notice}"
        );
        assert!(Capped::default().notice("x").is_none());
    }

    #[test]
    fn fingerprints_are_stable_and_part_boundaries_count() {
        assert_eq!(fingerprint(&["a", "b"]), fingerprint(&["a", "b"]));
        assert_ne!(fingerprint(&["ab", ""]), fingerprint(&["a", "b"]));
        assert_eq!(fingerprint(&["x"]).len(), 64);
    }
}
