//! The campaign queue on Redis, wire-compatible with Node's `bull` 4.x.
//!
//! [`RedisJobQueue`] is the producer ([`JobProducer`](paloma_application::JobProducer)): it adds
//! jobs exactly as a Node `queue.add({ jobUuid }, { attempts, backoff })` would store them.
//! [`RedisJobConsumer`] is the worker side ([`JobConsumer`](paloma_application::JobConsumer)):
//! it takes jobs with a blocking move `wait -> active`, locks them with a token and a TTL,
//! renews, completes, fails (with bull's exponential backoff through the `delayed` zset) or
//! releases them, and runs bull's housekeeping (promotion of due delayed jobs, the stalled-job
//! check). Node bull producers and workers can share the queue with it.
//! [`RedisSendThrottle`] holds every worker of the queue to one send rate.
//!
//! Every state change is one Lua script of this crate (`src/lua/`, called through the typed
//! wrappers of `scripts.rs`), written from the protocol description in `docs/bull-protocol.md`;
//! times inside the scripts come from the Redis server's clock (`TIME`), so all workers agree
//! on "now" (docs/bull-protocol.md, "Clocks").
//!
//! - `settings.rs`: [`QueueSettings`].
//! - `pool.rs`: the connection pool every handle shares, and a consumer's blocking connection.
//! - `producer.rs`, `consumer.rs`, `throttle.rs`: the three handles.
//! - `scripts.rs`: one typed call per Lua script; `keys.rs`: the Redis key names.
//! - `stops.rs`: asking the worker that sends a campaign to stop (pause, cancel), and its
//!   answer.
//! - `test_sends.rs`: handing a test message to one worker, and its answer.
//! - `monitor.rs`: the job counts and the workers' heartbeats.
//! - `wire.rs`: the job's fields as written and read (data, options, hash).
//! - `error.rs`: Redis errors and script refusals as [`QueueError`](paloma_application::QueueError).

mod consumer;
mod error;
mod keys;
mod monitor;
mod pool;
mod producer;
mod scripts;
mod settings;
mod stops;
mod test_sends;
mod throttle;
mod wire;

pub use consumer::RedisJobConsumer;
pub use producer::RedisJobQueue;
pub use settings::QueueSettings;
pub use stops::RedisStops;
pub use throttle::RedisSendThrottle;
