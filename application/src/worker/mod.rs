//! The worker-side use case: take campaign jobs from the queue and send them.
//!
//! One job is one campaign. A worker sends a campaign only while it holds both the job's lock
//! and the campaign's claim (two jobs may name one campaign; the claim lets one of them send),
//! so recipients are read in id order without being marked: a crash leaves them `PENDING` and
//! the next worker sends them, which bounds duplicates to the messages that were in flight at
//! the crash. A reconciler gives every unfinished campaign a job again if its job was lost.
//!
//! - this file: the [`Worker`], its settings, the loop that takes jobs, and how each job is
//!   settled with the queue;
//! - [`campaign`](self::campaign): the send loop of one campaign, and
//!   [`outcomes`](self::outcomes): how it writes what became of each message;
//! - [`pace`](self::pace): waiting for the database, the send rate and retries, and what cuts
//!   a wait short;
//! - [`housekeeping`](self::housekeeping): queue maintenance and the reconciler;
//! - [`heartbeat`](self::heartbeat): saying in the queue that this worker is alive;
//! - [`shards`](self::shards): many workers on one large campaign, each sending shards of it;
//! - [`stops`](self::stops): stopping a campaign a user paused or cancelled;
//! - [`test_sends`](self::test_sends): sending the test messages users ask for.

mod campaign;
mod heartbeat;
mod housekeeping;
mod letter;
mod metrics;
mod outcomes;
mod pace;
mod settings;
mod shards;
mod stops;
mod test_sends;

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use paloma_domain::{CampaignId, CampaignStatus};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, error, info, info_span, warn};

pub use self::housekeeping::ReconcileError;
#[cfg(test)]
pub(crate) use self::outcomes::UNSTORABLE_ERROR;
use self::pace::{Stop, backoff};
pub use self::settings::{WorkerIdentity, WorkerSettings};
use self::stops::Sending;
use crate::ports::{
    CampaignStore, Clock, DeliveryLedger, JobConsumer, JobProducer, Mailer, QueueError,
    RepositoryError, SendThrottle, ShardLedger, TakenJob, Unthrottled,
};

/// The longest take while the worker sends campaigns (see [`Worker::run`]).
const BUSY_TAKE_TIMEOUT: Duration = Duration::from_millis(250);

/// The longest take while campaigns may be split: how soon an idle worker looks for shards.
const SHARD_LOOK_INTERVAL: Duration = Duration::from_millis(500);

/// What became of one campaign run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunOutcome {
    /// Every recipient has a final outcome; the campaign is final.
    Finished(CampaignStatus),
    /// Stopped for shutdown with outcomes flushed; the job should go back to the queue.
    Stopped,
    /// Another worker owns the job now; this one stopped sending.
    LockLost,
    /// The campaign is a draft: nothing was sent. Sending the draft queues a job of its own.
    Draft,
    /// The campaign is scheduled later than now (it was moved, or the job came early): nothing
    /// was sent. Its delayed job due at its time sends it.
    NotDue,
    /// A user paused or cancelled the campaign: the messages in flight finished and their
    /// outcomes are written; nothing more is sent for this job.
    Halted,
    /// A shard's run sent every recipient of its range once and wrote the outcomes (only a
    /// shard's run ends so; see [`shards`](self::shards)).
    PassDone,
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
    /// Where recipients are read, delivery outcomes written and shards leased.
    type Ledger: CampaignStore + DeliveryLedger + ShardLedger;
    /// Where jobs are taken from and settled.
    type Jobs: JobConsumer;
    /// Where the reconciler adds the jobs that went missing.
    type Producer: JobProducer;
    type Mailer: Mailer;
    type Clock: Clock;
    type Throttle: SendThrottle;
}

/// [`WorkerPorts`] from a list of types, in the order of [`Worker::new`]'s arguments. Only a
/// name for those types: it is never built.
pub struct Adapters<L, J, P, M, C, T = Unthrottled>(PhantomData<TypeList<L, J, P, M, C, T>>);

/// Holds the types of [`Adapters`] without owning values of them (so it is `Send` and `Sync`
/// whatever they are).
type TypeList<L, J, P, M, C, T> = fn() -> (L, J, P, M, C, T);

impl<L, J, P, M, C, T> WorkerPorts for Adapters<L, J, P, M, C, T>
where
    L: CampaignStore + DeliveryLedger + ShardLedger,
    J: JobConsumer,
    P: JobProducer,
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
    /// The campaigns being sent, for the stop requests.
    sending: Arc<Sending>,
    /// Outcomes written so far, for the heartbeat's rate.
    handled: Arc<std::sync::atomic::AtomicU64>,
    /// `concurrency` slots, one per message in flight, shared by the campaigns being sent.
    slots: Arc<tokio::sync::Semaphore>,
    /// `2 x concurrency` permits, one per message sent and not yet recorded (in flight, or
    /// its outcome not yet written), all its runs together: what a crash of this worker can
    /// make be sent twice, however many campaigns or shards it sends.
    unrecorded: Arc<tokio::sync::Semaphore>,
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
            sending: self.sending.clone(),
            handled: self.handled.clone(),
            slots: self.slots.clone(),
            unrecorded: self.unrecorded.clone(),
        }
    }
}

