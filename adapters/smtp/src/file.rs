//! The file mailer: every message becomes an `.eml` file, for running without an SMTP server.

use std::error::Error as _;
use std::path::{Path, PathBuf};

use lettre::{AsyncFileTransport, AsyncTransport, Tokio1Executor};
use paloma_application::{Mailer, OutgoingMessage};
use paloma_domain::DeliveryOutcome;

use crate::error::MailerConfigError;
use crate::message::Sender;
use crate::smtp::outcome_kind;

/// Writes each message as `<uuid>.eml` (the exact bytes an SMTP server would receive) into a
/// directory, created if missing. Every message is `Sent` unless the file cannot be written,
/// which is `Transient` (a full disk may be freed).
#[derive(Debug)]
pub struct FileMailer {
    transport: AsyncFileTransport<Tokio1Executor>,
    dir: PathBuf,
    sender: Sender,
}

impl FileMailer {
    /// A mailer writing into `dir` (created with its parents if missing), sending as
    /// `mail_from` (see [`SmtpMailer::new`](crate::SmtpMailer::new)).
    pub fn new(dir: &Path, mail_from: &str) -> Result<Self, MailerConfigError> {
        let sender = Sender::parse(mail_from)?;
        std::fs::create_dir_all(dir).map_err(|source| MailerConfigError::Outbox {
            path: dir.to_owned(),
            source,
        })?;
        Ok(FileMailer {
            transport: AsyncFileTransport::new(dir),
            dir: dir.to_owned(),
            sender,
        })
    }

    /// The directory the files are written to.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Mailer for FileMailer {
    async fn send(&self, message: OutgoingMessage) -> DeliveryOutcome {
        let outcome = match self.sender.build(&message) {
            Err(outcome) => outcome,
            Ok(email) => match self.transport.send(email).await {
                Ok(_id) => DeliveryOutcome::Sent,
                Err(error) => {
                    let detail = error
                        .source()
                        .map_or_else(|| error.to_string(), ToString::to_string);
                    DeliveryOutcome::Transient(format!(
                        "cannot write the message into {}: {detail}",
                        self.dir.display()
                    ))
                }
            },
        };
        tracing::debug!(
            recipient_id = %message.recipient_id,
            campaign_id = %message.campaign_id,
            outcome = outcome_kind(&outcome),
            "message written to the outbox"
        );
        outcome
    }
}
