//! The worker's heartbeat: every `heartbeat_interval` it says in the queue that it is alive
//! (what it sends, how fast), with a time to live of a few intervals, so that a worker that
//! dies drops off the live list by itself and one that stops cleanly leaves at once. The same
//! tick sets the queue's job gauges.

use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::{Worker, WorkerPorts};
use crate::ports::{Clock, JobConsumer, JobProducer, WorkerBeat};

/// How many intervals a beat lives: a worker is gone after missing this many.
const BEATS_TO_LIVE: u32 = 5;

impl<P: WorkerPorts> Worker<P> {
    /// Beats until `shutdown` is cancelled, then leaves the live list.
    pub(super) async fn heartbeat(self, shutdown: CancellationToken) {
        let identity = &self.settings.identity;
        let started_at = self.clock.now();
        let interval = self.settings.heartbeat_interval;
        let mut last = (Instant::now(), self.handled.load(Ordering::Relaxed));
        let mut failures = 0u32;
        loop {
            let handled = self.handled.load(Ordering::Relaxed);
            let elapsed = last.0.elapsed().as_secs_f64();
            let rate = if elapsed > 0.0 {
                handled.saturating_sub(last.1) as f64 / elapsed
            } else {
                0.0
            };
            last = (Instant::now(), handled);
            let beat = WorkerBeat {
                id: identity.id.clone(),
                host: identity.host.clone(),
                pid: identity.pid,
                started_at,
                last_beat_at: self.clock.now(),
                campaigns: self.sending.campaigns(),
                messages_per_second: rate,
                concurrency: u32::try_from(self.settings.concurrency).unwrap_or(u32::MAX),
            };
            match self.jobs.beat(&beat, interval * BEATS_TO_LIVE).await {
                Ok(()) => failures = 0,
                Err(e) => {
                    failures += 1;
                    if failures == 1 || failures.is_multiple_of(30) {
                        warn!(error = %e, "cannot send the heartbeat; this worker looks dead to /api/queue meanwhile");
                    }
                }
            }
            self.record_queue_gauges().await;
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = shutdown.cancelled() => break,
            }
        }
        if let Err(e) = self.jobs.leave(&identity.id).await {
            debug!(error = %e, "could not leave the live list; the last beat expires by itself");
        }
    }

    /// `paloma_queue_jobs{state}` from the queue's counts.
    async fn record_queue_gauges(&self) {
        match self.producer.job_counts().await {
            Ok(counts) => {
                for (state, n) in [
                    ("waiting", counts.waiting),
                    ("active", counts.active),
                    ("delayed", counts.delayed),
                    ("failed", counts.failed),
                ] {
                    metrics::gauge!(super::metrics::QUEUE_JOBS, "state" => state).set(n as f64);
                }
            }
            Err(e) => debug!(error = %e, "cannot read the queue's job counts"),
        }
    }
}
