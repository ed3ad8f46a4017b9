//! [`RedisJobConsumer`]: the worker side of the queue (take, renew, claim, settle, and the
//! housekeeping every worker runs).

use std::sync::Arc;
use std::time::Duration;

use paloma_application::{
    JobConsumer, QueueError, StopRequest, TakenJob, TestSendRequest, WorkerBeat,
};
use paloma_domain::{CampaignId, DeliveryOutcome};
use tracing::{debug, warn};
use uuid::Uuid;

use crate::error::{redis_error, refusal_error};
use crate::pool::{BlockingConnection, Shared};
use crate::scripts::{
    ActivateJob, CheckStalled, ClaimCampaign, ClaimMode, CompleteJob, ExtendLock, FailJob,
    FailOutcome, PromoteDelayed, ReleaseJob, StalledCheck,
};
use crate::settings::{QueueSettings, millis};
use crate::stops::RedisStops;
use crate::wire;

/// Due delayed jobs promoted per script call.
const PROMOTE_BATCH: u32 = 1000;

/// The worker side of the queue: pooled connections for the scripts, plus one dedicated
/// connection (no response timeout) for the blocking move `wait -> active`. Clones share that
/// connection, so takes through clones are serialized; create one consumer per concurrent
/// taker (see `RedisJobQueue::consumer`).
#[derive(Debug, Clone)]
pub struct RedisJobConsumer {
    shared: Arc<Shared>,
    blocking: BlockingConnection,
    /// A second blocking connection, for the takes of test sends.
    test_sends: BlockingConnection,
}

impl RedisJobConsumer {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            blocking: BlockingConnection::new(Arc::clone(&shared)),
            test_sends: BlockingConnection::new(Arc::clone(&shared)),
            shared,
        }
    }

    /// Connects a consumer with its own pool and checks that Redis answers: `Unavailable` when
    /// Redis cannot be reached, `Unknown` when the URL is invalid.
    pub async fn connect(settings: QueueSettings) -> Result<Self, QueueError> {
        let consumer = Self::new(Arc::new(Shared::new(settings)?));
        consumer.ping().await?;
        Ok(consumer)
    }

    /// Checks that Redis answers (for readiness probes).
    pub async fn ping(&self) -> Result<(), QueueError> {
        self.shared.ping().await
    }

    /// Takes or extends ([`ClaimMode::Hold`]) or drops the job's claim on `campaign`; false
    /// when another job holds it.
    async fn claim(
        &self,
        job: &TakenJob,
        campaign: CampaignId,
        mode: ClaimMode,
    ) -> Result<bool, QueueError> {
        let shared = &self.shared;
        let mut conn = shared.conn().await?;
        ClaimCampaign {
            keys: &shared.keys,
            campaign,
            job_id: &job.job_id,
            lock_token: &job.token,
            duration_ms: shared.settings.lock_millis(),
            mode,
        }
        .invoke(&mut conn)
        .await
        .map_err(redis_error)
    }

    /// Lets go of the settled job's campaign claim, if it has one. Best effort: a claim left
    /// behind expires with the lock duration.
    async fn drop_claim(&self, job: &TakenJob) {
        if let Ok(campaign) = job.campaign
            && let Err(e) = self.claim(job, campaign, ClaimMode::Drop).await
        {
            debug!(job_id = %job.job_id, error = %e, "could not drop the campaign claim");
        }
    }

    /// Promotes due delayed jobs; returns how many moved.
    async fn promote_delayed(&self) -> Result<u64, QueueError> {
        let shared = &self.shared;
        let mut conn = shared.conn().await?;
        PromoteDelayed {
            keys: &shared.keys,
            token: &shared.token,
            limit: PROMOTE_BATCH,
        }
        .invoke(&mut conn)
        .await
        .map_err(redis_error)
    }

    /// Runs the stalled-job check unless another worker ran it within the interval (or the
    /// interval is zero: the check is off).
    async fn check_stalled(&self) -> Result<StalledCheck, QueueError> {
        let shared = &self.shared;
        let interval_ms = millis(shared.settings.stalled_interval);
        if interval_ms == 0 {
            return Ok(StalledCheck {
                ran: false,
                recovered: 0,
                failed: 0,
            });
        }
        let mut conn = shared.conn().await?;
        CheckStalled {
            keys: &shared.keys,
            interval_ms,
            max_stalled: shared.settings.max_stalled_count,
        }
        .invoke(&mut conn)
        .await
        .map_err(redis_error)
    }
}

impl JobConsumer for RedisJobConsumer {
    type Stops = RedisStops;

    async fn stop_requests(&self) -> Result<RedisStops, QueueError> {
        crate::stops::subscribe(&self.shared).await
    }

    async fn answer_stop(&self, request: &StopRequest, sending: bool) -> Result<(), QueueError> {
        crate::stops::answer(&self.shared, request, sending).await
    }

    async fn beat(&self, beat: &WorkerBeat, ttl: Duration) -> Result<(), QueueError> {
        crate::monitor::beat(&self.shared, beat, ttl).await
    }

    async fn leave(&self, id: &str) -> Result<(), QueueError> {
        crate::monitor::leave(&self.shared, id).await
    }

    async fn take_test_send(
        &self,
        timeout: Duration,
    ) -> Result<Option<TestSendRequest>, QueueError> {
        crate::test_sends::take(&self.shared, &self.test_sends, timeout).await
    }

