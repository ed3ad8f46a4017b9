//! `POST /api/emails/{id}/test`: a campaign's message, sent now to a few addresses for a look
//! in a real inbox. Parses, calls the use case, maps its answer.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use paloma_application::{
    ActivityLog, CampaignStore, Clock, JobProducer, TestSendError, TestSendInput, TestSent,
};
use paloma_domain::{CampaignId, DeliveryOutcome};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AuthRefusals;
use crate::AppState;
use crate::auth::{Authorized, SendCampaigns};
use crate::dto::RecipientEntry;
use crate::error::{ApiError, ErrorBody, ErrorCode, invalid_campaign};
use crate::extract::{ApiJson, IdPath};

/// Where to send a test of the campaign's message, and whom to render it for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TestSendRequest {
    /// 1 to 5 addresses (a repeated one is sent once).
    #[schema(example = json!(["me@example.org"]), min_items = 1, max_items = 5)]
    pub to: Vec<String>,
    /// Whom the merge tags are filled in for: an address, or one with a name and fields. Left
    /// out: the campaign's first recipient. Ignored by a campaign without merge tags.
    pub recipient: Option<RecipientEntry>,
}

/// What became of one test address.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TestSendStatus {
    /// The SMTP server accepted it.
    Sent,
    /// The SMTP server refused it, or could not be reached (`error` says why). Not retried.
    Failed,
    /// A worker took it and is sending it; it did not answer in time.
    Sending,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestSendResult {
    #[schema(example = "me@example.org")]
    pub to: String,
    pub status: TestSendStatus,
    /// The server's reply, when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub error: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestSendResponse {
    /// One per address, in the order given.
    pub results: Vec<TestSendResult>,
}

/// Send the campaign's message now to up to 5 addresses, to check it in a real inbox: its
/// subject starts with `[Test]`, its merge tags are filled in for `recipient`, and its
/// unsubscribe link is a placeholder that unsubscribes nobody. A worker sends it (the API
/// sends no mail); the campaign, its counters and its recipients do not change. Any status.
#[utoipa::path(
    post,
    path = "/api/emails/{id}/test",
    tag = "campaigns",
    security(("bearer" = ["campaigns:send"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    request_body = TestSendRequest,
    responses(
        (status = 200, description = "A worker sent it: each address's outcome", body = TestSendResponse),
        (status = 202, description = "A worker took it and is still sending (a slow SMTP server): every status is `sending`", body = TestSendResponse),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "No address, more than 5, an invalid one, or a recipient the message cannot be rendered for", body = ErrorBody),
        (status = 503, description = "No worker took it within 10 seconds (none is running?), or Redis or the database is unavailable; nothing was sent", body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn send_test<R, Q, C, K>(
    auth: Authorized<SendCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
    ApiJson(request): ApiJson<TestSendRequest>,
) -> Result<(StatusCode, Json<TestSendResponse>), ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let input = TestSendInput {
        to: request.to,
        recipient: request.recipient.map(Into::into),
    };
    let sent = state
        .campaigns
        .send_test(CampaignId::from_uuid(id), input, &auth.actor)
        .await?;
    Ok(match sent {
        TestSent::Sent(outcomes) => (
            StatusCode::OK,
            Json(TestSendResponse {
                results: outcomes.into_iter().map(result_of).collect(),
            }),
        ),
        TestSent::Taken(to) => (
            StatusCode::ACCEPTED,
            Json(TestSendResponse {
                results: to
                    .into_iter()
                    .map(|to| TestSendResult {
                        to,
                        status: TestSendStatus::Sending,
                        error: None,
                    })
                    .collect(),
            }),
        ),
    })
}

fn result_of((to, outcome): (String, DeliveryOutcome)) -> TestSendResult {
    let (status, error) = match outcome {
        DeliveryOutcome::Sent => (TestSendStatus::Sent, None),
        DeliveryOutcome::Transient(e) | DeliveryOutcome::Permanent(e) => {
            (TestSendStatus::Failed, Some(e))
        }
    };
    TestSendResult { to, status, error }
}

impl From<TestSendError> for ApiError {
    fn from(e: TestSendError) -> Self {
        match e {
            TestSendError::NotFound => Self::not_found("campaign"),
            TestSendError::Invalid(invalid) => invalid_campaign(invalid),
            TestSendError::NoWorker => Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ServiceUnavailable,
                "no worker took the test message within 10 seconds (is paloma-worker running?); nothing was sent",
            ),
            TestSendError::Unavailable(cause) => {
                tracing::warn!(error = %cause, cause = ?cause, "cannot read the campaign to test");
                Self::unavailable()
            }
            TestSendError::QueueUnavailable(cause) => {
                tracing::warn!(error = %cause, cause = ?cause, "cannot hand a test send to the workers");
                Self::unavailable()
            }
            TestSendError::Unknown(cause) => {
                tracing::error!(error = %cause, cause = ?cause, "failed to read the campaign to test");
                Self::internal()
            }
        }
    }
}
