//! The API-side moves of a campaign once stored: send a draft (or a scheduled campaign now),
//! reschedule, pause, resume, cancel, and retry the failed. Each is one conditional change in the store (so concurrent moves on one
//! campaign happen one after the other), then what the move needs from the queue (a job for a
//! campaign to send, a worker told to stop), then an entry in the audit trail.

use std::time::Duration;

use chrono::{DateTime, Utc};
use paloma_domain::{
    Action, Actor, Campaign, CampaignId, CampaignStatus, Control, NewCampaignError, RetryScope,
    ScheduleError, Scope, check_schedule,
};
use tracing::{info, warn};

use crate::campaigns::CampaignService;
use crate::ports::{
    ActivityLog, CampaignStore, Clock, Fence, FenceEnd, JobProducer, RepositoryError, StopAnswer,
};

/// How long a pause or a cancel waits for the worker sending the campaign to confirm that it
/// starts no new message. A live worker answers in milliseconds; one that does not answer in
/// this time is hung or cut off from Redis (see [`StopAnswer::Unconfirmed`]).
pub const STOP_WAIT: Duration = Duration::from_secs(3);

/// The answer to a user's move on a campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct Controlled {
    pub campaign: Campaign,
    /// Whether the queue job was added now, for a move that sends (see
    /// [`CreatedCampaign::enqueued`](crate::CreatedCampaign::enqueued)); false otherwise.
    pub enqueued: bool,
    /// For a pause or a cancel: what the worker sending the campaign answered. `None` for the
    /// other moves, and when the queue could not be asked.
    pub stop: Option<StopAnswer>,
}

/// The answer to "retry the failed".
#[derive(Debug, Clone, PartialEq)]
pub struct Retried {
    pub campaign: Campaign,
    /// Recipients moved from `FAILED` back to `PENDING`.
    pub requeued: u32,
    /// Whether the queue job was added now (see
    /// [`CreatedCampaign::enqueued`](crate::CreatedCampaign::enqueued)); false when nothing
    /// was retried.
    pub enqueued: bool,
}

