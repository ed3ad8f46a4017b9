//! Changing a campaign before it is sent (a draft or a scheduled one), and copying a campaign
//! into a new draft.

use paloma_domain::{
    Action, Actor, CampaignEdit, CampaignEditInput, CampaignId, CampaignStatus,
    DuplicateRecipients, Scope, check_tags, has_tags,
};
use tracing::info;

use crate::campaigns::{CampaignService, CreatedCampaign};
use crate::lifecycle::LifecycleError;
use crate::ports::{ActivityLog, CampaignStore, Clock, JobProducer, RepositoryError};

impl<R: CampaignStore + ActivityLog, Q: JobProducer, C: Clock> CampaignService<R, Q, C> {
    /// Changes what a `DRAFT` or `SCHEDULED` campaign sends (`campaigns:create` is the
    /// caller's to check): subject, body, the whole recipient list, the send time, each
    /// validated as at creation. A scheduled campaign goes out without another review, so
    /// changing one also needs `campaigns:send`. Once sending has begun the edit is refused
    /// and nothing changes. A scheduled campaign given a new time gets a delayed job due then
    /// (the old one finds it not due and sends nothing).
    #[tracing::instrument(name = "edit_campaign", skip_all, fields(campaign_id = %id))]
    pub async fn edit(
        &self,
        id: CampaignId,
        input: CampaignEditInput,
        actor: &Actor,
    ) -> Result<paloma_domain::Campaign, LifecycleError> {
        let mut edit = CampaignEdit::parse(input, self.max_recipients(), self.clock.now())
            .map_err(LifecycleError::Invalid)?;
        let current = self.repo.get(id).await?.ok_or(LifecycleError::NotFound)?;
        if edit.subject.is_some() || edit.body.is_some() || edit.recipients.is_some() {
            // The edited campaign's template against its recipients, as at creation.
            let body = match &edit.body {
                Some(body) => body.as_str().to_owned(),
                None => self.repo.get_body(id).await?.unwrap_or_default(),
            };
            let subject = edit
                .subject
                .as_ref()
                .map_or(current.subject.as_str(), |s| s.as_str());
            let tags = has_tags(subject) || has_tags(&body);
            if tags {
                let recipients = match &edit.recipients {
                    Some((list, _)) => list.clone(),
                    None => self.repo.recipients_for_tags(id).await?,
                };
                check_tags(subject, &body, recipients).map_err(LifecycleError::Invalid)?;
            }
            edit.merge_tags = Some(tags);
        }
        if current.status == CampaignStatus::Scheduled && !actor.may(Scope::CampaignsSend) {
            return Err(LifecycleError::MissingScope(Scope::CampaignsSend));
        }
        let campaign = match self.repo.edit(id, &edit, self.clock.now()).await {
            Ok(campaign) => campaign,
            Err(RepositoryError::Conflict(_)) => return Err(self.invalid_state(id).await),
            Err(e) => return Err(e.into()),
        };
        self.record(Action::CampaignEdited, id, actor).await;
        let moved = edit.scheduled_at.is_some() && campaign.status == CampaignStatus::Scheduled;
        if moved {
            self.enqueue(&campaign).await;
        }
        info!(status = %campaign.status, "campaign edited");
        Ok(campaign)
    }

    /// Copies a campaign (any status) into a new `DRAFT` with the same subject and body and
    /// the recipients `which` names, in their order (`campaigns:create` is the caller's to
    /// check). The copy is sent like any draft.
    #[tracing::instrument(name = "duplicate_campaign", skip_all, fields(campaign_id = %source, new_id))]
    pub async fn duplicate(
        &self,
        source: CampaignId,
        which: DuplicateRecipients,
        actor: &Actor,
    ) -> Result<CreatedCampaign, LifecycleError> {
        let new_id = CampaignId::new();
        tracing::Span::current().record("new_id", tracing::field::display(new_id));
        let campaign = match self
            .repo
            .duplicate(source, new_id, which, self.clock.now())
            .await
        {
            Ok(campaign) => campaign,
            Err(RepositoryError::Conflict(_)) => {
                let status = self.repo.get(source).await?.map(|c| c.status);
                return Err(LifecycleError::NothingToCopy(
                    status.ok_or(LifecycleError::NotFound)?,
                ));
            }
            Err(e) => return Err(e.into()),
        };
        self.record(Action::CampaignCreated, new_id, actor).await;
        info!(
            recipients = campaign.total_emails,
            "campaign duplicated as a draft"
        );
        Ok(CreatedCampaign {
            campaign,
            duplicates_removed: 0,
            enqueued: false,
            replayed: false,
        })
    }
}
