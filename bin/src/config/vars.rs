//! Every environment variable, declared once: its name, its default and what it sets.
//! The configuration structs read them through these declarations and `--help` lists them.

/// One environment variable: its name, its default (`None`: unset unless given) and what it
/// sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Var {
    pub name: &'static str,
    pub default: Option<&'static str>,
    pub about: &'static str,
}

const fn var(name: &'static str, default: &'static str, about: &'static str) -> Var {
    Var {
        name,
        default: Some(default),
        about,
    }
}

const fn unset(name: &'static str, about: &'static str) -> Var {
    Var {
        name,
        default: None,
        about,
    }
}

pub(super) const DATABASE_URL: Var = var(
    "DATABASE_URL",
    "mysql://root@127.0.0.1:3306/paloma",
    "MySQL / MariaDB (the database is created if missing)",
);
pub(super) const REDIS_URL: Var = var("REDIS_URL", "redis://127.0.0.1:6379", "Redis");
pub(super) const QUEUE_NAME_EMAIL: Var = var("QUEUE_NAME_EMAIL", "email-queue", "bull queue name");
pub(super) const QUEUE_PREFIX: Var = var("QUEUE_PREFIX", "bull", "bull key prefix");
pub(super) const QUEUE_KEEP_COMPLETED: Var = var(
    "QUEUE_KEEP_COMPLETED",
    "1000",
    "completed queue jobs kept in Redis, the newest (0: none)",
);
pub(super) const QUEUE_KEEP_FAILED: Var = var(
    "QUEUE_KEEP_FAILED",
    "5000",
    "failed queue jobs kept in Redis, the newest (0: none)",
);
pub(super) const DB_POOL_SIZE: Var = var("DB_POOL_SIZE", "10", "database connection pool size");
pub(super) const RUST_LOG: Var = var("RUST_LOG", "info", "log filter");
pub(super) const LOG_FORMAT: Var = var("LOG_FORMAT", "pretty", "`json` for machines, or `pretty`");

pub(super) const API_ADDR: Var = var("API_ADDR", "127.0.0.1:8080", "listen address (host:port)");
pub(super) const API_METRICS_ADDR: Var = var(
    "METRICS_ADDR",
    "127.0.0.1:9464",
    "Prometheus metrics at http://METRICS_ADDR/metrics (host:port; empty: off)",
);
pub(super) const WORKER_METRICS_ADDR: Var = var(
    "METRICS_ADDR",
    "127.0.0.1:9465",
    "/metrics (Prometheus), /healthz and /readyz at this host:port (empty: off)",
);
pub(super) const CORS_ORIGINS: Var = var(
    "CORS_ORIGINS",
    "http://localhost:3000",
    "comma-separated origins allowed to call the API",
);
pub(super) const MAX_RECIPIENTS: Var = var(
    "MAX_RECIPIENTS",
    "100000",
    "more recipients in one campaign: 413",
);
pub(super) const MAX_BODY_BYTES: Var =
    var("MAX_BODY_BYTES", "33554432", "larger request body: 413");
pub(super) const REQUEST_TIMEOUT_MS: Var = var(
    "REQUEST_TIMEOUT_MS",
    "60000",
    "a request that takes longer: 408",
);
pub(super) const MAX_CONNECTIONS: Var = var("MAX_CONNECTIONS", "1024", "open connections at most");
pub(super) const MAX_CONNECTIONS_PER_CLIENT: Var = var(
    "MAX_CONNECTIONS_PER_CLIENT",
    "64",
    "open connections from one client address at most; more are closed at once",
);
pub(super) const HEADER_TIMEOUT_MS: Var = var(
    "HEADER_TIMEOUT_MS",
    "10000",
    "a request's headers must all arrive within this, however slowly they trickle",
);
pub(super) const MAX_LARGE_BODIES: Var = var(
    "MAX_LARGE_BODIES",
    "4",
    "requests with a body over 1 MiB handled at once; more: 503 with Retry-After",
);
pub(super) const MAX_AUTH_FAILURES_PER_MINUTE: Var = var(
    "MAX_AUTH_FAILURES_PER_MINUTE",
    "20",
    "failed API-key checks one client address may make per minute; more: 429 with Retry-After",
);
pub(super) const IDLE_TIMEOUT_MS: Var = var(
    "IDLE_TIMEOUT_MS",
    "75000",
    "a connection with no traffic for this long is closed",
);
pub(super) const CAMPAIGN_CACHE_MS: Var = var(
    "CAMPAIGN_CACHE_MS",
    "100",
    "how long a campaign read is answered from memory (0: never)",
);

