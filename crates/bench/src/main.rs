//! `s2s-bench`: measures metrica-s2s against bare baselines measured in the same run, so
//! the figures are ratios that a shared, noisy machine moves less than absolute times.
//!
//! - `lint` writes a synthetic log of realistic S2S URLs (a fifth of them buggy), then times a
//!   bare pass that only splits each line and percent-decodes its query with
//!   `form_urlencoded`, on one core, and `metrica-s2s lint --format json`; it prints URLs/s
//!   for both, their ratio, and lint's peak RSS (via /usr/bin/time when present).
//! - `serve` loads `metrica-s2s serve` and `bare-server` alike over loopback (see
//!   `serve_bench`).
//! - `conform` times the conformance runner over the example partners.
//! - `tls` compares server CPU per click over TLS and plain HTTP on one mock, then handshakes.
//! - `waiters` measures clicks with and without a thousand pending journal `wait` calls.
//! - `postbacks` times a conversion from its report to the postback's arrival at a receiver,
//!   against a bare loopback round trip to the same receiver.
//!
//! Every run is bounded by its request count or the file it reads; traffic stays on loopback.

mod child;
mod conform_bench;
mod gen;
mod load;
mod postback_bench;
mod postback_waits_bench;
mod serve_bench;
mod tls_bench;
mod waiters_bench;

use clap::{Parser, Subcommand};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The `--now` the log is generated for and linted at.
const NOW: u64 = 1_795_860_000;
const RUNS: usize = 3;

/// Benchmarks of metrica-s2s against bare baselines measured in the same run.
#[derive(Debug, Parser)]
#[command(name = "s2s-bench")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// `metrica-s2s lint` on a generated log against a bare split-and-decode pass.
    Lint {
        /// Lines in the generated log.
        #[arg(long, default_value_t = 1_000_000)]
        lines: usize,
        /// The metrica-s2s binary [default: next to this one].
        #[arg(long)]
        bin: Option<PathBuf>,
        /// Where the log is written [default: metrica-s2s-bench.log in the temp dir].
        #[arg(long)]
        log: Option<PathBuf>,
        /// How the log's User-Agents are drawn from uap-core: skewed (a few mobile UAs
        /// dominate: the caches' best case) or uniform (all 17,816, so most are new: the cold
        /// path).
        #[arg(long, value_enum, default_value_t = gen::UaDraw::Skewed)]
        uas: gen::UaDraw,
    },
    /// `metrica-s2s serve` against bare-server (axum answering 204) under the same load.
    Serve {
        /// Requests per server, split evenly over the rounds.
        #[arg(long, default_value_t = 700_000, value_parser = clap::value_parser!(u64).range(1..))]
        requests: u64,
        /// Rounds of back-to-back pairs, their order alternating.
        #[arg(long, default_value_t = 7, value_parser = at_least_one())]
        rounds: usize,
        /// Further requests to the mock before its RSS is read.
        #[arg(long, default_value_t = 1_000_000)]
        soak: u64,
        /// Keep-alive loopback connections per server.
        #[arg(long, default_value_t = 64, value_parser = at_least_one())]
        connections: usize,
        /// More `serve` flags, to measure what a setting costs (`--journal-capacity 10`).
        #[arg(long, default_value = "", allow_hyphen_values = true)]
        mock_args: String,
    },
    /// The conformance runner over the example partners.
    Conform,
    /// Clicks over TLS against plain HTTP on the same mock (kept-alive), then handshakes.
    Tls {
        /// Clicks per round and transport.
        #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..))]
        requests: u64,
        #[arg(long, default_value_t = 5, value_parser = at_least_one())]
        rounds: usize,
        #[arg(long, default_value_t = 64, value_parser = at_least_one())]
        connections: usize,
        /// New connections for the handshake measurement.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..))]
        handshakes: u64,
    },
    /// Clicks with and without pending journal `wait` calls, on the same mock, alternating.
    Waiters {
        #[arg(long, default_value_t = 1_000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=3_000))]
        waiters: usize,
        /// Clicks per measurement.
        #[arg(long, default_value_t = 50_000, value_parser = clap::value_parser!(u64).range(1..))]
        requests: u64,
        #[arg(long, default_value_t = 3, value_parser = at_least_one())]
        rounds: usize,
    },
    /// Clicks with and without pending postback waits while deliveries retry, alternating.
    PostbackWaits {
        /// Deliveries retrying (their receiver answers 503).
        #[arg(long, default_value_t = 1_000, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=10_000))]
        deliveries: usize,
        #[arg(long, default_value_t = 6, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=1_000))]
        waits: usize,
        /// Clicks per measurement.
        #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(1..))]
        requests: u64,
        #[arg(long, default_value_t = 3, value_parser = at_least_one())]
        rounds: usize,
    },
    /// Conversions attributed and posted back, against a bare round trip to the receiver.
    Postbacks {
        /// Clicks journaled first, each with an advertising id of its own.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
        clicks: u64,
        /// Conversions reported one after another.
        #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..))]
        conversions: u64,
    },
}

