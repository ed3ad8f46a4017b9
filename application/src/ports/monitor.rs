//! What an operator sees of the queue: bull's job counts, and the workers alive (each
//! heartbeats with a short time to live, so one that dies drops off by itself).

use chrono::{DateTime, Utc};
use paloma_domain::CampaignId;

/// The queue's jobs by state (bull's lists and sets).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub waiting: u64,
    pub active: u64,
    pub delayed: u64,
    pub failed: u64,
    pub completed: u64,
    pub paused: u64,
}

/// One worker as its last heartbeat described it.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerBeat {
    /// Unique per process run.
    pub id: String,
    pub host: String,
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub last_beat_at: DateTime<Utc>,
    /// The campaigns it is sending now.
    pub campaigns: Vec<CampaignId>,
    /// Outcomes it wrote per second since its previous beat.
    pub messages_per_second: f64,
    /// Its `WORKER_CONCURRENCY`.
    pub concurrency: u32,
}
