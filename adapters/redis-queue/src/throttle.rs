//! [`RedisSendThrottle`]: a send rate shared by every worker through one Redis key.

use std::sync::Arc;
use std::time::Duration;

use paloma_application::{QueueError, SendSlot, SendThrottle};
use paloma_domain::SendRate;
use redis::Script;

use crate::{RedisJobQueue, Shared, redis_error};

/// Slots may be reserved up to this far ahead; callers beyond it wait and ask again, so a
/// worker that stops does not leave a long line of reserved, unused slots.
const HORIZON: Duration = Duration::from_secs(2);

/// At most `rate` messages leave, across every worker that uses the same queue prefix and name
/// (key `<prefix>:<queue>:send-throttle`). Times come from the Redis server's clock.
#[derive(Debug, Clone)]
pub struct RedisSendThrottle {
    shared: Arc<Shared>,
    key: String,
    interval_us: u64,
    horizon_us: u64,
    script: Arc<Script>,
}

impl RedisJobQueue {
    /// A throttle holding this queue's workers to `rate` together.
    pub fn send_throttle(&self, rate: SendRate) -> RedisSendThrottle {
        let interval_us = u64::try_from(rate.interval().as_micros()).unwrap_or(u64::MAX);
        RedisSendThrottle {
            key: format!("{}:send-throttle", self.shared.keys.base),
            shared: Arc::clone(&self.shared),
            interval_us,
            // At least one interval ahead, so a slow rate (1/10s) can still reserve its next slot.
            horizon_us: interval_us.max(micros(HORIZON)),
            script: Arc::new(Script::new(include_str!("lua/throttle.lua"))),
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl SendThrottle for RedisSendThrottle {
    async fn reserve(&self) -> Result<SendSlot, QueueError> {
        let mut conn = self.shared.conn().await?;
        let (reserved, us): (i64, i64) = self
            .script
            .key(&self.key)
            .arg(self.interval_us)
            .arg(self.horizon_us)
            .invoke_async(&mut *conn)
            .await
            .map_err(redis_error)?;
        let wait = Duration::from_micros(u64::try_from(us).unwrap_or(0));
        Ok(if reserved == 1 {
            SendSlot::After(wait)
        } else {
            SendSlot::Busy(wait)
        })
    }
}
