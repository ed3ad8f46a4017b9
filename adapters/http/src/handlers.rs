//! Thin handlers: parse, call one use case, map the result.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, StatusCode, header};
use axum::response::IntoResponse;
use paloma_application::{CampaignStore, Clock, JobProducer};
use paloma_domain::{CampaignId, PageRequest};

use crate::AppState;
use crate::dto::*;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, IdPath, IdempotencyKeyHeader};

/// Create a campaign: validate it, store it with its recipients, queue it.
#[utoipa::path(
    post,
    path = "/api/emails",
    tag = "campaigns",
    request_body = CreateCampaignRequest,
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = r"^[!-~]{1,255}$",
            description = "1-255 visible ASCII characters chosen by the client (e.g. a UUID). A retry with the same key and the same content gets the same campaign back and creates nothing; the same key with different content gets 409."),
    ),
    responses(
        (status = 202, description = "Stored and queued; sending happens in the background", body = CreateCampaignResponse,
            headers(
                ("Location" = String, description = "The campaign's URL"),
                ("Idempotent-Replayed" = String, description = "`true` when an earlier request with the same Idempotency-Key created this campaign"),
            )),
        (status = 400, description = "The body is not JSON, or the Idempotency-Key header is invalid", body = ErrorBody),
        (status = 409, description = "The Idempotency-Key was used for a request with different content", body = ErrorBody),
        (status = 413, description = "Too many recipients or the body is too large", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields: which ones, and which recipients (index and value, first 100)", body = ErrorBody),
        (status = 503, description = "The database is unavailable; nothing was stored", body = ErrorBody),
    )
)]
pub async fn create_campaign<R: CampaignStore, Q: JobProducer, C: Clock>(
    State(state): State<AppState<R, Q, C>>,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    ApiJson(request): ApiJson<CreateCampaignRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let created = state.campaigns.create(request.into(), key).await?;
    let location = format!("/api/emails/{}", created.campaign.id);
    let replayed = if created.replayed { "true" } else { "false" };
    Ok((
        StatusCode::ACCEPTED,
        [
            (header::LOCATION, location),
            (
                HeaderName::from_static(IDEMPOTENT_REPLAYED),
                replayed.to_owned(),
            ),
        ],
        Json(CreateCampaignResponse::from(created)),
    ))
}

/// Response header of `POST /api/emails`: `true` when an earlier request with the same
/// `Idempotency-Key` created the campaign and this one created nothing.
const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// One campaign with its live counters.
#[utoipa::path(
    get,
    path = "/api/emails/{id}",
    tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), CampaignQuery),
    responses(
        (status = 200, body = CampaignResponse),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
    )
)]
pub async fn get_campaign<R: CampaignStore, Q: JobProducer, C: Clock>(
    State(state): State<AppState<R, Q, C>>,
    IdPath(id): IdPath,
    ApiQuery(query): ApiQuery<CampaignQuery>,
) -> Result<Json<CampaignResponse>, ApiError> {
    let id = CampaignId::from_uuid(id);
    let campaign = state.campaigns.get(id).await?;
    let mut response = CampaignResponse::from(campaign);
    if query.include_body.unwrap_or(false) {
        response.body = Some(state.campaigns.get_body(id).await?);
    }
    Ok(Json(response))
}

/// Campaigns, newest first.
#[utoipa::path(
    get,
    path = "/api/emails",
    tag = "campaigns",
    params(PageQuery),
    responses(
        (status = 200, body = CampaignPage),
        (status = 400, body = ErrorBody),
        (status = 503, body = ErrorBody),
    )
)]
pub async fn list_campaigns<R: CampaignStore, Q: JobProducer, C: Clock>(
    State(state): State<AppState<R, Q, C>>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<CampaignPage>, ApiError> {
    let page = PageRequest::parse(query.page, query.per_page)?;
    Ok(Json(state.campaigns.list(page).await?.into()))
}

/// A campaign's recipients, optionally by status, with each failure's error.
#[utoipa::path(
    get,
    path = "/api/emails/{id}/recipients",
    tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), RecipientQuery),
    responses(
        (status = 200, body = RecipientPage),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
    )
)]
pub async fn list_recipients<R: CampaignStore, Q: JobProducer, C: Clock>(
    State(state): State<AppState<R, Q, C>>,
    IdPath(id): IdPath,
    ApiQuery(query): ApiQuery<RecipientQuery>,
) -> Result<Json<RecipientPage>, ApiError> {
    let page = PageRequest::parse(query.page, query.per_page)?;
    let recipients = state
        .campaigns
        .list_recipients(
            CampaignId::from_uuid(id),
            query.status.map(Into::into),
            page,
        )
        .await?;
    Ok(Json(recipients.into()))
}

/// A campaign's deliveries over time (sent and failed per bucket), for its progress chart.
#[utoipa::path(
    get,
    path = "/api/emails/{id}/timeline",
    tag = "campaigns",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, body = TimelineResponse),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
    )
)]
pub async fn campaign_timeline<R: CampaignStore, Q: JobProducer, C: Clock>(
    State(state): State<AppState<R, Q, C>>,
    IdPath(id): IdPath,
) -> Result<Json<TimelineResponse>, ApiError> {
    let timeline = state.campaigns.timeline(CampaignId::from_uuid(id)).await?;
    Ok(Json(timeline.into()))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "health", responses((status = 200, body = HealthResponse)))]
pub async fn healthz() -> Json<HealthResponse> {
    Json(HealthResponse {
        status: "ok".into(),
        unavailable: vec![],
    })
}

/// Readiness: MySQL and Redis answer.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses((status = 200, body = HealthResponse), (status = 503, body = HealthResponse))
)]
pub async fn readyz<R: CampaignStore, Q: JobProducer, C: Clock>(
    State(state): State<AppState<R, Q, C>>,
) -> (StatusCode, Json<HealthResponse>) {
    let down = (state.readiness)().await;
    if down.is_empty() {
        return (
            StatusCode::OK,
            Json(HealthResponse {
                status: "ready".into(),
                unavailable: vec![],
            }),
        );
    }
    for (name, reason) in &down {
        tracing::warn!(dependency = name, %reason, "not ready");
    }
    let unavailable = down.into_iter().map(|(name, _)| name.to_owned()).collect();
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Json(HealthResponse {
            status: "unavailable".into(),
            unavailable,
        }),
    )
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

/// A route that exists, asked with a method it does not have; axum adds the `Allow` header.
pub async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}
