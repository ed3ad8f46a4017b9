//! Configuration: one typed struct per binary, read from the environment once at start-up.
//! An invalid value stops the program with a message naming the variable.
//!
//! Every variable is declared once below ([`Var`]: name, default, meaning); the structs read
//! them through those declarations and `--help` lists the same tables, so a default cannot differ
//! between the two. URLs that can hold a password are [`SecretString`]s: their `Debug` prints
//! `[REDACTED]`, and only the code that opens the connection calls `expose_secret`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use paloma_domain::{
    AllowedDomains, ApiToken, EmailAddress, FailureThreshold, SendRate, UnsubscribeSecret,
};
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
#[error("invalid {var}: {message} (got {value:?})")]
pub struct ConfigError {
    pub var: &'static str,
    pub value: String,
    pub message: String,
}

mod vars;

use vars::*;
pub use vars::{API_VARS, COMMON_VARS, Var, WORKER_VARS, env_help};

/// Reads variables through a lookup function, so tests need not touch the process env.
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

impl Env<fn(&str) -> Option<String>> {
    pub fn process() -> Self {
        Env(|k| std::env::var(k).ok())
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// The value when set and not blank, else the default.
    fn value(&self, var: Var) -> Option<String> {
        (self.0)(var.name)
            .filter(|v| !v.trim().is_empty())
            .or_else(|| var.default.map(str::to_owned))
    }

    fn string(&self, var: Var) -> String {
        self.value(var).unwrap_or_default()
    }

    fn secret(&self, var: Var) -> SecretString {
        SecretString::from(self.string(var))
    }

    /// `METRICS_ADDR`: the metrics listener's address; set but empty turns it off.
    fn metrics_addr(&self, var: Var) -> Result<Option<SocketAddr>, ConfigError> {
        match (self.0)(var.name) {
            Some(raw) if raw.trim().is_empty() => Ok(None),
            _ => self
                .parse(var, "host:port, or empty for no metrics")
                .map(Some),
        }
    }

    /// The value parsed straight into `T` (its own width: no cast afterwards).
    fn parse<T: FromStr>(&self, var: Var, what: &str) -> Result<T, ConfigError> {
        let value = self.string(var);
        value.trim().parse().map_err(|_| ConfigError {
            var: var.name,
            value,
            message: format!("expected {what}"),
        })
    }

    fn positive<T: FromStr + PartialOrd + From<u8>>(&self, var: Var) -> Result<T, ConfigError> {
        let v: T = self.parse(var, "a positive integer")?;
        if v < T::from(1) {
            return Err(ConfigError {
                var: var.name,
                value: self.string(var),
                message: "must be at least 1".into(),
            });
        }
        Ok(v)
    }

    /// `KEY_CACHE_MS`: 0 to 1000 milliseconds (a revocation must take effect within a second).
    fn key_cache(&self) -> Result<Duration, ConfigError> {
        let ms: u64 = self.parse(KEY_CACHE_MS, "milliseconds, 0 to 1000")?;
        if ms > 1000 {
            return Err(ConfigError {
                var: KEY_CACHE_MS.name,
                value: self.string(KEY_CACHE_MS),
                message: "must be at most 1000: a revoked key must stop working within a second"
                    .into(),
            });
        }
        Ok(Duration::from_millis(ms))
    }

    /// `PUBLIC_URL`: an absolute http(s) URL with a host, without its trailing slashes.
    fn public_url(&self) -> Result<Option<String>, ConfigError> {
        let Some(raw) = self.value(PUBLIC_URL) else {
            return Ok(None);
        };
        let invalid = |message: &str| ConfigError {
            var: PUBLIC_URL.name,
            value: raw.clone(),
            message: message.into(),
        };
        let url = url::Url::parse(raw.trim())
            .map_err(|_| invalid("expected an absolute URL, e.g. https://paloma.example.org"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(invalid("expected an http or https URL with a host"));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(
                "expected a base URL, without a query or a fragment",
            ));
        }
        Ok(Some(url.as_str().trim_end_matches('/').to_owned()))
    }

    fn millis(&self, var: Var) -> Result<Duration, ConfigError> {
        self.positive(var).map(Duration::from_millis)
    }
}

/// Settings both binaries share.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    /// `DATABASE_URL`: may hold a password.
    pub database_url: SecretString,
    /// `REDIS_URL`: may hold a password.
    pub redis_url: SecretString,
    pub queue_name: String,
    pub queue_prefix: String,
    /// `QUEUE_KEEP_COMPLETED`: how many completed jobs the queue keeps (bull's
    /// `removeOnComplete`, written into every job this binary adds; 0: none).
    pub queue_keep_completed: u32,
    /// `QUEUE_KEEP_FAILED`: how many failed jobs the queue keeps (bull's `removeOnFail`).
    pub queue_keep_failed: u32,
    pub db_pool_size: u32,
    pub json_logs: bool,
    /// `UNSUBSCRIBE_SECRET`: signs (worker) and checks (API) one-click unsubscribe links; a
    /// secret, never printed. `None`: no link verifies.
    pub unsubscribe_secret: Option<UnsubscribeSecret>,
}

