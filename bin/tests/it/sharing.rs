//! Fair sharing against the real worker: busy with a large campaign, one worker still sends a
//! small campaign posted after it within seconds, sharing its `WORKER_CONCURRENCY`.

use std::time::{Duration, Instant};

use paloma_testkit::{SmtpRules, TestSmtpServer};
use serde_json::json;

use crate::common::{Paloma, addresses};

#[tokio::test(flavor = "multi_thread")]
async fn a_small_campaign_posted_behind_a_large_one_completes_within_seconds() {
    // 20 ms a message, 10 at once: the large campaign alone takes about 10 s.
    let smtp =
        TestSmtpServer::start(SmtpRules::default().delay(Duration::from_millis(20))).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[("WORKER_CONCURRENCY", "10")]);
    let large = paloma
        .post(&json!({"subject": "Large", "body": "<p>L</p>", "recipients": addresses("large", 5_000)}))
        .await;
    let large = large["id"].as_str().expect("id").to_owned();
    assert!(
        smtp.wait_for(200, Duration::from_secs(30)).await.len() >= 200,
        "the large campaign is sending"
    );

    let posted = Instant::now();
    let small = paloma
        .post(
            &json!({"subject": "Small", "body": "<p>S</p>", "recipients": addresses("small", 10)}),
        )
        .await;
    let small = small["id"].as_str().expect("id").to_owned();
    let done = paloma.wait_final(&small, Duration::from_secs(30)).await;
    let took = posted.elapsed();
    assert_eq!(done["sentEmails"], 10, "{done}");
    let large_now = paloma.campaign(&large).await;
    eprintln!(
        "[fair sharing] 10 recipients posted behind 5,000: COMPLETED after {} ms, the large one at {} sent",
        took.as_millis(),
        large_now["sentEmails"]
    );
    assert_eq!(large_now["status"], "PROCESSING", "{large_now}");
    assert!(took < Duration::from_secs(5), "{took:?}");

    let done = paloma.wait_final(&large, Duration::from_secs(120)).await;
    assert_eq!(done["sentEmails"], 5_000, "{done}");
}