/// Why a move on a campaign was refused.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error("campaign not found")]
    NotFound,
    /// The campaign's status does not allow the move; nothing changed.
    #[error("the campaign is {0}")]
    InvalidState(CampaignStatus),
    /// The new send time is in the past or too far ahead; nothing changed.
    #[error(transparent)]
    InvalidSchedule(ScheduleError),
    /// An edit that breaks the rules of a new campaign; nothing changed.
    #[error(transparent)]
    Invalid(NewCampaignError),
    /// The move needs a scope the actor lacks (editing a scheduled campaign needs
    /// `campaigns:send`); nothing changed.
    #[error("the key lacks the {0} scope")]
    MissingScope(Scope),
    /// A worker that cannot be asked to stop (a Node bull worker) is sending the campaign, which
    /// is in this status: a pause or a cancel would not stop it. Nothing changed.
    #[error("the campaign is {0} and a worker that cannot be stopped is sending it")]
    HeldElsewhere(CampaignStatus),
    /// A duplicate would have no recipient (none failed, or none unsent): the campaign, in this
    /// status, has none in that state.
    #[error("the campaign is {0} and has no recipients to copy in that state")]
    NothingToCopy(CampaignStatus),
    #[error("the campaign store is unavailable")]
    Unavailable(#[source] RepositoryError),
    #[error("unexpected error")]
    Unknown(#[source] RepositoryError),
}

impl From<RepositoryError> for LifecycleError {
    fn from(e: RepositoryError) -> Self {
        match e {
            RepositoryError::NotFound(_) => Self::NotFound,
            RepositoryError::Unavailable(_) => Self::Unavailable(e),
            _ => Self::Unknown(e),
        }
    }
}

impl<R: CampaignStore + ActivityLog, Q: JobProducer, C: Clock> CampaignService<R, Q, C> {
    /// Applies a user's move (`campaigns:send` is the caller's to check). A move the
    /// campaign's status does not allow is refused and changes nothing.
    ///
    /// - Send (a draft) and resume: the campaign is `PENDING` and gets a queue job; a resumed
    ///   campaign goes on with the recipients still pending, so nobody gets two messages.
    /// - Pause and cancel: the status is stored first, then the worker sending the campaign
    ///   is told to start no new message and confirms (at most [`STOP_WAIT`]), so that once
    ///   this returns no more than the messages in flight leave. A cancel makes every pending
    ///   recipient `CANCELLED` in the same transaction as the status.
    #[tracing::instrument(name = "control_campaign", skip_all, fields(campaign_id = %id, ?control))]
    pub async fn control(
        &self,
        id: CampaignId,
        control: Control,
        actor: &Actor,
    ) -> Result<Controlled, LifecycleError> {
        // A Node bull worker sending it would not stop, and would mark everything it read as
        // sent: refused, and the campaign is left to finish. Otherwise its jobs that no worker
        // holds yet are fenced while the move is stored, so that no worker (a Node one least of
        // all) starts it meanwhile. Not knowing (Redis down) does not block the move.
        let fenced = control.stops_sending() && self.fence(id).await?;
        let moved = self.repo.control(id, control, self.clock.now()).await;
        if fenced {
            let end = if moved.is_ok() {
                FenceEnd::Settle
            } else {
                FenceEnd::Restore
            };
            if let Err(e) = self.queue.unfence(id, end).await {
                warn!(error = %e, ?end, "could not end the fence of the campaign's jobs; it expires by itself and the reconciler requeues a campaign still due");
            }
        }
        let campaign = match moved {
            Ok(campaign) => campaign,
            Err(RepositoryError::Conflict(_)) => return Err(self.invalid_state(id).await),
            Err(e) => return Err(e.into()),
        };
        // The worker first: every message it would start meanwhile is one too many.
        let stop = if control.stops_sending() {
            self.stop_sending(id).await
        } else {
            None
        };
        self.record(action_of(control, &campaign), id, actor).await;
        let enqueued = control.queues() && self.enqueue(&campaign).await;
        info!(status = %campaign.status, enqueued, ?stop, "campaign moved");
        Ok(Controlled {
            campaign,
            enqueued,
            stop,
        })
    }

    /// Fences the campaign's jobs before a pause or a cancel: whether a fence was set. Refused
    /// when a worker that cannot be stopped sends it.
    async fn fence(&self, id: CampaignId) -> Result<bool, LifecycleError> {
        match self.queue.fence(id).await {
            Ok(Fence::Fenced { .. }) => Ok(true),
            Ok(Fence::HeldElsewhere) => {
                let current = self.repo.get(id).await?.ok_or(LifecycleError::NotFound)?;
                warn!("a worker that cannot be stopped holds the campaign's job; refused");
                Err(LifecycleError::HeldElsewhere(current.status))
            }
            Err(e) => {
                warn!(error = %e, "could not fence the campaign's jobs; the move goes on");
                Ok(false)
            }
        }
    }

    /// Tells the worker sending the campaign, if any, to stop and waits for its answer.
    async fn stop_sending(&self, id: CampaignId) -> Option<StopAnswer> {
        match self.queue.stop_sending(id, STOP_WAIT).await {
            Ok(StopAnswer::Unconfirmed) => {
                warn!(
                    wait_ms = STOP_WAIT.as_millis() as u64,
                    "the worker holding the campaign did not confirm that it stopped; it reads the new status when it next writes outcomes"
                );
                Some(StopAnswer::Unconfirmed)
            }
            Ok(answer) => Some(answer),
            Err(e) => {
                warn!(error = %e, "could not tell workers to stop; a worker sending the campaign reads the new status when it next writes outcomes");
                None
            }
        }
    }

    /// Moves a scheduled campaign to another send time (in the future, at most a year ahead;
    /// `campaigns:send` is the caller's to check) and adds a delayed job due then. The job due
    /// at the old time finds the campaign not due yet and completes without sending.
    #[tracing::instrument(name = "reschedule", skip_all, fields(campaign_id = %id))]
    pub async fn reschedule(
        &self,
        id: CampaignId,
        at: DateTime<Utc>,
        actor: &Actor,
    ) -> Result<Controlled, LifecycleError> {
        let now = self.clock.now();
        let at = check_schedule(at, now).map_err(LifecycleError::InvalidSchedule)?;
        let campaign = match self.repo.reschedule(id, at, now).await {
            Ok(campaign) => campaign,
            Err(RepositoryError::Conflict(_)) => return Err(self.invalid_state(id).await),
            Err(e) => return Err(e.into()),
        };
        self.record(Action::CampaignRescheduled, id, actor).await;
        let enqueued = self.enqueue(&campaign).await;
        info!(%at, enqueued, "campaign rescheduled");
        Ok(Controlled {
            campaign,
            enqueued,
            stop: None,
        })
    }

    /// Sends a finished campaign's failed recipients (those `scope` names) again
    /// (`campaigns:send` is the caller's to check): they go back to `PENDING` with their
    /// counters in one transaction, and the campaign is queued. A campaign that has not
    /// finished by itself (completed or failed) is refused and left as it is; one with nothing
    /// to retry is answered unchanged.
    #[tracing::instrument(name = "retry_failed", skip_all, fields(campaign_id = %id, ?scope))]
    pub async fn retry_failed(
        &self,
        id: CampaignId,
        scope: RetryScope,
        actor: &Actor,
    ) -> Result<Retried, LifecycleError> {
        let (campaign, requeued) = match self.repo.retry_failed(id, scope, self.clock.now()).await {
            Ok(moved) => moved,
            Err(RepositoryError::Conflict(_)) => return Err(self.invalid_state(id).await),
            Err(e) => return Err(e.into()),
        };
        if requeued == 0 {
            info!("nothing to retry");
            return Ok(Retried {
                campaign,
                requeued,
                enqueued: false,
            });
        }
        self.record(Action::CampaignRetried, id, actor).await;
        let enqueued = self.enqueue(&campaign).await;
        info!(requeued, "failed recipients queued again");
        Ok(Retried {
            campaign,
            requeued,
            enqueued,
        })
    }

    /// The refusal of a move that did not apply: the campaign's status as it is now.
    pub(crate) async fn invalid_state(&self, id: CampaignId) -> LifecycleError {
        match self.repo.get(id).await {
            Ok(Some(current)) => LifecycleError::InvalidState(current.status),
            Ok(None) => LifecycleError::NotFound,
            Err(e) => e.into(),
        }
    }
}

/// What the audit trail calls a move, by the status it left.
fn action_of(control: Control, moved: &Campaign) -> Action {
    match control {
        Control::Send => Action::released(moved.status),
        Control::Pause => Action::CampaignPaused,
        Control::Resume => Action::CampaignResumed,
        Control::Cancel => Action::CampaignCancelled,
    }
}
