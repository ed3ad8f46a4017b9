//! How many finished jobs the queue keeps: `QueueSettings::keep_completed` and `keep_failed`,
//! written into every job's `opts` as bull's `removeOnComplete` and `removeOnFail`
//! (docs/bull-protocol.md, "Completing").

use std::time::Duration;

use anyhow::{Context, Result};
use paloma_application::{JobConsumer, JobProducer, TakenJob};
use paloma_domain::CampaignId;

use crate::helpers::{TestQueue, sleep_ms};

async fn take(tq: &TestQueue) -> Result<TakenJob> {
    tq.consumer
        .take(Duration::from_secs(2))
        .await?
        .context("expected a job to take")
}

async fn exists(tq: &TestQueue, id: &str) -> Result<bool> {
    let n: i64 = tq.cmd("EXISTS", &[&tq.key(id)]).await?;
    Ok(n == 1)
}

async fn members(tq: &TestQueue, zset: &str) -> Result<Vec<String>> {
    Ok(tq.zset(zset).await?.into_iter().map(|(id, _)| id).collect())
}

/// Adds `n` jobs, then takes each (oldest first) and completes it, or fails it for good, a
/// few milliseconds apart so that their `finishedOn` differ (bull orders equal ones by id as
/// text).
async fn finish_jobs(tq: &TestQueue, n: usize, complete: bool) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(tq.queue.enqueue(CampaignId::new()).await?);
    }
    for id in &ids {
        let job = take(tq).await?;
        assert_eq!(&job.job_id, id);
        if complete {
            tq.consumer.complete(&job).await?;
        } else {
            tq.consumer.fail(&job, "bad campaign", false).await?;
        }
        sleep_ms(3).await;
    }
    Ok(ids)
}

#[tokio::test]
async fn only_the_newest_completed_jobs_are_kept() -> Result<()> {
    let tq = TestQueue::with(|s| s.keep_completed = 3).await?;
    let ids = finish_jobs(&tq, 5, true).await?;
    assert_eq!(members(&tq, "completed").await?, ids[2..]);
    for id in &ids[..2] {
        assert!(
            !exists(&tq, id).await?,
            "job {id} is older than the newest 3"
        );
    }
    for id in &ids[2..] {
        assert_eq!(
            tq.field(id, "returnvalue").await?.as_deref(),
            Some("null"),
            "job {id} is kept whole"
        );
    }
    tq.cleanup().await
}

#[tokio::test]
async fn only_the_newest_failed_jobs_are_kept() -> Result<()> {
    let tq = TestQueue::with(|s| s.keep_failed = 2).await?;
    let ids = finish_jobs(&tq, 4, false).await?;
    assert_eq!(members(&tq, "failed").await?, ids[2..]);
    for id in &ids[..2] {
        assert!(
            !exists(&tq, id).await?,
            "job {id} is older than the newest 2"
        );
    }
    for id in &ids[2..] {
        assert_eq!(
            tq.field(id, "failedReason").await?.as_deref(),
            Some("bad campaign")
        );
    }
    tq.cleanup().await?;

    // A retry is not a failure for good: the job waits in delayed, whatever keep_failed says.
    let tq = TestQueue::with(|s| s.keep_failed = 0).await?;
    let id = tq.queue.enqueue(CampaignId::new()).await?;
    let job = take(&tq).await?;
    tq.consumer.fail(&job, "smtp down", true).await?;
    assert_eq!(members(&tq, "delayed").await?, [id.as_str()]);
    assert!(exists(&tq, &id).await?);
    tq.cleanup().await
}

/// 0 is bull's "keep none": the job is deleted as it finishes and never enters the zset.
#[tokio::test]
async fn keeping_zero_deletes_each_job_as_it_finishes() -> Result<()> {
    let tq = TestQueue::with(|s| {
        s.keep_completed = 0;
        s.keep_failed = 0;
    })
    .await?;
    let completed = tq.queue.enqueue(CampaignId::new()).await?;
    let failed = tq.queue.enqueue(CampaignId::new()).await?;
    let opts = tq.field(&completed, "opts").await?.context("opts")?;
    assert!(
        opts.contains(r#""removeOnComplete":0,"removeOnFail":0,"#),
        "{opts}"
    );
    let job = take(&tq).await?;
    tq.consumer.complete(&job).await?;
    let job = take(&tq).await?;
    tq.consumer.fail(&job, "bad campaign", false).await?;

    for id in [&completed, &failed] {
        assert!(!exists(&tq, id).await?, "job {id} deleted");
        let lock: i64 = tq.cmd("EXISTS", &[&tq.key(&format!("{id}:lock"))]).await?;
        assert_eq!(lock, 0);
    }
    assert!(tq.zset("completed").await?.is_empty());
    assert!(tq.zset("failed").await?.is_empty());
    assert!(tq.list("active").await?.is_empty());
    tq.cleanup().await
}
