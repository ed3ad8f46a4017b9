//! The JSON shapes of the API (camelCase), documented for OpenAPI: campaigns, recipients and
//! health here; API keys and the audit trail in [`access`]; the bodies of a campaign's moves in
//! [`lifecycle`].

mod access;
mod lifecycle;
mod suppressions;

pub use access::*;
pub use lifecycle::*;
pub use suppressions::*;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use paloma_application::{CampaignListing, Controlled, CreatedCampaign};
use paloma_domain::{Campaign, NewCampaignInput, Page, Recipient, RecipientInput, Timeline};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A new campaign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCampaignRequest {
    /// One line, 1 to 255 characters, not blank (leading and trailing spaces are removed).
    #[schema(
        example = "Our November newsletter",
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub subject: String,
    /// The HTML body, sent as it is: not blank, at most 2 MiB (UTF-8 bytes).
    #[schema(
        example = "<h1>Hello!</h1><p>News of the month.</p>",
        min_length = 1,
        pattern = r"[^\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub body: String,
    /// At least one recipient; addresses repeated (ignoring case) are sent once. The API's
    /// `MAX_RECIPIENTS` (default 100,000) caps the list: more is 413.
    #[schema(min_items = 1)]
    pub recipients: Vec<RecipientEntry>,
    /// Store the campaign as a `DRAFT`, not sent until a key with `campaigns:send` sends it.
    /// A key without `campaigns:send` always creates a draft.
    #[serde(default)]
    pub draft: bool,
    /// When to send it (RFC 3339, e.g. `2026-12-07T09:00:00+01:00`): in the future, at most a
    /// year ahead (otherwise `422`). The campaign is `SCHEDULED` until then (a draft keeps the
    /// time for when it is sent). Left out: at once.
    #[schema(example = "2026-12-07T08:00:00Z")]
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Its own sender, instead of the server's `MAIL_FROM`: the address must be in one of the
    /// server's `ALLOWED_FROM_DOMAINS` (otherwise `422` on `from.email`).
    pub from: Option<SenderDto>,
    /// Where replies go (`Reply-To`): any address.
    #[schema(example = "help@example.org", format = "email", max_length = 254)]
    pub reply_to: Option<String>,
}

/// A message's sender: an address and a display name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SenderDto {
    /// Display name, at most 200 characters, no control characters.
    #[schema(example = "The Acme team", max_length = 200)]
    pub name: Option<String>,
    #[schema(example = "news@example.org", format = "email", max_length = 254)]
    pub email: String,
}

/// A recipient: a bare address, or an address with a display name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum RecipientEntry {
    #[schema(example = "ann@example.org", format = "email")]
    Address(String),
    Detailed(DetailedRecipient),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DetailedRecipient {
    #[schema(example = "bob@example.org", format = "email", max_length = 254)]
    pub email: String,
    /// Display name, at most 200 characters, no control characters (surrounding spaces are
    /// removed; blank means none).
    #[schema(
        example = "Bob",
        max_length = 200,
        pattern = r"^[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*([^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000])?[\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
    )]
    pub name: Option<String>,
    /// The recipient's data for merge tags: `{{ company }}` in the subject or body reads
    /// `"company"`. Names are identifiers (a letter or `_`, then letters, digits or `_`; at most
    /// 64; not `email`, `name` or `unsubscribe_url`), values strings of at most 1,000
    /// characters; at most 50 fields and 8 KiB in all.
    #[schema(example = json!({"company": "Acme", "plan": "Pro"}))]
    pub fields: Option<BTreeMap<String, String>>,
}

impl From<CreateCampaignRequest> for NewCampaignInput {
    fn from(r: CreateCampaignRequest) -> Self {
        Self {
            subject: r.subject,
            body: r.body,
            recipients: r.recipients.into_iter().map(RecipientInput::from).collect(),
            scheduled_at: r.scheduled_at,
            from: r.from.map(|f| paloma_domain::FromInput {
                name: f.name,
                email: f.email,
            }),
            reply_to: r.reply_to,
        }
    }
}

impl From<RecipientEntry> for RecipientInput {
    fn from(e: RecipientEntry) -> Self {
        match e {
            RecipientEntry::Address(email) => RecipientInput::address(email),
            RecipientEntry::Detailed(d) => RecipientInput {
                email: d.email,
                name: d.name,
                fields: d.fields.unwrap_or_default().into_iter().collect(),
            },
        }
    }
}

