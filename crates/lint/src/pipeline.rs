//! Reader thread → `jobs` workers → the caller's thread, which writes results in input order.
//! The channels are bounded, so at most a few batches are in memory whatever the input's size.

use crate::json::{self, LineReport};
use crate::tally::Tally;
use crate::{text, Config, Format};
use metrica_s2s_rules::{lossy, parse_input, Context, Validator};
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

/// Lines per batch: enough to make handing a batch over cheap, few enough that the batches in
/// flight stay a few megabytes.
const BATCH_LINES: usize = 4096;

/// What to lint: arguments first, then the lines of a file (`-` for stdin). Without either,
/// stdin.
#[derive(Clone, Debug, Default)]
pub struct Input {
    pub args: Vec<String>,
    pub file: Option<PathBuf>,
}

/// Lints `input` into `out`; the tally says how many inputs broke error rules. A closed pipe
/// on `out` (`| head`) ends the run early without an error.
pub fn run(input: &Input, config: &Config, out: &mut dyn Write) -> io::Result<Tally> {
    let mut tally = Tally::default();
    let result = pipeline(input, config, out, &mut tally).and_then(|()| {
        if config.format == Format::Text {
            text::summary(out, &tally, config.color)?;
        }
        out.flush()
    });
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(tally),
        Err(e) => Err(e),
        Ok(()) => Ok(tally),
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

fn pipeline(
    input: &Input,
    config: &Config,
    out: &mut dyn Write,
    tally: &mut Tally,
) -> io::Result<()> {
    let jobs = config.jobs.max(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Batch)>(jobs * 2);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::sync_channel::<(u64, Vec<u8>, Tally)>(jobs * 2);
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(|| read_batches(input, work_tx, &stop));
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
                    let (bytes, t) = judge(config, &mut validator, &batch);
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
    input: &Input,
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
    for (i, url) in input.args.iter().enumerate() {
        batch.push(i as u64 + 1, url.as_bytes());
    }
    if !send(&mut batch) {
        return Ok(());
    }
    let reader: Box<dyn Read> =
        match &input.file {
            Some(p) if p.as_os_str() == "-" => Box::new(io::stdin().lock()),
            Some(p) => Box::new(std::fs::File::open(p).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot open {}: {e}", p.display()))
            })?),
            None if input.args.is_empty() => Box::new(io::stdin().lock()),
            None => return Ok(()),
        };
    let name = input
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

/// One batch judged and rendered, with its counts.
fn judge(config: &Config, validator: &mut Validator, batch: &Batch) -> (Vec<u8>, Tally) {
    let mut ctx = Context::new(config.now, &config.settings);
    ctx.kind = config.kind;
    let mut out = Vec::with_capacity(batch.buf.len() + batch.lines.len() * 64);
    let mut tally = Tally::default();
    for (line_no, range) in &batch.lines {
        let input = &batch.buf[range.clone()];
        let (kind, diags) = match parse_input(input) {
            Ok(req) => {
                let (diags, facts) = validator.judge(&req, &ctx);
                tally.note(&facts);
                (req.kind().or(config.kind), diags)
            }
            Err(d) => (None, vec![d]),
        };
        let valid = tally.count(&diags);
        match config.format {
            Format::Json => json::write_line(
                &mut out,
                &LineReport {
                    line: *line_no,
                    input: &lossy(input),
                    kind,
                    valid,
                    diagnostics: &diags,
                },
            ),
            Format::Text if !diags.is_empty() => {
                text::line_report(&mut out, *line_no, input, &diags, config.color)
            }
            Format::Text => {}
        }
    }
    (out, tally)
}

#[cfg(test)]
mod tests {
    use crate::pipeline::{run, Input};
    use crate::{Config, Format};
    use metrica_s2s_rules::Settings;

    fn config(jobs: usize) -> Config {
        Config {
            settings: Settings::default(),
            now: 1_795_860_000,
            kind: None,
            format: Format::Json,
            color: false,
            jobs,
        }
    }

    #[test]
    fn results_come_back_in_input_order_over_many_batches() {
        let dir = std::env::temp_dir().join(format!("metrica-s2s-lint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("log.txt");
        let mut text = String::new();
        for i in 0..10_000 {
            if i % 7 == 0 {
                text.push_str("# a comment\n\n");
            }
            text.push_str(&format!(
                "/serve/1?click_id={i}&device_ip=5.255.232.{}\n",
                i % 256
            ));
        }
        std::fs::write(&path, text).expect("log");
        let input = Input {
            args: vec!["/serve/1?first".into()],
            file: Some(path),
        };
        let mut out = Vec::new();
        let tally = run(&input, &config(4), &mut out).expect("runs");
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(tally.inputs, 10_001);
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(lines[0]["input"], "/serve/1?first");
        let ids: Vec<String> = lines[1..]
            .iter()
            .map(|l| {
                l["input"].as_str().expect("input")[18..]
                    .split('&')
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        let want: Vec<String> = (0..10_000).map(|i| i.to_string()).collect();
        assert_eq!(ids, want);
        let numbers: Vec<u64> = lines
            .iter()
            .map(|l| l["line"].as_u64().expect("line"))
            .collect();
        assert!(
            numbers[1..].windows(2).all(|w| w[0] < w[1]),
            "line numbers rise"
        );
    }

    #[test]
    fn a_missing_file_is_an_error_naming_it() {
        let input = Input {
            args: Vec::new(),
            file: Some("/nonexistent/metrica-s2s.log".into()),
        };
        let e = run(&input, &config(1), &mut Vec::new()).expect_err("missing");
        assert!(
            e.to_string().contains("/nonexistent/metrica-s2s.log"),
            "{e}"
        );
    }
}
