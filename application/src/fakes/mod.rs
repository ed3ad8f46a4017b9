//! In-memory fakes of every port, for the use-case tests only: the campaign store and delivery
//! ledger here; the audit trail and keys, the queue, the mailer and clock, and the suppression
//! list in the modules below.

mod access;
mod ledger;
mod mail;
mod queue;
mod shards;
mod suppressions;

pub use access::{FakeActivity, FakeKeys};
pub use mail::{FakeMailer, TokioClock};
pub use queue::{FakeConsumer, FakeQueue};
pub use shards::FakeShards;
pub use suppressions::FakeSuppressions;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::{DateTime, Utc};
use paloma_domain::{
    Activity, Campaign, CampaignEdit, CampaignFilter, CampaignId, CampaignStatus, Control,
    DuplicateRecipients, EmailAddress, HtmlBody, Idempotency, NewCampaign, NewRecipient, Page,
    PageRequest, Recipient, RecipientId, RecipientName, RecipientStatus, RequestFingerprint,
    RetryScope, Subject, TimelinePoint,
};

use crate::ports::*;

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A campaign, its body and when it was enqueued.
type StoredCampaign = (Campaign, String, Option<DateTime<Utc>>);

#[derive(Default)]
pub struct FakeRepo {
    pub campaigns: Mutex<BTreeMap<CampaignId, StoredCampaign>>,
    pub recipients: Mutex<BTreeMap<RecipientId, Recipient>>,
    /// idempotency key -> (campaign, fingerprint)
    pub keys: Mutex<HashMap<String, (CampaignId, RequestFingerprint)>>,
    pub down: AtomicBool,
    /// `record_outcomes` refuses (as `Unknown`, like a row the database cannot store) any
    /// batch with an outcome whose error text contains this.
    pub refuse_error_containing: Mutex<Option<String>>,
    pub activity: FakeActivity,
    /// Campaigns with a recipient row that cannot be read: reading their recipients fails.
    pub poisoned: Mutex<HashSet<CampaignId>>,
    /// `failedRuns` per campaign.
    pub failed_runs: Mutex<HashMap<CampaignId, u32>>,
    /// Failed recipients the server refused for good (`Recipient.permanentFailure`).
    pub refused: Mutex<HashSet<RecipientId>>,
    /// The shards of the campaigns split among workers.
    pub shards: FakeShards,
}

impl FakeRepo {
    fn check(&self) -> Result<(), RepositoryError> {
        if self.down.load(Ordering::SeqCst) {
            Err(RepositoryError::Unavailable("fake database is down".into()))
        } else {
            Ok(())
        }
    }

    pub fn recipients_of(&self, id: CampaignId) -> Vec<Recipient> {
        lock(&self.recipients)
            .values()
            .filter(|r| r.campaign_id == id)
            .cloned()
            .collect()
    }

    pub fn campaign(&self, id: CampaignId) -> Campaign {
        lock(&self.campaigns)
            .get(&id)
            .map(|c| c.0.clone())
            .expect("campaign exists in fake")
    }

    /// Stores `list` as `PENDING` recipients of campaign `id`.
    fn add_recipients(&self, id: CampaignId, list: &[NewRecipient], now: DateTime<Utc>) {
        let mut rs = lock(&self.recipients);
        for r in list {
            let rid = RecipientId::new();
            rs.insert(
                rid,
                Recipient {
                    id: rid,
                    campaign_id: id,
                    email: r.email.as_str().into(),
                    name: r.name.as_ref().map(|n| n.as_str().into()),
                    fields: r.fields.clone(),
                    status: RecipientStatus::Pending,
                    error: None,
                    attempts: 0,
                    next_attempt_at: now,
                    sent_at: None,
                    updated_at: now,
                },
            );
        }
    }
}

