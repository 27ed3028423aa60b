//! `metrica-s2s conform`: flags to a run, reports to files, the verdict to the exit code.

use crate::exit;
use anyhow::{bail, Context as _};
use clap::Args;
use metrica_s2s_conform::report::{html, json, junit, markdown, terminal, Verdict};
use metrica_s2s_conform::runner::{self, Options};
use metrica_s2s_conform::{Partner, Suite};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ConformArgs {
    /// The partner file: who is tested and how to drive their integration.
    #[arg(long, value_name = "PARTNER.toml")]
    partner: PathBuf,
    /// A suite file; the built-in standard suite (the file fixtures/suites/standard.toml) by
    /// default.
    #[arg(long, value_name = "SUITE.toml")]
    suite: Option<PathBuf>,
    /// Write a report: json, junit, html or markdown, as FORMAT=PATH. Repeatable.
    #[arg(long, value_name = "FORMAT=PATH")]
    report: Vec<String>,
    /// Scenarios run at once: they mostly wait, on the partner or for a retry.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=256))]
    jobs: usize,
    /// Run only this scenario. Repeatable.
    #[arg(long, value_name = "ID")]
    only: Vec<String>,
}

#[derive(Debug)]
enum Format {
    Html,
    Json,
    Junit,
    Markdown,
}

pub fn run(args: ConformArgs) -> anyhow::Result<u8> {
    let reports = args
        .report
        .iter()
        .map(|spec| parse_report(spec))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let suite = match &args.suite {
        Some(p) => Suite::load(p)?,
        None => Suite::standard().context("the built-in suite is not valid")?,
    };
    let partner = Partner::load(&args.partner)?;
    let total = suite
        .scenarios
        .iter()
        .filter(|s| args.only.is_empty() || args.only.contains(&s.id))
        .count();
    // indicatif draws on stderr only when it is a terminal.
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} scenarios  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let shown = bar.clone();
    let options = Options {
        jobs: args.jobs,
        only: args.only.clone(),
        on_done: Some(std::sync::Arc::new(
            move |s: &metrica_s2s_conform::report::ScenarioReport| {
                shown.set_message(format!(
                    "{} {}",
                    s.status.as_str(),
                    metrica_s2s_rules::quote_str(&s.id)
                ));
                shown.inc(1);
            },
        )),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(runner::run(&suite, &partner, &options));
    bar.finish_and_clear();
    let report = outcome?;
    // Every report is attempted and the table printed, whatever fails first.
    let mut unwritten = Vec::new();
    for (format, path) in &reports {
        let text = match format {
            Format::Html => html::render(&report),
            Format::Json => json::render(&report),
            Format::Junit => junit::render(&report),
            Format::Markdown => markdown::render(&report),
        };
        if let Err(e) = std::fs::write(path, text) {
            unwritten.push(format!("cannot write report {}: {e}", path.display()));
        }
    }
    print!("{}", terminal::render(&report));
    if !unwritten.is_empty() {
        bail!("{}", unwritten.join("; "));
    }
    Ok(match report.verdict() {
        Verdict::Passed => exit::SUCCESS,
        Verdict::Failed => exit::FINDINGS,
        Verdict::Errored => exit::FAILURE,
    })
}

fn parse_report(spec: &str) -> anyhow::Result<(Format, PathBuf)> {
    let Some((format, path)) = spec.split_once('=') else {
        bail!("--report takes FORMAT=PATH, got {spec:?}");
    };
    let format = match format {
        "json" => Format::Json,
        "junit" => Format::Junit,
        "markdown" => Format::Markdown,
        "html" => Format::Html,
        other => bail!("--report format {other:?} is not one of json, junit, html, markdown"),
    };
    if path.is_empty() {
        bail!("--report {spec:?} names no file");
    }
    let path = PathBuf::from(path);
    writable(&path).with_context(|| {
        format!(
            "--report {spec:?}: cannot write {} (checked before running anything)",
            path.display()
        )
    })?;
    Ok((format, path))
}

/// `path` can be written: its directory exists and takes a new file, and it is not a
/// directory itself. Checked with a scratch file, so an existing report is left as it is.
fn writable(path: &std::path::Path) -> anyhow::Result<()> {
    if path.is_dir() {
        bail!("it is a directory");
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    if !dir.is_dir() {
        bail!("its directory {} does not exist", dir.display());
    }
    tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("its directory {} does not take a new file", dir.display()))?;
    Ok(())
}
