//! The one way a mock is started: [`MockServer::start`] binds its listeners (port 0 allowed),
//! opens its files, and serves until [`MockServer::stop`] or until the handle is dropped. The
//! binary, the conformance runner and every test start it so; nothing else knows how
//! listeners, state and the accept loops fit together.

use crate::admin_client::AdminClient;
use crate::client::{CaError, Client};
use crate::config::{Config, TlsListen};
use crate::journal::Journal;
use crate::postback::{PostbackOptions, Postbacks};
use crate::server::{serve, Listeners};
use crate::state::{Parts, SharedState, State};
use crate::tls::{server_config, TlsFiles, TlsFilesError, TlsListener};
use metrica_s2s_rules::Kind;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Why a mock could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr} for {what}: {reason}")]
    Bind {
        what: &'static str,
        addr: SocketAddr,
        reason: std::io::Error,
    },
    #[error("cannot open journal file {path}: {reason}")]
    JournalFile {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("cannot open postbacks file {path}: {reason}")]
    PostbacksFile {
        path: PathBuf,
        reason: std::io::Error,
    },
    #[error("{0}")]
    PostbackCa(CaError),
    #[error("{0}")]
    TlsFiles(TlsFilesError),
    #[error("cannot serve https: {0}")]
    Tls(String),
}

/// A running mock. Dropping it begins a graceful stop; [`MockServer::stop`] also waits for it,
/// so the journal and postbacks files are complete when it returns.
#[derive(Debug)]
pub struct MockServer {
    click: SocketAddr,
    impression: SocketAddr,
    tls: Vec<(Kind, SocketAddr)>,
    ca_cert: Option<PathBuf>,
    admin_token: Option<String>,
    state: SharedState,
    stop: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// What a stopped mock had seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stopped {
    /// Requests journaled over the mock's life.
    pub journaled: u64,
    /// Of those, entries the journal let go of because it was full.
    pub dropped: u64,
}

/// Completes a mock's files at once, whatever its connections are doing: for a second signal,
/// when waiting for the graceful stop is no longer wanted.
#[derive(Clone, Debug)]
pub struct Stopper {
    state: SharedState,
}

impl Stopper {
    /// Flushes and closes the journal and postbacks files, waiting at most `within` for each.
    pub fn close_files(&self, within: Duration) -> std::io::Result<()> {
        let postbacks = self.state.postbacks().deliveries().close(within);
        self.state.journal().close(within).and(postbacks)
    }
}

impl MockServer {
    /// Binds every listener `config` names, opens its files and starts serving on the
    /// current tokio runtime.
    pub async fn start(config: Config) -> Result<MockServer, StartError> {
        let tls_config = match config.tls.is_empty() {
            true => None,
            false => Some(tls_setup(config.tls_dir.as_deref())?),
        };
        let click = bind(config.click_listen, "clicks").await?;
        let impression = bind(config.impression_listen, "impressions").await?;
        let mut tls = Vec::new();
        if let Some((server, _)) = &tls_config {
            for TlsListen { addr, kind } in &config.tls {
                tls.push(TlsListener {
                    listener: bind(*addr, "HTTPS").await?,
                    kind: *kind,
                    config: server.clone(),
                });
            }
        }
        let addr = |l: &TcpListener, what| {
            l.local_addr().map_err(|reason| StartError::Bind {
                what,
                addr: config.click_listen,
                reason,
            })
        };
        let (click_addr, impression_addr) =
            (addr(&click, "clicks")?, addr(&impression, "impressions")?);
        let tls_addrs = tls
            .iter()
            .map(|t| Ok((t.kind, addr(&t.listener, "HTTPS")?)))
            .collect::<Result<Vec<_>, StartError>>()?;
        let state = Arc::new(state(&config)?);
        let stop = CancellationToken::new();
        let task = tokio::spawn(serve(
            Listeners {
                click,
                impression,
                tls,
            },
            state.clone(),
            config.limits,
            stop.clone().cancelled_owned(),
        ));
        Ok(MockServer {
            click: click_addr,
            impression: impression_addr,
            tls: tls_addrs,
            ca_cert: tls_config.map(|(_, ca)| ca),
            admin_token: config.admin_token.clone().filter(|t| !t.is_empty()),
            state,
            stop,
            task: Some(task),
        })
    }

