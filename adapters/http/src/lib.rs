//! The HTTP adapter: Paloma's REST API (axum), its OpenAPI document (utoipa) and Swagger UI.
//!
//! Handlers parse the request, call one use case and map the result; every error leaves as
//! the one JSON shape of [`error::ApiError`].

pub mod auth;
pub mod dto;
pub mod error;
pub mod extract;
mod handlers;
pub mod listener;
pub mod metrics;
pub mod openapi;
mod serve;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use paloma_application::{
    ActivityLog, CampaignService, CampaignStore, Clock, JobProducer, KeyService, KeyStore,
    SuppressionService, SuppressionStore,
};
use tokio::sync::Semaphore;
use tower_http::cors::CorsLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

pub use auth::AuthFailures;
pub use listener::LimitedListener;
pub use serve::serve;

/// Checks each dependency the API needs; returns `(name, error)` for each one that is down.
pub type ReadinessCheck =
    Arc<dyn Fn() -> BoxFuture<'static, Vec<(&'static str, String)>> + Send + Sync>;

/// What the handlers share.
pub struct AppState<R, Q, C, K> {
    pub campaigns: Arc<CampaignService<R, Q, C>>,
    pub keys: Arc<KeyService<K, C>>,
    /// The suppression list and the one-click unsubscribe, on the campaigns' store.
    pub suppressions: Arc<SuppressionService<R, C>>,
    /// Failed authentications per client address (see [`AuthFailures`]).
    pub auth_failures: Arc<AuthFailures>,
    pub readiness: ReadinessCheck,
}

impl<R, Q, C, K> Clone for AppState<R, Q, C, K> {
    fn clone(&self) -> Self {
        Self {
            campaigns: self.campaigns.clone(),
            keys: self.keys.clone(),
            suppressions: self.suppressions.clone(),
            auth_failures: self.auth_failures.clone(),
            readiness: self.readiness.clone(),
        }
    }
}

/// HTTP-level settings.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Origins allowed by CORS (the dashboard's).
    pub cors_origins: Vec<String>,
    /// Largest request body accepted; larger ones get 413.
    pub max_body_bytes: usize,
    /// A request that takes longer is answered 408.
    pub request_timeout: Duration,
    /// Requests with a body over [`LARGE_BODY_BYTES`] (or of unknown length) handled at once;
    /// one more is answered 503 with `Retry-After` before its body is read. It bounds the
    /// memory that request bodies and their parsing take.
    pub max_large_bodies: usize,
}

/// A body over this many bytes counts against [`HttpSettings::max_large_bodies`].
pub const LARGE_BODY_BYTES: u64 = 1024 * 1024;

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            cors_origins: vec!["http://localhost:3000".into()],
            max_body_bytes: 32 * 1024 * 1024,
            request_timeout: Duration::from_secs(60),
            max_large_bodies: 4,
        }
    }
}

/// The whole application: API routes, health checks, the OpenAPI document and Swagger UI.
pub fn router<R, Q, C, K>(state: AppState<R, Q, C, K>, settings: &HttpSettings) -> Router
where
    R: CampaignStore + ActivityLog + SuppressionStore,
    Q: JobProducer,
    C: Clock,
    K: KeyStore + ActivityLog,
{
    let (routes, spec) = routes::<R, Q, C, K>().split_for_parts();

    let origins: Vec<HeaderValue> = settings
        .cors_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim()).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::LOCATION,
            HeaderName::from_static("idempotent-replayed"),
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
        ])
        .max_age(Duration::from_secs(3600));

    routes
        .merge(SwaggerUi::new("/docs").url("/api/openapi.json", spec))
        .fallback(handlers::not_found)
        .method_not_allowed_fallback(handlers::method_not_allowed)
        .layer(DefaultBodyLimit::max(settings.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            Arc::new(Semaphore::new(
                settings.max_large_bodies.clamp(1, Semaphore::MAX_PERMITS),
            )),
            large_body_budget,
        ))
        // Outside the budget: a request without a valid key never takes a large-body permit.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate::<R, Q, C, K>,
        ))
        .layer(middleware::from_fn_with_state(
            settings.request_timeout,
            time_limit,
        ))
        .layer(cors)
        .layer(TraceLayer::new_for_http())
        .layer(middleware::from_fn(crate::metrics::record))
        .with_state(state)
}

