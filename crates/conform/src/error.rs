//! What can go wrong with a run itself, as opposed to what the partner got wrong (those are
//! findings, in `judge.rs`).

use std::net::SocketAddr;

/// The run could not be made as configured: a usage or configuration error, exit code 2,
/// found before anything is blamed on the partner.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("--only names scenarios the suite does not have: {0}")]
    UnknownScenarios(String),
    #[error("cannot start the embedded mock: {0}")]
    Mock(metrica_s2s_mock::StartError),
    #[error("the running mock at {url} did not answer its health check: {reason}")]
    RemoteMock { url: String, reason: String },
    #[error("{what}'s port {addr} is already taken{}, before the runner started `{command}`: stop that process, or give {what} a free port", holder.as_deref().map(|h| format!(" by {h}")).unwrap_or_default())]
    PortTaken {
        what: &'static str,
        addr: SocketAddr,
        command: String,
        holder: Option<String>,
    },
    #[error("{0}")]
    PartnerServer(String),
    #[error("the partner's command `{command}` was not found (the shell exited 127 on its first run{}): check the command and that its interpreter is installed", if stderr.is_empty() { String::new() } else { format!(": {}", metrica_s2s_rules::quote_str(stderr)) })]
    CommandNotFound { command: String, stderr: String },
}

/// Why the runner could not judge a scenario. Never blamed on the partner: the scenario's
/// status is `error`, and the rest of the run goes on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error("the mock's journal could not be read: {0}")]
    MockUnreadable(String),
    #[error("the driver could not be started: {0}")]
    DriverStart(String),
    #[error("the scenario's task panicked: {0}")]
    Panicked(String),
    #[error("the postback could not be set up: {0}")]
    Postback(String),
    #[error("the scenario's fault could not be set: {0}")]
    Fault(String),
    /// Not the scenario's: the whole run is a configuration error (see [`RunError`]).
    #[error("the partner's command `{command}` was not found")]
    CommandNotFound { command: String, stderr: String },
}

impl ScenarioError {
    /// The run-wide configuration error this is, if it is one.
    pub fn configuration(&self) -> Option<RunError> {
        match self {
            ScenarioError::CommandNotFound { command, stderr } => Some(RunError::CommandNotFound {
                command: command.clone(),
                stderr: stderr.clone(),
            }),
            _ => None,
        }
    }
}