impl CampaignStore for FakeRepo {
    async fn create(
        &self,
        id: CampaignId,
        c: &NewCampaign,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.check()?;
        let campaign = Campaign {
            id,
            subject: c.subject.as_str().into(),
            status: c.initial_status(),
            total_emails: c.recipients.len() as u32,
            sent_emails: 0,
            failed_emails: 0,
            cancelled_emails: 0,
            suppressed_emails: 0,
            duplicates_removed: c.duplicates_removed as u32,
            scheduled_at: c.scheduled_at,
            stop_reason: None,
            merge_tags: c.merge_tags,
            from_name: c.sender.from_name.as_ref().map(|n| n.as_str().into()),
            from_email: c.sender.from_email.as_ref().map(|e| e.as_str().into()),
            reply_to: c.sender.reply_to.as_ref().map(|e| e.as_str().into()),
            created_at: now,
            started_at: None,
            completed_at: None,
            updated_at: now,
        };
        self.add_recipients(id, &c.recipients, now);
        lock(&self.campaigns).insert(id, (campaign.clone(), c.body.as_str().into(), None));
        Ok(campaign)
    }

    async fn create_idempotent(
        &self,
        id: CampaignId,
        c: &NewCampaign,
        idempotency: &Idempotency,
        now: DateTime<Utc>,
    ) -> Result<Created, RepositoryError> {
        self.check()?;
        let key = idempotency.key.as_str().to_owned();
        if let Some(&(campaign_id, fingerprint)) = lock(&self.keys).get(&key) {
            return Ok(Created::KeyTaken {
                campaign_id,
                fingerprint,
            });
        }
        let campaign = self.create(id, c, now).await?;
        lock(&self.keys).insert(key, (id, idempotency.fingerprint));
        Ok(Created::New(campaign))
    }

    async fn is_enqueued(&self, id: CampaignId) -> Result<bool, RepositoryError> {
        self.check()?;
        lock(&self.campaigns)
            .get(&id)
            .map(|c| c.2.is_some())
            .ok_or(RepositoryError::NotFound(id))
    }

    async fn get(&self, id: CampaignId) -> Result<Option<Campaign>, RepositoryError> {
        self.check()?;
        Ok(lock(&self.campaigns).get(&id).map(|c| c.0.clone()))
    }

    async fn recipients_for_tags(
        &self,
        id: CampaignId,
    ) -> Result<Vec<NewRecipient>, RepositoryError> {
        self.check()?;
        Ok(self
            .recipients_of(id)
            .into_iter()
            .map(|r| NewRecipient {
                email: EmailAddress::parse(&r.email).expect("stored valid"),
                name: RecipientName::parse(r.name.as_deref()).expect("stored valid"),
                fields: r.fields,
            })
            .collect())
    }

    async fn get_body(&self, id: CampaignId) -> Result<Option<String>, RepositoryError> {
        self.check()?;
        Ok(lock(&self.campaigns).get(&id).map(|c| c.1.clone()))
    }

    async fn list(
        &self,
        filter: &CampaignFilter,
        page: PageRequest,
    ) -> Result<Page<Campaign>, RepositoryError> {
        self.check()?;
        let all = lock(&self.campaigns);
        let admitted: Vec<Campaign> = all
            .values()
            .rev()
            .map(|c| c.0.clone())
            .filter(|c| filter.admits(c))
            .collect();
        let total = admitted.len() as u64;
        let items = admitted
            .into_iter()
            .skip(page.offset() as usize)
            .take(page.per_page() as usize)
            .collect();
        Ok(Page {
            items,
            page: page.page(),
            per_page: page.per_page(),
            total,
        })
    }

    async fn count_active(&self) -> Result<u64, RepositoryError> {
        self.check()?;
        Ok(lock(&self.campaigns)
            .values()
            .filter(|c| c.0.status.awaits_delivery())
            .count() as u64)
    }

    async fn list_recipients(
        &self,
        id: CampaignId,
        status: Option<RecipientStatus>,
        page: PageRequest,
    ) -> Result<Page<Recipient>, RepositoryError> {
        self.check()?;
        if !lock(&self.campaigns).contains_key(&id) {
            return Err(RepositoryError::NotFound(id));
        }
        let all: Vec<_> = self
            .recipients_of(id)
            .into_iter()
            .filter(|r| status.is_none_or(|s| r.status == s))
            .collect();
        let total = all.len() as u64;
        let items = all
            .into_iter()
            .skip(page.offset() as usize)
            .take(page.per_page() as usize)
            .collect();
        Ok(Page {
            items,
            page: page.page(),
            per_page: page.per_page(),
            total,
        })
    }

