//! [`CachedCampaignStore`]: a [`CampaignStore`] that answers [`get`](CampaignStore::get) from
//! memory for a moment after a read, around any other `CampaignStore`.
//!
//! A dashboard polling a campaign's progress, or many people watching one campaign, then costs
//! the database at most one query per campaign per TTL, at the price of counters up to one TTL
//! old. Every other call goes straight to the store it wraps.
//!
//! [`CachedKeyStore`] does the same for the API-key lookup every request makes, for at most a
//! second.

mod keys;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use moka::future::Cache;
use paloma_application::ports::{
    ActivityLog, CampaignStore, Created, RepositoryError, SuppressionStore,
};
use paloma_domain::{
    Activity, Campaign, CampaignEdit, CampaignFilter, CampaignId, Control, DuplicateRecipients,
    Idempotency, NewCampaign, Page, PageRequest, Recipient, RecipientStatus, RetryScope,
    Suppression, TimelinePoint,
};

pub use keys::{CachedKeyStore, MAX_KEY_TTL};

/// Campaigns kept at most (a `Campaign` without its body is small).
const MAX_CAMPAIGNS: u64 = 10_000;

/// Wraps a [`CampaignStore`]: a campaign read is remembered for the TTL, and concurrent reads of
/// one campaign share one query. Unknown ids and errors are not remembered: the next read asks
/// the store again.
pub struct CachedCampaignStore<S> {
    inner: S,
    /// `None` for a zero TTL: every read goes to the store.
    recent: Option<Cache<CampaignId, Campaign>>,
}

impl<S> CachedCampaignStore<S> {
    /// Remembers each campaign read for `ttl`. A zero `ttl` remembers nothing: every call goes
    /// to `inner`.
    pub fn new(inner: S, ttl: Duration) -> Self {
        let recent = (!ttl.is_zero()).then(|| {
            Cache::builder()
                .max_capacity(MAX_CAMPAIGNS)
                .time_to_live(ttl)
                .build()
        });
        Self { inner, recent }
    }

    /// The store this one wraps.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

impl<S: std::fmt::Debug> std::fmt::Debug for CachedCampaignStore<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedCampaignStore")
            .field("inner", &self.inner)
            .field(
                "ttl",
                &self.recent.as_ref().and_then(|c| c.policy().time_to_live()),
            )
            .finish()
    }
}

/// Why a shared read gave nothing to remember: nothing was found, or the store failed.
#[derive(Debug)]
enum Miss {
    Absent,
    Failed(RepositoryError),
}

/// The answer of a shared read that found nothing to remember, for one of its waiters: `Ok`
/// when nothing was found, the store's error (or a copy of it, for the other waiters) when it
/// failed.
fn settle(miss: Arc<Miss>) -> Result<(), RepositoryError> {
    match Arc::try_unwrap(miss) {
        Ok(Miss::Absent) => Ok(()),
        Ok(Miss::Failed(e)) => Err(e),
        Err(shared) => match &*shared {
            Miss::Absent => Ok(()),
            Miss::Failed(e) => Err(copy_of(e)),
        },
    }
}

/// The same error for another waiter of a shared read (the source is not `Clone`; its text is
/// kept).
fn copy_of(e: &RepositoryError) -> RepositoryError {
    type Source = Box<dyn std::error::Error + Send + Sync>;
    let text = |source: &Source| -> Source { source.to_string().into() };
    match e {
        RepositoryError::Unavailable(source) => RepositoryError::Unavailable(text(source)),
        RepositoryError::NotFound(id) => RepositoryError::NotFound(*id),
        RepositoryError::Conflict(message) => RepositoryError::Conflict(message.clone()),
        RepositoryError::Unknown(source) => RepositoryError::Unknown(text(source)),
    }
}

impl<S: CampaignStore> CampaignStore for CachedCampaignStore<S> {
    async fn get(&self, id: CampaignId) -> Result<Option<Campaign>, RepositoryError> {
        let Some(recent) = &self.recent else {
            return self.inner.get(id).await;
        };
        let read = async {
            match self.inner.get(id).await {
                Ok(Some(campaign)) => Ok(campaign),
                Ok(None) => Err(Miss::Absent),
                Err(e) => Err(Miss::Failed(e)),
            }
        };
        match recent.try_get_with(id, read).await {
            Ok(campaign) => Ok(Some(campaign)),
            Err(miss) => settle(miss).map(|()| None),
        }
    }

    async fn create(
        &self,
        id: CampaignId,
        campaign: &NewCampaign,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.inner.create(id, campaign, now).await
    }

    async fn create_idempotent(
        &self,
        id: CampaignId,
        campaign: &NewCampaign,
        idempotency: &Idempotency,
        now: DateTime<Utc>,
    ) -> Result<Created, RepositoryError> {
        self.inner
            .create_idempotent(id, campaign, idempotency, now)
            .await
    }

