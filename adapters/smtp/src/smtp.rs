//! The SMTP mailer: pooled, reused connections (at most one per message in flight), an overall
//! timeout per message, and replies classified into delivery outcomes.
//!
//! The connections are lettre's `AsyncSmtpConnection`s (the SMTP dialogue, STARTTLS, AUTH), but
//! opened and pooled here rather than by lettre's transport, for one reason: lettre's sockets
//! keep Nagle's algorithm on, and lettre writes the end-of-data marker separately from the
//! message, so every message waited for the server's delayed ACK (about 40 ms on Linux) before
//! the marker left. That capped a connection at about 25 messages per second. Here the socket
//! has `TCP_NODELAY` (except with implicit TLS, which lettre connects itself).

use std::error::Error as _;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::{self};
use lettre::{AsyncSmtpTransport, Tokio1Executor};
use paloma_application::{Mailer, OutgoingMessage};
use paloma_domain::DeliveryOutcome;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use url::Url;

use crate::error::{MailerConfigError, redact_url};
use crate::message::Sender;

/// Default limit for opening a TCP connection (and the TLS handshake).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Default limit for one whole message: waiting for a connection, the SMTP dialogue, the data.
const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(120);
/// How long an unused pooled connection is kept open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// A connection idle for longer than this is checked with `NOOP` before it is reused (the
/// server may have closed it).
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(5);
/// The AUTH mechanisms offered, in order (lettre's defaults).
const MECHANISMS: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

/// How the connection is secured, from the URL.
#[derive(Clone)]
enum Security {
    Plain,
    /// STARTTLS after EHLO; `required` refuses a server that does not offer it.
    StartTls {
        params: TlsParameters,
        required: bool,
    },
    /// TLS from the first byte (`smtps://`).
    Implicit(TlsParameters),
}

/// Where and how to connect.
#[derive(Clone)]
struct Connector {
    host: String,
    port: u16,
    security: Security,
    hello: ClientId,
    credentials: Option<Credentials>,
    connect_timeout: Duration,
}

impl Connector {
    /// Reads what lettre's `from_url` reads (which has already accepted the URL).
    fn from_url(smtp_url: &str) -> Result<Self, String> {
        let url = Url::parse(smtp_url).map_err(|e| e.to_string())?;
        let host = url.host_str().ok_or("smtp host undefined")?.to_owned();
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        let tls_params = || TlsParameters::new(host.clone()).map_err(|e| e.to_string());
        let (port, security) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => (25, Security::Plain),
            ("smtp", Some(mode @ ("required" | "opportunistic"))) => (
                587,
                Security::StartTls {
                    params: tls_params()?,
                    required: mode == "required",
                },
            ),
            ("smtps", _) => (465, Security::Implicit(tls_params()?)),
            (scheme, tls) => return Err(format!("unknown scheme {scheme:?} or tls {tls:?}")),
        };
        let hello = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|s| s.into_owned())
                .map_err(|e| e.to_string())
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(decode(url.username())?, decode(password)?)),
            None => None,
        };
        Ok(Self {
            port: url.port().unwrap_or(port),
            host,
            security,
            hello,
            credentials,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        })
    }

    /// Opens a connection: TCP (without Nagle), greeting and EHLO, STARTTLS, AUTH.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let address = (self.host.as_str(), self.port);
        let mut conn = match &self.security {
            Security::Implicit(params) => {
                AsyncSmtpConnection::connect_tokio1(
                    address,
                    Some(self.connect_timeout),
                    &self.hello,
                    Some(params.clone()),
                    None,
                )
                .await?
            }
            Security::Plain | Security::StartTls { .. } => {
                let tcp = tokio::time::timeout(self.connect_timeout, TcpStream::connect(address))
                    .await
                    .map_err(|_| {
                        SendError::Connect(format!(
                            "timed out connecting to the SMTP server: no connection within {} s",
                            self.connect_timeout.as_secs_f32()
                        ))
                    })?
                    .map_err(|e| {
                        SendError::Connect(format!("could not talk to the SMTP server: {e}"))
                    })?;
                tcp.set_nodelay(true).map_err(|e| {
                    SendError::Connect(format!("could not talk to the SMTP server: {e}"))
                })?;
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &self.hello).await?
            }
        };
        if let Security::StartTls { params, required } = &self.security {
            if conn.can_starttls() {
                conn.starttls(params.clone(), &self.hello).await?;
            } else if *required {
                conn.abort().await;
                return Err(SendError::Connect(
                    "TLS error with the SMTP server: it does not offer STARTTLS, which \
                     tls=required requires"
                        .to_owned(),
                ));
            }
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&MECHANISMS, credentials).await?;
        }
        Ok(conn)
    }
}

