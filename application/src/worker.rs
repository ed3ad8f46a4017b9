//! The worker-side use case: take campaign jobs from the queue and send them.
//!
//! One job is one campaign. While a worker holds the job's lock it is the only one sending that
//! campaign, so recipients are read in id order without being marked: a crash leaves them
//! `PENDING` and the next worker sends them, which bounds duplicates to the messages that were
//! in flight at the crash.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use paloma_domain::{
    Campaign, CampaignId, CampaignStatus, DeliveryOutcome, Outcome, RecipientId, RetryPolicy,
};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

use crate::ports::{
    CampaignRepository, Clock, JobConsumer, JobQueue, Mailer, OutgoingMessage, QueueError,
    RepositoryError, TakenJob,
};

/// How a worker behaves; every field has a production default.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Messages in flight at once.
    pub concurrency: usize,
    /// Recipients read per query.
    pub batch_size: u32,
    /// Outcomes written per transaction, at most.
    pub flush_size: usize,
    /// Outcomes are written at least this often while sending.
    pub flush_interval: Duration,
    pub retry: RetryPolicy,
    /// How long one blocking take waits before the worker checks for shutdown again.
    pub take_timeout: Duration,
    /// How often the job's lock is extended (well under the lock duration).
    pub renew_interval: Duration,
    /// How often delayed jobs are promoted and stalled jobs recovered.
    pub maintenance_interval: Duration,
    /// How often campaigns stored without a queue job are looked for.
    pub reconcile_interval: Duration,
    /// How old such a campaign must be before the reconciler enqueues it (the API enqueues
    /// right after storing; this avoids racing it).
    pub reconcile_grace: Duration,
    /// Longest wait between two passes while only retries that are not yet due remain.
    pub max_idle_wait: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 5,
            batch_size: 500,
            flush_size: 500,
            flush_interval: Duration::from_millis(250),
            retry: RetryPolicy::default(),
            take_timeout: Duration::from_secs(2),
            renew_interval: Duration::from_secs(15),
            maintenance_interval: Duration::from_secs(5),
            reconcile_interval: Duration::from_secs(30),
            reconcile_grace: Duration::from_secs(10),
            max_idle_wait: Duration::from_secs(5),
        }
    }
}

/// What became of one campaign run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every recipient has a final outcome; the campaign is final.
    Finished(CampaignStatus),
    /// Stopped for shutdown with outcomes flushed; the job should go back to the queue.
    Stopped,
    /// Another worker owns the job now; this one stopped sending.
    LeaseLost,
}

/// What was done with one queue job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Completed,
    Released,
    LeaseLost,
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("campaign not found")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// Takes jobs and sends campaigns. Cheap to share: everything inside is behind `Arc`.
pub struct Worker<R, J, P, M, C> {
    repo: Arc<R>,
    jobs: Arc<J>,
    producer: Arc<P>,
    mailer: Arc<M>,
    clock: Arc<C>,
    settings: WorkerSettings,
}

impl<R, J, P, M, C> Clone for Worker<R, J, P, M, C> {
    fn clone(&self) -> Self {
        Self {
            repo: self.repo.clone(),
            jobs: self.jobs.clone(),
            producer: self.producer.clone(),
            mailer: self.mailer.clone(),
            clock: self.clock.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<R, J, P, M, C> Worker<R, J, P, M, C>
where
    R: CampaignRepository,
    J: JobConsumer,
    P: JobQueue,
    M: Mailer,
    C: Clock,
{
    pub fn new(
        repo: Arc<R>,
        jobs: Arc<J>,
        producer: Arc<P>,
        mailer: Arc<M>,
        clock: Arc<C>,
        settings: WorkerSettings,
    ) -> Self {
        Self {
            repo,
            jobs,
            producer,
            mailer,
            clock,
            settings,
        }
    }

    /// Runs until `shutdown` is cancelled: takes jobs one at a time, and in the background
    /// keeps the queue healthy (delayed jobs, stalled jobs, campaigns never enqueued). On
    /// shutdown it takes no new job, flushes what is in flight and puts an unfinished job back.
    pub async fn run(&self, shutdown: CancellationToken) {
        let housekeeping = tokio::spawn(self.clone().housekeeping(shutdown.clone()));
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            match self.jobs.take(self.settings.take_timeout).await {
                Ok(Some(job)) => {
                    failures = 0;
                    self.handle_job(job, &shutdown).await;
                }
                Ok(None) => {}
                Err(e) => {
                    failures += 1;
                    let wait = backoff(failures);
                    warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "cannot take jobs");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = shutdown.cancelled() => {}
                    }
                }
            }
        }
        housekeeping.abort();
        info!("worker stopped");
    }

