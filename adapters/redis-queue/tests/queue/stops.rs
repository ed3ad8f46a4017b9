//! Stopping the workers that send a campaign, through a real Redis: no claim and nobody
//! listening, no wait; the answers of every listening worker end the wait; a holder that lets
//! go ends it too; a worker that does not answer is waited for no longer than asked.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use paloma_application::{
    Fence, FenceEnd, JobConsumer, JobProducer, StopAnswer, StopRequests, TakenJob,
};
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
        worker.answer_stop(&request, true).await?;
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

/// Every listening worker answers; the wait ends once all have. A worker sending a shard of
/// the campaign counts as much as the job's holder, and one that says nothing is waited for.
#[tokio::test]
async fn every_listening_worker_answers_and_the_wait_ends_when_all_have() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    // Two workers listen; neither holds the campaign's claim (one sends a shard of it).
    let mut first = tq.consumer.stop_requests().await?;
    let mut second = tq.consumer.stop_requests().await?;
    let answering = |mut requests: paloma_redis_queue::RedisStops, sending: bool| {
        let worker = tq.consumer.clone();
        tokio::spawn(async move {
            let request = requests.next().await.context("a request")?;
            worker.answer_stop(&request, sending).await?;
            anyhow::Ok(requests)
        })
    };
    let (a, b) = (answering(first, false), answering(second, true));
    let answer = tq
        .queue
        .stop_sending(campaign, Duration::from_secs(5))
        .await?;
    assert_eq!(answer, StopAnswer::Stopped, "the shard's sender stopped");
    (first, second) = (a.await??, b.await??);

    let (a, b) = (answering(first, false), answering(second, false));
    let started = Instant::now();
    let answer = tq
        .queue
        .stop_sending(campaign, Duration::from_secs(5))
        .await?;
    assert_eq!(
        answer,
        StopAnswer::NotSending,
        "nobody sends it, nobody holds it"
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "no wait past the answers"
    );
    (first, second) = (a.await??, b.await??);

    // One answers that it stopped, the other hears but stays silent.
    let a = answering(first, true);
    let silent = tokio::spawn(async move { second.next().await });
    let started = Instant::now();
    let answer = tq
        .queue
        .stop_sending(campaign, Duration::from_millis(300))
        .await?;
    assert_eq!(answer, StopAnswer::Unconfirmed, "one worker did not answer");
    assert!(started.elapsed() >= Duration::from_millis(300));
    a.await??;
    assert!(silent.await?.is_some(), "the silent one heard the request");
    tq.cleanup().await
}

/// A fence takes the campaign's waiting and delayed jobs out of every worker's reach and
/// nobody else's; restoring puts each back where it was (a waiting one to be taken next), and
/// settling completes it as bull records a finished job.
#[tokio::test]
async fn a_fence_takes_the_campaign_s_jobs_out_of_reach_until_it_is_restored_or_settled()
-> Result<()> {
    let tq = TestQueue::new().await?;
    let (campaign, other, later) = (CampaignId::new(), CampaignId::new(), CampaignId::new());
    let job = tq.queue.enqueue(campaign).await?;
    let other_job = tq.queue.enqueue(other).await?;
    let due = chrono::Utc::now() + chrono::Duration::hours(1);
    let later_job = tq.queue.enqueue_due(later, due).await?;
    let delayed_before = tq.zset("delayed").await?;

    assert_eq!(tq.queue.fence(campaign).await?, Fence::Fenced { jobs: 1 });
    assert_eq!(tq.list("wait").await?, std::slice::from_ref(&other_job));
    let ttl: i64 = tq
        .cmd("PTTL", &[&tq.key(&format!("paloma-fence:{campaign}"))])
        .await?;
    assert!(
        ttl > 0 && ttl <= 30_000,
        "the fence expires by itself: {ttl}"
    );
    assert_eq!(tq.queue.unfence(campaign, FenceEnd::Restore).await?, 1);
    assert_eq!(
        tq.list("wait").await?,
        [other_job.clone(), job.clone()],
        "taken next"
    );

    assert_eq!(tq.queue.fence(later).await?, Fence::Fenced { jobs: 1 });
    assert_eq!(tq.zset("delayed").await?, []);
    assert_eq!(tq.queue.unfence(later, FenceEnd::Restore).await?, 1);
    assert_eq!(
        tq.zset("delayed").await?,
        delayed_before,
        "the same due time"
    );

    assert_eq!(tq.queue.fence(campaign).await?, Fence::Fenced { jobs: 1 });
    assert_eq!(tq.queue.unfence(campaign, FenceEnd::Settle).await?, 1);
    assert_eq!(tq.list("wait").await?, std::slice::from_ref(&other_job));
    let completed: Vec<String> = tq
        .zset("completed")
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(completed, std::slice::from_ref(&job));
    assert!(tq.field(&job, "finishedOn").await?.is_some());
    assert_eq!(
        tq.queue.unfence(campaign, FenceEnd::Restore).await?,
        0,
        "the fence is gone"
    );
    assert_eq!(tq.list("wait").await?, [other_job]);
    assert_eq!(later_job, tq.zset("delayed").await?[0].0);
    tq.cleanup().await
}

