//! Test sends: one campaign message, rendered by the API, that a worker sends at once to a few
//! addresses so that a user can check it in a real inbox. The API never sends mail itself: it
//! hands the message to whichever worker takes it first, and waits for the outcomes.

use paloma_domain::{CampaignId, DeliveryOutcome};

use super::MessageSender;

/// A campaign's message rendered for one recipient, for the test addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestMessage {
    pub campaign: CampaignId,
    /// Where it goes: 1 to [`MAX_TEST_ADDRESSES`](paloma_domain::MAX_TEST_ADDRESSES) distinct addresses, already validated.
    pub to: Vec<String>,
    /// Already marked as a test.
    pub subject: String,
    pub html: String,
    pub text: String,
    /// The campaign's own sender.
    pub sender: MessageSender,
}

/// A test message a worker took, with where its outcomes go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestSendRequest {
    pub message: TestMessage,
    /// Where the worker answers (the queue adapter's own address for the one who asked).
    pub reply_to: String,
}

/// What became of a test send the API handed to the workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestSendAnswer {
    /// A worker sent it: one outcome per address, in the order of [`TestMessage::to`].
    Sent(Vec<DeliveryOutcome>),
    /// A worker took it but did not answer in time (its SMTP server is slow): it is being sent.
    Taken,
    /// No worker took it in time (none is running, or all are cut off from Redis); it was
    /// withdrawn and will not be sent.
    NoWorker,
}