/// Where the binaries under test are: beside this one.
fn bin_dir() -> PathBuf {
    default_bin()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Runs a load benchmark on a runtime of one worker: the other core is the server's.
fn on_one_worker(
    bench: impl std::future::Future<Output = std::io::Result<()>>,
) -> std::io::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .and_then(|rt| rt.block_on(bench))
}

fn at_least_one() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(1..)
}

fn main() {
    let outcome = match Cli::parse().bench {
        Bench::Tls {
            requests,
            rounds,
            connections,
            handshakes,
        } => on_one_worker(tls_bench::run(
            &bin_dir(),
            requests,
            rounds,
            connections,
            handshakes,
        )),
        Bench::Postbacks {
            clicks,
            conversions,
        } => on_one_worker(postback_bench::run(&bin_dir(), clicks, conversions)),
        Bench::Waiters {
            waiters,
            requests,
            rounds,
        } => on_one_worker(waiters_bench::run(&bin_dir(), waiters, requests, rounds)),
        Bench::PostbackWaits {
            deliveries,
            waits,
            requests,
            rounds,
        } => on_one_worker(postback_waits_bench::run(
            &bin_dir(),
            deliveries,
            waits,
            requests,
            rounds,
        )),
        Bench::Conform => {
            let root = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
            conform_bench::run(&default_bin(), root)
        }
        Bench::Serve {
            requests,
            rounds,
            soak,
            connections,
            mock_args,
        } => {
            let plan = serve_bench::Plan {
                requests,
                rounds,
                soak,
                connections,
                mock_args,
            };
            on_one_worker(serve_bench::run(plan, &bin_dir()))
        }
        Bench::Lint {
            lines,
            bin,
            log,
            uas,
        } => {
            let bin = bin.unwrap_or_else(default_bin);
            let log = log.unwrap_or_else(|| std::env::temp_dir().join("metrica-s2s-bench.log"));
            run(lines, &bin, &log, uas)
        }
    };
    if let Err(e) = outcome {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}

fn default_bin() -> PathBuf {
    let me = std::env::current_exe().unwrap_or_default();
    me.with_file_name("metrica-s2s")
}

fn run(lines: usize, bin: &Path, log: &Path, draw: gen::UaDraw) -> std::io::Result<()> {
    let ua_pool = gen::ua_pool(
        Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/user-agents/uap-core.tsv"
        )),
        draw,
    )?;
    let buggy = gen::write_log(log, lines, NOW, &ua_pool, draw)?;
    let size = std::fs::metadata(log)?.len();
    println!(
        "log: {} ({lines} lines, {:.1} MB, {buggy} buggy = {:.1}%, {} distinct UAs in the pool, drawn {draw:?})",
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
