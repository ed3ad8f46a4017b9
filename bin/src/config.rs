//! Configuration: one typed struct per binary, read from the environment once at start-up.
//! An invalid value stops the program with a message naming the variable.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use paloma_domain::{FailureThreshold, SendRate};

#[derive(Debug, thiserror::Error)]
#[error("invalid {var}: {message} (got {value:?})")]
pub struct ConfigError {
    pub var: &'static str,
    pub value: String,
    pub message: String,
}

/// Reads variables through a lookup function, so tests need not touch the process env.
pub struct Env<F: Fn(&str) -> Option<String>>(pub F);

impl Env<fn(&str) -> Option<String>> {
    pub fn process() -> Self {
        Env(|k| std::env::var(k).ok())
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    fn string(&self, var: &'static str, default: &str) -> String {
        (self.0)(var)
            .filter(|v| !v.trim().is_empty())
            .unwrap_or_else(|| default.to_owned())
    }

    fn optional(&self, var: &'static str) -> Option<String> {
        (self.0)(var).filter(|v| !v.trim().is_empty())
    }

    fn parse<T: FromStr>(
        &self,
        var: &'static str,
        default: T,
        what: &str,
    ) -> Result<T, ConfigError> {
        match self.optional(var) {
            None => Ok(default),
            Some(v) => v.trim().parse().map_err(|_| ConfigError {
                var,
                value: v,
                message: format!("expected {what}"),
            }),
        }
    }

    fn positive(&self, var: &'static str, default: u64) -> Result<u64, ConfigError> {
        let v = self.parse(var, default, "a positive integer")?;
        if v == 0 {
            return Err(ConfigError {
                var,
                value: "0".into(),
                message: "must be at least 1".into(),
            });
        }
        Ok(v)
    }

    fn millis(&self, var: &'static str, default_ms: u64) -> Result<Duration, ConfigError> {
        self.positive(var, default_ms).map(Duration::from_millis)
    }
}

/// Settings both binaries share.
#[derive(Debug, Clone)]
pub struct CommonConfig {
    pub database_url: String,
    pub redis_url: String,
    pub queue_name: String,
    pub queue_prefix: String,
    pub db_pool_size: u32,
    pub json_logs: bool,
}

impl CommonConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let format = env.string("LOG_FORMAT", "pretty");
        let json_logs = match format.as_str() {
            "json" => true,
            "pretty" | "text" => false,
            _ => {
                return Err(ConfigError {
                    var: "LOG_FORMAT",
                    value: format,
                    message: "expected json or pretty".into(),
                });
            }
        };
        Ok(Self {
            database_url: env.string("DATABASE_URL", "mysql://root@127.0.0.1:3306/paloma"),
            redis_url: env.string("REDIS_URL", "redis://127.0.0.1:6379"),
            queue_name: env.string("QUEUE_NAME_EMAIL", "email-queue"),
            queue_prefix: env.string("QUEUE_PREFIX", "bull"),
            db_pool_size: env.positive("DB_POOL_SIZE", 10)? as u32,
            json_logs,
        })
    }
}

/// `paloma-api`.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub common: CommonConfig,
    pub addr: SocketAddr,
    pub cors_origins: Vec<String>,
    pub max_recipients: usize,
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub idle_timeout: Duration,
    /// `CAMPAIGN_CACHE_MS`: how long a campaign read is answered from memory (0: never).
    pub campaign_cache: Duration,
}

impl ApiConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let default_addr = SocketAddr::from(([127, 0, 0, 1], 8080));
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            addr: env.parse("API_ADDR", default_addr, "host:port, e.g. 127.0.0.1:8080")?,
            cors_origins: env
                .string("CORS_ORIGINS", "http://localhost:3000")
                .split(',')
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            max_recipients: env.positive("MAX_RECIPIENTS", 100_000)? as usize,
            max_body_bytes: env.positive("MAX_BODY_BYTES", 32 * 1024 * 1024)? as usize,
            request_timeout: env.millis("REQUEST_TIMEOUT_MS", 60_000)?,
            max_connections: env.positive("MAX_CONNECTIONS", 1_024)? as usize,
            idle_timeout: env.millis("IDLE_TIMEOUT_MS", 75_000)?,
            campaign_cache: Duration::from_millis(env.parse(
                "CAMPAIGN_CACHE_MS",
                100,
                "milliseconds, 0 for no cache",
            )?),
        })
    }
}

/// `paloma-worker`.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub common: CommonConfig,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub outbox_dir: PathBuf,
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
    /// `RECONCILE_INTERVAL_MS`: how often campaigns without a live queue job are looked for.
    pub reconcile_interval: Duration,
}

