//! `metrica-s2s lint`: flags to a lint run (`metrica-s2s-lint`), its verdict to the exit code.

use crate::exit;
use clap::{Args, ValueEnum};
use metrica_s2s_lint::{Config, Format, Input};
use metrica_s2s_rules::{Kind, Settings};
use std::io::{self, BufWriter};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Inputs to check: full URLs, scheme-less URLs, request targets or request lines.
    /// Without any, and without --file, lines are read from stdin.
    #[arg(value_name = "URL")]
    urls: Vec<String>,
    /// Read one input per line from PATH (`-` for stdin). Blank lines and `#` lines are skipped.
    #[arg(long, value_name = "PATH|-")]
    file: Option<PathBuf>,
    /// text for a person (colour on a terminal), json for machines (one object per line),
    /// github (annotations), codequality (GitLab) or sarif (SARIF 2.1.0, for code scanning).
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,
    /// Judge the time rules as if it were this Unix time (default: the system clock). An
    /// access-log line is judged at the time it logged instead.
    #[arg(long, value_name = "UNIX_SECONDS", value_parser = clap::value_parser!(u64).range(0..=253_402_300_799))]
    now: Option<u64>,
    /// The event kind of inputs whose host does not say (request targets, other hosts).
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    /// Worker threads (default: the number of cores; at most 64).
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    jobs: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    Text,
    Json,
    Github,
    Codequality,
    Sarif,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum KindArg {
    Click,
    Impression,
}

pub fn run(args: LintArgs) -> anyhow::Result<u8> {
    let stdout = io::stdout();
    let format = match args.format {
        FormatArg::Text => Format::Text,
        FormatArg::Json => Format::Json,
        FormatArg::Github => Format::Github,
        FormatArg::Codequality => Format::CodeQuality,
        FormatArg::Sarif => Format::Sarif,
    };
    let config = Config {
        settings: Settings::default(),
        now: args.now.unwrap_or_else(system_now),
        kind: args.kind.map(|k| match k {
            KindArg::Click => Kind::Click,
            KindArg::Impression => Kind::Impression,
        }),
        format,
        color: format == Format::Text && use_color(&stdout),
        jobs: args.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map_or(1, usize::from)
                .min(64)
        }),
    };
    let input = Input {
        args: args.urls,
        file: args.file,
    };
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let tally = metrica_s2s_lint::run(&input, &config, &mut out)?;
    Ok(if tally.invalid > 0 {
        exit::FINDINGS
    } else {
        exit::SUCCESS
    })
}

fn system_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Colour only for a terminal, and never when `NO_COLOR` is set (https://no-color.org);
/// `CLICOLOR_FORCE` forces it for pagers.
fn use_color(stdout: &io::Stdout) -> bool {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if set("NO_COLOR") {
        return false;
    }
    set("CLICOLOR_FORCE") || io::IsTerminal::is_terminal(stdout)
}
