//! The API application, built in one place for `paloma-api serve` and for the HTTP tests:
//! connects MySQL and Redis, builds the readiness check, the campaign service and the router,
//! and binds the listener.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use futures::FutureExt;
use paloma_application::{CampaignService, KeyService, SuppressionService, SystemClock};
use paloma_cache::{CachedCampaignStore, CachedKeyStore};
use paloma_http::{AppState, AuthFailures, HttpSettings, LimitedListener, ReadinessCheck};
use paloma_mysql::MysqlDatabase;
use paloma_redis_queue::{QueueSettings, RedisJobQueue};
use secrecy::ExposeSecret;

use crate::config::ApiConfig;

/// The API, bound and ready to serve.
pub struct Application {
    listener: LimitedListener,
    local_addr: SocketAddr,
    router: Router,
    header_timeout: std::time::Duration,
}

impl Application {
    /// Prepares MySQL and Redis connections (opened when first needed: neither has to be up)
    /// and binds `config.addr` (port 0: any free port). The database must already be migrated
    /// (`paloma-api migrate`, which `serve` runs first, waiting for MySQL).
    pub async fn build(config: &ApiConfig) -> anyhow::Result<Self> {
        let common = &config.common;
        let repo = MysqlDatabase::connect(common.database_url.expose_secret(), common.db_pool_size)
            .context("connecting to MySQL")?;
        let mut queue_settings = QueueSettings::new(common.redis_url.expose_secret());
        queue_settings.prefix = common.queue_prefix.clone();
        queue_settings.queue_name = common.queue_name.clone();
        queue_settings.keep_completed = common.queue_keep_completed;
        queue_settings.keep_failed = common.queue_keep_failed;
        // Made without Redis answering: /readyz says 503 while it is down, campaigns are
        // stored meanwhile, and the worker's reconciler queues them once it is up.
        let queue = RedisJobQueue::new(queue_settings).context("the Redis URL")?;
        if let Err(e) = queue.ping().await {
            tracing::warn!(error = %e, "Redis is not reachable yet: the API serves, /readyz answers 503, and campaigns created meanwhile are queued once it is back");
        }

        let campaigns = Arc::new(CachedCampaignStore::new(
            repo.clone(),
            config.campaign_cache,
        ));
        let state = AppState {
            readiness: readiness(repo.clone(), queue.clone()),
            keys: Arc::new(KeyService::new(
                Arc::new(CachedKeyStore::new(repo.clone(), config.key_cache)),
                SystemClock,
            )),
            auth_failures: Arc::new(AuthFailures::new(
                config.max_auth_failures_per_minute,
                std::time::Duration::from_secs(60),
            )),
            suppressions: Arc::new(SuppressionService::new(
                campaigns.clone(),
                SystemClock,
                config.common.unsubscribe_secret.clone(),
            )),
            campaigns: Arc::new(
                CampaignService::new(
                    campaigns,
                    Arc::new(queue),
                    SystemClock,
                    config.max_recipients,
                )
                .with_allowed_from(config.allowed_from.clone()),
            ),
        };
        let settings = HttpSettings {
            cors_origins: config.cors_origins.clone(),
            max_body_bytes: config.max_body_bytes,
            request_timeout: config.request_timeout,
            max_large_bodies: config.max_large_bodies,
        };
        let router = paloma_http::router(state, &settings);

        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("binding {}", config.addr))?;
        let local_addr = listener.local_addr().context("reading the bound address")?;
        let listener = LimitedListener::new(listener, config.max_connections, config.idle_timeout)
            .with_max_per_client(config.max_connections_per_client);
        Ok(Self {
            listener,
            local_addr,
            router,
            header_timeout: config.header_timeout,
        })
    }

    /// The address the API listens on (the real port when `API_ADDR` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then lets the requests under way finish.
    pub async fn run_until_stopped(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        paloma_http::serve(self.listener, self.router, self.header_timeout, shutdown).await;
        Ok(())
    }
}

/// `GET /readyz`: pings MySQL and Redis, naming each one that is down.
fn readiness(repo: MysqlDatabase, queue: RedisJobQueue) -> ReadinessCheck {
    Arc::new(move || {
        let (repo, queue) = (repo.clone(), queue.clone());
        async move {
            let mut down = Vec::new();
            if let Err(e) = repo.ping().await {
                down.push(("mysql", e.to_string()));
            }
            if let Err(e) = queue.ping().await {
                down.push(("redis", e.to_string()));
            }
            down
        }
        .boxed()
    })
}
