//! The API's request metrics: every response counted by method, route template (never the raw
//! path, which would make one series per campaign id) and status, and timed.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Requests answered, by `method`, `route` and `status`.
pub const REQUESTS: &str = "paloma_http_requests_total";
/// Time to answer, by `method` and `route`.
pub const DURATION_SECONDS: &str = "paloma_http_request_duration_seconds";

/// What `route` reads for a request that matched no route.
const UNMATCHED: &str = "unmatched";

pub(crate) async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(DURATION_SECONDS, "method" => method, "route" => route)
        .record(started.elapsed());
    response
}
