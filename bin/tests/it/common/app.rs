//! The API as `paloma-api serve` builds it ([`Application::build`]), on a random port, against
//! the real MySQL (a fresh database per test) and Redis (a unique prefix per test).

use std::collections::HashMap;
use std::net::SocketAddr;

use paloma::app::Application;
use paloma::config::{ApiConfig, Env};
use paloma_application::{KeyService, SystemClock};
use paloma_domain::{Actor, Scopes};
use paloma_mysql::MysqlDatabase;
use paloma_mysql::testing::TestDatabase;
use redis::AsyncCommands;
use serde_json::Value;

use super::{REDIS_URL, remove_keys};

/// The recipient limit of the app under test.
pub const MAX_RECIPIENTS: usize = 50;
/// The request body limit of [`TestApp::spawn`]'s app.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The real app on a random port, with its database and queue prefix. Dropping it removes
/// the prefix's keys (and the database, with [`TestDatabase`]).
pub struct TestApp {
    pub addr: SocketAddr,
    /// Sends every request with [`TestApp::token`].
    pub client: reqwest::Client,
    /// The token of a key with every scope, made for the test.
    pub token: String,
    pub repo: MysqlDatabase,
    pub redis: redis::aio::MultiplexedConnection,
    pub prefix: String,
    /// Held for the test's lifetime.
    _database: TestDatabase,
}

impl TestApp {
    /// The app with a [`MAX_BODY_BYTES`] body limit.
    pub async fn spawn() -> Self {
        Self::spawn_with_body_limit(MAX_BODY_BYTES).await
    }

    /// The app with its own body limit.
    pub async fn spawn_with_body_limit(max_body_bytes: usize) -> Self {
        Self::spawn_with(&[("MAX_BODY_BYTES", max_body_bytes.to_string())]).await
    }

    /// The app with these environment variables set over the tests' defaults.
    pub async fn spawn_with(overrides: &[(&'static str, String)]) -> Self {
        let database = paloma_mysql::testing::fresh_database()
            .await
            .expect("fresh database");
        let prefix = paloma_testkit::unique_name("test-http-");
        // The configuration goes through the same parsing as the binary's environment.
        let mut vars: HashMap<&str, String> = HashMap::from([
            ("DATABASE_URL", database.url.clone()),
            ("REDIS_URL", REDIS_URL.to_owned()),
            ("QUEUE_PREFIX", prefix.clone()),
            ("DB_POOL_SIZE", "4".to_owned()),
            ("API_ADDR", "127.0.0.1:0".to_owned()),
            ("CORS_ORIGINS", "http://dashboard.test".to_owned()),
            ("MAX_RECIPIENTS", MAX_RECIPIENTS.to_string()),
            ("MAX_BODY_BYTES", MAX_BODY_BYTES.to_string()),
            // Every read goes to MySQL, so a test sees its own writes at once.
            ("CAMPAIGN_CACHE_MS", "0".to_owned()),
        ]);
        vars.extend(overrides.iter().cloned());
        let config =
            ApiConfig::from_env(&Env(|k: &str| vars.get(k).cloned())).expect("valid config");
        let app = Application::build(&config).await.expect("the app builds");
        let addr = app.local_addr();
        tokio::spawn(app.run_until_stopped(std::future::pending()));
        let repo = MysqlDatabase::connect(&database.url, 4).expect("pool");
        let token = create_key(&repo, "test admin", Scopes::all()).await;
        let redis = redis::Client::open(REDIS_URL)
            .expect("url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection");
        Self {
            addr,
            client: client_with_token(&token),
            token,
            repo,
            redis,
            prefix,
            _database: database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// A new key with `scopes` (`campaigns:read,campaigns:create`); its token.
    pub async fn key(&self, name: &str, scopes: &str) -> String {
        let scopes = Scopes::parse_list(scopes).expect("scopes");
        create_key(&self.repo, name, scopes).await
    }

    pub async fn post_json(&self, body: &Value) -> (u16, Value) {
        let resp = self
            .client
            .post(self.url("/api/emails"))
            .json(body)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn post_raw(&self, body: &str, content_type: Option<&str>) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url("/api/emails"))
            .body(body.to_owned());
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// POST /api/emails with an `Idempotency-Key`; answers the status, the
    /// `Idempotent-Replayed` header and the body.
    pub async fn post_with_key(&self, body: &Value, key: &str) -> (u16, Option<String>, Value) {
        let resp = self
            .client
            .post(self.url("/api/emails"))
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let replayed = resp
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        (status, replayed, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .client
            .get(self.url(path))
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Asserts that nothing was written anywhere: no campaign row, no queue key.
    pub async fn assert_nothing_written(&mut self) {
        use paloma_application::CampaignStore;
        let page = self
            .repo
            .list(
                &paloma_domain::CampaignFilter::default(),
                paloma_domain::PageRequest::default(),
            )
            .await
            .expect("list");
        assert_eq!(page.total, 0, "no campaign stored");
        let keys: Vec<String> = self
            .redis
            .keys(format!("{}:*", self.prefix))
            .await
            .expect("keys");
        assert!(keys.is_empty(), "no queue key written, found {keys:?}");
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        remove_keys(REDIS_URL, &self.prefix);
    }
}

/// Creates a key as `paloma-api keys create` does; its token.
pub async fn create_key(repo: &MysqlDatabase, name: &str, scopes: Scopes) -> String {
    let keys = KeyService::new(std::sync::Arc::new(repo.clone()), SystemClock);
    let (_, token) = keys
        .create(name, scopes, &Actor::cli())
        .await
        .expect("create a key");
    token.expose().to_owned()
}

/// An HTTP client that sends `Authorization: Bearer <token>` with every request.
pub fn client_with_token(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
        .expect("a token is a valid header value");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

pub fn assert_error_shape(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "body: {body}"
    );
}
