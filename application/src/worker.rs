//! The worker-side use case: take campaign jobs from the queue and send them.
//!
//! One job is one campaign. A worker sends a campaign only while it holds both the job's lock
//! and the campaign's claim (two jobs may name one campaign; the claim lets one of them send),
//! so recipients are read in id order without being marked: a crash leaves them `PENDING` and
//! the next worker sends them, which bounds duplicates to the messages that were in flight at
//! the crash. A reconciler gives every unfinished campaign a job again if its job was lost.

use std::collections::VecDeque;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use paloma_domain::{
    Campaign, CampaignId, CampaignStatus, DeliveryOutcome, FailureThreshold, Outcome, RecipientId,
    RetryPolicy,
};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

use crate::ports::{
    CampaignRepository, Clock, JobConsumer, JobQueue, Mailer, OutgoingMessage, QueueError,
    RepositoryError, SendSlot, SendThrottle, TakenJob, Unthrottled,
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
    /// When this many messages of a campaign fail, the rest are not sent (`None`: never).
    pub failure_threshold: Option<FailureThreshold>,
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
            failure_threshold: FailureThreshold::new(0.5, 100),
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
    LockLost,
}

/// What was done with one queue job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    Completed,
    /// Put back for another worker (shutdown, or the campaign could not be claimed).
    Released,
    /// The job's lock went to another worker, or the job could not be settled: the stalled
    /// check returns it to waiting once its lock expires.
    LockLost,
    /// Another job was sending the same campaign; this one was completed without sending.
    Duplicate,
    Failed(String),
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("campaign not found")]
    NotFound,
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// The port types one worker talks to, named once so that [`Worker`] has a single type
/// parameter. [`Adapters`] fills them in from a list of types; an application may also
/// implement it on a type of its own.
pub trait WorkerPorts: Send + Sync + 'static {
    /// Where recipients are read and delivery outcomes written.
    type Ledger: CampaignRepository;
    /// Where jobs are taken from and settled.
    type Jobs: JobConsumer;
    /// Where the reconciler adds the jobs that went missing.
    type Producer: JobQueue;
    type Mailer: Mailer;
    type Clock: Clock;
    type Throttle: SendThrottle;
}

/// [`WorkerPorts`] from a list of types, in the order of [`Worker::new`]'s arguments.
pub struct Adapters<L, J, P, M, C, T = Unthrottled>(PhantomData<fn() -> (L, J, P, M, C, T)>);

impl<L, J, P, M, C, T> WorkerPorts for Adapters<L, J, P, M, C, T>
where
    L: CampaignRepository,
    J: JobConsumer,
    P: JobQueue,
    M: Mailer,
    C: Clock,
    T: SendThrottle,
{
    type Ledger = L;
    type Jobs = J;
    type Producer = P;
    type Mailer = M;
    type Clock = C;
    type Throttle = T;
}

/// Takes jobs and sends campaigns. Cheap to share: everything inside is behind `Arc`.
pub struct Worker<P: WorkerPorts> {
    ledger: Arc<P::Ledger>,
    jobs: Arc<P::Jobs>,
    producer: Arc<P::Producer>,
    mailer: Arc<P::Mailer>,
    clock: Arc<P::Clock>,
    throttle: Arc<P::Throttle>,
    settings: WorkerSettings,
}

// Not derived: a derived `Clone` would demand that every port type be `Clone`.
impl<P: WorkerPorts> Clone for Worker<P> {
    fn clone(&self) -> Self {
        Self {
            ledger: self.ledger.clone(),
            jobs: self.jobs.clone(),
            producer: self.producer.clone(),
            mailer: self.mailer.clone(),
            clock: self.clock.clone(),
            throttle: self.throttle.clone(),
            settings: self.settings.clone(),
        }
    }
}

