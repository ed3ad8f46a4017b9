//! A TCP listener that caps the connections open at once and closes idle ones, so that one
//! client cannot starve the API by opening (and then sitting on) many connections.
//!
//! `axum::serve` has no such limit of its own. Each accepted connection holds one permit until it
//! closes; with every permit taken, the listener stops accepting and new connections wait in the
//! kernel's backlog until one closes. A connection on which nothing is read or written for the
//! idle timeout is closed, so idle keep-alive connections (or a client that opens a connection
//! and sends nothing) give their permit back. One client address may hold at most
//! `max_per_client` of them: a connection beyond that is closed as soon as it is accepted, so
//! one address cannot take every place.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

/// A [`TcpListener`] with a cap on open connections and an idle timeout per connection.
#[derive(Debug)]
pub struct LimitedListener {
    inner: TcpListener,
    permits: Arc<Semaphore>,
    idle_timeout: Duration,
    max_per_client: usize,
    per_client: PerClient,
}

/// Open connections per client address.
type PerClient = Arc<Mutex<HashMap<IpAddr, usize>>>;

/// One connection counted for its client address; uncounted when dropped.
#[derive(Debug)]
struct ClientSlot {
    client: IpAddr,
    per_client: PerClient,
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        if let Ok(mut open) = self.per_client.lock()
            && let Some(n) = open.get_mut(&self.client)
        {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.client);
            }
        }
    }
}

impl LimitedListener {
    /// At most `max_connections` (at least 1) open at once; each closed after `idle_timeout`
    /// without traffic.
    pub fn new(inner: TcpListener, max_connections: usize, idle_timeout: Duration) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(
                max_connections.clamp(1, Semaphore::MAX_PERMITS),
            )),
            idle_timeout,
            max_per_client: usize::MAX,
            per_client: PerClient::default(),
        }
    }

    /// At most `max` (at least 1) connections open at once from one client address.
    #[must_use]
    pub fn with_max_per_client(mut self, max: usize) -> Self {
        self.max_per_client = max.max(1);
        self
    }

    /// Counts a new connection from `client`; `None` when that client already has its most.
    fn admit(&self, client: IpAddr) -> Option<ClientSlot> {
        let mut open = self.per_client.lock().ok()?;
        let n = open.entry(client).or_default();
        if *n >= self.max_per_client {
            return None;
        }
        *n += 1;
        Some(ClientSlot {
            client,
            per_client: Arc::clone(&self.per_client),
        })
    }
}

impl Listener for LimitedListener {
    type Io = LimitedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // The semaphore is never closed, so acquiring only waits.
        let permit = loop {
            if let Ok(permit) = Arc::clone(&self.permits).acquire_owned().await {
                break permit;
            }
        };
        // TcpListener's own `accept` logs and retries on errors.
        let (stream, addr, slot) = loop {
            let (stream, addr) = Listener::accept(&mut self.inner).await;
            match self.admit(addr.ip()) {
                Some(slot) => break (stream, addr, slot),
                // Dropped: closed at once, and the permit serves the next one.
                None => {
                    tracing::debug!(client = %addr.ip(), "connection over the per-client cap closed")
                }
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY");
        }
        let io = LimitedStream {
            stream,
            idle: Box::pin(tokio::time::sleep(self.idle_timeout)),
            idle_timeout: self.idle_timeout,
            _permit: permit,
            _slot: slot,
        };
        (io, addr)
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// An accepted connection: gives its permit back when dropped, and fails with `TimedOut` when
/// polled after the idle timeout passed without traffic.
#[derive(Debug)]
pub struct LimitedStream {
    stream: TcpStream,
    idle: Pin<Box<Sleep>>,
    idle_timeout: Duration,
    _permit: OwnedSemaphorePermit,
    _slot: ClientSlot,
}

impl LimitedStream {
    fn touched(&mut self) {
        let deadline = Instant::now() + self.idle_timeout;
        self.idle.as_mut().reset(deadline);
    }

    /// Maps a pending I/O to `TimedOut` once the idle deadline has passed.
    fn pending_or_idle<T>(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match self.idle.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "connection idle for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for LimitedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_read(cx, buf) {
            Poll::Ready(result) => {
                this.touched();
                Poll::Ready(result)
            }
            Poll::Pending => this.pending_or_idle(cx),
        }
    }
}

impl AsyncWrite for LimitedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write(cx, buf) {
            Poll::Ready(result) => {
                this.touched();
                Poll::Ready(result)
            }
            Poll::Pending => this.pending_or_idle(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        match Pin::new(&mut this.stream).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => {
                this.touched();
                Poll::Ready(result)
            }
            Poll::Pending => this.pending_or_idle(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
