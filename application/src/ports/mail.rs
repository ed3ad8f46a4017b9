//! The mailer's port: one message to one recipient, and sending it.

use std::future::Future;
use std::sync::Arc;

use paloma_domain::{CampaignId, DeliveryOutcome, RecipientId};

/// One message to one recipient. The shared parts are reference-counted, not copied per
/// message.
#[derive(Debug, Clone)]
pub struct OutgoingMessage {
    pub campaign_id: CampaignId,
    pub recipient_id: RecipientId,
    pub to: String,
    pub to_name: Option<String>,
    pub subject: Arc<str>,
    pub html_body: Arc<str>,
    /// The plain-text alternative of the HTML body.
    pub text_body: Arc<str>,
    /// The campaign's own sender, shared by its messages.
    pub sender: Arc<MessageSender>,
    /// Its one-click unsubscribe URL (RFC 8058) and, if configured, a `mailto:` beside it:
    /// the `List-Unsubscribe` and `List-Unsubscribe-Post` headers. `None`: neither header.
    pub unsubscribe: Option<(String, Option<Arc<str>>)>,
}

/// A campaign's own `From` and `Reply-To`; each `None`: the mailer's `MAIL_FROM`, no
/// `Reply-To`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageSender {
    pub from_name: Option<String>,
    pub from_email: Option<String>,
    pub reply_to: Option<String>,
}

/// Sends one message and classifies the result. Never panics on a server's answer.
pub trait Mailer: Send + Sync + 'static {
    fn send(&self, message: OutgoingMessage) -> impl Future<Output = DeliveryOutcome> + Send;
}
