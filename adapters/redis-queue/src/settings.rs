//! [`QueueSettings`]: where the queue lives and how its jobs behave.

use std::time::Duration;

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
    /// How many completed jobs the queue keeps, stored as bull's `removeOnComplete` in the
    /// options of the jobs this producer adds: completing a job deletes the completed jobs
    /// beyond the newest `keep_completed` (their hashes and their entries in `completed`);
    /// 0 deletes each job as it completes.
    pub keep_completed: u32,
    /// How many failed jobs the queue keeps (bull's `removeOnFail`), as `keep_completed`.
    pub keep_failed: u32,
    /// Maximum number of pooled connections (blocking takes use their own connection).
    pub pool_size: u32,
    /// How long an operation waits for a pooled connection (or a new connection) before it
    /// reports the queue unavailable.
    pub connect_timeout: Duration,
}

impl QueueSettings {
    /// Bull's defaults and Paloma's queue name for the Redis server at `redis_url`, except
    /// that finished jobs are not kept forever (bull's default): the newest 1,000 completed
    /// and 5,000 failed ones are.
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
            keep_completed: 1000,
            keep_failed: 5000,
            pool_size: 16,
            connect_timeout: Duration::from_secs(3),
        }
    }

    /// The lock duration in whole milliseconds, at least 1 (what `PX` accepts).
    pub(crate) fn lock_millis(&self) -> u64 {
        millis(self.lock_duration).max(1)
    }
}

impl Default for QueueSettings {
    /// [`QueueSettings::new`] for `redis://127.0.0.1:6379`.
    fn default() -> Self {
        Self::new("redis://127.0.0.1:6379")
    }
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(settings.keep_completed, 1000);
        assert_eq!(settings.keep_failed, 5000);
    }
}