/// A job of the campaign that a Node bull worker holds (its lock token a UUID v4) refuses the
/// fence and changes nothing, also when the fence comes while the job is being taken (in
/// `active`, not locked yet); one a Paloma worker holds (a UUID v7 token) does not, and stays
/// where it is: that worker is asked to stop instead. One left unlocked (stalled) is fenced.
#[tokio::test]
async fn a_job_a_node_worker_holds_or_is_taking_refuses_the_fence_and_one_paloma_holds_does_not()
-> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    let held = tq.queue.enqueue(campaign).await?;
    let waiting = tq.queue.enqueue(campaign).await?;
    // Taken as bull 4 takes a job: out of wait into active, locked with its process's token
    // (a UUID v4).
    let _: String = tq
        .cmd("RPOPLPUSH", &[&tq.key("wait"), &tq.key("active")])
        .await?;
    let lock = tq.key(&format!("{held}:lock"));
    // Not locked yet: the fence waits for the take to lock it.
    let locker = {
        let lock = lock.clone();
        let mut conn = tq.redis.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            redis::cmd("SET")
                .arg(lock)
                .arg("0b0a34a4-9f2e-4c1b-8d3a-2f6c1e7b5a90")
                .query_async::<()>(&mut conn)
                .await
        })
    };
    assert_eq!(tq.queue.fence(campaign).await?, Fence::HeldElsewhere);
    locker.await??;
    assert_eq!(
        tq.list("wait").await?,
        std::slice::from_ref(&waiting),
        "nothing fenced"
    );

    let _: String = tq
        .cmd("SET", &[&lock, &uuid::Uuid::now_v7().to_string()])
        .await?;
    assert_eq!(tq.queue.fence(campaign).await?, Fence::Fenced { jobs: 1 });
    assert_eq!(tq.list("active").await?, std::slice::from_ref(&held));
    assert_eq!(tq.list("wait").await?, Vec::<String>::new());
    assert_eq!(tq.queue.unfence(campaign, FenceEnd::Restore).await?, 1);

    // A job nobody locks (its worker died taking it) is fenced after a short wait.
    let _: i64 = tq.cmd("DEL", &[&lock]).await?;
    let started = Instant::now();
    assert_eq!(tq.queue.fence(campaign).await?, Fence::Fenced { jobs: 2 });
    assert!(
        started.elapsed() >= Duration::from_millis(150),
        "it waited for a lock"
    );
    assert_eq!(tq.list("active").await?, Vec::<String>::new());
    assert_eq!(tq.queue.unfence(campaign, FenceEnd::Restore).await?, 2);
    assert_eq!(tq.list("active").await?, [held]);
    assert_eq!(tq.list("wait").await?, [waiting]);
    tq.cleanup().await
}
