//! Many workers on one campaign: a large campaign's recipients are split into shards (ranges
//! of recipient ids) that any worker may lease for a while and send. The campaign's queue job
//! stays one job; its holder makes the shards, sends shards too, and finishes the campaign
//! once every shard is done. See `docs/architecture.md`.

use std::future::Future;
use std::time::Duration;

use paloma_domain::{CampaignId, RecipientId};

use super::RepositoryError;

/// One shard: the recipients of `campaign` whose id is greater than `after` (the first shard:
/// any) and at most `through` (the last shard: any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shard {
    pub campaign: CampaignId,
    /// 0 for the first shard of the campaign, then 1, 2...
    pub number: u32,
    pub after: Option<RecipientId>,
    pub through: Option<RecipientId>,
}

/// A shard leased by one worker: no other worker may lease it until the lease runs out
/// (unless it is renewed) or is given up. `token` tells this lease from any other of the same
/// shard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardLease {
    pub shard: Shard,
    pub token: String,
}

/// Where the shards of campaigns and their leases are kept (MySQL in production). Lease times
/// are the store's own clock, so the workers' clocks need not agree. A campaign's shards are
/// removed when it ends (`COMPLETED`, `FAILED` or `CANCELLED`): a retry of its failed
/// recipients is split anew.
pub trait ShardLedger: Send + Sync + 'static {
    /// Splits the campaign's `PENDING` recipients, in id order, into shards of `size`, unless
    /// it has unfinished shards already (a run that resumes after a crash or a pause keeps
    /// them, whatever `size` and the number pending are now: other workers may be sending
    /// them). Returns how many shards are unfinished: 0 when it had none and has at most
    /// `size` pending recipients, or `size` is 0 (it is not split).
    fn plan_shards(
        &self,
        id: CampaignId,
        size: u32,
    ) -> impl Future<Output = Result<u32, RepositoryError>> + Send;

    /// Leases an unfinished shard that no one holds (never leased, given up, or its lease
    /// run out) of a `PROCESSING` campaign, for `lease` from now: of `campaign` alone when
    /// given, otherwise of any campaign not in `except`. Lowest shard number first. `holder`
    /// names the worker (for the logs and `GET /api/queue`). `None`: no shard is free.
    fn lease_shard(
        &self,
        campaign: Option<CampaignId>,
        except: &[CampaignId],
        holder: &str,
        lease: Duration,
    ) -> impl Future<Output = Result<Option<ShardLease>, RepositoryError>> + Send;

    /// Extends the lease to `lease` from now. False when it is no longer this lease (it ran
    /// out and another worker leased the shard, or the shard is finished or gone).
    fn renew_shard(
        &self,
        lease: &ShardLease,
        duration: Duration,
    ) -> impl Future<Output = Result<bool, RepositoryError>> + Send;

    /// Marks the shard finished: every recipient in it was tried once (those to retry later
    /// are the job holder's). False when it is no longer this lease.
    fn finish_shard(
        &self,
        lease: &ShardLease,
    ) -> impl Future<Output = Result<bool, RepositoryError>> + Send;

    /// Gives the lease up, so that another worker may lease the shard at once.
    fn release_shard(
        &self,
        lease: &ShardLease,
    ) -> impl Future<Output = Result<(), RepositoryError>> + Send;

    /// How many shards of the campaign are unfinished, leased or not.
    fn open_shards(
        &self,
        id: CampaignId,
    ) -> impl Future<Output = Result<u32, RepositoryError>> + Send;
}
