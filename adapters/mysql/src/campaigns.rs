//! The [`CampaignStore`] port: storing and reading one campaign, as plain functions over a
//! connection, and the one impl that runs them (and those of [`listing`](crate::listing) and
//! [`lifecycle`](crate::lifecycle)) on [`MysqlDatabase`]'s pool.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use futures::FutureExt;
use paloma_application::ports::{CampaignStore, Created, RepositoryError};
use paloma_domain::{
    Campaign, CampaignEdit, CampaignFilter, CampaignId, Control, DuplicateRecipients, EmailAddress,
    Idempotency, IdempotencyKey, NewCampaign, NewRecipient, Page, PageRequest, Recipient,
    RecipientName, RecipientStatus, RequestFingerprint, RetryScope, TimelinePoint,
};
use tracing::instrument;

use crate::db::MysqlDatabase;
use crate::error::{DbError, corrupt, diesel_error};
use crate::ids::DbId;
use crate::insert::{insert_recipients, mark_suppressed};
use crate::models::{CampaignRow, NewCampaignRow, count_u32, from_db_time, to_db_time};
use crate::schema::{email_job, idempotency_key, recipient};
use crate::{
    lifecycle::{control, reschedule, retry_failed},
    listing::{count_active, list, list_recipients, timeline},
};

