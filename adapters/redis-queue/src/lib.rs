//! The campaign queue on Redis, wire-compatible with Node's `bull` 4.x.
//!
//! [`RedisJobQueue`] is the producer ([`JobProducer`]): it adds jobs exactly as a Node
//! `queue.add({ jobUuid }, { attempts, backoff })` would store them. [`RedisJobConsumer`] is the
//! worker side ([`JobConsumer`]): it takes jobs with a blocking move `wait -> active`, locks
//! them with a token and a TTL, renews, completes, fails (with bull's exponential backoff
//! through the `delayed` zset) or releases them, and runs bull's housekeeping (promotion of
//! due delayed jobs, the stalled-job check). Node bull producers and workers can share the
//! queue with it.
//!
//! Every state change is one Lua script of this crate (`src/lua/`), written from the protocol
//! description in `docs/bull-protocol.md`; times inside the scripts come from the Redis
//! server's clock (`TIME`), so all workers agree on "now".

mod keys;
mod scripts;
mod throttle;

pub use throttle::RedisSendThrottle;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bb8::{Pool, PooledConnection, RunError};
use bb8_redis::RedisConnectionManager;
use paloma_application::{JobConsumer, JobProducer, QueueError, TakenJob};
use paloma_domain::CampaignId;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, ErrorKind, RedisError, ServerErrorKind};
use tokio::sync::Mutex;
use tracing::{debug, warn};
use uuid::Uuid;

use crate::keys::Keys;
use crate::scripts::Scripts;

/// The job name bull's `queue.process(fn)` handles.
const JOB_NAME: &str = "__default__";
/// Due delayed jobs promoted per script call.
const PROMOTE_BATCH: u32 = 1000;
/// How long a blocking take may overrun its own timeout before the connection is declared
/// dead (the blocking connection has no response timeout of its own).
const BLOCKING_GRACE: Duration = Duration::from_secs(5);

/// How to reach the queue and how jobs behave in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueSettings {
    /// `redis://[user:password@]host:port[/db]`.
    pub redis_url: String,
    /// Key prefix (bull's `prefix` option); keys are `<prefix>:<queue_name>:<suffix>`.
    pub prefix: String,
    /// The queue name.
    pub queue_name: String,
    /// How long a taken job stays locked without a renewal (bull's `lockDuration`).
    pub lock_duration: Duration,
    /// How often, cluster-wide, the stalled-job check runs (bull's `stalledInterval`);
    /// zero disables it.
    pub stalled_interval: Duration,
    /// How many times a job may stall and come back before it fails (bull's
    /// `maxStalledCount`).
    pub max_stalled_count: u32,
    /// Attempts stored in the options of the jobs this producer adds.
    pub job_attempts: u32,
    /// Base delay of the exponential backoff stored in the jobs' options: retry n waits
    /// `(2^n - 1) * backoff_delay`.
    pub backoff_delay: Duration,
    /// Maximum number of pooled connections (blocking takes use their own connection).
    pub pool_size: u32,
    /// How long an operation waits for a pooled connection (or a new connection) before it
    /// reports the queue unavailable.
    pub connect_timeout: Duration,
}

impl QueueSettings {
    /// Bull's defaults and Paloma's queue name for the Redis server at `redis_url`.
    pub fn new(redis_url: impl Into<String>) -> Self {
        Self {
            redis_url: redis_url.into(),
            prefix: "bull".to_owned(),
            queue_name: "email-queue".to_owned(),
            lock_duration: Duration::from_secs(30),
            stalled_interval: Duration::from_secs(30),
            max_stalled_count: 1,
            job_attempts: 5,
            backoff_delay: Duration::from_secs(10),
            pool_size: 16,
            connect_timeout: Duration::from_secs(3),
        }
    }
}

impl Default for QueueSettings {
    /// [`QueueSettings::new`] for `redis://127.0.0.1:6379`.
    fn default() -> Self {
        Self::new("redis://127.0.0.1:6379")
    }
}

/// What every handle of one queue shares.
#[derive(Debug)]
struct Shared {
    settings: QueueSettings,
    client: redis::Client,
    pool: Pool<RedisConnectionManager>,
    keys: Keys,
    /// This process's identity in bull's event channels (`waiting@<token>`, `active@<token>`).
    token: String,
    scripts: Scripts,
}

