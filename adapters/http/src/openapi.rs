//! The OpenAPI document: its info, tags and schemas here, its paths from the routes (see
//! `routes` in lib.rs, which registers each handler together with its `#[utoipa::path]`).
//! `openapi.json` at the repository root is this document; a test fails when the committed file
//! is stale.

use paloma_application::{
    ActivityLog, CampaignStore, Clock, JobProducer, KeyStore, SuppressionStore,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::dto::*;
use crate::error::{
    ErrorBody, ErrorCode, ErrorDetail, ErrorDetails, FieldError, ForbiddenDetails,
    IdempotencyConflictDetails, InvalidRecipientDetail, InvalidStateDetails, RecipientLimitDetails,
    ValidationDetails,
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
        ForbiddenDetails,
        InvalidStateDetails,
        KeyResponse,
        CreatedKeyResponse,
        CreateKeyRequest,
        ScopeDto,
        KeyList,
        ActivityAction,
        ActivityResponse,
        ActivityPage,
        RetryFailedRequest,
        RetryOnly,
        RetriedResponse,
        SuppressionReasonDto,
        SuppressionResponse,
        SuppressionPage,
        AddSuppressionsRequest,
        AddressEntry,
        AddSuppressionsResponse,
        OneClickUnsubscribe,
    )),
    modifiers(&BearerScheme),
    tags(
        (name = "campaigns", description = "Create campaigns, send drafts and follow their delivery"),
        (name = "keys", description = "API keys: who may do what"),
        (name = "suppressions", description = "Addresses that get no more messages"),
        (name = "unsubscribe", description = "One-click unsubscribe links (RFC 8058): public, no API key"),
        (name = "operations", description = "The queue and its workers, as operators see them"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

/// The `bearer` security scheme that every `/api` operation requires: an API key's token in
/// `Authorization: Bearer <token>` (Swagger UI's "Authorize" fills it in).
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("pal_ and 43 letters and digits".into());
        scheme.description = Some(
            "An API key's token. Create one with `paloma-api keys create` or `POST /api/keys`."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The whole document, as the API serves it at `/api/openapi.json`. It does not depend on the
/// port types: they only instantiate the handlers whose routes it describes.
pub fn document<R, Q, C, K>() -> utoipa::openapi::OpenApi
where
    R: CampaignStore + ActivityLog + SuppressionStore,
    Q: JobProducer,
    C: Clock,
    K: KeyStore + ActivityLog,
{
    crate::routes::<R, Q, C, K>().into_openapi()
}

/// The document as pretty JSON with a trailing newline, as committed in `openapi.json`.
pub fn openapi_json<R, Q, C, K>() -> String
where
    R: CampaignStore + ActivityLog + SuppressionStore,
    Q: JobProducer,
    C: Clock,
    K: KeyStore + ActivityLog,
{
    let mut json = document::<R, Q, C, K>()
        .to_pretty_json()
        .unwrap_or_default();
    json.push('\n');
    json
}
