//! Waiting: for the database while it is unavailable, for the shared send rate, and the two
//! signals that cut every wait of a run short (shutdown, and the job's lock going to another
//! worker).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use tokio_util::sync::CancellationToken;
use tracing::warn;

use paloma_domain::CampaignStatus;

use super::{RunError, RunOutcome, Worker, WorkerPorts};
use crate::ports::{RepositoryError, SendSlot, SendThrottle};

/// What ends a run early: shutdown was requested, the job's lock (or the shard's lease) was
/// lost, or a user paused or cancelled the campaign (`halt`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Stop<'a> {
    pub(super) shutdown: &'a CancellationToken,
    pub(super) lock_lost: &'a CancellationToken,
    pub(super) halt: &'a CancellationToken,
    /// A shard's run: until when its lease surely holds. Read before each message starts, so
    /// that a worker that was frozen (or cut off) past it starts none, whichever of its tasks
    /// runs first when it wakes.
    pub(super) lease: Option<&'a LeaseDeadline>,
}

impl Stop<'_> {
    /// Whether the run must stop.
    pub(super) fn requested(&self) -> bool {
        self.shutdown.is_cancelled()
            || self.lock_lost.is_cancelled()
            || self.halt.is_cancelled()
            || self.lease.is_some_and(LeaseDeadline::passed)
    }

    /// Completes once the run must stop.
    pub(super) async fn signalled(&self) {
        tokio::select! {
            () = self.shutdown.cancelled() => {}
            () = self.lock_lost.cancelled() => {}
            () = self.halt.cancelled() => {}
        }
    }

    /// Sleeps for `wait`, or less if the run must stop meanwhile; false in that case.
    pub(super) async fn sleep(&self, wait: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(wait) => true,
            () = self.signalled() => false,
        }
    }

    /// How the run ends if it must stop now: the lost lock wins over a halt (the job is no
    /// longer this worker's to settle), a halt over shutdown (the job is done with, not to be
    /// put back).
    pub(super) fn outcome(&self) -> Option<RunOutcome> {
        if self.lock_lost.is_cancelled() || self.lease.is_some_and(LeaseDeadline::passed) {
            Some(RunOutcome::LockLost)
        } else if self.halt.is_cancelled() {
            Some(RunOutcome::Halted)
        } else if self.shutdown.is_cancelled() {
            Some(RunOutcome::Stopped)
        } else {
            None
        }
    }
}

/// Until when a shard's lease surely holds: shared by the task that renews the lease, which
/// moves it on, and the run, which reads it.
#[derive(Debug)]
pub(super) struct LeaseDeadline {
    base: Instant,
    after_base: AtomicU64,
}

impl LeaseDeadline {
    pub(super) fn new(until: Instant) -> Self {
        let base = Instant::now();
        let deadline = Self {
            base,
            after_base: AtomicU64::new(0),
        };
        deadline.set(until);
        deadline
    }

    pub(super) fn set(&self, until: Instant) {
        let nanos = until.saturating_duration_since(self.base).as_nanos();
        self.after_base
            .store(u64::try_from(nanos).unwrap_or(u64::MAX), Ordering::Release);
    }

    pub(super) fn get(&self) -> Instant {
        self.base + Duration::from_nanos(self.after_base.load(Ordering::Acquire))
    }

    pub(super) fn passed(&self) -> bool {
        Instant::now() >= self.get()
    }
}

impl<P: WorkerPorts> Worker<P> {
    /// Waits for the send throttle to grant one message. False when the run must stop first.
    /// While the throttle cannot be asked (Redis down), it waits and asks again: sending past a
    /// quota is worse than sending late.
    pub(super) async fn wait_for_send_slot(&self, stop: Stop<'_>) -> bool {
        let started = std::time::Instant::now();
        let granted = self.reserve_send_slot(stop).await;
        metrics::histogram!(super::metrics::RATE_LIMIT_WAIT_SECONDS).record(started.elapsed());
        granted
    }

    async fn reserve_send_slot(&self, stop: Stop<'_>) -> bool {
        let mut failures = 0u32;
        loop {
            let wait = match self.throttle.reserve().await {
                Ok(SendSlot::After(wait)) if wait.is_zero() => return true,
                // The slot is ours: wait for it unless stopping (then it goes unused).
                Ok(SendSlot::After(wait)) => return stop.sleep(wait).await,
                Ok(SendSlot::Busy(retry)) => retry,
                Err(e) => {
                    failures += 1;
                    if failures == 1 || failures.is_multiple_of(20) {
                        warn!(error = %e, "cannot reach the send throttle; waiting");
                    }
                    Duration::from_millis(250 * u64::from(failures.min(8)))
                }
            };
            if !stop.sleep(wait).await {
                return false;
            }
        }
    }

    /// Runs one repository call, calling it again with backoff while the database is
    /// unavailable. Returns its answer, or the `Unavailable` error once the run must stop.
    pub(super) async fn patiently<V, F, Fut>(
        &self,
        doing: &'static str,
        stop: Stop<'_>,
        mut call: F,
    ) -> Result<V, RepositoryError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<V, RepositoryError>>,
    {
        let mut tries = 0u32;
        loop {
            match call().await {
                Err(RepositoryError::Unavailable(e)) if !stop.requested() => {
                    tries += 1;
                    let wait = backoff(tries);
                    warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "database unavailable while {doing}; retrying");
                    stop.sleep(wait).await;
                }
                answer => return answer,
            }
        }
    }
}

/// The wait after `tries` failures in a row: 200 ms doubled `tries` times, at most 10 s.
pub(super) fn backoff(tries: u32) -> Duration {
    Duration::from_millis(200u64.saturating_mul(1 << tries.min(6))).min(Duration::from_secs(10))
}

/// How a run ends with the campaign in `status`: finished, or halted when a user paused or
/// cancelled it meanwhile (the store leaves those as they are).
pub(super) fn ended(status: CampaignStatus) -> RunOutcome {
    match status {
        CampaignStatus::Paused | CampaignStatus::Cancelled => RunOutcome::Halted,
        status => RunOutcome::Finished(status),
    }
}

/// The run's answer when a repository call gave up: `Stopped` or `LockLost` when that is why
/// (the database was unavailable and the run was asked to stop), the error otherwise.
pub(super) fn interrupted(e: RepositoryError, stop: Stop<'_>) -> Result<RunOutcome, RunError> {
    match (e, stop.outcome()) {
        (RepositoryError::Unavailable(_), Some(outcome)) => Ok(outcome),
        (RepositoryError::NotFound(_), _) => Err(RunError::NotFound),
        (e, _) => Err(e.into()),
    }
}