impl Shared {
    async fn conn(&self) -> Result<PooledConnection<'_, RedisConnectionManager>, QueueError> {
        self.pool.get().await.map_err(|err| match err {
            RunError::User(err) => redis_error(err),
            RunError::TimedOut => {
                QueueError::Unavailable("timed out waiting for a Redis connection".into())
            }
        })
    }

    fn lock_millis(&self) -> u64 {
        millis(self.settings.lock_duration).max(1)
    }
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
        let client = redis::Client::open(settings.redis_url.as_str())
            .map_err(|err| QueueError::Unknown(format!("invalid Redis URL: {err}")))?;
        let manager = RedisConnectionManager::new(settings.redis_url.as_str())
            .map_err(|err| QueueError::Unknown(format!("invalid Redis URL: {err}")))?;
        let pool = Pool::builder()
            .max_size(settings.pool_size.max(1))
            .connection_timeout(settings.connect_timeout)
            .build_unchecked(manager);
        let keys = Keys::new(&settings.prefix, &settings.queue_name);
        let queue = Self {
            shared: Arc::new(Shared {
                settings,
                client,
                pool,
                keys,
                token: Uuid::now_v7().to_string(),
                scripts: Scripts::new(),
            }),
        };
        queue.ping().await?;
        Ok(queue)
    }

    /// Checks that Redis answers (for readiness probes).
    pub async fn ping(&self) -> Result<(), QueueError> {
        let mut conn = self.shared.conn().await?;
        let pong: String = redis::cmd("PING")
            .query_async(&mut *conn)
            .await
            .map_err(redis_error)?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(QueueError::Unknown(format!(
                "unexpected PING answer {pong:?}"
            )))
        }
    }

    /// A consumer of the same queue sharing this pool and process token; it opens its own
    /// connection for blocking takes on first use.
    pub fn consumer(&self) -> RedisJobConsumer {
        RedisJobConsumer {
            shared: Arc::clone(&self.shared),
            blocking: Arc::new(Mutex::new(None)),
        }
    }

    /// The settings this queue was connected with.
    pub fn settings(&self) -> &QueueSettings {
        &self.shared.settings
    }

    /// The JSON options stored with each new job, without the closing `timestamp` value and
    /// brace (the script appends the server time), in Node's key order:
    /// `{"attempts":5,"backoff":{"type":"exponential","delay":10000},"delay":0,"timestamp":`.
    fn opts_prefix(&self) -> String {
        let settings = &self.shared.settings;
        format!(
            r#"{{"attempts":{},"backoff":{{"type":"exponential","delay":{}}},"delay":0,"timestamp":"#,
            settings.job_attempts.max(1),
            millis(settings.backoff_delay)
        )
    }
}

impl JobProducer for RedisJobQueue {
    async fn enqueue(&self, campaign: CampaignId) -> Result<String, QueueError> {
        let shared = &self.shared;
        let data = serde_json::json!({ "jobUuid": campaign.to_string() }).to_string();
        let mut conn = shared.conn().await?;
        let id: String = shared
            .scripts
            .add
            .key(&shared.keys.id)
            .key(&shared.keys.wait)
            .key(&shared.keys.paused)
            .key(&shared.keys.meta_paused)
            .arg(&shared.keys.base)
            .arg(JOB_NAME)
            .arg(data)
            .arg(self.opts_prefix())
            .arg(&shared.token)
            .invoke_async(&mut *conn)
            .await
            .map_err(redis_error)?;
        debug!(job_id = %id, campaign_id = %campaign, "enqueued campaign job");
        Ok(id)
    }

    async fn live_campaigns(&self) -> Result<HashSet<CampaignId>, QueueError> {
        let shared = &self.shared;
        let mut conn = shared.conn().await?;
        let data: Vec<String> = shared
            .scripts
            .live
            .key(&shared.keys.wait)
            .key(&shared.keys.paused)
            .key(&shared.keys.active)
            .key(&shared.keys.delayed)
            .arg(&shared.keys.base)
            .invoke_async(&mut *conn)
            .await
            .map_err(redis_error)?;
        // Jobs whose data names no campaign (another producer's) are not Paloma's concern.
        Ok(data
            .iter()
            .filter_map(|raw| campaign_of(raw).ok())
            .collect())
    }
}

