//! What a mock is started with. `Config::default()` is what `metrica-s2s serve` runs with when
//! given no flags, so the binary, the runner and the tests read every default from here.

use crate::trackers::{Mode, Trackers};
use metrica_s2s_rules::Kind;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything a mock needs to start. Listen addresses may have port 0: the bound addresses
/// are on the [`crate::MockServer`] handle.
#[derive(Clone, Debug)]
pub struct Config {
    pub click_listen: SocketAddr,
    pub impression_listen: SocketAddr,
    /// HTTPS listeners, each serving both hosts by SNI and Host; `kind` is what a request is
    /// when neither names a real host (`localhost`).
    pub tls: Vec<TlsListen>,
    /// Where the local CA and the certificate live; the platform's data directory when absent.
    pub tls_dir: Option<PathBuf>,
    pub mode: Mode,
    pub trackers: Trackers,
    pub journal: JournalConfig,
    /// Click ids remembered for `click-id-duplicate`; beyond it the oldest are forgotten early.
    pub click_id_capacity: usize,
    pub postbacks: PostbackConfig,
    /// Seed for fault probabilities: the same requests in the same order are faulted alike.
    pub seed: Option<u64>,
    /// With a token, the admin API and `/metrics` answer on every listener, to it only.
    pub admin_token: Option<String>,
    pub limits: Limits,
}

/// An HTTPS listener to open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TlsListen {
    pub addr: SocketAddr,
    pub kind: Kind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalConfig {
    /// Entries kept in memory; the oldest are dropped first, and counted.
    pub capacity: usize,
    /// Bytes the kept entries' texts may take.
    pub max_bytes: usize,
    /// Also append every entry to this file as one JSON line.
    pub file: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct PostbackConfig {
    /// Every retry delay and attribution window is divided by this (tests cannot wait days).
    pub time_scale: f64,
    /// Deliveries waiting for an attempt or a retry at once; beyond it new ones are dropped.
    pub queue_capacity: usize,
    /// Also append every delivery change to this file as one JSON line.
    pub file: Option<PathBuf>,
    /// Also trust the CA certificates in this PEM file for https postback URLs.
    pub extra_ca: Option<PathBuf>,
}

/// What the listeners allow a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once; beyond it, new ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// A client must send a whole request head within this time of connecting or of its
    /// previous answer; a request being answered is never cut.
    pub header_read_timeout: Duration,
    /// Largest request head (line and headers) read; beyond it hyper answers 431.
    pub max_head_bytes: usize,
    /// How long shutdown waits for requests in flight.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(10),
            max_head_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(5),
        }
    }
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            capacity: 10_000,
            max_bytes: crate::journal::DEFAULT_MAX_BYTES,
            file: None,
        }
    }
}

impl Default for PostbackConfig {
    fn default() -> Self {
        let options = crate::postback::PostbackOptions::default();
        PostbackConfig {
            time_scale: options.time_scale,
            queue_capacity: options.queue_capacity,
            file: None,
            extra_ca: None,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            click_listen: loopback(18080),
            impression_listen: loopback(18081),
            tls: Vec::new(),
            tls_dir: None,
            mode: Mode::Strict,
            trackers: Trackers::default(),
            journal: JournalConfig::default(),
            click_id_capacity: crate::clickids::DEFAULT_CAPACITY,
            postbacks: PostbackConfig::default(),
            seed: None,
            admin_token: None,
            limits: Limits::default(),
        }
    }
}

impl Config {
    /// The defaults on free loopback ports: what tests and the runner start.
    pub fn ephemeral() -> Config {
        Config {
            click_listen: loopback(0),
            impression_listen: loopback(0),
            ..Config::default()
        }
    }

    /// Click ids remembered at most (the memory's hash slots are 32-bit places).
    pub const MAX_CLICK_ID_CAPACITY: usize = crate::clickids::MAX_CAPACITY;
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}