pub(super) const KEY_CACHE_MS: Var = var(
    "KEY_CACHE_MS",
    "1000",
    "how long an API key lookup is answered from memory, at most 1000 (0: never); a key revoked \
     by another process stops working within it",
);

pub(super) const BOOTSTRAP_API_KEY: Var = unset(
    "BOOTSTRAP_API_KEY",
    "a token (pal_ and 43 letters and digits) for a key with every scope, created at start-up if missing",
);

pub(super) const UNSUBSCRIBE_SECRET: Var = unset(
    "UNSUBSCRIBE_SECRET",
    "the key (at least 32 bytes) that signs and checks one-click unsubscribe links; unset: /u/... answers 404",
);
pub(super) const UNSUBSCRIBE_MAILTO: Var = unset(
    "UNSUBSCRIBE_MAILTO",
    "an address offered as a mailto: in List-Unsubscribe, beside the one-click URL",
);
pub(super) const SUPPRESS_HARD_BOUNCES: Var = var(
    "SUPPRESS_HARD_BOUNCES",
    "true",
    "add an address whose server refused it for good (5.1.x: no such mailbox) to the suppression list",
);
pub(super) const PUBLIC_URL: Var = unset(
    "PUBLIC_URL",
    "the API's public base URL (http or https), e.g. https://paloma.example.org; the base of unsubscribe links",
);

pub(super) const SMTP_URL: Var = unset(
    "SMTP_URL",
    "smtp://user:pass@host:2525, smtps://...; sim://?latency_ms=20&fail_rate=0.02 simulates a server (sends nothing); unset: .eml files in OUTBOX_DIR",
);
pub(super) const MAIL_FROM: Var = var(
    "MAIL_FROM",
    "Paloma <no-reply@localhost>",
    "sender (envelope and From)",
);
pub(super) const ALLOWED_FROM_DOMAINS: Var = unset(
    "ALLOWED_FROM_DOMAINS",
    "comma-separated domains a campaign's own From may be in; unset: the domain of MAIL_FROM",
);
pub(super) const OUTBOX_DIR: Var = var(
    "OUTBOX_DIR",
    "./outbox",
    "where .eml files go when SMTP_URL is unset",
);
pub(super) const WORKER_CONCURRENCY: Var = var(
    "WORKER_CONCURRENCY",
    "5",
    "messages in flight per worker, its campaigns together",
);
pub(super) const WORKER_MAX_CAMPAIGNS: Var = var(
    "WORKER_MAX_CAMPAIGNS",
    "4",
    "campaigns one worker sends at once, sharing WORKER_CONCURRENCY",
);
pub(super) const WORKER_SHARD_SIZE: Var = var(
    "WORKER_SHARD_SIZE",
    "1000",
    "recipients per shard: a campaign with more pending is sent by every worker, a shard each; 0: never split",
);
pub(super) const WORKER_SHARD_LEASE_MS: Var = var(
    "WORKER_SHARD_LEASE_MS",
    "30000",
    "a shard's lease (renewed every third): how soon a dead worker's shard goes to another",
);
pub(super) const WORKER_BATCH_SIZE: Var =
    var("WORKER_BATCH_SIZE", "500", "recipients claimed per query");
pub(super) const RETRY_MAX_ATTEMPTS: Var = var(
    "RETRY_MAX_ATTEMPTS",
    "5",
    "attempts per recipient for transient failures",
);
pub(super) const RETRY_BASE_DELAY_MS: Var =
    var("RETRY_BASE_DELAY_MS", "30000", "exponential backoff base");
