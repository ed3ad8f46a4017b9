//! `paloma-api`: the REST API. `serve` (the default) applies pending migrations, then serves;
//! `migrate` only applies the migrations. Configuration comes from the environment
//! (`paloma-api --help` lists it).

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use paloma::app::Application;
use paloma::config::{API_VARS, ApiConfig, COMMON_VARS, Env, env_help};
use paloma::{shutdown, telemetry};
use secrecy::ExposeSecret;
use tracing::{error, info};

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
    telemetry::init(config.common.json_logs);
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => migrate(&config).await,
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

async fn serve(config: ApiConfig) -> anyhow::Result<()> {
    migrate(&config).await?;
    let app = Application::build(&config).await?;
    info!(
        addr = %app.local_addr(),
        max_connections = config.max_connections,
        "paloma-api listening"
    );
    let stop = shutdown::on_signal()?;
    app.run_until_stopped(async move { stop.cancelled().await })
        .await?;
    info!("paloma-api stopped");
    Ok(())
}
