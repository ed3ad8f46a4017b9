//! Many workers on one campaign.
//!
//! A campaign with more than `shard_size` pending recipients is split into shards, ranges of
//! recipient ids kept in the database ([`ShardLedger`]). The worker that holds the campaign's
//! queue job makes them and sends them one after another; every other worker with room for
//! one more campaign leases a shard too ([`Worker::help`]), so the campaign goes as fast as all
//! of them together. A lease lasts `shard_lease` and is renewed every third of that while the
//! shard is sent; a worker that cannot renew in time stops starting messages before its lease
//! can run out, so no recipient is ever sent by two workers at once except the messages in
//! flight when a worker dies or is cut off (its shard is leased again once the lease runs
//! out). A shard's run is one pass over its range: the retries not yet due are sent by the job
//! holder once every shard is done, as in a campaign never split. Pauses, cancels and the
//! failure threshold stop every worker on the campaign alike: each registers the campaign for
//! stop requests and reads the counters each time it writes.

use std::sync::Arc;
use std::time::Duration;

use paloma_domain::{CampaignId, CampaignStatus, MessageTemplate};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

use super::campaign::Run;
use super::pace::{LeaseDeadline, Stop, ended, interrupted};
use super::stops::Registered;
use super::{RunError, RunOutcome, Worker, WorkerPorts, error_chain, metrics};
use crate::ports::{CampaignStore, MessageSender, RepositoryError, ShardLease, ShardLedger};

/// The longest wait of the job holder for shards that other workers hold, before it looks
/// again (for one to finish, or one whose worker died to become free).
const OTHERS_SHARDS_POLL: Duration = Duration::from_millis(500);

/// The message of a run, ready to render.
type Message = (Arc<MessageTemplate>, Arc<MessageSender>);

impl<P: WorkerPorts> Worker<P> {
    /// Leases a free shard of a campaign this worker does not send yet, if there is one, and
    /// registers the campaign as one it sends (before the next look, so that a worker never
    /// holds two shards of one campaign at once).
    pub(super) async fn lease_any_shard(&self) -> Option<(ShardLease, Instant, Registered)> {
        if self.settings.shard_size == 0 {
            return None;
        }
        let except = self.sending.campaigns();
        let asked = Instant::now();
        match self
            .ledger
            .lease_shard(
                None,
                &except,
                &self.settings.identity.id,
                self.settings.shard_lease,
            )
            .await
        {
            Ok(lease) => lease.map(|lease| {
                let registered = self.sending.register(lease.shard.campaign);
                (lease, asked, registered)
            }),
            Err(e) => {
                debug!(error = %e, "could not look for a shard to send");
                None
            }
        }
    }

