//! The conformance runner: drives a partner's real S2S integration against the mock and
//! judges every request against what it knows really happened in each scenario.
//!
//! [`Suite`] (scenarios and their truth) and [`Partner`] (how to drive the integration) go into
//! [`runner::run`], which returns one [`report::RunReport`]; each module of `report` renders it.
//! A partner getting something wrong is a finding ([`judge`]); the runner failing to run is an
//! error ([`error`]), reported as such and never blamed on the partner.

pub mod baseline;
pub mod driver;
pub mod error;
pub mod gate;
pub mod judge;
mod mock_handle;
pub mod partner;
mod ports;
pub mod postback;
mod process;
pub mod report;
pub mod retry;
pub mod runner;
mod scenario;
pub mod suite;
pub mod truth;

pub use partner::Partner;
pub use suite::Suite;
