//! The one error shape of the API: `{ "error": { "code", "message", "details"? } }`.
//!
//! `code` is an [`ErrorCode`], `details` one of the typed shapes of [`ErrorDetails`]; both are
//! in the OpenAPI document, so a generated client knows every code and every detail.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paloma_application::{
    CreateCampaignError, KeyError, LifecycleError, QueryError, RepositoryError, SuppressionError,
};
use paloma_domain::{
    CampaignFilterError, NewCampaignError, PageRequestError, Scope, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::dto::CampaignStatusDto;

/// An error response body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    /// For people.
    pub message: String,
    /// Structured details, where they help: which fields and recipients are invalid, the
    /// recipient limit, the campaign an `Idempotency-Key` already names.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub details: Option<ErrorDetails>,
}

/// Stable and machine-readable; new codes may be added.
///
/// - `malformed_json` (400): the body is not JSON (syntax, encoding, nesting deeper than 128).
/// - `invalid_request` (400, 422): a query parameter, the id in the path or the
///   `Idempotency-Key` header is invalid (400); the JSON body does not fit the schema: a missing
///   field, a wrong type, an unknown field (422, `details.fields` names the field).
/// - `validation_failed` (422): values that break the rules (`details` lists the fields and the
///   invalid recipients).
/// - `payload_too_large` (413): too many recipients (`details` gives the limit) or a body over
///   the size limit.
/// - `unsupported_media_type` (415): a body without `Content-Type: application/json`.
/// - `not_found` (404): no such campaign, or no such route.
/// - `method_not_allowed` (405): the route exists but not with this method (the `Allow` header
///   lists the methods it has).
/// - `idempotency_conflict` (409): the `Idempotency-Key` was used for different content
///   (`details.campaignId` names the campaign it created).
/// - `unauthorized` (401): no `Authorization: Bearer` token, or one that is unknown or revoked.
/// - `forbidden` (403): the key lacks the scope the operation needs (`details.requiredScope`).
/// - `too_many_requests` (429): too many failed authentications from this client address;
///   `Retry-After` says when to try again.
/// - `invalid_state` (409): the campaign's status does not allow the operation (sending a
///   campaign that is not a draft, retrying the failed of one that has not finished);
///   `details.status` gives its status.
/// - `request_timeout` (408): the request took longer than the server allows.
/// - `service_unavailable` (503): a dependency is down; nothing was stored.
/// - `internal` (500): an unexpected failure; the cause is in the server's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedJson,
    InvalidRequest,
    ValidationFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    NotFound,
    MethodNotAllowed,
    IdempotencyConflict,
    RequestTimeout,
    ServiceUnavailable,
    Internal,
    Unauthorized,
    Forbidden,
    TooManyRequests,
    InvalidState,
}

impl ErrorCode {
    /// Every code, in the order of the OpenAPI document's enum.
    pub const ALL: [Self; 15] = [
        Self::MalformedJson,
        Self::InvalidRequest,
        Self::ValidationFailed,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::IdempotencyConflict,
        Self::RequestTimeout,
        Self::ServiceUnavailable,
        Self::Internal,
        Self::Unauthorized,
        Self::Forbidden,
        Self::TooManyRequests,
        Self::InvalidState,
    ];
}

/// The details of an error; which shape goes with which code is said on each.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ErrorDetails {
    Validation(ValidationDetails),
    RecipientLimit(RecipientLimitDetails),
    IdempotencyConflict(IdempotencyConflictDetails),
    Forbidden(ForbiddenDetails),
    InvalidState(InvalidStateDetails),
}

/// With `forbidden`: the scope the operation needs and the key lacks.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ForbiddenDetails {
    #[schema(example = "campaigns:send")]
    pub required_scope: String,
}

/// With `invalid_state`: the campaign's status, which does not allow the operation.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvalidStateDetails {
    pub status: CampaignStatusDto,
}

/// With `validation_failed`, and with `invalid_request` when the JSON body does not fit the
/// schema: which fields are wrong, and which recipients.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValidationDetails {
    /// Each problem with one field (for the recipients list: as a whole, or one entry of it).
    pub fields: Vec<FieldError>,
    /// The first 100 recipients whose address or name is invalid.
    pub invalid_recipients: Vec<InvalidRecipientDetail>,
    /// How many recipients are invalid in all (may exceed `invalidRecipients`' length).
    #[schema(minimum = 0)]
    pub invalid_recipient_count: u64,
}

/// One problem with one field of the request body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    /// The field of the request body: `subject`, `body` or `recipients` (for an unknown field,
    /// its name).
    #[schema(example = "recipients")]
    pub field: String,
    /// When the problem concerns one entry of `recipients`: its 0-based position in the list.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    #[schema(minimum = 0, nullable = false)]
    pub index: Option<u64>,
    /// For people.
    pub message: String,
}

