//! What the API's integration tests share: the real app against the real MySQL (a fresh
//! database per test) and Redis (a unique prefix per test), served on a random port.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use futures::FutureExt;
use paloma_application::{CampaignService, SystemClock};
use paloma_http::{AppState, HttpSettings, ReadinessCheck};
use paloma_mysql::MysqlCampaignRepository;
use paloma_redis_queue::{QueueSettings, RedisJobQueue};
use redis::AsyncCommands;
use serde_json::Value;

/// The recipient limit of the app under test.
pub const MAX_RECIPIENTS: usize = 50;
/// The request body limit of [`TestApp::spawn`]'s app.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The real app on a random port, with its database and queue prefix.
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub repo: MysqlCampaignRepository,
    pub redis: redis::aio::MultiplexedConnection,
    pub prefix: String,
}

impl TestApp {
    /// The app with a [`MAX_BODY_BYTES`] body limit.
    pub async fn spawn() -> Self {
        Self::spawn_with_body_limit(MAX_BODY_BYTES).await
    }

    /// The app with its own body limit.
    pub async fn spawn_with_body_limit(max_body_bytes: usize) -> Self {
        let db = paloma_mysql::testing::fresh_database()
            .await
            .expect("fresh database");
        let repo = MysqlCampaignRepository::connect(&db.url, 4).expect("pool");
        let prefix = paloma_testkit::unique_name("test-http-");
        let mut settings = QueueSettings::new("redis://127.0.0.1:6379");
        settings.prefix = prefix.clone();
        let queue = RedisJobQueue::connect(settings).await.expect("redis");
        let readiness: ReadinessCheck = {
            let (repo, queue) = (repo.clone(), queue.clone());
            Arc::new(move || {
                let (repo, queue) = (repo.clone(), queue.clone());
                async move {
                    let mut down = vec![];
                    if let Err(e) = repo.ping().await {
                        down.push(("mysql", e.to_string()));
                    }
                    if let Err(e) = queue.ping().await {
                        down.push(("redis", e.to_string()));
                    }
                    down
                }
                .boxed()
            })
        };
        let state = AppState {
            campaigns: Arc::new(CampaignService::new(
                Arc::new(repo.clone()),
                Arc::new(queue),
                SystemClock,
                MAX_RECIPIENTS,
            )),
            readiness,
        };
        let settings = HttpSettings {
            cors_origins: vec!["http://dashboard.test".into()],
            max_body_bytes,
            ..HttpSettings::default()
        };
        let app = paloma_http::router(state, &settings);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let redis = redis::Client::open("redis://127.0.0.1:6379")
            .expect("url")
            .get_multiplexed_async_connection()
            .await
            .expect("redis connection");
        Self {
            addr,
            client: reqwest::Client::new(),
            repo,
            redis,
            prefix,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
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
        use paloma_application::CampaignRepository;
        let page = self
            .repo
            .list(paloma_domain::PageRequest::default())
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

pub fn assert_error_shape(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "body: {body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "body: {body}"
    );
}