impl<L, J, P, M, C> Worker<Adapters<L, J, P, M, C>>
where
    L: CampaignRepository,
    J: JobConsumer,
    P: JobQueue,
    M: Mailer,
    C: Clock,
{
    /// A worker without a send rate limit (see [`Worker::with_throttle`]).
    pub fn new(
        ledger: Arc<L>,
        jobs: Arc<J>,
        producer: Arc<P>,
        mailer: Arc<M>,
        clock: Arc<C>,
        settings: WorkerSettings,
    ) -> Self {
        Self {
            ledger,
            jobs,
            producer,
            mailer,
            clock,
            throttle: Arc::new(Unthrottled),
            settings,
        }
    }

    /// The same worker, sending no faster than `throttle` allows (a rate shared with other
    /// workers).
    pub fn with_throttle<T: SendThrottle>(
        self,
        throttle: Arc<T>,
    ) -> Worker<Adapters<L, J, P, M, C, T>> {
        Worker {
            ledger: self.ledger,
            jobs: self.jobs,
            producer: self.producer,
            mailer: self.mailer,
            clock: self.clock,
            throttle,
            settings: self.settings,
        }
    }
}

impl<P: WorkerPorts> Worker<P> {
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

            match self.jobs.claim_campaign(&job, campaign).await {
                Ok(true) => {}
                Ok(false) => {
                    // The holder sends every recipient; if it dies, its own job comes back.
                    info!("another job is sending this campaign; completing this one");
                    if let Err(e) = self.jobs.complete(&job).await {
                        warn!(error = %e, "could not complete the duplicate job");
                    }
                    return JobOutcome::Duplicate;
                }
                Err(e) => {
                    warn!(error = %e, "could not claim the campaign; putting the job back");
                    return match self.jobs.release(&job).await {
                        Ok(()) => JobOutcome::Released,
                        // The stalled check returns it once its lock expires.
                        Err(_) => JobOutcome::LockLost,
                    };
                }
            }

            let lock_lost = CancellationToken::new();
            let renewer = tokio::spawn(renew_lock(
                self.jobs.clone(),
                job.clone(),
                self.settings.renew_interval,
                lock_lost.clone(),
            ));
            let result = self.run_campaign(campaign, shutdown, &lock_lost).await;
            renewer.abort();

