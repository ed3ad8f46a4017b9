//! The shards of campaigns in memory, leases timed by tokio's clock (paused in tests).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use paloma_domain::{CampaignId, CampaignStatus, RecipientId, RecipientStatus};

use super::{FakeRepo, lock};
use crate::ports::{RepositoryError, Shard, ShardLease, ShardLedger};

/// One stored shard: its range, its lease (token and end) if any, whether it is done.
#[derive(Debug, Clone)]
struct Stored {
    after: Option<RecipientId>,
    through: Option<RecipientId>,
    lease: Option<(String, Instant)>,
    done: bool,
}

/// Every campaign's shards, by campaign and number.
#[derive(Debug, Default)]
pub struct FakeShards {
    all: Mutex<BTreeMap<(CampaignId, u32), Stored>>,
    next_token: AtomicU64,
    /// Leases ever granted, for the tests: (campaign, shard number, holder).
    pub leases: Mutex<Vec<(CampaignId, u32, String)>>,
}

impl FakeShards {
    /// Removes the campaign's shards (it ended).
    pub(super) fn remove(&self, id: CampaignId) {
        lock(&self.all).retain(|(c, _), _| *c != id);
    }

    fn holds(stored: &Stored, token: &str) -> bool {
        !stored.done && stored.lease.as_ref().is_some_and(|(t, _)| t == token)
    }
}

impl ShardLedger for FakeRepo {
    async fn plan_shards(&self, id: CampaignId, size: u32) -> Result<u32, RepositoryError> {
        self.check()?;
        // Locks in the order the rest of the fake takes them: recipients, campaigns, shards.
        let pending: Vec<RecipientId> = lock(&self.recipients)
            .values()
            .filter(|r| r.campaign_id == id && r.status == RecipientStatus::Pending)
            .map(|r| r.id)
            .collect();
        let mut all = lock(&self.shards.all);
        let open = all.iter().filter(|((c, _), s)| *c == id && !s.done).count();
        if open > 0 {
            return Ok(open as u32);
        }
        all.retain(|(c, _), _| *c != id);
        if size == 0 || pending.len() <= size as usize {
            return Ok(0);
        }
        let chunks: Vec<&[RecipientId]> = pending.chunks(size as usize).collect();
        let mut after = None;
        for (number, chunk) in chunks.iter().enumerate() {
            let last = chunk.last().copied();
            let through = if number + 1 == chunks.len() {
                None
            } else {
                last
            };
            all.insert(
                (id, number as u32),
                Stored {
                    after,
                    through,
                    lease: None,
                    done: false,
                },
            );
            after = last;
        }
        Ok(chunks.len() as u32)
    }

    async fn lease_shard(
        &self,
        campaign: Option<CampaignId>,
        except: &[CampaignId],
        holder: &str,
        lease: Duration,
    ) -> Result<Option<ShardLease>, RepositoryError> {
        self.check()?;
        let processing: Vec<CampaignId> = lock(&self.campaigns)
            .iter()
            .filter(|(_, c)| c.0.status == CampaignStatus::Processing)
            .map(|(id, _)| *id)
            .collect();
        let now = Instant::now();
        let mut all = lock(&self.shards.all);
        let free = all.iter_mut().find(|((c, _), s)| {
            !s.done
                && s.lease.as_ref().is_none_or(|(_, until)| *until <= now)
                && campaign.is_none_or(|only| only == *c)
                && !except.contains(c)
                && processing.contains(c)
        });
        let Some((&(id, number), stored)) = free else {
            return Ok(None);
        };
        let token = format!(
            "lease-{}",
            self.shards.next_token.fetch_add(1, Ordering::Relaxed)
        );
        stored.lease = Some((token.clone(), now + lease));
        lock(&self.shards.leases).push((id, number, holder.to_owned()));
        Ok(Some(ShardLease {
            shard: Shard {
                campaign: id,
                number,
                after: stored.after,
                through: stored.through,
            },
            token,
        }))
    }

    async fn renew_shard(
        &self,
        lease: &ShardLease,
        duration: Duration,
    ) -> Result<bool, RepositoryError> {
        self.check()?;
        let mut all = lock(&self.shards.all);
        match all.get_mut(&(lease.shard.campaign, lease.shard.number)) {
            Some(stored) if FakeShards::holds(stored, &lease.token) => {
                stored.lease = Some((lease.token.clone(), Instant::now() + duration));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn finish_shard(&self, lease: &ShardLease) -> Result<bool, RepositoryError> {
        self.check()?;
        let mut all = lock(&self.shards.all);
        match all.get_mut(&(lease.shard.campaign, lease.shard.number)) {
            Some(stored) if FakeShards::holds(stored, &lease.token) => {
                stored.done = true;
                stored.lease = None;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn release_shard(&self, lease: &ShardLease) -> Result<(), RepositoryError> {
        self.check()?;
        let mut all = lock(&self.shards.all);
        if let Some(stored) = all.get_mut(&(lease.shard.campaign, lease.shard.number))
            && FakeShards::holds(stored, &lease.token)
        {
            stored.lease = None;
        }
        Ok(())
    }

    async fn open_shards(&self, id: CampaignId) -> Result<u32, RepositoryError> {
        self.check()?;
        let all = lock(&self.shards.all);
        Ok(all.iter().filter(|((c, _), s)| *c == id && !s.done).count() as u32)
    }
}
