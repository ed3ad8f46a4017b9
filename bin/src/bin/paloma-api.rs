//! `paloma-api`: the REST API. Applies pending migrations, then serves.
//! `paloma-api migrate` only applies the migrations.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use futures::FutureExt;
use paloma::config::{ApiConfig, Env};
use paloma::{shutdown, telemetry};
use paloma_application::{CampaignService, SystemClock};
use paloma_cache::CachedCampaignStore;
use paloma_http::{AppState, HttpSettings, LimitedListener, ReadinessCheck};
use paloma_mysql::MysqlCampaignRepository;
use paloma_redis_queue::{QueueSettings, RedisJobQueue};
use tracing::{error, info};

#[tokio::main]
async fn main() -> ExitCode {
    let config = match ApiConfig::from_env(&Env::process()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("paloma-api: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.common.json_logs);
    let result = match std::env::args().nth(1).as_deref() {
        None | Some("serve") => serve(config).await,
        Some("migrate") => migrate(&config).await,
        Some(other) => {
            eprintln!("paloma-api: unknown command {other:?}\nusage: paloma-api [serve|migrate]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!(error = format!("{e:#}"), "paloma-api stopped with an error");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: &ApiConfig) -> anyhow::Result<()> {
    let url = &config.common.database_url;
    paloma_mysql::create_database_if_missing(url)
        .await
        .context("creating the database")?;
    let applied = paloma_mysql::run_migrations(url)
        .await
        .context("applying migrations")?;
    info!(applied, "migrations up to date");
    Ok(())
}

async fn serve(config: ApiConfig) -> anyhow::Result<()> {
    migrate(&config).await?;
    let common = &config.common;
    let repo = MysqlCampaignRepository::connect(&common.database_url, common.db_pool_size)
        .context("connecting to MySQL")?;
    let mut queue_settings = QueueSettings::new(common.redis_url.clone());
    queue_settings.prefix = common.queue_prefix.clone();
    queue_settings.queue_name = common.queue_name.clone();
    let queue = RedisJobQueue::connect(queue_settings)
        .await
        .context("connecting to Redis")?;

    let readiness: ReadinessCheck = {
        let (repo, queue) = (repo.clone(), queue.clone());
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
    };
    let state = AppState {
        campaigns: Arc::new(CampaignService::new(
            Arc::new(CachedCampaignStore::new(repo, config.campaign_cache)),
            Arc::new(queue),
            SystemClock,
            config.max_recipients,
        )),
        readiness,
    };
    let settings = HttpSettings {
        cors_origins: config.cors_origins.clone(),
        max_body_bytes: config.max_body_bytes,
        request_timeout: config.request_timeout,
    };
    let app = paloma_http::router(state, &settings);

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("binding {}", config.addr))?;
    info!(
        addr = %listener.local_addr()?,
        max_connections = config.max_connections,
        "paloma-api listening"
    );
    let listener = LimitedListener::new(listener, config.max_connections, config.idle_timeout);
    let stop = shutdown::on_signal()?;
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
        .context("serving HTTP")?;
    info!("paloma-api stopped");
    Ok(())
}
