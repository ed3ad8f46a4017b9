//! Each binary's metrics listener: the process-wide Prometheus recorder (every `metrics::`
//! call in the crates lands in it) and a small HTTP server on `METRICS_ADDR` that answers
//! `/metrics` in Prometheus's text format and, for the worker, `/healthz` and `/readyz`.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// Bucket bounds (seconds) of every `*_seconds` histogram: from a millisecond (a flush, a
/// simulated message) to a minute (a slow SMTP server).
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Whether the process can do its work: `Err` says what is missing.
pub type ReadyCheck =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// Installs the Prometheus recorder for this process (once; a second call fails).
pub fn install() -> anyhow::Result<PrometheusHandle> {
    PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
        .context("histogram buckets")?
        .install_recorder()
        .context("installing the metrics recorder")
}

#[derive(Clone)]
struct Listener {
    handle: PrometheusHandle,
    ready: Option<ReadyCheck>,
}

/// Binds `addr` and serves until `stop`: `/metrics`, and with `ready` also `/healthz` (the
/// process is up) and `/readyz` (`ready` passes). `None` when `addr` cannot be bound (said in
/// the log; the process goes on without metrics).
pub async fn serve(
    addr: SocketAddr,
    handle: PrometheusHandle,
    ready: Option<ReadyCheck>,
    stop: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut app = Router::new().route("/metrics", get(render));
    if ready.is_some() {
        app = app
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/readyz", get(readyz));
    }
    let app = app.with_state(Listener { handle, ready });
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(listener) => listener,
        // Mail matters more than its metrics: the process goes on, and Prometheus sees the
        // target down.
        Err(e) => {
            warn!(%addr, error = %e, "cannot listen on METRICS_ADDR: no metrics from this process (set another address, or empty for none)");
            return None;
        }
    };
    info!(addr = %listener.local_addr().unwrap_or(addr), "metrics listening");
    Some(tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
        {
            warn!(error = %e, "the metrics listener stopped");
        }
    }))
}

async fn render(State(listener): State<Listener>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        listener.handle.render(),
    )
}

async fn readyz(State(listener): State<Listener>) -> impl IntoResponse {
    let Some(ready) = listener.ready else {
        return (StatusCode::OK, "ready\n".to_owned());
    };
    match ready().await {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(missing) => (StatusCode::SERVICE_UNAVAILABLE, format!("{missing}\n")),
    }
}
