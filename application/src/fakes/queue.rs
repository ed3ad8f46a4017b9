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
    /// Campaigns a Node bull worker holds a job of.
    pub held_elsewhere: Mutex<HashSet<CampaignId>>,
    /// Every fence set, in order, with how it ended (`None` while it lasts).
    pub fences: Mutex<Vec<(CampaignId, Option<FenceEnd>)>>,
    /// The campaigns workers were asked to stop sending, in order.
    pub stops: Mutex<Vec<CampaignId>>,
    /// When the last delayed job added for a campaign is due.
    pub due: Mutex<HashMap<CampaignId, chrono::DateTime<chrono::Utc>>>,
    /// The test messages handed to the workers, in order.
    pub test_sends: Mutex<Vec<TestMessage>>,
    /// What the workers answer a test send; `None`: every address sent.
    pub test_answer: Mutex<Option<TestSendAnswer>>,
    /// What `job_counts` answers.
    pub counts: Mutex<JobCounts>,
    /// The workers `live_workers` lists.
    pub workers: Mutex<Vec<WorkerBeat>>,
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

    async fn enqueue_due(
        &self,
        campaign: CampaignId,
        due: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, QueueError> {
        let id = self.enqueue(campaign).await?;
        lock(&self.due).insert(campaign, due);
        Ok(id)
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

    async fn fence(&self, campaign: CampaignId) -> Result<Fence, QueueError> {
        self.check()?;
        if lock(&self.held_elsewhere).contains(&campaign) {
            return Ok(Fence::HeldElsewhere);
        }
        lock(&self.fences).push((campaign, None));
        Ok(Fence::Fenced { jobs: 0 })
    }

    async fn unfence(&self, campaign: CampaignId, end: FenceEnd) -> Result<u32, QueueError> {
        self.check()?;
        let mut fences = lock(&self.fences);
        match fences
            .iter_mut()
            .find(|(c, e)| *c == campaign && e.is_none())
        {
            Some(fence) => fence.1 = Some(end),
            None => panic!("unfence of {campaign} without a fence"),
        }
        Ok(0)
    }

    async fn stop_sending(
        &self,
        campaign: CampaignId,
        _wait: Duration,
    ) -> Result<StopAnswer, QueueError> {
        self.check()?;
        lock(&self.stops).push(campaign);
        Ok(StopAnswer::NotSending)
    }

    async fn job_counts(&self) -> Result<JobCounts, QueueError> {
        self.check()?;
        Ok(*lock(&self.counts))
    }

    async fn live_workers(&self) -> Result<Vec<WorkerBeat>, QueueError> {
        self.check()?;
        Ok(lock(&self.workers).clone())
    }

    async fn send_test(
        &self,
        message: &TestMessage,
        _wait: Duration,
    ) -> Result<TestSendAnswer, QueueError> {
        self.check()?;
        lock(&self.test_sends).push(message.clone());
        Ok(lock(&self.test_answer)
            .clone()
            .unwrap_or_else(|| TestSendAnswer::Sent(vec![DeliveryOutcome::Sent; message.to.len()])))
    }
}

/// A consumer that hands out the jobs it was given and records how each was settled.
pub struct FakeConsumer {
    pub waiting: Mutex<Vec<TakenJob>>,
    pub settled: Mutex<Vec<(String, &'static str, String)>>,
    /// campaign -> the job id holding it
    pub claims: Mutex<HashMap<CampaignId, String>>,
    /// Where a test sends stop requests to the worker's subscription.
    pub stop_requests: tokio::sync::broadcast::Sender<StopRequest>,
    /// The stop requests the worker confirmed.
    pub stops_confirmed: Mutex<Vec<StopRequest>>,
    /// Test sends waiting for the worker.
    pub test_sends: Mutex<Vec<TestSendRequest>>,
    /// The test sends the worker answered, with the outcomes it gave.
    pub test_answers: Mutex<Vec<(TestSendRequest, Vec<DeliveryOutcome>)>>,
    /// Every heartbeat, in order, and the ids that left.
    pub beats: Mutex<Vec<WorkerBeat>>,
    pub left: Mutex<Vec<String>>,
}

impl Default for FakeConsumer {
    fn default() -> Self {
        Self {
            waiting: Mutex::default(),
            settled: Mutex::default(),
            claims: Mutex::default(),
            stop_requests: tokio::sync::broadcast::channel(16).0,
            stops_confirmed: Mutex::default(),
            test_sends: Mutex::default(),
            test_answers: Mutex::default(),
            beats: Mutex::default(),
            left: Mutex::default(),
        }
    }
}

/// A subscription to a [`FakeConsumer`]'s stop requests.
pub struct FakeStops(tokio::sync::broadcast::Receiver<StopRequest>);

impl StopRequests for FakeStops {
    async fn next(&mut self) -> Option<StopRequest> {
        self.0.recv().await.ok()
    }
}

impl FakeConsumer {
    fn settle(&self, job: &TakenJob, how: &'static str, detail: &str) {
        lock(&self.claims).retain(|_, holder| *holder != job.job_id);
        lock(&self.settled).push((job.job_id.clone(), how, detail.to_owned()));
    }
}

impl JobConsumer for FakeConsumer {
    type Stops = FakeStops;

    async fn stop_requests(&self) -> Result<FakeStops, QueueError> {
        Ok(FakeStops(self.stop_requests.subscribe()))
    }
    async fn answer_stop(&self, request: &StopRequest, sending: bool) -> Result<(), QueueError> {
        if sending {
            lock(&self.stops_confirmed).push(request.clone());
        }
        Ok(())
    }
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
    async fn beat(&self, beat: &WorkerBeat, _ttl: Duration) -> Result<(), QueueError> {
        lock(&self.beats).push(beat.clone());
        Ok(())
    }
    async fn leave(&self, id: &str) -> Result<(), QueueError> {
        lock(&self.left).push(id.to_owned());
        Ok(())
    }
    async fn take_test_send(
        &self,
        timeout: Duration,
    ) -> Result<Option<TestSendRequest>, QueueError> {
        let request = lock(&self.test_sends).pop();
        if request.is_none() {
            tokio::time::sleep(timeout.min(Duration::from_millis(10))).await;
        }
        Ok(request)
    }
    async fn answer_test_send(
        &self,
        request: &TestSendRequest,
        outcomes: &[DeliveryOutcome],
    ) -> Result<(), QueueError> {
        lock(&self.test_answers).push((request.clone(), outcomes.to_vec()));
        Ok(())
    }
}
