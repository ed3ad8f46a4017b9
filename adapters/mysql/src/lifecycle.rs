//! The [`CampaignStore`](paloma_application::ports::CampaignStore) moves of a stored campaign:
//! a user's [`Control`] (send a draft, pause, resume, cancel), a finished campaign's failed
//! recipients sent again.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use paloma_application::ports::RepositoryError;
use paloma_domain::{Campaign, CampaignId, CampaignStatus, Control, RecipientStatus, RetryScope};
use tracing::instrument;

use crate::error::DbError;
use crate::ids::DbId;
use crate::models::{count_u32, to_db_time};
use crate::schema::{email_job, recipient};

use crate::campaigns::require;
use crate::delivery::{Among, update_recipients};
use crate::models::RecipientChange;

/// See [`CampaignStore::control`](paloma_application::ports::CampaignStore::control). The
/// campaign's row is locked first, so concurrent moves (two resumes, a pause and a cancel, a
/// worker recording outcomes) happen one after the other and each sees the status the one
/// before it left: of two sends of one draft, one releases it and the other finds it `PENDING`.
#[instrument(level = "debug", skip_all, fields(campaign_id = %id, ?control))]
pub(crate) async fn control(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    control: Control,
    now: DateTime<Utc>,
) -> Result<Campaign, RepositoryError> {
    let now_db = to_db_time(now);
    let db_id = DbId::campaign(id);
    let campaign = conn
        .transaction(async |conn| -> Result<Campaign, DbError> {
            let campaign = require(conn, id, true).await?;
            if !control.applies_to(campaign.status) {
                return Err(RepositoryError::Conflict(format!(
                    "campaign {id} is {}: {control:?} does not apply",
                    campaign.status
                ))
                .into());
            }
            let target = control.target(campaign.status, campaign.scheduled_at, now);
            if control == Control::Cancel {
                let cancelled = RecipientChange {
                    status: Some(RecipientStatus::Cancelled.as_str()),
                    attempts: None,
                    next_attempt_at: None,
                    sent_at: None,
                    error: None,
                    permanent_failure: None,
                    updated_at: now_db,
                };
                let moved = count_u32(
                    update_recipients(conn, id, RecipientStatus::Pending, Among::All, &cancelled)
                        .await?,
                )?;
                diesel::update(email_job::table.filter(email_job::id.eq(db_id)))
                    .set((
                        email_job::status.eq(target.as_str()),
                        email_job::cancelled_emails.eq(email_job::cancelled_emails + moved),
                        email_job::completed_at.eq(now_db),
                        email_job::updated_at.eq(now_db),
                    ))
                    .execute(conn)
                    .await?;
                crate::shards::forget_shards(conn, id).await?;
            } else {
                diesel::update(email_job::table.filter(email_job::id.eq(db_id)))
                    .set((
                        email_job::status.eq(target.as_str()),
                        email_job::updated_at.eq(now_db),
                    ))
                    .execute(conn)
                    .await?;
            }
            require(conn, id, false).await
        })
        .await?;
    Ok(campaign)
}

/// See [`CampaignStore::reschedule`](paloma_application::ports::CampaignStore::reschedule).
#[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
pub(crate) async fn reschedule(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Campaign, RepositoryError> {
    let now_db = to_db_time(now);
    let campaign = conn
        .transaction(async |conn| -> Result<Campaign, DbError> {
            let campaign = require(conn, id, true).await?;
            if campaign.status != CampaignStatus::Scheduled {
                return Err(RepositoryError::Conflict(format!(
                    "campaign {id} is {}, not scheduled",
                    campaign.status
                ))
                .into());
            }
            diesel::update(email_job::table.filter(email_job::id.eq(DbId::campaign(id))))
                .set((
                    email_job::scheduled_at.eq(Some(to_db_time(at))),
                    email_job::updated_at.eq(now_db),
                ))
                .execute(conn)
                .await?;
            require(conn, id, false).await
        })
        .await?;
    Ok(campaign)
}

/// See [`CampaignStore::retry_failed`](paloma_application::ports::CampaignStore::retry_failed). The campaign's row is locked first, so a worker
/// recording outcomes or another retry waits for this one; the recipients and the counter move
/// in the same transaction.
#[instrument(level = "debug", skip_all, fields(campaign_id = %id, ?scope))]
pub(crate) async fn retry_failed(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    scope: RetryScope,
    now: DateTime<Utc>,
) -> Result<(Campaign, u32), RepositoryError> {
    let now_db = to_db_time(now);
    let db_id = DbId::campaign(id);
    let moved = conn
        .transaction(async |conn| -> Result<(Campaign, u32), DbError> {
            let campaign = require(conn, id, true).await?;
            if !campaign.status.is_retryable() {
                return Err(RepositoryError::Conflict(format!(
                    "campaign {id} is {}, not finished by itself",
                    campaign.status
                ))
                .into());
            }
            let failed = recipient::table
                .filter(recipient::email_job_id.eq(db_id))
                .filter(recipient::status.eq(RecipientStatus::Failed.as_str()));
            let back = (
                recipient::status.eq(RecipientStatus::Pending.as_str()),
                recipient::attempts.eq(0),
                recipient::error.eq(None::<String>),
                recipient::next_attempt_at.eq(now_db),
                recipient::permanent_failure.eq(false),
                recipient::updated_at.eq(now_db),
            );
            let moved = match scope {
                RetryScope::All => diesel::update(failed).set(back).execute(conn).await?,
                RetryScope::Transient => {
                    diesel::update(failed.filter(recipient::permanent_failure.eq(false)))
                        .set(back)
                        .execute(conn)
                        .await?
                }
            };
            let moved = count_u32(moved)?;
            if moved == 0 {
                return Ok((campaign, 0));
            }
            diesel::update(email_job::table.filter(email_job::id.eq(db_id)))
                .set((
                    email_job::failed_emails.eq(email_job::failed_emails - moved),
                    email_job::status.eq(CampaignStatus::Pending.as_str()),
                    email_job::completed_at.eq(None::<NaiveDateTime>),
                    email_job::stop_reason.eq(None::<String>),
                    email_job::failed_runs.eq(0),
                    email_job::updated_at.eq(now_db),
                ))
                .execute(conn)
                .await?;
            Ok((require(conn, id, false).await?, moved))
        })
        .await?;
    Ok(moved)
}