/// The worker side of the queue: pooled connections for the scripts, plus one dedicated
/// connection (no response timeout) for the blocking move `wait -> active`. Clones share that
/// connection, so takes through clones are serialized; create one consumer per concurrent
/// taker (see [`RedisJobQueue::consumer`]).
#[derive(Debug, Clone)]
pub struct RedisJobConsumer {
    shared: Arc<Shared>,
    blocking: Arc<Mutex<Option<MultiplexedConnection>>>,
}

impl RedisJobConsumer {
    /// Connects a consumer with its own pool (see [`RedisJobQueue::connect`]).
    pub async fn connect(settings: QueueSettings) -> Result<Self, QueueError> {
        Ok(RedisJobQueue::connect(settings).await?.consumer())
    }

    /// Checks that Redis answers (for readiness probes).
    pub async fn ping(&self) -> Result<(), QueueError> {
        RedisJobQueue {
            shared: Arc::clone(&self.shared),
        }
        .ping()
        .await
    }

    /// Blocks up to `timeout` for the next waiting id, moving it to active. `None` when the
    /// wait ran out. On error the dedicated connection is dropped and recreated next time.
    async fn blocking_move(&self, timeout: Duration) -> Result<Option<String>, QueueError> {
        let shared = &self.shared;
        let mut slot = self.blocking.lock().await;
        if slot.is_none() {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(Some(shared.settings.connect_timeout))
                .set_response_timeout(None);
            let conn = shared
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(redis_error)?;
            *slot = Some(conn);
        }
        let Some(conn) = slot.as_mut() else {
            return Err(QueueError::Unknown(
                "blocking connection missing".to_owned(),
            ));
        };
        let cmd = if timeout.is_zero() {
            let mut cmd = redis::cmd("RPOPLPUSH");
            cmd.arg(&shared.keys.wait).arg(&shared.keys.active);
            cmd
        } else {
            // BRPOPLPUSH (Redis 2.2+, fractional timeouts 6.0+) rather than BLMOVE (6.2+).
            let mut cmd = redis::cmd("BRPOPLPUSH");
            cmd.arg(&shared.keys.wait)
                .arg(&shared.keys.active)
                .arg(format!("{:.3}", timeout.as_secs_f64().max(0.001)));
            cmd
        };
        let outcome = tokio::time::timeout(
            timeout + BLOCKING_GRACE,
            cmd.query_async::<Option<String>>(conn),
        )
        .await;
        match outcome {
            Ok(Ok(id)) => Ok(id),
            Ok(Err(err)) => {
                *slot = None;
                Err(redis_error(err))
            }
            Err(_) => {
                *slot = None;
                Err(QueueError::Unavailable(
                    "Redis did not answer the blocking take in time".into(),
                ))
            }
        }
    }

    /// Locks a job the blocking move put in active; `None` when its hash is gone.
    async fn activate(
        &self,
        id: &str,
        lock_token: &str,
    ) -> Result<Option<Vec<String>>, QueueError> {
        let shared = &self.shared;
        let mut conn = shared.conn().await?;
        shared
            .scripts
            .activate
            .key(&shared.keys.active)
            .key(&shared.keys.stalled)
            .key(&shared.keys.priority)
            .arg(&shared.keys.base)
            .arg(id)
            .arg(lock_token)
            .arg(shared.lock_millis())
            .arg(&shared.token)
            .invoke_async(&mut *conn)
            .await
            .map_err(redis_error)
    }

    /// Takes or extends (`drop` false) or drops the job's claim on `campaign`; false when
    /// another job holds it.
    async fn claim(
        &self,
        job: &TakenJob,
        campaign: CampaignId,
        drop: bool,
    ) -> Result<bool, QueueError> {
        let shared = &self.shared;
        let mut conn = shared.conn().await?;
        let ours: i64 = shared
            .scripts
            .claim
            .key(shared.keys.campaign_claim(&campaign.to_string()))
            .arg(&job.job_id)
            .arg(&job.token)
            .arg(shared.lock_millis())
            .arg(if drop { "1" } else { "0" })
            .invoke_async(&mut *conn)
            .await
            .map_err(redis_error)?;
        Ok(ours == 1)
    }

