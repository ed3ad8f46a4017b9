//! The handlers of a campaign's moves once posted: send, edit, duplicate, reschedule, pause,
//! resume, cancel and retry the failed. Each parses, calls one use case and maps its answer.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use paloma_application::{ActivityLog, CampaignStore, Clock, JobProducer};
use paloma_domain::{CampaignId, Control, DuplicateRecipients, RetryScope};

use super::AuthRefusals;
use crate::AppState;
use crate::auth::{Authorized, CreateCampaigns, SendCampaigns};
use crate::dto::*;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, IdPath, OptionalApiJson};

/// Send a draft: it becomes `PENDING` and is queued (or `SCHEDULED`, with a delayed job, when
/// it was given a send time still ahead); or send a `SCHEDULED` campaign now. Anything else is
/// `409`.
#[utoipa::path(
    post,
    path = "/api/emails/{id}/send",
    tag = "campaigns",
    security(("bearer" = ["campaigns:send"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 202, description = "Released and queued; sending happens in the background", body = CreateCampaignResponse,
            headers(("Location" = String, description = "The campaign's URL"))),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The campaign is neither a draft nor scheduled (`details.status` says what it is); nothing changed", body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn send_campaign<R, Q, C, K>(
    auth: Authorized<SendCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
) -> Result<impl IntoResponse, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let sent = state
        .campaigns
        .control(CampaignId::from_uuid(id), Control::Send, &auth.actor)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/emails/{id}"))],
        Json(CreateCampaignResponse::from(sent)),
    ))
}

