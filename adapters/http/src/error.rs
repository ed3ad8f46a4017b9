//! The one error shape of the API: `{ "error": { "code", "message", "details"? } }`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use paloma_application::{CreateCampaignError, QueryError};
use paloma_domain::{NewCampaignError, PageRequestError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

/// An error response body.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `malformed_json`, `invalid_request`, `validation_failed`,
    /// `payload_too_large`, `unsupported_media_type`, `not_found`, `idempotency_conflict`,
    /// `service_unavailable`,
    /// `request_timeout`, `internal`.
    pub code: String,
    /// For people.
    pub message: String,
    /// Structured details, e.g. which recipients are invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

/// An error on its way to becoming a response. Internal causes are logged, never sent.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "a dependency of the service is unavailable; try again shortly",
        )
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.into(),
                message: self.message,
                details: self.details,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<CreateCampaignError> for ApiError {
    fn from(e: CreateCampaignError) -> Self {
        match e {
            CreateCampaignError::Invalid(NewCampaignError::TooManyRecipients { max, got }) => {
                Self::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    format!("too many recipients: {got}, the limit is {max}"),
                )
                .with_details(json!({ "maxRecipients": max, "recipients": got }))
            }
            CreateCampaignError::Invalid(NewCampaignError::Invalid(errors)) => {
                let fields: Vec<Value> = errors
                    .fields
                    .iter()
                    .map(|(field, message)| json!({ "field": field, "message": message }))
                    .collect();
                let recipients: Vec<Value> = errors
                    .invalid_recipients
                    .iter()
                    .map(|r| json!({ "index": r.index, "value": r.value, "reason": r.reason }))
                    .collect();
                Self::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    "the campaign has invalid fields",
                )
                .with_details(json!({
                    "fields": fields,
                    "invalidRecipients": recipients,
                    "invalidRecipientCount": errors.invalid_recipient_count,
                }))
            }
            CreateCampaignError::IdempotencyConflict(existing) => Self::new(
                StatusCode::CONFLICT,
                "idempotency_conflict",
                "this Idempotency-Key was already used for a request with different content",
            )
            .with_details(json!({ "campaignId": existing.to_string() })),
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

impl From<PageRequestError> for ApiError {
    fn from(e: PageRequestError) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", e.to_string())
    }
}