    /// Processes one job to its end and settles it with the queue.
    pub async fn handle_job(&self, job: TakenJob, shutdown: &CancellationToken) -> JobOutcome {
        let span =
            info_span!("campaign_job", job_id = %job.job_id, campaign_id = tracing::field::Empty);
        async {
            let campaign = match &job.campaign {
                Ok(id) => *id,
                Err(raw) => {
                    let reason = "job data has no valid jobUuid";
                    warn!(data_len = raw.len(), "{reason}");
                    return self.settle_fail(&job, reason, false).await;
                }
            };
            tracing::Span::current().record("campaign_id", tracing::field::display(campaign));

            let lease_lost = CancellationToken::new();
            let renewer = tokio::spawn(renew_lock(
                self.jobs.clone(),
                job.clone(),
                self.settings.renew_interval,
                lease_lost.clone(),
            ));
            let result = self.run_campaign(campaign, shutdown, &lease_lost).await;
            renewer.abort();

            match result {
                Ok(RunOutcome::Finished(status)) => match self.jobs.complete(&job).await {
                    Ok(()) => {
                        info!(%status, "campaign finished, job completed");
                        JobOutcome::Completed
                    }
                    Err(e) => {
                        warn!(error = %e, "campaign finished but the job could not be completed");
                        JobOutcome::LeaseLost
                    }
                },
                Ok(RunOutcome::LeaseLost) => {
                    warn!("lost the job's lock; another worker owns this campaign now");
                    JobOutcome::LeaseLost
                }
                Ok(RunOutcome::Stopped) => match self.jobs.release(&job).await {
                    Ok(()) => {
                        info!("shutting down: job put back for another worker");
                        JobOutcome::Released
                    }
                    Err(e) => {
                        warn!(error = %e, "could not put the job back; the stalled check will");
                        JobOutcome::LeaseLost
                    }
                },
                Err(RunError::NotFound) => {
                    self.settle_fail(&job, "campaign not found", false).await
                }
                Err(RunError::Repository(e)) => {
                    error!(error = %e, "campaign run failed; the job will be retried");
                    self.settle_fail(&job, "database error while sending", true)
                        .await
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn settle_fail(&self, job: &TakenJob, reason: &str, retry: bool) -> JobOutcome {
        if let Err(e) = self.jobs.fail(job, reason, retry).await {
            warn!(error = %e, "could not record the job's failure");
        }
        JobOutcome::Failed(reason.to_owned())
    }

    /// Sends every due recipient of one campaign, keeping `concurrency` messages in flight and
    /// writing outcomes in batches, until nothing is pending (then the campaign is finished),
    /// `shutdown` is cancelled or the lease is lost.
    pub async fn run_campaign(
        &self,
        id: CampaignId,
        shutdown: &CancellationToken,
        lease_lost: &CancellationToken,
    ) -> Result<RunOutcome, RunError> {
        let campaign = match self.repo.start(id, self.clock.now()).await {
            Ok(c) => c,
            Err(RepositoryError::NotFound(_)) => return Err(RunError::NotFound),
            Err(e) => return Err(e.into()),
        };
        if campaign.status.is_final() {
            info!(status = %campaign.status, "campaign already final");
            return Ok(RunOutcome::Finished(campaign.status));
        }
        let body: Arc<str> = self
            .repo
            .get_body(id)
            .await?
            .ok_or(RunError::NotFound)?
            .into();
        let subject: Arc<str> = campaign.subject.as_str().into();
        info!(
            total = campaign.total_emails,
            pending = campaign.pending_emails(),
            "sending campaign"
        );

        let s = &self.settings;
        let mut in_flight: JoinSet<(RecipientId, u32, DeliveryOutcome)> = JoinSet::new();
        let mut batch = VecDeque::new();
        let mut cursor: Option<RecipientId> = None;
        let mut pass_done = false;
        let mut outcomes: Vec<Outcome> = Vec::with_capacity(s.flush_size);
        let mut flush_tick = tokio::time::interval(s.flush_interval);
        flush_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        loop {
            let stopping = shutdown.is_cancelled() || lease_lost.is_cancelled();
            // Keep the pipeline full.
            while !stopping && in_flight.len() < s.concurrency.max(1) {
                if batch.is_empty() && !pass_done {
                    let claimed = self
                        .repo
                        .claim_batch(id, cursor, self.clock.now(), s.batch_size)
                        .await?;
                    match claimed.last() {
                        Some(last) => cursor = Some(last.id),
                        None => pass_done = true,
                    }
                    batch.extend(claimed);
                }
                let Some(r) = batch.pop_front() else { break };
                let message = OutgoingMessage {
                    campaign_id: id,
                    recipient_id: r.id,
                    to: r.email,
                    to_name: r.name,
                    subject: subject.clone(),
                    html_body: body.clone(),
                };
                let mailer = self.mailer.clone();
                let attempts = r.attempts + 1;
                in_flight.spawn(async move {
                    let outcome = mailer.send(message).await;
                    (r.id, attempts, outcome)
                });
            }

            if in_flight.is_empty() {
                self.flush(id, &mut outcomes, shutdown).await?;
                if lease_lost.is_cancelled() {
                    return Ok(RunOutcome::LeaseLost);
                }
                if shutdown.is_cancelled() {
                    return Ok(RunOutcome::Stopped);
                }
                if !pass_done {
                    continue;
                }
                match self.repo.next_due(id).await? {
                    None => return self.finish(id).await.map(RunOutcome::Finished),
                    Some(due) => {
                        let wait = (due - self.clock.now()).to_std().unwrap_or_default();
                        let wait = wait.min(s.max_idle_wait);
                        debug!(
                            wait_ms = wait.as_millis() as u64,
                            "waiting for retries to be due"
                        );
                        tokio::select! {
                            () = tokio::time::sleep(wait) => {}
                            () = shutdown.cancelled() => {}
                            () = lease_lost.cancelled() => {}
                        }
                        cursor = None;
                        pass_done = false;
                    }
                }
                continue;
            }

            tokio::select! {
                Some(joined) = in_flight.join_next() => match joined {
                    Ok((recipient, attempts, delivery)) => {
                        outcomes.push(s.retry.decide(recipient, attempts, delivery, self.clock.now()));
                        if outcomes.len() >= s.flush_size {
                            self.flush(id, &mut outcomes, shutdown).await?;
                        }
                    }
                    // The recipient stays PENDING and is sent on the next pass.
                    Err(e) => error!(error = %e, "a send task failed"),
                },
                _ = flush_tick.tick() => {
                    self.flush(id, &mut outcomes, shutdown).await?;
                }
                () = shutdown.cancelled(), if !stopping => {}
                () = lease_lost.cancelled(), if !stopping => {}
            }
        }
    }

    /// Writes buffered outcomes, retrying while the database is unavailable (the outcomes are
    /// kept in memory meanwhile). During shutdown it gives up after a few tries: the recipients
    /// stay `PENDING` and are sent again by the next worker.
    async fn flush(
        &self,
        id: CampaignId,
        outcomes: &mut Vec<Outcome>,
        shutdown: &CancellationToken,
    ) -> Result<Option<Campaign>, RunError> {
        if outcomes.is_empty() {
            return Ok(None);
        }
        let mut tries = 0u32;
        loop {
            match self
                .repo
                .record_outcomes(id, outcomes, self.clock.now())
                .await
            {
                Ok(campaign) => {
                    debug!(
                        written = outcomes.len(),
                        sent = campaign.sent_emails,
                        failed = campaign.failed_emails,
                        pending = campaign.pending_emails(),
                        "outcomes written"
                    );
                    outcomes.clear();
                    return Ok(Some(campaign));
                }
                Err(RepositoryError::Unavailable(e))
                    if !(shutdown.is_cancelled() && tries >= 5) =>
                {
                    tries += 1;
                    let wait = backoff(tries);
                    warn!(error = %e, pending_outcomes = outcomes.len(), retry_in_ms = wait.as_millis() as u64, "cannot write outcomes; retrying");
                    tokio::time::sleep(wait).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn finish(&self, id: CampaignId) -> Result<CampaignStatus, RunError> {
        let campaign = self.repo.get(id).await?.ok_or(RunError::NotFound)?;
        // A campaign none of whose messages could be delivered has failed as a whole.
        let status = if campaign.sent_emails == 0 && campaign.failed_emails > 0 {
            CampaignStatus::Failed
        } else {
            CampaignStatus::Completed
        };
        let done = self.repo.finish(id, status, self.clock.now()).await?;
        info!(
            status = %done.status,
            sent = done.sent_emails,
            failed = done.failed_emails,
            "campaign done"
        );
        Ok(done.status)
    }

    async fn housekeeping(self, shutdown: CancellationToken) {
        let mut maintain = tokio::time::interval(self.settings.maintenance_interval);
        let mut reconcile = tokio::time::interval(self.settings.reconcile_interval);
        loop {
            tokio::select! {
                _ = maintain.tick() => {
                    if let Err(e) = self.jobs.maintain().await {
                        warn!(error = %e, "queue maintenance failed");
                    }
                }
                _ = reconcile.tick() => {
                    if let Err(e) = self.reconcile().await {
                        warn!(error = %e, "reconciler failed");
                    }
                }
                () = shutdown.cancelled() => return,
            }
        }
    }

    /// Enqueues campaigns that were stored but whose queue job was never added (the queue was
    /// down when the API accepted them). Returns how many were enqueued.
    pub async fn reconcile(&self) -> Result<usize, ReconcileError> {
        let grace = chrono::Duration::from_std(self.settings.reconcile_grace).unwrap_or_default();
        let orphans = self
            .repo
            .list_unenqueued(self.clock.now() - grace, 100)
            .await?;
        for id in &orphans {
            self.producer.enqueue(*id).await?;
            self.repo.mark_enqueued(*id, self.clock.now()).await?;
            info!(campaign_id = %id, "reconciler enqueued a campaign that had no queue job");
        }
        Ok(orphans.len())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Repository(#[from] RepositoryError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Extends the job's lock every `every` until aborted; cancels `lost` when it is gone.
async fn renew_lock<J: JobConsumer>(
    jobs: Arc<J>,
    job: TakenJob,
    every: Duration,
    lost: CancellationToken,
) {
    let mut tick = tokio::time::interval(every);
    tick.tick().await; // the first tick is immediate; the lock was just taken
    loop {
        tick.tick().await;
        match jobs.renew(&job).await {
            Ok(()) => {}
            Err(QueueError::LockLost) => {
                lost.cancel();
                return;
            }
            // Keep trying: the lock is still ours until it expires.
            Err(e) => warn!(error = %e, "could not extend the job's lock"),
        }
    }
}

/// 200 ms doubling up to 10 s.
fn backoff(tries: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << tries.min(6))).min(Duration::from_secs(10))
}
