//! `GET /api/queue`: the queue's job counts and the live workers, for the dashboard's System
//! page and for operators.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use paloma_application::{
    ActivityLog, CampaignStore, Clock, JobCounts, JobProducer, MonitorError, QueueOverview,
    WorkerBeat,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::AuthRefusals;
use crate::AppState;
use crate::auth::{Authorized, ReadCampaigns};
use crate::error::{ApiError, ErrorBody};

/// Jobs of the campaign queue (`email-queue`) by bull state.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JobCountsResponse {
    #[schema(minimum = 0)]
    pub waiting: u64,
    #[schema(minimum = 0)]
    pub active: u64,
    /// Scheduled campaigns and retries not due yet.
    #[schema(minimum = 0)]
    pub delayed: u64,
    #[schema(minimum = 0)]
    pub failed: u64,
    /// Kept completed jobs (bull keeps only the last ones).
    #[schema(minimum = 0)]
    pub completed: u64,
    /// Waiting while the whole queue is paused (bull's `queue.pause()`).
    #[schema(minimum = 0)]
    pub paused: u64,
}

/// A worker alive: its heartbeat is younger than five beat intervals (10 s by default).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WorkerResponse {
    /// Unique per process run.
    pub id: String,
    pub host: String,
    #[schema(minimum = 0)]
    pub pid: u32,
    pub started_at: DateTime<Utc>,
    pub last_beat_at: DateTime<Utc>,
    /// The campaigns it is sending now.
    pub campaigns: Vec<Uuid>,
    /// Outcomes it wrote per second since its previous beat.
    #[schema(minimum = 0)]
    pub messages_per_second: f64,
    /// Messages it may have in flight at once (`WORKER_CONCURRENCY`).
    #[schema(minimum = 0)]
    pub concurrency: u32,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QueueResponse {
    pub counts: JobCountsResponse,
    /// Oldest first.
    pub workers: Vec<WorkerResponse>,
}

impl From<JobCounts> for JobCountsResponse {
    fn from(c: JobCounts) -> Self {
        Self {
            waiting: c.waiting,
            active: c.active,
            delayed: c.delayed,
            failed: c.failed,
            completed: c.completed,
            paused: c.paused,
        }
    }
}

impl From<WorkerBeat> for WorkerResponse {
    fn from(w: WorkerBeat) -> Self {
        Self {
            id: w.id,
            host: w.host,
            pid: w.pid,
            started_at: w.started_at,
            last_beat_at: w.last_beat_at,
            campaigns: w.campaigns.iter().map(|c| *c.as_uuid()).collect(),
            messages_per_second: w.messages_per_second,
            concurrency: w.concurrency,
        }
    }
}

impl From<QueueOverview> for QueueResponse {
    fn from(o: QueueOverview) -> Self {
        Self {
            counts: o.counts.into(),
            workers: o.workers.into_iter().map(Into::into).collect(),
        }
    }
}

/// The campaign queue's jobs by state and the workers alive (each heartbeats every 2 s; one
/// that stopped cleanly leaves at once, one that died drops off within 10 s).
#[utoipa::path(
    get,
    path = "/api/queue",
    tag = "operations",
    security(("bearer" = ["campaigns:read"])),
    responses(
        (status = 200, body = QueueResponse),
        (status = 503, description = "Redis is unavailable", body = ErrorBody),
        AuthRefusals,
    )
)]
pub async fn queue_overview<R, Q, C, K>(
    _auth: Authorized<ReadCampaigns>,
    State(state): State<AppState<R, Q, C, K>>,
) -> Result<Json<QueueResponse>, ApiError>
where
    R: CampaignStore + ActivityLog,
    Q: JobProducer,
    C: Clock,
{
    Ok(Json(state.campaigns.queue_overview().await?.into()))
}

impl From<MonitorError> for ApiError {
    fn from(e: MonitorError) -> Self {
        match e {
            MonitorError::Unavailable(cause) => {
                tracing::warn!(error = %cause, cause = ?cause, "cannot read the queue");
                Self::unavailable()
            }
        }
    }
}
