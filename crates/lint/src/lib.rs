//! `lint` as a library: judge every line of a log (or a list of URLs) with the rule engine, in
//! input order, in bounded memory, and write it as text for a person or JSON for machines.
//!
//! [`run`] streams: a reader thread fills batches, one worker per core judges them with its
//! own `Validator` (and UA cache), and the caller's thread writes results back in order.

mod batch;
mod ci;
mod json;
mod pipeline;
mod tally;
mod text;

pub use pipeline::{run, Input};
pub use tally::Tally;

use metrica_s2s_rules::{Kind, Settings};

/// How lint's results are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Marked excerpts and a summary, for a person.
    Text,
    /// One JSON object per input line, as docs/contract.md gives it.
    Json,
    /// GitHub workflow commands: an annotation per error and warning, `file=` and `line=`
    /// of the input file; ten of each at most, then a notice of what was left out.
    Github,
    /// A GitLab Code Quality report: a JSON array, an issue per diagnostic.
    CodeQuality,
    /// SARIF 2.1.0: a result per diagnostic, the catalogue's rules with their help.
    Sarif,
}

/// Everything that decides a verdict and its rendering, besides the input.
#[derive(Clone, Debug)]
pub struct Config {
    pub settings: Settings,
    /// Unix seconds the time rules are judged at (an access-log line uses its own time).
    pub now: u64,
    /// The event kind of inputs whose host does not say.
    pub kind: Option<Kind>,
    pub format: Format,
    /// Colour severities (text only); the caller decides from the terminal and environment.
    pub color: bool,
    /// Worker threads.
    pub jobs: usize,
}
