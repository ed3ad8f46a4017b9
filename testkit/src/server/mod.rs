//! The test SMTP server: accepts connections on 127.0.0.1, speaks enough ESMTP for real
//! clients (lettre, Node's nodemailer, swaks...) and records every accepted message.

use std::collections::HashSet;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use tokio::io::{
    AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::received::ReceivedMessage;
use crate::rules::{RcptDecision, SmtpRules};

mod session;
#[cfg(test)]
mod tests;

use session::Session;

/// The name the server gives itself in its greeting and `EHLO` reply.
const SERVER_NAME: &str = "paloma-testkit";
/// The `SIZE` the server advertises (bytes).
const MAX_MESSAGE_SIZE: usize = 50 * 1024 * 1024;
/// The longest line the server reads (far above RFC 5321's 1000, to be lenient).
const MAX_LINE: usize = 64 * 1024;

/// A scriptable SMTP server for tests, listening on `127.0.0.1` on a free port.
///
/// It runs on its own small runtime (two threads), so it keeps answering whatever the test
/// does with its own threads (blocking waits on child processes included), and it stops, closing
/// every connection, when dropped.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use std::time::Duration;
/// use paloma_testkit::{SmtpRules, TestSmtpServer};
///
/// let server = TestSmtpServer::start(SmtpRules::default().reject_prefix("bounce"))?;
/// // ... point a mailer at server.url() and send ...
/// let messages = server.wait_for(1, Duration::from_secs(5)).await;
/// assert_eq!(messages[0].rcpt_to, ["alice@example.org"]);
/// # Ok(()) }
/// ```
pub struct TestSmtpServer {
    port: u16,
    shared: Arc<Shared>,
    runtime: Option<Runtime>,
}

impl std::fmt::Debug for TestSmtpServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestSmtpServer")
            .field("port", &self.port)
            .field("connections", &self.connections())
            .finish_non_exhaustive()
    }
}

/// Whether a [`TestSmtpServer`] serves clients, set at any time with
/// [`TestSmtpServer::set_availability`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Availability {
    /// Serving normally.
    #[default]
    Up,
    /// Answers `421 4.3.2 service not available` to new connections (as its greeting) and to
    /// the next command on open ones, then closes the connection; a message whose data ends
    /// meanwhile gets the `421` instead of `250` and is not recorded.
    ServiceUnavailable,
    /// Down: the listening socket is closed, so new connections are refused, and open
    /// connections are closed without a reply at their next command; a message whose data ends
    /// meanwhile is not recorded.
    Refusing,
}

/// The `421` reply of [`Availability::ServiceUnavailable`].
const UNAVAILABLE_REPLY: &str = "421 4.3.2 service not available, closing transmission channel";

