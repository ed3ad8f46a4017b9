//! One recipient's message: rendered from the campaign's template in its send task and
//! handed to the mailer.

use std::sync::Arc;

use paloma_domain::{CampaignId, DeliveryOutcome, MessageTemplate, MessageVars, Recipient};

use super::metrics::{self, Held};
use crate::ports::{Mailer, MessageSender, OutgoingMessage};

/// What every message of a run shares, and one recipient's unsubscribe link.
pub(super) struct Letter {
    pub campaign_id: CampaignId,
    pub template: Arc<MessageTemplate>,
    pub sender: Arc<MessageSender>,
    /// The recipient's one-click URL and the `mailto:` beside it, when links are configured.
    pub unsubscribe: Option<(String, Option<Arc<str>>)>,
}

impl Letter {
    /// Renders the message for `recipient` and sends it.
    pub async fn deliver<M: Mailer>(self, mailer: &M, recipient: Recipient) -> DeliveryOutcome {
        let vars = MessageVars {
            email: recipient.email.clone(),
            name: recipient.name.clone(),
            fields: recipient.fields,
            unsubscribe_url: self
                .unsubscribe
                .as_ref()
                .map(|(url, _)| url.clone())
                .unwrap_or_default(),
        };
        match self.template.render(vars) {
            Ok(rendered) => {
                let _in_flight = Held::new(metrics::IN_FLIGHT);
                let started = std::time::Instant::now();
                let outcome = mailer
                    .send(OutgoingMessage {
                        campaign_id: self.campaign_id,
                        recipient_id: recipient.id,
                        to: recipient.email,
                        to_name: recipient.name,
                        subject: rendered.subject,
                        html_body: rendered.html,
                        text_body: rendered.text,
                        sender: self.sender,
                        unsubscribe: self.unsubscribe,
                    })
                    .await;
                ::metrics::histogram!(metrics::SEND_SECONDS).record(started.elapsed());
                outcome
            }
            // A value this recipient lacks (a row stored by other means than the API, which
            // checks every recipient): nothing to send, now or later.
            Err(e) => DeliveryOutcome::Permanent(format!(
                "not sent: the {} could not be rendered for this recipient: {e}",
                e.part.field()
            )),
        }
    }
}
