//! lint's formats for CI: GitHub annotations (`file=` and `line=` of the input file), a GitLab
//! Code Quality report, and SARIF 2.1.0 for code scanning. Workers render one record per
//! diagnostic; the writer, which sees them in input order, caps the annotations and wraps the
//! JSON documents, so memory stays bounded however many lines are linted.

use crate::Format;
use metrica_s2s_rules::ci::{
    fingerprint, Annotation, Capped, CodeQualityIssue, Level, Lines, Location,
    Severity as CqSeverity,
};
use metrica_s2s_rules::{docs, lossy, visible, Code, Diagnostic, Severity};
use serde_sarif::sarif as s;
use std::io::{self, Write};

/// Where a line came from, for the locations each format gives.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Origin<'a> {
    /// The input file, when lines are read from one (not stdin).
    pub file: Option<&'a str>,
    /// The line was a command-line argument, numbered among them.
    pub argument: bool,
}

impl Origin<'_> {
    /// A path a report can point at: the file, or a name saying where the line was.
    fn path(&self) -> &str {
        match (self.argument, self.file) {
            (true, _) => "arguments",
            (false, Some(f)) => f,
            (false, None) => "stdin",
        }
    }

    fn annotated_file(&self) -> Option<&str> {
        (!self.argument).then_some(self.file).flatten()
    }
}

/// Appends one record per diagnostic of line `no`, as `format` writes them.
pub(crate) fn records(
    out: &mut Vec<u8>,
    format: Format,
    origin: Origin<'_>,
    no: u64,
    input: &[u8],
    diagnostics: &[Diagnostic],
) {
    for d in diagnostics {
        match format {
            Format::Github => github(out, origin, no, d),
            Format::CodeQuality => {
                let _ = serde_json::to_writer(&mut *out, &codequality(origin, no, input, d));
                out.push(b'\n');
            }
            Format::Sarif => {
                let _ = serde_json::to_writer(&mut *out, &sarif_result(origin, no, d));
                out.push(b'\n');
            }
            Format::Text | Format::Json => {}
        }
    }
}

/// `E` or `W`, then the annotation (info is left out: harmless, and GitHub's room is small).
fn github(out: &mut Vec<u8>, origin: Origin<'_>, no: u64, d: &Diagnostic) {
    let (prefix, level) = match d.severity {
        Severity::Error => (b'E', Level::Error),
        Severity::Warning => (b'W', Level::Warning),
        Severity::Info => return,
    };
    let place = if origin.argument {
        format!("argument {no}: ")
    } else {
        String::new()
    };
    let message = format!("{place}{}\nFix: {}", visible(&d.message), visible(&d.hint));
    out.push(prefix);
    out.extend_from_slice(
        Annotation {
            level,
            title: d.code.as_str(),
            file: origin.annotated_file(),
            line: (!origin.argument).then_some(no),
            message: &message,
        }
        .render()
        .as_bytes(),
    );
}

fn codequality(origin: Origin<'_>, no: u64, input: &[u8], d: &Diagnostic) -> CodeQualityIssue {
    let path = origin.path();
    CodeQualityIssue {
        description: format!("{}. Fix: {}", d.message, d.hint),
        check_name: format!("metrica-s2s/{}", d.code),
        fingerprint: fingerprint(&[
            "lint",
            path,
            &no.to_string(),
            d.code.as_str(),
            d.param.as_deref().unwrap_or_default(),
            &lossy(input),
        ]),
        severity: match d.severity {
            Severity::Error => CqSeverity::Major,
            Severity::Warning => CqSeverity::Minor,
            Severity::Info => CqSeverity::Info,
        },
        location: Location {
            path: path.to_owned(),
            lines: Lines { begin: no },
        },
    }
}

