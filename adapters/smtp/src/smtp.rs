//! The SMTP mailer: lettre's pooled async transport, with a bound on open connections, an
//! overall timeout per message, and replies classified into delivery outcomes.

use std::error::Error as _;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use lettre::transport::smtp::{self, AsyncSmtpTransportBuilder, PoolConfig};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use paloma_application::{Mailer, OutgoingMessage};
use paloma_domain::DeliveryOutcome;
use tokio::sync::Semaphore;

use crate::error::{MailerConfigError, redact_url};
use crate::message::Sender;

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Default limit for opening a TCP connection (and the TLS handshake).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// Default limit for one whole message: waiting for a connection, the SMTP dialogue, the data.
const DEFAULT_SEND_TIMEOUT: Duration = Duration::from_secs(120);
/// How long an unused pooled connection is kept open.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// Sends over SMTP with pooled, reused connections.
///
/// At most `concurrency` messages are in the SMTP dialogue at once, hence at most that many
/// connections are open: lettre's pool only caps how many *idle* connections it keeps, so the
/// mailer adds a semaphore to cap the open ones too.
///
/// lettre's own timeout only covers opening the connection; a server that stops answering in
/// the middle of a dialogue is cut by the mailer's overall per-message timeout, which also drops
/// the pool (its connections may be left mid-dialogue) so the next message starts afresh.
pub struct SmtpMailer {
    builder: AsyncSmtpTransportBuilder,
    /// The current transport and its generation; built on first use (building spawns lettre's
    /// pool janitor, which needs a tokio runtime), dropped after a timeout.
    transport: Mutex<(u64, Option<Transport>)>,
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
        let builder =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url).map_err(|error| {
                MailerConfigError::InvalidSmtpUrl {
                    url: redacted_url.clone(),
                    reason: error_detail(&error),
                }
            })?;
        let sender = Sender::parse(mail_from)?;
        let concurrency = concurrency.max(1);
        let pool = PoolConfig::new()
            .max_size(u32::try_from(concurrency).unwrap_or(u32::MAX))
            .idle_timeout(IDLE_TIMEOUT);
        let builder = builder
            .pool_config(pool)
            .timeout(Some(DEFAULT_CONNECT_TIMEOUT));
        Ok(SmtpMailer {
            builder,
            transport: Mutex::new((0, None)),
            sender,
            permits: Semaphore::new(concurrency),
            send_timeout: DEFAULT_SEND_TIMEOUT,
            redacted_url,
        })
    }

    /// Changes the timeouts: `connect` for opening a connection (TCP and TLS), `send` for one
    /// whole message (defaults: 15 s and 120 s).
    pub fn with_timeouts(mut self, connect: Duration, send: Duration) -> Self {
        self.builder = self.builder.timeout(Some(connect));
        self.send_timeout = send;
        *self.lock_transport() = (0, None);
        self
    }

    /// The SMTP URL with its password masked, for logs.
    pub fn redacted_url(&self) -> &str {
        &self.redacted_url
    }

    /// Closes the pooled connections (politely, with `QUIT`). Messages sent afterwards open new
    /// ones.
    pub async fn shutdown(&self) {
        let transport = self.lock_transport().1.take();
        if let Some(transport) = transport {
            transport.shutdown().await;
        }
    }

    /// Sends one built message over a pooled connection and classifies the result.
    async fn deliver(&self, email: lettre::Message) -> DeliveryOutcome {
        let Ok(_permit) = self.permits.acquire().await else {
            // The semaphore is never closed; should it ever be, the message is not lost.
            return DeliveryOutcome::Transient("the SMTP mailer is shut down".to_owned());
        };
        let (generation, transport) = self.transport();
        let sent = tokio::time::timeout(self.send_timeout, transport.send(email)).await;
        // lettre hands the connection back to its pool from a task it spawns when the send
        // ends; let that task run before the permit goes, or the next message may find the
        // pool empty and open one more connection.
        tokio::task::yield_now().await;
        match sent {
            Ok(Ok(_response)) => DeliveryOutcome::Sent,
            Ok(Err(error)) => classify(&error),
            Err(_elapsed) => {
                self.discard_transport(generation);
                DeliveryOutcome::Transient(format!(
                    "the SMTP server did not complete the delivery within {} s",
                    self.send_timeout.as_secs_f32()
                ))
            }
        }
    }

    fn lock_transport(&self) -> MutexGuard<'_, (u64, Option<Transport>)> {
        self.transport
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The current transport and its generation, built if needed.
    fn transport(&self) -> (u64, Transport) {
        let mut guard = self.lock_transport();
        let (generation, slot) = &mut *guard;
        let transport = slot
            .get_or_insert_with(|| self.builder.clone().build())
            .clone();
        (*generation, transport)
    }

    /// Drops the transport of `generation` (unless it was already replaced): its pool closes
    /// its connections once the messages still using it are done.
    fn discard_transport(&self, generation: u64) {
        let mut guard = self.lock_transport();
        if guard.0 == generation {
            *guard = (generation + 1, None);
        }
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
    fn a_bad_mail_from_is_refused() {
        let error = SmtpMailer::new("smtp://localhost:2525", "nobody", 5).expect_err("bad from");
        assert!(
            matches!(error, MailerConfigError::InvalidMailFrom { .. }),
            "{error}"
        );
    }
}
