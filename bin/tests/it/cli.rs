//! The binaries' command lines: `--help` and `--version` answer and exit, an unknown argument
//! is a usage error (exit code 2), and `paloma-worker --help` starts no worker.

use std::process::{Output, Stdio};
use std::time::Duration;

use redis::AsyncCommands;
use tokio::process::Command;

use crate::common::{REDIS_URL, remove_keys};

const API: &str = env!("CARGO_BIN_EXE_paloma-api");
const WORKER: &str = env!("CARGO_BIN_EXE_paloma-worker");

/// Runs `bin args` with `env` and returns its output; fails when it does not exit within 10 s.
async fn run(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    tokio::time::timeout(Duration::from_secs(10), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{bin} {args:?} did not exit within 10 s"))
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[tokio::test]
async fn api_help_lists_the_commands_and_the_environment() {
    let out = run(API, &["--help"], &[]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let help = stdout(&out);
    for expected in [
        "serve",
        "migrate",
        "--version",
        "DATABASE_URL",
        "[default: mysql://root@127.0.0.1:3306/paloma]",
        "REDIS_URL",
        "API_ADDR",
        "[default: 127.0.0.1:8080]",
        "MAX_RECIPIENTS",
        "CAMPAIGN_CACHE_MS",
        "LOG_FORMAT",
    ] {
        assert!(
            help.contains(expected),
            "{expected:?} missing from:\n{help}"
        );
    }
    assert!(
        !help.contains("WORKER_CONCURRENCY"),
        "a worker setting in:\n{help}"
    );
}

#[tokio::test]
async fn worker_help_lists_the_environment_and_starts_no_worker() {
    let prefix = paloma_testkit::unique_name("test-cli-");
    // Were a worker started, it would run on this prefix until stopped.
    let out = run(WORKER, &["--help"], &[("QUEUE_PREFIX", &prefix)]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let help = stdout(&out);
    for expected in [
        "--version",
        "DATABASE_URL",
        "SMTP_URL",
        "[default: unset]",
        "WORKER_CONCURRENCY",
        "[default: 5]",
        "SEND_RATE_LIMIT",
        "FAILURE_THRESHOLD",
    ] {
        assert!(
            help.contains(expected),
            "{expected:?} missing from:\n{help}"
        );
    }
    assert!(!help.contains("API_ADDR"), "an API setting in:\n{help}");
    assert!(
        !stderr(&out).contains("paloma-worker started"),
        "{}",
        stderr(&out)
    );
    let mut redis = redis::Client::open(REDIS_URL)
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let keys: Vec<String> = redis.keys(format!("{prefix}:*")).await.expect("keys");
    remove_keys(REDIS_URL, &prefix);
    assert!(keys.is_empty(), "the worker touched the queue: {keys:?}");
}

#[tokio::test]
async fn version_names_the_binary_and_the_crate_version() {
    for (bin, name) in [(API, "paloma-api"), (WORKER, "paloma-worker")] {
        let out = run(bin, &["--version"], &[]).await;
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(
            stdout(&out).trim(),
            format!("{name} {}", env!("CARGO_PKG_VERSION"))
        );
    }
}

#[tokio::test]
async fn an_unknown_argument_is_a_usage_error_with_exit_code_2() {
    for (bin, args) in [
        (API, &["--frobnicate"][..]),
        (API, &["frobnicate"][..]),
        (API, &["serve", "--frobnicate"][..]),
        (WORKER, &["--frobnicate"][..]),
        (WORKER, &["serve"][..]),
    ] {
        let out = run(bin, args, &[]).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{bin} {args:?}: {}",
            stderr(&out)
        );
        let err = stderr(&out);
        assert!(err.contains("error:"), "{bin} {args:?}: {err}");
        assert!(err.contains("Usage:"), "{bin} {args:?}: {err}");
        assert!(stdout(&out).is_empty(), "{bin} {args:?}: {}", stdout(&out));
    }
}

/// `paloma-api keys`: a created key's token is alone on the last line of standard output and
/// stored nowhere in clear; `list` shows the key without it; `revoke` retires it; an unknown
/// id fails and a malformed one is a usage error.
#[tokio::test]
async fn keys_are_created_listed_and_revoked_from_the_command_line() {
    let db = paloma_mysql::testing::empty_database()
        .await
        .expect("empty database");
    let env = [("DATABASE_URL", db.url.as_str()), ("RUST_LOG", "warn")];

    let created = run(
        API,
        &[
            "keys",
            "create",
            "--name",
            "ci robot",
            "--scopes",
            "campaigns:read,campaigns:create",
        ],
        &env,
    )
    .await;
    assert_eq!(created.status.code(), Some(0), "{}", stderr(&created));
    let out = stdout(&created);
    let token = out.lines().last().expect("a last line").to_owned();
    let parsed = paloma_domain::ApiToken::parse(&token).expect("the last line is the token");
    assert!(out.contains("name:    ci robot"), "{out}");
    assert!(stderr(&created).contains("shown only this once"));
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("id:"))
        .expect("an id line")
        .trim()
        .to_owned();

    let listed = run(API, &["keys", "list"], &env).await;
    assert_eq!(listed.status.code(), Some(0), "{}", stderr(&listed));
    let list = stdout(&listed);
    assert!(
        list.contains(&id) && list.contains(parsed.lookup_prefix()),
        "{list}"
    );
    assert!(list.contains("campaigns:read,campaigns:create"), "{list}");
    assert!(!list.contains(&token), "the token is never listed");

    let revoked = run(API, &["keys", "revoke", &id], &env).await;
    assert_eq!(revoked.status.code(), Some(0), "{}", stderr(&revoked));
    assert!(stdout(&revoked).contains(&format!("revoked {id} (ci robot)")));
    let after = stdout(&run(API, &["keys", "list"], &env).await);
    let row = after
        .lines()
        .find(|l| l.contains(&id))
        .expect("still listed");
    assert!(!row.contains(" - "), "a revocation time: {row}");

    let unknown = run(
        API,
        &["keys", "revoke", &uuid::Uuid::now_v7().to_string()],
        &env,
    )
    .await;
    assert_eq!(unknown.status.code(), Some(1));
    let malformed = run(API, &["keys", "revoke", "not-an-id"], &env).await;
    assert_eq!(malformed.status.code(), Some(2), "{}", stderr(&malformed));
    let bad_scope = run(
        API,
        &["keys", "create", "--name", "x", "--scopes", "root"],
        &env,
    )
    .await;
    assert_eq!(bad_scope.status.code(), Some(1));
    assert!(
        stderr(&bad_scope).contains("unknown scope"),
        "{}",
        stderr(&bad_scope)
    );
    db.remove().await.expect("drop the database");
}

/// `BOOTSTRAP_API_KEY` makes a key with every scope at start-up, once; a malformed one stops
/// the API at once without printing it.
#[tokio::test]
async fn the_bootstrap_key_is_created_at_start_up_and_a_malformed_one_is_refused() {
    let malformed = run(
        API,
        &["migrate"],
        &[("BOOTSTRAP_API_KEY", "pal_short-secret")],
    )
    .await;
    assert_eq!(malformed.status.code(), Some(2));
    assert!(
        stderr(&malformed).contains("BOOTSTRAP_API_KEY"),
        "{}",
        stderr(&malformed)
    );
    assert!(
        !stderr(&malformed).contains("short-secret"),
        "the value is not echoed"
    );

    let paloma = crate::common::Paloma::new().await;
    let token = paloma_domain::ApiToken::generate();
    for _ in 0..2 {
        let mut api = paloma
            .command(API)
            .env("BOOTSTRAP_API_KEY", token.expose())
            .env("API_ADDR", format!("127.0.0.1:{}", paloma.api_port))
            .spawn()
            .expect("spawn paloma-api");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while paloma
            .http
            .get(paloma.url("/readyz"))
            .send()
            .await
            .map_or(true, |r| !r.status().is_success())
        {
            assert!(
                std::time::Instant::now() < deadline,
                "paloma-api did not become ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        api.kill().await.expect("stop paloma-api");
    }
    let listed = stdout(
        &run(
            API,
            &["keys", "list"],
            &[("DATABASE_URL", paloma.db_url.as_str())],
        )
        .await,
    );
    let rows: Vec<&str> = listed.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "one key for two start-ups: {listed}");
    assert!(rows[0].ends_with("bootstrap"), "{listed}");
    assert!(rows[0].contains("campaigns:read,campaigns:create,campaigns:send,keys:manage"));
}
