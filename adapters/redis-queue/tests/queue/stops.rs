//! Stopping the worker that sends a campaign, through a real Redis: no claim, no wait; the
//! holder's confirmation ends the wait; a holder that lets go ends it too; a holder that does
//! not answer is waited for no longer than asked.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use paloma_application::{JobConsumer, JobProducer, StopAnswer, StopRequests, TakenJob};
use paloma_domain::CampaignId;

use crate::helpers::TestQueue;

/// Enqueues a job for a new campaign, takes it and claims the campaign.
async fn claimed(tq: &TestQueue) -> Result<(CampaignId, TakenJob)> {
    let campaign = CampaignId::new();
    tq.queue.enqueue(campaign).await?;
    let job = tq
        .consumer
        .take(Duration::from_secs(2))
        .await?
        .context("a job")?;
    anyhow::ensure!(tq.consumer.claim_campaign(&job, campaign).await?);
    Ok((campaign, job))
}

#[tokio::test]
async fn nobody_holding_the_campaign_answers_at_once() -> Result<()> {
    let tq = TestQueue::new().await?;
    let started = Instant::now();
    let answer = tq
        .queue
        .stop_sending(CampaignId::new(), Duration::from_secs(5))
        .await?;
    assert_eq!(answer, StopAnswer::NotSending);
    assert!(started.elapsed() < Duration::from_secs(1));
    tq.cleanup().await
}

#[tokio::test]
async fn the_holder_hears_the_request_for_its_campaign_and_its_confirmation_ends_the_wait()
-> Result<()> {
    let tq = TestQueue::new().await?;
    let (campaign, _job) = claimed(&tq).await?;
    let mut requests = tq.consumer.stop_requests().await?;
    let worker = tq.consumer.clone();
    let listener = tokio::spawn(async move {
        let request = requests.next().await.context("a request")?;
        worker.confirm_stop(&request).await?;
        anyhow::Ok(request)
    });
    let answer = tq
        .queue
        .stop_sending(campaign, Duration::from_secs(5))
        .await?;
    assert_eq!(answer, StopAnswer::Stopped);
    let request = listener.await??;
    assert_eq!(request.campaign, campaign);
    let left: i64 = tq.cmd("EXISTS", &[&request.reply_to]).await?;
    assert_eq!(left, 0, "the confirmation was taken");
    tq.cleanup().await
}

#[tokio::test]
async fn a_holder_that_lets_go_ends_the_wait_and_a_silent_one_is_waited_for_no_longer_than_asked()
-> Result<()> {
    let tq = TestQueue::new().await?;
    let (campaign, job) = claimed(&tq).await?;
    let started = Instant::now();
    let answer = tq
        .queue
        .stop_sending(campaign, Duration::from_millis(300))
        .await?;
    assert_eq!(answer, StopAnswer::Unconfirmed, "nobody listens");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(2));

    let consumer = tq.consumer.clone();
    let settle = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        consumer.complete(&job).await
    });
    let answer = tq
        .queue
        .stop_sending(campaign, Duration::from_secs(10))
        .await?;
    assert_eq!(answer, StopAnswer::NotSending, "the job was settled");
    settle.await??;
    tq.cleanup().await
}