pub(super) const LOCK_DURATION_MS: Var = var("LOCK_DURATION_MS", "30000", "bull job lock TTL");
pub(super) const LOCK_RENEW_MS: Var = var(
    "LOCK_RENEW_MS",
    "15000",
    "how often the job lock is renewed (< LOCK_DURATION_MS)",
);
pub(super) const STALLED_INTERVAL_MS: Var = var(
    "STALLED_INTERVAL_MS",
    "30000",
    "bull stalled-job check interval",
);
pub(super) const SEND_RATE_LIMIT: Var = unset(
    "SEND_RATE_LIMIT",
    "one rate for all workers together, e.g. 100/s, 600/min; unset: no limit",
);
pub(super) const FAILURE_THRESHOLD: Var = var(
    "FAILURE_THRESHOLD",
    "0.5",
    "share of failed messages that stops a campaign (0.2, 20%; off: never)",
);
pub(super) const FAILURE_THRESHOLD_MIN_ATTEMPTS: Var = var(
    "FAILURE_THRESHOLD_MIN_ATTEMPTS",
    "100",
    "finished messages before the threshold is judged",
);
pub(super) const MAX_FAILED_RUNS: Var = var(
    "MAX_FAILED_RUNS",
    "5",
    "failed runs of one campaign (a bug, a bad row) before it ends FAILED",
);
pub(super) const RECONCILE_INTERVAL_MS: Var = var(
    "RECONCILE_INTERVAL_MS",
    "30000",
    "how often campaigns with no live queue job are looked for",
);

/// What both binaries read.
pub const COMMON_VARS: &[Var] = &[
    DATABASE_URL,
    REDIS_URL,
    QUEUE_NAME_EMAIL,
    QUEUE_PREFIX,
    QUEUE_KEEP_COMPLETED,
    QUEUE_KEEP_FAILED,
    DB_POOL_SIZE,
    RUST_LOG,
    LOG_FORMAT,
    UNSUBSCRIBE_SECRET,
];

/// What `paloma-api` reads besides [`COMMON_VARS`].
pub const API_VARS: &[Var] = &[
    API_ADDR,
    API_METRICS_ADDR,
    MAIL_FROM,
    ALLOWED_FROM_DOMAINS,
    CORS_ORIGINS,
    MAX_RECIPIENTS,
    MAX_BODY_BYTES,
    REQUEST_TIMEOUT_MS,
    MAX_CONNECTIONS,
    MAX_CONNECTIONS_PER_CLIENT,
    IDLE_TIMEOUT_MS,
    HEADER_TIMEOUT_MS,
    MAX_LARGE_BODIES,
    MAX_AUTH_FAILURES_PER_MINUTE,
    CAMPAIGN_CACHE_MS,
    KEY_CACHE_MS,
    BOOTSTRAP_API_KEY,
];

/// What `paloma-worker` reads besides [`COMMON_VARS`].
pub const WORKER_VARS: &[Var] = &[
    WORKER_METRICS_ADDR,
    PUBLIC_URL,
    UNSUBSCRIBE_MAILTO,
    SUPPRESS_HARD_BOUNCES,
    SMTP_URL,
    MAIL_FROM,
    OUTBOX_DIR,
    WORKER_CONCURRENCY,
    WORKER_MAX_CAMPAIGNS,
    WORKER_SHARD_SIZE,
    WORKER_SHARD_LEASE_MS,
    WORKER_BATCH_SIZE,
    RETRY_MAX_ATTEMPTS,
    RETRY_BASE_DELAY_MS,
    LOCK_DURATION_MS,
    LOCK_RENEW_MS,
    STALLED_INTERVAL_MS,
    SEND_RATE_LIMIT,
    FAILURE_THRESHOLD,
    FAILURE_THRESHOLD_MIN_ATTEMPTS,
    MAX_FAILED_RUNS,
    RECONCILE_INTERVAL_MS,
];

/// The text `--help` ends with: every variable of `tables`, its default and its meaning.
pub fn env_help(tables: &[&[Var]]) -> String {
    let vars = tables.iter().flat_map(|t| t.iter());
    let width = vars.clone().map(|v| v.name.len()).max().unwrap_or(0);
    let mut text = String::from("Environment variables (an invalid value exits with code 2):\n");
    for v in vars {
        let default = v.default.unwrap_or("unset");
        text.push_str(&format!(
            "  {:width$}  {} [default: {default}]\n",
            v.name, v.about
        ));
    }
    text
}