/// Why a message could not be handed over.
#[derive(Debug)]
enum SendError {
    /// The SMTP dialogue failed (a reply, TLS, I/O during the dialogue).
    Smtp(smtp::Error),
    /// The TCP connection could not be opened, or the server cannot be used as configured.
    Connect(String),
}

impl From<smtp::Error> for SendError {
    fn from(error: smtp::Error) -> Self {
        Self::Smtp(error)
    }
}

impl SendError {
    fn outcome(&self) -> DeliveryOutcome {
        match self {
            Self::Smtp(error) => classify(error),
            Self::Connect(detail) => DeliveryOutcome::Transient(detail.clone()),
        }
    }
}

/// Sends over SMTP with pooled, reused connections.
///
/// At most `concurrency` messages are in the SMTP dialogue at once, hence at most that many
/// connections are open (a semaphore). A connection goes back to the pool only after a message
/// was accepted on it; after any failure, a timeout or a cancelled send it is dropped, so the
/// next message never starts on a connection left mid-dialogue.
pub struct SmtpMailer {
    connector: Connector,
    /// Connections not in use, with the time each was last used.
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    sender: Sender,
    permits: Semaphore,
    send_timeout: Duration,
    redacted_url: String,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("url", &self.redacted_url)
            .field("from", &self.sender.mailbox.to_string())
            .field("free_connections", &self.permits.available_permits())
            .field("send_timeout", &self.send_timeout)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A mailer for `smtp_url`, sending as `mail_from`, with up to `concurrency` connections
    /// (at least one).
    ///
    /// `smtp_url` is what lettre's `from_url` accepts: `smtp://[user:pass@]host[:port]` (plain
    /// SMTP, port 25 by default), `smtp://...?tls=required` (STARTTLS required, port 587),
    /// `smtp://...?tls=opportunistic`, `smtps://...` (implicit TLS, port 465); an optional path
    /// sets the EHLO name. User and password are percent-decoded. `mail_from` is a mailbox such
    /// as `Paloma <no-reply@example.org>`; its domain names the `Message-ID`s.
    ///
    /// Nothing is connected here. Errors never show the password.
    pub fn new(
        smtp_url: &str,
        mail_from: &str,
        concurrency: usize,
    ) -> Result<Self, MailerConfigError> {
        let redacted_url = redact_url(smtp_url);
        let invalid = |reason: String| MailerConfigError::InvalidSmtpUrl {
            url: redacted_url.clone(),
            reason,
        };
        // lettre's parser is the reference for what a URL means; ours reads the same parts.
        AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|error| invalid(error_detail(&error)))?;
        let connector = Connector::from_url(smtp_url).map_err(invalid)?;
        let sender = Sender::parse(mail_from)?;
        Ok(SmtpMailer {
            connector,
            idle: Mutex::new(Vec::new()),
            sender,
            permits: Semaphore::new(concurrency.max(1)),
            send_timeout: DEFAULT_SEND_TIMEOUT,
            redacted_url,
        })
    }

    /// Why the password in `SMTP_URL` may cross the network in clear, if it may: credentials
    /// over plain SMTP, or over STARTTLS that is only opportunistic (a server, or anyone in
    /// between, that does not offer STARTTLS gets the password). `None` without credentials or
    /// with TLS required.
    pub fn cleartext_credentials_warning(&self) -> Option<&'static str> {
        self.connector.credentials.as_ref()?;
        match self.connector.security {
            Security::Plain => Some(
                "SMTP_URL has a user and password but no TLS: the password is sent in clear; \
                 use smtps:// or ?tls=required",
            ),
            Security::StartTls {
                required: false, ..
            } => Some(
                "SMTP_URL has a user and password with tls=opportunistic: a server that offers \
                 no STARTTLS gets the password in clear; use ?tls=required",
            ),
            Security::StartTls { required: true, .. } | Security::Implicit(_) => None,
        }
    }

    /// Changes the timeouts: `connect` for opening a connection (TCP and TLS), `send` for one
    /// whole message (defaults: 15 s and 120 s).
    pub fn with_timeouts(mut self, connect: Duration, send: Duration) -> Self {
        self.connector.connect_timeout = connect;
        self.send_timeout = send;
        self
    }

    /// The SMTP URL with its password masked, for logs.
    pub fn redacted_url(&self) -> &str {
        &self.redacted_url
    }

    /// Whether the server can be used as configured: opens a connection (TLS and login
    /// included) and closes it with `QUIT`. For readiness probes; `Err` says why not.
    pub async fn check(&self) -> Result<(), String> {
        match self.connector.connect().await {
            Ok(mut conn) => {
                let _ = tokio::time::timeout(Duration::from_secs(2), conn.quit()).await;
                Ok(())
            }
            Err(SendError::Connect(reason)) => Err(reason),
            Err(SendError::Smtp(e)) => Err(format!("the SMTP server refused the session: {e}")),
        }
    }

    /// Closes the pooled connections (politely, with `QUIT`). Messages sent afterwards open new
    /// ones.
    pub async fn shutdown(&self) {
        let idle = std::mem::take(&mut *self.lock_idle());
        for (mut conn, _) in idle {
            let _ = tokio::time::timeout(Duration::from_secs(2), conn.quit()).await;
        }
    }

    /// Sends one built message over a pooled connection and classifies the result.
    async fn deliver(&self, email: lettre::Message) -> DeliveryOutcome {
        let Ok(_permit) = self.permits.acquire().await else {
            // The semaphore is never closed; should it ever be, the message is not lost.
            return DeliveryOutcome::Transient("the SMTP mailer is shut down".to_owned());
        };
        match tokio::time::timeout(self.send_timeout, self.send_on_a_connection(&email)).await {
            Ok(Ok(())) => DeliveryOutcome::Sent,
            Ok(Err(error)) => error.outcome(),
            Err(_elapsed) => DeliveryOutcome::Transient(format!(
                "the SMTP server did not complete the delivery within {} s",
                self.send_timeout.as_secs_f32()
            )),
        }
    }

    /// The dialogue for one message on a reused or new connection; the connection is put back
    /// only when the message was accepted.
    async fn send_on_a_connection(&self, email: &lettre::Message) -> Result<(), SendError> {
        let mut conn = match self.reusable().await {
            Some(conn) => conn,
            None => self.connector.connect().await?,
        };
        conn.send(email.envelope(), &email.formatted()).await?;
        if !conn.has_broken() {
            self.lock_idle().push((conn, Instant::now()));
        }
        Ok(())
    }

    /// An idle connection that still works, if there is one; stale ones are closed.
    async fn reusable(&self) -> Option<AsyncSmtpConnection> {
        loop {
            let (mut conn, since) = self.lock_idle().pop()?;
            let idle = since.elapsed();
            if idle >= IDLE_TIMEOUT || conn.has_broken() {
                let _ = tokio::time::timeout(Duration::from_secs(2), conn.quit()).await;
                continue;
            }
            if idle < CHECK_AFTER_IDLE || conn.test_connected().await {
                return Some(conn);
            }
        }
    }

    fn lock_idle(&self) -> MutexGuard<'_, Vec<(AsyncSmtpConnection, Instant)>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Mailer for SmtpMailer {
    async fn send(&self, message: OutgoingMessage) -> DeliveryOutcome {
        let email = match self.sender.build(&message) {
            Ok(email) => email,
            Err(outcome) => {
                tracing::debug!(recipient_id = %message.recipient_id, "recipient address refused before sending");
                return outcome;
            }
        };
        let outcome = self.deliver(email).await;
        tracing::debug!(
            recipient_id = %message.recipient_id,
            campaign_id = %message.campaign_id,
            outcome = outcome_kind(&outcome),
            "SMTP delivery attempt"
        );
        outcome
    }
}

