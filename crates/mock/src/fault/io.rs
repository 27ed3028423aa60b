//! A connection the mock can break on purpose: a reset fault makes the next write set
//! `SO_LINGER` to zero and fail, so hyper drops the socket and the kernel sends a RST (a plain
//! close would send a FIN, which clients read as a clean end, the bug WireMock's reset fault
//! once had); a close fault makes it fail without that, so the client sees a FIN and no answer.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::ready;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

const NONE: u8 = 0;
const RESET: u8 = 1;
const CLOSE: u8 = 2;

/// What is to happen to a connection instead of its next answer; shared by the connection's
/// service, which decides, and its socket, which does it.
#[derive(Clone, Debug, Default)]
pub struct ConnectionFault(Arc<AtomicU8>);

impl ConnectionFault {
    pub fn reset(&self) {
        self.0.store(RESET, Ordering::Release);
    }

    pub fn close(&self) {
        self.0.store(CLOSE, Ordering::Release);
    }
}

/// A TCP stream whose writes fail once its connection is to be broken. The stream is shared
/// (see [`ClientSocket`]) so a handler waiting on something else can see its client leave.
#[derive(Debug)]
pub struct FaultIo {
    stream: Arc<TcpStream>,
    fault: ConnectionFault,
}

/// The client's socket, as a request's handler may watch it.
#[derive(Clone, Debug)]
pub struct ClientSocket(pub Arc<TcpStream>);

impl FaultIo {
    pub fn new(stream: TcpStream, fault: ConnectionFault) -> FaultIo {
        FaultIo {
            stream: Arc::new(stream),
            fault,
        }
    }

    pub fn socket(&self) -> ClientSocket {
        ClientSocket(self.stream.clone())
    }

    /// `Err` when the connection is to be broken now.
    fn broken(&self) -> io::Result<()> {
        match self.fault.0.load(Ordering::Acquire) {
            NONE => Ok(()),
            RESET => {
                // Dropped with a zero linger, the socket is aborted: the kernel sends a RST.
                let _ = socket2::SockRef::from(&*self.stream).set_linger(Some(Duration::ZERO));
                Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "reset fault",
                ))
            }
            _ => Err(io::Error::new(io::ErrorKind::BrokenPipe, "close fault")),
        }
    }
}

/// Bytes zeroed for one read at most: requests are far smaller, and a shared stream can only
/// read into initialised memory.
const READ_AT_MOST: usize = 16 * 1024;

impl AsyncRead for FaultIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let stream = &self.stream;
        loop {
            ready!(stream.poll_read_ready(cx))?;
            let room = buf.remaining().min(READ_AT_MOST);
            match stream.try_read(buf.initialize_unfilled_to(room)) {
                Ok(n) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // The readiness was stale and is now cleared: wait for the next.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for FaultIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.broken()?;
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            match self.stream.try_write(buf) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.broken()?;
        loop {
            ready!(self.stream.poll_write_ready(cx))?;
            match self.stream.try_write_vectored(bufs) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                done => return Poll::Ready(done),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A TCP stream has nothing to flush.
        Poll::Ready(self.broken())
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(socket2::SockRef::from(&*self.stream).shutdown(std::net::Shutdown::Write))
    }
}

/// Resolves once the client of `socket` is gone: it closed or shut its side (a FIN), or the
/// connection broke. For handlers that wait on something else (a journal `wait`): hyper reads
/// nothing while a handler runs, so it would not notice by itself.
pub async fn client_left(socket: &TcpStream) {
    loop {
        match socket.ready(Interest::READABLE).await {
            Ok(r) if r.is_read_closed() || r.is_error() => return,
            Ok(_) => {}
            Err(_) => return,
        }
        let mut probe = [std::mem::MaybeUninit::<u8>::uninit(); 1];
        match socket.try_io(Interest::READABLE, || {
            socket2::SockRef::from(socket).peek(&mut probe)
        }) {
            Ok(0) => return,
            // Bytes of a next request (pipelining): look again later.
            Ok(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            // Nothing to read after all: the readiness is cleared; wait for the next.
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}
