//! The interface every driver offers the runner.

use crate::error::{RunError, ScenarioError};
use crate::judge::Finding;
use crate::suite::Scenario;
use crate::truth::Truth;
use std::future::Future;
use std::pin::Pin;

/// The mock's base URLs the partner is told to use.
#[derive(Clone, Debug)]
pub struct Endpoints {
    pub click_base: String,
    pub impression_base: String,
    /// The CA certificate the partner must trust when the bases are https (`[mock] tls`).
    pub ca_file: Option<std::path::PathBuf>,
}

/// What a driver hands the partner, so the runner never blames a partner for a value it was
/// not given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Supplies {
    /// The device's advertising ids (the http driver passes them only when its URL templates
    /// ask for `{google_aid}` / `{ios_ifa}`).
    pub ad_ids: bool,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One scenario's event, as the driver is asked to make it happen.
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    pub scenario: &'a Scenario,
    pub truth: &'a Truth,
    pub endpoints: &'a Endpoints,
}

pub trait Driver: Send + Sync {
    /// Once per run, before any scenario: starts what the driver needs (the partner's
    /// server). An error here is a configuration error: the run stops, nothing is judged.
    fn prepare<'a>(&'a mut self, endpoints: &'a Endpoints) -> BoxFuture<'a, Result<(), RunError>>;

    /// Makes the partner's integration report `event`. Findings are the partner's failures
    /// (`driver-failed`, `redirect-not-direct`, ...); an error is the runner's own failure to
    /// drive, and makes the scenario `error`.
    fn trigger<'a>(
        &'a self,
        event: Event<'a>,
    ) -> BoxFuture<'a, Result<Vec<Finding>, ScenarioError>>;

    fn supplies(&self) -> Supplies;

    /// After the last scenario: stops what `prepare` started.
    fn finish(&mut self) -> BoxFuture<'_, ()>;
}