/// `sent`, `transient` or `permanent`, for logs (the text may hold the address).
pub(crate) fn outcome_kind(outcome: &DeliveryOutcome) -> &'static str {
    match outcome {
        DeliveryOutcome::Sent => "sent",
        DeliveryOutcome::Transient(_) => "transient",
        DeliveryOutcome::Permanent(_) => "permanent",
    }
}

/// Classifies a lettre SMTP error: a 5xx reply is permanent, a 4xx reply and everything else
/// (connection refused, timeout, TLS, I/O, malformed reply, shut-down pool) transient.
pub(crate) fn classify(error: &smtp::Error) -> DeliveryOutcome {
    if let Some(code) = error.status() {
        // lettre keeps the reply's text (every line) as the error's source.
        let text = error.source().map(ToString::to_string).unwrap_or_default();
        let reply = format!("{code} {text}").trim_end().to_owned();
        return if error.is_permanent() {
            DeliveryOutcome::Permanent(reply)
        } else {
            DeliveryOutcome::Transient(reply)
        };
    }
    let detail = error_detail(error);
    let text = if error.is_timeout() {
        format!("timed out connecting to the SMTP server: {detail}")
    } else if error.is_tls() {
        format!("TLS error with the SMTP server: {detail}")
    } else if error.is_response() {
        format!("unreadable reply from the SMTP server: {detail}")
    } else if error.is_client() {
        format!("SMTP client error: {detail}")
    } else if error.is_transport_shutdown() {
        "the SMTP transport was shut down".to_owned()
    } else {
        format!("could not talk to the SMTP server: {detail}")
    };
    DeliveryOutcome::Transient(text)
}

