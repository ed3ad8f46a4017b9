//! The queue as operators see it, on a real Redis: job counts by state, and the workers'
//! heartbeats (listed while alive, gone when their beat expires or they leave).

use std::time::Duration;

use anyhow::Result;
use chrono::Utc;
use paloma_application::{JobConsumer, JobProducer, WorkerBeat};
use paloma_domain::CampaignId;

use crate::helpers::TestQueue;

fn beat(id: &str) -> WorkerBeat {
    let now = chrono::DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).expect("now");
    WorkerBeat {
        id: id.to_owned(),
        host: "box".to_owned(),
        pid: 7,
        started_at: now,
        last_beat_at: now,
        campaigns: vec![CampaignId::new()],
        messages_per_second: 3.5,
        concurrency: 10,
    }
}

#[tokio::test]
async fn counts_follow_the_jobs_through_their_states() -> Result<()> {
    let tq = TestQueue::new().await?;
    assert_eq!(tq.queue.job_counts().await?, Default::default());
    tq.queue.enqueue(CampaignId::new()).await?;
    tq.queue.enqueue(CampaignId::new()).await?;
    tq.queue
        .enqueue_due(CampaignId::new(), Utc::now() + chrono::TimeDelta::hours(1))
        .await?;
    let counts = tq.queue.job_counts().await?;
    assert_eq!((counts.waiting, counts.active, counts.delayed), (2, 0, 1));
    let job = tq
        .consumer
        .take(Duration::from_secs(1))
        .await?
        .expect("a job");
    let counts = tq.queue.job_counts().await?;
    assert_eq!((counts.waiting, counts.active), (1, 1));
    tq.consumer.complete(&job).await?;
    let counts = tq.queue.job_counts().await?;
    assert_eq!((counts.active, counts.completed), (0, 1));
    tq.cleanup().await
}

#[tokio::test]
async fn a_worker_is_listed_while_it_beats_and_drops_off_when_its_beat_expires_or_it_leaves()
-> Result<()> {
    let tq = TestQueue::new().await?;
    let (a, b) = (beat("worker-a"), beat("worker-b"));
    tq.consumer.beat(&a, Duration::from_millis(300)).await?;
    tq.consumer.beat(&b, Duration::from_secs(30)).await?;
    let mut live = tq.queue.live_workers().await?;
    live.sort_by(|x, y| x.id.cmp(&y.id));
    assert_eq!(live, vec![a.clone(), b.clone()]);

    // a's beat expires; b leaves at once.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(tq.queue.live_workers().await?, vec![b.clone()]);
    let members: Vec<String> = tq.cmd("SMEMBERS", &[&tq.key("paloma-workers")]).await?;
    assert_eq!(
        members,
        ["worker-b"],
        "the expired one is removed from the set"
    );
    tq.consumer.leave(&b.id).await?;
    assert!(tq.queue.live_workers().await?.is_empty());
    tq.cleanup().await
}
