//! Test sends: a campaign's message that a user asked to see in a real inbox before sending
//! (see [`crate::test_sends`]). Every worker listens for them beside its campaigns; the first
//! to take one sends it to each address, outside any campaign's counters and send rate (five
//! messages at most), and answers the outcomes.

use std::sync::Arc;
use std::time::Duration;

use paloma_domain::{DeliveryOutcome, RecipientId};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::pace::backoff;
use super::{Worker, WorkerPorts};
use crate::ports::{JobConsumer, Mailer, OutgoingMessage, TestSendRequest};

/// The longest wait of one take of a test send.
const TEST_TAKE_TIMEOUT: Duration = Duration::from_millis(250);

impl<P: WorkerPorts> Worker<P> {
    /// Takes test sends until `shutdown` is cancelled. A take is never cut short (a message
    /// taken and then dropped would be lost): the loop checks for shutdown between takes,
    /// each at most [`TEST_TAKE_TIMEOUT`] long, so that a stopping worker exits soon.
    pub(super) async fn serve_test_sends(self, shutdown: CancellationToken) {
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            match self.jobs.take_test_send(TEST_TAKE_TIMEOUT).await {
                Ok(Some(request)) => {
                    failures = 0;
                    self.send_test(request).await;
                }
                Ok(None) => failures = 0,
                Err(e) => {
                    failures += 1;
                    let wait = backoff(failures);
                    if failures == 1 || failures.is_multiple_of(20) {
                        warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "cannot take test sends");
                    }
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = shutdown.cancelled() => {}
                    }
                }
            }
        }
    }

    /// Sends the test message to each of its addresses, one after the other, and answers.
    async fn send_test(&self, request: TestSendRequest) {
        let message = &request.message;
        let subject: Arc<str> = message.subject.as_str().into();
        let html: Arc<str> = message.html.as_str().into();
        let text: Arc<str> = message.text.as_str().into();
        let sender = Arc::new(message.sender.clone());
        let mut outcomes = Vec::with_capacity(message.to.len());
        for to in &message.to {
            let outcome = self
                .mailer
                .send(OutgoingMessage {
                    campaign_id: message.campaign,
                    // Its own Message-ID: a test is no recipient's message.
                    recipient_id: RecipientId::new(),
                    to: to.clone(),
                    to_name: None,
                    subject: Arc::clone(&subject),
                    html_body: Arc::clone(&html),
                    text_body: Arc::clone(&text),
                    sender: Arc::clone(&sender),
                    // A test carries no link that would unsubscribe anyone.
                    unsubscribe: None,
                })
                .await;
            outcomes.push(outcome);
        }
        let sent = outcomes
            .iter()
            .filter(|o| matches!(o, DeliveryOutcome::Sent))
            .count();
        info!(
            campaign_id = %message.campaign,
            addresses = message.to.len(),
            sent,
            "sent a test message"
        );
        if let Err(e) = self.jobs.answer_test_send(&request, &outcomes).await {
            warn!(error = %e, "could not answer a test send; the one who asked is told it is being sent");
        }
    }
}
