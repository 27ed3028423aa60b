//! Serving the router on the mock's listeners with the limits a mock facing partners' traffic
//! needs: a header-read timeout for slow clients, a cap on header size and count (hyper answers
//! 431), a connection cap, and graceful shutdown that lets requests in flight finish.

mod connection;
mod header_clock;
mod socket;

use crate::config::Limits;
use crate::state::SharedState;
use crate::tls::TlsListener;
use connection::Connection;
use header_clock::HeaderClock;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use metrica_s2s_rules::Kind;
use socket::{Breaker, Socket};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The sockets one mock serves on, bound by its handle.
#[derive(Debug)]
pub(crate) struct Listeners {
    pub(crate) click: TcpListener,
    pub(crate) impression: TcpListener,
    /// HTTPS listeners, each serving both hosts (by SNI and Host).
    pub(crate) tls: Vec<TlsListener>,
}

/// How a listener's connections speak.
#[derive(Clone)]
enum Transport {
    Plain,
    Tls(tokio_rustls::TlsAcceptor),
}

/// Serves until `shutdown` resolves, then stops accepting, lets requests in flight finish
/// (within the grace period), ends postback retries and closes the journal and postback files.
pub(crate) async fn serve(
    listeners: Listeners,
    state: SharedState,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let clock = HeaderClock::new(limits.header_read_timeout);
    let shared = Shared {
        state: &state,
        limits,
        graceful: &graceful,
        permits: &permits,
        clock: &clock,
    };
    let tls = futures_util::future::join_all(listeners.tls.into_iter().map(|t| {
        let acceptor = tokio_rustls::TlsAcceptor::from(t.config);
        accept_loop(t.listener, t.kind, Transport::Tls(acceptor), &shared)
    }));
    let accept = async {
        tokio::join!(
            accept_loop(listeners.click, Kind::Click, Transport::Plain, &shared),
            accept_loop(
                listeners.impression,
                Kind::Impression,
                Transport::Plain,
                &shared,
            ),
            tls,
        )
    };
    tokio::select! {
        _ = accept => {}
        () = shutdown => {}
        () = clock.watch() => {}
    }
    // Open event streams and waits end, so they do not hold the shutdown for its grace period.
    state.begin_closing();
    // Slow clients are still cut off while requests in flight finish.
    let drained = async {
        tokio::select! {
            () = graceful.shutdown() => {}
            () = clock.watch() => {}
        }
    };
    if tokio::time::timeout(limits.shutdown_grace, drained)
        .await
        .is_err()
    {
        tracing::warn!(grace = ?limits.shutdown_grace, "connections still open after the grace period were closed");
    }
    let postbacks = state.postbacks().shutdown(limits.shutdown_grace).await;
    let journal = state.journal().close(limits.shutdown_grace);
    postbacks.and(journal)
}

/// What every accept loop shares.
struct Shared<'a> {
    state: &'a SharedState,
    limits: Limits,
    graceful: &'a GracefulShutdown,
    permits: &'a Arc<Semaphore>,
    clock: &'a HeaderClock,
}

async fn accept_loop(listener: TcpListener, kind: Kind, transport: Transport, s: &Shared<'_>) {
    let own = listener.local_addr().ok();
    let loopback = own.is_some_and(|a| a.ip().is_loopback());
    let router = crate::router::router(s.state.clone(), loopback, own.map(|a| a.port()));
    let limits = s.limits;
    loop {
        let Ok(permit) = s.permits.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: say so, back off briefly, go on.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let wait = s.clock.connection();
        let breaker = Breaker::default();
        let io = Socket::new(stream, breaker.clone());
        let svc = Connection {
            state: s.state.clone(),
            router: router.clone(),
            kind,
            peer,
            wait: wait.clone(),
            breaker,
        };
        let state = s.state.clone();
        match &transport {
            Transport::Plain => {
                let conn = http1_builder(limits).serve_connection(TokioIo::new(io), svc);
                let conn = s.graceful.watch(conn);
                tokio::spawn(async move {
                    tokio::select! {
                        biased;
                        ended = conn => {
                            if let Err(e) = ended {
                                tracing::debug!(error = %e, %peer, "connection ended with an error");
                            }
                        }
                        () = wait.expired() => {
                            tracing::debug!(%peer, "no whole request head within the header-read timeout: connection closed");
                        }
                        () = async { state.closing().await; wait.only_streams_left().await } => {
                            tracing::debug!(%peer, "only event streams left at shutdown: connection closed");
                        }
                    }
                    drop(permit);
                });
            }
            Transport::Tls(acceptor) => {
                let (acceptor, watcher) = (acceptor.clone(), s.graceful.watcher());
                tokio::spawn(async move {
                    // A handshake, like a request head, must arrive within the timeout.
                    let handshake =
                        tokio::time::timeout(limits.header_read_timeout, acceptor.accept(io));
                    let tls = match handshake.await {
                        Ok(Ok(tls)) => tls,
                        Ok(Err(e)) => {
                            tracing::debug!(error = %e, %peer, "TLS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%peer, "no TLS handshake within the header-read timeout: connection closed");
                            return;
                        }
                    };
                    let svc = Connection {
                        kind: crate::tls::sni_kind(tls.get_ref().1.server_name()).unwrap_or(kind),
                        ..svc
                    };
                    let mut builder = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    );
                    builder
                        .http1()
                        .header_read_timeout(None)
                        .half_close(false)
                        .max_buf_size(limits.max_head_bytes.max(8192));
                    builder.http2().max_header_list_size(
                        u32::try_from(limits.max_head_bytes).unwrap_or(u32::MAX),
                    );
                    let conn = builder.serve_connection(TokioIo::new(tls), svc);
                    let conn = watcher.watch(conn);
                    tokio::select! {
                        biased;
                        ended = conn => {
                            if let Err(e) = ended {
                                tracing::debug!(error = %e, %peer, "TLS connection ended with an error");
                            }
                        }
                        () = wait.expired() => {
                            tracing::debug!(%peer, "no whole request within the header-read timeout: TLS connection closed");
                        }
                        () = async { state.closing().await; wait.only_streams_left().await } => {
                            tracing::debug!(%peer, "only event streams left at shutdown: TLS connection closed");
                        }
                    }
                    drop(permit);
                });
            }
        }
    }
}

fn http1_builder(limits: Limits) -> hyper::server::conn::http1::Builder {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        // The header clock keeps this timeout (see `header_clock`), not hyper's timer.
        .header_read_timeout(None)
        // No half-close: hyper reads the EOF of a client that hung up while its answer is
        // pending and drops the handler at once. A client that shuts its write side after a
        // request (`nc -N`) still gets an answer made at once: see `FaultIo`.
        .half_close(false)
        .max_header_size(limits.max_head_bytes)
        .max_buf_size(limits.max_head_bytes.max(8192));
    builder
}
