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

/// The envelope of the message being received.
#[derive(Default)]
struct Transaction {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

/// One SMTP conversation.
struct Session<'a, R, W> {
    reader: R,
    writer: W,
    shared: &'a Shared,
    connection: usize,
    greeted: bool,
    auth_user: Option<String>,
    transaction: Transaction,
}

/// What the session does after a command.
enum Next {
    Continue,
    Quit,
}

impl<'a, R, W> Session<'a, R, W>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    fn new(reader: R, writer: W, shared: &'a Shared, connection: usize) -> Self {
        Session {
            reader,
            writer,
            shared,
            connection,
            greeted: false,
            auth_user: None,
            transaction: Transaction::default(),
        }
    }

    async fn run(mut self) -> io::Result<()> {
        if self.turned_away().await? {
            return Ok(());
        }
        self.reply(&format!("220 {SERVER_NAME} ESMTP ready"))
            .await?;
        while let Some(line) = self.read_line().await? {
            if self.turned_away().await? {
                break;
            }
            let line = String::from_utf8_lossy(&line).into_owned();
            if let Next::Quit = self.command(&line).await? {
                break;
            }
        }
        Ok(())
    }

    /// When the server is not up: answers `421` (or nothing, when refusing) and says that the
    /// session must end.
    async fn turned_away(&mut self) -> io::Result<bool> {
        let availability = *self.shared.availability.borrow();
        match availability {
            Availability::Up => Ok(false),
            Availability::ServiceUnavailable => {
                self.shared.turned_away.fetch_add(1, Ordering::SeqCst);
                self.reply(UNAVAILABLE_REPLY).await?;
                Ok(true)
            }
            Availability::Refusing => {
                self.shared.turned_away.fetch_add(1, Ordering::SeqCst);
                Ok(true)
            }
        }
    }

    /// Reads one line without its line ending; `None` at end of stream.
    async fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        let read = (&mut self.reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .await?;
        if read == 0 {
            return Ok(None);
        }
        if line.last() != Some(&b'\n') && line.len() >= MAX_LINE {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        Ok(Some(line))
    }

    async fn reply(&mut self, text: &str) -> io::Result<()> {
        self.writer.write_all(text.as_bytes()).await?;
        self.writer.write_all(b"\r\n").await?;
        self.writer.flush().await
    }

    async fn command(&mut self, line: &str) -> io::Result<Next> {
        let (verb, argument) = match line.split_once(' ') {
            Some((verb, argument)) => (verb, argument.trim()),
            None => (line.trim(), ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                self.greeted = true;
                self.transaction = Transaction::default();
                let reply = format!(
                    "250-{SERVER_NAME} greets {argument}\r\n250-PIPELINING\r\n250-8BITMIME\r\n\
                     250-SIZE {MAX_MESSAGE_SIZE}\r\n250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES"
                );
                self.reply(&reply).await?;
            }
            "HELO" => {
                self.greeted = true;
                self.transaction = Transaction::default();
                self.reply(&format!("250 {SERVER_NAME}")).await?;
            }
            "MAIL" => self.mail(argument).await?,
            "RCPT" => self.rcpt(argument).await?,
            "DATA" => self.data().await?,
            "AUTH" => self.auth(argument).await?,
            "RSET" => {
                self.transaction = Transaction::default();
                self.reply("250 2.0.0 OK").await?;
            }
            "NOOP" => self.reply("250 2.0.0 OK").await?,
            "VRFY" => {
                self.reply("252 2.1.5 cannot verify, but will accept the message")
                    .await?
            }
            "QUIT" => {
                self.reply(&format!("221 2.0.0 {SERVER_NAME} closing connection"))
                    .await?;
                return Ok(Next::Quit);
            }
            _ => self.reply("500 5.5.2 command not recognized").await?,
        }
        Ok(Next::Continue)
    }

    async fn mail(&mut self, argument: &str) -> io::Result<()> {
        if !self.greeted {
            return self.reply("503 5.5.1 say EHLO first").await;
        }
        if self.transaction.mail_from.is_some() {
            return self.reply("503 5.5.1 nested MAIL command").await;
        }
        match path_argument(argument, "FROM:") {
            Some(from) => {
                self.transaction.mail_from = Some(from);
                self.reply("250 2.1.0 OK").await
            }
            None => self.reply("501 5.5.4 syntax: MAIL FROM:<address>").await,
        }
    }

    async fn rcpt(&mut self, argument: &str) -> io::Result<()> {
        if self.transaction.mail_from.is_none() {
            return self.reply("503 5.5.1 need MAIL before RCPT").await;
        }
        let Some(to) = path_argument(argument, "TO:").filter(|to| !to.is_empty()) else {
            return self.reply("501 5.5.4 syntax: RCPT TO:<address>").await;
        };
        let first_seen = lock(&self.shared.seen).insert(to.to_ascii_lowercase());
        match self.shared.rules.decide(&to, first_seen) {
            RcptDecision::Accept => {
                self.transaction.rcpt_to.push(to);
                self.reply("250 2.1.5 OK").await
            }
            RcptDecision::Refuse(reply) => self.reply(&reply).await,
        }
    }

    async fn data(&mut self) -> io::Result<()> {
        if self.transaction.mail_from.is_none() {
            return self.reply("503 5.5.1 need MAIL before DATA").await;
        }
        if self.transaction.rcpt_to.is_empty() {
            return self.reply("554 5.5.1 no valid recipients").await;
        }
        self.reply("354 end data with <CR><LF>.<CR><LF>").await?;
        let mut data = Vec::new();
        loop {
            let Some(line) = self.read_line().await? else {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed in DATA",
                ));
            };
            if line == b"." {
                break;
            }
            data.extend_from_slice(unstuff(&line));
            data.extend_from_slice(b"\r\n");
        }
        let delay = self.shared.rules.data_delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let transaction = std::mem::take(&mut self.transaction);
        if self.turned_away().await? {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the server went down during DATA",
            ));
        }
        if data.len() > MAX_MESSAGE_SIZE {
            return self.reply("552 5.3.4 message too big").await;
        }
        let message = ReceivedMessage {
            mail_from: transaction.mail_from.unwrap_or_default(),
            rcpt_to: transaction.rcpt_to,
            data: String::from_utf8_lossy(&data).into_owned(),
            auth_user: self.auth_user.clone(),
            connection: self.connection,
            received_at: std::time::Instant::now(),
        };
        let number = {
            let mut messages = lock(&self.shared.messages);
            messages.push(message);
            messages.len()
        };
        // Never backwards: another connection may have pushed (and published) a later message
        // between the push above and this line.
        self.shared
            .received
            .send_modify(|count| *count = (*count).max(number));
        self.reply(&format!("250 2.0.0 OK queued as {number}"))
            .await
    }

    /// `AUTH PLAIN [initial]` and `AUTH LOGIN [user]`: any credentials are accepted and the
    /// user name is recorded on the messages that follow.
    async fn auth(&mut self, argument: &str) -> io::Result<()> {
        if !self.greeted {
            return self.reply("503 5.5.1 say EHLO first").await;
        }
        if self.auth_user.is_some() {
            return self.reply("503 5.5.1 already authenticated").await;
        }
        let (mechanism, initial) = match argument.split_once(' ') {
            Some((mechanism, initial)) => (mechanism, Some(initial.trim().to_owned())),
            None => (argument, None),
        };
        let user = match mechanism.to_ascii_uppercase().as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(initial) => initial,
                    None => self.challenge("").await?,
                };
                // authzid NUL authcid NUL password
                decode_base64(&response).and_then(|plain| {
                    let mut fields = plain.split('\0');
                    let (_authzid, user, _password) =
                        (fields.next()?, fields.next()?, fields.next()?);
                    Some(user.to_owned())
                })
            }
            "LOGIN" => {
                let user = match initial {
                    Some(initial) => initial,
                    None => self.challenge("VXNlcm5hbWU6").await?,
                };
                let _password = self.challenge("UGFzc3dvcmQ6").await?;
                decode_base64(&user)
            }
            _ => {
                return self
                    .reply("504 5.5.4 unrecognized authentication mechanism")
                    .await;
            }
        };
        match user {
            Some(user) => {
                self.auth_user = Some(user);
                self.reply("235 2.7.0 authentication successful").await
            }
            None => self.reply("501 5.5.2 cannot decode the credentials").await,
        }
    }

    /// Sends a `334` challenge and returns the client's answer.
    async fn challenge(&mut self, text: &str) -> io::Result<String> {
        self.reply(&format!("334 {text}")).await?;
        let line = self.read_line().await?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&line).into_owned())
    }
}