    /// Lets go of the settled job's campaign claim, if it has one. Best effort: a claim left
    /// behind expires with the lock duration.
    async fn drop_claim(&self, job: &TakenJob) {
        if let Ok(campaign) = job.campaign
            && let Err(e) = self.claim(job, campaign, true).await
        {
            debug!(job_id = %job.job_id, error = %e, "could not drop the campaign claim");
        }
    }

    /// Promotes due delayed jobs; returns how many moved.
    async fn promote_delayed(&self) -> Result<u64, QueueError> {
        let shared = &self.shared;
        let mut conn = shared.conn().await?;
        shared
            .scripts
            .promote
            .key(&shared.keys.delayed)
            .key(&shared.keys.active)
            .key(&shared.keys.wait)
            .key(&shared.keys.paused)
            .key(&shared.keys.meta_paused)
            .key(&shared.keys.priority)
            .arg(&shared.keys.base)
            .arg(&shared.token)
            .arg(PROMOTE_BATCH)
            .invoke_async(&mut *conn)
            .await
            .map_err(redis_error)
    }

    /// Runs the stalled-job check unless another worker ran it within the interval.
    /// Returns `(ran, recovered, failed)`.
    async fn check_stalled(&self) -> Result<(bool, u64, u64), QueueError> {
        let shared = &self.shared;
        let interval = millis(shared.settings.stalled_interval);
        if interval == 0 {
            return Ok((false, 0, 0));
        }
        let mut conn = shared.conn().await?;
        let (ran, recovered, failed): (u8, u64, u64) = shared
            .scripts
            .stalled
            .key(&shared.keys.stalled_check)
            .key(&shared.keys.stalled)
            .key(&shared.keys.active)
            .key(&shared.keys.wait)
            .key(&shared.keys.paused)
            .key(&shared.keys.meta_paused)
            .key(&shared.keys.failed)
            .arg(&shared.keys.base)
            .arg(interval)
            .arg(shared.settings.max_stalled_count)
            .invoke_async(&mut *conn)
            .await
            .map_err(redis_error)?;
        Ok((ran == 1, recovered, failed))
    }
}

