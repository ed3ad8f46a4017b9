//! What a worker does in the background to keep the queue healthy: bull's maintenance
//! (delayed jobs promoted when due, the jobs of dead workers returned to waiting) and the
//! reconciler, which gives every unfinished campaign a job again if its job was lost.

use paloma_domain::CampaignStatus;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{Worker, WorkerPorts};
use crate::ports::{
    CampaignStore, Clock, DeliveryLedger, JobConsumer, JobProducer, QueueError, RepositoryError,
};

/// Unfinished campaigns looked at per reconciler pass (the rest wait for the next one).
const RECONCILE_BATCH: u32 = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Repository(#[from] RepositoryError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

impl<P: WorkerPorts> Worker<P> {
    /// Runs maintenance and the reconciler at their intervals until `shutdown` is cancelled.
    pub(super) async fn housekeeping(self, shutdown: CancellationToken) {
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
            // A scheduled campaign gets a delayed job again, due at its time.
            let due = match self.ledger.get(*id).await? {
                Some(c) if c.status == CampaignStatus::Scheduled => c.scheduled_at,
                Some(_) => None,
                None => continue,
            };
            match due {
                Some(due) => self.producer.enqueue_due(*id, due).await?,
                None => self.producer.enqueue(*id).await?,
            };
            self.ledger.mark_enqueued(*id, self.clock.now()).await?;
            enqueued += 1;
            info!(campaign_id = %id, "reconciler enqueued an unfinished campaign that had no live queue job");
        }
        Ok(enqueued)
    }
}