impl CommonConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let format = env.string(LOG_FORMAT);
        let json_logs = match format.as_str() {
            "json" => true,
            "pretty" | "text" => false,
            _ => {
                return Err(ConfigError {
                    var: LOG_FORMAT.name,
                    value: format,
                    message: "expected json or pretty".into(),
                });
            }
        };
        Ok(Self {
            database_url: env.secret(DATABASE_URL),
            redis_url: env.secret(REDIS_URL),
            queue_name: env.string(QUEUE_NAME_EMAIL),
            queue_prefix: env.string(QUEUE_PREFIX),
            queue_keep_completed: env
                .parse(QUEUE_KEEP_COMPLETED, "a number of jobs, 0 for none")?,
            queue_keep_failed: env.parse(QUEUE_KEEP_FAILED, "a number of jobs, 0 for none")?,
            db_pool_size: env.positive(DB_POOL_SIZE)?,
            json_logs,
            unsubscribe_secret: env
                .value(UNSUBSCRIBE_SECRET)
                .map(|raw| {
                    UnsubscribeSecret::new(&raw).map_err(|e| ConfigError {
                        var: UNSUBSCRIBE_SECRET.name,
                        // The value is a secret: not repeated in the message.
                        value: "(hidden)".into(),
                        message: e.to_string(),
                    })
                })
                .transpose()?,
        })
    }
}

/// `paloma-api`.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub common: CommonConfig,
    pub addr: SocketAddr,
    /// `METRICS_ADDR`: where `/metrics` is served; `None`: nowhere.
    pub metrics_addr: Option<SocketAddr>,
    pub cors_origins: Vec<String>,
    pub max_recipients: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_client: usize,
    pub idle_timeout: Duration,
    pub header_timeout: Duration,
    pub max_large_bodies: usize,
    /// `MAX_AUTH_FAILURES_PER_MINUTE`: failed authentications per client address and minute
    /// before `429`.
    pub max_auth_failures_per_minute: u32,
    /// `CAMPAIGN_CACHE_MS`: how long a campaign read is answered from memory (0: never).
    pub campaign_cache: Duration,
    /// `KEY_CACHE_MS`: how long an API-key lookup is answered from memory (0 to 1 s).
    pub key_cache: Duration,
    /// `BOOTSTRAP_API_KEY`: the token of a key with every scope, created at start-up when
    /// missing (a secret: never printed).
    pub bootstrap_api_key: Option<ApiToken>,
    /// `ALLOWED_FROM_DOMAINS`, or the domain of `MAIL_FROM`: where a campaign's own `From`
    /// may be.
    pub allowed_from: AllowedDomains,
}

