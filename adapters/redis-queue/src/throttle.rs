//! [`RedisSendThrottle`]: a send rate shared by every worker through one Redis key.

use std::sync::Arc;
use std::time::Duration;

use paloma_application::{QueueError, SendSlot, SendThrottle};
use paloma_domain::SendRate;

use crate::error::redis_error;
use crate::pool::Shared;
use crate::scripts::ReserveSendSlot;

/// Slots may be reserved up to this far ahead; callers beyond it wait and ask again, so a
/// worker that stops does not leave a long line of reserved, unused slots.
const HORIZON: Duration = Duration::from_secs(2);

/// At most `rate` messages leave, across every worker that uses the same queue prefix and name
/// (key `<prefix>:<queue>::send-throttle`). Times come from the Redis server's clock.
/// Made by [`RedisJobQueue::send_throttle`](crate::RedisJobQueue::send_throttle).
#[derive(Debug, Clone)]
pub struct RedisSendThrottle {
    shared: Arc<Shared>,
    key: String,
    interval_us: u64,
    horizon_us: u64,
}

impl RedisSendThrottle {
    pub(crate) fn new(shared: Arc<Shared>, rate: SendRate) -> Self {
        let interval_us = micros(rate.interval());
        Self {
            key: shared.keys.send_throttle(),
            shared,
            interval_us,
            // At least one interval ahead, so a slow rate (1/10s) can still reserve its next slot.
            horizon_us: interval_us.max(micros(HORIZON)),
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl SendThrottle for RedisSendThrottle {
    async fn reserve(&self) -> Result<SendSlot, QueueError> {
        let mut conn = self.shared.conn().await?;
        ReserveSendSlot {
            key: &self.key,
            interval_us: self.interval_us,
            horizon_us: self.horizon_us,
        }
        .invoke(&mut conn)
        .await
        .map_err(redis_error)
    }
}
