//! `s2s-bench`: measures `metrica-s2s lint` against a bare baseline in the same run.
//!
//! `s2s-bench lint [--lines N] [--bin PATH]` writes a synthetic log of realistic S2S URLs (a
//! fifth of them buggy), then times (1) a bare pass that only splits each line and
//! percent-decodes its query with `form_urlencoded`, on one core, and (2) the real binary,
//! `metrica-s2s lint --format json`, with its output going to /dev/null. It prints URLs/s for
//! both and their ratio, plus the lint's peak RSS (via /usr/bin/time when present). Every run
//! is bounded by the file it reads; nothing touches the network.

mod conform_bench;
mod gen;
mod load;
mod serve_bench;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `--now` the log is generated for and linted at.
const NOW: u64 = 1_795_860_000;
const RUNS: usize = 3;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if args.first().map(String::as_str) == Some("conform") {
        let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
        if let Err(e) = conform_bench::run(&default_bin(), root) {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
        return;
    }
    if args.first().map(String::as_str) == Some("serve") {
        let plan = serve_bench::Plan {
            requests: flag("--requests")
                .and_then(|n| n.parse().ok())
                .unwrap_or(700_000),
            rounds: flag("--rounds").and_then(|n| n.parse().ok()).unwrap_or(7),
            soak: flag("--soak")
                .and_then(|n| n.parse().ok())
                .unwrap_or(1_000_000),
            connections: flag("--connections")
                .and_then(|n| n.parse().ok())
                .unwrap_or(64),
            mock_args: flag("--mock-args").unwrap_or_default(),
        };
        let dir = default_bin()
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let result = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .and_then(|rt| rt.block_on(serve_bench::run(plan, &dir)));
        if let Err(e) = result {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
        return;
    }
    if args.first().map(String::as_str) != Some("lint") {
        eprintln!("usage: s2s-bench lint [--lines N] [--bin PATH] [--log PATH]\n       s2s-bench serve [--requests N] [--rounds N] [--soak N] [--connections N] [--mock-args \"FLAGS\"]\n       s2s-bench conform");
        std::process::exit(2);
    }
    let lines: usize = flag("--lines")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let bin = flag("--bin").map_or_else(default_bin, PathBuf::from);
    let log = flag("--log").map_or_else(
        || std::env::temp_dir().join("metrica-s2s-bench.log"),
        PathBuf::from,
    );
    if let Err(e) = run(lines, &bin, &log) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn default_bin() -> PathBuf {
    let me = std::env::current_exe().unwrap_or_default();
    me.with_file_name("metrica-s2s")
}

fn run(lines: usize, bin: &Path, log: &Path) -> std::io::Result<()> {
    let ua_pool = gen::ua_pool(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/user-agents/uap-core.tsv"
    )))?;
    let buggy = gen::write_log(log, lines, NOW, &ua_pool)?;
    let size = std::fs::metadata(log)?.len();
    println!(
        "log: {} ({lines} lines, {:.1} MB, {buggy} buggy = {:.1}%, {} distinct UAs in the pool)",
        log.display(),
        size as f64 / 1e6,
        100.0 * buggy as f64 / lines as f64,
        ua_pool.len()
    );
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let mut bare = Vec::new();
    let mut lint_all = Vec::new();
    let mut lint_one = Vec::new();
    let mut rss = None;
    // Interleaved, so a noisy neighbour hits every variant alike; the median is reported.
    for _ in 0..RUNS {
        bare.push(bare_pass(log)?);
        let (t, r) = lint_pass(bin, log, None)?;
        lint_all.push(t);
        rss = rss.max(r);
        lint_one.push(lint_pass(bin, log, Some(1))?.0);
    }
    let (b, a, o) = (
        median(&mut bare),
        median(&mut lint_all),
        median(&mut lint_one),
    );
    let rate = |d: Duration| lines as f64 / d.as_secs_f64();
    println!(
        "bare split + form_urlencoded decode, 1 core : {:>10.0} URLs/s  ({:.2} s)",
        rate(b),
        b.as_secs_f64()
    );
    println!(
        "metrica-s2s lint --format json, {cores} core(s): {:>10.0} URLs/s  ({:.2} s)",
        rate(a),
        a.as_secs_f64()
    );
    println!(
        "metrica-s2s lint --format json --jobs 1   : {:>10.0} URLs/s  ({:.2} s)",
        rate(o),
        o.as_secs_f64()
    );
    println!("ratio lint/bare (time, lower is better): {:.2}x with {cores} core(s), {:.2}x on 1 core; target <= 2x", a.as_secs_f64() / b.as_secs_f64(), o.as_secs_f64() / b.as_secs_f64());
    match rss {
        Some(kb) => println!(
            "lint peak RSS: {:.1} MB; target < 50 MB",
            kb as f64 / 1024.0
        ),
        None => println!("lint peak RSS: not measured (/usr/bin/time is not installed)"),
    }
    println!("medians of {RUNS} interleaved runs");
    Ok(())
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Reads the log as lint does and decodes every query; nothing else.
fn bare_pass(log: &Path) -> std::io::Result<Duration> {
    let start = Instant::now();
    let mut reader = BufReader::with_capacity(1 << 18, std::fs::File::open(log)?);
    let mut line = Vec::new();
    let mut pairs = 0usize;
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        let query = line
            .iter()
            .position(|&b| b == b'?')
            .map_or(&line[..0], |i| &line[i + 1..]);
        let decoded: Vec<_> = form_urlencoded::parse(query).collect();
        pairs += decoded.len();
    }
    std::hint::black_box(pairs);
    Ok(start.elapsed())
}

/// Times the real binary; peak RSS in KiB when /usr/bin/time can tell.
fn lint_pass(
    bin: &Path,
    log: &Path,
    jobs: Option<usize>,
) -> std::io::Result<(Duration, Option<u64>)> {
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.args(["-f", "%M"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args([
        "lint",
        "--format",
        "json",
        "--now",
        &NOW.to_string(),
        "--file",
    ])
    .arg(log);
    if let Some(j) = jobs {
        cmd.args(["--jobs", &j.to_string()]);
    }
    let start = Instant::now();
    let out = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).output()?;
    let elapsed = start.elapsed();
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(std::io::Error::other(format!(
            "{} failed: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let rss = String::from_utf8_lossy(&out.stderr)
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok());
    Ok((elapsed, rss))
}