/// A message to render for one recipient, as it would be sent (`POST /api/emails/preview`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreviewRequest {
    /// As for a new campaign; may hold merge tags.
    #[schema(example = "News for {{ company }}")]
    pub subject: String,
    /// As for a new campaign; may hold merge tags.
    #[schema(example = "<p>Hello {{ name | default('there') }}</p>")]
    pub body: String,
    /// Whom to render it for: an address, or an address with a name and fields.
    pub recipient: RecipientEntry,
}

/// One recipient's message, rendered.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewResponse {
    /// The subject line as the recipient's client shows it.
    pub subject: String,
    /// The HTML part.
    pub html: String,
    /// The plain-text part, made from the HTML.
    pub text: String,
}

impl From<paloma_domain::RenderedMessage> for PreviewResponse {
    fn from(m: paloma_domain::RenderedMessage) -> Self {
        Self {
            subject: m.subject.to_string(),
            html: m.html.to_string(),
            text: m.text.to_string(),
        }
    }
}

/// Where a campaign is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CampaignStatusDto {
    /// Stored, not sent: a key with `campaigns:send` sends it (`POST /api/emails/{id}/send`).
    Draft,
    /// To be sent at its `scheduledAt` (`POST .../send` sends it now; `POST .../reschedule`
    /// moves it).
    Scheduled,
    Pending,
    Processing,
    /// Stopped by a user: nothing is sent until it is resumed (`POST .../resume`).
    Paused,
    Completed,
    Failed,
    /// Stopped for good by a user: recipients not sent by then are `CANCELLED`.
    Cancelled,
}

impl From<paloma_domain::CampaignStatus> for CampaignStatusDto {
    fn from(s: paloma_domain::CampaignStatus) -> Self {
        use paloma_domain::CampaignStatus as S;
        match s {
            S::Draft => Self::Draft,
            S::Scheduled => Self::Scheduled,
            S::Pending => Self::Pending,
            S::Processing => Self::Processing,
            S::Paused => Self::Paused,
            S::Completed => Self::Completed,
            S::Failed => Self::Failed,
            S::Cancelled => Self::Cancelled,
        }
    }
}

impl From<CampaignStatusDto> for paloma_domain::CampaignStatus {
    fn from(s: CampaignStatusDto) -> Self {
        match s {
            CampaignStatusDto::Draft => Self::Draft,
            CampaignStatusDto::Scheduled => Self::Scheduled,
            CampaignStatusDto::Pending => Self::Pending,
            CampaignStatusDto::Processing => Self::Processing,
            CampaignStatusDto::Paused => Self::Paused,
            CampaignStatusDto::Completed => Self::Completed,
            CampaignStatusDto::Failed => Self::Failed,
            CampaignStatusDto::Cancelled => Self::Cancelled,
        }
    }
}

/// Where a recipient is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RecipientStatusDto {
    Pending,
    Sent,
    Failed,
    /// Not sent: its campaign was cancelled first.
    Cancelled,
    /// Never sent: its address was on the suppression list when the campaign was stored or a
    /// worker started sending it.
    Suppressed,
}

impl From<paloma_domain::RecipientStatus> for RecipientStatusDto {
    fn from(s: paloma_domain::RecipientStatus) -> Self {
        use paloma_domain::RecipientStatus as S;
        match s {
            S::Pending => Self::Pending,
            S::Sent => Self::Sent,
            S::Failed => Self::Failed,
            S::Cancelled => Self::Cancelled,
            S::Suppressed => Self::Suppressed,
        }
    }
}

impl From<RecipientStatusDto> for paloma_domain::RecipientStatus {
    fn from(s: RecipientStatusDto) -> Self {
        match s {
            RecipientStatusDto::Pending => Self::Pending,
            RecipientStatusDto::Sent => Self::Sent,
            RecipientStatusDto::Failed => Self::Failed,
            RecipientStatusDto::Cancelled => Self::Cancelled,
            RecipientStatusDto::Suppressed => Self::Suppressed,
        }
    }
}

