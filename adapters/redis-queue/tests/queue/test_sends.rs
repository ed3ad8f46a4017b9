//! Test sends through a real Redis: one worker takes a test message and its answer ends the
//! wait; a message no worker takes is withdrawn, so a worker that comes later never sends it;
//! a worker that took it but has not answered leaves the asker with `Taken`.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use paloma_application::{JobConsumer, JobProducer, MessageSender, TestMessage, TestSendAnswer};
use paloma_domain::{CampaignId, DeliveryOutcome};

use crate::helpers::TestQueue;

fn message(to: &[&str]) -> TestMessage {
    TestMessage {
        campaign: CampaignId::new(),
        to: to.iter().map(|a| (*a).to_owned()).collect(),
        subject: "[Test] Hello".to_owned(),
        html: "<p>Hello</p>".to_owned(),
        text: "Hello".to_owned(),
        sender: MessageSender::default(),
    }
}

#[tokio::test]
async fn one_worker_takes_a_test_and_its_answer_ends_the_wait() -> Result<()> {
    let tq = TestQueue::new().await?;
    let sent = message(&["me@x.org", "gone@x.org"]);
    let worker = tq.consumer.clone();
    let second = tq.consumer.clone();
    let serving = tokio::spawn(async move {
        let request = worker
            .take_test_send(Duration::from_secs(5))
            .await?
            .context("a test send")?;
        let outcomes = [
            DeliveryOutcome::Sent,
            DeliveryOutcome::Permanent("550 5.1.1 no such user".to_owned()),
        ];
        worker.answer_test_send(&request, &outcomes).await?;
        anyhow::Ok(request)
    });
    let answer = tq.queue.send_test(&sent, Duration::from_secs(5)).await?;
    assert_eq!(
        answer,
        TestSendAnswer::Sent(vec![
            DeliveryOutcome::Sent,
            DeliveryOutcome::Permanent("550 5.1.1 no such user".to_owned()),
        ])
    );
    let request = serving.await??;
    assert_eq!(request.message, sent);
    // Taken once: nothing is left for another worker, and the answer was consumed.
    assert_eq!(
        second.take_test_send(Duration::from_millis(50)).await?,
        None
    );
    let left: i64 = tq.cmd("EXISTS", &[&request.reply_to]).await?;
    assert_eq!(left, 0);
    tq.cleanup().await
}

#[tokio::test]
async fn a_test_no_worker_takes_is_withdrawn_and_one_taken_but_unanswered_is_taken() -> Result<()> {
    let tq = TestQueue::new().await?;
    let started = Instant::now();
    let answer = tq
        .queue
        .send_test(&message(&["me@x.org"]), Duration::from_millis(300))
        .await?;
    assert_eq!(answer, TestSendAnswer::NoWorker);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
        "{waited:?}"
    );
    let waiting: i64 = tq.cmd("LLEN", &[&tq.key("paloma-test-sends")]).await?;
    assert_eq!(waiting, 0, "withdrawn");
    assert_eq!(
        tq.consumer
            .take_test_send(Duration::from_millis(50))
            .await?,
        None,
        "a worker that comes later sends nothing"
    );

    // Taken, never answered (a slow SMTP server).
    let worker = tq.consumer.clone();
    let taker = tokio::spawn(async move { worker.take_test_send(Duration::from_secs(5)).await });
    let answer = tq
        .queue
        .send_test(&message(&["me@x.org"]), Duration::from_millis(300))
        .await?;
    assert_eq!(answer, TestSendAnswer::Taken);
    assert!(taker.await??.is_some());
    tq.cleanup().await
}

#[tokio::test]
async fn a_test_past_its_deadline_or_unreadable_is_dropped_by_the_worker() -> Result<()> {
    let tq = TestQueue::new().await?;
    let list = tq.key("paloma-test-sends");
    let _: i64 = tq.cmd("RPUSH", &[&list, "not json"]).await?;
    let expired = format!(
        r#"{{"reply":"r","deadline":1,"campaign":"{}","to":["me@x.org"],"subject":"s","html":"h","text":"t"}}"#,
        CampaignId::new()
    );
    let _: i64 = tq.cmd("RPUSH", &[&list, &expired]).await?;
    assert_eq!(
        tq.consumer
            .take_test_send(Duration::from_millis(50))
            .await?,
        None
    );
    assert_eq!(
        tq.consumer
            .take_test_send(Duration::from_millis(50))
            .await?,
        None
    );
    let waiting: i64 = tq.cmd("LLEN", &[&list]).await?;
    assert_eq!(waiting, 0);
    tq.cleanup().await
}
