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
