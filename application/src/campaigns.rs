//! The API-side use cases: create a campaign, read campaigns and their recipients.

use std::sync::Arc;

use paloma_domain::{
    Action, Activity, Actor, Campaign, CampaignFilter, CampaignId, CampaignStatus, Idempotency,
    IdempotencyKey, NewCampaign, NewCampaignError, NewCampaignInput, Page, PageRequest, Recipient,
    RecipientInput, RecipientStatus, RenderedMessage, RequestFingerprint, Scope, Timeline,
    ValidationErrors,
};
use paloma_domain::{AllowedDomains, CampaignSender};
use tracing::{error, info, warn};

use crate::ports::{ActivityLog, CampaignStore, Clock, Created, JobProducer, RepositoryError};

/// What the client asked for a new campaign: send it, or keep it as a draft. A key that may
/// not send gets a draft either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Send,
    Draft,
}

/// A campaign just accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedCampaign {
    pub campaign: Campaign,
    /// Submitted entries dropped because the same address came earlier.
    pub duplicates_removed: usize,
    /// Whether the queue job was added now; if not, the worker's reconciler adds it. For a
    /// replay, whether the campaign's job had been added by now.
    pub enqueued: bool,
    /// True when an earlier request with the same idempotency key and content created this
    /// campaign, and this request created nothing.
    pub replayed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateCampaignError {
    #[error(transparent)]
    Invalid(#[from] NewCampaignError),
    /// The idempotency key already names a campaign created from different content.
    #[error("the idempotency key was used for a different campaign {0}")]
    IdempotencyConflict(CampaignId),
    #[error("the campaign store is unavailable")]
    Unavailable(#[source] RepositoryError),
    #[error("unexpected error")]
    Unknown(#[source] RepositoryError),
}

impl From<RepositoryError> for CreateCampaignError {
    fn from(e: RepositoryError) -> Self {
        match e {
            RepositoryError::Unavailable(_) => Self::Unavailable(e),
            _ => Self::Unknown(e),
        }
    }
}

/// A page of campaigns, and how many campaigns are `PENDING` or `PROCESSING` in all.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignListing {
    pub page: Page<Campaign>,
    pub active: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("campaign not found")]
    NotFound,
    #[error("the campaign store is unavailable")]
    Unavailable(#[source] RepositoryError),
    #[error("unexpected error")]
    Unknown(#[source] RepositoryError),
}

impl From<RepositoryError> for QueryError {
    fn from(e: RepositoryError) -> Self {
        match e {
            RepositoryError::NotFound(_) => Self::NotFound,
            RepositoryError::Unavailable(_) => Self::Unavailable(e),
            _ => Self::Unknown(e),
        }
    }
}

/// A campaign with what its page says besides its counters.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignDetail {
    pub campaign: Campaign,
    /// For a `PENDING` campaign: how many campaigns come before it in the queue.
    pub queued_behind: Option<u64>,
    /// For a campaign the worker stopped: its failed recipients that were never tried.
    pub untried: Option<u64>,
}

/// The campaign use cases the API offers. One instance is shared by all requests.
#[derive(Debug)]
pub struct CampaignService<R, Q, C> {
    pub(crate) repo: Arc<R>,
    pub(crate) queue: Arc<Q>,
    pub(crate) clock: C,
    max_recipients: usize,
    /// The domains a campaign's own `From` may be in; `None`: no campaign may name one.
    allowed_from: Option<AllowedDomains>,
}

impl<R: CampaignStore + ActivityLog, Q: JobProducer, C: Clock> CampaignService<R, Q, C> {
    pub fn new(repo: Arc<R>, queue: Arc<Q>, clock: C, max_recipients: usize) -> Self {
        Self {
            repo,
            queue,
            clock,
            max_recipients,
            allowed_from: None,
        }
    }

    /// Lets campaigns name their own `From` within `domains` (`ALLOWED_FROM_DOMAINS`).
    pub fn with_allowed_from(mut self, domains: AllowedDomains) -> Self {
        self.allowed_from = Some(domains);
        self
    }

    /// Why a campaign's sender is refused here, if it is.
    fn sender_problem(&self, sender: &CampaignSender) -> Option<(&'static str, String)> {
        match &self.allowed_from {
            Some(allowed) => sender.check(allowed),
            None => sender.from_email.as_ref().map(|_| {
                (
                    "from.email",
                    "this server lets no campaign name its own sender".to_owned(),
                )
            }),
        }
    }

    pub fn max_recipients(&self) -> usize {
        self.max_recipients
    }

    /// One recipient's message as it would be sent (subject, HTML and text), with the rules
    /// of creation (`campaigns:create` is the caller's to check). Nothing is stored.
    pub fn preview(
        &self,
        subject: &str,
        body: String,
        recipient: RecipientInput,
    ) -> Result<RenderedMessage, CreateCampaignError> {
        Ok(paloma_domain::preview(subject, body, recipient)?)
    }

    /// Validates, stores the campaign and its recipients in one transaction, then adds its
    /// queue job. The campaign is safe once stored: if the queue cannot take the job now, the
    /// campaign stays `PENDING` without `enqueuedAt` and the worker's reconciler enqueues it.
    ///
    /// It is stored as a `DRAFT`, and not queued, when the client asks for one or when the
    /// actor may not send (`campaigns:send`): someone whose key may send releases it with
    /// [`control`](Self::control) with [`Control::Send`](paloma_domain::Control::Send).
    ///
    /// With an idempotency key, a request whose key already names a campaign stores nothing:
    /// the same content gets that campaign back (`replayed`), different content gets
    /// [`CreateCampaignError::IdempotencyConflict`].
    #[tracing::instrument(name = "create_campaign", skip_all, fields(campaign_id, recipients))]
    pub async fn create(
        &self,
        input: NewCampaignInput,
        intent: Intent,
        key: Option<IdempotencyKey>,
        actor: &Actor,
    ) -> Result<CreatedCampaign, CreateCampaignError> {
        let idempotency = key.map(|key| Idempotency {
            fingerprint: RequestFingerprint::of(&input),
            key,
        });
        let mut campaign = NewCampaign::parse(input, self.max_recipients, self.clock.now())?;
        if let Some(problem) = self.sender_problem(&campaign.sender) {
            let mut errors = ValidationErrors::default();
            errors.fields.push(problem);
            return Err(NewCampaignError::Invalid(errors).into());
        }
        campaign.draft = intent == Intent::Draft || !actor.may(Scope::CampaignsSend);
        let id = CampaignId::new();
        let span = tracing::Span::current();
        span.record("campaign_id", tracing::field::display(id));
        span.record("recipients", campaign.recipients.len());

        let now = self.clock.now();
        let stored = match &idempotency {
            None => self.repo.create(id, &campaign, now).await?,
            Some(idempotency) => {
                match self
                    .repo
                    .create_idempotent(id, &campaign, idempotency, now)
                    .await?
                {
                    Created::New(stored) => stored,
                    Created::KeyTaken {
                        campaign_id,
                        fingerprint,
                    } => return self.replay(campaign_id, fingerprint, idempotency).await,
                }
            }
        };

        metrics::counter!("paloma_campaigns_created_total").increment(1);
        metrics::counter!("paloma_recipients_ingested_total")
            .increment(campaign.recipients.len() as u64);
        self.record(Action::CampaignCreated, id, actor).await;
        if campaign.draft {
            info!("campaign stored as a draft");
            return Ok(CreatedCampaign {
                campaign: stored,
                duplicates_removed: campaign.duplicates_removed,
                enqueued: false,
                replayed: false,
            });
        }
        self.record(Action::released(stored.status), id, actor)
            .await;
        let enqueued = self.enqueue(&stored).await;
        Ok(CreatedCampaign {
            campaign: stored,
            duplicates_removed: campaign.duplicates_removed,
            enqueued,
            replayed: false,
        })
    }

    /// Adds the campaign's queue job (a delayed one, due at its send time, for a `SCHEDULED`
    /// campaign) and records that it was added. False when the queue cannot take it now: the
    /// campaign has no `enqueuedAt`, so the worker's reconciler enqueues it.
    pub(crate) async fn enqueue(&self, campaign: &Campaign) -> bool {
        let id = campaign.id;
        let added = match campaign.scheduled_at {
            Some(due) if campaign.status == CampaignStatus::Scheduled => {
                self.queue.enqueue_due(id, due).await
            }
            _ => self.queue.enqueue(id).await,
        };
        match added {
            Ok(job_id) => {
                if let Err(e) = self.repo.mark_enqueued(id, self.clock.now()).await {
                    // The job exists; at worst the reconciler adds a second one, which the
                    // worker recognises as a finished or running campaign.
                    warn!(error = %e, "could not record that the campaign was enqueued");
                }
                info!(job_id, "campaign enqueued");
                true
            }
            Err(e) => {
                warn!(error = %e, "campaign stored but not enqueued; the reconciler will enqueue it");
                false
            }
        }
    }

    /// Appends to the audit trail. The change it records is already committed, so a failure
    /// here cannot undo it: it is logged at ERROR with everything the entry would have held.
    pub(crate) async fn record(&self, action: Action, id: CampaignId, actor: &Actor) {
        let activity = Activity::new(action, Some(id), actor, self.clock.now());
        if let Err(e) = self.repo.record(&activity).await {
            error!(
                error = %e,
                action = %action,
                campaign_id = %id,
                key_id = ?actor.key_id,
                key_name = %actor.name,
                client_address = ?actor.client_address,
                "could not record an activity in the audit trail"
            );
        }
    }

    /// A campaign's audit trail, oldest first.
    pub async fn activity(
        &self,
        id: CampaignId,
        page: PageRequest,
    ) -> Result<Page<Activity>, QueryError> {
        self.get(id).await?;
        Ok(self.repo.campaign_activity(id, page).await?)
    }

    /// The answer to a request whose idempotency key already names `campaign_id`.
    async fn replay(
        &self,
        campaign_id: CampaignId,
        fingerprint: RequestFingerprint,
        idempotency: &Idempotency,
    ) -> Result<CreatedCampaign, CreateCampaignError> {
        if fingerprint != idempotency.fingerprint {
            info!(%campaign_id, "idempotency key reused for different content");
            return Err(CreateCampaignError::IdempotencyConflict(campaign_id));
        }
        let campaign = self
            .repo
            .get(campaign_id)
            .await?
            .ok_or(RepositoryError::NotFound(campaign_id))?;
        let enqueued = self.repo.is_enqueued(campaign_id).await?;
        info!(%campaign_id, "idempotent replay: nothing stored");
        Ok(CreatedCampaign {
            duplicates_removed: campaign.duplicates_removed as usize,
            campaign,
            enqueued,
            replayed: true,
        })
    }

    /// A campaign as its page shows it: with, while it waits, how many campaigns come before it
    /// and, once the worker stopped it, how many of its failed recipients were never tried.
    pub async fn detail(&self, id: CampaignId) -> Result<CampaignDetail, QueryError> {
        let campaign = self.get(id).await?;
        let queued_behind = if campaign.status == CampaignStatus::Pending {
            self.repo.queued_ahead(id).await?
        } else {
            None
        };
        let untried = match campaign.stop_reason {
            Some(_) => Some(self.repo.count_untried(id).await?),
            None => None,
        };
        Ok(CampaignDetail {
            campaign,
            queued_behind,
            untried,
        })
    }

    pub async fn get(&self, id: CampaignId) -> Result<Campaign, QueryError> {
        self.repo.get(id).await?.ok_or(QueryError::NotFound)
    }

    pub async fn get_body(&self, id: CampaignId) -> Result<String, QueryError> {
        self.repo.get_body(id).await?.ok_or(QueryError::NotFound)
    }

    /// The campaigns `filter` admits, newest first, and how many campaigns (of any page and
    /// filter) are still being sent, so that a list knows whether to keep refreshing.
    pub async fn list(
        &self,
        filter: &CampaignFilter,
        page: PageRequest,
    ) -> Result<CampaignListing, QueryError> {
        let page = self.repo.list(filter, page).await?;
        let active = self.repo.count_active().await?;
        Ok(CampaignListing { page, active })
    }

    pub async fn list_recipients(
        &self,
        id: CampaignId,
        status: Option<RecipientStatus>,
        page: PageRequest,
    ) -> Result<Page<Recipient>, QueryError> {
        Ok(self.repo.list_recipients(id, status, page).await?)
    }

    /// The campaign's deliveries over time, in buckets sized to its sending time so far
    /// (from `startedAt` to `completedAt`, or to now while it runs; from `createdAt` when
    /// another stack sent without recording a start). Empty before anything was delivered.
    pub async fn timeline(&self, id: CampaignId) -> Result<Timeline, QueryError> {
        let campaign = self.get(id).await?;
        // Another stack sharing the tables (the seeds' Node worker) sends without recording a
        // start: its outcomes count from the campaign's creation.
        let delivered = campaign.sent_emails > 0 || campaign.failed_emails > 0;
        let started_at = campaign
            .started_at
            .or_else(|| delivered.then_some(campaign.created_at));
        let Some(started_at) = started_at else {
            return Ok(Timeline {
                bucket_seconds: 1,
                points: Vec::new(),
            });
        };
        let until = campaign.completed_at.unwrap_or_else(|| self.clock.now());
        let bucket_seconds = Timeline::bucket_seconds_for(started_at, until);
        let points = self.repo.timeline(id, bucket_seconds).await?;
        Ok(Timeline {
            bucket_seconds,
            points,
        })
    }
}
