//! `metrica-s2s conform`: flags to a run, reports to files, the verdict to the exit code. The
//! verdict and exit code are the runner's (`metrica_s2s_conform::gate`); this only says where
//! reports go, including GitHub's annotations and step summary when it runs under Actions.

use anyhow::{bail, Context as _};
use clap::{Args, ValueEnum};
use metrica_s2s_conform::baseline::{today, Baseline};
use metrica_s2s_conform::report::refused::Refused;
use metrica_s2s_conform::report::{
    codequality, github, html, json, junit, markdown, terminal, PartnerRef, RunReport,
    ScenarioReport,
};
use metrica_s2s_conform::runner::{self, Options};
use metrica_s2s_conform::{gate, Partner, Suite};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct ConformArgs {
    /// The partner file: who is tested and how to drive their integration.
    #[arg(long, value_name = "PARTNER.toml")]
    partner: PathBuf,
    /// A suite file; the built-in standard suite (the file fixtures/suites/standard.toml) by
    /// default.
    #[arg(long, value_name = "SUITE.toml")]
    suite: Option<PathBuf>,
    /// Write a report as FORMAT=PATH: json, junit, html, markdown, github (workflow commands;
    /// PATH `-` is stdout) or codequality (GitLab). Repeatable.
    #[arg(long, value_name = "FORMAT=PATH")]
    report: Vec<String>,
    /// Scenarios run at once: they mostly wait, on the partner or for a retry.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=256))]
    jobs: usize,
    /// Run only this scenario. Repeatable.
    #[arg(long, value_name = "ID")]
    only: Vec<String>,
    /// Known failures the gate accepts, each with a reason (TOML `[[accept]]` entries); a
    /// stale or expired entry fails the run.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// After the run, write its gating failures as a baseline (the exit code is unchanged).
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Run a failed or errored scenario again up to N times, with fresh ids; passing on a
    /// retry makes it flaky, which is reported and does not fail the run.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10))]
    retries: u32,
    /// Which failures fail the run: required scenarios only, or also recommended scenarios and the warnings of recommended checks.
    #[arg(long, value_enum, value_name = "KIND", default_value_t = FailOn::Required)]
    fail_on: FailOn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum FailOn {
    Required,
    Recommended,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Html,
    Json,
    Junit,
    Markdown,
    Github,
    CodeQuality,
}

/// Where a report goes.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Sink {
    File(PathBuf),
    Stdout,
}

/// GitHub caps a step summary at 1 MiB.
const STEP_SUMMARY_MAX: usize = 1 << 20;

