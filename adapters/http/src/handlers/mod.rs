//! Thin handlers: parse, call one use case, map the result. Each `/api` handler names the
//! permission it needs as its first argument ([`Authorized`]), so no route is served without
//! one and a refused request is answered before its body is read. A campaign's moves once posted
//! (send, edit, duplicate, reschedule, pause, resume, cancel, retry) are in [`lifecycle`].

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, StatusCode, header};
use axum::response::IntoResponse;
use paloma_application::{ActivityLog, CampaignStore, Clock, Intent, JobProducer, KeyStore};
use paloma_domain::{
    CampaignFilter, CampaignId, CampaignStatus, KeyId, PageRequest, Scope, Scopes,
};
use utoipa::IntoResponses;

use crate::AppState;
use crate::auth::{AnyKey, Authorized, CreateCampaigns, ManageKeys, ReadCampaigns};
use crate::dto::*;
use crate::error::{ApiError, ErrorBody, ErrorCode, ErrorDetails, FieldError, ValidationDetails};
use crate::extract::{ApiJson, ApiQuery, IdPath, IdempotencyKeyHeader};

mod lifecycle;
mod monitor;
mod suppressions;
mod test_send;
mod unsubscribe;

pub use lifecycle::*;
pub use monitor::*;
pub use suppressions::*;
pub use test_send::*;
pub use unsubscribe::*;

/// The answers of every operation behind an API key when the key does not do.
#[derive(IntoResponses)]
#[allow(dead_code)] // documentation only: the extractor builds these answers
pub enum AuthRefusals {
    /// No `Authorization: Bearer` token, or an unknown or revoked one (`unauthorized`).
    #[response(status = 401, headers(("WWW-Authenticate" = String, description = "`Bearer`")))]
    Unauthorized(ErrorBody),
    /// The key lacks the scope (`forbidden`; `details.requiredScope` names it).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Too many failed authentications from this address (`too_many_requests`).
    #[response(status = 429, headers(("Retry-After" = String, description = "Seconds to wait")))]
    TooManyRequests(ErrorBody),
}