    /// Leases a free shard of `campaign`, for this worker.
    fn lease_of(
        &self,
        campaign: CampaignId,
    ) -> impl Future<Output = Result<Option<ShardLease>, RepositoryError>> + Send + '_ {
        self.ledger.lease_shard(
            Some(campaign),
            &[],
            &self.settings.identity.id,
            self.settings.shard_lease,
        )
    }

    /// Sends a shard of another worker's campaign, then the campaign's next free shards, until
    /// none is free, the campaign stops or the worker shuts down.
    pub(super) async fn help(
        &self,
        first: ShardLease,
        leased_at: Instant,
        registered: Registered,
        shutdown: CancellationToken,
    ) {
        let campaign = first.shard.campaign;
        let span = info_span!("campaign_shards", campaign_id = %campaign);
        async {
            let _active = metrics::Held::new(metrics::CAMPAIGNS_ACTIVE);
            let (mut lease, mut leased_at) = (first, leased_at);
            loop {
                let lost = CancellationToken::new();
                let stop = Stop {
                    shutdown: &shutdown,
                    lock_lost: &lost,
                    halt: &registered.token,
                    lease: None,
                };
                match self.send_leased(&lease, leased_at, stop, None).await {
                    Ok(RunOutcome::PassDone) => {}
                    Ok(outcome) => {
                        info!(shard = lease.shard.number, ?outcome, "stopped sending the campaign's shards");
                        return;
                    }
                    Err(e) => {
                        error!(shard = lease.shard.number, error = %error_chain(&e), "a shard's run failed; its lease was given up");
                        return;
                    }
                }
                if stop.requested() {
                    return;
                }
                let asked = Instant::now();
                let next = self.lease_of(campaign).await;
                match next {
                    Ok(Some(next)) => (lease, leased_at) = (next, asked),
                    Ok(None) => return,
                    Err(e) => {
                        debug!(error = %e, "could not lease the campaign's next shard");
                        return;
                    }
                }
            }
        }
        .instrument(span)
        .await;
    }

    /// The job holder's part of a split campaign: splits it (or finds the shards a previous run
    /// left), then sends shards until none is unfinished, waiting for those other workers hold.
    /// `None`: every shard is done and the campaign still sends; the run goes on with the
    /// recipients left (retries). `Some`: how the run ends.
    pub(super) async fn send_shards(
        &self,
        id: CampaignId,
        template: &Arc<MessageTemplate>,
        sender: &Arc<MessageSender>,
        stop: Stop<'_>,
    ) -> Result<Option<RunOutcome>, RunError> {
        let size = self.settings.shard_size;
        let planned = self
            .patiently("splitting the campaign", stop, || {
                self.ledger.plan_shards(id, size)
            })
            .await;
        match planned {
            Ok(0) => return Ok(None),
            Ok(open) => info!(
                shards = open,
                size, "campaign split into shards for every worker"
            ),
            Err(e) => return interrupted(e, stop).map(Some),
        }
        loop {
            if let Some(outcome) = stop.outcome() {
                return Ok(Some(outcome));
            }
            let asked = Instant::now();
            let leased = self
                .patiently("leasing a shard", stop, || self.lease_of(id))
                .await;
            match leased {
                Ok(Some(lease)) => {
                    // The shard stops when its lease is lost, and when the job's lock is.
                    let lost = stop.lock_lost.child_token();
                    let shard_stop = Stop {
                        lock_lost: &lost,
                        ..stop
                    };
                    let message = Some((template.clone(), sender.clone()));
                    match self.send_leased(&lease, asked, shard_stop, message).await? {
                        RunOutcome::PassDone => {}
                        // Only the shard's lease: its recipients go to whoever leases it.
                        RunOutcome::LockLost if !stop.lock_lost.is_cancelled() => {
                            warn!(
                                shard = lease.shard.number,
                                "lost a shard's lease; going on with the others"
                            );
                        }
                        outcome => return Ok(Some(outcome)),
                    }
                }
                Ok(None) => match self.ledger.open_shards(id).await {
                    Ok(0) => return self.after_shards(id, stop).await,
                    // Other workers hold them: wait for them to finish, or for a lease to run
                    // out.
                    Ok(_) | Err(_) => {
                        stop.sleep(OTHERS_SHARDS_POLL.min(self.settings.shard_lease / 4))
                            .await;
                    }
                },
                Err(e) => return interrupted(e, stop).map(Some),
            }
        }
    }

    /// Every shard is done: whether the campaign still sends (`None`), or ended or was paused
    /// meanwhile (another worker passed the failure threshold, a user stopped it).
    async fn after_shards(
        &self,
        id: CampaignId,
        stop: Stop<'_>,
    ) -> Result<Option<RunOutcome>, RunError> {
        let campaign = match self
            .patiently("reading the campaign", stop, || self.ledger.get(id))
            .await
        {
            Ok(Some(campaign)) => campaign,
            Ok(None) => return Err(RunError::NotFound),
            Err(e) => return interrupted(e, stop).map(Some),
        };
        Ok(match campaign.status {
            CampaignStatus::Processing => None,
            status if status.is_final() => Some(ended(status)),
            _ => Some(RunOutcome::Halted),
        })
    }

    /// Sends one leased shard while a task renews its lease, then settles the lease: marked
    /// finished after a full pass, given up otherwise (so another worker may take it at once),
    /// left alone when it was lost.
    async fn send_leased(
        &self,
        lease: &ShardLease,
        leased_at: Instant,
        stop: Stop<'_>,
        message: Option<Message>,
    ) -> Result<RunOutcome, RunError> {
        debug!(shard = lease.shard.number, "sending a shard");
        let _leased = metrics::Held::new(metrics::SHARDS_LEASED);
        let duration = self.settings.shard_lease;
        let deadline = Arc::new(LeaseDeadline::new(leased_at + valid_for(duration)));
        let renewer = tokio::spawn(keep_lease(
            self.ledger.clone(),
            lease.clone(),
            deadline.clone(),
            duration,
            stop.lock_lost.clone(),
        ));
        let leased = Stop {
            lease: Some(&deadline),
            ..stop
        };
        let result = self.send_shard(lease, leased, message).await;
        renewer.abort();
        let settled = match &result {
            Ok(RunOutcome::PassDone) => self.ledger.finish_shard(lease).await.map(|ours| {
                if !ours {
                    warn!(shard = lease.shard.number, "a shard was done after its lease ran out; the worker that leased it next finds it sent");
                }
            }),
            Ok(RunOutcome::LockLost) => Ok(()),
            _ => self.ledger.release_shard(lease).await,
        };
        if let Err(e) = settled {
            warn!(shard = lease.shard.number, error = %e, "could not settle a shard's lease; it is free again once it runs out");
        }
        result
    }

    /// One pass over a leased shard's recipients. A helper reads the campaign first: it sends
    /// only while the campaign is `PROCESSING` and under the failure threshold.
    async fn send_shard(
        &self,
        lease: &ShardLease,
        stop: Stop<'_>,
        message: Option<Message>,
    ) -> Result<RunOutcome, RunError> {
        let id = lease.shard.campaign;
        let (template, sender) = match message {
            Some(message) => message,
            None => {
                let campaign = match self
                    .patiently("reading the campaign", stop, || self.ledger.get(id))
                    .await
                {
                    Ok(Some(campaign)) => campaign,
                    Ok(None) => return Err(RunError::NotFound),
                    Err(e) => return interrupted(e, stop),
                };
                if campaign.status != CampaignStatus::Processing {
                    return Ok(RunOutcome::Halted);
                }
                if let Some(reason) = self.threshold_passed(&campaign) {
                    return self.abandon(id, &reason, stop).await;
                }
                match self.prepare(&campaign, stop).await {
                    Ok(message) => message,
                    Err(ended) => return ended,
                }
            }
        };
        Run::new(self, id, stop, template, sender)
            .within(&lease.shard)
            .drive()
            .await
    }
}

