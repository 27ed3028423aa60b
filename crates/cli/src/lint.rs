//! `metrica-s2s lint`: judge tracking URLs and access logs with the rule engine.
//!
//! Input streams through in batches: a batch is split across the cores, each with its own
//! `Validator` (and UA cache), and the results are written back in input order, so memory stays
//! flat whatever the size of the log.

use crate::{exit, render};
use clap::{Args, ValueEnum};
use metrica_s2s_rules::{
    parse_input, Code, Context, Diagnostic, Kind, Settings, Severity, Validator,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::ops::Range;
use std::path::PathBuf;

/// Lines per batch: large enough to keep both cores busy, small enough to stay in cache.
const BATCH_LINES: usize = 8192;

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Inputs to check: full URLs, scheme-less URLs, request targets or request lines.
    /// Without any, and without --file, lines are read from stdin.
    #[arg(value_name = "URL")]
    urls: Vec<String>,
    /// Read one input per line from PATH (`-` for stdin). Blank lines and `#` lines are skipped.
    #[arg(long, value_name = "PATH|-")]
    file: Option<PathBuf>,
    /// text for a person (colour on a terminal), json for machines (one object per line).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Judge the time rules as if it were this Unix time (default: the system clock).
    #[arg(long, value_name = "UNIX_SECONDS")]
    now: Option<u64>,
    /// The event kind of inputs whose host does not say (request targets, other hosts).
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    /// Worker threads (default: the number of cores).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum KindArg {
    Click,
    Impression,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Kind {
        match k {
            KindArg::Click => Kind::Click,
            KindArg::Impression => Kind::Impression,
        }
    }
}

/// The JSON form of one input line, as the interface contract gives it.
#[derive(Serialize)]
struct LineReport<'a> {
    line: u64,
    input: &'a str,
    kind: Option<Kind>,
    valid: bool,
    diagnostics: &'a [Diagnostic],
}

/// Counts for the summary and the exit code.
#[derive(Debug, Default)]
struct Tally {
    inputs: u64,
    invalid: u64,
    by_code: BTreeMap<(Code, Severity), u64>,
}

impl Tally {
    fn add(&mut self, other: Tally) {
        self.inputs += other.inputs;
        self.invalid += other.invalid;
        for (k, n) in other.by_code {
            *self.by_code.entry(k).or_default() += n;
        }
    }
}

/// Lines read but not yet judged: one buffer, and each line's number and range in it.
#[derive(Default)]
struct Batch {
    buf: Vec<u8>,
    lines: Vec<(u64, Range<usize>)>,
}

struct Linter {
    settings: Settings,
    now: u64,
    kind: Option<Kind>,
    format: Format,
    color: bool,
    workers: Vec<Validator>,
}

pub fn run(args: LintArgs) -> anyhow::Result<u8> {
    let settings = Settings::default();
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let mut linter = Linter {
        now: args.now.unwrap_or_else(system_now),
        kind: args.kind.map(Kind::from),
        format: args.format,
        color: false,
        workers: (0..jobs)
            .map(|_| Validator::new(settings.ua_cache_entries))
            .collect(),
        settings,
    };
    let stdout = io::stdout();
    let color = args.format == Format::Text && render::use_color(&stdout);
    linter.color = color;
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut tally = Tally::default();
    let result = linter.run_all(&args, &mut out, &mut tally);
    let result = result.and_then(|()| {
        if linter.format == Format::Text {
            write_summary(&mut out, &tally, linter.color)?;
        }
        out.flush()
    });
    let verdict = if tally.invalid > 0 {
        exit::FINDINGS
    } else {
        exit::SUCCESS
    };
    match result {
        Ok(()) => Ok(verdict),
        // A closed pipe (`| head`) is the reader's choice, not a failure of ours.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(verdict),
        Err(e) => Err(anyhow::Error::new(e)),
    }
}