/// Edit a `DRAFT` or `SCHEDULED` campaign: subject, body, the whole recipient list, the send
/// time, each validated as at creation; fields left out stay as they are. Needs
/// `campaigns:create`, and `campaigns:send` for a scheduled campaign (it goes out without
/// another review). Once sending has begun: `409`.
#[utoipa::path(
    patch,
    path = "/api/emails/{id}",
    tag = "campaigns",
    security(("bearer" = ["campaigns:create"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    request_body(content = EditCampaignRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Edited", body = CampaignResponse),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not a draft nor scheduled (`invalid_state`, `details.status`); nothing changed", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn edit_campaign<R, Q, C, K>(
    auth: Authorized<CreateCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
    ApiJson(request): ApiJson<EditCampaignRequest>,
) -> Result<Json<CampaignResponse>, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let edited = state
        .campaigns
        .edit(CampaignId::from_uuid(id), request.into(), &auth.actor)
        .await?;
    Ok(Json(edited.into()))
}

/// Copy a campaign (any status) into a new `DRAFT` with the same subject and body and all its
/// recipients, or only the failed or the unsent ones (`{"recipients": "failed"}`).
#[utoipa::path(
    post,
    path = "/api/emails/{id}/duplicate",
    tag = "campaigns",
    security(("bearer" = ["campaigns:create"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    request_body(content = Option<DuplicateRequest>, description = "Optional: which recipients", content_type = "application/json"),
    responses(
        (status = 201, description = "The new draft", body = CreateCampaignResponse,
            headers(("Location" = String, description = "The new campaign's URL"))),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 409, description = "No recipient in that state (`invalid_state`, `details.status`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn duplicate_campaign<R, Q, C, K>(
    auth: Authorized<CreateCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
    OptionalApiJson(request): OptionalApiJson<DuplicateRequest>,
) -> Result<impl IntoResponse, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let which = request
        .unwrap_or_default()
        .recipients
        .map_or(DuplicateRecipients::All, DuplicateRecipients::from);
    let copy = state
        .campaigns
        .duplicate(CampaignId::from_uuid(id), which, &auth.actor)
        .await?;
    let location = format!("/api/emails/{}", copy.campaign.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(CreateCampaignResponse::from(copy)),
    ))
}

/// Move a scheduled campaign to another send time. Only on `SCHEDULED` (otherwise `409`);
/// `POST .../send` sends it now instead.
#[utoipa::path(
    post,
    path = "/api/emails/{id}/reschedule",
    tag = "campaigns",
    security(("bearer" = ["campaigns:send"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    request_body(content = RescheduleRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Moved; it is sent at the new time", body = ControlledResponse),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not `SCHEDULED` (`invalid_state`, `details.status`); nothing changed", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "The time is not RFC 3339, is in the past or more than a year ahead", body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn reschedule_campaign<R, Q, C, K>(
    auth: Authorized<SendCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
    ApiJson(request): ApiJson<RescheduleRequest>,
) -> Result<Json<ControlledResponse>, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let moved = state
        .campaigns
        .reschedule(CampaignId::from_uuid(id), request.scheduled_at, &auth.actor)
        .await?;
    Ok(Json(moved.into()))
}

/// Pause: the worker sending the campaign starts no new message; once this answers, at most
/// the messages already in flight (no more than its concurrency) leave, and their outcomes are
/// recorded. Pending recipients stay pending until it is resumed. Only on `PENDING` or
/// `PROCESSING` (otherwise `409`).
#[utoipa::path(
    post,
    path = "/api/emails/{id}/pause",
    tag = "campaigns",
    security(("bearer" = ["campaigns:send"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Paused", body = ControlledResponse),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not `PENDING` or `PROCESSING` (`invalid_state`, `details.status`); nothing changed", body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn pause_campaign<R, Q, C, K>(
    auth: Authorized<SendCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
) -> Result<Json<ControlledResponse>, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let paused = state
        .campaigns
        .control(CampaignId::from_uuid(id), Control::Pause, &auth.actor)
        .await?;
    Ok(Json(paused.into()))
}

/// Resume a paused campaign: a new queue job sends the recipients still pending, so everyone
/// gets one message and nobody two. Only on `PAUSED` (otherwise `409`).
#[utoipa::path(
    post,
    path = "/api/emails/{id}/resume",
    tag = "campaigns",
    security(("bearer" = ["campaigns:send"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 202, description = "Queued again; sending happens in the background", body = ControlledResponse,
            headers(("Location" = String, description = "The campaign's URL"))),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not `PAUSED` (`invalid_state`, `details.status`); nothing changed", body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn resume_campaign<R, Q, C, K>(
    auth: Authorized<SendCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
) -> Result<impl IntoResponse, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let resumed = state
        .campaigns
        .control(CampaignId::from_uuid(id), Control::Resume, &auth.actor)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/api/emails/{id}"))],
        Json(ControlledResponse::from(resumed)),
    ))
}

/// Cancel: like a pause, and every recipient still pending becomes `CANCELLED` in the same
/// transaction as the status (counted in `cancelledEmails`). Final: nothing moves a cancelled
/// campaign. A message in flight when it was cancelled is recorded as what became of it. On
/// `DRAFT`, `PENDING`, `PROCESSING` or `PAUSED` (otherwise `409`).
#[utoipa::path(
    post,
    path = "/api/emails/{id}/cancel",
    tag = "campaigns",
    security(("bearer" = ["campaigns:send"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, description = "Cancelled", body = ControlledResponse),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already finished or cancelled (`invalid_state`, `details.status`); nothing changed", body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn cancel_campaign<R, Q, C, K>(
    auth: Authorized<SendCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
) -> Result<Json<ControlledResponse>, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let cancelled = state
        .campaigns
        .control(CampaignId::from_uuid(id), Control::Cancel, &auth.actor)
        .await?;
    Ok(Json(cancelled.into()))
}

/// Send a finished campaign's failed recipients again: they go back to `PENDING` with their
/// counters in one transaction and the campaign is queued. `{"only": "transient"}` leaves the
/// server's permanent refusals failed. Only on `COMPLETED` or `FAILED` (otherwise `409`).
#[utoipa::path(
    post,
    path = "/api/emails/{id}/retry-failed",
    tag = "campaigns",
    security(("bearer" = ["campaigns:send"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    request_body(content = Option<RetryFailedRequest>, description = "Optional: which failed recipients", content_type = "application/json"),
    responses(
        (status = 200, description = "Nothing to retry; nothing changed", body = RetriedResponse),
        (status = 202, description = "Queued again; sending happens in the background", body = RetriedResponse,
            headers(("Location" = String, description = "The campaign's URL"))),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The campaign has not finished (`invalid_state`, `details.status`); nothing changed", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn retry_failed<R, Q, C, K>(
    auth: Authorized<SendCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
    OptionalApiJson(request): OptionalApiJson<RetryFailedRequest>,
) -> Result<impl IntoResponse, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let scope = match request.unwrap_or_default().only {
        Some(RetryOnly::Transient) => RetryScope::Transient,
        None => RetryScope::All,
    };
    let retried = state
        .campaigns
        .retry_failed(CampaignId::from_uuid(id), scope, &auth.actor)
        .await?;
    let status = if retried.requeued > 0 {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        [(header::LOCATION, format!("/api/emails/{id}"))],
        Json(RetriedResponse::from(retried)),
    ))
}
