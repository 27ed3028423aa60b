//! Exit codes, as docs/contract.md fixes them for every command. `conform` adds 3 (nothing
//! failed, but a scenario could not be judged) and 4 (no scenario ran), decided with its
//! verdict (`metrica_s2s_conform::report::Verdict::exit_code`).

/// Success: every input valid, every scenario passed.
pub const SUCCESS: u8 = 0;
/// The inputs broke error-severity rules, or a scenario failed.
pub const FINDINGS: u8 = 1;
/// Usage, configuration or I/O error; a one-line reason goes to stderr. clap uses 2 for
/// usage errors too.
pub const FAILURE: u8 = 2;