/// Every route with its OpenAPI operation: `routes!` registers a handler and its
/// `#[utoipa::path]` together, so no route is served without being documented.
fn routes<R, Q, C, K>() -> OpenApiRouter<AppState<R, Q, C, K>>
where
    R: CampaignStore + ActivityLog + SuppressionStore,
    Q: JobProducer,
    C: Clock,
    K: KeyStore + ActivityLog,
{
    use handlers::{
        __path_add_suppressions, __path_campaign_activity, __path_campaign_timeline,
        __path_cancel_campaign, __path_create_campaign, __path_create_key,
        __path_duplicate_campaign, __path_edit_campaign, __path_get_campaign, __path_healthz,
        __path_list_campaigns, __path_list_keys, __path_list_recipients, __path_list_suppressions,
        __path_me, __path_pause_campaign, __path_preview_campaign, __path_queue_overview,
        __path_readyz, __path_remove_suppression, __path_reschedule_campaign,
        __path_resume_campaign, __path_retry_failed, __path_revoke_key, __path_send_campaign,
        __path_send_test, __path_unsubscribe_one_click, __path_unsubscribe_page,
    };
    // `routes!` takes a handler by its name; these names stand for the handlers of this
    // application's port types.
    let create_campaign = handlers::create_campaign::<R, Q, C, K>;
    let preview_campaign = handlers::preview_campaign::<R, Q, C, K>;
    let list_campaigns = handlers::list_campaigns::<R, Q, C, K>;
    let get_campaign = handlers::get_campaign::<R, Q, C, K>;
    let send_campaign = handlers::send_campaign::<R, Q, C, K>;
    let retry_failed = handlers::retry_failed::<R, Q, C, K>;
    let send_test = handlers::send_test::<R, Q, C, K>;
    let pause_campaign = handlers::pause_campaign::<R, Q, C, K>;
    let resume_campaign = handlers::resume_campaign::<R, Q, C, K>;
    let cancel_campaign = handlers::cancel_campaign::<R, Q, C, K>;
    let reschedule_campaign = handlers::reschedule_campaign::<R, Q, C, K>;
    let edit_campaign = handlers::edit_campaign::<R, Q, C, K>;
    let duplicate_campaign = handlers::duplicate_campaign::<R, Q, C, K>;
    let list_recipients = handlers::list_recipients::<R, Q, C, K>;
    let campaign_timeline = handlers::campaign_timeline::<R, Q, C, K>;
    let campaign_activity = handlers::campaign_activity::<R, Q, C, K>;
    let me = handlers::me::<R, Q, C, K>;
    let queue_overview = handlers::queue_overview::<R, Q, C, K>;
    let create_key = handlers::create_key::<R, Q, C, K>;
    let list_keys = handlers::list_keys::<R, Q, C, K>;
    let revoke_key = handlers::revoke_key::<R, Q, C, K>;
    let list_suppressions = handlers::list_suppressions::<R, Q, C, K>;
    let add_suppressions = handlers::add_suppressions::<R, Q, C, K>;
    let remove_suppression = handlers::remove_suppression::<R, Q, C, K>;
    let unsubscribe_page = handlers::unsubscribe_page::<R, Q, C, K>;
    let unsubscribe_one_click = handlers::unsubscribe_one_click::<R, Q, C, K>;
    let readyz = handlers::readyz::<R, Q, C, K>;
    let healthz = handlers::healthz;

    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(preview_campaign))
        .routes(routes!(get_campaign, edit_campaign))
        .routes(routes!(duplicate_campaign))
        .routes(routes!(send_campaign))
        .routes(routes!(retry_failed))
        .routes(routes!(send_test))
        .routes(routes!(pause_campaign))
        .routes(routes!(resume_campaign))
        .routes(routes!(cancel_campaign))
        .routes(routes!(reschedule_campaign))
        .routes(routes!(list_recipients))
        .routes(routes!(campaign_timeline))
        .routes(routes!(campaign_activity))
        .routes(routes!(me))
        .routes(routes!(queue_overview))
        .routes(routes!(list_keys, create_key))
        .routes(routes!(revoke_key))
        .routes(routes!(list_suppressions, add_suppressions))
        .routes(routes!(remove_suppression))
        .routes(routes!(unsubscribe_page, unsubscribe_one_click))
        .routes(routes!(healthz))
        .routes(routes!(readyz))
}

/// Lets at most the budget's number of requests with a large body (over [`LARGE_BODY_BYTES`],
/// or chunked: of unknown length) in at once; one more is answered `503 service_unavailable`
/// with `Retry-After: 1` before anything of its body is read. Small requests pass freely.
async fn large_body_budget(
    State(budget): State<Arc<Semaphore>>,
    request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let large = match headers.get(header::CONTENT_LENGTH) {
        Some(length) => length
            .to_str()
            .ok()
            .and_then(|l| l.parse::<u64>().ok())
            .is_none_or(|l| l > LARGE_BODY_BYTES),
        None => headers.contains_key(header::TRANSFER_ENCODING),
    };
    if !large {
        return next.run(request).await;
    }
    match budget.try_acquire_owned() {
        Ok(_permit) => next.run(request).await,
        Err(_) => {
            let mut response = error::ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                error::ErrorCode::ServiceUnavailable,
                "too many large requests are being read at once; retry in a moment",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
    }
}

/// Answers `408 request_timeout` in the one error shape when a request (reading its body
/// included) takes longer than `limit`; the handler's future is dropped, so nothing it had not
/// committed is kept.
async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error::ApiError::new(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            error::ErrorCode::RequestTimeout,
            format!("the request took longer than {} ms", limit.as_millis()),
        )
        .into_response(),
    }
}