/// The innermost useful text of an error: its sources joined, without lettre's kind prefix.
fn error_detail(error: &smtp::Error) -> String {
    let mut parts = Vec::new();
    let mut source = error.source();
    while let Some(inner) = source {
        let text = inner.to_string();
        if !parts.iter().any(|p: &String| p.contains(&text)) {
            parts.push(text);
        }
        source = inner.source();
    }
    if parts.is_empty() {
        error.to_string()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_urls_are_refused_without_the_password() {
        for url in [
            "http://user:hunter2@mail.example.org",
            "smtp://user:hunter2@mail.example.org?tls=sometimes",
            "smtp://user:hunter2@:25",
            "user:hunter2@mail.example.org",
        ] {
            let error = SmtpMailer::new(url, "no-reply@example.org", 5).expect_err(url);
            let text = error.to_string();
            assert!(text.starts_with("invalid SMTP_URL "), "{text}");
            assert!(!text.contains("hunter2"), "{text}");
            assert!(!format!("{error:?}").contains("hunter2"), "{error:?}");
        }
    }

    #[test]
    fn the_scheme_is_reported() {
        let error = SmtpMailer::new("http://mail.example.org", "no-reply@example.org", 5)
            .expect_err("http");
        assert!(
            error.to_string().contains("Unknown scheme 'http'"),
            "{error}"
        );
    }

    #[test]
    fn good_urls_are_accepted_and_debug_hides_the_password() {
        for url in [
            "smtp://localhost:2525",
            "smtp://user:hunter2@localhost:2525",
            "smtp://user:p%40ss@mail.example.org?tls=required",
            "smtps://user:hunter2@mail.example.org",
            "smtp://mail.example.org/ehlo.example.org?tls=opportunistic",
        ] {
            let mailer = SmtpMailer::new(url, "Paloma <no-reply@example.org>", 5).expect(url);
            assert!(!format!("{mailer:?}").contains("hunter2"));
            assert!(!mailer.redacted_url().contains("hunter2"));
        }
    }

    #[test]
    fn credentials_without_required_tls_are_flagged() {
        let warning = |url: &str| {
            SmtpMailer::new(url, "no-reply@example.org", 1)
                .expect(url)
                .cleartext_credentials_warning()
        };
        assert!(warning("smtp://user:hunter2@mail.example.org").is_some());
        assert!(warning("smtp://user:hunter2@mail.example.org?tls=opportunistic").is_some());
        assert_eq!(
            warning("smtp://user:hunter2@mail.example.org?tls=required"),
            None
        );
        assert_eq!(warning("smtps://user:hunter2@mail.example.org"), None);
        assert_eq!(
            warning("smtp://localhost:2525"),
            None,
            "no credentials, nothing to leak"
        );
        let text = warning("smtp://user:hunter2@mail.example.org").unwrap_or_default();
        assert!(!text.contains("hunter2"));
    }

    #[test]
    fn a_bad_mail_from_is_refused() {
        let error = SmtpMailer::new("smtp://localhost:2525", "nobody", 5).expect_err("bad from");
        assert!(
            matches!(error, MailerConfigError::InvalidMailFrom { .. }),
            "{error}"
        );
    }
}
