//! Reader thread → `jobs` workers → the caller's thread, which writes results in input order.
//!
//! Memory is bounded by bytes, whatever the input: batches are bounded in lines and bytes (see
//! `batch`), at most [`IN_FLIGHT`] of them are read but not yet written, and a line longer than
//! [`MAX_LINE`] is reported (`not-a-url`, with its length) from its first bytes while the rest
//! of it is skipped, never held.

use crate::batch::{read_line, Batch, MAX_LINE};
use crate::ci::{self, Wrapper};
use crate::json::{self, LineReport};
use crate::tally::Tally;
use crate::{text, Config, Format};
use metrica_s2s_rules::{lossy, parse_input, Code, Context, Diagnostic, Draft, Span, Validator};
use std::collections::BTreeMap;
use std::io::{self, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Mutex};

/// Batches read but not yet written, at most.
const IN_FLIGHT: usize = 16;
/// What to lint: arguments first, then the lines of a file (`-` for stdin). Without either,
/// stdin.
#[derive(Clone, Debug, Default)]
pub struct Input {
    pub args: Vec<String>,
    pub file: Option<PathBuf>,
}

/// Lints `input` into `out`; the tally says how many inputs broke error rules. A closed pipe
/// on `out` (`| head`) stops the writing, not the judging: the tally, and so the exit status,
/// still covers every line.
pub fn run(input: &Input, config: &Config, out: &mut dyn Write) -> io::Result<Tally> {
    let mut tally = Tally::default();
    let mut wrapper = Wrapper::new(config.format);
    let result = wrapper
        .start(out)
        .and_then(|()| pipeline(input, config, out, &mut wrapper, &mut tally))
        .and_then(|()| {
            if config.format == Format::Text {
                text::summary(out, &tally, config.color)?;
            }
            wrapper.finish(out)?;
            out.flush()
        });
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(tally),
        Err(e) => Err(e),
        Ok(()) => Ok(tally),
    }
}