impl ApiConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            addr: env.parse(API_ADDR, "host:port, e.g. 127.0.0.1:8080")?,
            metrics_addr: env.metrics_addr(API_METRICS_ADDR)?,
            cors_origins: env
                .string(CORS_ORIGINS)
                .split(',')
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            max_recipients: env.positive(MAX_RECIPIENTS)?,
            max_body_bytes: env.positive(MAX_BODY_BYTES)?,
            request_timeout: env.millis(REQUEST_TIMEOUT_MS)?,
            max_connections: env.positive(MAX_CONNECTIONS)?,
            max_connections_per_client: env.positive(MAX_CONNECTIONS_PER_CLIENT)?,
            idle_timeout: env.millis(IDLE_TIMEOUT_MS)?,
            header_timeout: env.millis(HEADER_TIMEOUT_MS)?,
            max_large_bodies: env.positive(MAX_LARGE_BODIES)?,
            max_auth_failures_per_minute: env.positive(MAX_AUTH_FAILURES_PER_MINUTE)?,
            campaign_cache: Duration::from_millis(
                env.parse(CAMPAIGN_CACHE_MS, "milliseconds, 0 for no cache")?,
            ),
            key_cache: env.key_cache()?,
            bootstrap_api_key: env
                .value(BOOTSTRAP_API_KEY)
                .map(|raw| {
                    ApiToken::parse(raw.trim()).map_err(|e| ConfigError {
                        var: BOOTSTRAP_API_KEY.name,
                        // The value is a secret: not repeated in the message.
                        value: "(hidden)".into(),
                        message: e.to_string(),
                    })
                })
                .transpose()?,
            allowed_from: match env.value(ALLOWED_FROM_DOMAINS) {
                Some(list) => AllowedDomains::parse(&list).map_err(|e| ConfigError {
                    var: ALLOWED_FROM_DOMAINS.name,
                    value: list.clone(),
                    message: e.to_string(),
                })?,
                None => {
                    let mail_from = env.string(MAIL_FROM);
                    AllowedDomains::of_mail_from(&mail_from).map_err(|e| ConfigError {
                        var: MAIL_FROM.name,
                        value: mail_from.clone(),
                        message: format!("no domain for ALLOWED_FROM_DOMAINS: {e}"),
                    })?
                }
            },
        })
    }
}

/// `paloma-worker`.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub common: CommonConfig,
    /// `METRICS_ADDR`: where `/metrics`, `/healthz` and `/readyz` are served; `None`: nowhere.
    pub metrics_addr: Option<SocketAddr>,
    /// `PUBLIC_URL`: the API's public base URL, without a trailing slash; unsubscribe links are
    /// `{public_url}/u/{token}`.
    pub public_url: Option<String>,
    /// `UNSUBSCRIBE_MAILTO`: a `mailto:` address for `List-Unsubscribe`, if any.
    pub unsubscribe_mailto: Option<String>,
    /// `SUPPRESS_HARD_BOUNCES` (default true): a 5.1.x refusal adds the address to the
    /// suppression list.
    pub suppress_hard_bounces: bool,
    /// `SMTP_URL`: may hold a password; unset: `.eml` files in `outbox_dir`.
    pub smtp_url: Option<SecretString>,
    pub mail_from: String,
    pub outbox_dir: PathBuf,
    /// `WORKER_MAX_CAMPAIGNS`: campaigns sent at once, sharing `concurrency`.
    pub max_campaigns: usize,
    /// `WORKER_SHARD_SIZE` (default 1,000): recipients per shard of a campaign that every
    /// worker sends; 0: campaigns are never split.
    pub shard_size: u32,
    /// `WORKER_SHARD_LEASE_MS` (default 30 s): how long a shard's lease lasts unless renewed.
    pub shard_lease: Duration,
    pub concurrency: usize,
    pub batch_size: u32,
    pub retry_max_attempts: u32,
    pub retry_base_delay: Duration,
    pub lock_duration: Duration,
    pub lock_renew: Duration,
    pub stalled_interval: Duration,
    /// `SEND_RATE_LIMIT`: a rate shared by every worker of the queue; unset: no limit.
    pub send_rate: Option<SendRate>,
    /// `FAILURE_THRESHOLD` (default 0.5) after `FAILURE_THRESHOLD_MIN_ATTEMPTS` (default 100)
    /// finished messages; `off`: never stop a campaign for its failures.
    pub failure_threshold: Option<FailureThreshold>,
    /// `MAX_FAILED_RUNS` (default 5): runs of one campaign that may fail before it ends
    /// `FAILED` rather than being queued again.
    pub max_failed_runs: u32,
    /// `RECONCILE_INTERVAL_MS`: how often campaigns without a live queue job are looked for.
    pub reconcile_interval: Duration,
}