            match result {
                Ok(RunOutcome::Finished(status)) => match self.jobs.complete(&job).await {
                    Ok(()) => {
                        info!(%status, "campaign finished, job completed");
                        JobOutcome::Completed
                    }
                    Err(e) => {
                        warn!(error = %e, "campaign finished but the job could not be completed");
                        JobOutcome::LockLost
                    }
                },
                Ok(RunOutcome::LockLost) => {
                    warn!("lost the job's lock; another worker owns this campaign now");
                    JobOutcome::LockLost
                }
                Ok(RunOutcome::Stopped) => match self.jobs.release(&job).await {
                    Ok(()) => {
                        info!("shutting down: job put back for another worker");
                        JobOutcome::Released
                    }
                    Err(e) => {
                        warn!(error = %e, "could not put the job back; the stalled check will");
                        JobOutcome::LockLost
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
    /// `shutdown` is cancelled or the job's lock is lost.
    ///
    /// While the database is unavailable it waits and retries (keeping the job's lock and the
    /// outcomes of what it already sent), however long that takes: failing the run would drop
    /// those outcomes, so their messages would be sent again, and would spend the queue job's
    /// attempts until the campaign was left with no job at all.
    pub async fn run_campaign(
        &self,
        id: CampaignId,
        shutdown: &CancellationToken,
        lock_lost: &CancellationToken,
    ) -> Result<RunOutcome, RunError> {
        let stop = (shutdown, lock_lost);
        let started = self
            .patiently("starting the campaign", stop, || {
                self.ledger.start(id, self.clock.now())
            })
            .await;
        let campaign = match started {
            Ok(c) => c,
            Err(RepositoryError::NotFound(_)) => return Err(RunError::NotFound),
            Err(e) => return interrupted(e, shutdown, lock_lost),
        };
        if campaign.status.is_final() {
            info!(status = %campaign.status, "campaign already final");
            return Ok(RunOutcome::Finished(campaign.status));
        }
        // Resumed after a crash with the threshold already passed.
        if let Some(reason) = self.threshold_passed(&campaign) {
            return self.abandon(id, &reason, stop).await;
        }
        let body = match self
            .patiently("reading the body", stop, || self.ledger.get_body(id))
            .await
        {
            Ok(body) => body,
            Err(e) => return interrupted(e, shutdown, lock_lost),
        };
        let body: Arc<str> = body.ok_or(RunError::NotFound)?.into();
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
        // Why the campaign must stop sending, once its failures pass the threshold.
        let mut tripped: Option<String> = None;

        loop {
            let stopping =
                shutdown.is_cancelled() || lock_lost.is_cancelled() || tripped.is_some();
            // Keep the pipeline full.
            while !stopping && in_flight.len() < s.concurrency.max(1) {
                if batch.is_empty() && !pass_done {
                    let claimed = self
                        .patiently("reading recipients", stop, || {
                            self.ledger
                                .claim_batch(id, cursor, self.clock.now(), s.batch_size)
                        })
                        .await;
                    let claimed = match claimed {
                        Ok(claimed) => claimed,
                        // Stopping: the loop below drains what is in flight and writes it.
                        Err(RepositoryError::Unavailable(_))
                            if shutdown.is_cancelled() || lock_lost.is_cancelled() =>
                        {
                            break;
                        }
                        Err(e) => return Err(e.into()),
                    };
                    match claimed.last() {
                        Some(last) => cursor = Some(last.id),
                        None => pass_done = true,
                    }
                    batch.extend(claimed);
                }
                if batch.is_empty() {
                    break;
                }
                if !self.wait_for_send_slot(stop).await {
                    // Stopping: what is in flight is drained and written below.
                    break;
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
                self.flush_and_check(id, &mut outcomes, shutdown, &mut tripped)
                    .await?;
                if lock_lost.is_cancelled() {
                    return Ok(RunOutcome::LockLost);
                }
                if shutdown.is_cancelled() {
                    return Ok(RunOutcome::Stopped);
                }
                if let Some(reason) = &tripped {
                    return self.abandon(id, reason, stop).await;
                }
                if !pass_done {
                    continue;
                }
                let next_due = self
                    .patiently("looking for retries", stop, || self.ledger.next_due(id))
                    .await;
                let next_due = match next_due {
                    Ok(next_due) => next_due,
                    Err(e) => return interrupted(e, shutdown, lock_lost),
                };
                match next_due {
                    None => {
                        return match self.finish(id, stop).await {
                            Ok(status) => Ok(RunOutcome::Finished(status)),
                            Err(RunError::Repository(e)) => interrupted(e, shutdown, lock_lost),
                            Err(e) => Err(e),
                        };
                    }
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
                            () = lock_lost.cancelled() => {}
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
                            self.flush_and_check(id, &mut outcomes, shutdown, &mut tripped).await?;
                        }
                    }
                    // The recipient stays PENDING and is sent on the next pass.
                    Err(e) => error!(error = %e, "a send task failed"),
                },
                _ = flush_tick.tick() => {
                    self.flush_and_check(id, &mut outcomes, shutdown, &mut tripped).await?;
                }
                () = shutdown.cancelled(), if !stopping => {}
                () = lock_lost.cancelled(), if !stopping => {}
            }
        }
    }

    /// [`flush`](Self::flush), then notes in `tripped` why sending must stop if the written
    /// counters pass the failure threshold.
    async fn flush_and_check(
        &self,
        id: CampaignId,
        outcomes: &mut Vec<Outcome>,
        shutdown: &CancellationToken,
        tripped: &mut Option<String>,
    ) -> Result<(), RunError> {
        if let Some(campaign) = self.flush(id, outcomes, shutdown).await?
            && tripped.is_none()
        {
            *tripped = self.threshold_passed(&campaign);
        }
        Ok(())
    }

    /// Why the campaign must stop, if its failures have passed the threshold.
    fn threshold_passed(&self, campaign: &Campaign) -> Option<String> {
        let threshold = self.settings.failure_threshold?;
        threshold
            .is_passed(campaign.sent_emails, campaign.failed_emails)
            .then(|| threshold.not_sent_reason(campaign.sent_emails, campaign.failed_emails))
    }

    /// Ends the campaign `FAILED`, every recipient not yet sent marked with `reason`.
    async fn abandon(
        &self,
        id: CampaignId,
        reason: &str,
        stop: (&CancellationToken, &CancellationToken),
    ) -> Result<RunOutcome, RunError> {
        warn!(
            reason,
            "failure threshold passed; the campaign stops sending"
        );
        match self
            .patiently("stopping the campaign", stop, || {
                self.ledger.abandon(id, reason, self.clock.now())
            })
            .await
        {
            Ok(done) => {
                info!(
                    status = %done.status,
                    sent = done.sent_emails,
                    failed = done.failed_emails,
                    "campaign stopped"
                );
                Ok(RunOutcome::Finished(done.status))
            }
            Err(e) => interrupted(e, stop.0, stop.1),
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
                .ledger
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

    async fn finish(
        &self,
        id: CampaignId,
        stop: (&CancellationToken, &CancellationToken),
    ) -> Result<CampaignStatus, RunError> {
        let campaign = self
            .patiently("reading the counters", stop, || self.ledger.get(id))
            .await?
            .ok_or(RunError::NotFound)?;
        // A campaign none of whose messages could be delivered has failed as a whole.
        let status = if campaign.sent_emails == 0 && campaign.failed_emails > 0 {
            CampaignStatus::Failed
        } else {
            CampaignStatus::Completed
        };
        let done = self
            .patiently("finishing the campaign", stop, || {
                self.ledger.finish(id, status, self.clock.now())
            })
            .await?;
        info!(
            status = %done.status,
            sent = done.sent_emails,
            failed = done.failed_emails,
            "campaign done"
        );
        Ok(done.status)
    }

    /// Waits for the send throttle to grant one message. False when shutdown is requested or
    /// the job's lock is lost first. While the throttle cannot be asked (Redis down), it waits and
    /// asks again: sending past a quota is worse than sending late.
    async fn wait_for_send_slot(
        &self,
        (shutdown, lock_lost): (&CancellationToken, &CancellationToken),
    ) -> bool {
        let mut failures = 0u32;
        loop {
            let wait = match self.throttle.reserve().await {
                Ok(SendSlot::After(wait)) if wait.is_zero() => return true,
                Ok(SendSlot::After(wait)) => {
                    // The slot is ours: wait for it unless stopping (then it goes unused).
                    tokio::select! {
                        () = tokio::time::sleep(wait) => return true,
                        () = shutdown.cancelled() => return false,
                        () = lock_lost.cancelled() => return false,
                    }
                }
                Ok(SendSlot::Busy(retry)) => retry,
                Err(e) => {
                    failures += 1;
                    if failures == 1 || failures.is_multiple_of(20) {
                        warn!(error = %e, "cannot reach the send throttle; waiting");
                    }
                    Duration::from_millis(250 * u64::from(failures.min(8)))
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = shutdown.cancelled() => return false,
                () = lock_lost.cancelled() => return false,
            }
        }
    }

    /// Runs one repository call, calling it again with backoff while the database is
    /// unavailable. Returns its answer, or the `Unavailable` error once shutdown is requested or
    /// the job's lock is lost (`stop`).
    async fn patiently<V, F, Fut>(
        &self,
        doing: &'static str,
        (shutdown, lock_lost): (&CancellationToken, &CancellationToken),
        mut call: F,
    ) -> Result<V, RepositoryError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<V, RepositoryError>>,
    {
        let mut tries = 0u32;
        loop {
            match call().await {
                Err(RepositoryError::Unavailable(e))
                    if !shutdown.is_cancelled() && !lock_lost.is_cancelled() =>
                {
                    tries += 1;
                    let wait = backoff(tries);
                    warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "database unavailable while {doing}; retrying");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = shutdown.cancelled() => {}
                        () = lock_lost.cancelled() => {}
                    }
                }
                answer => return answer,
            }
        }
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

    /// Enqueues every unfinished campaign that no live queue job names: one stored while the
    /// queue was down, or whose job was lost (Redis restarted without persistence, a job
    /// deleted by hand, a job that ran out of attempts). Returns how many were enqueued.
    ///
    /// The database is read before the queue, so a campaign that finishes in between is at
    /// worst enqueued once more, and that job finds it final. A job added while another is
    /// still live is harmless too: the campaign claim lets only one of them send.
    pub async fn reconcile(&self) -> Result<usize, ReconcileError> {
        let grace = chrono::Duration::from_std(self.settings.reconcile_grace).unwrap_or_default();
        let unfinished = self
            .ledger
            .list_unfinished(self.clock.now() - grace, RECONCILE_BATCH)
            .await?;
        if unfinished.is_empty() {
            return Ok(0);
        }
        let live = self.producer.live_campaigns().await?;
        let mut enqueued = 0;
        for id in unfinished.iter().filter(|id| !live.contains(id)) {
            self.producer.enqueue(*id).await?;
            self.ledger.mark_enqueued(*id, self.clock.now()).await?;
            enqueued += 1;
            info!(campaign_id = %id, "reconciler enqueued an unfinished campaign that had no live queue job");
        }
        Ok(enqueued)
    }
}

/// Unfinished campaigns looked at per reconciler pass (the rest wait for the next one).
const RECONCILE_BATCH: u32 = 1000;

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

/// The run's answer when a repository call gave up: `Stopped` or `LockLost` when that is why
/// (the database was unavailable and the run was asked to stop), the error otherwise.
fn interrupted(
    e: RepositoryError,
    shutdown: &CancellationToken,
    lock_lost: &CancellationToken,
) -> Result<RunOutcome, RunError> {
    match e {
        RepositoryError::Unavailable(_) if lock_lost.is_cancelled() => Ok(RunOutcome::LockLost),
        RepositoryError::Unavailable(_) if shutdown.is_cancelled() => Ok(RunOutcome::Stopped),
        RepositoryError::NotFound(_) => Err(RunError::NotFound),
        e => Err(e.into()),
    }
}

/// 200 ms doubling up to 10 s.
fn backoff(tries: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << tries.min(6))).min(Duration::from_secs(10))
}

#[cfg(test)]
mod outage_tests {
    //! The database going away under a running campaign (the other use-case tests are in
    //! `tests.rs`).

    use std::sync::atomic::{AtomicUsize, Ordering};

    use paloma_domain::{NewCampaign, NewCampaignInput, RecipientInput};

    use super::*;
    use crate::fakes::{FakeConsumer, FakeMailer, FakeQueue, FakeRepo};
    use crate::ports::SystemClock;

    /// A mail server that takes the fake database down for `outage` when it receives message
    /// number `at`.
    struct Saboteur {
        inner: FakeMailer,
        repo: Arc<FakeRepo>,
        at: usize,
        outage: Duration,
        received: AtomicUsize,
    }

    impl Mailer for Saboteur {
        async fn send(&self, message: OutgoingMessage) -> DeliveryOutcome {
            if self.received.fetch_add(1, Ordering::SeqCst) + 1 == self.at {
                self.repo.down.store(true, Ordering::SeqCst);
                let (repo, outage) = (self.repo.clone(), self.outage);
                tokio::spawn(async move {
                    tokio::time::sleep(outage).await;
                    repo.down.store(false, Ordering::SeqCst);
                });
            }
            self.inner.send(message).await
        }
    }

    async fn campaign(repo: &FakeRepo, n: usize) -> CampaignId {
        let input = NewCampaignInput {
            subject: "Outage".into(),
            body: "<p>Hi</p>".into(),
            recipients: (0..n)
                .map(|i| RecipientInput {
                    email: format!("user{i}@example.org"),
                    name: None,
                })
                .collect(),
        };
        let campaign = NewCampaign::parse(input, n).expect("valid");
        let id = CampaignId::new();
        repo.create(id, &campaign, chrono::Utc::now())
            .await
            .expect("stored");
        id
    }

    fn worker<M: Mailer>(
        repo: Arc<FakeRepo>,
        mailer: Arc<M>,
    ) -> Worker<Adapters<FakeRepo, FakeConsumer, FakeQueue, M, SystemClock>> {
        let settings = WorkerSettings {
            concurrency: 4,
            // Small batches: a read of recipients is due every few messages, so the outage
            // hits one.
            batch_size: 3,
            flush_size: 50,
            flush_interval: Duration::from_secs(60),
            max_idle_wait: Duration::from_millis(20),
            ..WorkerSettings::default()
        };
        Worker::new(
            repo,
            Arc::default(),
            Arc::default(),
            mailer,
            Arc::new(SystemClock),
            settings,
        )
    }

    #[tokio::test]
    async fn an_outage_while_reading_recipients_is_waited_out_and_nothing_is_sent_twice() {
        let repo = Arc::new(FakeRepo::default());
        let id = campaign(&repo, 40).await;
        let mailer = Arc::new(Saboteur {
            inner: FakeMailer::default(),
            repo: repo.clone(),
            at: 10,
            outage: Duration::from_millis(500),
            received: AtomicUsize::new(0),
        });
        let never = CancellationToken::new();
        let run = worker(repo.clone(), mailer.clone())
            .run_campaign(id, &never, &never)
            .await;
        assert_eq!(
            run.expect("ran through the outage"),
            RunOutcome::Finished(CampaignStatus::Completed)
        );
        let attempts = mailer.inner.attempts.lock().expect("lock").clone();
        assert_eq!(attempts.len(), 40);
        assert!(
            attempts.values().all(|n| *n == 1),
            "nobody received two: {attempts:?}"
        );
        assert_eq!(repo.campaign(id).sent_emails, 40);
    }

    #[tokio::test]
    async fn a_run_that_starts_during_an_outage_waits_for_the_database() {
        let repo = Arc::new(FakeRepo::default());
        let id = campaign(&repo, 5).await;
        repo.down.store(true, Ordering::SeqCst);
        let back = repo.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            back.down.store(false, Ordering::SeqCst);
        });
        let mailer = Arc::new(FakeMailer::default());
        let never = CancellationToken::new();
        let run = worker(repo.clone(), mailer.clone())
            .run_campaign(id, &never, &never)
            .await;
        assert_eq!(
            run.expect("ran after the outage"),
            RunOutcome::Finished(CampaignStatus::Completed)
        );
        assert_eq!(mailer.delivered.lock().expect("lock").len(), 5);
    }

    #[tokio::test]
    async fn shutdown_during_an_outage_stops_the_run_and_losing_the_lock_too() {
        let repo = Arc::new(FakeRepo::default());
        let id = campaign(&repo, 5).await;
        repo.down.store(true, Ordering::SeqCst);
        let worker = worker(repo.clone(), Arc::new(FakeMailer::default()));
        for lose_lock in [false, true] {
            let (shutdown, lock_lost) = (CancellationToken::new(), CancellationToken::new());
            let cancel = if lose_lock {
                lock_lost.clone()
            } else {
                shutdown.clone()
            };
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                cancel.cancel();
            });
            let run = tokio::time::timeout(
                Duration::from_secs(5),
                worker.run_campaign(id, &shutdown, &lock_lost),
            )
            .await
            .expect("stops promptly");
            let expected = if lose_lock {
                RunOutcome::LockLost
            } else {
                RunOutcome::Stopped
            };
            assert_eq!(run.expect("no error"), expected);
        }
    }
}