/// Removes the dot a client doubles at the start of a data line (RFC 5321 section 4.5.2).
pub(crate) fn unstuff(line: &[u8]) -> &[u8] {
    line.strip_prefix(b".").unwrap_or(line)
}

/// The address of `FROM:<addr> params` / `TO:<addr> params` (keyword case-insensitive);
/// `Some("")` for the null path `<>`.
pub(crate) fn path_argument(argument: &str, keyword: &str) -> Option<String> {
    let head = argument.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = argument[keyword.len()..].trim_start();
    if let Some(inner) = rest.strip_prefix('<') {
        let end = inner.find('>')?;
        Some(inner[..end].to_owned())
    } else {
        // Lenient: a bare address up to the first space.
        rest.split(' ')
            .next()
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
    }
}

fn decode_base64(text: &str) -> Option<String> {
    let bytes = BASE64.decode(text.trim()).ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unstuffing_removes_one_leading_dot() {
        assert_eq!(unstuff(b"..hidden"), b".hidden");
        assert_eq!(unstuff(b"...."), b"...");
        assert_eq!(unstuff(b"no dot"), b"no dot");
        assert_eq!(unstuff(b"a.b"), b"a.b");
        assert_eq!(unstuff(b""), b"");
    }

    #[test]
    fn paths_are_parsed_with_parameters_and_any_case() {
        assert_eq!(
            path_argument("FROM:<a@b.org> SIZE=12 BODY=8BITMIME", "FROM:").as_deref(),
            Some("a@b.org")
        );
        assert_eq!(
            path_argument("from: <a@b.org>", "FROM:").as_deref(),
            Some("a@b.org")
        );
        assert_eq!(path_argument("FROM:<>", "FROM:").as_deref(), Some(""));
        assert_eq!(
            path_argument("TO:c@d.org", "TO:").as_deref(),
            Some("c@d.org")
        );
        assert_eq!(path_argument("TO:<c@d.org", "TO:"), None);
        assert_eq!(path_argument("FROM:<a@b.org>", "TO:"), None);
        assert_eq!(path_argument("", "TO:"), None);
    }

    /// A raw client: writes `input` at once (pipelined), then reads until the server closes.
    async fn converse(server: &TestSmtpServer, input: &str) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", server.port()))
            .await
            .expect("connect");
        stream.write_all(input.as_bytes()).await.expect("write");
        let mut output = String::new();
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut output))
            .await
            .expect("the server answers within 5 s")
            .expect("read");
        output
    }

    fn codes(transcript: &str) -> Vec<&str> {
        transcript
            .lines()
            .filter(|l| l.len() >= 4 && l.as_bytes()[3] == b' ')
            .map(|l| &l[..3])
            .collect()
    }

    #[tokio::test]
    async fn a_pipelined_conversation_is_recorded_and_unstuffed() {
        let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
        let input = "EHLO client.test\r\nMAIL FROM:<sender@example.org> BODY=8BITMIME\r\n\
            RCPT TO:<a@example.org>\r\nRCPT TO:<B@example.org>\r\nDATA\r\n\
            Subject: dots\r\n\r\n..leading dot\r\n...\r\nmiddle . dot\r\n.\r\n\
            NOOP\r\nVRFY someone\r\nSTARTTLS\r\nRSET\r\nQUIT\r\n";
        let transcript = converse(&server, input).await;
        assert_eq!(
            codes(&transcript),
            [
                "220", "250", "250", "250", "250", "354", "250", "250", "252", "500", "250", "221"
            ]
        );
        assert!(
            transcript.contains("250-PIPELINING\r\n250-8BITMIME\r\n"),
            "{transcript}"
        );
        assert!(!transcript.contains("STARTTLS"), "{transcript}");

        let messages = server.messages();
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].mail_from, "sender@example.org");
        assert_eq!(messages[0].rcpt_to, ["a@example.org", "B@example.org"]);
        assert_eq!(
            messages[0].data,
            "Subject: dots\r\n\r\n.leading dot\r\n..\r\nmiddle . dot\r\n"
        );
        assert_eq!(messages[0].auth_user, None);
        assert_eq!(messages[0].connection, 1);
        assert_eq!(server.connections(), 1);
    }

    #[tokio::test]
    async fn recipients_are_refused_as_the_rules_say() {
        let rules = SmtpRules::default()
            .reject_prefix("bounce")
            .defer_once_prefix("grey");
        let server = TestSmtpServer::start(rules).expect("start");
        let input = "HELO client.test\r\nMAIL FROM:<s@example.org>\r\n\
            RCPT TO:<bounce@example.org>\r\nRCPT TO:<grey@example.org>\r\nRCPT TO:<GREY@example.org>\r\n\
            RCPT TO:<ok@example.org>\r\nDATA\r\nhello\r\n.\r\nQUIT\r\n";
        let transcript = converse(&server, input).await;
        assert!(transcript.contains("550 5.1.1 <bounce@example.org>: mailbox unavailable\r\n"));
        assert!(transcript.contains("451 4.3.0 try again later\r\n"));
        assert_eq!(
            codes(&transcript),
            [
                "220", "250", "250", "550", "451", "250", "250", "354", "250", "221"
            ]
        );
        let messages = server.wait_for(1, Duration::from_secs(1)).await;
        assert_eq!(messages[0].rcpt_to, ["GREY@example.org", "ok@example.org"]);
        assert_eq!(messages[0].data, "hello\r\n");
    }

    #[tokio::test]
    async fn commands_out_of_order_are_refused_and_nothing_is_recorded() {
        let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
        let input = "MAIL FROM:<s@example.org>\r\nEHLO c\r\nRCPT TO:<a@example.org>\r\nDATA\r\n\
            MAIL FROM:<s@example.org>\r\nMAIL FROM:<s@example.org>\r\nDATA\r\nBOGUS\r\nQUIT\r\n";
        let transcript = converse(&server, input).await;
        assert_eq!(
            codes(&transcript),
            [
                "220", "503", "250", "503", "503", "250", "503", "554", "500", "221"
            ]
        );
        assert!(server.messages().is_empty());
    }

    #[tokio::test]
    async fn auth_plain_and_login_are_accepted_and_recorded() {
        let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
        // "\0alice\0secret" and "bob" / "pw"
        let plain = BASE64.encode("\0alice\0secret");
        let input = format!(
            "EHLO c\r\nAUTH PLAIN {plain}\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<r@x.org>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n"
        );
        let transcript = converse(&server, &input).await;
        assert_eq!(
            codes(&transcript),
            ["220", "250", "235", "250", "250", "354", "250", "221"]
        );

        let input = format!(
            "EHLO c\r\nAUTH LOGIN\r\n{}\r\n{}\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<r@x.org>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
            BASE64.encode("bob"),
            BASE64.encode("pw")
        );
        let transcript = converse(&server, &input).await;
        assert!(
            transcript.contains("334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 "),
            "{transcript}"
        );

        let messages = server.wait_for(2, Duration::from_secs(1)).await;
        let users: Vec<_> = messages.iter().map(|m| m.auth_user.as_deref()).collect();
        assert_eq!(users, [Some("alice"), Some("bob")]);
        assert_eq!(server.connections(), 2);
    }

    #[tokio::test]
    async fn many_messages_on_one_connection_and_many_connections() {
        let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
        let mut input = String::from("EHLO c\r\n");
        for i in 0..20 {
            input.push_str(&format!(
                "MAIL FROM:<s@x.org>\r\nRCPT TO:<r{i}@x.org>\r\nDATA\r\nn{i}\r\n.\r\n"
            ));
        }
        input.push_str("QUIT\r\n");
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let input = input.clone();
                let port = server.port();
                tokio::spawn(async move {
                    let mut stream = TcpStream::connect(("127.0.0.1", port))
                        .await
                        .expect("connect");
                    stream.write_all(input.as_bytes()).await.expect("write");
                    let mut output = String::new();
                    stream.read_to_string(&mut output).await.expect("read");
                    output
                })
            })
            .collect();
        for task in tasks {
            let transcript = task.await.expect("task");
            assert_eq!(transcript.matches("250 2.0.0 OK queued").count(), 20);
        }
        let messages = server.wait_for(200, Duration::from_secs(5)).await;
        assert_eq!(messages.len(), 200);
        assert_eq!(server.connections(), 10);
        assert!(server.peak_connections() >= 1 && server.peak_connections() <= 10);
    }

    #[tokio::test]
    async fn dropping_the_server_closes_the_port() {
        let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
        let port = server.port();
        assert_eq!(server.url(), format!("smtp://127.0.0.1:{port}"));
        drop(server);
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }

    #[tokio::test]
    async fn a_server_that_is_unavailable_answers_421_and_records_nothing() {
        let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
        // A session opened while up, then the server goes down in the middle of it.
        let mut open = TcpStream::connect(("127.0.0.1", server.port()))
            .await
            .expect("connect");
        open.write_all(b"EHLO c\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<r@x.org>\r\n")
            .await
            .expect("write");
        let mut buffer = vec![0u8; 4096];
        let mut seen = String::new();
        while !seen.ends_with("250 2.1.5 OK\r\n") {
            let n = open.read(&mut buffer).await.expect("read");
            assert!(n > 0, "closed early: {seen}");
            seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
        }
        server.set_availability(Availability::ServiceUnavailable);
        assert_eq!(server.availability(), Availability::ServiceUnavailable);
        open.write_all(b"DATA\r\n").await.expect("write");
        let mut rest = String::new();
        open.read_to_string(&mut rest).await.expect("read");
        assert!(rest.starts_with("421 4.3.2 "), "{rest}");

        let transcript = converse(&server, "EHLO c\r\nQUIT\r\n").await;
        assert_eq!(codes(&transcript), ["421"]);
        assert_eq!(server.turned_away(), 2);

        server.set_availability(Availability::Up);
        let transcript = converse(
            &server,
            "EHLO c\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<r@x.org>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
        )
        .await;
        assert_eq!(
            codes(&transcript),
            ["220", "250", "250", "250", "354", "250", "221"]
        );
        assert_eq!(server.messages().len(), 1);
    }

    #[tokio::test]
    async fn a_refusing_server_closes_its_port_and_opens_it_again() {
        let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
        let port = server.port();
        let mut open = TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect");
        let mut greeting = [0u8; 3];
        open.read_exact(&mut greeting).await.expect("greeting");
        assert_eq!(&greeting, b"220");

        server.set_availability(Availability::Refusing);
        let deadline = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            assert!(Instant::now() < deadline, "still accepting connections");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The open connection is closed, without a reply, at its next command.
        open.write_all(b"NOOP\r\n").await.expect("write");
        let mut rest = Vec::new();
        let _ = open.read_to_end(&mut rest).await;
        assert!(
            !String::from_utf8_lossy(&rest).contains("250 2.0.0 OK"),
            "{rest:?}"
        );

        server.set_availability(Availability::Up);
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(mut again) = TcpStream::connect(("127.0.0.1", port)).await {
                let mut greeting = [0u8; 3];
                again.read_exact(&mut greeting).await.expect("greeting");
                assert_eq!(&greeting, b"220");
                break;
            }
            assert!(Instant::now() < deadline, "not accepting again");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert!(server.turned_away() >= 1);
    }

    #[tokio::test]
    async fn wait_for_gives_up_after_the_timeout() {
        let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
        let started = Instant::now();
        let messages = server.wait_for(1, Duration::from_millis(100)).await;
        assert!(messages.is_empty());
        assert!(started.elapsed() >= Duration::from_millis(100));
    }
}