pub fn run(args: ConformArgs) -> anyhow::Result<u8> {
    let mut reports = args
        .report
        .iter()
        .map(|spec| parse_report(spec))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let on_actions = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    if on_actions && !reports.iter().any(|(f, _)| *f == Format::Github) {
        reports.push((Format::Github, Sink::Stdout));
    }
    if let Some(p) = &args.write_baseline {
        writable(p).with_context(|| format!("--write-baseline {}", p.display()))?;
    }
    let suite = match &args.suite {
        Some(p) => Suite::load(p)?,
        None => Suite::standard().context("the built-in suite is not valid")?,
    };
    let partner = Partner::load(&args.partner)?;
    let baseline = args
        .baseline
        .as_deref()
        .map(Baseline::load)
        .transpose()?
        .map(Arc::new);
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
    let day = today();
    let options = Options {
        jobs: args.jobs,
        only: args.only.clone(),
        retries: args.retries,
        fail_on_recommended: args.fail_on == FailOn::Recommended,
        baseline: baseline.clone().map(|b| (b, day)),
        on_done: Some(Arc::new(move |s: &ScenarioReport| {
            shown.set_message(format!(
                "{} {}",
                s.status.as_str(),
                metrica_s2s_rules::quote_str(&s.id)
            ));
            shown.inc(1);
        })),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let outcome = runtime.block_on(runner::run(&suite, &partner, &options));
    bar.finish_and_clear();
    let report = match outcome {
        Ok(r) => r,
        Err(e) => {
            // Each report asked for says why nothing was judged; the error goes to stderr.
            let refused = Refused::new(
                PartnerRef {
                    name: partner.name.clone(),
                    file: partner.file.clone(),
                },
                e.to_string(),
            );
            let mut stdout = std::io::stdout().lock();
            for (format, sink) in &reports {
                let text = match format {
                    Format::Html => refused.html(),
                    Format::Json => refused.json(),
                    Format::Junit => refused.junit(),
                    Format::Markdown => refused.markdown(),
                    Format::Github => refused.github(),
                    Format::CodeQuality => refused.codequality(),
                };
                let _ = match sink {
                    Sink::File(path) => std::fs::write(path, text),
                    Sink::Stdout => stdout.write_all(text.as_bytes()),
                };
            }
            if let Some(summary) = step_summary() {
                let _ = append_step_summary(&summary, &refused.markdown());
            }
            return Err(e.into());
        }
    };
    // Every report is attempted and the table printed, whatever fails first.
    let mut unwritten = Vec::new();
    let mut stdout = std::io::stdout().lock();
    for (format, sink) in &reports {
        let text = render(*format, &report);
        let written = match sink {
            Sink::File(path) => std::fs::write(path, text)
                .map_err(|e| format!("cannot write report {}: {e}", path.display())),
            Sink::Stdout => stdout
                .write_all(text.as_bytes())
                .map_err(|e| format!("cannot write the {format:?} report to stdout: {e}")),
        };
        if let Err(e) = written {
            unwritten.push(e);
        }
    }
    if let Some(summary) = step_summary() {
        if let Err(e) = append_step_summary(&summary, &markdown::render(&report)) {
            unwritten.push(format!(
                "cannot append to GITHUB_STEP_SUMMARY {}: {e}",
                summary.display()
            ));
        }
    }
    let _ = write!(stdout, "{}", terminal::render(&report));
    if let Some(path) = &args.write_baseline {
        let written = gate::baseline_of(&report, baseline.as_deref(), day);
        if let Err(e) = std::fs::write(path, written.render()) {
            unwritten.push(format!("cannot write baseline {}: {e}", path.display()));
        }
    }
    if !unwritten.is_empty() {
        bail!("{}", unwritten.join("; "));
    }
    Ok(report.exit_code)
}

fn render(format: Format, report: &RunReport) -> String {
    match format {
        Format::Html => html::render(report),
        Format::Json => json::render(report),
        Format::Junit => junit::render(report),
        Format::Markdown => markdown::render(report),
        Format::Github => github::render(report),
        Format::CodeQuality => codequality::render(report),
    }
}

/// The file GitHub Actions reads a step's summary from, when it names one.
fn step_summary() -> Option<PathBuf> {
    std::env::var_os("GITHUB_STEP_SUMMARY")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// Appends `markdown` to the step summary, cut at a line to keep the file under GitHub's
/// 1 MiB, with a line saying so.
fn append_step_summary(path: &Path, markdown: &str) -> std::io::Result<()> {
    let used = std::fs::metadata(path).map_or(0, |m| m.len() as usize);
    let room = STEP_SUMMARY_MAX.saturating_sub(used + 1);
    let text = if markdown.len() <= room {
        markdown.to_owned()
    } else {
        let note = format!(
            "\n\n_The report was cut here: it is {} KiB, and GitHub keeps at most 1 MiB of a step's summary. The JSON, JUnit or Markdown report has all of it._\n",
            markdown.len() / 1024
        );
        if note.len() > room {
            // Not even room to say so: earlier steps filled the summary.
            return Ok(());
        }
        let keep = room - note.len();
        let cut = markdown[..floor_char_boundary(markdown, keep)]
            .rfind('\n')
            .unwrap_or(0);
        format!("{}{note}", &markdown[..cut])
    };
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(text.as_bytes())
}

fn floor_char_boundary(s: &str, at: usize) -> usize {
    (0..=at.min(s.len()))
        .rev()
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(0)
}

fn parse_report(spec: &str) -> anyhow::Result<(Format, Sink)> {
    let Some((format, path)) = spec.split_once('=') else {
        bail!("--report takes FORMAT=PATH, got {spec:?}");
    };
    let format = match format {
        "json" => Format::Json,
        "junit" => Format::Junit,
        "markdown" => Format::Markdown,
        "html" => Format::Html,
        "github" => Format::Github,
        "codequality" => Format::CodeQuality,
        other => bail!(
            "--report format {other:?} is not one of json, junit, html, markdown, github, codequality"
        ),
    };
    if path.is_empty() {
        bail!("--report {spec:?} names no file");
    }
    if path == "-" {
        return match format {
            Format::Github => Ok((format, Sink::Stdout)),
            _ => bail!("--report {spec:?}: only the github format goes to stdout (-)"),
        };
    }
    let path = PathBuf::from(path);
    writable(&path).with_context(|| {
        format!(
            "--report {spec:?}: cannot write {} (checked before running anything)",
            path.display()
        )
    })?;
    Ok((format, Sink::File(path)))
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

#[cfg(test)]
mod tests {
    use super::append_step_summary;

    #[test]
    fn the_step_summary_stays_under_a_mebibyte_and_says_it_was_cut() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("summary.md");
        std::fs::write(&path, "earlier step\n").expect("write");
        let big = "| a | ✅ passed |\n".repeat(100_000);
        append_step_summary(&path, &big).expect("appended");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.len() < super::STEP_SUMMARY_MAX, "{}", text.len());
        assert!(text.starts_with("earlier step\n"));
        assert!(text.contains("The report was cut here"));
        append_step_summary(&path, &big).expect("a full summary takes no more");
        assert!(std::fs::metadata(&path).expect("meta").len() < super::STEP_SUMMARY_MAX as u64);
    }
}
