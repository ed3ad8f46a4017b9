//! How a worker behaves ([`WorkerSettings`]) and who it is ([`WorkerIdentity`]).

use std::time::Duration;

use paloma_domain::{FailureThreshold, RetryPolicy, UnsubscribeLinks};

/// How a worker behaves; every field has a production default.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// Messages in flight at once, all its campaigns together.
    pub concurrency: usize,
    /// Campaigns it sends at once (each its own queue job), sharing `concurrency` first come,
    /// first served: a small campaign posted after a large one does not wait for it.
    pub max_campaigns: usize,
    /// Recipients read per query.
    pub batch_size: u32,
    /// Outcomes written per transaction, at most. Writes follow one another as fast as the
    /// database takes them (a group commit), not on a timer; messages in flight and outcomes
    /// waiting for the write under way are at most `concurrency` together.
    pub flush_size: usize,
    pub retry: RetryPolicy,
    /// How long one blocking take waits before the worker checks for shutdown again.
    pub take_timeout: Duration,
    /// How often the job's lock is extended (well under the lock duration).
    pub renew_interval: Duration,
    /// How often delayed jobs are promoted (so a scheduled campaign starts within this of its
    /// time) and stalled jobs recovered (the stalled check itself runs once per
    /// `STALLED_INTERVAL_MS` across all workers).
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
    /// Runs of one campaign that may fail (a bug, a row that cannot be read) before it ends
    /// `FAILED` with the reason, rather than being retried and queued again forever.
    pub max_failed_runs: u32,
    /// Whether an address the server refused as nonexistent (a `5.1.x` reply) goes on the
    /// suppression list (`SUPPRESS_HARD_BOUNCES`).
    pub suppress_hard_bounces: bool,
    /// Each message's one-click unsubscribe link (`List-Unsubscribe`, `{{ unsubscribe_url }}`);
    /// `None`: no such header, and the tag reads empty.
    pub unsubscribe: Option<UnsubscribeLinks>,
    /// Who this worker is, in its heartbeats.
    pub identity: WorkerIdentity,
    /// How often it heartbeats (a beat lives five of these).
    pub heartbeat_interval: Duration,
    /// Recipients per shard: a campaign with more pending than this is split into shards that
    /// every worker of the queue may lease and send (`0`: never split).
    pub shard_size: u32,
    /// How long a shard's lease lasts unless renewed (it is renewed every third of this): how
    /// soon the shard of a worker that died is sent by another.
    pub shard_lease: Duration,
}

/// A worker process as `GET /api/queue` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerIdentity {
    /// Unique per process run.
    pub id: String,
    pub host: String,
    pub pid: u32,
}

impl Default for WorkerIdentity {
    /// The process id and the start time make the id (the host is the binary's to say).
    fn default() -> Self {
        let pid = std::process::id();
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Self {
            id: format!("{pid}-{started:x}"),
            host: "unknown".to_owned(),
            pid,
        }
    }
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 5,
            max_campaigns: 4,
            batch_size: 500,
            flush_size: 500,
            retry: RetryPolicy::default(),
            take_timeout: Duration::from_secs(2),
            renew_interval: Duration::from_secs(15),
            maintenance_interval: Duration::from_millis(500),
            reconcile_interval: Duration::from_secs(30),
            reconcile_grace: Duration::from_secs(10),
            max_idle_wait: Duration::from_secs(5),
            failure_threshold: FailureThreshold::new(0.5, 100),
            max_failed_runs: 5,
            suppress_hard_bounces: true,
            unsubscribe: None,
            identity: WorkerIdentity::default(),
            heartbeat_interval: Duration::from_secs(2),
            shard_size: 1_000,
            shard_lease: Duration::from_secs(30),
        }
    }
}
