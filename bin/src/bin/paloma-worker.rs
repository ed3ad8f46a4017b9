//! `paloma-worker`: takes campaign jobs from the bull queue and sends them over SMTP (or into
//! `.eml` files when `SMTP_URL` is unset). Stops cleanly on SIGTERM/SIGINT. Configuration
//! comes from the environment (`paloma-worker --help` lists it).

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use paloma::config::{COMMON_VARS, Env, WORKER_VARS, WorkerConfig, env_help};
use paloma::{shutdown, telemetry};
use paloma_application::{SystemClock, Worker, WorkerIdentity, WorkerSettings};
use paloma_domain::{RetryPolicy, UnsubscribeLinks};
use paloma_mysql::MysqlDatabase;
use paloma_redis_queue::{QueueSettings, RedisJobConsumer, RedisJobQueue};
use paloma_smtp::AnyMailer;
use secrecy::ExposeSecret;
use tracing::{error, info, warn};

/// Paloma's worker: takes campaign jobs from the queue and sends their messages, until SIGTERM
/// or SIGINT.
#[derive(Debug, Parser)]
#[command(name = "paloma-worker", version, after_help = env_help(&[COMMON_VARS, WORKER_VARS]))]
struct Cli {}

#[tokio::main]
async fn main() -> ExitCode {
    let Cli {} = Cli::parse();
    let config = match WorkerConfig::from_env(&Env::process()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("paloma-worker: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.common.json_logs);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!(
                error = format!("{e:#}"),
                "paloma-worker stopped with an error"
            );
            ExitCode::FAILURE
        }
    }
}

async fn run(config: WorkerConfig) -> anyhow::Result<()> {
    let common = &config.common;
    let repo = MysqlDatabase::connect(common.database_url.expose_secret(), common.db_pool_size)
        .context("connecting to MySQL")?;
    let mut queue_settings = QueueSettings::new(common.redis_url.expose_secret());
    queue_settings.prefix = common.queue_prefix.clone();
    queue_settings.queue_name = common.queue_name.clone();
    queue_settings.keep_completed = common.queue_keep_completed;
    queue_settings.keep_failed = common.queue_keep_failed;
    queue_settings.lock_duration = config.lock_duration;
    queue_settings.stalled_interval = config.stalled_interval;
    // bull fails a job for good once it stalled more than once (maxStalledCount 1); a campaign
    // whose job failed that way would wait for the reconciler (RECONCILE_INTERVAL_MS) to enqueue
    // it again. A stall means a worker died; the next one resumes from the rows, so returning
    // the job to the queue at once is always safe.
    queue_settings.max_stalled_count = u32::MAX;
    // Neither MySQL nor Redis has to be up yet: every use retries with backoff, and /readyz
    // says 503 until both answer, so start order does not matter.
    let queue = RedisJobQueue::new(queue_settings).context("the Redis URL")?;
    if let Err(e) = queue.ping().await {
        warn!(error = %e, "Redis is not reachable yet; waiting for it (jobs are taken once it answers)");
    }
    let consumer = queue.consumer();
    let throttle_queue = queue.clone();
    let mailer = Arc::new(
        AnyMailer::from_config(
            config.smtp_url.as_ref().map(|url| url.expose_secret()),
            &config.mail_from,
            config.concurrency,
            &config.outbox_dir,
        )
        .context("configuring the mailer")?,
    );

    let batch_size = usize::try_from(config.batch_size).context("WORKER_BATCH_SIZE")?;
    let settings = WorkerSettings {
        concurrency: config.concurrency,
        max_campaigns: config.max_campaigns,
        shard_size: config.shard_size,
        shard_lease: config.shard_lease,
        batch_size: config.batch_size,
        flush_size: batch_size.max(config.concurrency),
        retry: RetryPolicy {
            max_attempts: config.retry_max_attempts,
            base_delay: config.retry_base_delay,
            max_delay: Duration::from_secs(30 * 60),
        },
        renew_interval: config.lock_renew,
        // Delayed jobs (retries, scheduled campaigns) are promoted this often, so a scheduled
        // campaign starts within half a second of its time.
        maintenance_interval: config.stalled_interval.min(Duration::from_millis(500)),
        reconcile_interval: config.reconcile_interval,
        // The API enqueues right after storing: a campaign younger than this is left to it.
        reconcile_grace: config.reconcile_interval.min(Duration::from_secs(10)),
        failure_threshold: config.failure_threshold,
        max_failed_runs: config.max_failed_runs,
        suppress_hard_bounces: config.suppress_hard_bounces,
        unsubscribe: match (&config.public_url, &config.common.unsubscribe_secret) {
            (Some(public_url), Some(secret)) => Some(UnsubscribeLinks {
                public_url: public_url.clone(),
                secret: secret.clone(),
                mailto: config.unsubscribe_mailto.clone(),
            }),
            (public_url, secret) => {
                warn!(
                    public_url_set = public_url.is_some(),
                    unsubscribe_secret_set = secret.is_some(),
                    "messages go out without one-click unsubscribe (List-Unsubscribe): set PUBLIC_URL and UNSUBSCRIBE_SECRET (the API's) to add it; large mailbox providers require it of bulk senders"
                );
                None
            }
        },
        identity: WorkerIdentity {
            host: host_name(),
            ..WorkerIdentity::default()
        },
        ..WorkerSettings::default()
    };
    if let Some(warning) = mailer.cleartext_credentials_warning() {
        warn!(mailer = mailer.describe(), "{warning}");
    }
    info!(
        mailer = mailer.describe(),
        concurrency = config.concurrency,
        queue = %common.queue_name,
        failure_threshold = config
            .failure_threshold
            .map_or_else(|| "off".to_owned(), |t| t.to_string()),
        "paloma-worker started"
    );
    let repo = Arc::new(repo);
    let consumer = Arc::new(consumer);
    let stop = shutdown::on_signal()?;
    if let Some(addr) = config.metrics_addr {
        let handle = paloma::metrics::install()?;
        let ready = readiness(Arc::clone(&repo), Arc::clone(&consumer), mailer.clone());
        tokio::spawn(pool_gauges(Arc::clone(&repo), stop.clone()));
        paloma::metrics::serve(addr, handle, Some(ready), stop.clone()).await;
    }
    let worker = Worker::new(
        repo,
        consumer,
        Arc::new(queue),
        mailer.clone(),
        Arc::new(SystemClock),
        settings,
    );
    match config.send_rate {
        None => worker.run(stop).await,
        Some(rate) => {
            info!(rate = %rate, "sending no faster than SEND_RATE_LIMIT, shared by every worker");
            worker
                .with_throttle(Arc::new(throttle_queue.send_throttle(rate)))
                .run(stop)
                .await;
        }
    }
    mailer.shutdown().await;
    Ok(())
}