/// The shortest `WORKER_SHARD_LEASE_MS`.
const MIN_SHARD_LEASE: Duration = Duration::from_secs(1);

impl WorkerConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let config = Self {
            common: CommonConfig::from_env(env)?,
            metrics_addr: env.metrics_addr(WORKER_METRICS_ADDR)?,
            public_url: env.public_url()?,
            unsubscribe_mailto: env
                .value(UNSUBSCRIBE_MAILTO)
                .map(|raw| {
                    EmailAddress::parse(&raw)
                        .map(|a| a.as_str().to_owned())
                        .map_err(|e| ConfigError {
                            var: UNSUBSCRIBE_MAILTO.name,
                            value: raw.clone(),
                            message: e.to_string(),
                        })
                })
                .transpose()?,
            suppress_hard_bounces: env.parse(SUPPRESS_HARD_BOUNCES, "true or false")?,
            smtp_url: env.value(SMTP_URL).map(SecretString::from),
            mail_from: env.string(MAIL_FROM),
            outbox_dir: PathBuf::from(env.string(OUTBOX_DIR)),
            concurrency: env.positive(WORKER_CONCURRENCY)?,
            max_campaigns: env.positive(WORKER_MAX_CAMPAIGNS)?,
            shard_size: env.parse(WORKER_SHARD_SIZE, "a number of recipients, 0 for never")?,
            shard_lease: env.millis(WORKER_SHARD_LEASE_MS)?,
            batch_size: env.positive(WORKER_BATCH_SIZE)?,
            retry_max_attempts: env.positive(RETRY_MAX_ATTEMPTS)?,
            retry_base_delay: env.millis(RETRY_BASE_DELAY_MS)?,
            lock_duration: env.millis(LOCK_DURATION_MS)?,
            lock_renew: env.millis(LOCK_RENEW_MS)?,
            stalled_interval: env.millis(STALLED_INTERVAL_MS)?,
            send_rate: match env.value(SEND_RATE_LIMIT) {
                None => None,
                Some(raw) => Some(SendRate::parse(&raw).map_err(|e| ConfigError {
                    var: SEND_RATE_LIMIT.name,
                    value: raw.clone(),
                    message: e.to_string(),
                })?),
            },
            failure_threshold: {
                let min_attempts = env.positive(FAILURE_THRESHOLD_MIN_ATTEMPTS)?;
                let raw = env.string(FAILURE_THRESHOLD);
                FailureThreshold::parse(&raw, min_attempts).map_err(|e| ConfigError {
                    var: FAILURE_THRESHOLD.name,
                    value: raw.clone(),
                    message: e.to_string(),
                })?
            },
            max_failed_runs: env.positive(MAX_FAILED_RUNS)?,
            reconcile_interval: env.millis(RECONCILE_INTERVAL_MS)?,
        };
        // Renewed every third of itself, a lease shorter than a second would be renewed
        // faster than MySQL answers under load, and lost.
        if config.shard_lease < MIN_SHARD_LEASE {
            return Err(ConfigError {
                var: WORKER_SHARD_LEASE_MS.name,
                value: config.shard_lease.as_millis().to_string(),
                message: format!("must be at least {} ms", MIN_SHARD_LEASE.as_millis()),
            });
        }
        if config.lock_renew >= config.lock_duration {
            return Err(ConfigError {
                var: LOCK_RENEW_MS.name,
                value: config.lock_renew.as_millis().to_string(),
                message: "must be shorter than LOCK_DURATION_MS".into(),
            });
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests;
