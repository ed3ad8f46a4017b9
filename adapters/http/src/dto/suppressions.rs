//! The JSON shapes of the suppression list, and the form of a one-click unsubscribe.

use chrono::{DateTime, Utc};
use paloma_application::Suppressed;
use paloma_domain::{Page, Suppression, SuppressionReason};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Options of `GET /api/suppressions`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuppressionListQuery {
    /// 1-based page number (default 1); out of range is 400.
    #[param(minimum = 1, maximum = 2147483647)]
    pub page: Option<u32>,
    /// Items per page, 1 to 200 (default 20); outside that range is 400.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// Only the addresses that contain this text, ignoring case (1 to 254 characters after
    /// trimming, no control characters; otherwise 400). `%` and `_` are taken literally.
    #[param(
        min_length = 1,
        max_length = 254,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub search: Option<String>,
}

/// Why an address is suppressed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SuppressionReasonDto {
    /// Its owner used the unsubscribe link of a campaign's message.
    Unsubscribed,
    /// The server refused a message to it for good.
    HardBounce,
    /// Added through the API or the dashboard.
    Manual,
}

impl From<SuppressionReason> for SuppressionReasonDto {
    fn from(r: SuppressionReason) -> Self {
        match r {
            SuppressionReason::Unsubscribed => Self::Unsubscribed,
            SuppressionReason::HardBounce => Self::HardBounce,
            SuppressionReason::Manual => Self::Manual,
        }
    }
}

/// An address that gets no more messages.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuppressionResponse {
    /// The address, lowercased.
    #[schema(example = "ada@example.org")]
    pub email: String,
    pub reason: SuppressionReasonDto,
    /// The campaign whose message it came from; null when added by hand.
    pub campaign_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

impl From<Suppression> for SuppressionResponse {
    fn from(s: Suppression) -> Self {
        Self {
            email: s.email,
            reason: s.reason.into(),
            campaign_id: s.campaign_id.map(|c| *c.as_uuid()),
            created_at: s.created_at,
        }
    }
}

/// A page of the suppression list, newest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuppressionPage {
    pub items: Vec<SuppressionResponse>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
    pub total_pages: u64,
}

impl From<Page<Suppression>> for SuppressionPage {
    fn from(p: Page<Suppression>) -> Self {
        Self {
            total_pages: p.total_pages(),
            page: p.page,
            per_page: p.per_page,
            total: p.total,
            items: p.items.into_iter().map(Into::into).collect(),
        }
    }
}

/// Addresses to add to the suppression list.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddSuppressionsRequest {
    /// 1 to 1,000 addresses, each validated as a campaign's recipients are.
    #[schema(min_items = 1, max_items = 1000, example = json!(["ada@example.org"]))]
    pub emails: Vec<AddressEntry>,
}

/// An address as submitted (validated by the API, as a campaign's recipients are).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, format = Email, example = "ada@example.org")]
pub struct AddressEntry(pub String);

/// What adding addresses did. Duplicates within the request count once.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddSuppressionsResponse {
    /// Addresses that were not on the list.
    pub added: u64,
    /// Addresses that were on the list already: their first entry is kept.
    pub already_suppressed: u64,
}

impl From<Suppressed> for AddSuppressionsResponse {
    fn from(s: Suppressed) -> Self {
        Self {
            added: s.added,
            already_suppressed: s.already_suppressed,
        }
    }
}

/// The body of a one-click unsubscribe (RFC 8058 section 3.1), form-encoded or multipart.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OneClickUnsubscribe {
    #[serde(rename = "List-Unsubscribe")]
    #[schema(
        rename = "List-Unsubscribe",
        pattern = "^One-Click$",
        example = "One-Click"
    )]
    pub list_unsubscribe: String,
}
