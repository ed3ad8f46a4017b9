//! What an operator sees of the queue (`GET /api/queue`): bull's job counts and the workers
//! alive, from their heartbeats.

use crate::campaigns::CampaignService;
use crate::ports::{
    ActivityLog, CampaignStore, Clock, JobCounts, JobProducer, QueueError, WorkerBeat,
};

/// The queue now.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueOverview {
    pub counts: JobCounts,
    /// Oldest first.
    pub workers: Vec<WorkerBeat>,
}

#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("the queue is unavailable")]
    Unavailable(#[source] QueueError),
}

impl<R: CampaignStore + ActivityLog, Q: JobProducer, C: Clock> CampaignService<R, Q, C> {
    /// The queue's job counts and its live workers (`campaigns:read` is the caller's to check).
    pub async fn queue_overview(&self) -> Result<QueueOverview, MonitorError> {
        let (counts, mut workers) =
            tokio::try_join!(self.queue.job_counts(), self.queue.live_workers())
                .map_err(MonitorError::Unavailable)?;
        workers.sort_by(|a, b| (a.started_at, &a.id).cmp(&(b.started_at, &b.id)));
        Ok(QueueOverview { counts, workers })
    }
}