/// How long the transport's last check answers `/readyz` (an SMTP session per probe would be
/// rude to the provider).
const TRANSPORT_CHECK_TTL: Duration = Duration::from_secs(30);

/// The transport's last check: when, and what it said.
type TransportCheck = (std::time::Instant, Result<(), String>);

/// `/readyz`: MySQL and Redis answer, and the transport accepts a session (checked at most
/// every [`TRANSPORT_CHECK_TTL`]).
fn readiness(
    repo: Arc<MysqlDatabase>,
    queue: Arc<RedisJobConsumer>,
    mailer: Arc<AnyMailer>,
) -> paloma::metrics::ReadyCheck {
    let last_transport: Arc<tokio::sync::Mutex<Option<TransportCheck>>> = Arc::default();
    Arc::new(move || {
        let (repo, queue, mailer) = (Arc::clone(&repo), Arc::clone(&queue), Arc::clone(&mailer));
        let last_transport = Arc::clone(&last_transport);
        Box::pin(async move {
            let transport = async {
                let mut last = last_transport.lock().await;
                match &*last {
                    Some((at, result)) if at.elapsed() < TRANSPORT_CHECK_TTL => result.clone(),
                    _ => {
                        let result = mailer.check().await;
                        *last = Some((std::time::Instant::now(), result.clone()));
                        result
                    }
                }
            };
            let (db, redis, transport) = tokio::join!(repo.ping(), queue.ping(), transport);
            let missing: Vec<String> = [
                db.err().map(|e| format!("MySQL: {e}")),
                redis.err().map(|e| format!("Redis: {e}")),
                transport.err().map(|e| format!("mail transport: {e}")),
            ]
            .into_iter()
            .flatten()
            .collect();
            if missing.is_empty() {
                Ok(())
            } else {
                Err(missing.join("; "))
            }
        })
    })
}

/// The machine's name for `/api/queue`: `HOSTNAME` (set in containers), else the kernel's.
fn host_name() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// `paloma_db_pool_connections{state}` every two seconds, until `stop`.
async fn pool_gauges(repo: Arc<MysqlDatabase>, stop: tokio_util::sync::CancellationToken) {
    loop {
        let (idle, busy) = repo.pool_connections();
        metrics::gauge!("paloma_db_pool_connections", "state" => "idle").set(f64::from(idle));
        metrics::gauge!("paloma_db_pool_connections", "state" => "busy").set(f64::from(busy));
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(2)) => {}
            () = stop.cancelled() => return,
        }
    }
}
