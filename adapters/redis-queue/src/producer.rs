//! [`RedisJobQueue`]: the producer side of the queue, and the handle the consumer and the
//! send throttle are made from.

use std::collections::HashSet;
use std::sync::Arc;

use std::time::Duration;

use chrono::{DateTime, Utc};
use paloma_application::{
    Fence, FenceEnd, JobCounts, JobProducer, QueueError, StopAnswer, TestMessage, TestSendAnswer,
    WorkerBeat,
};
use paloma_domain::{CampaignId, SendRate};
use tracing::debug;

use crate::consumer::RedisJobConsumer;
use crate::error::redis_error;
use crate::pool::Shared;
use crate::scripts::{AddJob, LiveCursor, LiveJobPage};
use crate::settings::{QueueSettings, millis};
use crate::throttle::RedisSendThrottle;
use crate::wire;

/// Ids the live scan reads per script call: about 2 ms of Redis's time at 54,000 waiting jobs,
/// where one script reading them all took over 100 ms (docs/bull-protocol.md, "The live scan").
const LIVE_PAGE: u64 = 1000;

/// Where live jobs are, in the order the live scan reads them. Each is read from its start to
/// its end a page at a time, so jobs can move while it runs; a job that moves once during the
/// scan is still seen because for every move a job can make, from A to B, the first pass over A
/// ends before the last pass over B starts (the argument, and what it does not cover, is in
/// docs/bull-protocol.md, "The live scan"). `active` is read twice because jobs move both
/// ways between it and `wait`; `delayed` again at the end for a job taken and retried during the
/// scan. Both are short: reading them twice costs two small calls.
const LIVE_SCAN: [LiveState; 6] = [
    LiveState::Active,
    LiveState::Delayed,
    LiveState::Wait,
    LiveState::Paused,
    LiveState::Active,
    LiveState::Delayed,
];

#[derive(Debug, Clone, Copy)]
enum LiveState {
    Wait,
    Paused,
    Active,
    Delayed,
}

/// The producer side of the queue, and the pool the consumer side shares. Cheap to clone.
#[derive(Debug, Clone)]
pub struct RedisJobQueue {
    shared: Arc<Shared>,
}

impl RedisJobQueue {
    /// Builds the connection pool and checks that Redis answers.
    ///
    /// `Unavailable` when Redis cannot be reached; `Unknown` when the URL is invalid.
    pub async fn connect(settings: QueueSettings) -> Result<Self, QueueError> {
        let queue = Self::new(settings)?;
        queue.ping().await?;
        Ok(queue)
    }

    /// A queue whose connections are opened when first needed, so that it can be made while
    /// Redis is still down (each call then answers `Unavailable`). `Unknown` when the URL is
    /// invalid.
    pub fn new(settings: QueueSettings) -> Result<Self, QueueError> {
        Ok(Self {
            shared: Arc::new(Shared::new(settings)?),
        })
    }

    /// Checks that Redis answers (for readiness probes).
    pub async fn ping(&self) -> Result<(), QueueError> {
        self.shared.ping().await
    }

    /// A consumer of the same queue sharing this pool and process token; it opens its own
    /// connection for blocking takes on first use.
    pub fn consumer(&self) -> RedisJobConsumer {
        RedisJobConsumer::new(Arc::clone(&self.shared))
    }

    /// A throttle holding this queue's workers to `rate` together.
    pub fn send_throttle(&self, rate: SendRate) -> RedisSendThrottle {
        RedisSendThrottle::new(Arc::clone(&self.shared), rate)
    }

    /// The settings this queue was connected with.
    pub fn settings(&self) -> &QueueSettings {
        &self.shared.settings
    }
}

impl RedisJobQueue {
    /// Adds a job for `campaign`, due at `due_ms` on the Redis clock (0: at once).
    async fn add(&self, campaign: CampaignId, due_ms: u64) -> Result<String, QueueError> {
        let shared = &self.shared;
        let settings = &shared.settings;
        let opts_prefix = wire::JobOpts {
            attempts: settings.job_attempts,
            backoff_delay_ms: millis(settings.backoff_delay),
            keep_completed: settings.keep_completed,
            keep_failed: settings.keep_failed,
        }
        .json_prefix();
        let mut conn = shared.conn().await?;
        let id = AddJob {
            keys: &shared.keys,
            data: &wire::job_data(campaign),
            opts_prefix: &opts_prefix,
            token: &shared.token,
            due_ms,
        }
        .invoke(&mut conn)
        .await
        .map_err(redis_error)?;
        debug!(job_id = %id, campaign_id = %campaign, due_ms, "enqueued campaign job");
        Ok(id)
    }
}

impl JobProducer for RedisJobQueue {
    async fn enqueue(&self, campaign: CampaignId) -> Result<String, QueueError> {
        self.add(campaign, 0).await
    }

    async fn enqueue_due(
        &self,
        campaign: CampaignId,
        due: DateTime<Utc>,
    ) -> Result<String, QueueError> {
        // Before 1970 is "at once" too.
        let due_ms = u64::try_from(due.timestamp_millis()).unwrap_or(0);
        self.add(campaign, due_ms).await
    }

    async fn live_campaigns(&self) -> Result<HashSet<CampaignId>, QueueError> {
        let shared = &self.shared;
        let keys = &shared.keys;
        let mut conn = shared.conn().await?;
        let mut live = HashSet::new();
        for state in LIVE_SCAN {
            let key = match state {
                LiveState::Wait => &keys.wait,
                LiveState::Paused => &keys.paused,
                LiveState::Active => &keys.active,
                LiveState::Delayed => &keys.delayed,
            };
            let mut cursor = match state {
                LiveState::Delayed => LiveCursor::Delayed {
                    min: "-inf".to_owned(),
                    skip: 0,
                },
                _ => LiveCursor::List { start: 0 },
            };
            loop {
                let page = LiveJobPage {
                    keys,
                    key,
                    cursor: &cursor,
                    count: LIVE_PAGE,
                }
                .invoke(&mut conn)
                .await
                .map_err(redis_error)?;
                // Jobs whose data names no campaign (another producer's) are not Paloma's
                // concern.
                live.extend(
                    page.data
                        .iter()
                        .filter_map(|raw| wire::campaign_of(raw).ok()),
                );
                if page.read < LIVE_PAGE {
                    break;
                }
                cursor = page.next;
            }
        }
        Ok(live)
    }

    async fn fence(&self, campaign: CampaignId) -> Result<Fence, QueueError> {
        crate::stops::fence(&self.shared, campaign).await
    }

    async fn unfence(&self, campaign: CampaignId, end: FenceEnd) -> Result<u32, QueueError> {
        crate::stops::unfence(&self.shared, campaign, end).await
    }

    async fn stop_sending(
        &self,
        campaign: CampaignId,
        wait: Duration,
    ) -> Result<StopAnswer, QueueError> {
        crate::stops::stop_sending(&self.shared, campaign, wait).await
    }

    async fn job_counts(&self) -> Result<JobCounts, QueueError> {
        crate::monitor::job_counts(&self.shared).await
    }

    async fn live_workers(&self) -> Result<Vec<WorkerBeat>, QueueError> {
        crate::monitor::live_workers(&self.shared).await
    }

    async fn send_test(
        &self,
        message: &TestMessage,
        wait: Duration,
    ) -> Result<TestSendAnswer, QueueError> {
        crate::test_sends::send(&self.shared, message, wait).await
    }
}
