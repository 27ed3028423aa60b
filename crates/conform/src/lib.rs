//! The conformance runner: drives a partner's real S2S integration against the mock and
//! judges every request against what it knows really happened in each scenario.
//!
//! [`Suite`] (scenarios and their truth) and [`Partner`] (how to drive the integration) go into
//! [`runner::run`], which returns one [`report::RunReport`]; each module of `report` renders it.

pub mod checks;
pub mod click;
pub mod driver;
pub mod http;
mod mock_handle;
pub mod partner;
pub mod report;
pub mod runner;
pub mod suite;

pub use partner::Partner;
pub use suite::Suite;
