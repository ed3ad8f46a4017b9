//! What the reconciler and the campaign claim rely on: which campaigns have a live job, and at
//! most one job sending a campaign at a time.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context, Result};
use paloma_application::{JobConsumer, JobProducer, QueueError, TakenJob};
use paloma_domain::CampaignId;

use crate::helpers::TestQueue;

async fn take(tq: &TestQueue) -> Result<TakenJob> {
    tq.consumer
        .take(Duration::from_secs(2))
        .await?
        .context("expected a job to take")
}

#[tokio::test]
async fn live_campaigns_are_those_with_a_waiting_active_or_delayed_job() -> Result<()> {
    let tq = TestQueue::new().await?;
    let [retried, completed, active, waiting, vanished] = [(); 5].map(|()| CampaignId::new());
    for campaign in [retried, completed, active, waiting, vanished] {
        tq.queue.enqueue(campaign).await?;
    }
    // A job of another producer, whose data names no campaign, is ignored.
    let foreign_id: i64 = tq.cmd("INCR", &[&tq.key("id")]).await?;
    let foreign_key = tq.key(&foreign_id.to_string());
    let _: i64 = tq
        .cmd("HSET", &[&foreign_key, "data", r#"{"report":"daily"}"#])
        .await?;
    let _: i64 = tq
        .cmd("LPUSH", &[&tq.key("wait"), &foreign_id.to_string()])
        .await?;

    let first = take(&tq).await?;
    tq.consumer.fail(&first, "try later", true).await?; // -> delayed
    let second = take(&tq).await?;
    tq.consumer.complete(&second).await?; // -> completed
    let third = take(&tq).await?; // stays active
    assert_eq!(third.campaign, Ok(active));
    // The last job's hash is lost (what a Redis restart without persistence does to all).
    let _: i64 = tq.cmd("DEL", &[&tq.key("5")]).await?;

    let live = tq.queue.live_campaigns().await?;
    assert_eq!(live, HashSet::from([retried, active, waiting]));
    tq.cleanup().await
}

#[tokio::test]
async fn one_campaign_is_claimed_by_one_job_until_that_job_is_settled() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    tq.queue.enqueue(campaign).await?;
    tq.queue.enqueue(campaign).await?;
    let first = take(&tq).await?;
    let second = take(&tq).await?;

    assert!(tq.consumer.claim_campaign(&first, campaign).await?);
    assert!(
        tq.consumer.claim_campaign(&first, campaign).await?,
        "again: still ours"
    );
    assert!(!tq.consumer.claim_campaign(&second, campaign).await?);
    let claim_key = tq.key(&format!("campaign-claim:{campaign}"));
    let owner: String = tq.cmd("GET", &[&claim_key]).await?;
    assert_eq!(owner, format!("{}\n{}", first.job_id, first.token));

    // The claim lives as long as the lock and is renewed with it.
    let _: i64 = tq.cmd("PEXPIRE", &[&claim_key, "1000"]).await?;
    tq.consumer.renew(&first).await?;
    let pttl: i64 = tq.cmd("PTTL", &[&claim_key]).await?;
    assert!(pttl > 25_000, "renewed claim PTTL {pttl}");

    // Settling the job lets go: the other job may claim it now.
    tq.consumer.complete(&first).await?;
    let gone: Option<String> = tq.cmd("GET", &[&claim_key]).await?;
    assert_eq!(gone, None);
    assert!(tq.consumer.claim_campaign(&second, campaign).await?);
    // Settling a job that does not hold the claim leaves it alone.
    let third = TakenJob {
        job_id: "999".into(),
        token: "t".into(),
        campaign: Ok(campaign),
        attempts_made: 0,
    };
    assert!(!tq.consumer.claim_campaign(&third, campaign).await?);
    tq.consumer.release(&second).await?;
    assert!(tq.consumer.claim_campaign(&third, campaign).await?);
    tq.cleanup().await
}

#[tokio::test]
async fn a_job_taken_again_after_a_stall_takes_over_its_own_stale_claim() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    tq.queue.enqueue(campaign).await?;
    let dead = take(&tq).await?;
    assert!(tq.consumer.claim_campaign(&dead, campaign).await?);
    // Its worker died; the stalled check handed the same job to another worker (new token)
    // a moment before the dead take's claim expired.
    let again = TakenJob {
        token: "a-new-token".into(),
        ..dead.clone()
    };
    assert!(tq.consumer.claim_campaign(&again, campaign).await?);
    // The dead take, were it still running, could not take the claim back: its renewal
    // fails on the job's lock (now the new take's) before it touches the claim.
    let _: String = tq
        .cmd(
            "SET",
            &[&tq.key(&format!("{}:lock", dead.job_id)), "a-new-token"],
        )
        .await?;
    assert!(matches!(
        tq.consumer.renew(&dead).await,
        Err(QueueError::LockLost)
    ));
    let owner: String = tq
        .cmd("GET", &[&tq.key(&format!("campaign-claim:{campaign}"))])
        .await?;
    assert_eq!(owner, format!("{}\na-new-token", dead.job_id));
    tq.cleanup().await
}

#[tokio::test]
async fn a_renewal_fails_when_another_job_took_the_claim() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    tq.queue.enqueue(campaign).await?;
    let job = take(&tq).await?;
    assert!(tq.consumer.claim_campaign(&job, campaign).await?);
    // The claim expired during an outage and another job took it.
    let claim_key = tq.key(&format!("campaign-claim:{campaign}"));
    let _: String = tq.cmd("SET", &[&claim_key, "7\nother-token"]).await?;
    assert!(matches!(
        tq.consumer.renew(&job).await,
        Err(QueueError::LockLost)
    ));
    tq.cleanup().await
}
