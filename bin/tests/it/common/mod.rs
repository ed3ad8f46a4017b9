//! What the tests share: the API built in-process ([`app::TestApp`]); one isolated Paloma (its
//! own database and queue prefix) running the real binaries, with helpers to drive and inspect
//! it; and the clean-up of a test's Redis keys.

mod app;

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use paloma_mysql::testing::TestDatabase;
use paloma_testkit::TestSmtpServer;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

pub use app::{MAX_BODY_BYTES, MAX_RECIPIENTS, TestApp, assert_error_shape, client_with_token};

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// Deletes every key under `prefix:` on the Redis at `url`, so that a test leaves nothing
/// behind. Best effort and blocking (it runs from `Drop`): a Redis that is down or gone (a test's
/// own server, already stopped) is skipped.
pub fn remove_keys(url: &str, prefix: &str) {
    use redis::Commands;
    let Ok(client) = redis::Client::open(url) else {
        return;
    };
    let Ok(mut conn) = client.get_connection_with_timeout(Duration::from_secs(1)) else {
        return;
    };
    let keys: Vec<String> = match conn.scan_match(format!("{prefix}:*")) {
        Ok(keys) => keys.filter_map(Result::ok).collect(),
        Err(_) => return,
    };
    for chunk in keys.chunks(500) {
        let _: redis::RedisResult<()> = conn.del(chunk);
    }
}

/// One isolated Paloma: its own database and queue prefix.
pub struct Paloma {
    /// The database the binaries use (`DATABASE_URL`).
    pub db_url: String,
    /// The test database's name.
    pub db_name: String,
    /// The Redis the binaries use (`REDIS_URL`).
    pub redis_url: String,
    pub prefix: String,
    pub api_port: u16,
    pub api: Option<Child>,
    pub workers: Vec<Child>,
    /// Sends every request with [`Paloma::token`].
    pub http: reqwest::Client,
    /// The `BOOTSTRAP_API_KEY` paloma-api is started with: a key with every scope.
    pub token: String,
    /// Held for the test's lifetime.
    _database: TestDatabase,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

impl Paloma {
    /// A fresh database on the test server and a fresh queue prefix on the default Redis.
    pub async fn new() -> Self {
        let db = paloma_mysql::testing::fresh_database()
            .await
            .expect("fresh database");
        Self::on(db)
    }

    /// Like [`Paloma::new`], on a database the test prepared (e.g. one that another stack
    /// created, not migrated yet).
    pub fn on(db: TestDatabase) -> Self {
        let token = paloma_domain::ApiToken::generate().expose().to_owned();
        Self {
            db_url: db.url.clone(),
            db_name: db.name.clone(),
            _database: db,
            redis_url: REDIS_URL.to_owned(),
            prefix: paloma_testkit::unique_name("test-e2e-"),
            api_port: free_port(),
            api: None,
            workers: vec![],
            http: client_with_token(&token),
            token,
        }
    }

    /// Sends the binaries' database traffic to the same host on `port` (a proxy) instead of
    /// the server. `prefer_socket=false`: otherwise the driver, seeing a local server, would
    /// switch to its Unix socket after connecting and bypass the proxy.
    pub fn with_database_at(mut self, port: u16) -> Self {
        let url = with_port(&self.db_url, port);
        let separator = if url.contains('?') { '&' } else { '?' };
        self.db_url = format!("{url}{separator}prefer_socket=false");
        self
    }

    /// Uses the Redis at `url` instead of the default one.
    pub fn with_redis(mut self, url: &str) -> Self {
        url.clone_into(&mut self.redis_url);
        self
    }

