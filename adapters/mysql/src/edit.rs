//! The [`CampaignStore`](paloma_application::ports::CampaignStore) writes that change what a
//! campaign sends before it is sent: an edit of a draft or a scheduled campaign, and a
//! duplicate of any campaign as a new draft.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use paloma_application::ports::RepositoryError;
use paloma_domain::{
    Campaign, CampaignEdit, CampaignId, CampaignSender, CampaignStatus, DuplicateRecipients,
    EmailAddress, HtmlBody, NewCampaign, NewRecipient, RecipientName, RecipientStatus, Subject,
};
use tracing::instrument;

use crate::campaigns::{insert, require};
use crate::error::DbError;
use crate::ids::DbId;
use crate::insert::{insert_recipients, mark_suppressed};
use crate::models::{count_u32, fields_of, to_db_time};
use crate::schema::{email_job, recipient};

/// See [`CampaignStore::edit`](paloma_application::ports::CampaignStore::edit). The campaign's
/// row is locked first, so an edit and a worker starting it, or a send, happen one after the
/// other: once it is sending, the edit is refused.
#[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
pub(crate) async fn edit(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    edit: &CampaignEdit,
    now: DateTime<Utc>,
) -> Result<Campaign, RepositoryError> {
    let now_db = to_db_time(now);
    let db_id = DbId::campaign(id);
    let campaign = conn
        .transaction(async |conn| -> Result<Campaign, DbError> {
            let campaign = require(conn, id, true).await?;
            let editable = match campaign.status {
                CampaignStatus::Draft => true,
                // A scheduled campaign keeps a time: `send` sends it now.
                CampaignStatus::Scheduled => edit.scheduled_at != Some(None),
                _ => false,
            };
            if !editable {
                return Err(RepositoryError::Conflict(format!(
                    "campaign {id} is {}: it cannot be edited",
                    campaign.status
                ))
                .into());
            }
            if let Some((list, _)) = &edit.recipients {
                diesel::delete(recipient::table.filter(recipient::email_job_id.eq(db_id)))
                    .execute(conn)
                    .await?;
                insert_recipients(conn, db_id, list, now_db).await?;
                // The old list's suppressed rows are gone with it: the count restarts.
                diesel::update(email_job::table.filter(email_job::id.eq(db_id)))
                    .set((
                        email_job::suppressed_emails.eq(0),
                        email_job::updated_at.eq(now_db),
                    ))
                    .execute(conn)
                    .await?;
                mark_suppressed(conn, db_id, now_db).await?;
            }
            let counts = edit
                .recipients
                .as_ref()
                .map(|(list, duplicates)| {
                    Ok::<_, DbError>((count_u32(list.len())?, count_u32(*duplicates)?))
                })
                .transpose()?;
            // One statement for every column the edit changes (`updatedAt` named, or `ON
            // UPDATE` would stamp the database's clock over `now`).
            diesel::update(email_job::table.filter(email_job::id.eq(db_id)))
                .set(&EditColumns {
                    subject: edit.subject.as_ref().map(Subject::as_str),
                    body: edit.body.as_ref().map(HtmlBody::as_str),
                    scheduled_at: edit.scheduled_at.map(|at| at.map(to_db_time)),
                    total_emails: counts.map(|(total, _)| total),
                    duplicates_removed: counts.map(|(_, duplicates)| duplicates),
                    merge_tags: edit.merge_tags,
                    updated_at: now_db,
                })
                .execute(conn)
                .await?;
            require(conn, id, false).await
        })
        .await?;
    Ok(campaign)
}

/// The `EmailJob` columns an edit writes; a `None` leaves its column alone (`Some(None)` for
/// `scheduledAt` writes `NULL`).
#[derive(AsChangeset)]
#[diesel(table_name = email_job, check_for_backend(diesel::mysql::Mysql))]
struct EditColumns<'a> {
    subject: Option<&'a str>,
    body: Option<&'a str>,
    scheduled_at: Option<Option<NaiveDateTime>>,
    total_emails: Option<u32>,
    duplicates_removed: Option<u32>,
    merge_tags: Option<bool>,
    updated_at: NaiveDateTime,
}

/// See [`CampaignStore::duplicate`](paloma_application::ports::CampaignStore::duplicate).
#[instrument(level = "debug", skip_all, fields(campaign_id = %source, new_id = %new_id, ?which))]
pub(crate) async fn duplicate(
    conn: &mut AsyncMysqlConnection,
    source: CampaignId,
    new_id: CampaignId,
    which: DuplicateRecipients,
    now: DateTime<Utc>,
) -> Result<Campaign, RepositoryError> {
    let campaign = conn
        .transaction(async |conn| -> Result<Campaign, DbError> {
            let original = require(conn, source, false).await?;
            let body: String = email_job::table
                .filter(email_job::id.eq(DbId::campaign(source)))
                .select(email_job::body)
                .first(conn)
                .await?;
            let statuses: &[RecipientStatus] = match which {
                DuplicateRecipients::All => &RecipientStatus::ALL,
                DuplicateRecipients::Failed => &[RecipientStatus::Failed],
                DuplicateRecipients::Unsent => &[
                    RecipientStatus::Pending,
                    RecipientStatus::Failed,
                    RecipientStatus::Cancelled,
                ],
            };
            let rows: Vec<(String, Option<String>, Option<String>)> = recipient::table
                .filter(recipient::email_job_id.eq(DbId::campaign(source)))
                .filter(recipient::status.eq_any(statuses.iter().map(RecipientStatus::as_str)))
                .order(recipient::id.asc())
                .select((recipient::email, recipient::name, recipient::fields))
                .load(conn)
                .await?;
            if rows.is_empty() {
                return Err(RepositoryError::Conflict(format!(
                    "campaign {source} has no recipients to copy ({which:?})"
                ))
                .into());
            }
            let copy = NewCampaign {
                subject: stored(Subject::parse(&original.subject), "EmailJob.subject")?,
                body: stored(HtmlBody::parse(body), "EmailJob.body")?,
                recipients: rows
                    .into_iter()
                    .map(|(email, name, fields)| {
                        Ok(NewRecipient {
                            email: stored(EmailAddress::parse(&email), "Recipient.email")?,
                            name: stored(RecipientName::parse(name.as_deref()), "Recipient.name")?,
                            fields: fields_of(fields.as_deref())?,
                        })
                    })
                    .collect::<Result<_, DbError>>()?,
                duplicates_removed: 0,
                draft: true,
                scheduled_at: None,
                // The same content for the same recipients (or some of them): checked then.
                merge_tags: original.merge_tags,
                sender: CampaignSender {
                    from_name: stored(
                        RecipientName::parse(original.from_name.as_deref()),
                        "EmailJob.fromName",
                    )?,
                    from_email: original
                        .from_email
                        .as_deref()
                        .map(|e| stored(EmailAddress::parse(e), "EmailJob.fromEmail"))
                        .transpose()?,
                    reply_to: original
                        .reply_to
                        .as_deref()
                        .map(|e| stored(EmailAddress::parse(e), "EmailJob.replyTo"))
                        .transpose()?,
                },
            };
            insert(conn, new_id, &copy, None, now).await
        })
        .await?;
    Ok(campaign)
}

/// A stored value that must pass the domain's rules to be copied (another stack may have
/// written one that does not).
fn stored<T, E: std::fmt::Display>(parsed: Result<T, E>, column: &str) -> Result<T, DbError> {
    parsed.map_err(|e| {
        DbError::Repo(RepositoryError::Unknown(
            format!("{column} cannot be copied: {e}").into(),
        ))
    })
}