/// Create a campaign: validate it, store it with its recipients, and queue it, or keep it as a
/// draft. Needs `campaigns:create`; a key that also has `campaigns:send` sends it (`202`)
/// unless `draft` is true, any other key creates a `DRAFT` (`201`) for a key that may send.
#[utoipa::path(
    post,
    path = "/api/emails",
    tag = "campaigns",
    security(("bearer" = ["campaigns:create"])),
    request_body = CreateCampaignRequest,
    params(
        ("Idempotency-Key" = Option<String>, Header, pattern = r"^[!-~]{1,255}$",
            description = "1-255 visible ASCII characters chosen by the client (e.g. a UUID). A retry with the same key and the same content gets the same campaign back and creates nothing; the same key with different content gets 409."),
    ),
    responses(
        (status = 201, description = "Stored as a `DRAFT`: nothing is sent until a key with `campaigns:send` sends it", body = CreateCampaignResponse,
            headers(
                ("Location" = String, description = "The campaign's URL"),
                ("Idempotent-Replayed" = String, description = "`true` when an earlier request with the same Idempotency-Key created this campaign"),
            )),
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
        AuthRefusals,
    )
)]
pub async fn create_campaign<R, Q, C, K>(
    auth: Authorized<CreateCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    ApiJson(request): ApiJson<CreateCampaignRequest>,
) -> Result<impl IntoResponse, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let intent = if request.draft {
        Intent::Draft
    } else {
        Intent::Send
    };
    let created = state
        .campaigns
        .create(request.into(), intent, key, &auth.actor)
        .await?;
    let status = if created.campaign.status == CampaignStatus::Draft {
        StatusCode::CREATED
    } else {
        StatusCode::ACCEPTED
    };
    let location = format!("/api/emails/{}", created.campaign.id);
    let replayed = if created.replayed { "true" } else { "false" };
    Ok((
        status,
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

/// Render a campaign's message for one recipient, as it would be sent: merge tags filled in,
/// the text part made. Needs `campaigns:create`; stores nothing. Refused (`422`) as creation
/// would refuse it: a syntax error, a tag the recipient has no value for.
#[utoipa::path(
    post,
    path = "/api/emails/preview",
    tag = "campaigns",
    security(("bearer" = ["campaigns:create"])),
    request_body = PreviewRequest,
    responses(
        (status = 200, body = PreviewResponse),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields, a merge tag that does not compile or that the recipient has no value for", body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn preview_campaign<R, Q, C, K>(
    _auth: Authorized<CreateCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    ApiJson(request): ApiJson<PreviewRequest>,
) -> Result<Json<PreviewResponse>, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let rendered =
        state
            .campaigns
            .preview(&request.subject, request.body, request.recipient.into())?;
    Ok(Json(rendered.into()))
}

/// Response header of `POST /api/emails`: `true` when an earlier request with the same
/// `Idempotency-Key` created the campaign and this one created nothing.
const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";

/// One campaign with its live counters.
#[utoipa::path(
    get,
    path = "/api/emails/{id}",
    tag = "campaigns",
    security(("bearer" = ["campaigns:read"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), CampaignQuery),
    responses(
        (status = 200, body = CampaignResponse),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn get_campaign<R, Q, C, K>(
    _auth: Authorized<ReadCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
    ApiQuery(query): ApiQuery<CampaignQuery>,
) -> Result<Json<CampaignResponse>, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let id = CampaignId::from_uuid(id);
    let detail = state.campaigns.detail(id).await?;
    let mut response = CampaignResponse::from(detail.campaign);
    response.untried_emails = detail.untried;
    response.queued_behind = detail.queued_behind;
    if query.include_body.unwrap_or(false) {
        response.body = Some(state.campaigns.get_body(id).await?);
    }
    Ok(Json(response))
}

/// Campaigns, newest first; optionally only one status, or those whose subject contains a
/// text.
#[utoipa::path(
    get,
    path = "/api/emails",
    tag = "campaigns",
    security(("bearer" = ["campaigns:read"])),
    params(CampaignListQuery),
    responses(
        (status = 200, body = CampaignPage),
        (status = 400, body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn list_campaigns<R, Q, C, K>(
    _auth: Authorized<ReadCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    ApiQuery(query): ApiQuery<CampaignListQuery>,
) -> Result<Json<CampaignPage>, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let page = PageRequest::parse(query.page, query.per_page)?;
    let filter = CampaignFilter::new(query.status.map(Into::into), query.q.as_deref())?;
    Ok(Json(state.campaigns.list(&filter, page).await?.into()))
}

/// A campaign's recipients, optionally by status, with each failure's error.
#[utoipa::path(
    get,
    path = "/api/emails/{id}/recipients",
    tag = "campaigns",
    security(("bearer" = ["campaigns:read"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), RecipientQuery),
    responses(
        (status = 200, body = RecipientPage),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn list_recipients<R, Q, C, K>(
    _auth: Authorized<ReadCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
    ApiQuery(query): ApiQuery<RecipientQuery>,
) -> Result<Json<RecipientPage>, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
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
    security(("bearer" = ["campaigns:read"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses(
        (status = 200, body = TimelineResponse),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn campaign_timeline<R, Q, C, K>(
    _auth: Authorized<ReadCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
) -> Result<Json<TimelineResponse>, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let timeline = state.campaigns.timeline(CampaignId::from_uuid(id)).await?;
    Ok(Json(timeline.into()))
}

/// A campaign's audit trail, oldest first: who created and sent it, when, from where.
#[utoipa::path(
    get,
    path = "/api/emails/{id}/activity",
    tag = "campaigns",
    security(("bearer" = ["campaigns:read"])),
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), PageQuery),
    responses(
        (status = 200, body = ActivityPage),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn campaign_activity<R, Q, C, K>(
    _auth: Authorized<ReadCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ActivityPage>, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    let page = PageRequest::parse(query.page, query.per_page)?;
    let activity = state
        .campaigns
        .activity(CampaignId::from_uuid(id), page)
        .await?;
    Ok(Json(activity.into()))
}

/// The key this request is made with: its name and scopes.
#[utoipa::path(
    get,
    path = "/api/me",
    tag = "keys",
    security(("bearer" = [])),
    responses(
        (status = 200, body = KeyResponse),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn me<R, Q, C, K>(
    auth: Authorized<AnyKey>,
    State(_state): State<AppState<R, Q, C, K>>,
) -> Json<KeyResponse> {
    Json(auth.key.into())
}

/// Create an API key. Its token is in this answer and nowhere else.
#[utoipa::path(
    post,
    path = "/api/keys",
    tag = "keys",
    security(("bearer" = ["keys:manage"])),
    request_body = CreateKeyRequest,
    responses(
        (status = 201, body = CreatedKeyResponse),
        (status = 400, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, description = "Invalid name or scopes", body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn create_key<R, Q, C, K>(
    auth: Authorized<ManageKeys>,
    State(state): State<AppState<R, Q, C, K>>,
    ApiJson(request): ApiJson<CreateKeyRequest>,
) -> Result<(StatusCode, Json<CreatedKeyResponse>), ApiError>
where
    C: Clock,
    K: KeyStore + ActivityLog,
{
    if request.scopes.is_empty() {
        return Err(invalid_field("scopes", "at least one scope is required"));
    }
    let scopes: Scopes = request.scopes.into_iter().map(Scope::from).collect();
    let created = state
        .keys
        .create(&request.name, scopes, &auth.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Every API key, revoked ones included, oldest first; never a token.
#[utoipa::path(
    get,
    path = "/api/keys",
    tag = "keys",
    security(("bearer" = ["keys:manage"])),
    responses(
        (status = 200, body = KeyList),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn list_keys<R, Q, C, K>(
    _auth: Authorized<ManageKeys>,
    State(state): State<AppState<R, Q, C, K>>,
) -> Result<Json<KeyList>, ApiError>
where
    C: Clock,
    K: KeyStore + ActivityLog,
{
    let keys = state.keys.list().await?;
    Ok(Json(KeyList {
        items: keys.into_iter().map(Into::into).collect(),
    }))
}

/// Revoke an API key: its token stops working at once. Revoking a revoked key changes nothing.
#[utoipa::path(
    delete,
    path = "/api/keys/{id}",
    tag = "keys",
    security(("bearer" = ["keys:manage"])),
    params(("id" = uuid::Uuid, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "The id is not a UUID", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 503, body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn revoke_key<R, Q, C, K>(
    auth: Authorized<ManageKeys>,
    State(state): State<AppState<R, Q, C, K>>,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError>
where
    C: Clock,
    K: KeyStore + ActivityLog,
{
    state.keys.revoke(KeyId::from_uuid(id), &auth.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `422 validation_failed` naming one field.
fn invalid_field(field: &str, message: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::ValidationFailed,
        format!("invalid {field}"),
    )
    .with_details(ErrorDetails::Validation(ValidationDetails {
        fields: vec![FieldError {
            field: field.to_owned(),
            index: None,
            message: message.to_owned(),
        }],
        ..ValidationDetails::default()
    }))
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
pub async fn readyz<R, Q, C, K>(
    State(state): State<AppState<R, Q, C, K>>,
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
