//! The simulated transport (`SMTP_URL=sim://...`) through the real worker: the same path as
//! SMTP (outcomes, retries, the failure threshold's counters), with outcomes that are the
//! same for a seed.

use std::sync::Arc;
use std::time::Duration;

use paloma_application::{Mailer, MessageSender, OutgoingMessage};
use paloma_domain::{CampaignId, DeliveryOutcome, RecipientId};
use paloma_smtp::{SimulatedMailer, Simulation};
use serde_json::json;

use crate::common::{Paloma, addresses, free_port};

const SIM: &str = "sim://?latency_ms=1&jitter_ms=1&fail_rate=0.1&defer_rate=0.05&seed=42";
const MAX_ATTEMPTS: u32 = 5;

/// How many of `emails` end failed under `SIM`: refused for good, or deferred on every one of
/// `MAX_ATTEMPTS` attempts; drawn by a simulated server of our own.
async fn expected_failures(emails: &[String]) -> usize {
    let sim = SimulatedMailer::new(Simulation {
        latency: Duration::ZERO,
        jitter: Duration::ZERO,
        ..Simulation::parse(SIM).expect("valid")
    });
    let mut failed = 0;
    for email in emails {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let outcome = sim
                .send(OutgoingMessage {
                    campaign_id: CampaignId::new(),
                    recipient_id: RecipientId::new(),
                    to: email.clone(),
                    to_name: None,
                    subject: "".into(),
                    html_body: "".into(),
                    text_body: "".into(),
                    sender: Arc::new(MessageSender::default()),
                    unsubscribe: None,
                })
                .await;
            match outcome {
                DeliveryOutcome::Sent => break,
                DeliveryOutcome::Permanent(_) => {
                    failed += 1;
                    break;
                }
                DeliveryOutcome::Transient(_) if attempts == MAX_ATTEMPTS => {
                    failed += 1;
                    break;
                }
                DeliveryOutcome::Transient(_) => {}
            }
        }
    }
    failed
}

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_on_the_simulated_server_fails_the_share_its_seed_says_and_retries_the_deferred()
{
    let mut paloma = Paloma::new().await;
    let api_metrics = format!("127.0.0.1:{}", free_port());
    let worker_metrics = format!("127.0.0.1:{}", free_port());
    paloma
        .start_api_with(&[("METRICS_ADDR", api_metrics.as_str())])
        .await;
    paloma.start_worker(
        SIM,
        &[
            ("METRICS_ADDR", worker_metrics.as_str()),
            ("WORKER_CONCURRENCY", "20"),
            ("RETRY_BASE_DELAY_MS", "20"),
            ("RETRY_MAX_ATTEMPTS", "5"),
        ],
    );
    let emails = addresses("sim", 2_000);
    let created = paloma
        .post(&json!({"subject": "Simulated", "body": "<p>Hi</p>", "recipients": emails}))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let done = paloma.wait_final(&id, Duration::from_secs(120)).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");

    let expected = expected_failures(&emails).await;
    // About 10% of 2,000 for any seed (4 standard deviations: 146 to 254); exactly this many
    // for seed 42.
    assert!((146..=254).contains(&expected), "{expected}");
    assert_eq!(done["failedEmails"], expected, "{done}");
    assert_eq!(done["sentEmails"], 2_000 - expected, "{done}");
    // The worker's counters are what it wrote to MySQL.
    let http = reqwest::Client::new();
    let get = |url: String| {
        let http = http.clone();
        async move {
            let resp = http.get(&url).send().await.expect("GET");
            (resp.status().as_u16(), resp.text().await.expect("text"))
        }
    };
    let (status, worker) = get(format!("http://{worker_metrics}/metrics")).await;
    assert_eq!(status, 200);
    assert_eq!(
        sample(&worker, "paloma_messages_total{outcome=\"sent\"}"),
        Some(2_000 - expected as u64),
        "{worker}"
    );
    assert_eq!(
        sample(&worker, "paloma_messages_total{outcome=\"failed\"}"),
        Some(expected as u64),
        "{worker}"
    );
    assert!(sample(&worker, "paloma_messages_total{outcome=\"deferred\"}").is_some_and(|n| n > 0));
    assert!(
        worker.contains("paloma_send_duration_seconds_bucket"),
        "{worker}"
    );
    assert_eq!(sample(&worker, "paloma_in_flight"), Some(0), "{worker}");
    assert_eq!(get(format!("http://{worker_metrics}/healthz")).await.0, 200);
    assert_eq!(get(format!("http://{worker_metrics}/readyz")).await.0, 200);

    // The API's metrics name route templates, never a campaign's own path.
    let (status, api) = get(format!("http://{api_metrics}/metrics")).await;
    assert_eq!(status, 200);
    assert!(
        api.contains(
            r#"paloma_http_requests_total{method="GET",route="/api/emails/{id}",status="200"}"#
        ),
        "{api}"
    );
    assert!(!api.contains(&id), "{api}");
    assert_eq!(
        sample(&api, "paloma_campaigns_created_total"),
        Some(1),
        "{api}"
    );
    assert_eq!(
        sample(&api, "paloma_recipients_ingested_total"),
        Some(2_000),
        "{api}"
    );

    let failed = paloma.recipients(&id, "FAILED").await;
    assert!(
        failed.iter().all(|r| r["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("550 5.1.1"))),
        "{:?}",
        failed.first()
    );
}

/// The value of one series in Prometheus's text format (`name{labels} value`).
fn sample(text: &str, series: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(series)?.trim();
        value.parse::<f64>().ok().map(|v| v as u64)
    })
}