    async fn answer_test_send(
        &self,
        request: &TestSendRequest,
        outcomes: &[DeliveryOutcome],
    ) -> Result<(), QueueError> {
        crate::test_sends::answer(&self.shared, request, outcomes).await
    }
    async fn take(&self, timeout: Duration) -> Result<Option<TakenJob>, QueueError> {
        let shared = &self.shared;
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(id) = self.blocking.move_next(left).await? else {
                return Ok(None);
            };
            let lock_token = Uuid::now_v7().to_string();
            let hash = {
                let mut conn = shared.conn().await?;
                ActivateJob {
                    keys: &shared.keys,
                    id: &id,
                    lock_token: &lock_token,
                    lock_ms: shared.settings.lock_millis(),
                    token: &shared.token,
                }
                .invoke(&mut conn)
                .await
                .map_err(redis_error)?
            };
            let Some(hash) = hash else {
                debug!(job_id = %id, "skipped a job whose hash was deleted");
                if tokio::time::Instant::now() >= deadline {
                    return Ok(None);
                }
                continue;
            };
            let job = wire::taken_job(id, lock_token, &hash);
            match &job.campaign {
                Ok(campaign) => debug!(
                    job_id = %job.job_id,
                    campaign_id = %campaign,
                    attempts_made = job.attempts_made,
                    "took job"
                ),
                Err(_) => warn!(job_id = %job.job_id, "took a job whose data names no campaign"),
            }
            return Ok(Some(job));
        }
    }

    async fn renew(&self, job: &TakenJob) -> Result<(), QueueError> {
        let shared = &self.shared;
        let extended = {
            let mut conn = shared.conn().await?;
            ExtendLock {
                keys: &shared.keys,
                id: &job.job_id,
                lock_token: &job.token,
                lock_ms: shared.settings.lock_millis(),
            }
            .invoke(&mut conn)
            .await
            .map_err(redis_error)?
        };
        if !extended {
            debug!(job_id = %job.job_id, "job lock lost");
            return Err(QueueError::LockLost);
        }
        if let Ok(campaign) = job.campaign
            && !self.claim(job, campaign, ClaimMode::Hold).await?
        {
            debug!(job_id = %job.job_id, "campaign claim lost to another job");
            return Err(QueueError::LockLost);
        }
        debug!(job_id = %job.job_id, "renewed job lock");
        Ok(())
    }

    async fn claim_campaign(
        &self,
        job: &TakenJob,
        campaign: CampaignId,
    ) -> Result<bool, QueueError> {
        self.claim(job, campaign, ClaimMode::Hold).await
    }

    async fn complete(&self, job: &TakenJob) -> Result<(), QueueError> {
        let shared = &self.shared;
        let settled = {
            let mut conn = shared.conn().await?;
            CompleteJob {
                keys: &shared.keys,
                id: &job.job_id,
                lock_token: &job.token,
            }
            .invoke(&mut conn)
            .await
            .map_err(redis_error)?
        };
        settled.map_err(|refusal| refusal_error(refusal, &job.job_id))?;
        self.drop_claim(job).await;
        debug!(job_id = %job.job_id, "completed job");
        Ok(())
    }

    async fn fail(&self, job: &TakenJob, reason: &str, retry: bool) -> Result<(), QueueError> {
        let shared = &self.shared;
        let settled = {
            let mut conn = shared.conn().await?;
            FailJob {
                keys: &shared.keys,
                id: &job.job_id,
                lock_token: &job.token,
                reason,
                retry,
                token: &shared.token,
            }
            .invoke(&mut conn)
            .await
            .map_err(redis_error)?
        };
        let outcome = settled.map_err(|refusal| refusal_error(refusal, &job.job_id))?;
        self.drop_claim(job).await;
        match outcome {
            FailOutcome::Delayed {
                attempts_made,
                delay_ms,
            } => debug!(
                job_id = %job.job_id,
                attempts_made,
                delay_ms,
                "job failed; retry scheduled"
            ),
            FailOutcome::RetryNow { attempts_made } => {
                debug!(job_id = %job.job_id, attempts_made, "job failed; retrying at once");
            }
            FailOutcome::Failed { attempts_made } => {
                debug!(job_id = %job.job_id, attempts_made, "job failed for good");
            }
        }
        Ok(())
    }

    async fn release(&self, job: &TakenJob) -> Result<(), QueueError> {
        let shared = &self.shared;
        let settled = {
            let mut conn = shared.conn().await?;
            ReleaseJob {
                keys: &shared.keys,
                id: &job.job_id,
                lock_token: &job.token,
                token: &shared.token,
            }
            .invoke(&mut conn)
            .await
            .map_err(redis_error)?
        };
        settled.map_err(|refusal| refusal_error(refusal, &job.job_id))?;
        self.drop_claim(job).await;
        debug!(job_id = %job.job_id, "released job");
        Ok(())
    }

    async fn maintain(&self) -> Result<(), QueueError> {
        let promoted = self.promote_delayed().await?;
        if promoted > 0 {
            debug!(promoted, "promoted due delayed jobs");
        }
        let stalled = self.check_stalled().await?;
        if stalled.ran {
            debug!(
                recovered = stalled.recovered,
                failed = stalled.failed,
                "ran the stalled-job check"
            );
        }
        Ok(())
    }
}