fn system_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Linter {
    fn run_all(
        &mut self,
        args: &LintArgs,
        out: &mut dyn Write,
        tally: &mut Tally,
    ) -> io::Result<()> {
        let mut batch = Batch::default();
        for (i, url) in args.urls.iter().enumerate() {
            push_line(&mut batch, i as u64 + 1, url.as_bytes());
        }
        self.flush_batch(&mut batch, out, tally)?;
        let reader: Option<Box<dyn Read>> = match &args.file {
            Some(p) if p.as_os_str() == "-" => Some(Box::new(io::stdin().lock())),
            Some(p) => Some(Box::new(
                std::fs::File::open(p).map_err(|e| with_path(e, "cannot open", p))?,
            )),
            None if args.urls.is_empty() => Some(Box::new(io::stdin().lock())),
            None => None,
        };
        let Some(reader) = reader else { return Ok(()) };
        let name = args
            .file
            .as_ref()
            .map_or_else(|| "stdin".into(), |p| p.display().to_string());
        let mut reader = BufReader::with_capacity(1 << 18, reader);
        let mut line = Vec::new();
        let mut line_no = 0u64;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot read {name} after line {line_no}: {e}"),
                )
            })?;
            if n == 0 {
                break;
            }
            line_no += 1;
            push_line(&mut batch, line_no, &line);
            if batch.lines.len() >= BATCH_LINES {
                self.flush_batch(&mut batch, out, tally)?;
            }
        }
        self.flush_batch(&mut batch, out, tally)
    }

    /// Judges a batch on every worker and writes the results in input order.
    fn flush_batch(
        &mut self,
        batch: &mut Batch,
        out: &mut dyn Write,
        tally: &mut Tally,
    ) -> io::Result<()> {
        if batch.lines.is_empty() {
            return Ok(());
        }
        let per_worker = batch.lines.len().div_ceil(self.workers.len());
        let chunks: Vec<&[(u64, Range<usize>)]> = batch.lines.chunks(per_worker).collect();
        let job = Job {
            settings: &self.settings,
            now: self.now,
            kind: self.kind,
            format: self.format,
            color: self.color,
            buf: &batch.buf,
        };
        let results: Vec<(Vec<u8>, Tally)> = if chunks.len() == 1 {
            vec![job.judge(&mut self.workers[0], chunks[0])]
        } else {
            std::thread::scope(|s| {
                let handles: Vec<_> = self
                    .workers
                    .iter_mut()
                    .zip(&chunks)
                    .map(|(v, lines)| s.spawn(move || job.judge(v, lines)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                    .collect()
            })
        };
        for (text, t) in results {
            out.write_all(&text)?;
            tally.add(t);
        }
        batch.buf.clear();
        batch.lines.clear();
        Ok(())
    }
}

fn push_line(batch: &mut Batch, line_no: u64, line: &[u8]) {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let trimmed = line.trim_ascii_start();
    if trimmed.is_empty() || trimmed.starts_with(b"#") {
        return;
    }
    let start = batch.buf.len();
    batch.buf.extend_from_slice(line);
    batch.lines.push((line_no, start..batch.buf.len()));
}

/// What every worker of one batch shares.
#[derive(Clone, Copy)]
struct Job<'a> {
    settings: &'a Settings,
    now: u64,
    kind: Option<Kind>,
    format: Format,
    color: bool,
    buf: &'a [u8],
}

impl Job<'_> {
    fn judge(self, validator: &mut Validator, lines: &[(u64, Range<usize>)]) -> (Vec<u8>, Tally) {
        let mut ctx = Context::new(self.now, self.settings);
        ctx.kind = self.kind;
        let mut out = Vec::with_capacity(lines.len() * 64);
        let mut tally = Tally::default();
        for (line_no, range) in lines {
            let input = &self.buf[range.clone()];
            let (kind, diags) = match parse_input(input) {
                Ok(req) => (req.kind().or(self.kind), validator.validate(&req, &ctx)),
                Err(d) => (None, vec![d]),
            };
            let valid = !diags.iter().any(Diagnostic::is_error);
            tally.inputs += 1;
            tally.invalid += u64::from(!valid);
            for d in &diags {
                *tally.by_code.entry((d.code, d.severity)).or_default() += 1;
            }
            match self.format {
                Format::Json => {
                    let report = LineReport {
                        line: *line_no,
                        input: &String::from_utf8_lossy(input),
                        kind,
                        valid,
                        diagnostics: &diags,
                    };
                    // Writing to a Vec cannot fail, and every field serializes.
                    let _ = serde_json::to_writer(&mut out, &report);
                    out.push(b'\n');
                }
                Format::Text if !diags.is_empty() => {
                    render::line_report(&mut out, *line_no, input, &diags, self.color)
                }
                Format::Text => {}
            }
        }
        (out, tally)
    }
}

fn write_summary(out: &mut dyn Write, tally: &Tally, color: bool) -> io::Result<()> {
    let valid = tally.inputs - tally.invalid;
    writeln!(
        out,
        "{} input(s): {valid} valid, {} with errors",
        tally.inputs, tally.invalid
    )?;
    let mut rows: Vec<_> = tally.by_code.iter().collect();
    rows.sort_by(|a, b| {
        b.0 .1
            .cmp(&a.0 .1)
            .then(b.1.cmp(a.1))
            .then(a.0 .0.cmp(&b.0 .0))
    });
    for ((code, severity), n) in rows {
        let style = render::severity_style(*severity, color);
        writeln!(out, "  {n:>8}  {style}{severity:<7}{style:#}  {code}")?;
    }
    Ok(())
}

fn with_path(e: io::Error, what: &str, path: &std::path::Path) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", path.display()))
}