    pub fn command(&self, bin: &str) -> Command {
        let mut cmd = Command::new(bin);
        cmd.env("DATABASE_URL", &self.db_url)
            .env("REDIS_URL", &self.redis_url)
            .env("QUEUE_PREFIX", &self.prefix)
            // Off unless a test asks for it: tests run many binaries at once.
            .env("METRICS_ADDR", "")
            .env(
                "RUST_LOG",
                std::env::var("TEST_RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .kill_on_drop(true);
        cmd
    }

    pub async fn start_api(&mut self) {
        self.start_api_with(&[]).await;
    }

    /// Starts paloma-api with these environment variables besides the usual ones.
    pub async fn start_api_with(&mut self, extra: &[(&str, &str)]) {
        self.spawn_api(extra);
        self.wait_ready().await;
    }

    /// Starts paloma-api without waiting for it to be ready.
    pub fn spawn_api(&mut self, extra: &[(&str, &str)]) {
        let child = self
            .command(env!("CARGO_BIN_EXE_paloma-api"))
            .env("API_ADDR", format!("127.0.0.1:{}", self.api_port))
            .env("BOOTSTRAP_API_KEY", &self.token)
            .envs(extra.iter().copied())
            .spawn()
            .expect("spawn paloma-api");
        self.api = Some(child);
    }

    /// Whether paloma-api is still running (it has not exited).
    pub fn api_running(&mut self) -> bool {
        self.api
            .as_mut()
            .is_some_and(|api| matches!(api.try_wait(), Ok(None)))
    }

    /// Whether every worker is still running.
    pub fn workers_running(&mut self) -> bool {
        self.workers
            .iter_mut()
            .all(|w| matches!(w.try_wait(), Ok(None)))
    }

    /// Waits up to 30 s for paloma-api's `/readyz`.
    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = self.http.get(self.url("/readyz")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(Instant::now() < deadline, "paloma-api did not become ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops paloma-api with SIGTERM and waits for it to exit.
    pub async fn stop_api(&mut self) {
        let Some(mut api) = self.api.take() else {
            return;
        };
        if let Some(pid) = api.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        let _ = tokio::time::timeout(Duration::from_secs(15), api.wait()).await;
    }

    /// Starts a worker with short lock, lease and retry timings (overridable through `extra`).
    pub fn start_worker(&mut self, smtp_url: &str, extra: &[(&str, &str)]) {
        let mut cmd = self.command(env!("CARGO_BIN_EXE_paloma-worker"));
        cmd.env("SMTP_URL", smtp_url)
            .env("WORKER_CONCURRENCY", "20")
            .env("RETRY_BASE_DELAY_MS", "200")
            .env("LOCK_DURATION_MS", "3000")
            .env("LOCK_RENEW_MS", "1000")
            .env("STALLED_INTERVAL_MS", "1000")
            .env("WORKER_SHARD_LEASE_MS", "3000");
        for (k, v) in extra {
            cmd.env(k, v);
        }
        self.workers.push(cmd.spawn().expect("spawn paloma-worker"));
    }

    /// Sends SIGTERM to worker `index` (removing it) and waits up to 15 s for it to exit;
    /// asserts a clean exit and returns when the signal was sent.
    pub async fn sigterm_worker(&mut self, index: usize) -> Instant {
        let mut worker = self.workers.remove(index);
        let pid = worker.id().expect("pid");
        let at = Instant::now();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let exit = tokio::time::timeout(Duration::from_secs(15), worker.wait())
            .await
            .expect("stops in time")
            .expect("exit");
        assert!(exit.success(), "clean exit: {exit:?}");
        at
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.api_port, path)
    }

    /// `POST /api/emails`, expecting `202`.
    pub async fn post(&self, body: &Value) -> Value {
        let (status, body) = self.try_post(body).await;
        assert_eq!(status, 202, "{body}");
        body
    }

    /// `POST /api/emails`: the status and the JSON body (`null` when it is not JSON).
    pub async fn try_post(&self, body: &Value) -> (u16, Value) {
        let resp = self
            .http
            .post(self.url("/api/emails"))
            .json(body)
            .send()
            .await
            .expect("POST");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// `GET`, expecting `200`.
    pub async fn get(&self, path: &str) -> Value {
        let resp = self.http.get(self.url(path)).send().await.expect("GET");
        assert_eq!(resp.status().as_u16(), 200, "GET {path}");
        resp.json().await.expect("json")
    }

    pub async fn campaign(&self, id: &str) -> Value {
        self.get(&format!("/api/emails/{id}")).await
    }

    pub async fn wait_final(&self, id: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let c = self.campaign(id).await;
            if c["status"] == "COMPLETED" || c["status"] == "FAILED" {
                return c;
            }
            assert!(
                Instant::now() < deadline,
                "campaign not finished in time: {c}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every recipient row in one status, read page by page (rows, not counters).
    pub async fn recipients(&self, id: &str, status: &str) -> Vec<Value> {
        let mut all = vec![];
        for page in 1.. {
            let p = self
                .get(&format!(
                    "/api/emails/{id}/recipients?status={status}&perPage=200&page={page}"
                ))
                .await;
            let items = p["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                break;
            }
            all.extend(items);
        }
        all
    }

    pub async fn redis(&self) -> redis::aio::MultiplexedConnection {
        redis::Client::open(self.redis_url.as_str())
            .expect("url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis")
    }

    /// The queue key `<prefix>:email-queue:<suffix>`.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:email-queue:{suffix}", self.prefix)
    }
}

impl Drop for Paloma {
    /// Stops the binaries (so that none writes a key after the clean-up), then removes the
    /// prefix's keys.
    fn drop(&mut self) {
        for child in self.api.iter_mut().chain(self.workers.iter_mut()) {
            if child.start_kill().is_ok() {
                let deadline = Instant::now() + Duration::from_secs(2);
                while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        }
        remove_keys(&self.redis_url, &self.prefix);
    }
}

/// `url` (`mysql://user@host:port/db`) with its port replaced, host kept.
pub fn with_port(url: &str, port: u16) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (credentials, host_port) = match authority.rsplit_once('@') {
        Some((credentials, host_port)) => (format!("{credentials}@"), host_port),
        None => (String::new(), authority),
    };
    let host = host_port
        .rsplit_once(':')
        .map_or(host_port, |(host, _port)| host);
    format!("{scheme}://{credentials}{host}:{port}{path}")
}

pub fn campaign(subject: &str, emails: &[String]) -> Value {
    json!({ "subject": subject, "body": format!("<h1>{subject}</h1><p>Hello from Paloma.</p>"), "recipients": emails })
}

pub fn addresses(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}@example.org")).collect()
}

/// `interop/`, where the Node programs live (bull scripts, the seeds' Node stack), with its
/// `node_modules` installed.
pub fn interop_dir() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../interop"));
    assert!(
        dir.join("node_modules/bull").is_dir() && dir.join("node_modules/mysql2").is_dir(),
        "interop/'s Node packages are not installed: run `npm ci` in interop/ (scripts/test does)"
    );
    dir
}

/// Messages received per recipient address.
pub fn by_recipient(server: &TestSmtpServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for m in server.messages() {
        for r in &m.rcpt_to {
            *counts.entry(r.clone()).or_default() += 1;
        }
    }
    counts
}
