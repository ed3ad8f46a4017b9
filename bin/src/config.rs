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

use paloma_domain::{FailureThreshold, SendRate};
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
#[error("invalid {var}: {message} (got {value:?})")]
pub struct ConfigError {
    pub var: &'static str,
    pub value: String,
    pub message: String,
}

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

const DATABASE_URL: Var = var(
    "DATABASE_URL",
    "mysql://root@127.0.0.1:3306/paloma",
    "MySQL / MariaDB (the database is created if missing)",
);
const REDIS_URL: Var = var("REDIS_URL", "redis://127.0.0.1:6379", "Redis");
const QUEUE_NAME_EMAIL: Var = var("QUEUE_NAME_EMAIL", "email-queue", "bull queue name");
const QUEUE_PREFIX: Var = var("QUEUE_PREFIX", "bull", "bull key prefix");
const DB_POOL_SIZE: Var = var("DB_POOL_SIZE", "10", "database connection pool size");
const RUST_LOG: Var = var("RUST_LOG", "info", "log filter");
const LOG_FORMAT: Var = var("LOG_FORMAT", "pretty", "`json` for machines, or `pretty`");

const API_ADDR: Var = var("API_ADDR", "127.0.0.1:8080", "listen address (host:port)");
const CORS_ORIGINS: Var = var(
    "CORS_ORIGINS",
    "http://localhost:3000",
    "comma-separated origins allowed to call the API",
);
const MAX_RECIPIENTS: Var = var(
    "MAX_RECIPIENTS",
    "100000",
    "more recipients in one campaign: 413",
);
const MAX_BODY_BYTES: Var = var("MAX_BODY_BYTES", "33554432", "larger request body: 413");
const REQUEST_TIMEOUT_MS: Var = var(
    "REQUEST_TIMEOUT_MS",
    "60000",
    "a request that takes longer: 408",
);
const MAX_CONNECTIONS: Var = var("MAX_CONNECTIONS", "1024", "open connections at most");
const IDLE_TIMEOUT_MS: Var = var(
    "IDLE_TIMEOUT_MS",
    "75000",
    "a connection with no traffic for this long is closed",
);
const CAMPAIGN_CACHE_MS: Var = var(
    "CAMPAIGN_CACHE_MS",
    "100",
    "how long a campaign read is answered from memory (0: never)",
);

const SMTP_URL: Var = unset(
    "SMTP_URL",
    "smtp://user:pass@host:2525, smtps://...; unset: .eml files in OUTBOX_DIR",
);
const MAIL_FROM: Var = var(
    "MAIL_FROM",
    "Paloma <no-reply@localhost>",
    "sender (envelope and From)",
);
const OUTBOX_DIR: Var = var(
    "OUTBOX_DIR",
    "./outbox",
    "where .eml files go when SMTP_URL is unset",
);
const WORKER_CONCURRENCY: Var = var("WORKER_CONCURRENCY", "5", "messages in flight per worker");
const WORKER_BATCH_SIZE: Var = var("WORKER_BATCH_SIZE", "500", "recipients claimed per query");
const RETRY_MAX_ATTEMPTS: Var = var(
    "RETRY_MAX_ATTEMPTS",
    "5",
    "attempts per recipient for transient failures",
);
const RETRY_BASE_DELAY_MS: Var = var("RETRY_BASE_DELAY_MS", "30000", "exponential backoff base");
const LOCK_DURATION_MS: Var = var("LOCK_DURATION_MS", "30000", "bull job lock TTL");
const LOCK_RENEW_MS: Var = var(
    "LOCK_RENEW_MS",
    "15000",
    "how often the job lock is renewed (< LOCK_DURATION_MS)",
);
const STALLED_INTERVAL_MS: Var = var(
    "STALLED_INTERVAL_MS",
    "30000",
    "bull stalled-job check interval",
);
const SEND_RATE_LIMIT: Var = unset(
    "SEND_RATE_LIMIT",
    "one rate for all workers together, e.g. 100/s, 600/min; unset: no limit",
);
const FAILURE_THRESHOLD: Var = var(
    "FAILURE_THRESHOLD",
    "0.5",
    "share of failed messages that stops a campaign (0.2, 20%; off: never)",
);
const FAILURE_THRESHOLD_MIN_ATTEMPTS: Var = var(
    "FAILURE_THRESHOLD_MIN_ATTEMPTS",
    "100",
    "finished messages before the threshold is judged",
);
const RECONCILE_INTERVAL_MS: Var = var(
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
    DB_POOL_SIZE,
    RUST_LOG,
    LOG_FORMAT,
];

/// What `paloma-api` reads besides [`COMMON_VARS`].
pub const API_VARS: &[Var] = &[
    API_ADDR,
    CORS_ORIGINS,
    MAX_RECIPIENTS,
    MAX_BODY_BYTES,
    REQUEST_TIMEOUT_MS,
    MAX_CONNECTIONS,
    IDLE_TIMEOUT_MS,
    CAMPAIGN_CACHE_MS,
];

