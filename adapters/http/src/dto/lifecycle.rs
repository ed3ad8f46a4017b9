//! The bodies of a campaign's moves once posted: send, reschedule, pause, resume, cancel and
//! retry the failed.

use chrono::{DateTime, Utc};
use paloma_application::{Controlled, Retried, StopAnswer};
use paloma_domain::{CampaignEditInput, DuplicateRecipients, RecipientInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CampaignResponse, RecipientEntry};

/// A change to a `DRAFT` or `SCHEDULED` campaign (`PATCH /api/emails/{id}`): each field left
/// out stays as it is; each given is validated as at creation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditCampaignRequest {
    /// One line, 1 to 255 characters, not blank.
    #[schema(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub subject: Option<String>,
    /// The HTML body: not blank, at most 2 MiB.
    #[schema(
        min_length = 1,
        pattern = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub body: Option<String>,
    /// The whole new list, replacing the old one (duplicates removed as at creation).
    #[schema(min_items = 1)]
    pub recipients: Option<Vec<RecipientEntry>>,
    /// A new send time (RFC 3339, in the future, at most a year ahead); `null` takes a
    /// draft's time away (a scheduled campaign keeps one: send it to send it now).
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    pub scheduled_at: Option<Option<DateTime<Utc>>>,
}

/// A field that is present, `null` included (`Some(None)`), as opposed to left out (`None`,
/// through `#[serde(default)]`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

impl From<EditCampaignRequest> for CampaignEditInput {
    fn from(r: EditCampaignRequest) -> Self {
        Self {
            subject: r.subject,
            body: r.body,
            recipients: r
                .recipients
                .map(|list| list.into_iter().map(RecipientInput::from).collect()),
            scheduled_at: r.scheduled_at,
        }
    }
}

/// Which recipients a duplicate takes (`POST /api/emails/{id}/duplicate`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DuplicateRequest {
    /// `all` (left out: the same), `failed`, or `unsent` (failed, cancelled or still pending).
    pub recipients: Option<DuplicateWhich>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum DuplicateWhich {
    All,
    Failed,
    Unsent,
}

impl From<DuplicateWhich> for DuplicateRecipients {
    fn from(w: DuplicateWhich) -> Self {
        match w {
            DuplicateWhich::All => Self::All,
            DuplicateWhich::Failed => Self::Failed,
            DuplicateWhich::Unsent => Self::Unsent,
        }
    }
}

/// A scheduled campaign's new send time (`POST /api/emails/{id}/reschedule`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RescheduleRequest {
    /// RFC 3339, in the future, at most a year ahead (otherwise `422`).
    #[schema(example = "2026-12-07T08:00:00Z")]
    pub scheduled_at: DateTime<Utc>,
}

/// The answer to a pause, a resume or a cancel: the campaign as the move left it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ControlledResponse {
    #[serde(flatten)]
    pub campaign: CampaignResponse,
    /// For a resume: whether its queue job was added now (if not, the worker's reconciler adds
    /// it shortly). False for a pause and a cancel.
    pub enqueued: bool,
    /// For a pause or a cancel: what the workers sending the campaign (its job, or shards of
    /// it) answered; null for a resume, or when the queue could not be asked.
    pub worker: Option<WorkerStopDto>,
}

/// Whether a worker was sending the campaign when it was paused or cancelled.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WorkerStopDto {
    /// No worker was sending it: nothing more leaves.
    NotSending,
    /// Every worker sending it confirmed: at most the messages already in flight (no more than
    /// each one's concurrency) still leave, and their outcomes are recorded.
    Stopped,
    /// A worker sending it did not confirm within a few seconds: it stops when it next
    /// records outcomes, or loses the job or its shard.
    Unconfirmed,
}

impl From<Controlled> for ControlledResponse {
    fn from(c: Controlled) -> Self {
        Self {
            campaign: c.campaign.into(),
            enqueued: c.enqueued,
            worker: c.stop.map(|answer| match answer {
                StopAnswer::NotSending => WorkerStopDto::NotSending,
                StopAnswer::Stopped => WorkerStopDto::Stopped,
                StopAnswer::Unconfirmed => WorkerStopDto::Unconfirmed,
            }),
        }
    }
}

/// Which failed recipients to send again (`POST /api/emails/{id}/retry-failed`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetryFailedRequest {
    /// `transient`: only those not refused by the server (given up on after transient
    /// failures, or never tried); a permanent refusal (5xx) stays failed. Left out: every
    /// failed recipient.
    pub only: Option<RetryOnly>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RetryOnly {
    Transient,
}

/// A finished campaign whose failed recipients were queued again.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetriedResponse {
    #[serde(flatten)]
    pub campaign: CampaignResponse,
    /// Recipients moved from `FAILED` back to `PENDING` (0: nothing to retry, nothing changed).
    pub requeued: u32,
    /// Whether the campaign's queue job was added (false when nothing was retried, or the
    /// queue was unreachable: the reconciler then adds it).
    pub enqueued: bool,
}

impl From<Retried> for RetriedResponse {
    fn from(r: Retried) -> Self {
        Self {
            campaign: r.campaign.into(),
            requeued: r.requeued,
            enqueued: r.enqueued,
        }
    }
}