impl JobConsumer for RedisJobConsumer {
    async fn take(&self, timeout: Duration) -> Result<Option<TakenJob>, QueueError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let Some(id) = self.blocking_move(left).await? else {
                return Ok(None);
            };
            let lock_token = Uuid::now_v7().to_string();
            match self.activate(&id, &lock_token).await? {
                Some(fields) => {
                    let job = taken_job(id, lock_token, &pairs(fields));
                    match &job.campaign {
                        Ok(campaign) => debug!(
                            job_id = %job.job_id,
                            campaign_id = %campaign,
                            attempts_made = job.attempts_made,
                            "took job"
                        ),
                        Err(_) => {
                            warn!(job_id = %job.job_id, "took a job whose data names no campaign")
                        }
                    }
                    return Ok(Some(job));
                }
                None => {
                    debug!(job_id = %id, "skipped a job whose hash was deleted");
                    if tokio::time::Instant::now() >= deadline {
                        return Ok(None);
                    }
                }
            }
        }
    }

    async fn renew(&self, job: &TakenJob) -> Result<(), QueueError> {
        let shared = &self.shared;
        let mut conn = shared.conn().await?;
        let extended: i64 = shared
            .scripts
            .extend
            .key(shared.keys.lock(&job.job_id))
            .key(&shared.keys.stalled)
            .arg(&job.token)
            .arg(shared.lock_millis())
            .arg(&job.job_id)
            .invoke_async(&mut *conn)
            .await
            .map_err(redis_error)?;
        if extended != 1 {
            debug!(job_id = %job.job_id, "job lock lost");
            return Err(QueueError::LockLost);
        }
        if let Ok(campaign) = job.campaign
            && !self.claim(job, campaign, false).await?
        {
            debug!(job_id = %job.job_id, "campaign claim lost to another job");
            return Err(QueueError::LockLost);
        }
        debug!(job_id = %job.job_id, "renewed job lock");
        Ok(())
    }

    async fn claim_campaign(
        &self,
        job: &TakenJob,
        campaign: CampaignId,
    ) -> Result<bool, QueueError> {
        self.claim(job, campaign, false).await
    }

    async fn complete(&self, job: &TakenJob) -> Result<(), QueueError> {
        let shared = &self.shared;
        let mut conn = shared.conn().await?;
        let code: i64 = shared
            .scripts
            .complete
            .key(&shared.keys.active)
            .key(&shared.keys.completed)
            .key(&shared.keys.stalled)
            .arg(&shared.keys.base)
            .arg(&job.job_id)
            .arg(&job.token)
            .arg("null")
            .invoke_async(&mut *conn)
            .await
            .map_err(redis_error)?;
        finish_code(code, &job.job_id)?;
        self.drop_claim(job).await;
        debug!(job_id = %job.job_id, "completed job");
        Ok(())
    }

    async fn fail(&self, job: &TakenJob, reason: &str, retry: bool) -> Result<(), QueueError> {
        let shared = &self.shared;
        let mut conn = shared.conn().await?;
        let answer: Vec<i64> = shared
            .scripts
            .fail
            .key(&shared.keys.active)
            .key(&shared.keys.delayed)
            .key(&shared.keys.failed)
            .key(&shared.keys.stalled)
            .key(&shared.keys.wait)
            .key(&shared.keys.paused)
            .key(&shared.keys.meta_paused)
            .key(&shared.keys.priority)
            .arg(&shared.keys.base)
            .arg(&job.job_id)
            .arg(&job.token)
            .arg(reason)
            .arg(if retry { "1" } else { "0" })
            .arg(&shared.token)
            .invoke_async(&mut *conn)
            .await
            .map_err(redis_error)?;
        let outcome = answer.first().copied().unwrap_or(i64::MIN);
        finish_code(outcome.min(0), &job.job_id)?;
        self.drop_claim(job).await;
        let attempts_made = answer.get(1).copied().unwrap_or_default();
        match outcome {
            1 => debug!(
                job_id = %job.job_id,
                attempts_made,
                delay_ms = answer.get(2).copied().unwrap_or_default(),
                "job failed; retry scheduled"
            ),
            2 => debug!(job_id = %job.job_id, attempts_made, "job failed; retrying at once"),
            _ => debug!(job_id = %job.job_id, attempts_made, "job failed for good"),
        }
        Ok(())
    }

    async fn release(&self, job: &TakenJob) -> Result<(), QueueError> {
        let shared = &self.shared;
        let mut conn = shared.conn().await?;
        let code: i64 = shared
            .scripts
            .release
            .key(&shared.keys.active)
            .key(&shared.keys.stalled)
            .key(&shared.keys.wait)
            .key(&shared.keys.paused)
            .key(&shared.keys.meta_paused)
            .arg(&shared.keys.base)
            .arg(&job.job_id)
            .arg(&job.token)
            .arg(&shared.token)
            .invoke_async(&mut *conn)
            .await
            .map_err(redis_error)?;
        finish_code(code, &job.job_id)?;
        self.drop_claim(job).await;
        debug!(job_id = %job.job_id, "released job");
        Ok(())
    }

    async fn maintain(&self) -> Result<(), QueueError> {
        let promoted = self.promote_delayed().await?;
        if promoted > 0 {
            debug!(promoted, "promoted due delayed jobs");
        }
        let (ran, recovered, failed) = self.check_stalled().await?;
        if ran {
            debug!(recovered, failed, "ran the stalled-job check");
        }
        Ok(())
    }
}

/// Maps a negative script answer of complete / fail / release to the port's error.
fn finish_code(code: i64, job_id: &str) -> Result<(), QueueError> {
    match code {
        0.. => Ok(()),
        -1 => {
            debug!(job_id, "job hash missing");
            Err(QueueError::LockLost)
        }
        -2 | -6 => {
            debug!(job_id, code, "job lock lost");
            Err(QueueError::LockLost)
        }
        -3 => Err(QueueError::Unknown(format!(
            "job {job_id} is locked by us but not in the active list"
        ))),
        other => Err(QueueError::Unknown(format!(
            "unexpected script answer {other} for job {job_id}"
        ))),
    }
}