fn pipeline(
    input: &Input,
    config: &Config,
    out: &mut dyn Write,
    wrapper: &mut Wrapper,
    tally: &mut Tally,
) -> io::Result<()> {
    let file = input
        .file
        .as_deref()
        .filter(|p| p.as_os_str() != "-")
        .map(|p| p.display().to_string());
    let jobs = config.jobs.max(1);
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Batch)>(IN_FLIGHT);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::sync_channel::<(u64, Batch, Tally)>(IN_FLIGHT);
    // One token per batch in flight: the reader takes one per batch, the writer gives it back
    // once the batch is written, so results waiting for an earlier batch cannot pile up. The
    // token is the batch's buffers, emptied: reused, they cost no allocation and no fresh pages.
    let (token_tx, token_rx) = mpsc::sync_channel::<Batch>(IN_FLIGHT);
    for _ in 0..IN_FLIGHT {
        let _ = token_tx.send(Batch::default());
    }
    // Set once the output is closed: workers then judge without rendering.
    let silent = AtomicBool::new(false);
    std::thread::scope(|s| {
        let reader = s.spawn(move || read_batches(input, work_tx, &token_rx));
        for _ in 0..jobs {
            let done_tx = done_tx.clone();
            let (work_rx, silent, file) = (&work_rx, &silent, file.as_deref());
            s.spawn(move || {
                let mut validator = Validator::new(config.settings.ua_cache_entries);
                while let Some((idx, mut batch)) = next_batch(work_rx) {
                    let render = !silent.load(Ordering::Relaxed);
                    let t = judge(config, file, &mut validator, &mut batch, render);
                    if done_tx.send((idx, batch, t)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        let mut written = Ok(());
        for (idx, batch, t) in done_rx.iter() {
            pending.insert(idx, (batch, t));
            while let Some((mut batch, t)) = pending.remove(&next) {
                if written.is_ok() {
                    written = wrapper.write(out, &batch.out);
                    if written.is_err() {
                        silent.store(true, Ordering::Relaxed);
                    }
                }
                tally.add(t);
                next += 1;
                batch.clear();
                let _ = token_tx.send(batch);
            }
        }
        let read = reader
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the input reader panicked")));
        written.and(read)
    })
}

fn next_batch(rx: &Mutex<mpsc::Receiver<(u64, Batch)>>) -> Option<(u64, Batch)> {
    rx.lock().ok()?.recv().ok()
}

/// Sends the arguments, then the file or stdin, in numbered batches, each once a token says
/// there is room for it.
fn read_batches(
    input: &Input,
    tx: mpsc::SyncSender<(u64, Batch)>,
    tokens: &mpsc::Receiver<Batch>,
) -> io::Result<()> {
    let mut idx = 0u64;
    // The batch being filled is the last token taken; a full one goes for the next token.
    let mut send = |batch: &mut Batch| -> bool {
        if batch.lines.is_empty() {
            return true;
        }
        let Ok(empty) = tokens.recv() else {
            return false;
        };
        let ok = tx.send((idx, std::mem::replace(batch, empty))).is_ok();
        idx += 1;
        ok
    };
    let mut batch = Batch::default();
    for (i, url) in input.args.iter().enumerate() {
        let cut = (url.len() > MAX_LINE).then_some(url.len());
        batch.push(i as u64 + 1, true, url.as_bytes(), cut);
        if batch.full() && !send(&mut batch) {
            return Ok(());
        }
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
    let mut line_no = 0u64;
    loop {
        // Read straight into the batch: a line is copied once, from the reader's buffer.
        let start = batch.buf.len();
        let n = match read_line(&mut reader, &mut batch.buf) {
            Ok(n) => n,
            Err(e) => {
                // What was read is still judged and written before the error is reported.
                batch.buf.truncate(start);
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
        if line_no == 1 {
            batch.strip_bom(start);
        }
        batch.keep_from(start, line_no, false, (n > MAX_LINE).then_some(n));
        if batch.full() && !send(&mut batch) {
            return Ok(());
        }
    }
    send(&mut batch);
    Ok(())
}

/// One batch judged and rendered (unless `render` is off), with its counts.
fn judge(
    config: &Config,
    file: Option<&str>,
    validator: &mut Validator,
    batch: &mut Batch,
    render: bool,
) -> Tally {
    let mut ctx = Context::new(config.now, &config.settings);
    ctx.kind = config.kind;
    let Batch { buf, lines, out } = batch;
    out.clear();
    let mut tally = Tally::default();
    for line in lines.iter() {
        let input = &buf[line.range.clone()];
        let (kind, diags) = match (line.cut_from, parse_input(input)) {
            (Some(len), _) => (None, vec![too_long(input, len)]),
            (None, Ok(req)) => {
                let (diags, facts) = validator.judge(&req, &ctx);
                tally.note(&facts);
                (req.kind().or(config.kind), diags)
            }
            (None, Err(d)) => (None, vec![d]),
        };
        let valid = tally.count(&diags);
        if !render {
            continue;
        }
        match config.format {
            Format::Json => json::write_line(
                out,
                &LineReport {
                    line: line.no,
                    input: &lossy(input),
                    kind,
                    valid,
                    diagnostics: &diags,
                },
            ),
            Format::Text if !diags.is_empty() => {
                text::line_report(out, line.no, input, &diags, config.color)
            }
            Format::Text => {}
            Format::Github | Format::CodeQuality | Format::Sarif => ci::records(
                out,
                config.format,
                ci::Origin {
                    file,
                    argument: line.argument,
                },
                line.no,
                input,
                &diags,
            ),
        }
    }
    tally
}

/// A line too long to be a tracking request, shown by its first bytes.
fn too_long(start: &[u8], len: usize) -> Diagnostic {
    Draft::new(Code::NotAUrl)
        .value(start)
        .arg(
            "reason",
            format!(
                "the line is {len} bytes long, over lint's limit of {MAX_LINE} bytes (its first {} are shown); no tracking request is that long: the line is probably not a request, or several were joined without line breaks",
                start.len()
            ),
        )
        .span(Span::new(0, start.len()))
        .finish()
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
    fn long_lines_are_reported_by_their_start_and_the_run_goes_on() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("log.txt");
        let long = format!("/serve/1?click_id={}", "x".repeat(3 << 20));
        let text = format!("\u{feff}/serve/1?click_id=bom\n{long}\n/serve/1?click_id=after\n");
        std::fs::write(&path, text).expect("log");
        let input = Input {
            args: Vec::new(),
            file: Some(path),
        };
        let mut out = Vec::new();
        let tally = run(&input, &config(2), &mut out).expect("runs");
        assert_eq!(tally.inputs, 3);
        let lines: Vec<serde_json::Value> = String::from_utf8(out)
            .expect("utf-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(
            lines[0]["input"], "/serve/1?click_id=bom",
            "the BOM is not the line's"
        );
        assert_ne!(lines[0]["diagnostics"][0]["code"], "not-a-url");
        assert_eq!(lines[1]["diagnostics"][0]["code"], "not-a-url");
        let message = lines[1]["diagnostics"][0]["message"]
            .as_str()
            .expect("message");
        assert!(
            message.contains(&format!("{} bytes long", long.len() + 1)),
            "{message}"
        );
        assert!(lines[1]["input"].as_str().expect("input").len() <= crate::batch::LONG_LINE_SHOWN);
        assert_eq!(lines[2]["line"], 3);
        assert_eq!(lines[2]["input"], "/serve/1?click_id=after");
    }

    #[test]
    fn a_closed_output_still_counts_every_line() {
        struct Closed;
        impl std::io::Write for Closed {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let args: Vec<String> = (0..20_000)
            .map(|i| {
                if i == 19_999 {
                    "not a url".into()
                } else {
                    format!("/serve/1?click_id={i}")
                }
            })
            .collect();
        let input = Input { args, file: None };
        let tally = run(&input, &config(2), &mut Closed).expect("a closed pipe is no error");
        assert_eq!(tally.inputs, 20_000);
        assert!(tally.invalid >= 1, "the last line's verdict counts");
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
