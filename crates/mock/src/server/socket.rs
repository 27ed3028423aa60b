//! The socket every plain and TLS connection is served over. It does two things hyper's own
//! TCP stream does not:
//!
//! - it tells hyper a client's end of input one read late, so a client that hung up is noticed
//!   while its answer is pending, yet one that only half-closed still gets answers made at once
//!   (see [`Socket`]);
//! - it breaks on purpose for faults: a reset fault makes the next write set `SO_LINGER` to
//!   zero and fail, so hyper drops the socket and the kernel sends a RST (a plain close would
//!   send a FIN, which clients read as a clean end, the bug WireMock's reset fault once had);
//!   a close fault makes it fail without that, so the client sees a FIN and no answer.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

const NONE: u8 = 0;
const RESET: u8 = 1;
const CLOSE: u8 = 2;

/// What is to happen to a connection instead of its next answer; shared by the connection's
/// service, which decides, and its socket, which does it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Breaker(Arc<AtomicU8>);

impl Breaker {
    pub(crate) fn reset(&self) {
        self.0.store(RESET, Ordering::Release);
    }

    pub(crate) fn close(&self) {
        self.0.store(CLOSE, Ordering::Release);
    }
}

/// A TCP stream whose writes fail once its connection is to be broken, and whose end of input
/// (the client's FIN) is told on the second read that finds it, not the first.
///
/// hyper notices a client that hung up while its answer is pending (a journal `wait`, a delay
/// fault) only by reading the EOF, which it does without half-close; it then drops the handler
/// at once instead of keeping its socket and task until the answer's timeout. Told at the first
/// read, the EOF would also end a half-closed client (`nc -N`, some proxies) before hyper
/// wrote the answer it already has: deferred by one read, hyper writes every answer made at
/// once (every click's) first.
#[derive(Debug)]
pub(crate) struct Socket {
    stream: TcpStream,
    breaker: Breaker,
    /// The EOF was found once and deferred.
    eof_deferred: bool,
}

impl Socket {
    pub(crate) fn new(stream: TcpStream, breaker: Breaker) -> Socket {
        Socket {
            stream,
            breaker,
            eof_deferred: false,
        }
    }

    /// `Err` when the connection is to be broken now.
    fn broken(&self) -> io::Result<()> {
        match self.breaker.0.load(Ordering::Acquire) {
            NONE => Ok(()),
            RESET => {
                // Dropped with a zero linger, the socket is aborted: the kernel sends a RST.
                let _ = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
                Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "reset fault",
                ))
            }
            _ => Err(io::Error::new(io::ErrorKind::BrokenPipe, "close fault")),
        }
    }
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        let before = buf.filled().len();
        let read = Pin::new(&mut me.stream).poll_read(cx, buf);
        let eof = matches!(read, Poll::Ready(Ok(()))) && buf.filled().len() == before;
        if eof && buf.remaining() > 0 && !me.eof_deferred {
            me.eof_deferred = true;
            // Polled again at once: hyper writes what it can in between.
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        read
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        if let Err(e) = me.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut me.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let me = self.get_mut();
        if let Err(e) = me.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut me.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = self.get_mut();
        if let Err(e) = me.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut me.stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
