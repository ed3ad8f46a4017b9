//! The OpenAPI document: its info, tags and schemas here, its paths from the routes (see
//! `routes` in lib.rs, which registers each handler together with its `#[utoipa::path]`).
//! `openapi.json` at the repository root is this document; a test fails when the committed file
//! is stale.

use paloma_application::{CampaignStore, Clock, JobProducer};
use utoipa::OpenApi;

use crate::dto::*;
use crate::error::{
    ErrorBody, ErrorCode, ErrorDetail, ErrorDetails, FieldError, IdempotencyConflictDetails,
    InvalidRecipientDetail, RecipientLimitDetails, ValidationDetails,
};

/// Everything of the document but its paths.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Paloma",
        description = "Mass email campaigns: submit a campaign, follow its delivery live.",
        license(name = "MIT")
    ),
    components(schemas(
        CreateCampaignRequest,
        RecipientEntry,
        DetailedRecipient,
        CreateCampaignResponse,
        CampaignResponse,
        CampaignStatusDto,
        RecipientResponse,
        RecipientStatusDto,
        CampaignPage,
        RecipientPage,
        TimelineResponse,
        TimelinePointResponse,
        HealthResponse,
        ErrorBody,
        ErrorDetail,
        ErrorCode,
        ErrorDetails,
        ValidationDetails,
        FieldError,
        InvalidRecipientDetail,
        RecipientLimitDetails,
        IdempotencyConflictDetails,
    )),
    tags(
        (name = "campaigns", description = "Create campaigns and follow their delivery"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

/// The whole document, as the API serves it at `/api/openapi.json`. It does not depend on the
/// port types: they only instantiate the handlers whose routes it describes.
pub fn document<R, Q, C>() -> utoipa::openapi::OpenApi
where
    R: CampaignStore,
    Q: JobProducer,
    C: Clock,
{
    crate::routes::<R, Q, C>().into_openapi()
}

/// The document as pretty JSON with a trailing newline, as committed in `openapi.json`.
pub fn openapi_json<R, Q, C>() -> String
where
    R: CampaignStore,
    Q: JobProducer,
    C: Clock,
{
    let mut json = document::<R, Q, C>().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
