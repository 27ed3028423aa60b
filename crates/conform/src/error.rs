//! What can go wrong with a run itself, as opposed to what the partner got wrong (those are
//! findings, in `judge.rs`).

/// The run could not start: a configuration or environment problem, exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("--only names scenarios the suite does not have: {0}")]
    UnknownScenarios(String),
    #[error("cannot start the embedded mock: {0}")]
    Mock(metrica_s2s_mock::StartError),
    #[error("the running mock at {url} did not answer its health check: {reason}")]
    RemoteMock { url: String, reason: String },
    #[error("--only names postback scenario {0:?}, but the partner file has no [postback] table saying where its receiver is")]
    NoReceiver(String),
}

/// Why the runner could not judge a scenario. Never blamed on the partner: the scenario's
/// status is `error`, and the rest of the run goes on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error("the mock's journal could not be read: {0}")]
    MockUnreadable(String),
    #[error("the driver could not be started: {0}")]
    DriverStart(String),
    #[error("the partner's server could not be started: {0}")]
    PartnerServer(String),
    #[error("the scenario's task panicked: {0}")]
    Panicked(String),
    #[error("the postback could not be set up: {0}")]
    Postback(String),
    #[error("the scenario's fault could not be set: {0}")]
    Fault(String),
}
