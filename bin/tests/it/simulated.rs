//! The simulated transport (`SMTP_URL=sim://...`) through the real worker: the same path as
//! SMTP (outcomes, retries, the failure threshold's counters), with outcomes that are the
//! same for a seed.

use std::sync::Arc;
use std::time::Duration;

use paloma_application::{Mailer, MessageSender, OutgoingMessage};
use paloma_domain::{CampaignId, DeliveryOutcome, RecipientId};
use paloma_smtp::{SimulatedMailer, Simulation};
use serde_json::json;

use crate::common::{Paloma, addresses};

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
    paloma.start_api().await;
    paloma.start_worker(
        SIM,
        &[
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
    let failed = paloma.recipients(&id, "FAILED").await;
    assert!(
        failed.iter().all(|r| r["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("550 5.1.1"))),
        "{:?}",
        failed.first()
    );
}
