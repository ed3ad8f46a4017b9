//! What operators see, against the real binaries: `GET /api/queue` lists a running worker
//! (from its heartbeat) and drops it once it stops; the worker's `/readyz` goes unready while
//! MySQL is cut off and ready again once it is back; both expose their gauges; both binaries
//! start while MySQL and Redis are down and serve once they are up.

use std::time::{Duration, Instant};

use paloma_testkit::{SmtpRules, TcpProxy, TestSmtpServer};
use serde_json::Value;

use crate::common::{Paloma, free_port};
use crate::faults::mysql_addr;

/// Polls `probe` every 100 ms until it is true, for at most `limit`.
async fn eventually<F, Fut>(limit: Duration, mut probe: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if probe().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn the_queue_lists_a_running_worker_and_drops_it_once_it_stops() {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let before = paloma.get("/api/queue").await;
    assert_eq!(before["workers"], Value::Array(vec![]), "{before}");
    assert_eq!(before["counts"]["waiting"], 0, "{before}");

    paloma.start_worker(&smtp.url(), &[("WORKER_CONCURRENCY", "7")]);
    assert!(
        eventually(Duration::from_secs(10), || async {
            paloma.get("/api/queue").await["workers"]
                .as_array()
                .is_some_and(|w| w.len() == 1)
        })
        .await,
        "the worker appears"
    );
    let listed = paloma.get("/api/queue").await;
    let worker = &listed["workers"][0];
    assert_eq!(worker["concurrency"], 7, "{listed}");
    assert!(worker["pid"].as_u64().is_some_and(|p| p > 0), "{listed}");
    assert!(
        !worker["host"].as_str().unwrap_or_default().is_empty(),
        "{listed}"
    );

    paloma.sigterm_worker(0).await;
    let after = paloma.get("/api/queue").await;
    assert_eq!(
        after["workers"],
        Value::Array(vec![]),
        "a clean stop leaves at once: {after}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_is_unready_while_mysql_is_cut_off_and_exposes_its_gauges() {
    let proxy = TcpProxy::start(mysql_addr()).expect("proxy");
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await.with_database_at(proxy.port());
    paloma.start_api().await;
    let metrics = format!("127.0.0.1:{}", free_port());
    paloma.start_worker(&smtp.url(), &[("METRICS_ADDR", metrics.as_str())]);
    let http = reqwest::Client::new();
    let status = |path: &'static str| {
        let http = http.clone();
        let url = format!("http://{metrics}{path}");
        async move {
            match http.get(&url).timeout(Duration::from_secs(10)).send().await {
                Ok(resp) => resp.status().as_u16(),
                Err(_) => 0,
            }
        }
    };
    assert!(
        eventually(Duration::from_secs(10), || async {
            status("/readyz").await == 200
        })
        .await,
        "ready with MySQL and Redis up"
    );
    let text = http
        .get(format!("http://{metrics}/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(r#"paloma_queue_jobs{state="waiting"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#"paloma_db_pool_connections{state="idle"}"#),
        "{text}"
    );

    proxy.cut().await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            status("/readyz").await == 503
        })
        .await,
        "unready while MySQL is cut off"
    );
    assert_eq!(status("/healthz").await, 200, "alive all the same");
    proxy.restore().await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            status("/readyz").await == 200
        })
        .await,
        "ready again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn both_binaries_start_while_mysql_and_redis_are_down_and_work_once_they_are_up() {
    let db = TcpProxy::start(mysql_addr()).expect("MySQL proxy");
    let redis_addr = "127.0.0.1:6379".parse().expect("address");
    let redis = TcpProxy::start(redis_addr).expect("Redis proxy");
    db.cut().await;
    redis.cut().await;
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new()
        .await
        .with_database_at(db.port())
        .with_redis(&format!("redis://127.0.0.1:{}", redis.port()));
    let metrics = format!("127.0.0.1:{}", free_port());
    paloma.spawn_api(&[]);
    paloma.start_worker(&smtp.url(), &[("METRICS_ADDR", metrics.as_str())]);
    let readyz = format!("http://{metrics}/readyz");
    let worker_ready = || async {
        reqwest::get(&readyz)
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    };
    assert!(
        eventually(Duration::from_secs(10), || async {
            worker_ready().await == 503
        })
        .await,
        "the worker serves /readyz, unready"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        paloma.api_running(),
        "the API waits for MySQL instead of exiting"
    );
    assert!(
        paloma.workers_running(),
        "the worker waits instead of exiting"
    );

    db.restore().await;
    redis.restore().await;
    paloma.wait_ready().await;
    assert!(
        eventually(Duration::from_secs(30), || async {
            worker_ready().await == 200
        })
        .await,
        "the worker is ready once both are up"
    );
    let created = paloma
        .post(&serde_json::json!({
            "subject": "After the outage",
            "body": "<p>Hi</p>",
            "recipients": ["late@example.org"],
        }))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["sentEmails"], 1, "{done}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_is_unready_while_its_smtp_server_cannot_be_reached() {
    let mut paloma = Paloma::new().await;
    let metrics = format!("127.0.0.1:{}", free_port());
    // Nothing listens on this port.
    let smtp_url = format!("smtp://127.0.0.1:{}", free_port());
    paloma.start_worker(&smtp_url, &[("METRICS_ADDR", metrics.as_str())]);
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut answer = (0, String::new());
    while Instant::now() < deadline && answer.0 != 503 {
        if let Ok(resp) = http.get(format!("http://{metrics}/readyz")).send().await {
            answer = (
                resp.status().as_u16(),
                resp.text().await.unwrap_or_default(),
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(answer.0, 503, "{answer:?}");
    assert!(answer.1.contains("mail transport"), "{answer:?}");
    assert!(
        !answer.1.contains("MySQL") && !answer.1.contains("Redis"),
        "{answer:?}"
    );
}
