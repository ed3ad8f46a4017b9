//! Serving the API on a [`LimitedListener`]: what `axum::serve` does (HTTP/1 through hyper,
//! graceful shutdown), plus a deadline for each request's headers. `axum::serve` sets none, and
//! the listener's idle timeout restarts with every byte, so a client trickling its headers one
//! byte at a time held a connection for ever; about a thousand such clients took the API down.
//! Each request also carries its client's address (`ConnectInfo<SocketAddr>`).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::extract::Request;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tower::ServiceExt;

use crate::LimitedListener;

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting and waits
/// for the requests under way. A request whose headers have not all arrived `header_timeout`
/// after they started is cut off (its connection closed), however slowly they keep coming.
pub async fn serve(
    mut listener: LimitedListener,
    router: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (io, client) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(client));
                request
            });
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(io), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %client, "connection ended with an error");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
}
