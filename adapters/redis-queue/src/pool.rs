//! The connections of one queue: a bb8 pool for the scripts, shared by every handle of the
//! queue, and a dedicated connection without a response timeout for a consumer's blocking
//! take.

use std::sync::Arc;
use std::time::Duration;

use bb8::{Pool, PooledConnection};
use bb8_redis::RedisConnectionManager;
use paloma_application::QueueError;
use redis::AsyncConnectionConfig;
use redis::aio::MultiplexedConnection;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::error::{pool_error, redis_error};
use crate::keys::Keys;
use crate::settings::QueueSettings;

/// How long a blocking take may overrun its own timeout before the connection is declared
/// dead (the blocking connection has no response timeout of its own).
const BLOCKING_GRACE: Duration = Duration::from_secs(5);

/// What every handle of one queue shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub settings: QueueSettings,
    client: redis::Client,
    pool: Pool<RedisConnectionManager>,
    pub keys: Keys,
    /// This process's identity in bull's event channels (`waiting@<token>`, `active@<token>`).
    pub token: String,
}

impl Shared {
    /// Builds the pool (connections are opened on first use).
    ///
    /// `Unknown` when the URL is invalid.
    pub fn new(settings: QueueSettings) -> Result<Self, QueueError> {
        let client = redis::Client::open(settings.redis_url.as_str())
            .map_err(|err| QueueError::Unknown(format!("invalid Redis URL: {err}")))?;
        let manager = RedisConnectionManager::new(settings.redis_url.as_str())
            .map_err(|err| QueueError::Unknown(format!("invalid Redis URL: {err}")))?;
        let pool = Pool::builder()
            .max_size(settings.pool_size.max(1))
            .connection_timeout(settings.connect_timeout)
            .build_unchecked(manager);
        let keys = Keys::new(&settings.prefix, &settings.queue_name);
        Ok(Self {
            settings,
            client,
            pool,
            keys,
            token: Uuid::now_v7().to_string(),
        })
    }

    /// A pooled connection; `Unavailable` when none can be had within the connect timeout.
    pub async fn conn(&self) -> Result<PooledConnection<'_, RedisConnectionManager>, QueueError> {
        self.pool.get().await.map_err(pool_error)
    }

    /// A connection of its own for a subscription (a subscribed connection can do nothing
    /// else); `Unavailable` when it cannot be opened within the connect timeout.
    pub async fn pubsub(&self) -> Result<redis::aio::PubSub, QueueError> {
        match tokio::time::timeout(
            self.settings.connect_timeout,
            self.client.get_async_pubsub(),
        )
        .await
        {
            Ok(connected) => connected.map_err(redis_error),
            Err(_) => Err(QueueError::Unavailable(
                "timed out connecting to Redis for a subscription".into(),
            )),
        }
    }

    /// Checks that Redis answers.
    pub async fn ping(&self) -> Result<(), QueueError> {
        let mut conn = self.conn().await?;
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
}

/// A consumer's dedicated connection for a blocking command (the move `wait -> active`, the
/// take of a test send), opened on first use and dropped (to be opened again) after any error.
/// Clones share it, so blocking commands through clones are serialized.
#[derive(Debug, Clone)]
pub(crate) struct BlockingConnection {
    shared: Arc<Shared>,
    slot: Arc<Mutex<Option<MultiplexedConnection>>>,
}

impl BlockingConnection {
    pub fn new(shared: Arc<Shared>) -> Self {
        Self {
            shared,
            slot: Arc::new(Mutex::new(None)),
        }
    }

    /// Blocks up to `timeout` for the next waiting id, moving it to active. `None` when the
    /// wait ran out.
    pub async fn move_next(&self, timeout: Duration) -> Result<Option<String>, QueueError> {
        let keys = &self.shared.keys;
        let cmd = if timeout.is_zero() {
            let mut cmd = redis::cmd("RPOPLPUSH");
            cmd.arg(&keys.wait).arg(&keys.active);
            cmd
        } else {
            // BRPOPLPUSH (Redis 2.2+, fractional timeouts 6.0+) rather than BLMOVE (6.2+):
            // docs/bull-protocol.md, "Taking a job" and "Redis version".
            let mut cmd = redis::cmd("BRPOPLPUSH");
            cmd.arg(&keys.wait)
                .arg(&keys.active)
                .arg(format!("{:.3}", timeout.as_secs_f64().max(0.001)));
            cmd
        };
        self.run(cmd, timeout).await
    }

    /// Blocks up to `timeout` (at least a millisecond) for the first element of the list
    /// `key`, and removes it. `None` when the wait ran out.
    pub async fn pop_first(
        &self,
        key: &str,
        timeout: Duration,
    ) -> Result<Option<String>, QueueError> {
        let mut cmd = redis::cmd("BLPOP");
        cmd.arg(key)
            .arg(format!("{:.3}", timeout.as_secs_f64().max(0.001)));
        let popped: Option<(String, String)> = self.run(cmd, timeout).await?;
        Ok(popped.map(|(_, value)| value))
    }

    /// Runs one blocking command that waits up to `timeout` on the dedicated connection.
    async fn run<T: redis::FromRedisValue>(
        &self,
        cmd: redis::Cmd,
        timeout: Duration,
    ) -> Result<T, QueueError> {
        let shared = &self.shared;
        let mut slot = self.slot.lock().await;
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
        let outcome =
            tokio::time::timeout(timeout + BLOCKING_GRACE, cmd.query_async::<T>(conn)).await;
        match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(err)) => {
                *slot = None;
                Err(redis_error(err))
            }
            Err(_) => {
                *slot = None;
                Err(QueueError::Unavailable(
                    "Redis did not answer a blocking command in time".into(),
                ))
            }
        }
    }
}
