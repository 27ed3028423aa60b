//! A local mock of AppMetrica's S2S endpoints.
//!
//! Every request to `/serve/<tracking id>` is judged by the shared rule engine, answered as
//! AppMetrica would (204, or 302 for `noredirect=0`; 400 problem+json in strict mode when a rule
//! of error severity fires), and kept in a bounded, queryable journal. The admin API under
//! `/__admin/` reads the journal, sets faults and postbacks and takes conversions; `/metrics`
//! exposes Prometheus counters.
//!
//! One handle starts a mock, whoever starts it (the binary, the runner, a test):
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use metrica_s2s_mock::{Config, MockServer};
//! let mock = MockServer::start(Config::ephemeral()).await?;
//! let url = format!("{}/serve/1234567890123456789?...", mock.click_url());
//! let arrived = mock.admin().requests(&Default::default()).await?;
//! mock.stop().await?;
//! # Ok(()) }
//! ```
//!
//! The crate's face is that handle ([`MockServer`]), its [`Config`], the typed [`AdminClient`]
//! for a mock running anywhere on loopback, and [`model`]: the data types the admin API
//! speaks.

mod admin;
mod admin_client;
mod clickids;
mod client;
mod config;
mod dashboard;
mod fault;
mod handle;
mod journal;
mod lock;
mod logs_api;
mod metrics;
pub mod model;
mod ndjson;
mod postback;
mod problem;
mod router;
mod server;
mod state;
mod tls;
mod track;
mod trackers;
mod wire;

pub use admin_client::{AdminClient, AdminError};
pub use client::{CaError, Client as HttpClient, ClientError, Response as HttpResponse};
pub use config::{Config, JournalConfig, Limits, PostbackConfig, TlsListen};
pub use handle::{MockServer, StartError, Stopped, Stopper};
pub use tls::{TlsFiles, TlsFilesError};
pub use trackers::{Mode, TrackerFileError, Trackers, TrackersError};
