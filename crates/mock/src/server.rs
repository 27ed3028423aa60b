//! Serving the router on two listeners with the limits a mock facing partners' traffic needs:
//! a header-read timeout for slow clients, a cap on header size and count (hyper answers 431),
//! a connection cap, and graceful shutdown that lets requests in flight finish.

use crate::fault::{ConnectionFault, FaultIo};
use crate::header_clock::{HeadWait, HeaderClock};
use crate::tls::TlsListener;
use crate::track::{Break, ListenerKind, RemoteAddr};
use crate::SharedState;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use metrica_s2s_rules::Kind;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

/// One connection's service. `/serve/` requests, nearly all of the traffic, are answered
/// directly, without routing or request extensions; everything else goes through the router
/// (admin API, `/metrics`, and the fallback that answers unknown paths).
#[derive(Clone, Debug)]
struct Connection {
    state: SharedState,
    router: axum::Router,
    kind: Kind,
    peer: SocketAddr,
    /// The header-read timeout's view of this connection.
    wait: Arc<HeadWait>,
    /// Set by a reset or close fault; the socket then breaks instead of answering.
    fault: ConnectionFault,
}

impl hyper::service::Service<Request<Incoming>> for Connection {
    type Response = axum::response::Response;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, req: Request<Incoming>) -> Answer {
        // hyper calls with a whole head in hand: the wait for one is over until the answer.
        self.wait.busy();
        if req.uri().path().starts_with("/serve/") {
            let (parts, _body) = req.into_parts();
            let answered = crate::track::answer(&self.state, self.kind, Some(self.peer), &parts);
            match answered.then {
                None => {}
                Some(Break::Reset) => self.fault.reset(),
                Some(Break::Close) => self.fault.close(),
                Some(Break::Delay(d)) => {
                    let response = answered.response;
                    return Answer::Routed(
                        Box::pin(async move {
                            tokio::time::sleep(d).await;
                            Ok(response)
                        }),
                        self.wait.clone(),
                    );
                }
            }
            self.wait.waiting();
            return Answer::Ready(Some(answered.response));
        }
        if req
            .headers()
            .get_all(axum::http::header::HOST)
            .iter()
            .nth(1)
            .is_some()
        {
            self.wait.waiting();
            return Answer::Ready(Some(crate::track::duplicate_host()));
        }
        let mut req = req;
        req.extensions_mut().insert(ListenerKind(self.kind));
        req.extensions_mut().insert(RemoteAddr(self.peer));
        Answer::Routed(
            Box::pin(self.router.clone().oneshot(req)),
            self.wait.clone(),
        )
    }
}

type Routed = Pin<Box<dyn Future<Output = Result<axum::response::Response, Infallible>> + Send>>;

/// Either an answer already made, or the router's future and the connection's wait, which
/// begins again once the answer's body is written out (see [`AnswerBody`]).
enum Answer {
    Ready(Option<axum::response::Response>),
    Routed(Routed, Arc<HeadWait>),
}

impl Future for Answer {
    type Output = Result<axum::response::Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            Answer::Ready(r) => match r.take() {
                Some(r) => Poll::Ready(Ok(r)),
                // Polled again after completion: never done by hyper.
                None => Poll::Pending,
            },
            Answer::Routed(f, wait) => f.as_mut().poll(cx).map_ok(|response| {
                response.map(|body| {
                    axum::body::Body::new(AnswerBody {
                        body,
                        wait: wait.clone(),
                    })
                })
            }),
        }
    }
}

/// A routed answer's body. hyper drops it once it has taken the last bytes (or gives up on
/// them), and only then does the wait for the next head begin: a client slowly reading a large
/// journal page is not cut off as if it were slow to send a head.
struct AnswerBody {
    body: axum::body::Body,
    wait: Arc<HeadWait>,
}

impl hyper::body::Body for AnswerBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}

impl Drop for AnswerBody {
    fn drop(&mut self) {
        self.wait.waiting();
    }
}

#[derive(Debug)]
pub struct Listeners {
    pub click: TcpListener,
    pub impression: TcpListener,
    /// HTTPS listeners, each serving both hosts (by SNI and Host).
    pub tls: Vec<TlsListener>,
}

impl Listeners {
    /// The two plain listeners, no HTTPS.
    pub fn plain(click: TcpListener, impression: TcpListener) -> Listeners {
        Listeners {
            click,
            impression,
            tls: Vec::new(),
        }
    }
}

/// How a listener's connections speak.
#[derive(Clone)]
enum Transport {
    Plain,
    Tls(tokio_rustls::TlsAcceptor),
}

#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Connections open at once; beyond it, new ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// A client must send its whole request head within this time of connecting or of its
    /// previous answer (kept by the `header_clock` module, up to an eighth late).
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

/// Serves until `shutdown` resolves, then stops accepting, lets requests in flight finish
/// (within the grace period), ends postback retries and closes the journal and postback files.
pub async fn serve(
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
    // Open event streams end, so they do not hold the shutdown for its grace period.
    state.closing.cancel();
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
    let postbacks = state.postbacks.shutdown(limits.shutdown_grace).await;
    let journal = state.journal.close(limits.shutdown_grace);
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
    let router = crate::router(s.state.clone(), loopback, own.map(|a| a.port()));
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
        let fault = ConnectionFault::default();
        let io = FaultIo::new(stream, fault.clone());
        let svc = Connection {
            state: s.state.clone(),
            router: router.clone(),
            kind,
            peer,
            wait: wait.clone(),
            fault,
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn a_routed_answer_restarts_the_wait_only_once_its_body_is_taken() {
        let clock = HeaderClock::new(Duration::from_secs(1));
        let wait = clock.connection();
        wait.busy();
        let routed: Routed = Box::pin(async {
            Ok(axum::response::Response::new(axum::body::Body::from(
                "a journal page",
            )))
        });
        let response = Answer::Routed(routed, wait.clone())
            .await
            .expect("infallible");
        assert!(!wait.is_waiting(), "made, but not yet written out");
        let body = response.into_body().collect().await.expect("body");
        assert_eq!(&body.to_bytes()[..], b"a journal page");
        assert!(
            wait.is_waiting(),
            "the body is taken: the next head is awaited"
        );
    }
}
