//! A queue on a fresh key prefix, with raw Redis access to check what the adapter wrote.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use paloma_redis_queue::{QueueSettings, RedisJobConsumer, RedisJobQueue};
use redis::aio::MultiplexedConnection;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::TcpStream;

pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Settings on a prefix no other test uses.
pub fn test_settings() -> QueueSettings {
    let mut settings = QueueSettings::new(redis_url());
    settings.prefix = paloma_testkit::unique_name("test-");
    settings
}

pub struct TestQueue {
    pub settings: QueueSettings,
    pub queue: RedisJobQueue,
    pub consumer: RedisJobConsumer,
    pub redis: MultiplexedConnection,
}

impl TestQueue {
    pub async fn new() -> Result<Self> {
        Self::with(|_| {}).await
    }

    pub async fn with(adjust: impl FnOnce(&mut QueueSettings)) -> Result<Self> {
        let mut settings = test_settings();
        adjust(&mut settings);
        let queue = RedisJobQueue::connect(settings.clone()).await?;
        let consumer = queue.consumer();
        let redis = redis::Client::open(settings.redis_url.as_str())?
            .get_multiplexed_async_connection()
            .await?;
        Ok(Self {
            settings,
            queue,
            consumer,
            redis,
        })
    }

    /// `<prefix>:<queue>:<suffix>`.
    pub fn key(&self, suffix: &str) -> String {
        format!(
            "{}:{}:{suffix}",
            self.settings.prefix, self.settings.queue_name
        )
    }

    pub async fn cmd<T: redis::FromRedisValue>(&self, name: &str, args: &[&str]) -> Result<T> {
        let mut conn = self.redis.clone();
        let mut cmd = redis::cmd(name);
        for arg in args {
            cmd.arg(*arg);
        }
        Ok(cmd.query_async(&mut conn).await?)
    }

    pub async fn hash(&self, id: &str) -> Result<HashMap<String, String>> {
        self.cmd("HGETALL", &[&self.key(id)]).await
    }

    pub async fn field(&self, id: &str, field: &str) -> Result<Option<String>> {
        self.cmd("HGET", &[&self.key(id), field]).await
    }

    pub async fn list(&self, suffix: &str) -> Result<Vec<String>> {
        self.cmd("LRANGE", &[&self.key(suffix), "0", "-1"]).await
    }

    pub async fn zset(&self, suffix: &str) -> Result<Vec<(String, f64)>> {
        self.cmd("ZRANGE", &[&self.key(suffix), "0", "-1", "WITHSCORES"])
            .await
    }

    pub async fn set_members(&self, suffix: &str) -> Result<Vec<String>> {
        let mut members: Vec<String> = self.cmd("SMEMBERS", &[&self.key(suffix)]).await?;
        members.sort();
        Ok(members)
    }

    /// The Redis server's clock in ms (the adapter's scripts use it too).
    pub async fn server_ms(&self) -> Result<u64> {
        let (secs, micros): (u64, u64) = self.cmd("TIME", &[]).await?;
        Ok(secs * 1000 + micros / 1000)
    }

    /// Deletes every key of this test's prefix.
    pub async fn cleanup(&self) -> Result<()> {
        let pattern = format!("{}:*", self.settings.prefix);
        let keys: Vec<String> = self.cmd("KEYS", &[&pattern]).await?;
        if !keys.is_empty() {
            let refs: Vec<&str> = keys.iter().map(String::as_str).collect();
            let _: i64 = self.cmd("DEL", &refs).await?;
        }
        Ok(())
    }
}

/// Every command Redis runs while it is open, those of scripts included (`MONITOR`, on a
/// connection of its own: redis-rs' monitor is a `Stream`, which these tests do not depend on).
pub struct Monitor {
    lines: Lines<BufReader<TcpStream>>,
}

impl Monitor {
    pub async fn start(settings: &QueueSettings) -> Result<Self> {
        let client = redis::Client::open(settings.redis_url.as_str())?;
        let info = client.get_connection_info();
        let redis::ConnectionAddr::Tcp(host, port) = info.addr() else {
            bail!("the MONITOR helper needs a plain TCP REDIS_URL");
        };
        let mut stream = TcpStream::connect((host.as_str(), *port)).await?;
        let login = info.redis_settings();
        let mut expected = 1;
        if let Some(password) = login.password() {
            let user = login.username().unwrap_or("default");
            stream.write_all(&resp(&["AUTH", user, password])).await?;
            expected += 1;
        }
        stream.write_all(&resp(&["MONITOR"])).await?;
        let mut lines = BufReader::new(stream).lines();
        for _ in 0..expected {
            let reply = lines
                .next_line()
                .await?
                .context("MONITOR connection closed")?;
            ensure!(reply == "+OK", "MONITOR refused: {reply}");
        }
        Ok(Self { lines })
    }

    /// The arguments of each command run from now until another connection runs
    /// `ECHO <marker>` (excluded), oldest first. Lines that cannot be read are skipped.
    pub async fn until_echo(&mut self, marker: &str) -> Result<Vec<Vec<String>>> {
        let mut commands = Vec::new();
        loop {
            let line = tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
                .await
                .context("no ECHO marker from MONITOR within 10 s")??
                .context("MONITOR connection closed")?;
            let Some(args) = monitor_args(&line) else {
                continue;
            };
            if args.len() == 2 && args[0].eq_ignore_ascii_case("ECHO") && args[1] == marker {
                return Ok(commands);
            }
            commands.push(args);
        }
    }
}

/// A command in the protocol's array form.
fn resp(args: &[&str]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len());
    for arg in args {
        out.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    out.into_bytes()
}

/// The arguments of a MONITOR line, `+<time> [<db> <client>] "CMD" "arg" ...`; arguments that
/// hold a quote or a backslash (printed escaped) are not needed here and come out mangled.
fn monitor_args(line: &str) -> Option<Vec<String>> {
    let quoted = line.split_once("] \"")?.1.strip_suffix('"')?;
    Some(quoted.split("\" \"").map(str::to_owned).collect())
}

pub fn parse_ms(value: Option<String>) -> Result<u64> {
    let value = value.context("field missing")?;
    value
        .parse()
        .with_context(|| format!("not a millisecond timestamp: {value:?}"))
}

/// The `interop/` directory with Node bull installed; fails with instructions otherwise.
pub fn interop_dir() -> Result<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../interop");
    let dir = dir
        .canonicalize()
        .with_context(|| format!("interop directory missing at {}", dir.display()))?;
    if !dir.join("node_modules/bull/package.json").is_file() {
        bail!(
            "Node bull is not installed: run `npm ci` in {} before these tests",
            dir.display()
        );
    }
    Ok(dir)
}

/// Runs `node interop/<script> <args>` against the test's queue; returns stdout lines.
pub async fn node(
    settings: &QueueSettings,
    script: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<Vec<String>> {
    let dir = interop_dir()?;
    let mut command = Command::new("node");
    command
        .current_dir(&dir)
        .arg(script)
        .args(args)
        .env("REDIS_URL", &settings.redis_url)
        .env("QUEUE_PREFIX", &settings.prefix)
        .env("QUEUE_NAME", &settings.queue_name);
    for (name, value) in env {
        command.env(name, value);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await?
        .context("could not start `node`")?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    ensure!(
        output.status.success(),
        "node {script} failed ({}):\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(stdout.lines().map(str::to_owned).collect())
}

pub async fn sleep_ms(ms: u64) {
    tokio::time::sleep(Duration::from_millis(ms)).await;
}
