//! Paloma's domain: the validated types, states and rules of a mass email campaign.
//!
//! Nothing here does I/O, is async, or names a framework. Every value that crosses into the
//! domain from outside goes through a fallible constructor, so a value of a domain type is valid
//! by construction.

pub mod access;
pub mod activity;
pub mod campaign;
pub mod delivery;
pub mod edit;
pub mod fields;
pub mod idempotency;
pub mod ids;
pub mod lifecycle;
pub mod links;
pub mod merge;
pub mod page;
pub mod rate;
pub mod recipient;
pub mod sender;
pub mod suppression;
pub mod template;
pub mod test_send;
pub mod threshold;
pub mod timeline;
pub mod unsubscribe;

pub use access::{
    ApiKey, ApiToken, ApiTokenError, KeyName, KeyNameError, Scope, Scopes, ScopesError, TokenHash,
};
pub use activity::{Action, Activity, Actor};
pub use campaign::{
    BodyError, HtmlBody, InvalidRecipient, MAX_SCHEDULE_AHEAD, NewCampaign, NewCampaignError,
    NewCampaignInput, RecipientInput, ScheduleError, Subject, SubjectError, ValidationErrors,
    check_schedule,
};
pub use delivery::{
    DeliveryOutcome, MAX_ERROR_CHARS, Outcome, OutcomeKind, RetryPolicy, hard_bounces,
    is_hard_bounce, message_id, recorded_error,
};
pub use edit::{CampaignEdit, CampaignEditInput, DuplicateRecipients};
pub use fields::{FieldsError, RecipientFields};
pub use idempotency::{
    Idempotency, IdempotencyKey, IdempotencyKeyError, MAX_IDEMPOTENCY_KEY_LEN, RequestFingerprint,
};
pub use ids::{ActivityId, CampaignId, KeyId, RecipientId};
pub use lifecycle::{
    Campaign, CampaignFilter, CampaignFilterError, CampaignStatus, Control, RetryScope,
};
pub use links::UnsubscribeLinks;
pub use merge::{PREVIEW_UNSUBSCRIBE_URL, check_tags, preview};
pub use page::{Page, PageRequest, PageRequestError};
pub use rate::{SendRate, SendRateError};
pub use recipient::{
    EmailAddress, EmailAddressError, NewRecipient, Recipient, RecipientName, RecipientNameError,
    RecipientStatus,
};
pub use sender::{AllowedDomains, AllowedDomainsError, CampaignSender, FromInput};
pub use suppression::{
    MAX_SUPPRESSIONS_PER_REQUEST, Suppression, SuppressionReason, parse_suppression_list,
};
pub use template::{
    MessageTemplate, MessageVars, RenderedMessage, TemplateError, TemplatePart, has_tags,
    html_to_text,
};
pub use test_send::{
    MAX_TEST_ADDRESSES, TEST_SUBJECT_MARK, TestSample, parse_test_addresses, render_test,
};
pub use threshold::{FailureThreshold, FailureThresholdError};
pub use timeline::{MAX_TIMELINE_BUCKETS, Timeline, TimelinePoint};
pub use unsubscribe::{
    Unsubscribe, UnsubscribeSecret, UnsubscribeSecretError, unsubscribe_token,
    verify_unsubscribe_token,
};

/// A state transition that the rules do not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal transition from {from} to {to}")]
pub struct IllegalTransition {
    pub from: &'static str,
    pub to: &'static str,
}
