//! Building the RFC 5322 message for one recipient.

use lettre::Message;
use lettre::message::Mailbox;
use lettre::message::header::{self, ContentType};
use paloma_application::OutgoingMessage;
use paloma_domain::{DeliveryOutcome, message_id};

use crate::error::MailerConfigError;

/// The sender of every message, with the domain used in `Message-ID`s.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    pub(crate) mailbox: Mailbox,
}

impl Sender {
    /// Parses `MAIL_FROM` (`Name <addr@domain>` or `addr@domain`).
    pub(crate) fn parse(mail_from: &str) -> Result<Self, MailerConfigError> {
        let mailbox = mail_from.trim().parse::<Mailbox>().map_err(|error| {
            MailerConfigError::InvalidMailFrom {
                value: mail_from.to_owned(),
                reason: error.to_string(),
            }
        })?;
        Ok(Sender { mailbox })
    }

    /// The domain of the sender's address, for `Message-ID`s.
    pub(crate) fn domain(&self) -> &str {
        self.mailbox.email.domain()
    }

    /// The message for one recipient. `Permanent` when the recipient's address cannot be used.
    pub(crate) fn build(&self, message: &OutgoingMessage) -> Result<Message, DeliveryOutcome> {
        let address = message.to.trim().parse().map_err(|error| {
            DeliveryOutcome::Permanent(format!(
                "invalid recipient address {:?}: {error}",
                message.to
            ))
        })?;
        let name = message
            .to_name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty());
        let to = Mailbox::new(name.map(str::to_owned), address);
        let id = message_id(message.campaign_id, message.recipient_id, self.domain());

        Message::builder()
            .from(self.mailbox.clone())
            .to(to)
            .subject(&*message.subject)
            .message_id(Some(id))
            .date_now()
            .header(header::MIME_VERSION_1_0)
            .header(ContentType::TEXT_HTML)
            .body(message.html_body.to_string())
            .map_err(|error| {
                DeliveryOutcome::Permanent(format!("cannot build the message: {error}"))
            })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use paloma_domain::{CampaignId, RecipientId};

    use super::*;

    fn outgoing(to: &str, name: Option<&str>) -> OutgoingMessage {
        OutgoingMessage {
            campaign_id: CampaignId::new(),
            recipient_id: RecipientId::new(),
            to: to.to_owned(),
            to_name: name.map(str::to_owned),
            subject: Arc::from("Hello"),
            html_body: Arc::from("<p>Hi</p>"),
        }
    }

    #[test]
    fn mail_from_accepts_a_name_or_a_bare_address() {
        let sender = Sender::parse("Paloma <no-reply@mail.example.org>").expect("valid");
        assert_eq!(sender.domain(), "mail.example.org");
        assert_eq!(sender.mailbox.name.as_deref(), Some("Paloma"));
        let bare = Sender::parse(" news@example.org ").expect("valid");
        assert_eq!(bare.mailbox.name, None);
        assert_eq!(bare.domain(), "example.org");
    }

    #[test]
    fn a_bad_mail_from_is_refused_with_its_value() {
        let error = Sender::parse("Paloma <not an address>").expect_err("invalid");
        let text = error.to_string();
        assert!(
            text.starts_with("invalid MAIL_FROM \"Paloma <not an address>\""),
            "{text}"
        );
    }

    #[test]
    fn headers_are_set() {
        let sender = Sender::parse("Paloma <no-reply@example.org>").expect("valid");
        let out = outgoing("alice@example.org", Some("Alice A"));
        let message = sender.build(&out).expect("builds");
        let raw = String::from_utf8(message.formatted()).expect("utf-8");
        let expected_id = message_id(out.campaign_id, out.recipient_id, "example.org");
        assert!(
            raw.contains("From: Paloma <no-reply@example.org>\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("To: \"Alice A\" <alice@example.org>\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains(&format!("Message-ID: {expected_id}\r\n")),
            "{raw}"
        );
        assert!(raw.contains("MIME-Version: 1.0\r\n"), "{raw}");
        assert!(
            raw.contains("Content-Type: text/html; charset=utf-8\r\n"),
            "{raw}"
        );
        assert!(raw.contains("Date: "), "{raw}");
        let envelope = message.envelope();
        assert_eq!(envelope.to().len(), 1);
        assert_eq!(
            envelope.from().map(ToString::to_string).as_deref(),
            Some("no-reply@example.org")
        );
    }

    #[test]
    fn blank_names_are_left_out() {
        let sender = Sender::parse("no-reply@example.org").expect("valid");
        let raw = String::from_utf8(
            sender
                .build(&outgoing("bob@example.org", Some("  ")))
                .expect("builds")
                .formatted(),
        )
        .expect("utf-8");
        assert!(raw.contains("To: bob@example.org\r\n"), "{raw}");
    }

    #[test]
    fn unusable_addresses_are_permanent_failures() {
        let sender = Sender::parse("no-reply@example.org").expect("valid");
        for bad in ["not-an-address", "a@", "@b.org", "a b@c.org"] {
            match sender.build(&outgoing(bad, None)) {
                Err(DeliveryOutcome::Permanent(text)) => {
                    assert!(
                        text.starts_with(&format!("invalid recipient address {bad:?}")),
                        "{text}"
                    );
                }
                other => panic!("{bad}: expected a permanent failure, got {other:?}"),
            }
        }
    }
}
