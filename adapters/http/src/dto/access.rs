//! The JSON shapes of API keys and of the audit trail.

use chrono::{DateTime, Utc};
use paloma_domain::{Action, Activity, ApiKey, ApiToken, Page};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// An API key, never its token.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyResponse {
    pub id: Uuid,
    pub name: String,
    /// The token's first 12 characters (`pal_` and 8 more), to tell keys apart.
    #[schema(example = "pal_3kTq9ZxA")]
    pub prefix: String,
    #[schema(example = json!(["campaigns:read", "campaigns:create"]))]
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// When it was revoked; a revoked key proves nothing.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for KeyResponse {
    fn from(k: ApiKey) -> Self {
        Self {
            id: *k.id.as_uuid(),
            name: k.name.as_str().to_owned(),
            prefix: k.prefix,
            scopes: k.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// A new key with its token: shown this once, never again.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedKeyResponse {
    #[serde(flatten)]
    pub key: KeyResponse,
    /// Send it as `Authorization: Bearer <token>`. Only its hash is stored.
    #[schema(pattern = "^pal_[A-Za-z0-9]{43}$")]
    pub token: String,
}

impl From<(ApiKey, ApiToken)> for CreatedKeyResponse {
    fn from((key, token): (ApiKey, ApiToken)) -> Self {
        Self {
            key: key.into(),
            token: token.expose().to_owned(),
        }
    }
}

/// A new API key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateKeyRequest {
    /// What people call it: 1 to 100 characters, no control characters.
    #[schema(
        example = "newsletter team",
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// At least one of `campaigns:read`, `campaigns:create`, `campaigns:send`, `keys:manage`.
    #[schema(min_items = 1, example = json!(["campaigns:read", "campaigns:create"]))]
    pub scopes: Vec<ScopeDto>,
}

/// One permission of an API key.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub enum ScopeDto {
    #[serde(rename = "campaigns:read")]
    CampaignsRead,
    #[serde(rename = "campaigns:create")]
    CampaignsCreate,
    #[serde(rename = "campaigns:send")]
    CampaignsSend,
    #[serde(rename = "keys:manage")]
    KeysManage,
}

impl From<ScopeDto> for paloma_domain::Scope {
    fn from(s: ScopeDto) -> Self {
        match s {
            ScopeDto::CampaignsRead => Self::CampaignsRead,
            ScopeDto::CampaignsCreate => Self::CampaignsCreate,
            ScopeDto::CampaignsSend => Self::CampaignsSend,
            ScopeDto::KeysManage => Self::KeysManage,
        }
    }
}

/// Every API key, revoked ones included, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyList {
    pub items: Vec<KeyResponse>,
}

/// What an entry of the audit trail records.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub enum ActivityAction {
    #[serde(rename = "campaign.created")]
    CampaignCreated,
    #[serde(rename = "campaign.sent")]
    CampaignSent,
    #[serde(rename = "campaign.scheduled")]
    CampaignScheduled,
    #[serde(rename = "campaign.retried")]
    CampaignRetried,
    #[serde(rename = "campaign.paused")]
    CampaignPaused,
    #[serde(rename = "campaign.resumed")]
    CampaignResumed,
    #[serde(rename = "campaign.cancelled")]
    CampaignCancelled,
    #[serde(rename = "campaign.rescheduled")]
    CampaignRescheduled,
    #[serde(rename = "campaign.edited")]
    CampaignEdited,
    #[serde(rename = "campaign.tested")]
    CampaignTested,
    #[serde(rename = "key.created")]
    KeyCreated,
    #[serde(rename = "key.revoked")]
    KeyRevoked,
    #[serde(rename = "suppression.added")]
    SuppressionAdded,
    #[serde(rename = "suppression.removed")]
    SuppressionRemoved,
}

impl From<Action> for ActivityAction {
    fn from(a: Action) -> Self {
        match a {
            Action::CampaignCreated => Self::CampaignCreated,
            Action::CampaignSent => Self::CampaignSent,
            Action::CampaignRetried => Self::CampaignRetried,
            Action::CampaignPaused => Self::CampaignPaused,
            Action::CampaignResumed => Self::CampaignResumed,
            Action::CampaignCancelled => Self::CampaignCancelled,
            Action::CampaignRescheduled => Self::CampaignRescheduled,
            Action::CampaignScheduled => Self::CampaignScheduled,
            Action::CampaignEdited => Self::CampaignEdited,
            Action::CampaignTested => Self::CampaignTested,
            Action::KeyCreated => Self::KeyCreated,
            Action::KeyRevoked => Self::KeyRevoked,
            Action::SuppressionAdded => Self::SuppressionAdded,
            Action::SuppressionRemoved => Self::SuppressionRemoved,
        }
    }
}

/// One entry of the audit trail.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityResponse {
    pub id: Uuid,
    pub action: ActivityAction,
    pub campaign_id: Option<Uuid>,
    /// The key it was done with; null for the command line and `BOOTSTRAP_API_KEY`.
    pub key_id: Option<Uuid>,
    /// That key's name at the time (or `command line`, `BOOTSTRAP_API_KEY`).
    pub key_name: String,
    /// The client's IP address as the API saw it (a proxy's, behind one).
    pub client_address: Option<String>,
    pub at: DateTime<Utc>,
}

impl From<Activity> for ActivityResponse {
    fn from(a: Activity) -> Self {
        Self {
            id: *a.id.as_uuid(),
            action: a.action.into(),
            campaign_id: a.campaign_id.map(|c| *c.as_uuid()),
            key_id: a.key_id.map(|k| *k.as_uuid()),
            key_name: a.key_name,
            client_address: a.client_address,
            at: a.at,
        }
    }
}

/// A page of a campaign's audit trail, oldest first.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActivityPage {
    pub items: Vec<ActivityResponse>,
    pub page: u32,
    pub per_page: u32,
    pub total: u64,
    pub total_pages: u64,
}

impl From<Page<Activity>> for ActivityPage {
    fn from(p: Page<Activity>) -> Self {
        Self {
            total_pages: p.total_pages(),
            page: p.page,
            per_page: p.per_page,
            total: p.total,
            items: p.items.into_iter().map(Into::into).collect(),
        }
    }
}