/// A campaign and its live counters. `sentEmails + failedEmails + cancelledEmails +
/// suppressedEmails + pendingEmails == totalEmails` always.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignResponse {
    pub id: Uuid,
    pub subject: String,
    pub status: CampaignStatusDto,
    pub total_emails: u32,
    pub sent_emails: u32,
    pub failed_emails: u32,
    /// Not sent because the campaign was cancelled.
    pub cancelled_emails: u32,
    /// Never sent: their address was on the suppression list when the campaign was stored or a
    /// worker started sending it.
    pub suppressed_emails: u32,
    pub pending_emails: u32,
    /// Percent of recipients with a final outcome (sent, failed or cancelled), 0 to 100.
    pub progress: f64,
    /// Submitted entries dropped because the same address (ignoring case) came earlier.
    pub duplicates_removed: u32,
    /// When it is to be sent: a `SCHEDULED` campaign, or a draft given a time.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Why the worker stopped it before every recipient was tried: too many failures (the
    /// failure threshold) or too many failed runs. Null otherwise; cleared by a retry.
    pub stop_reason: Option<String>,
    /// Whether its subject or body has merge tags (`{{ name }}`, ...), rendered for each
    /// recipient. A campaign without them is sent as it is.
    pub merge_tags: bool,
    /// Its own sender; null: the server's `MAIL_FROM`.
    pub from: Option<SenderDto>,
    /// Its `Reply-To`, if any.
    pub reply_to: Option<String>,
    /// Only from `GET /api/emails/{id}`, for a stopped campaign: how many of its failed
    /// recipients were never tried (the rest were tried and failed).
    pub untried_emails: Option<u64>,
    /// Only from `GET /api/emails/{id}`, for a `PENDING` campaign: how many campaigns come
    /// before it (being sent, or waiting with an earlier job).
    pub queued_behind: Option<u64>,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    /// The HTML body; only with `includeBody=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

impl From<Campaign> for CampaignResponse {
    fn from(c: Campaign) -> Self {
        Self {
            id: *c.id.as_uuid(),
            pending_emails: c.pending_emails(),
            progress: (c.progress() * 100.0).round() / 100.0,
            subject: c.subject,
            status: c.status.into(),
            total_emails: c.total_emails,
            sent_emails: c.sent_emails,
            failed_emails: c.failed_emails,
            cancelled_emails: c.cancelled_emails,
            suppressed_emails: c.suppressed_emails,
            duplicates_removed: c.duplicates_removed,
            scheduled_at: c.scheduled_at,
            stop_reason: c.stop_reason,
            merge_tags: c.merge_tags,
            from: c.from_email.map(|email| SenderDto {
                name: c.from_name,
                email,
            }),
            reply_to: c.reply_to,
            untried_emails: None,
            queued_behind: None,
            created_at: c.created_at,
            started_at: c.started_at,
            completed_at: c.completed_at,
            updated_at: c.updated_at,
            body: None,
        }
    }
}

/// The answer to a new campaign (or a draft sent): stored, and queued unless it is a `DRAFT`;
/// follow it at `Location`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateCampaignResponse {
    #[serde(flatten)]
    pub campaign: CampaignResponse,
    /// The same value as `id`: the field the Node stack's integration guide names (its queue
    /// job's `jobUuid` is the campaign's id).
    pub job_id: Uuid,
    /// False for a draft, and when the queue was unreachable: the campaign is stored and the
    /// worker's reconciler enqueues it shortly.
    pub enqueued: bool,
}

/// A draft sent is answered like a new campaign.
impl From<Controlled> for CreateCampaignResponse {
    fn from(c: Controlled) -> Self {
        Self {
            job_id: *c.campaign.id.as_uuid(),
            campaign: c.campaign.into(),
            enqueued: c.enqueued,
        }
    }
}

impl From<CreatedCampaign> for CreateCampaignResponse {
    fn from(c: CreatedCampaign) -> Self {
        Self {
            job_id: *c.campaign.id.as_uuid(),
            campaign: c.campaign.into(),
            enqueued: c.enqueued,
        }
    }
}