/// HGETALL's flat `[field, value, ...]` as a map.
fn pairs(flat: Vec<String>) -> HashMap<String, String> {
    let mut map = HashMap::with_capacity(flat.len() / 2);
    let mut items = flat.into_iter();
    while let (Some(field), Some(value)) = (items.next(), items.next()) {
        map.insert(field, value);
    }
    map
}

/// Builds the taken job from its hash; never fails on odd data.
fn taken_job(job_id: String, token: String, hash: &HashMap<String, String>) -> TakenJob {
    let campaign = campaign_of(hash.get("data").map_or("", String::as_str));
    let attempts_made = hash
        .get("attemptsMade")
        .and_then(|value| value.trim().parse::<u32>().ok())
        .unwrap_or(0);
    TakenJob {
        job_id,
        token,
        campaign,
        attempts_made,
    }
}

/// The campaign a job's data names (`{"jobUuid": "<id>"}`); `Err` holds the raw data.
fn campaign_of(raw: &str) -> Result<CampaignId, String> {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()
        .and_then(|data| data.get("jobUuid")?.as_str()?.parse::<CampaignId>().ok())
        .ok_or_else(|| raw.to_owned())
}

/// Connection trouble is `Unavailable` (worth retrying); anything else is `Unknown`.
fn redis_error(err: RedisError) -> QueueError {
    let transient = err.is_io_error()
        || err.is_timeout()
        || err.is_connection_refusal()
        || err.is_connection_dropped()
        || err.is_unrecoverable_error()
        || matches!(
            err.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            )
        );
    if transient {
        QueueError::Unavailable(Box::new(err))
    } else {
        QueueError::Unknown(err.to_string())
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(fields: &[(&str, &str)]) -> HashMap<String, String> {
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn taken_job_reads_the_campaign_and_attempts() {
        let campaign = CampaignId::new();
        let data = format!(r#"{{"jobUuid":"{campaign}"}}"#);
        let job = taken_job(
            "7".into(),
            "t".into(),
            &hash(&[("data", &data), ("attemptsMade", "2")]),
        );
        assert_eq!(job.campaign, Ok(campaign));
        assert_eq!(job.attempts_made, 2);
        assert_eq!(job.job_id, "7");
    }

    #[test]
    fn taken_job_keeps_raw_data_when_it_names_no_campaign() {
        for raw in [
            r#"{"jobUuid":"nope"}"#,
            r#"{"other":1}"#,
            "not json",
            r#"{"jobUuid":5}"#,
        ] {
            let job = taken_job("1".into(), "t".into(), &hash(&[("data", raw)]));
            assert_eq!(job.campaign, Err(raw.to_owned()));
            assert_eq!(job.attempts_made, 0);
        }
        let job = taken_job("1".into(), "t".into(), &hash(&[]));
        assert_eq!(job.campaign, Err(String::new()));
    }

    #[test]
    fn lock_codes_map_to_lock_lost() {
        assert!(finish_code(0, "1").is_ok());
        assert!(matches!(finish_code(-2, "1"), Err(QueueError::LockLost)));
        assert!(matches!(finish_code(-6, "1"), Err(QueueError::LockLost)));
        assert!(matches!(finish_code(-1, "1"), Err(QueueError::LockLost)));
        assert!(matches!(finish_code(-3, "1"), Err(QueueError::Unknown(_))));
    }

    #[test]
    fn default_settings_match_bull_and_the_contract() {
        let settings = QueueSettings::default();
        assert_eq!(settings.prefix, "bull");
        assert_eq!(settings.queue_name, "email-queue");
        assert_eq!(settings.lock_duration, Duration::from_secs(30));
        assert_eq!(settings.stalled_interval, Duration::from_secs(30));
        assert_eq!(settings.max_stalled_count, 1);
        assert_eq!(settings.job_attempts, 5);
        assert_eq!(settings.backoff_delay, Duration::from_secs(10));
    }
}
