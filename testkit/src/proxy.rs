//! A TCP proxy that can be cut and restored, to simulate a dependency (MySQL, Redis...) that
//! goes away and comes back while the programs under test keep running.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Whether the proxy passes traffic, and how many cuts there were (a connection opened before
/// the latest cut is closed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Switch {
    up: bool,
    cuts: u64,
}

struct Shared {
    upstream: SocketAddr,
    switch: watch::Sender<Switch>,
    /// Whether the listening socket is open; the accept loop reports it, `cut`/`restore` wait
    /// for it.
    listening: watch::Sender<bool>,
    connections: AtomicUsize,
    open: AtomicUsize,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    /// When `bytes_up` reaches this, the proxy cuts itself (`u64::MAX`: never).
    cut_at_bytes_up: AtomicU64,
}

impl Shared {
    fn cut(&self) {
        self.switch.send_modify(|s| {
            s.up = false;
            s.cuts += 1;
        });
    }
}

/// A TCP proxy on `127.0.0.1` (a free port) to one upstream address.
///
/// [`cut`](Self::cut) closes every proxied connection at once and closes the listening socket,
/// so new connections are refused (`ECONNREFUSED`), as when the upstream server is down;
/// [`restore`](Self::restore) listens again on the same port. Like
/// [`TestSmtpServer`](crate::TestSmtpServer) it runs on its own small runtime and stops when
/// dropped.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use paloma_testkit::TcpProxy;
///
/// let proxy = TcpProxy::start("127.0.0.1:3306".parse().unwrap())?;
/// // ... point a client at 127.0.0.1:proxy.port() ...
/// proxy.cut().await; // every connection dropped, new ones refused
/// proxy.restore().await; // accepting again on the same port
/// # Ok(()) }
/// ```
pub struct TcpProxy {
    port: u16,
    shared: Arc<Shared>,
    runtime: Option<Runtime>,
}

impl std::fmt::Debug for TcpProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpProxy")
            .field("port", &self.port)
            .field("upstream", &self.shared.upstream)
            .field("up", &self.is_up())
            .field("connections", &self.connections())
            .finish_non_exhaustive()
    }
}

impl TcpProxy {
    /// Binds `127.0.0.1:0` and starts forwarding every connection to `upstream`.
    pub fn start(upstream: SocketAddr) -> io::Result<TcpProxy> {
        let (runtime, listener, port) = crate::background_listener("test-tcp-proxy")?;
        let shared = Arc::new(Shared {
            upstream,
            switch: watch::Sender::new(Switch { up: true, cuts: 0 }),
            listening: watch::Sender::new(true),
            connections: AtomicUsize::new(0),
            open: AtomicUsize::new(0),
            bytes_up: AtomicU64::new(0),
            bytes_down: AtomicU64::new(0),
            cut_at_bytes_up: AtomicU64::new(u64::MAX),
        });
        runtime.spawn(accept_loop(Some(listener), port, Arc::clone(&shared)));
        Ok(TcpProxy {
            port,
            shared,
            runtime: Some(runtime),
        })
    }

    /// The port the proxy listens on (the same after a restore).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// The upstream address.
    pub fn upstream(&self) -> SocketAddr {
        self.shared.upstream
    }

    /// Whether the proxy passes traffic (not cut).
    pub fn is_up(&self) -> bool {
        self.shared.switch.borrow().up
    }

    /// Closes every proxied connection and the listening socket. When it returns, new
    /// connections are refused.
    pub async fn cut(&self) {
        self.shared.cut();
        self.wait_until_cut().await;
    }

    /// Arms a cut that the proxy makes itself, exactly when `bytes` more bytes have come from
    /// the clients (counted as [`bytes_up`](Self::bytes_up)): the read that reaches the mark
    /// is not passed on, and everything is closed as by [`cut`](Self::cut). For a cut in the
    /// middle of a known exchange (a large transaction, say), whatever the timing of the test.
    pub fn cut_after_bytes_up(&self, bytes: u64) {
        let mark = self.bytes_up().saturating_add(bytes);
        self.shared.cut_at_bytes_up.store(mark, Ordering::SeqCst);
    }