/// One submitted recipient that is invalid.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvalidRecipientDetail {
    /// Its 0-based position in the submitted list.
    #[schema(minimum = 0)]
    pub index: u64,
    /// The address as submitted (cut to 320 characters).
    pub value: String,
    /// Why it was refused.
    pub reason: String,
}

/// With `payload_too_large` when the campaign has more recipients than allowed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipientLimitDetails {
    /// The most recipients one campaign may have.
    #[schema(minimum = 0)]
    pub max_recipients: u64,
    /// How many were submitted.
    #[schema(minimum = 0)]
    pub recipients: u64,
}

/// With `idempotency_conflict`.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyConflictDetails {
    /// The campaign the `Idempotency-Key` created.
    pub campaign_id: Uuid,
}

/// An error on its way to becoming a response. Internal causes are logged, never sent.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<ErrorDetails>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: ErrorDetails) -> Self {
        self.details = Some(details);
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("{what} not found"),
        )
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "this route does not support this method; the Allow header lists those it does",
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServiceUnavailable,
            "a dependency of the service is unavailable; try again shortly",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                details: self.details,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<ValidationErrors> for ValidationDetails {
    fn from(errors: ValidationErrors) -> Self {
        Self {
            fields: errors
                .fields
                .into_iter()
                .map(|(field, message)| FieldError {
                    field: field.to_owned(),
                    index: None,
                    message,
                })
                .collect(),
            invalid_recipients: errors
                .invalid_recipients
                .into_iter()
                .map(|r| InvalidRecipientDetail {
                    index: count(r.index),
                    value: r.value,
                    reason: r.reason,
                })
                .collect(),
            invalid_recipient_count: count(errors.invalid_recipient_count),
        }
    }
}

/// A count or position as it is sent (`usize` always fits in `u64` on the targets Paloma runs
/// on; saturates otherwise).
pub(crate) fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

/// A campaign's content refused: too many recipients (413) or invalid fields (422).
pub(crate) fn invalid_campaign(e: NewCampaignError) -> ApiError {
    match e {
        NewCampaignError::TooManyRecipients { max, got } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("too many recipients: {got}, the limit is {max}"),
        )
        .with_details(ErrorDetails::RecipientLimit(RecipientLimitDetails {
            max_recipients: count(max),
            recipients: count(got),
        })),
        NewCampaignError::Invalid(errors) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            "the campaign has invalid fields",
        )
        .with_details(ErrorDetails::Validation(errors.into())),
    }
}

/// `403 forbidden` naming the scope the operation needs.
pub(crate) fn forbidden(scope: Scope) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        ErrorCode::Forbidden,
        format!("this API key lacks the scope this operation needs: {scope}"),
    )
    .with_details(ErrorDetails::Forbidden(ForbiddenDetails {
        required_scope: scope.as_str().to_owned(),
    }))
}

impl From<CreateCampaignError> for ApiError {
    fn from(e: CreateCampaignError) -> Self {
        match e {
            CreateCampaignError::Invalid(invalid) => invalid_campaign(invalid),
            CreateCampaignError::IdempotencyConflict(existing) => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::IdempotencyConflict,
                "this Idempotency-Key was already used for a request with different content",
            )
            .with_details(ErrorDetails::IdempotencyConflict(
                IdempotencyConflictDetails {
                    campaign_id: *existing.as_uuid(),
                },
            )),
            CreateCampaignError::Unavailable(cause) => {
                tracing::warn!(error = %cause, cause = ?cause, "cannot store a campaign");
                Self::unavailable()
            }
            CreateCampaignError::Unknown(cause) => {
                tracing::error!(error = %cause, cause = ?cause, "failed to store a campaign");
                Self::internal()
            }
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        match e {
            QueryError::NotFound => Self::not_found("campaign"),
            QueryError::Unavailable(cause) => {
                tracing::warn!(error = %cause, cause = ?cause, "cannot read campaigns");
                Self::unavailable()
            }
            QueryError::Unknown(cause) => {
                tracing::error!(error = %cause, cause = ?cause, "failed to read campaigns");
                Self::internal()
            }
        }
    }
}

