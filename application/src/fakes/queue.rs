//! The queue in memory: producer and consumer.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use paloma_domain::*;

use super::lock;
use crate::ports::*;

/// A queue in memory: every job added stays live unless its campaign is put in `lost` (a job
/// that vanished from Redis, or ended failed); adding a job for it again makes it live.
#[derive(Default)]
pub struct FakeQueue {
    pub enqueued: Mutex<Vec<CampaignId>>,
    pub lost: Mutex<HashSet<CampaignId>>,
    pub down: AtomicBool,
}

impl FakeQueue {
    fn check(&self) -> Result<(), QueueError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(QueueError::Unavailable("fake redis is down".into()));
        }
        Ok(())
    }
}

impl JobProducer for FakeQueue {
    async fn enqueue(&self, campaign: CampaignId) -> Result<String, QueueError> {
        self.check()?;
        lock(&self.lost).remove(&campaign);
        let mut q = lock(&self.enqueued);
        q.push(campaign);
        Ok(q.len().to_string())
    }

    async fn live_campaigns(&self) -> Result<HashSet<CampaignId>, QueueError> {
        self.check()?;
        let lost = lock(&self.lost);
        Ok(lock(&self.enqueued)
            .iter()
            .filter(|c| !lost.contains(c))
            .copied()
            .collect())
    }
}

/// A consumer that hands out the jobs it was given and records how each was settled.
#[derive(Default)]
pub struct FakeConsumer {
    pub waiting: Mutex<Vec<TakenJob>>,
    pub settled: Mutex<Vec<(String, &'static str, String)>>,
    /// campaign -> the job id holding it
    pub claims: Mutex<HashMap<CampaignId, String>>,
}

impl FakeConsumer {
    fn settle(&self, job: &TakenJob, how: &'static str, detail: &str) {
        lock(&self.claims).retain(|_, holder| *holder != job.job_id);
        lock(&self.settled).push((job.job_id.clone(), how, detail.to_owned()));
    }
}

impl JobConsumer for FakeConsumer {
    async fn take(&self, timeout: Duration) -> Result<Option<TakenJob>, QueueError> {
        let job = lock(&self.waiting).pop();
        if job.is_none() {
            tokio::time::sleep(timeout.min(Duration::from_millis(10))).await;
        }
        Ok(job)
    }
    async fn claim_campaign(
        &self,
        job: &TakenJob,
        campaign: CampaignId,
    ) -> Result<bool, QueueError> {
        let mut claims = lock(&self.claims);
        let holder = claims.entry(campaign).or_insert_with(|| job.job_id.clone());
        Ok(*holder == job.job_id)
    }
    async fn renew(&self, _job: &TakenJob) -> Result<(), QueueError> {
        Ok(())
    }
    async fn complete(&self, job: &TakenJob) -> Result<(), QueueError> {
        self.settle(job, "completed", "");
        Ok(())
    }
    async fn fail(&self, job: &TakenJob, reason: &str, retry: bool) -> Result<(), QueueError> {
        self.settle(job, if retry { "retry" } else { "failed" }, reason);
        Ok(())
    }
    async fn release(&self, job: &TakenJob) -> Result<(), QueueError> {
        self.settle(job, "released", "");
        Ok(())
    }
    async fn maintain(&self) -> Result<(), QueueError> {
        Ok(())
    }
}