    /// Waits until the proxy is cut (by [`cut`](Self::cut) or an armed
    /// [`cut_after_bytes_up`](Self::cut_after_bytes_up)) and refuses connections.
    pub async fn wait_until_cut(&self) {
        let mut switch = self.shared.switch.subscribe();
        let _ = switch.wait_for(|s| !s.up).await;
        let mut listening = self.shared.listening.subscribe();
        let _ = listening.wait_for(|l| !*l).await;
    }

    /// Listens again on the same port. When it returns, new connections are accepted.
    pub async fn restore(&self) {
        self.shared.switch.send_modify(|s| s.up = true);
        let mut listening = self.shared.listening.subscribe();
        let _ = listening.wait_for(|l| *l).await;
    }

    /// Connections accepted since the start.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn open_connections(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// Bytes forwarded from clients to the upstream since the start.
    pub fn bytes_up(&self) -> u64 {
        self.shared.bytes_up.load(Ordering::SeqCst)
    }

    /// Bytes forwarded from the upstream to clients since the start.
    pub fn bytes_down(&self) -> u64 {
        self.shared.bytes_down.load(Ordering::SeqCst)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Listens while the switch is up; drops the listener while it is cut.
async fn accept_loop(mut listener: Option<TcpListener>, port: u16, shared: Arc<Shared>) {
    let mut switch = shared.switch.subscribe();
    let mut connections = JoinSet::new();
    loop {
        let up = switch.borrow_and_update().up;
        match (&listener, up) {
            (Some(_), false) => {
                listener = None;
                shared.listening.send_replace(false);
            }
            (None, true) => match crate::loopback_listener(port).and_then(TcpListener::from_std) {
                Ok(l) => {
                    listener = Some(l);
                    shared.listening.send_replace(true);
                }
                Err(error) => {
                    tracing::warn!(%error, port, "test proxy cannot listen again; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ => {}
        }
        tokio::select! {
            changed = switch.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            accepted = accept(listener.as_ref()) => match accepted {
                Ok((client, _)) => {
                    let cuts = switch.borrow().cuts;
                    shared.connections.fetch_add(1, Ordering::SeqCst);
                    shared.open.fetch_add(1, Ordering::SeqCst);
                    let shared = Arc::clone(&shared);
                    connections.spawn(async move {
                        if let Err(error) = forward(client, cuts, &shared).await {
                            tracing::debug!(%error, "test proxy connection ended");
                        }
                        shared.open.fetch_sub(1, Ordering::SeqCst);
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "test proxy could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn accept(listener: Option<&TcpListener>) -> io::Result<(TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// Connects upstream and pumps both ways until both directions end or the proxy is cut
/// (`cuts` is the number of cuts when the connection was accepted).
async fn forward(client: TcpStream, cuts: u64, shared: &Shared) -> io::Result<()> {
    let mut switch = shared.switch.subscribe();
    let upstream = TcpStream::connect(shared.upstream).await?;
    client.set_nodelay(true)?;
    upstream.set_nodelay(true)?;
    let (client_read, client_write) = client.into_split();
    let (upstream_read, upstream_write) = upstream.into_split();
    let both = async {
        tokio::join!(
            pump(client_read, upstream_write, &shared.bytes_up, Some(shared)),
            pump(upstream_read, client_write, &shared.bytes_down, None),
        )
    };
    tokio::select! {
        _ = both => {}
        // Dropping the halves closes both sockets at once.
        _ = switch.wait_for(|s| s.cuts != cuts) => {}
    }
    Ok(())
}

/// Copies one direction, counting bytes; passes the end of stream on. `trigger` (clients to
/// upstream only): cuts the proxy instead of passing on the read that reaches the armed mark.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    counter: &AtomicU64,
    trigger: Option<&Shared>,
) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                // Counted before it is passed on, so a reader that got the bytes sees them
                // counted.
                let total = counter.fetch_add(n as u64, Ordering::SeqCst) + n as u64;
                if let Some(shared) = trigger {
                    let mark = shared.cut_at_bytes_up.load(Ordering::SeqCst);
                    if total >= mark
                        && shared
                            .cut_at_bytes_up
                            .compare_exchange(mark, u64::MAX, Ordering::SeqCst, Ordering::SeqCst)
                            .is_ok()
                    {
                        shared.cut();
                        // Never passed on; the cut closes this connection.
                        std::future::pending::<()>().await;
                    }
                }
                if to.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An upstream that answers each line with the same line.
    async fn echo_server() -> SocketAddr {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let mut buffer = [0u8; 1024];
                    while let Ok(n) = stream.read(&mut buffer).await {
                        if n == 0 || stream.write_all(&buffer[..n]).await.is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    async fn round_trip(stream: &mut TcpStream, text: &[u8]) -> io::Result<Vec<u8>> {
        stream.write_all(text).await?;
        let mut answer = vec![0u8; text.len()];
        tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut answer))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no answer"))??;
        Ok(answer)
    }

    #[tokio::test]
    async fn traffic_flows_is_cut_and_flows_again_on_the_same_port() {
        let proxy = TcpProxy::start(echo_server().await).expect("proxy");
        let port = proxy.port();
        let mut client = TcpStream::connect(proxy.addr()).await.expect("connect");
        assert_eq!(
            round_trip(&mut client, b"hello").await.expect("echo"),
            b"hello"
        );
        assert_eq!((proxy.bytes_up(), proxy.bytes_down()), (5, 5));
        assert_eq!(proxy.open_connections(), 1);

        proxy.cut().await;
        assert!(!proxy.is_up());
        // The open connection is closed: a read ends or fails.
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut rest))
            .await
            .expect("closed promptly");
        assert!(read.is_err() || rest.is_empty());
        // New connections are refused.
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());

        proxy.restore().await;
        assert!(proxy.is_up());
        let mut client = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect again");
        assert_eq!(
            round_trip(&mut client, b"again").await.expect("echo"),
            b"again"
        );
        assert_eq!(proxy.connections(), 2);
    }

    #[tokio::test]
    async fn an_armed_cut_happens_at_the_mark_and_passes_nothing_from_the_read_that_reached_it() {
        let proxy = TcpProxy::start(echo_server().await).expect("proxy");
        let mut client = TcpStream::connect(proxy.addr()).await.expect("connect");
        assert_eq!(
            round_trip(&mut client, b"12345").await.expect("echo"),
            b"12345"
        );
        // 5 bytes so far; the cut comes with the read that makes 4 more.
        proxy.cut_after_bytes_up(4);
        assert_eq!(round_trip(&mut client, b"abc").await.expect("echo"), b"abc");
        assert!(proxy.is_up());
        client.write_all(b"xyz").await.expect("write");
        tokio::time::timeout(Duration::from_secs(5), proxy.wait_until_cut())
            .await
            .expect("cut at the mark");
        assert_eq!(
            proxy.bytes_down(),
            8,
            "the read reaching the mark was not passed on"
        );
        let mut rest = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut rest))
            .await
            .expect("closed promptly");
        assert!(read.is_err() || rest.is_empty());
        assert!(TcpStream::connect(proxy.addr()).await.is_err());
        proxy.restore().await;
        let mut client = TcpStream::connect(proxy.addr())
            .await
            .expect("connect again");
        assert_eq!(round_trip(&mut client, b"ok").await.expect("echo"), b"ok");
    }

    #[tokio::test]
    async fn dropping_the_proxy_closes_its_port() {
        let proxy = TcpProxy::start(echo_server().await).expect("proxy");
        let port = proxy.port();
        drop(proxy);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }
}