/// State shared by the server's tasks and the handle.
struct Shared {
    rules: SmtpRules,
    availability: watch::Sender<Availability>,
    /// Connections turned away and commands refused because the server was not up.
    turned_away: AtomicUsize,
    messages: Mutex<Vec<ReceivedMessage>>,
    /// The number of messages received, for waiters.
    received: watch::Sender<usize>,
    /// Recipients (lowercased) already asked about, for the defer-once rules.
    seen: Mutex<HashSet<String>>,
    connections: AtomicUsize,
    active: AtomicUsize,
    peak: AtomicUsize,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl TestSmtpServer {
    /// Binds `127.0.0.1:0` and starts serving with `rules`.
    pub fn start(rules: SmtpRules) -> io::Result<TestSmtpServer> {
        let (runtime, listener, port) = crate::background_listener("test-smtp-server")?;

        let shared = Arc::new(Shared {
            rules,
            availability: watch::Sender::new(Availability::Up),
            turned_away: AtomicUsize::new(0),
            messages: Mutex::new(Vec::new()),
            received: watch::Sender::new(0),
            seen: Mutex::new(HashSet::new()),
            connections: AtomicUsize::new(0),
            active: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        });
        runtime.spawn(accept_loop(listener, port, Arc::clone(&shared)));
        Ok(TestSmtpServer {
            port,
            shared,
            runtime: Some(runtime),
        })
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `smtp://127.0.0.1:PORT`: plain SMTP, no TLS.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// A snapshot of the messages accepted so far, in the order their `DATA` ended.
    pub fn messages(&self) -> Vec<ReceivedMessage> {
        lock(&self.shared.messages).clone()
    }

    /// How many messages were accepted so far.
    pub fn message_count(&self) -> usize {
        *self.shared.received.borrow()
    }

    /// Waits until at least `count` messages were accepted, or `timeout` passed, then returns
    /// the snapshot of all messages (so fewer than `count` on timeout: assert on its length).
    /// Needs a tokio runtime with timers (any `#[tokio::test]`).
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMessage> {
        let mut receiver = self.shared.received.subscribe();
        let _ = tokio::time::timeout(timeout, receiver.wait_for(|n| *n >= count)).await;
        self.messages()
    }

    /// Like [`wait_for`](Self::wait_for), for code outside any async runtime (it sleeps the
    /// calling thread).
    pub fn wait_for_blocking(&self, count: usize, timeout: Duration) -> Vec<ReceivedMessage> {
        let deadline = Instant::now() + timeout;
        while self.message_count() < count && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        self.messages()
    }

    /// How many connections were accepted since the start.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The largest number of connections open at the same time since the start.
    pub fn peak_connections(&self) -> usize {
        self.shared.peak.load(Ordering::SeqCst)
    }

    /// Takes the server down (see [`Availability`]) or brings it back up, at once; it stays on
    /// the same port. Going [`Availability::Refusing`] closes the listening socket
    /// asynchronously, within a few milliseconds.
    pub fn set_availability(&self, availability: Availability) {
        self.shared.availability.send_replace(availability);
    }

    /// The current [`Availability`].
    pub fn availability(&self) -> Availability {
        *self.shared.availability.borrow()
    }

    /// How many times the server turned a client away while it was not up: `421` replies given
    /// and connections closed (refused connections are not seen, so not counted).
    pub fn turned_away(&self) -> usize {
        self.shared.turned_away.load(Ordering::SeqCst)
    }
}

impl Drop for TestSmtpServer {
    fn drop(&mut self) {
        // Does not block, so it is safe inside an async test too; it drops every task, hence
        // the listener and all connections.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Binds `127.0.0.1:port` (std sets `SO_REUSEADDR`, so the port can be bound again while old
/// connections linger in `TIME_WAIT`).
fn bind(port: u16) -> io::Result<TcpListener> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    listener.set_nonblocking(true)?;
    TcpListener::from_std(listener)
}

async fn accept(listener: Option<&TcpListener>) -> io::Result<(TcpStream, std::net::SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

async fn accept_loop(listener: TcpListener, port: u16, shared: Arc<Shared>) {
    let mut listener = Some(listener);
    let mut availability = shared.availability.subscribe();
    let mut sessions = JoinSet::new();
    loop {
        let refusing = *availability.borrow_and_update() == Availability::Refusing;
        if refusing {
            listener = None;
        } else if listener.is_none() {
            match bind(port) {
                Ok(l) => listener = Some(l),
                Err(error) => {
                    tracing::warn!(%error, port, "test SMTP server cannot listen again; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            }
        }
        tokio::select! {
            changed = availability.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            accepted = accept(listener.as_ref()) => match accepted {
                Ok((stream, _)) => {
                    let number = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
                    let active = shared.active.fetch_add(1, Ordering::SeqCst) + 1;
                    shared.peak.fetch_max(active, Ordering::SeqCst);
                    let shared = Arc::clone(&shared);
                    sessions.spawn(async move {
                        if let Err(error) = serve(stream, &shared, number).await {
                            tracing::debug!(%error, connection = number, "test SMTP session ended");
                        }
                        shared.active.fetch_sub(1, Ordering::SeqCst);
                    });
                }
                Err(error) => {
                    tracing::warn!(%error, "test SMTP server could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

async fn serve(stream: TcpStream, shared: &Shared, connection: usize) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let (reader, writer) = stream.into_split();
    Session::new(BufReader::new(reader), writer, shared, connection)
        .run()
        .await
}
