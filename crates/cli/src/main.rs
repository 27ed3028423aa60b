//! `metrica-s2s`: flags in, exit codes out. The work lives in the library crates.

mod ca;
mod conform;
mod exit;
mod explain;
mod lint;
mod serve;
mod signals;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// mimalloc: lint and the mock allocate a few short-lived strings per request (decoded values,
/// diagnostics), which it serves from thread-local pages faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Mock, linter and conformance runner for AppMetrica server-to-server tracking.
#[derive(Debug, Parser)]
#[command(name = "metrica-s2s", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check tracking URLs, request targets, request lines or access logs against the rules.
    Lint(lint::LintArgs),
    /// Run the mock AppMetrica S2S endpoints: judge, answer like AppMetrica, keep a journal.
    Serve(Box<serve::ServeArgs>),
    /// Drive a partner's integration against the mock and report pass/fail per scenario.
    Conform(conform::ConformArgs),
    /// Explain a diagnostic code: what triggers it, why it matters, a bad and a fixed example.
    Explain(explain::ExplainArgs),
    /// Print the local CA certificate's path (making it if missing) and how to trust it.
    Ca(ca::CaArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Lint(args) => lint::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Serve(args) => serve::run(*args),
        Command::Conform(args) => conform::run(args),
        Command::Ca(args) => ca::run(args),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {}", one_line(&err));
            ExitCode::from(exit::FAILURE)
        }
    }
}

/// The error and its causes on one line, as docs/contract.md promises scripts reading stderr.
/// A cause whose text its error already quotes (`cannot read x: No such file or directory`
/// over `No such file or directory`) is said once.
fn one_line(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain().map(ToString::to_string) {
        if text.contains(&cause) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&cause);
    }
    text.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn a_cause_its_error_already_quotes_is_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let err = anyhow::Error::new(io).context("cannot read p.toml: No such file or directory");
        assert_eq!(
            one_line(&err),
            "cannot read p.toml: No such file or directory"
        );
        let err = anyhow::anyhow!("the disk\nis full").context("cannot write r.json");
        assert_eq!(one_line(&err), "cannot write r.json: the disk is full");
    }
}