impl WorkerConfig {
    pub fn from_env<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Self, ConfigError> {
        let config = Self {
            common: CommonConfig::from_env(env)?,
            smtp_url: env.optional("SMTP_URL"),
            mail_from: env.string("MAIL_FROM", "Paloma <no-reply@localhost>"),
            outbox_dir: PathBuf::from(env.string("OUTBOX_DIR", "./outbox")),
            concurrency: env.positive("WORKER_CONCURRENCY", 5)? as usize,
            batch_size: env.positive("WORKER_BATCH_SIZE", 500)? as u32,
            retry_max_attempts: env.positive("RETRY_MAX_ATTEMPTS", 5)? as u32,
            retry_base_delay: env.millis("RETRY_BASE_DELAY_MS", 30_000)?,
            lock_duration: env.millis("LOCK_DURATION_MS", 30_000)?,
            lock_renew: env.millis("LOCK_RENEW_MS", 15_000)?,
            stalled_interval: env.millis("STALLED_INTERVAL_MS", 30_000)?,
            send_rate: match env.optional("SEND_RATE_LIMIT") {
                None => None,
                Some(raw) => Some(SendRate::parse(&raw).map_err(|e| ConfigError {
                    var: "SEND_RATE_LIMIT",
                    value: raw.clone(),
                    message: e.to_string(),
                })?),
            },
            failure_threshold: {
                let min_attempts = env.positive("FAILURE_THRESHOLD_MIN_ATTEMPTS", 100)? as u32;
                let raw = env.string("FAILURE_THRESHOLD", "0.5");
                FailureThreshold::parse(&raw, min_attempts).map_err(|e| ConfigError {
                    var: "FAILURE_THRESHOLD",
                    value: raw.clone(),
                    message: e.to_string(),
                })?
            },
            reconcile_interval: env.millis("RECONCILE_INTERVAL_MS", 30_000)?,
        };
        if config.lock_renew >= config.lock_duration {
            return Err(ConfigError {
                var: "LOCK_RENEW_MS",
                value: config.lock_renew.as_millis().to_string(),
                message: "must be shorter than LOCK_DURATION_MS".into(),
            });
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env<impl Fn(&str) -> Option<String>> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Env(move |k: &str| map.get(k).cloned())
    }

    #[test]
    fn failure_threshold_defaults_to_half_after_100_and_can_be_off() {
        let default = WorkerConfig::from_env(&env(&[])).expect("valid");
        assert_eq!(default.failure_threshold, FailureThreshold::new(0.5, 100));
        let set = WorkerConfig::from_env(&env(&[
            ("FAILURE_THRESHOLD", "20%"),
            ("FAILURE_THRESHOLD_MIN_ATTEMPTS", "10"),
        ]))
        .expect("valid");
        assert_eq!(set.failure_threshold, FailureThreshold::new(0.2, 10));
        let off = WorkerConfig::from_env(&env(&[("FAILURE_THRESHOLD", "off")])).expect("valid");
        assert_eq!(off.failure_threshold, None);
        for bad in ["1.5", "lots", "0"] {
            let err =
                WorkerConfig::from_env(&env(&[("FAILURE_THRESHOLD", bad)])).expect_err("invalid");
            assert_eq!(err.var, "FAILURE_THRESHOLD");
        }
    }

    #[test]
    fn the_send_rate_limit_is_optional_and_checked() {
        let none = WorkerConfig::from_env(&env(&[])).expect("valid");
        assert_eq!(none.send_rate, None);
        let set = WorkerConfig::from_env(&env(&[("SEND_RATE_LIMIT", "1/10s")])).expect("valid");
        assert_eq!(set.send_rate, SendRate::new(1, Duration::from_secs(10)));
        let bad = WorkerConfig::from_env(&env(&[("SEND_RATE_LIMIT", "fast")]));
        assert!(matches!(
            bad,
            Err(ConfigError {
                var: "SEND_RATE_LIMIT",
                ..
            })
        ));
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let api = ApiConfig::from_env(&env(&[])).expect("defaults are valid");
        assert_eq!(api.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(
            api.common.database_url,
            "mysql://root@127.0.0.1:3306/paloma"
        );
        assert_eq!(api.common.queue_name, "email-queue");
        assert_eq!(api.common.queue_prefix, "bull");
        assert_eq!(api.max_recipients, 100_000);
        assert_eq!(api.campaign_cache, Duration::from_millis(100));
        let uncached =
            ApiConfig::from_env(&env(&[("CAMPAIGN_CACHE_MS", "0")])).expect("0 is allowed");
        assert_eq!(uncached.campaign_cache, Duration::ZERO);
        assert_eq!(api.cors_origins, ["http://localhost:3000"]);
        let worker = WorkerConfig::from_env(&env(&[])).expect("defaults are valid");
        assert_eq!(worker.concurrency, 5);
        assert_eq!(worker.smtp_url, None);
        assert_eq!(worker.mail_from, "Paloma <no-reply@localhost>");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let err =
            WorkerConfig::from_env(&env(&[("WORKER_CONCURRENCY", "lots")])).expect_err("invalid");
        assert_eq!(err.var, "WORKER_CONCURRENCY");
        let err =
            WorkerConfig::from_env(&env(&[("WORKER_CONCURRENCY", "0")])).expect_err("invalid");
        assert_eq!(err.var, "WORKER_CONCURRENCY");
        let err = ApiConfig::from_env(&env(&[("API_ADDR", "nowhere")])).expect_err("invalid");
        assert_eq!(err.var, "API_ADDR");
        let err = WorkerConfig::from_env(&env(&[
            ("LOCK_DURATION_MS", "1000"),
            ("LOCK_RENEW_MS", "2000"),
        ]))
        .expect_err("renew must be shorter");
        assert_eq!(err.var, "LOCK_RENEW_MS");
        let err = ApiConfig::from_env(&env(&[("LOG_FORMAT", "xml")])).expect_err("invalid");
        assert_eq!(err.var, "LOG_FORMAT");
    }

    #[test]
    fn lists_and_overrides_are_read() {
        let api = ApiConfig::from_env(&env(&[
            ("CORS_ORIGINS", "http://a.test, http://b.test,"),
            ("API_ADDR", "0.0.0.0:9000"),
        ]))
        .expect("valid");
        assert_eq!(api.cors_origins, ["http://a.test", "http://b.test"]);
        assert_eq!(api.addr.port(), 9000);
    }
}