impl From<LifecycleError> for ApiError {
    fn from(e: LifecycleError) -> Self {
        match e {
            LifecycleError::NotFound => Self::not_found("campaign"),
            LifecycleError::InvalidState(status) => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::InvalidState,
                format!("the campaign is {status}, which does not allow this action"),
            )
            .with_details(ErrorDetails::InvalidState(InvalidStateDetails {
                status: status.into(),
            })),
            LifecycleError::Invalid(invalid) => invalid_campaign(invalid),
            LifecycleError::MissingScope(scope) => forbidden(scope),
            LifecycleError::HeldElsewhere(status) => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::InvalidState,
                format!(
                    "the campaign is {status} and a worker that cannot be paused or cancelled (a Node bull worker) is sending it; it will finish"
                ),
            )
            .with_details(ErrorDetails::InvalidState(InvalidStateDetails {
                status: status.into(),
            })),
            LifecycleError::NothingToCopy(status) => Self::new(
                StatusCode::CONFLICT,
                ErrorCode::InvalidState,
                format!("the campaign is {status} and has no recipients in that state to copy"),
            )
            .with_details(ErrorDetails::InvalidState(InvalidStateDetails {
                status: status.into(),
            })),
            LifecycleError::InvalidSchedule(e) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationFailed,
                "the campaign has invalid fields",
            )
            .with_details(ErrorDetails::Validation(
                ValidationErrors {
                    fields: vec![("scheduledAt", e.to_string())],
                    ..ValidationErrors::default()
                }
                .into(),
            )),
            LifecycleError::Unavailable(cause) => {
                tracing::warn!(error = %cause, cause = ?cause, "cannot change a campaign");
                Self::unavailable()
            }
            LifecycleError::Unknown(cause) => {
                tracing::error!(error = %cause, cause = ?cause, "failed to change a campaign");
                Self::internal()
            }
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::InvalidName(reason) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationFailed,
                "the key has invalid fields",
            )
            .with_details(ErrorDetails::Validation(ValidationDetails {
                fields: vec![FieldError {
                    field: "name".into(),
                    index: None,
                    message: reason.to_string(),
                }],
                ..ValidationDetails::default()
            })),
            KeyError::NotFound(_) => Self::not_found("API key"),
            KeyError::Repository(RepositoryError::Unavailable(cause)) => {
                tracing::warn!(error = %cause, "cannot reach the API keys");
                Self::unavailable()
            }
            KeyError::Repository(cause) => {
                tracing::error!(error = %cause, cause = ?cause, "failed to change API keys");
                Self::internal()
            }
        }
    }
}

impl From<SuppressionError> for ApiError {
    fn from(e: SuppressionError) -> Self {
        match e {
            SuppressionError::Invalid(errors) => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::ValidationFailed,
                "the addresses are not all valid; nothing was added",
            )
            .with_details(ErrorDetails::Validation(errors.into())),
            SuppressionError::NotFound => Self::not_found("suppressed address"),
            SuppressionError::InvalidToken => Self::not_found("unsubscribe link"),
            SuppressionError::Repository(RepositoryError::Unavailable(cause)) => {
                tracing::warn!(error = %cause, "cannot reach the suppression list");
                Self::unavailable()
            }
            SuppressionError::Repository(cause) => {
                tracing::error!(error = %cause, cause = ?cause, "failed to use the suppression list");
                Self::internal()
            }
        }
    }
}

/// A request body that could not be read, by the status of axum's rejection: 413 when it is
/// over the body limit.
pub(crate) fn body_error(status: StatusCode) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "the request body is too large",
        )
    } else {
        ApiError::new(
            status,
            ErrorCode::InvalidRequest,
            "the request body could not be read",
        )
    }
}

impl From<CampaignFilterError> for ApiError {
    fn from(e: CampaignFilterError) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            format!("q: {e}"),
        )
    }
}

impl From<PageRequestError> for ApiError {
    fn from(e: PageRequestError) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            e.to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_snake_case_strings_clients_know() {
        let codes: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|c| {
                serde_json::to_value(c)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
            })
            .map(Option::unwrap_or_default)
            .collect();
        assert_eq!(
            codes,
            [
                "malformed_json",
                "invalid_request",
                "validation_failed",
                "payload_too_large",
                "unsupported_media_type",
                "not_found",
                "method_not_allowed",
                "idempotency_conflict",
                "request_timeout",
                "service_unavailable",
                "internal",
                "unauthorized",
                "forbidden",
                "too_many_requests",
                "invalid_state",
            ]
        );
    }

    #[test]
    fn details_keep_their_wire_names() {
        let limit = ErrorDetails::RecipientLimit(RecipientLimitDetails {
            max_recipients: 10,
            recipients: 11,
        });
        assert_eq!(
            serde_json::to_value(limit).ok(),
            Some(serde_json::json!({ "maxRecipients": 10, "recipients": 11 }))
        );
        let id = Uuid::nil();
        let conflict =
            ErrorDetails::IdempotencyConflict(IdempotencyConflictDetails { campaign_id: id });
        assert_eq!(
            serde_json::to_value(conflict).ok(),
            Some(serde_json::json!({ "campaignId": id.to_string() }))
        );
    }
}