/// What `paloma-worker` reads besides [`COMMON_VARS`].
pub const WORKER_VARS: &[Var] = &[
    SMTP_URL,
    MAIL_FROM,
    OUTBOX_DIR,
    WORKER_CONCURRENCY,
    WORKER_BATCH_SIZE,
    RETRY_MAX_ATTEMPTS,
    RETRY_BASE_DELAY_MS,
    LOCK_DURATION_MS,
    LOCK_RENEW_MS,
    STALLED_INTERVAL_MS,
    SEND_RATE_LIMIT,
    FAILURE_THRESHOLD,
    FAILURE_THRESHOLD_MIN_ATTEMPTS,
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
    pub db_pool_size: u32,
    pub json_logs: bool,
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
            db_pool_size: env.positive(DB_POOL_SIZE)?,
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
        Ok(Self {
            common: CommonConfig::from_env(env)?,
            addr: env.parse(API_ADDR, "host:port, e.g. 127.0.0.1:8080")?,
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
            idle_timeout: env.millis(IDLE_TIMEOUT_MS)?,
            campaign_cache: Duration::from_millis(
                env.parse(CAMPAIGN_CACHE_MS, "milliseconds, 0 for no cache")?,
            ),
        })
    }
}

/// `paloma-worker`.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub common: CommonConfig,
    /// `SMTP_URL`: may hold a password; unset: `.eml` files in `outbox_dir`.
    pub smtp_url: Option<SecretString>,
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
            smtp_url: env.value(SMTP_URL).map(SecretString::from),
            mail_from: env.string(MAIL_FROM),
            outbox_dir: PathBuf::from(env.string(OUTBOX_DIR)),
            concurrency: env.positive(WORKER_CONCURRENCY)?,
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
            reconcile_interval: env.millis(RECONCILE_INTERVAL_MS)?,
        };
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
mod tests {
    use std::cell::RefCell;
    use std::collections::{BTreeSet, HashMap};

    use secrecy::ExposeSecret;

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
            api.common.database_url.expose_secret(),
            "mysql://root@127.0.0.1:3306/paloma"
        );
        assert_eq!(
            api.common.redis_url.expose_secret(),
            "redis://127.0.0.1:6379"
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
        assert!(worker.smtp_url.is_none());
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

    #[test]
    fn debug_never_prints_the_urls_passwords() {
        let vars = [
            (
                "DATABASE_URL",
                "mysql://paloma:db-s3cret@db.internal:3306/paloma",
            ),
            ("REDIS_URL", "redis://:redis-s3cret@cache.internal:6379"),
            ("SMTP_URL", "smtps://mailer:smtp-s3cret@smtp.internal:465"),
        ];
        let worker = WorkerConfig::from_env(&env(&vars)).expect("valid");
        let api = ApiConfig::from_env(&env(&vars)).expect("valid");
        for printed in [
            format!("{worker:?}"),
            format!("{api:?}"),
            format!("{worker:#?}"),
        ] {
            for secret in [
                "db-s3cret",
                "redis-s3cret",
                "smtp-s3cret",
                "db.internal",
                "mailer",
            ] {
                assert!(!printed.contains(secret), "{secret} printed in {printed}");
            }
            assert!(printed.contains("REDACTED"), "{printed}");
        }
        // Still there for the code that connects.
        assert_eq!(
            worker.common.database_url.expose_secret(),
            "mysql://paloma:db-s3cret@db.internal:3306/paloma"
        );
        assert_eq!(
            worker.smtp_url.as_ref().map(|u| u.expose_secret()),
            Some("smtps://mailer:smtp-s3cret@smtp.internal:465")
        );
    }

    #[test]
    fn numbers_too_wide_for_their_field_are_refused_not_truncated() {
        // 2^32 would wrap to 0 through `as u32`.
        let err = WorkerConfig::from_env(&env(&[("WORKER_BATCH_SIZE", "4294967296")]))
            .expect_err("does not fit in u32");
        assert_eq!(err.var, "WORKER_BATCH_SIZE");
        let err = ApiConfig::from_env(&env(&[("DB_POOL_SIZE", "4294967297")]))
            .expect_err("does not fit in u32");
        assert_eq!(err.var, "DB_POOL_SIZE");
        let err =
            WorkerConfig::from_env(&env(&[("RETRY_MAX_ATTEMPTS", "-1")])).expect_err("negative");
        assert_eq!(err.var, "RETRY_MAX_ATTEMPTS");
    }

    /// Every variable the structs read, in the order they read them.
    fn read_by(read: impl Fn(&Env<&dyn Fn(&str) -> Option<String>>)) -> BTreeSet<String> {
        let seen = RefCell::new(BTreeSet::new());
        let lookup = |k: &str| {
            seen.borrow_mut().insert(k.to_owned());
            None
        };
        read(&Env(&lookup));
        seen.into_inner()
    }

    fn names(tables: &[&[Var]]) -> BTreeSet<String> {
        tables
            .iter()
            .flat_map(|t| t.iter())
            .map(|v| v.name.to_owned())
            .filter(|n| n != "RUST_LOG") // read by the log filter, not by these structs
            .collect()
    }

    #[test]
    fn the_help_tables_list_exactly_what_each_binary_reads() {
        let api = read_by(|e| {
            ApiConfig::from_env(e).expect("defaults are valid");
        });
        assert_eq!(api, names(&[COMMON_VARS, API_VARS]));
        let worker = read_by(|e| {
            WorkerConfig::from_env(e).expect("defaults are valid");
        });
        assert_eq!(worker, names(&[COMMON_VARS, WORKER_VARS]));
    }

    #[test]
    fn the_help_text_shows_each_variable_with_its_default() {
        let help = env_help(&[COMMON_VARS, WORKER_VARS]);
        assert!(help.contains("WORKER_CONCURRENCY"), "{help}");
        assert!(help.contains("[default: 5]"), "{help}");
        assert!(help.contains("SMTP_URL"), "{help}");
        assert!(help.contains("[default: unset]"), "{help}");
        assert_eq!(
            help.lines().count(),
            1 + COMMON_VARS.len() + WORKER_VARS.len()
        );
    }
}
