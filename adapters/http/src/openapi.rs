//! The OpenAPI document, generated from the handlers and DTOs. `openapi.json` at the repository
//! root is this document; a test fails when the committed file is stale.

use utoipa::OpenApi;

use crate::dto::*;
use crate::error::{ErrorBody, ErrorDetail};
use crate::handlers;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Paloma",
        description = "Mass email campaigns: submit a campaign, follow its delivery live.",
        license(name = "MIT")
    ),
    paths(
        handlers::create_campaign,
        handlers::list_campaigns,
        handlers::get_campaign,
        handlers::list_recipients,
        handlers::campaign_timeline,
        handlers::healthz,
        handlers::readyz,
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
    )),
    tags(
        (name = "campaigns", description = "Create campaigns and follow their delivery"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

/// The document as pretty JSON with a trailing newline, as committed in `openapi.json`.
pub fn openapi_json() -> String {
    let mut json = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