    /// The click listener's bound address (AppMetrica's `redirect.` host).
    pub fn click_addr(&self) -> SocketAddr {
        self.click
    }

    /// The impression listener's bound address (AppMetrica's `impression.` host).
    pub fn impression_addr(&self) -> SocketAddr {
        self.impression
    }

    /// `http://<click address>`: append `/serve/<tracking id>?...`.
    pub fn click_url(&self) -> String {
        format!("http://{}", self.click)
    }

    /// `http://<impression address>`.
    pub fn impression_url(&self) -> String {
        format!("http://{}", self.impression)
    }

    /// The HTTPS listeners' bound addresses, each with the kind it was opened for.
    pub fn tls_addrs(&self) -> &[(Kind, SocketAddr)] {
        &self.tls
    }

    /// The local CA's certificate clients of the HTTPS listeners must trust.
    pub fn ca_cert(&self) -> Option<&Path> {
        self.ca_cert.as_deref()
    }

    /// A typed client of this mock's admin API, on its click listener (with its token).
    pub fn admin(&self) -> AdminClient {
        let admin = AdminClient::new(&self.click_url());
        match &self.admin_token {
            Some(t) => admin.with_token(t),
            None => admin,
        }
    }

    /// A handle that completes the files at once, for a second signal during [`MockServer::stop`].
    pub fn stopper(&self) -> Stopper {
        Stopper {
            state: self.state.clone(),
        }
    }

    /// Stops accepting, lets requests in flight finish (within the grace period), ends postback
    /// retries and completes the files; an error says a file could not be completed.
    pub async fn stop(mut self) -> std::io::Result<Stopped> {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            task.await.map_err(std::io::Error::other)??;
        }
        let journal = self.state.journal();
        Ok(Stopped {
            journaled: journal.next_seq().saturating_sub(1),
            dropped: journal.dropped(),
        })
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn bind(addr: SocketAddr, what: &'static str) -> Result<TcpListener, StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|reason| StartError::Bind { what, addr, reason })
}

/// The rustls configuration of the HTTPS listeners, and the CA certificate's path.
fn tls_setup(dir: Option<&Path>) -> Result<(Arc<rustls::ServerConfig>, PathBuf), StartError> {
    let files = TlsFiles::at(dir).map_err(StartError::TlsFiles)?;
    let served = files.ensure().map_err(StartError::TlsFiles)?;
    let config = server_config(&served).map_err(StartError::Tls)?;
    Ok((config, files.ca_cert()))
}

fn state(config: &Config) -> Result<State, StartError> {
    let j = &config.journal;
    let mut journal = Journal::bounded(j.capacity, j.max_bytes);
    if let Some(path) = &j.file {
        journal = journal
            .with_file(path)
            .map_err(|reason| StartError::JournalFile {
                path: path.clone(),
                reason,
            })?;
    }
    let p = &config.postbacks;
    let client = match &p.extra_ca {
        Some(path) => Client::with_extra_ca(path).map_err(StartError::PostbackCa)?,
        None => Client::new(),
    };
    let options = PostbackOptions {
        time_scale: p.time_scale,
        queue_capacity: p.queue_capacity,
        ..PostbackOptions::default()
    };
    let mut postbacks = Postbacks::new(options, client);
    if let Some(path) = &p.file {
        postbacks = postbacks
            .with_file(path)
            .map_err(|reason| StartError::PostbacksFile {
                path: path.clone(),
                reason,
            })?;
    }
    let parts = Parts {
        mode: config.mode,
        trackers: config.trackers.clone(),
        click_id_capacity: config.click_id_capacity,
        seed: config.seed,
        admin_token: config.admin_token.clone(),
    };
    Ok(State::new(parts, journal, postbacks))
}
