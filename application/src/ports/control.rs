//! What a pause or a cancel asks of the queue: fencing the campaign's jobs while the move is
//! stored, and stopping the worker that sends it.

use std::future::Future;

use paloma_domain::CampaignId;

/// What fencing a campaign found ([`JobProducer::fence`](super::JobProducer::fence)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fence {
    /// A worker that cannot be asked to stop holds a job of the campaign; nothing was fenced.
    HeldElsewhere,
    /// This many of the campaign's jobs (waiting or delayed) are out of every worker's reach.
    Fenced { jobs: u32 },
}

/// How a fence ends ([`JobProducer::unfence`](super::JobProducer::unfence)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FenceEnd {
    /// The move is stored: the fenced jobs are done.
    Settle,
    /// The move did not happen: the fenced jobs go back where they were.
    Restore,
}

/// What became of a request that workers stop sending a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopAnswer {
    /// No worker was sending it (none held its claim nor a shard of it, or the holder let go
    /// while asked).
    NotSending,
    /// Every worker sending it (its job, or shards of it) confirmed that it starts no new
    /// message: at most the messages already in flight (no more than each one's concurrency)
    /// still leave.
    Stopped,
    /// A worker sending it did not confirm in time (it is hung, cut off from Redis or dead).
    /// It reads the status when it next writes outcomes, or loses its lock or lease.
    Unconfirmed,
}

/// A request that this worker stop sending one campaign (see [`JobProducer::stop_sending`](super::JobProducer::stop_sending)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StopRequest {
    pub campaign: CampaignId,
    /// Where the confirmation goes.
    pub reply_to: String,
}

/// The stop requests a worker listens to, in the order they were made.
pub trait StopRequests: Send + 'static {
    /// The next request; `None` once the subscription is lost (subscribe again).
    fn next(&mut self) -> impl Future<Output = Option<StopRequest>> + Send;
}