impl<L, J, P, M, C> Worker<Adapters<L, J, P, M, C>>
where
    L: CampaignStore + DeliveryLedger + ShardLedger,
    J: JobConsumer,
    P: JobProducer,
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
            slots: Arc::new(tokio::sync::Semaphore::new(settings.concurrency.max(1))),
            unrecorded: Arc::new(tokio::sync::Semaphore::new(2 * settings.concurrency.max(1))),
            settings,
            sending: Arc::default(),
            handled: Arc::default(),
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
            sending: self.sending,
            handled: self.handled,
            slots: self.slots,
            unrecorded: self.unrecorded,
        }
    }
}

impl<P: WorkerPorts> Worker<P> {
    /// Runs until `shutdown` is cancelled: takes jobs, or shards of campaigns other workers
    /// send, while it sends fewer than `max_campaigns` campaigns, each in a task of its own,
    /// and in the background keeps the queue healthy (delayed jobs, stalled jobs, campaigns
    /// never enqueued). On shutdown it takes no new job; each campaign flushes what is in
    /// flight and puts its job back (or gives its shard up).
    pub async fn run(&self, shutdown: CancellationToken) {
        let housekeeping = tokio::spawn(self.clone().housekeeping(shutdown.clone()));
        let stops = tokio::spawn(self.clone().listen_for_stops(shutdown.clone()));
        let mut tests = tokio::spawn(self.clone().serve_test_sends(shutdown.clone()));
        let mut heartbeat = tokio::spawn(self.clone().heartbeat(shutdown.clone()));
        let mut campaigns = tokio::task::JoinSet::new();
        let mut failures = 0u32;
        while !shutdown.is_cancelled() {
            while let Some(ended) = campaigns.try_join_next() {
                if let Err(e) = ended {
                    error!(error = %e, "a campaign's task failed; its job comes back when its lock expires");
                }
            }
            if campaigns.len() >= self.settings.max_campaigns.max(1) {
                // Full: the next job waits for one of these to end. (A take is never cut
                // short: a job moved to active and then dropped would wait for the stalled
                // check.)
                tokio::select! {
                    _ = campaigns.join_next() => {}
                    () = shutdown.cancelled() => {}
                }
                continue;
            }
            // Room for one more: a shard of a campaign other workers send, if one is free.
            if let Some((lease, leased_at, registered)) = self.lease_any_shard().await {
                let (worker, shutdown) = (self.clone(), shutdown.clone());
                campaigns.spawn(async move {
                    worker.help(lease, leased_at, registered, shutdown).await;
                });
                continue;
            }
            // While campaigns run, short takes: the loop sees a shutdown soon, and does not sit
            // in a take that would catch the job one of its campaigns just put back.
            let mut timeout = if campaigns.is_empty() {
                self.settings.take_timeout
            } else {
                self.settings.take_timeout.min(BUSY_TAKE_TIMEOUT)
            };
            if self.settings.shard_size > 0 {
                // Not long in a take: a campaign split meanwhile should not wait for this
                // worker to look for its shards.
                timeout = timeout.min(SHARD_LOOK_INTERVAL);
            }
            match self.jobs.take(timeout).await {
                Ok(Some(job)) if shutdown.is_cancelled() => {
                    // Taken as the worker stops: straight back, for another worker.
                    if let Err(e) = self.jobs.release(&job).await {
                        warn!(error = %e, job_id = %job.job_id, "could not put back a job taken while stopping; it returns when its lock expires");
                    }
                }
                Ok(Some(job)) => {
                    failures = 0;
                    let (worker, shutdown) = (self.clone(), shutdown.clone());
                    campaigns.spawn(async move {
                        worker.handle_job(job, &shutdown).await;
                    });
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
        // Each campaign stops on `shutdown`: it drains, writes its outcomes and puts its job
        // back.
        while campaigns.join_next().await.is_some() {}
        housekeeping.abort();
        stops.abort();
        // A test message taken is sent, not dropped; the task ends after its current take.
        let grace = Duration::from_secs(5);
        if tokio::time::timeout(grace, &mut tests).await.is_err() {
            tests.abort();
        }
        // Leaves the live list (it stops beating once `shutdown` is cancelled).
        if tokio::time::timeout(Duration::from_secs(2), &mut heartbeat)
            .await
            .is_err()
        {
            heartbeat.abort();
        }
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

            // After the claim (so only the job sending the campaign is registered), before
            // the run reads the campaign's status: a stop request sent before this is covered
            // by that status, one sent after reaches the run.
            let registered = self.sending.register(campaign);
            let _active = metrics::Held::new(metrics::CAMPAIGNS_ACTIVE);
            let lock_lost = CancellationToken::new();
            let renewer = tokio::spawn(renew_lock(
                self.jobs.clone(),
                job.clone(),
                self.settings.renew_interval,
                lock_lost.clone(),
            ));
            let stop = Stop {
                shutdown,
                lock_lost: &lock_lost,
                halt: &registered.token,
                lease: None,
            };
            let result = self.send_campaign(campaign, stop).await;
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
                Ok(RunOutcome::NotDue) => match self.jobs.complete(&job).await {
                    Ok(()) => {
                        info!("the campaign is scheduled later; completed this job without sending");
                        JobOutcome::Completed
                    }
                    Err(e) => {
                        warn!(error = %e, "the campaign is scheduled later but the job could not be completed");
                        JobOutcome::LockLost
                    }
                },
                Ok(RunOutcome::Draft) => match self.jobs.complete(&job).await {
                    Ok(()) => {
                        warn!("the job names a draft; completed it without sending anything");
                        JobOutcome::Completed
                    }
                    Err(e) => {
                        warn!(error = %e, "the job names a draft but could not be completed");
                        JobOutcome::LockLost
                    }
                },
                Ok(RunOutcome::Halted) => self.settle_halted(&job, campaign).await,
                Ok(RunOutcome::LockLost) => {
                    warn!("lost the job's lock; another worker owns this campaign now");
                    JobOutcome::LockLost
                }
                // A job's run ends a shard's pass inside; were it to end with one, the job
                // goes back like on shutdown.
                Ok(RunOutcome::Stopped | RunOutcome::PassDone) => match self.jobs.release(&job).await {
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
                    warn!("the job names a campaign that is not in the database; failing the job");
                    self.settle_fail(&job, "campaign not found", false).await
                }
                Err(RunError::Repository(e)) => {
                    error!(error = %error_chain(&e), "campaign run failed");
                    self.settle_failed_run(&job, campaign).await
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Completes the job of a campaign a user paused or cancelled. A campaign resumed while
    /// this run was finishing its messages in flight gets a new job here: the resume's own job
    /// may have been completed as a duplicate while this one still held the claim.
    async fn settle_halted(&self, job: &TakenJob, campaign: CampaignId) -> JobOutcome {
        if let Err(e) = self.jobs.complete(job).await {
            warn!(error = %e, "the campaign was stopped but its job could not be completed");
            return JobOutcome::LockLost;
        }
        match self.ledger.get(campaign).await {
            Ok(Some(now)) if now.status.awaits_delivery() => {
                info!(status = %now.status, "resumed while stopping; queueing it again");
                if let Err(e) = self.producer.enqueue(campaign).await {
                    warn!(error = %e, "could not queue the resumed campaign; the reconciler will");
                }
            }
            Ok(Some(now)) => info!(status = %now.status, "campaign stopped, job completed"),
            Ok(None) => {}
            Err(e) => {
                warn!(error = %e, "campaign stopped; could not read whether it was resumed meanwhile; the reconciler will queue it if so")
            }
        }
        JobOutcome::Completed
    }

    /// Counts a failed run of the campaign. Under `max_failed_runs` the job is failed to be
    /// retried (bull's backoff); at the limit the campaign ends `FAILED`, its unsent recipients
    /// saying why, and the job completes: a bug or a row that cannot be read would otherwise
    /// fail every run, and the reconciler would queue it again forever.
    async fn settle_failed_run(&self, job: &TakenJob, campaign: CampaignId) -> JobOutcome {
        const REASON: &str = "database error while sending";
        let runs = match self.ledger.count_failed_run(campaign).await {
            Ok(runs) => runs,
            Err(e) => {
                warn!(error = %e, "could not count the failed run; the job will be retried");
                return self.settle_fail(job, REASON, true).await;
            }
        };
        if runs < self.settings.max_failed_runs {
            warn!(
                failed_runs = runs,
                max = self.settings.max_failed_runs,
                "the job will be retried"
            );
            return self.settle_fail(job, REASON, true).await;
        }
        let reason = format!(
            "not sent: the campaign was stopped after {runs} failed runs (see the worker's log)"
        );
        match self
            .ledger
            .abandon(campaign, &reason, self.clock.now())
            .await
        {
            Ok(done) => {
                error!(failed_runs = runs, status = %done.status, "too many failed runs; the campaign is stopped");
                match self.jobs.complete(job).await {
                    Ok(()) => JobOutcome::Failed(reason),
                    Err(e) => {
                        warn!(error = %e, "the campaign was stopped but its job could not be completed");
                        JobOutcome::LockLost
                    }
                }
            }
            Err(e) => {
                warn!(error = %e, "could not stop the campaign; the job will be retried");
                self.settle_fail(job, REASON, true).await
            }
        }
    }

    async fn settle_fail(&self, job: &TakenJob, reason: &str, retry: bool) -> JobOutcome {
        if let Err(e) = self.jobs.fail(job, reason, retry).await {
            warn!(error = %e, "could not record the job's failure");
        }
        JobOutcome::Failed(reason.to_owned())
    }
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

#[cfg(test)]
mod outage_tests;

/// An error and its sources, `outer: inner: ...`, for logs: a port's error often says only
/// what failed ("unexpected database error") and its source says why.
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