/// How long a lease surely holds after it was asked for: its duration less a tenth, a margin
/// for clocks that run at slightly different rates.
fn valid_for(duration: Duration) -> Duration {
    duration - duration / 10
}

/// Renews `lease` every third of `duration` until aborted, moving `deadline` on after each
/// renewal (measured from before the request, so always before the store's own clock lets
/// another worker take the shard). Cancels `lost` once the lease is no longer this worker's,
/// or once `deadline` passes without a renewal.
async fn keep_lease<L: ShardLedger>(
    ledger: Arc<L>,
    lease: ShardLease,
    deadline: Arc<LeaseDeadline>,
    duration: Duration,
    lost: CancellationToken,
) {
    loop {
        tokio::time::sleep_until((Instant::now() + duration / 3).min(deadline.get())).await;
        if deadline.passed() {
            warn!(
                shard = lease.shard.number,
                "a shard's lease could not be renewed in time; no new message of it starts"
            );
            lost.cancel();
            return;
        }
        let asked = Instant::now();
        match tokio::time::timeout_at(deadline.get(), ledger.renew_shard(&lease, duration)).await {
            Ok(Ok(true)) => deadline.set(asked + valid_for(duration)),
            Ok(Ok(false)) => {
                warn!(
                    shard = lease.shard.number,
                    "a shard's lease went to another worker"
                );
                lost.cancel();
                return;
            }
            // Tried again at the next third, while the lease lasts.
            Ok(Err(e)) => {
                warn!(shard = lease.shard.number, error = %e, "could not renew a shard's lease");
            }
            Err(_) => {}
        }
    }
}