/// Reads one campaign, locking its row for the rest of the transaction when `lock` is set.
pub(crate) async fn load(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    lock: bool,
) -> Result<Option<Campaign>, DbError> {
    let query = email_job::table
        .filter(email_job::id.eq(DbId::campaign(id)))
        .select(CampaignRow::as_select());
    let row = if lock {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    Ok(row.map(Campaign::try_from).transpose()?)
}

/// Like [`load`], and `NotFound` when there is no such campaign.
pub(crate) async fn require(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    lock: bool,
) -> Result<Campaign, DbError> {
    load(conn, id, lock)
        .await?
        .ok_or(DbError::Repo(RepositoryError::NotFound(id)))
}

/// See [`CampaignStore::create`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id, recipients = campaign.recipients.len()))]
pub(crate) async fn create(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    campaign: &NewCampaign,
    now: DateTime<Utc>,
) -> Result<Campaign, RepositoryError> {
    let stored = conn
        .transaction(async |conn| insert(conn, id, campaign, None, now).await)
        .await?;
    tracing::debug!("campaign stored");
    Ok(stored)
}

/// See [`CampaignStore::create_idempotent`]. (The impl first asks [`find_key`] on a connection
/// of its own, so that the common replay touches no campaign table.)
#[instrument(level = "debug", skip_all, fields(campaign_id = %id, recipients = campaign.recipients.len()))]
pub(crate) async fn create_idempotent(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    campaign: &NewCampaign,
    idempotency: &Idempotency,
    now: DateTime<Utc>,
) -> Result<Created, RepositoryError> {
    let result = conn
        .transaction(async |conn| insert(conn, id, campaign, Some(idempotency), now).await)
        .await;
    match result {
        Ok(stored) => {
            tracing::debug!("campaign stored");
            Ok(Created::New(stored))
        }
        // A concurrent request with the same key committed first: its campaign is the one.
        Err(DbError::Diesel(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _))) => {
            find_key(conn, &idempotency.key).await?.ok_or_else(|| {
                RepositoryError::Conflict("idempotency key taken but not found".into())
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The campaign an idempotency key names, with its request's fingerprint.
pub(crate) async fn find_key(
    conn: &mut AsyncMysqlConnection,
    key: &IdempotencyKey,
) -> Result<Option<Created>, RepositoryError> {
    let row: Option<(DbId, Vec<u8>)> = idempotency_key::table
        .filter(idempotency_key::key.eq(key.as_str().as_bytes()))
        .select((idempotency_key::email_job_id, idempotency_key::fingerprint))
        .first(conn)
        .await
        .optional()
        .map_err(diesel_error)?;
    let Some((campaign_id, fingerprint)) = row else {
        return Ok(None);
    };
    let fingerprint: [u8; 32] = fingerprint.try_into().map_err(|f: Vec<u8>| {
        corrupt("IdempotencyKey.fingerprint", format!("{} bytes", f.len()))
    })?;
    Ok(Some(Created::KeyTaken {
        campaign_id: campaign_id.into(),
        fingerprint: RequestFingerprint::from_bytes(fingerprint),
    }))
}

/// Inserts the campaign, its idempotency key if any, and its recipients (in chunks); the caller
/// holds the transaction.
pub(crate) async fn insert(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    campaign: &NewCampaign,
    idempotency: Option<&Idempotency>,
    now: DateTime<Utc>,
) -> Result<Campaign, DbError> {
    let now_db = to_db_time(now);
    let total = count_u32(campaign.recipients.len())?;
    let duplicates = count_u32(campaign.duplicates_removed)?;
    let db_id = DbId::campaign(id);
    diesel::insert_into(email_job::table)
        .values(NewCampaignRow {
            id: db_id,
            subject: campaign.subject.as_str(),
            body: campaign.body.as_str(),
            status: campaign.initial_status().as_str(),
            total_emails: total,
            sent_emails: 0,
            failed_emails: 0,
            duplicates_removed: duplicates,
            scheduled_at: campaign.scheduled_at.map(to_db_time),
            merge_tags: campaign.merge_tags,
            from_name: campaign.sender.from_name.as_ref().map(|n| n.as_str()),
            from_email: campaign.sender.from_email.as_ref().map(|e| e.as_str()),
            reply_to: campaign.sender.reply_to.as_ref().map(|e| e.as_str()),
            created_at: now_db,
            updated_at: now_db,
        })
        .execute(conn)
        .await?;
    // Before the recipients: a concurrent request with the same key fails here, early.
    if let Some(idempotency) = idempotency {
        diesel::insert_into(idempotency_key::table)
            .values((
                idempotency_key::key.eq(idempotency.key.as_str().as_bytes()),
                idempotency_key::fingerprint.eq(idempotency.fingerprint.as_bytes().as_slice()),
                idempotency_key::email_job_id.eq(db_id),
                idempotency_key::created_at.eq(now_db),
            ))
            .execute(conn)
            .await?;
    }
    insert_recipients(conn, db_id, &campaign.recipients, now_db).await?;
    let suppressed = count_u32(mark_suppressed(conn, db_id, now_db).await?)?;
    Ok(Campaign {
        id,
        subject: campaign.subject.as_str().to_owned(),
        status: campaign.initial_status(),
        total_emails: total,
        sent_emails: 0,
        failed_emails: 0,
        cancelled_emails: 0,
        suppressed_emails: suppressed,
        duplicates_removed: duplicates,
        scheduled_at: campaign.scheduled_at.map(to_db_time).map(from_db_time),
        stop_reason: None,
        merge_tags: campaign.merge_tags,
        from_name: campaign
            .sender
            .from_name
            .as_ref()
            .map(|n| n.as_str().to_owned()),
        from_email: campaign
            .sender
            .from_email
            .as_ref()
            .map(|e| e.as_str().to_owned()),
        reply_to: campaign
            .sender
            .reply_to
            .as_ref()
            .map(|e| e.as_str().to_owned()),
        created_at: from_db_time(now_db),
        started_at: None,
        completed_at: None,
        updated_at: from_db_time(now_db),
    })
}

/// See [`CampaignStore::is_enqueued`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
pub(crate) async fn is_enqueued(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
) -> Result<bool, RepositoryError> {
    let enqueued_at: Option<Option<NaiveDateTime>> = email_job::table
        .filter(email_job::id.eq(DbId::campaign(id)))
        .select(email_job::enqueued_at)
        .first(conn)
        .await
        .optional()
        .map_err(diesel_error)?;
    enqueued_at
        .map(|at| at.is_some())
        .ok_or(RepositoryError::NotFound(id))
}

/// See [`CampaignStore::get`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
pub(crate) async fn get(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
) -> Result<Option<Campaign>, RepositoryError> {
    Ok(load(conn, id, false).await?)
}

/// See [`CampaignStore::get_body`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
/// See [`CampaignStore::recipients_for_tags`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
async fn recipients_for_tags(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
) -> Result<Vec<NewRecipient>, RepositoryError> {
    let rows: Vec<(String, Option<String>, Option<String>)> = recipient::table
        .filter(recipient::email_job_id.eq(DbId::campaign(id)))
        .order(recipient::id.asc())
        .select((recipient::email, recipient::name, recipient::fields))
        .load(conn)
        .await
        .map_err(diesel_error)?;
    Ok(rows
        .into_iter()
        .filter_map(|(email, name, fields)| {
            Some(NewRecipient {
                email: EmailAddress::parse(&email).ok()?,
                name: RecipientName::parse(name.as_deref()).ok()?,
                fields: crate::models::fields_of(fields.as_deref()).ok()?,
            })
        })
        .collect())
}

pub(crate) async fn get_body(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
) -> Result<Option<String>, RepositoryError> {
    email_job::table
        .filter(email_job::id.eq(DbId::campaign(id)))
        .select(email_job::body)
        .first::<String>(conn)
        .await
        .optional()
        .map_err(diesel_error)
}

/// See [`CampaignStore::mark_enqueued`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
pub(crate) async fn mark_enqueued(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    now: DateTime<Utc>,
) -> Result<(), RepositoryError> {
    let now_db = to_db_time(now);
    conn.transaction(async |conn| -> Result<(), DbError> {
        require(conn, id, true).await?;
        diesel::update(email_job::table.filter(email_job::id.eq(DbId::campaign(id))))
            .set((
                email_job::enqueued_at.eq(Some(now_db)),
                email_job::updated_at.eq(now_db),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await?;
    Ok(())
}

/// Each method takes a connection and calls the query function of the same name above. The
/// transactional writes that borrow their input run on the caller's task; the rest run
/// detached (see [`MysqlDatabase::detached`]).
impl CampaignStore for MysqlDatabase {
    async fn create(
        &self,
        id: CampaignId,
        campaign: &NewCampaign,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        create(&mut *self.conn().await?, id, campaign, now).await
    }

    async fn create_idempotent(
        &self,
        id: CampaignId,
        campaign: &NewCampaign,
        idempotency: &Idempotency,
        now: DateTime<Utc>,
    ) -> Result<Created, RepositoryError> {
        // The common replay is answered without touching the campaign tables.
        let key = idempotency.key.clone();
        let taken = self
            .detached(move |conn| async move { find_key(conn, &key).await }.boxed())
            .await?;
        if let Some(taken) = taken {
            return Ok(taken);
        }
        create_idempotent(&mut *self.conn().await?, id, campaign, idempotency, now).await
    }

    async fn is_enqueued(&self, id: CampaignId) -> Result<bool, RepositoryError> {
        self.detached(move |conn| is_enqueued(conn, id).boxed())
            .await
    }

    async fn get(&self, id: CampaignId) -> Result<Option<Campaign>, RepositoryError> {
        self.detached(move |conn| get(conn, id).boxed()).await
    }

    async fn get_body(&self, id: CampaignId) -> Result<Option<String>, RepositoryError> {
        self.detached(move |conn| get_body(conn, id).boxed()).await
    }

    async fn recipients_for_tags(
        &self,
        id: CampaignId,
    ) -> Result<Vec<NewRecipient>, RepositoryError> {
        self.detached(move |conn| recipients_for_tags(conn, id).boxed())
            .await
    }

    async fn list(
        &self,
        filter: &CampaignFilter,
        page: PageRequest,
    ) -> Result<Page<Campaign>, RepositoryError> {
        let filter = filter.clone();
        self.detached(move |conn| async move { list(conn, &filter, page).await }.boxed())
            .await
    }

    async fn count_active(&self) -> Result<u64, RepositoryError> {
        self.detached(move |conn| count_active(conn).boxed()).await
    }

    async fn queued_ahead(&self, id: CampaignId) -> Result<Option<u64>, RepositoryError> {
        self.detached(move |conn| crate::listing::queued_ahead(conn, id).boxed())
            .await
    }

    async fn count_untried(&self, id: CampaignId) -> Result<u64, RepositoryError> {
        self.detached(move |conn| crate::listing::count_untried(conn, id).boxed())
            .await
    }

    async fn list_recipients(
        &self,
        id: CampaignId,
        status: Option<RecipientStatus>,
        page: PageRequest,
    ) -> Result<Page<Recipient>, RepositoryError> {
        self.detached(move |conn| list_recipients(conn, id, status, page).boxed())
            .await
    }

    async fn timeline(
        &self,
        id: CampaignId,
        bucket_seconds: u32,
    ) -> Result<Vec<TimelinePoint>, RepositoryError> {
        self.detached(move |conn| timeline(conn, id, bucket_seconds).boxed())
            .await
    }

    async fn control(
        &self,
        id: CampaignId,
        control: Control,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.detached(move |conn| self::control(conn, id, control, now).boxed())
            .await
    }

    async fn edit(
        &self,
        id: CampaignId,
        edit: &CampaignEdit,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        crate::edit::edit(&mut *self.conn().await?, id, edit, now).await
    }

    async fn duplicate(
        &self,
        source: CampaignId,
        new_id: CampaignId,
        which: DuplicateRecipients,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.detached(move |conn| crate::edit::duplicate(conn, source, new_id, which, now).boxed())
            .await
    }

    async fn reschedule(
        &self,
        id: CampaignId,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.detached(move |conn| reschedule(conn, id, at, now).boxed())
            .await
    }

    async fn retry_failed(
        &self,
        id: CampaignId,
        scope: RetryScope,
        now: DateTime<Utc>,
    ) -> Result<(Campaign, u32), RepositoryError> {
        self.detached(move |conn| retry_failed(conn, id, scope, now).boxed())
            .await
    }

    async fn mark_enqueued(
        &self,
        id: CampaignId,
        now: DateTime<Utc>,
    ) -> Result<(), RepositoryError> {
        self.detached(move |conn| mark_enqueued(conn, id, now).boxed())
            .await
    }
}
