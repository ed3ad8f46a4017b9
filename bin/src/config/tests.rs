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
        let err = WorkerConfig::from_env(&env(&[("FAILURE_THRESHOLD", bad)])).expect_err("invalid");
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
fn how_many_finished_queue_jobs_are_kept_is_read_by_both_binaries() {
    let api = ApiConfig::from_env(&env(&[])).expect("defaults are valid");
    assert_eq!(
        (
            api.common.queue_keep_completed,
            api.common.queue_keep_failed
        ),
        (1000, 5000)
    );
    let worker = WorkerConfig::from_env(&env(&[
        ("QUEUE_KEEP_COMPLETED", "0"),
        ("QUEUE_KEEP_FAILED", "20000"),
    ]))
    .expect("0 keeps none");
    assert_eq!(
        (
            worker.common.queue_keep_completed,
            worker.common.queue_keep_failed
        ),
        (0, 20_000)
    );
    for (var, bad) in [
        ("QUEUE_KEEP_COMPLETED", "-1"),
        ("QUEUE_KEEP_COMPLETED", "all"),
        ("QUEUE_KEEP_FAILED", "4294967296"),
    ] {
        let err = ApiConfig::from_env(&env(&[(var, bad)])).expect_err("invalid");
        assert_eq!(err.var, var);
    }
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
    let uncached = ApiConfig::from_env(&env(&[("CAMPAIGN_CACHE_MS", "0")])).expect("0 is allowed");
    assert_eq!(uncached.campaign_cache, Duration::ZERO);
    assert_eq!(api.key_cache, Duration::from_secs(1));
    assert_eq!(api.max_auth_failures_per_minute, 20);
    let err = ApiConfig::from_env(&env(&[("KEY_CACHE_MS", "1001")])).expect_err("over a second");
    assert_eq!(err.var, "KEY_CACHE_MS");
    assert_eq!(api.cors_origins, ["http://localhost:3000"]);
    let worker = WorkerConfig::from_env(&env(&[])).expect("defaults are valid");
    assert_eq!(worker.concurrency, 5);
    assert_eq!(worker.shard_size, 1_000);
    assert_eq!(worker.shard_lease, Duration::from_secs(30));
    let whole =
        WorkerConfig::from_env(&env(&[("WORKER_SHARD_SIZE", "0")])).expect("0: never split");
    assert_eq!(whole.shard_size, 0);
    assert!(worker.smtp_url.is_none());
    assert_eq!(worker.mail_from, "Paloma <no-reply@localhost>");
}

#[test]
fn bad_values_name_the_variable() {
    let err = WorkerConfig::from_env(&env(&[("WORKER_CONCURRENCY", "lots")])).expect_err("invalid");
    assert_eq!(err.var, "WORKER_CONCURRENCY");
    let err = WorkerConfig::from_env(&env(&[("WORKER_CONCURRENCY", "0")])).expect_err("invalid");
    assert_eq!(err.var, "WORKER_CONCURRENCY");
    let err = ApiConfig::from_env(&env(&[("API_ADDR", "nowhere")])).expect_err("invalid");
    assert_eq!(err.var, "API_ADDR");
    let err = WorkerConfig::from_env(&env(&[
        ("LOCK_DURATION_MS", "1000"),
        ("LOCK_RENEW_MS", "2000"),
    ]))
    .expect_err("renew must be shorter");
    assert_eq!(err.var, "LOCK_RENEW_MS");
    let err = WorkerConfig::from_env(&env(&[("WORKER_SHARD_LEASE_MS", "999")]))
        .expect_err("a lease under a second");
    assert_eq!(err.var, "WORKER_SHARD_LEASE_MS");
    let err = WorkerConfig::from_env(&env(&[("WORKER_SHARD_SIZE", "-1")])).expect_err("invalid");
    assert_eq!(err.var, "WORKER_SHARD_SIZE");
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
    let err = WorkerConfig::from_env(&env(&[("RETRY_MAX_ATTEMPTS", "-1")])).expect_err("negative");
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

#[test]
fn the_unsubscribe_secret_is_optional_long_and_never_printed() {
    let none = ApiConfig::from_env(&env(&[])).expect("valid");
    assert!(none.common.unsubscribe_secret.is_none());
    let secret = "a-secret-of-forty-characters-0123456789";
    let set = ApiConfig::from_env(&env(&[("UNSUBSCRIBE_SECRET", secret)])).expect("valid");
    assert!(set.common.unsubscribe_secret.is_some());
    assert!(!format!("{set:?}").contains(secret));
    let short = ApiConfig::from_env(&env(&[("UNSUBSCRIBE_SECRET", "short-secret")]))
        .expect_err("too short");
    assert_eq!(short.var, "UNSUBSCRIBE_SECRET");
    assert!(!short.to_string().contains("short-secret"));
}

#[test]
fn the_public_url_is_an_absolute_http_url_without_its_trailing_slash() {
    let read =
        |value: &str| WorkerConfig::from_env(&env(&[("PUBLIC_URL", value)])).map(|c| c.public_url);
    assert_eq!(
        WorkerConfig::from_env(&env(&[])).expect("valid").public_url,
        None
    );
    assert_eq!(
        read("https://paloma.example.org/")
            .expect("valid")
            .as_deref(),
        Some("https://paloma.example.org")
    );
    assert_eq!(
        read("http://127.0.0.1:8080/mail//")
            .expect("valid")
            .as_deref(),
        Some("http://127.0.0.1:8080/mail")
    );
    for bad in [
        "paloma.example.org",
        "ftp://example.org",
        "https://x.org/?a=1",
        "/u",
    ] {
        let err = read(bad).expect_err("invalid");
        assert_eq!(err.var, "PUBLIC_URL", "{bad}");
    }
}
