//! The API-side test send: a campaign's message, rendered for one sample recipient, sent now
//! to a few addresses. The API does not send mail: a worker takes the message through the
//! queue ([`JobProducer::send_test`]) and answers each address's outcome. The campaign's
//! counters and recipients are not touched; the audit trail records it.

use std::time::Duration;

use paloma_domain::{
    Action, Actor, CampaignId, DeliveryOutcome, MessageVars, NewCampaignError, PageRequest,
    RecipientInput, TestSample, parse_test_addresses, render_test,
};
use tracing::info;

use crate::campaigns::CampaignService;
use crate::ports::{
    ActivityLog, CampaignStore, Clock, JobProducer, MessageSender, QueueError, RepositoryError,
    TestMessage, TestSendAnswer,
};

/// How long a test send waits for a worker to take and send it. Five messages take well under
/// a second on a working SMTP server.
pub const TEST_SEND_WAIT: Duration = Duration::from_secs(10);

/// What the user asked to test.
#[derive(Debug, Clone, Default)]
pub struct TestSendInput {
    /// The addresses to send to (1 to 5).
    pub to: Vec<String>,
    /// Who the message is rendered for; `None`: the campaign's first recipient.
    pub recipient: Option<RecipientInput>,
}

/// A test send a worker took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestSent {
    /// Sent: each address with its outcome.
    Sent(Vec<(String, DeliveryOutcome)>),
    /// Taken by a worker that had not answered in [`TEST_SEND_WAIT`]: being sent to these.
    Taken(Vec<String>),
}

#[derive(Debug, thiserror::Error)]
pub enum TestSendError {
    #[error("campaign not found")]
    NotFound,
    /// The addresses or the sample recipient are invalid, or the message does not render.
    #[error(transparent)]
    Invalid(NewCampaignError),
    /// No worker took the message in time; it was withdrawn, nothing was sent.
    #[error("no worker took the test send")]
    NoWorker,
    #[error("the campaign store is unavailable")]
    Unavailable(#[source] RepositoryError),
    #[error("the queue is unavailable")]
    QueueUnavailable(#[source] QueueError),
    #[error("unexpected error")]
    Unknown(#[source] RepositoryError),
}

impl From<RepositoryError> for TestSendError {
    fn from(e: RepositoryError) -> Self {
        match e {
            RepositoryError::NotFound(_) => Self::NotFound,
            RepositoryError::Unavailable(_) => Self::Unavailable(e),
            _ => Self::Unknown(e),
        }
    }
}

impl<R: CampaignStore + ActivityLog, Q: JobProducer, C: Clock> CampaignService<R, Q, C> {
    /// Renders the campaign's message for the sample recipient and has a worker send it to the
    /// test addresses now (`campaigns:send` is the caller's to check). Any status: a finished
    /// campaign can be looked at again. Nothing of the campaign changes.
    #[tracing::instrument(name = "test_send", skip_all, fields(campaign_id = %id, to = input.to.len()))]
    pub async fn send_test(
        &self,
        id: CampaignId,
        input: TestSendInput,
        actor: &Actor,
    ) -> Result<TestSent, TestSendError> {
        let to = parse_test_addresses(&input.to).map_err(TestSendError::Invalid)?;
        let campaign = self.repo.get(id).await?.ok_or(TestSendError::NotFound)?;
        let body = self
            .repo
            .get_body(id)
            .await?
            .ok_or(TestSendError::NotFound)?;
        let sample = match input.recipient {
            Some(given) => TestSample::Given(given),
            None if campaign.merge_tags => TestSample::Stored(self.first_recipient(id).await?),
            // Rendered as it is: the sample does not matter.
            None => TestSample::Stored(MessageVars::default()),
        };
        let rendered = render_test(&campaign.subject, body, campaign.merge_tags, sample)
            .map_err(TestSendError::Invalid)?;
        let to: Vec<String> = to.iter().map(|a| a.as_str().to_owned()).collect();
        let message = TestMessage {
            campaign: id,
            to: to.clone(),
            subject: rendered.subject.to_string(),
            html: rendered.html.to_string(),
            text: rendered.text.to_string(),
            sender: MessageSender {
                from_name: campaign.from_name,
                from_email: campaign.from_email,
                reply_to: campaign.reply_to,
            },
        };
        let answer = self
            .queue
            .send_test(&message, TEST_SEND_WAIT)
            .await
            .map_err(TestSendError::QueueUnavailable)?;
        let sent = match answer {
            TestSendAnswer::NoWorker => return Err(TestSendError::NoWorker),
            TestSendAnswer::Taken => TestSent::Taken(to),
            TestSendAnswer::Sent(outcomes) => {
                TestSent::Sent(to.into_iter().zip(outcomes).collect())
            }
        };
        self.record(Action::CampaignTested, id, actor).await;
        info!(
            answered = matches!(sent, TestSent::Sent(_)),
            "test message handed to a worker"
        );
        Ok(sent)
    }

    /// The campaign's first recipient (by id) as a message is rendered for it.
    async fn first_recipient(&self, id: CampaignId) -> Result<MessageVars, TestSendError> {
        let page = self
            .repo
            .list_recipients(id, None, PageRequest::new(Some(1), Some(1)))
            .await?;
        let first = page
            .items
            .into_iter()
            .next()
            .ok_or(TestSendError::NotFound)?;
        Ok(MessageVars {
            email: first.email,
            name: first.name,
            fields: first.fields,
            unsubscribe_url: String::new(),
        })
    }
}