    async fn timeline(
        &self,
        id: CampaignId,
        bucket_seconds: u32,
    ) -> Result<Vec<TimelinePoint>, RepositoryError> {
        self.check()?;
        let width = i64::from(bucket_seconds.max(1));
        let mut buckets: BTreeMap<i64, (u64, u64)> = BTreeMap::new();
        for r in self.recipients_of(id) {
            let (at, sent) = match r.status {
                RecipientStatus::Sent => (r.sent_at.unwrap_or(r.updated_at), true),
                RecipientStatus::Failed => (r.updated_at, false),
                RecipientStatus::Pending
                | RecipientStatus::Cancelled
                | RecipientStatus::Suppressed => {
                    continue;
                }
            };
            let entry = buckets.entry(at.timestamp().div_euclid(width)).or_default();
            if sent {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
        Ok(buckets
            .into_iter()
            .filter_map(|(bucket, (sent, failed))| {
                Some(TimelinePoint {
                    at: DateTime::from_timestamp(bucket * width, 0)?,
                    sent,
                    failed,
                })
            })
            .collect())
    }

    async fn mark_enqueued(
        &self,
        id: CampaignId,
        now: DateTime<Utc>,
    ) -> Result<(), RepositoryError> {
        self.check()?;
        if let Some(c) = lock(&self.campaigns).get_mut(&id) {
            c.2 = Some(now);
        }
        Ok(())
    }

    async fn retry_failed(
        &self,
        id: CampaignId,
        scope: RetryScope,
        now: DateTime<Utc>,
    ) -> Result<(Campaign, u32), RepositoryError> {
        self.check()?;
        let mut all = lock(&self.campaigns);
        let c = &mut all.get_mut(&id).ok_or(RepositoryError::NotFound(id))?.0;
        if !c.status.is_retryable() {
            return Err(RepositoryError::Conflict(format!(
                "campaign {id} is {}",
                c.status
            )));
        }
        let mut moved = 0;
        let mut refused = lock(&self.refused);
        for r in lock(&self.recipients).values_mut() {
            let chosen = r.campaign_id == id
                && r.status == RecipientStatus::Failed
                && (scope == RetryScope::All || !refused.contains(&r.id));
            if chosen {
                refused.remove(&r.id);
                r.status = RecipientStatus::Pending;
                r.attempts = 0;
                r.error = None;
                r.next_attempt_at = now;
                moved += 1;
            }
        }
        if moved > 0 {
            c.failed_emails -= moved;
            c.status = CampaignStatus::Pending;
            c.completed_at = None;
            c.stop_reason = None;
            lock(&self.failed_runs).remove(&id);
            c.updated_at = now;
        }
        Ok((c.clone(), moved))
    }

    async fn queued_ahead(&self, id: CampaignId) -> Result<Option<u64>, RepositoryError> {
        self.check()?;
        let all = lock(&self.campaigns);
        let Some((own, _, Some(enqueued))) = all.get(&id) else {
            return Ok(None);
        };
        if own.status != CampaignStatus::Pending {
            return Ok(None);
        }
        let enqueued = *enqueued;
        Ok(Some(
            all.values()
                .filter(|(c, _, at)| {
                    c.status == CampaignStatus::Processing
                        || (c.status == CampaignStatus::Pending
                            && at.is_some_and(|at| at < enqueued))
                })
                .count() as u64,
        ))
    }

    async fn count_untried(&self, id: CampaignId) -> Result<u64, RepositoryError> {
        self.check()?;
        Ok(self
            .recipients_of(id)
            .iter()
            .filter(|r| r.status == RecipientStatus::Failed && r.attempts == 0)
            .count() as u64)
    }

    async fn edit(
        &self,
        id: CampaignId,
        edit: &CampaignEdit,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.check()?;
        {
            let mut all = lock(&self.campaigns);
            let (c, body, _) = all.get_mut(&id).ok_or(RepositoryError::NotFound(id))?;
            let editable = c.status == CampaignStatus::Draft
                || (c.status == CampaignStatus::Scheduled && edit.scheduled_at != Some(None));
            if !editable {
                return Err(RepositoryError::Conflict(format!(
                    "campaign {id} is {}",
                    c.status
                )));
            }
            if let Some(merge_tags) = edit.merge_tags {
                c.merge_tags = merge_tags;
            }
            if let Some(subject) = &edit.subject {
                c.subject = subject.as_str().into();
            }
            if let Some(new_body) = &edit.body {
                *body = new_body.as_str().into();
            }
            if let Some(at) = edit.scheduled_at {
                c.scheduled_at = at;
            }
            c.updated_at = now;
        }
        if let Some((list, duplicates)) = &edit.recipients {
            lock(&self.recipients).retain(|_, r| r.campaign_id != id);
            self.add_recipients(id, list, now);
            let mut all = lock(&self.campaigns);
            let c = &mut all.get_mut(&id).ok_or(RepositoryError::NotFound(id))?.0;
            c.total_emails = list.len() as u32;
            c.duplicates_removed = *duplicates as u32;
        }
        Ok(self.campaign(id))
    }

    async fn duplicate(
        &self,
        source: CampaignId,
        new_id: CampaignId,
        which: DuplicateRecipients,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.check()?;
        let (original, body) = {
            let all = lock(&self.campaigns);
            let (c, body, _) = all.get(&source).ok_or(RepositoryError::NotFound(source))?;
            (c.clone(), body.clone())
        };
        let recipients: Vec<NewRecipient> = self
            .recipients_of(source)
            .into_iter()
            .filter(|r| match which {
                DuplicateRecipients::All => true,
                DuplicateRecipients::Failed => r.status == RecipientStatus::Failed,
                DuplicateRecipients::Unsent => r.status != RecipientStatus::Sent,
            })
            .map(|r| NewRecipient {
                email: EmailAddress::parse(&r.email).expect("stored valid"),
                name: RecipientName::parse(r.name.as_deref()).expect("stored valid"),
                fields: r.fields,
            })
            .collect();
        if recipients.is_empty() {
            return Err(RepositoryError::Conflict("no recipients to copy".into()));
        }
        let copy = NewCampaign {
            subject: Subject::parse(&original.subject).expect("stored valid"),
            body: HtmlBody::parse(body).expect("stored valid"),
            recipients,
            duplicates_removed: 0,
            draft: true,
            scheduled_at: None,
            merge_tags: original.merge_tags,
            sender: paloma_domain::CampaignSender {
                from_name: RecipientName::parse(original.from_name.as_deref())
                    .expect("stored valid"),
                from_email: original
                    .from_email
                    .as_deref()
                    .map(|e| EmailAddress::parse(e).expect("stored valid")),
                reply_to: original
                    .reply_to
                    .as_deref()
                    .map(|e| EmailAddress::parse(e).expect("stored valid")),
            },
        };
        self.create(new_id, &copy, now).await
    }

    async fn reschedule(
        &self,
        id: CampaignId,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.check()?;
        let mut all = lock(&self.campaigns);
        let c = &mut all.get_mut(&id).ok_or(RepositoryError::NotFound(id))?.0;
        if c.status != CampaignStatus::Scheduled {
            return Err(RepositoryError::Conflict(format!(
                "campaign {id} is {}",
                c.status
            )));
        }
        c.scheduled_at = Some(at);
        c.updated_at = now;
        Ok(c.clone())
    }

    async fn control(
        &self,
        id: CampaignId,
        control: Control,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.check()?;
        let mut rs = lock(&self.recipients);
        let mut all = lock(&self.campaigns);
        let c = &mut all.get_mut(&id).ok_or(RepositoryError::NotFound(id))?.0;
        if !control.applies_to(c.status) {
            return Err(RepositoryError::Conflict(format!(
                "campaign {id} is {}",
                c.status
            )));
        }
        c.status = control.target(c.status, c.scheduled_at, now);
        c.updated_at = now;
        if control == Control::Cancel {
            for r in rs
                .values_mut()
                .filter(|r| r.campaign_id == id && r.status == RecipientStatus::Pending)
            {
                r.status = RecipientStatus::Cancelled;
                r.updated_at = now;
                c.cancelled_emails += 1;
            }
            c.completed_at = Some(now);
            self.shards.remove(id);
        }
        Ok(c.clone())
    }
}

impl ActivityLog for FakeRepo {
    async fn record(&self, activity: &Activity) -> Result<(), RepositoryError> {
        self.check()?;
        self.activity.record(activity);
        Ok(())
    }

    async fn campaign_activity(
        &self,
        id: CampaignId,
        page: PageRequest,
    ) -> Result<Page<Activity>, RepositoryError> {
        self.check()?;
        Ok(self.activity.of_campaign(id, page))
    }
}