/// One recipient of a campaign.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipientResponse {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
    /// Its data for merge tags (`{}` when it has none).
    pub fields: BTreeMap<String, String>,
    pub status: RecipientStatusDto,
    /// For FAILED: why (the mail server's reply). For PENDING after a deferral: the last error.
    pub error: Option<String>,
    pub attempts: u32,
    /// For PENDING: when the next attempt may happen.
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub sent_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<Recipient> for RecipientResponse {
    fn from(r: Recipient) -> Self {
        let pending = !r.status.is_final();
        Self {
            id: *r.id.as_uuid(),
            email: r.email,
            name: r.name,
            fields: r.fields.into_map(),
            status: r.status.into(),
            error: r.error,
            attempts: r.attempts,
            next_attempt_at: pending.then_some(r.next_attempt_at),
            sent_at: r.sent_at,
            updated_at: r.updated_at,
        }
    }
}

/// A page of campaigns, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignPage {
    pub items: Vec<CampaignResponse>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
    pub total_pages: u64,
    /// Campaigns `PENDING` or `PROCESSING` in all, whatever the page and filter: while it is
    /// above 0 a list has counters that still move (on this page or another).
    pub active: u64,
}

/// A page of recipients, in the order they were submitted.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipientPage {
    pub items: Vec<RecipientResponse>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
    pub total_pages: u64,
}

impl From<CampaignListing> for CampaignPage {
    fn from(CampaignListing { page: p, active }: CampaignListing) -> Self {
        Self {
            total_pages: p.total_pages(),
            page: p.page,
            per_page: p.per_page,
            total: p.total,
            items: p.items.into_iter().map(Into::into).collect(),
            active,
        }
    }
}

impl From<Page<Recipient>> for RecipientPage {
    fn from(p: Page<Recipient>) -> Self {
        Self {
            total_pages: p.total_pages(),
            page: p.page,
            per_page: p.per_page,
            total: p.total,
            items: p.items.into_iter().map(Into::into).collect(),
        }
    }
}

/// Pagination parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number (default 1); out of range is 400.
    #[param(minimum = 1, maximum = 2147483647)]
    pub page: Option<u32>,
    /// Items per page, 1 to 200 (default 20); outside that range is 400.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// Options of `GET /api/emails`: a page, and optionally only one status and/or subjects
/// containing a text.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CampaignListQuery {
    /// 1-based page number (default 1); out of range is 400.
    #[param(minimum = 1, maximum = 2147483647)]
    pub page: Option<u32>,
    /// Items per page, 1 to 200 (default 20); outside that range is 400.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// Only campaigns in this status.
    pub status: Option<CampaignStatusDto>,
    /// Only campaigns whose subject contains this text, ignoring case (1 to 255 characters
    /// after trimming, no control characters; otherwise 400).
    #[param(
        min_length = 1,
        max_length = 255,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub q: Option<String>,
}

/// Options of `GET /api/emails/{id}`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    /// Include the HTML body (default false; it can be large).
    pub include_body: Option<bool>,
}

/// Filter and pagination of a campaign's recipients.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecipientQuery {
    /// Only recipients in this status.
    pub status: Option<RecipientStatusDto>,
    /// 1-based page number (default 1); out of range is 400.
    #[param(minimum = 1, maximum = 2147483647)]
    pub page: Option<u32>,
    /// Items per page, 1 to 200 (default 20); outside that range is 400.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// `GET /healthz` and `GET /readyz`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthResponse {
    /// `ok`, `ready` or `unavailable`.
    pub status: String,
    /// For `/readyz`: each dependency that is down, with a short reason.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unavailable: Vec<String>,
}

/// Recipients that reached a final state within one bucket of time.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelinePointResponse {
    /// Start of the bucket (UTC).
    pub at: DateTime<Utc>,
    /// Recipients whose message was accepted by the SMTP server in this bucket.
    pub sent: u64,
    /// Recipients that failed for good in this bucket.
    pub failed: u64,
}

/// A campaign's deliveries over time. The bucket width grows with the campaign's sending time
/// so that the whole campaign fits in at most 120 buckets; empty buckets are left out.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimelineResponse {
    /// Width of each bucket in seconds (1, 2, 5, 10, 15, 30, 60, ... up to 86400).
    pub bucket_seconds: u32,
    /// The non-empty buckets, oldest first.
    pub points: Vec<TimelinePointResponse>,
}

impl From<Timeline> for TimelineResponse {
    fn from(t: Timeline) -> Self {
        Self {
            bucket_seconds: t.bucket_seconds,
            points: t
                .points
                .into_iter()
                .map(|p| TimelinePointResponse {
                    at: p.at,
                    sent: p.sent,
                    failed: p.failed,
                })
                .collect(),
        }
    }
}
