//! `paloma-api`: the REST API. `serve` (the default) applies pending migrations, then serves;
//! `migrate` only applies the migrations; `keys` creates, lists and revokes API keys.
//! Configuration comes from the environment (`paloma-api --help` lists it).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use paloma::app::Application;
use paloma::config::{API_VARS, ApiConfig, COMMON_VARS, Env, env_help};
use paloma::{shutdown, telemetry};
use paloma_application::{KeyService, RepositoryError, SystemClock};
use paloma_domain::{Actor, KeyId, Scopes};
use paloma_mysql::MysqlDatabase;
use secrecy::ExposeSecret;
use tracing::{error, info, warn};

/// Paloma's REST API: stores campaigns in MySQL and queues them on Redis for the workers.
#[derive(Debug, Parser)]
#[command(name = "paloma-api", version, after_help = env_help(&[COMMON_VARS, API_VARS]))]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Apply pending migrations, then serve the API until SIGTERM or SIGINT (the default).
    Serve,
    /// Create the database if missing and apply pending migrations, then exit.
    Migrate,
    /// Manage API keys, in the database of DATABASE_URL (migrating it first).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Debug, Subcommand)]
enum KeysAction {
    /// Create a key. Its token is printed once, alone on the last line of standard output: it
    /// cannot be shown again (only its hash is stored).
    Create {
        /// What people call the key (1 to 100 characters).
        #[arg(long)]
        name: String,
        /// Comma-separated: campaigns:read, campaigns:create, campaigns:send, keys:manage.
        #[arg(long)]
        scopes: String,
    },
    /// List the keys (never their tokens), revoked ones included.
    List,
    /// Revoke a key: its token stops working.
    Revoke {
        /// The key's id, as `keys list` shows it.
        id: KeyId,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match ApiConfig::from_env(&Env::process()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("paloma-api: {e}");
            return ExitCode::from(2);
        }
    };
    let command = cli.command.unwrap_or(Command::Serve);
    if matches!(command, Command::Keys { .. }) {
        telemetry::init_to_stderr(config.common.json_logs);
    } else {
        telemetry::init(config.common.json_logs);
    }
    let result = match command {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(&config).await,
        Command::Keys { action } => keys(&config, action).await,
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
    let url = config.common.database_url.expose_secret();
    paloma_mysql::create_database_if_missing(url)
        .await
        .context("creating the database")?;
    let applied = paloma_mysql::run_migrations(url)
        .await
        .context("applying migrations")?;
    info!(applied, "migrations up to date");
    Ok(())
}

/// Creates the database and applies migrations once MySQL answers, retrying with backoff
/// while it cannot be reached (so the API may start before it); any other error ends the
/// start. False when `stop` came first.
async fn migrate_when_reachable(
    config: &ApiConfig,
    stop: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<bool> {
    let url = config.common.database_url.expose_secret();
    let mut tries = 0u32;
    loop {
        let attempt = async {
            paloma_mysql::create_database_if_missing(url).await?;
            paloma_mysql::run_migrations(url).await
        };
        match attempt.await {
            Ok(applied) => {
                info!(applied, "migrations up to date");
                return Ok(true);
            }
            Err(RepositoryError::Unavailable(e)) => {
                tries += 1;
                let wait = Duration::from_millis(500 * 2u64.pow(tries.min(6)))
                    .min(Duration::from_secs(30));
                warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "MySQL is not reachable yet; the API starts once it is");
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = stop.cancelled() => return Ok(false),
                }
            }
            Err(e) => return Err(e).context("creating the database and applying migrations"),
        }
    }
}

/// The key use cases on the configured database.
fn key_service(config: &ApiConfig) -> anyhow::Result<KeyService<MysqlDatabase, SystemClock>> {
    let repo = MysqlDatabase::connect(config.common.database_url.expose_secret(), 2)
        .context("connecting to the database")?;
    Ok(KeyService::new(Arc::new(repo), SystemClock))
}

async fn keys(config: &ApiConfig, action: KeysAction) -> anyhow::Result<()> {
    migrate(config).await?;
    let keys = key_service(config)?;
    match action {
        KeysAction::Create { name, scopes } => {
            let scopes = Scopes::parse_list(&scopes).context("--scopes")?;
            let (key, token) = keys.create(&name, scopes, &Actor::cli()).await?;
            println!("id:      {}", key.id);
            println!("name:    {}", key.name.as_str());
            println!("scopes:  {}", key.scopes);
            println!("prefix:  {}", key.prefix);
            eprintln!(
                "The token follows, on the last line. It is shown only this once: keep it now."
            );
            println!("{}", token.expose());
        }
        KeysAction::List => {
            println!(
                "{:<36}  {:<12}  {:<24}  {:<24}  {:<24}  NAME",
                "ID", "PREFIX", "CREATED", "REVOKED", "SCOPES"
            );
            for key in keys.list().await? {
                let revoked = key
                    .revoked_at
                    .map_or_else(|| "-".to_owned(), |at| at.to_rfc3339());
                println!(
                    "{:<36}  {:<12}  {:<24}  {:<24}  {:<24}  {}",
                    key.id,
                    key.prefix,
                    key.created_at.to_rfc3339(),
                    revoked,
                    key.scopes,
                    key.name.as_str()
                );
            }
        }
        KeysAction::Revoke { id } => {
            let key = keys.revoke(id, &Actor::cli()).await?;
            println!("revoked {} ({})", key.id, key.name.as_str());
        }
    }
    Ok(())
}

async fn serve(config: ApiConfig) -> anyhow::Result<()> {
    let stop = shutdown::on_signal()?;
    if !migrate_when_reachable(&config, &stop).await? {
        info!("paloma-api stopped before MySQL was reachable");
        return Ok(());
    }
    if let Some(token) = &config.bootstrap_api_key {
        if token.expose().starts_with("pal_CHANGEME") {
            warn!(
                "BOOTSTRAP_API_KEY is the public placeholder of docker-compose.yml: anyone who \
                 reads that file can use this API; set your own and revoke the placeholder's key"
            );
        }
        let created = key_service(&config)?
            .ensure_bootstrap(token)
            .await
            .context("creating the BOOTSTRAP_API_KEY key")?;
        match created {
            Some(key) => {
                info!(key_id = %key.id, prefix = key.prefix, "BOOTSTRAP_API_KEY: key created")
            }
            None => info!(
                prefix = token.lookup_prefix(),
                "BOOTSTRAP_API_KEY: key already there"
            ),
        }
    }
    if config.common.unsubscribe_secret.is_none() {
        warn!(
            "UNSUBSCRIBE_SECRET is not set: unsubscribe links cannot be verified, and every \
             /u/... link answers 404"
        );
    }
    if let Some(addr) = config.metrics_addr {
        let handle = paloma::metrics::install()?;
        paloma::metrics::serve(addr, handle, None, stop.clone()).await;
    }
    let app = Application::build(&config).await?;
    info!(
        addr = %app.local_addr(),
        max_connections = config.max_connections,
        "paloma-api listening"
    );
    app.run_until_stopped(async move { stop.cancelled().await })
        .await?;
    info!("paloma-api stopped");
    Ok(())
}