fn level(sev: Severity) -> &'static str {
    match sev {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn sarif_result(origin: Origin<'_>, no: u64, d: &Diagnostic) -> s::Result {
    let location = s::Location::builder()
        .physical_location(
            s::PhysicalLocation::builder()
                .artifact_location(s::ArtifactLocation::builder().uri(origin.path()).build())
                .region(s::Region::builder().start_line(no as i64).build())
                .build(),
        )
        .build();
    let rule_index = Code::ALL.iter().position(|c| *c == d.code).unwrap_or(0);
    s::Result::builder()
        .rule_id(d.code.as_str())
        .rule_index(rule_index as i64)
        .level(
            serde_json::from_value::<s::ResultLevel>(level(d.severity).into())
                .unwrap_or(s::ResultLevel::Warning),
        )
        .message(
            s::Message::builder()
                .text(format!("{}. Fix: {}", d.message, d.hint))
                .build(),
        )
        .locations(vec![location])
        .build()
}

/// The SARIF log around the results: the tool, and every rule of the catalogue with its help.
fn sarif_frame() -> (String, String) {
    let rules: Vec<s::ReportingDescriptor> = Code::ALL
        .iter()
        .map(|c| {
            let r = c.rule();
            let text = |t: &str| s::MultiformatMessageString::builder().text(t).build();
            s::ReportingDescriptor::builder()
                .id(c.as_str())
                .short_description(text(r.when))
                .full_description(text(r.why))
                .help(text(&docs::explain(*c)))
                .default_configuration(
                    s::ReportingConfiguration::builder()
                        .level(serde_json::Value::from(level(
                            r.severity.for_param(r.param),
                        )))
                        .build(),
                )
                .build()
        })
        .collect();
    let driver = s::ToolComponent::builder()
        .name("metrica-s2s")
        .version(env!("CARGO_PKG_VERSION"))
        .information_uri("https://example.invalid/metrica-s2s")
        .rules(rules)
        .build();
    let run = s::Run::builder()
        .tool(s::Tool::builder().driver(driver).build())
        .results(Vec::new())
        .build();
    let log = s::Sarif::builder()
        .version(serde_json::Value::from("2.1.0"))
        .schema(s::SCHEMA_URL)
        .runs(vec![run])
        .build();
    let text = serde_json::to_string(&log).unwrap_or_default();
    const EMPTY: &str = "\"results\":[]";
    match text.find(EMPTY) {
        Some(at) => (
            text[..at + EMPTY.len() - 1].to_owned(),
            text[at + EMPTY.len() - 1..].to_owned(),
        ),
        None => (text, String::new()),
    }
}

/// The writer's side: what goes before, between and after the workers' records.
pub(crate) enum Wrapper {
    /// Text and JSON lines: the records are the output.
    None,
    Github(Capped),
    /// A JSON array of records, opened by `head`, closed by `tail`.
    Array {
        head: String,
        tail: String,
        first: bool,
    },
}

impl Wrapper {
    pub(crate) fn new(format: Format) -> Wrapper {
        match format {
            Format::Text | Format::Json => Wrapper::None,
            Format::Github => Wrapper::Github(Capped::default()),
            Format::CodeQuality => Wrapper::Array {
                head: "[".into(),
                tail: "\n]\n".into(),
                first: true,
            },
            Format::Sarif => {
                let (head, tail) = sarif_frame();
                Wrapper::Array {
                    head,
                    tail: format!("{tail}\n"),
                    first: true,
                }
            }
        }
    }

    pub(crate) fn start(&mut self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Wrapper::Array { head, .. } => out.write_all(head.as_bytes()),
            _ => Ok(()),
        }
    }

    /// Writes one batch of records.
    pub(crate) fn write(&mut self, out: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
        match self {
            Wrapper::None => out.write_all(bytes),
            Wrapper::Github(cap) => {
                for record in bytes.split_inclusive(|b| *b == b'\n') {
                    let level = match record.first() {
                        Some(b'E') => Level::Error,
                        Some(b'W') => Level::Warning,
                        _ => continue,
                    };
                    if cap.admit(level) {
                        out.write_all(&record[1..])?;
                    }
                }
                Ok(())
            }
            Wrapper::Array { first, .. } => {
                for record in bytes.split(|b| *b == b'\n').filter(|r| !r.is_empty()) {
                    out.write_all(if *first { b"\n" } else { b",\n" })?;
                    out.write_all(record)?;
                    *first = false;
                }
                Ok(())
            }
        }
    }

    pub(crate) fn finish(&mut self, out: &mut dyn Write) -> io::Result<()> {
        match self {
            Wrapper::None => Ok(()),
            Wrapper::Github(cap) => {
                match cap.notice("run lint with --format json for every diagnostic") {
                    Some(n) => out.write_all(n.as_bytes()),
                    None => Ok(()),
                }
            }
            Wrapper::Array { tail, first, .. } => {
                if *first {
                    // No record: close the empty array without a blank line.
                    let closed = tail.trim_start_matches('\n');
                    return out.write_all(closed.as_bytes());
                }
                out.write_all(tail.as_bytes())
            }
        }
    }
}
