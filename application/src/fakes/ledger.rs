//! The worker's side of [`FakeRepo`]: the [`DeliveryLedger`] in memory.

use chrono::{DateTime, Utc};
use paloma_domain::*;

use super::{FakeRepo, lock};
use crate::ports::*;

impl DeliveryLedger for FakeRepo {
    async fn list_unfinished(
        &self,
        before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CampaignId>, RepositoryError> {
        self.check()?;
        Ok(lock(&self.campaigns)
            .values()
            .filter(|c| {
                (c.0.status.awaits_delivery() || c.0.status == CampaignStatus::Scheduled)
                    && c.0.created_at < before
            })
            .take(limit as usize)
            .map(|c| c.0.id)
            .collect())
    }

    async fn start(&self, id: CampaignId, now: DateTime<Utc>) -> Result<Campaign, RepositoryError> {
        self.check()?;
        let mut all = lock(&self.campaigns);
        let c = &mut all.get_mut(&id).ok_or(RepositoryError::NotFound(id))?.0;
        let due =
            c.status == CampaignStatus::Scheduled && c.scheduled_at.is_none_or(|at| at <= now);
        if c.status.awaits_delivery() || due {
            c.status = c
                .status
                .transition(CampaignStatus::Processing)
                .map_err(|e| RepositoryError::Conflict(e.to_string()))?;
            c.started_at.get_or_insert(now);
        }
        Ok(c.clone())
    }

    async fn due_recipients(
        &self,
        id: CampaignId,
        after: Option<RecipientId>,
        through: Option<RecipientId>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Recipient>, RepositoryError> {
        self.check()?;
        if lock(&self.poisoned).contains(&id) {
            return Err(RepositoryError::Unknown(
                "corrupt value in Recipient.id".into(),
            ));
        }
        Ok(self
            .recipients_of(id)
            .into_iter()
            .filter(|r| {
                r.status == RecipientStatus::Pending
                    && r.next_attempt_at <= now
                    && after.is_none_or(|a| r.id > a)
                    && through.is_none_or(|t| r.id <= t)
            })
            .take(limit as usize)
            .collect())
    }

    async fn next_due(&self, id: CampaignId) -> Result<Option<DateTime<Utc>>, RepositoryError> {
        self.check()?;
        Ok(self
            .recipients_of(id)
            .iter()
            .filter(|r| r.status == RecipientStatus::Pending)
            .map(|r| r.next_attempt_at)
            .min())
    }

    async fn record_outcomes(
        &self,
        id: CampaignId,
        outcomes: &[Outcome],
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.check()?;
        if let Some(poison) = lock(&self.refuse_error_containing).as_deref() {
            let refused = outcomes.iter().any(|o| match &o.kind {
                OutcomeKind::Failed { error, .. } | OutcomeKind::Retry { error, .. } => {
                    error.contains(poison)
                }
                OutcomeKind::Sent { .. } => false,
            });
            if refused {
                return Err(RepositoryError::Unknown(
                    "Data too long for column 'error'".into(),
                ));
            }
        }
        let mut rs = lock(&self.recipients);
        let mut all = lock(&self.campaigns);
        let c = &mut all.get_mut(&id).ok_or(RepositoryError::NotFound(id))?.0;
        for o in outcomes {
            let Some(r) = rs.get_mut(&o.recipient_id) else {
                continue;
            };
            // A message in flight when its campaign was cancelled: what became of it is the
            // truth, unless it is to be retried (it stays cancelled).
            let was_cancelled = r.status == RecipientStatus::Cancelled
                && !matches!(o.kind, OutcomeKind::Retry { .. });
            if was_cancelled {
                c.cancelled_emails -= 1;
            } else if r.status != RecipientStatus::Pending {
                continue;
            }
            r.attempts = o.attempts;
            r.updated_at = now;
            match &o.kind {
                OutcomeKind::Sent { at } => {
                    r.status = RecipientStatus::Sent;
                    r.sent_at = Some(*at);
                    r.error = None;
                    c.sent_emails += 1;
                }
                OutcomeKind::Failed { error, permanent } => {
                    r.status = RecipientStatus::Failed;
                    r.error = Some(error.clone());
                    c.failed_emails += 1;
                    if *permanent {
                        lock(&self.refused).insert(r.id);
                    }
                }
                OutcomeKind::Retry { at, error } => {
                    r.next_attempt_at = *at;
                    r.error = Some(error.clone());
                }
            }
        }
        Ok(c.clone())
    }

    async fn finish(
        &self,
        id: CampaignId,
        status: CampaignStatus,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.check()?;
        let mut all = lock(&self.campaigns);
        let c = &mut all.get_mut(&id).ok_or(RepositoryError::NotFound(id))?.0;
        if matches!(c.status, CampaignStatus::Paused | CampaignStatus::Cancelled) {
            return Ok(c.clone());
        }
        if c.pending_emails() > 0 {
            return Err(RepositoryError::Conflict("recipients still pending".into()));
        }
        c.status = c
            .status
            .transition(status)
            .map_err(|e| RepositoryError::Conflict(e.to_string()))?;
        c.completed_at = Some(now);
        self.shards.remove(id);
        Ok(c.clone())
    }

    async fn abandon(
        &self,
        id: CampaignId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.check()?;
        let mut rs = lock(&self.recipients);
        let mut all = lock(&self.campaigns);
        let c = &mut all.get_mut(&id).ok_or(RepositoryError::NotFound(id))?.0;
        if !c.status.awaits_delivery() {
            return Ok(c.clone());
        }
        for r in rs
            .values_mut()
            .filter(|r| r.campaign_id == id && r.status == RecipientStatus::Pending)
        {
            r.status = RecipientStatus::Failed;
            r.error = Some(reason.to_owned());
            r.updated_at = now;
            c.failed_emails += 1;
        }
        c.status = c
            .status
            .transition(CampaignStatus::Failed)
            .map_err(|e| RepositoryError::Conflict(e.to_string()))?;
        c.completed_at = Some(now);
        c.stop_reason = Some(reason.to_owned());
        self.shards.remove(id);
        Ok(c.clone())
    }

    async fn count_failed_run(&self, id: CampaignId) -> Result<u32, RepositoryError> {
        self.check()?;
        let mut runs = lock(&self.failed_runs);
        let n = runs.entry(id).or_default();
        *n += 1;
        Ok(*n)
    }
}
