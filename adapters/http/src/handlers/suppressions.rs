//! The suppression list: read it (`campaigns:read`), add and remove addresses
//! (`campaigns:send`).

use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use paloma_application::{ActivityLog, Clock, SuppressionError, SuppressionStore};
use paloma_domain::{PageRequest, Suppression};

use super::AuthRefusals;
use crate::AppState;
use crate::auth::{Authorized, ReadCampaigns, SendCampaigns};
use crate::dto::*;
use crate::error::{ApiError, ErrorBody, ErrorCode};
use crate::extract::{ApiJson, ApiQuery};

/// The suppression list, newest first; optionally only the addresses containing a text.
#[utoipa::path(
    get,
    path = "/api/suppressions",
    tag = "suppressions",
    security(("bearer" = ["campaigns:read"])),
    params(SuppressionListQuery),
    responses(
        (status = 200, body = SuppressionPage),
        (status = 400, body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn list_suppressions<R, Q, C, K>(
    _auth: Authorized<ReadCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    ApiQuery(query): ApiQuery<SuppressionListQuery>,
) -> Result<Json<SuppressionPage>, ApiError>
where
    R: SuppressionStore + ActivityLog,
    C: Clock,
{
    let page = PageRequest::parse(query.page, query.per_page)?;
    let search = Suppression::search(query.search.as_deref()).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::InvalidRequest,
            format!("search: {e}"),
        )
    })?;
    let listed = state.suppressions.list(search.as_deref(), page).await?;
    Ok(Json(listed.into()))
}

/// Add addresses to the suppression list (reason `MANUAL`): they get no more messages. An
/// address already listed keeps its first entry. One invalid address and nothing is added.
#[utoipa::path(
    post,
    path = "/api/suppressions",
    tag = "suppressions",
    security(("bearer" = ["campaigns:send"])),
    request_body = AddSuppressionsRequest,
    responses(
        (status = 200, body = AddSuppressionsResponse),
        (status = 400, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "Invalid addresses (each by its index and value, the first 100) or not 1 to 1,000 of them; nothing was added", body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn add_suppressions<R, Q, C, K>(
    auth: Authorized<SendCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    ApiJson(request): ApiJson<AddSuppressionsRequest>,
) -> Result<Json<AddSuppressionsResponse>, ApiError>
where
    R: SuppressionStore + ActivityLog,
    C: Clock,
{
    let emails: Vec<String> = request.emails.into_iter().map(|e| e.0).collect();
    let added = state.suppressions.add(&emails, &auth.actor).await?;
    Ok(Json(added.into()))
}

/// Take an address off the suppression list: it may get messages again.
#[utoipa::path(
    delete,
    path = "/api/suppressions/{email}",
    tag = "suppressions",
    security(("bearer" = ["campaigns:send"])),
    params(("email" = String, Path, description = "The address (any case)")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "The address is not on the list", body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn remove_suppression<R, Q, C, K>(
    auth: Authorized<SendCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    email: Result<Path<String>, PathRejection>,
) -> Result<StatusCode, ApiError>
where
    R: SuppressionStore + ActivityLog,
    C: Clock,
{
    // A path that does not decode names no listed address.
    let Ok(Path(email)) = email else {
        return Err(SuppressionError::NotFound.into());
    };
    state.suppressions.remove(&email, &auth.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}
