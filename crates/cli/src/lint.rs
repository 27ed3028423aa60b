//! `metrica-s2s lint`: judge tracking URLs and access logs with the rule engine.
//!
//! Input streams through in batches: a reader thread fills them, one worker per core judges
//! them with its own `Validator` (and UA cache), and the main thread writes results back in
//! input order. Channels are bounded, so memory stays flat whatever the size of the log.

use crate::{exit, render};
use clap::{Args, ValueEnum};
use metrica_s2s_rules::{
    lossy, parse_input, Code, Context, Diagnostic, Kind, Settings, Severity, Validator,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

/// Lines per batch: enough to make handing a batch over cheap, few enough that the batches in
/// flight stay a few megabytes.
const BATCH_LINES: usize = 4096;

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
    /// Judge the time rules as if it were this Unix time (default: the system clock). An
    /// access-log line is judged at the time it logged instead.
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

impl Batch {
    fn push(&mut self, line_no: u64, line: &[u8]) {
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let trimmed = line.trim_ascii_start();
        if trimmed.is_empty() || trimmed.starts_with(b"#") {
            return;
        }
        let start = self.buf.len();
        self.buf.extend_from_slice(line);
        self.lines.push((line_no, start..self.buf.len()));
    }
}

/// What every worker needs to judge a batch.
struct Config {
    settings: Settings,
    now: u64,
    kind: Option<Kind>,
    format: Format,
    color: bool,
}

pub fn run(args: LintArgs) -> anyhow::Result<u8> {
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let stdout = io::stdout();
    let config = Config {
        settings: Settings::default(),
        now: args.now.unwrap_or_else(system_now),
        kind: args.kind.map(Kind::from),
        format: args.format,
        color: args.format == Format::Text && render::use_color(&stdout),
    };
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut tally = Tally::default();
    let result = pipeline(&args, &config, jobs, &mut out, &mut tally).and_then(|()| {
        if config.format == Format::Text {
            write_summary(&mut out, &tally, config.color)?;
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

/// Reader thread → `jobs` workers → this thread, which writes results in input order. The
/// channels are bounded, so at most a few batches are in memory whatever the input's size.
fn pipeline(
    args: &LintArgs,
    config: &Config,
    jobs: usize,
    out: &mut dyn Write,
    tally: &mut Tally,
) -> io::Result<()> {
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Batch)>(jobs * 2);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::sync_channel::<(u64, Vec<u8>, Tally)>(jobs * 2);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| read_batches(args, work_tx, &stop));
        for _ in 0..jobs {
            let done_tx = done_tx.clone();
            let (work_rx, stop) = (&work_rx, &stop);
            s.spawn(move || {
                let mut validator = Validator::new(config.settings.ua_cache_entries);
                // After a stop, keep draining so the reader is never left blocked.
                while let Some((idx, batch)) = next_batch(work_rx) {
                    if stop.load(Ordering::Relaxed) {
                        continue;
                    }
                    let (bytes, t) = config.judge(&mut validator, &batch);
                    if done_tx.send((idx, bytes, t)).is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            });
        }
        drop(done_tx);
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        let mut written = Ok(());
        for (idx, bytes, t) in done_rx.iter() {
            pending.insert(idx, (bytes, t));
            while let Some((bytes, t)) = pending.remove(&next) {
                written = written.and_then(|()| out.write_all(&bytes));
                tally.add(t);
                next += 1;
            }
            if written.is_err() {
                stop.store(true, Ordering::Relaxed);
                break;
            }
        }
        drop(done_rx);
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the input reader panicked")));
        written.and(read)
    })
}

fn next_batch(rx: &Mutex<mpsc::Receiver<(u64, Batch)>>) -> Option<(u64, Batch)> {
    rx.lock().ok()?.recv().ok()
}

/// Sends the arguments, then the file or stdin, in numbered batches.
fn read_batches(
    args: &LintArgs,
    tx: mpsc::SyncSender<(u64, Batch)>,
    stop: &AtomicBool,
) -> io::Result<()> {
    let mut idx = 0u64;
    let mut send = |batch: &mut Batch| -> bool {
        if batch.lines.is_empty() {
            return true;
        }
        let ok = !stop.load(Ordering::Relaxed) && tx.send((idx, std::mem::take(batch))).is_ok();
        idx += 1;
        ok
    };
    let mut batch = Batch::default();
    for (i, url) in args.urls.iter().enumerate() {
        batch.push(i as u64 + 1, url.as_bytes());
    }
    if !send(&mut batch) {
        return Ok(());
    }
    let reader: Box<dyn Read> = match &args.file {
        Some(p) if p.as_os_str() == "-" => Box::new(io::stdin().lock()),
        Some(p) => Box::new(std::fs::File::open(p).map_err(|e| with_path(e, "cannot open", p))?),
        None if args.urls.is_empty() => Box::new(io::stdin().lock()),
        None => return Ok(()),
    };
    let name = args
        .file
        .as_ref()
        .map_or_else(|| "stdin".into(), |p| p.display().to_string());
    let mut reader = BufReader::with_capacity(1 << 18, reader);
    let mut line = Vec::new();
    let mut line_no = 0u64;
    loop {
        line.clear();
        let n = match reader.read_until(b'\n', &mut line) {
            Ok(n) => n,
            Err(e) => {
                // What was read is still judged and written before the error is reported.
                send(&mut batch);
                return Err(io::Error::new(
                    e.kind(),
                    format!("cannot read {name} after line {line_no}: {e}"),
                ));
            }
        };
        if n == 0 {
            break;
        }
        line_no += 1;
        batch.push(line_no, &line);
        if batch.lines.len() >= BATCH_LINES && !send(&mut batch) {
            return Ok(());
        }
    }
    send(&mut batch);
    Ok(())
}

impl Config {
    fn judge(&self, validator: &mut Validator, batch: &Batch) -> (Vec<u8>, Tally) {
        let mut ctx = Context::new(self.now, &self.settings);
        ctx.kind = self.kind;
        let mut out = Vec::with_capacity(batch.buf.len() + batch.lines.len() * 64);
        let mut tally = Tally::default();
        for (line_no, range) in &batch.lines {
            let input = &batch.buf[range.clone()];
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
                        input: &lossy(input),
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