    async fn get_body(&self, id: CampaignId) -> Result<Option<String>, RepositoryError> {
        self.inner.get_body(id).await
    }

    async fn recipients_for_tags(
        &self,
        id: CampaignId,
    ) -> Result<Vec<paloma_domain::NewRecipient>, RepositoryError> {
        self.inner.recipients_for_tags(id).await
    }

    async fn list(
        &self,
        filter: &CampaignFilter,
        page: PageRequest,
    ) -> Result<Page<Campaign>, RepositoryError> {
        self.inner.list(filter, page).await
    }

    async fn count_active(&self) -> Result<u64, RepositoryError> {
        self.inner.count_active().await
    }

    async fn list_recipients(
        &self,
        id: CampaignId,
        status: Option<RecipientStatus>,
        page: PageRequest,
    ) -> Result<Page<Recipient>, RepositoryError> {
        self.inner.list_recipients(id, status, page).await
    }

    async fn timeline(
        &self,
        id: CampaignId,
        bucket_seconds: u32,
    ) -> Result<Vec<TimelinePoint>, RepositoryError> {
        self.inner.timeline(id, bucket_seconds).await
    }

    async fn mark_enqueued(
        &self,
        id: CampaignId,
        now: DateTime<Utc>,
    ) -> Result<(), RepositoryError> {
        self.inner.mark_enqueued(id, now).await
    }

    async fn is_enqueued(&self, id: CampaignId) -> Result<bool, RepositoryError> {
        self.inner.is_enqueued(id).await
    }

    /// Forgets the campaign, which changed status (unless nothing was retried).
    async fn retry_failed(
        &self,
        id: CampaignId,
        scope: RetryScope,
        now: DateTime<Utc>,
    ) -> Result<(Campaign, u32), RepositoryError> {
        let retried = self.inner.retry_failed(id, scope, now).await;
        if let Some(recent) = &self.recent {
            recent.invalidate(&id).await;
        }
        retried
    }

    async fn queued_ahead(&self, id: CampaignId) -> Result<Option<u64>, RepositoryError> {
        self.inner.queued_ahead(id).await
    }

    async fn count_untried(&self, id: CampaignId) -> Result<u64, RepositoryError> {
        self.inner.count_untried(id).await
    }

    /// Forgets the campaign once edited.
    async fn edit(
        &self,
        id: CampaignId,
        edit: &CampaignEdit,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        let edited = self.inner.edit(id, edit, now).await;
        if let Some(recent) = &self.recent {
            recent.invalidate(&id).await;
        }
        edited
    }

    async fn duplicate(
        &self,
        source: CampaignId,
        new_id: CampaignId,
        which: DuplicateRecipients,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.inner.duplicate(source, new_id, which, now).await
    }

    /// Forgets the campaign once its time moved.
    async fn reschedule(
        &self,
        id: CampaignId,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        let moved = self.inner.reschedule(id, at, now).await;
        if let Some(recent) = &self.recent {
            recent.invalidate(&id).await;
        }
        moved
    }

    /// Forgets the campaign once moved, so the next read shows its new status at once (a
    /// released draft `PENDING`, a paused one `PAUSED`) rather than the old one up to one TTL.
    async fn control(
        &self,
        id: CampaignId,
        control: Control,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        let moved = self.inner.control(id, control, now).await;
        if let Some(recent) = &self.recent {
            recent.invalidate(&id).await;
        }
        moved
    }
}

/// The audit trail is never cached: every call goes to the store it wraps.
impl<S: ActivityLog> ActivityLog for CachedCampaignStore<S> {
    async fn record(&self, activity: &Activity) -> Result<(), RepositoryError> {
        self.inner.record(activity).await
    }

    async fn campaign_activity(
        &self,
        id: CampaignId,
        page: PageRequest,
    ) -> Result<Page<Activity>, RepositoryError> {
        self.inner.campaign_activity(id, page).await
    }
}

/// The suppression list is not cached: passed through.
impl<S: SuppressionStore> SuppressionStore for CachedCampaignStore<S> {
    async fn suppress(&self, entries: &[Suppression]) -> Result<u64, RepositoryError> {
        self.inner.suppress(entries).await
    }

    async fn unsuppress(&self, email: &str) -> Result<bool, RepositoryError> {
        self.inner.unsuppress(email).await
    }

    async fn list_suppressions(
        &self,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Suppression>, RepositoryError> {
        self.inner.list_suppressions(search, page).await
    }

    async fn suppressed_among(
        &self,
        emails: &[String],
    ) -> Result<std::collections::HashSet<String>, RepositoryError> {
        self.inner.suppressed_among(emails).await
    }
}

#[cfg(test)]
mod tests;
