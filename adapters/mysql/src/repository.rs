//! [`MysqlCampaignRepository`]: the [`CampaignRepository`] port on MySQL / MariaDB.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::{AsyncDieselConnectionManager, PoolError};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use paloma_application::ports::{CampaignRepository, Created, RepositoryError};
use paloma_domain::{
    Campaign, CampaignId, CampaignStatus, Idempotency, IdempotencyKey, NewCampaign, Outcome,
    OutcomeKind, Page, PageRequest, Recipient, RecipientId, RecipientStatus, RequestFingerprint,
    TimelinePoint,
};
use tracing::{Instrument, instrument};

use crate::error::{DbError, PoolTimedOut, corrupt, diesel_error, pool_error};
use crate::models::{
    CampaignRow, NewCampaignRow, NewRecipientRow, RecipientRow, from_db_time, to_db_time,
};
use crate::schema::{email_job, idempotency_key, recipient};
use crate::setup::split_url;

/// The connection pool type the repository uses.
pub type MysqlPool = bb8::Pool<AsyncDieselConnectionManager<AsyncMysqlConnection>>;

/// Rows per multi-row `INSERT` of recipients (8 placeholders each: far below MySQL's 65,535).
const INSERT_CHUNK: usize = 2_000;
/// Ids per `WHERE id IN (...)` of one `UPDATE`.
const UPDATE_CHUNK: usize = 1_000;
/// How long `get()` on the pool waits for a connection before the call fails as `Unavailable`.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);

/// The campaign store on MySQL 8 / MariaDB 10.11 (diesel-async, pure-Rust driver). Cheap to
/// clone: clones share one connection pool.
#[derive(Clone)]
pub struct MysqlCampaignRepository {
    pool: MysqlPool,
    last_error: LastError,
}

/// Keeps the pool's last background connection error, so that a timed-out `get()` can say why.
#[derive(Debug, Clone, Default)]
struct LastError(Arc<Mutex<Option<(Instant, String)>>>);

impl LastError {
    /// The last error if it is recent enough to explain a timeout that just happened.
    fn recent(&self) -> Option<String> {
        let last = self.0.lock().ok()?;
        let (at, error) = last.as_ref()?;
        (at.elapsed() <= 2 * POOL_TIMEOUT).then(|| error.clone())
    }
}

impl bb8::ErrorSink<PoolError> for LastError {
    fn sink(&self, error: PoolError) {
        tracing::debug!(error = %error, "a database connection failed");
        if let Ok(mut last) = self.0.lock() {
            *last = Some((Instant::now(), error.to_string()));
        }
    }

    fn boxed_clone(&self) -> Box<dyn bb8::ErrorSink<PoolError>> {
        Box::new(self.clone())
    }
}

impl std::fmt::Debug for MysqlCampaignRepository {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlCampaignRepository")
            .field("pool", &self.pool.state())
            .finish()
    }
}

impl MysqlCampaignRepository {
    /// Builds a pool of at most `pool_size` connections (at least 1) to `database_url`
    /// (`mysql://user:pass@host:port/db`). It does not connect yet: connections are opened on
    /// demand, so a process can start while the database is down; use [`Self::ping`] to check.
    /// Getting a connection gives up after 5 seconds, so a down database is an `Unavailable`
    /// error (naming the last connection error) rather than a hang.
    ///
    /// Errors: `Unknown` when the URL is not a `mysql://` URL.
    pub fn connect(database_url: &str, pool_size: u32) -> Result<Self, RepositoryError> {
        split_url(database_url)?;
        let manager = AsyncDieselConnectionManager::<AsyncMysqlConnection>::new(database_url);
        let last_error = LastError::default();
        let pool = bb8::Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(POOL_TIMEOUT)
            .error_sink(Box::new(last_error.clone()))
            .build_unchecked(manager);
        Ok(Self { pool, last_error })
    }

    /// Wraps an existing pool.
    pub fn from_pool(pool: MysqlPool) -> Self {
        Self {
            pool,
            last_error: LastError::default(),
        }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &MysqlPool {
        &self.pool
    }

    /// Checks that the database answers (`SELECT 1`); for readiness probes.
    /// `Unavailable` when it does not within about 5 seconds.
    #[instrument(level = "debug", skip_all)]
    pub async fn ping(&self) -> Result<(), RepositoryError> {
        let repo = self.clone();
        detached(async move {
            let mut conn = repo.conn().await?;
            diesel::sql_query("SELECT 1")
                .execute(&mut *conn)
                .await
                .map_err(diesel_error)?;
            Ok(())
        })
        .await
    }

    async fn conn(
        &self,
    ) -> Result<
        bb8::PooledConnection<'_, AsyncDieselConnectionManager<AsyncMysqlConnection>>,
        RepositoryError,
    > {
        match self.pool.get().await {
            Ok(conn) => Ok(conn),
            Err(bb8::RunError::TimedOut) => {
                Err(RepositoryError::Unavailable(Box::new(PoolTimedOut {
                    last_error: self.last_error.recent(),
                })))
            }
            Err(e) => Err(pool_error(e)),
        }
    }
}

/// Reads one campaign, locking its row for the rest of the transaction when `lock` is set.
async fn load_campaign(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    lock: bool,
) -> Result<Option<Campaign>, DbError> {
    let query = email_job::table
        .filter(email_job::id.eq(id.as_bytes().as_slice()))
        .select(CampaignRow::as_select());
    let row = if lock {
        query.for_update().first(conn).await.optional()?
    } else {
        query.first(conn).await.optional()?
    };
    Ok(row.map(Campaign::try_from).transpose()?)
}

async fn require_campaign(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    lock: bool,
) -> Result<Campaign, DbError> {
    load_campaign(conn, id, lock)
        .await?
        .ok_or(DbError::Repo(RepositoryError::NotFound(id)))
}

/// The campaign an idempotency key names, with its request's fingerprint.
async fn find_key(
    conn: &mut AsyncMysqlConnection,
    key: &IdempotencyKey,
) -> Result<Option<Created>, RepositoryError> {
    let row: Option<(Vec<u8>, Vec<u8>)> = idempotency_key::table
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
        campaign_id: crate::models::campaign_id(&campaign_id)?,
        fingerprint: RequestFingerprint::from_bytes(fingerprint),
    }))
}

/// Inserts the campaign, its idempotency key if any, and its recipients (in chunks); the caller
/// holds the transaction.
async fn insert_campaign(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    campaign: &NewCampaign,
    idempotency: Option<&Idempotency>,
    now: DateTime<Utc>,
) -> Result<Campaign, DbError> {
    let now_db = to_db_time(now);
    let total = count_u32(campaign.recipients.len())?;
    let duplicates = count_u32(campaign.duplicates_removed)?;
    let id_bytes = id.as_bytes();
    diesel::insert_into(email_job::table)
        .values(NewCampaignRow {
            id: id_bytes.as_slice(),
            subject: campaign.subject.as_str(),
            body: campaign.body.as_str(),
            status: CampaignStatus::Pending.as_str(),
            total_emails: total,
            sent_emails: 0,
            failed_emails: 0,
            duplicates_removed: duplicates,
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
                idempotency_key::email_job_id.eq(id_bytes.as_slice()),
                idempotency_key::created_at.eq(now_db),
            ))
            .execute(conn)
            .await?;
    }
    for chunk in campaign.recipients.chunks(INSERT_CHUNK) {
        let rows: Vec<NewRecipientRow<'_>> = chunk
            .iter()
            .map(|r| NewRecipientRow {
                id: RecipientId::new().as_bytes().to_vec(),
                email_job_id: id_bytes.as_slice(),
                email: r.email.as_str(),
                name: r.name.as_ref().map(|n| n.as_str()),
                status: RecipientStatus::Pending.as_str(),
                attempts: 0,
                next_attempt_at: now_db,
                updated_at: now_db,
            })
            .collect();
        diesel::insert_into(recipient::table)
            .values(&rows)
            .execute(conn)
            .await?;
    }
    Ok(Campaign {
        id,
        subject: campaign.subject.as_str().to_owned(),
        status: CampaignStatus::Pending,
        total_emails: total,
        sent_emails: 0,
        failed_emails: 0,
        duplicates_removed: duplicates,
        created_at: from_db_time(now_db),
        started_at: None,
        completed_at: None,
        updated_at: from_db_time(now_db),
    })
}

fn limit_of(n: u32) -> i64 {
    i64::from(n)
}

fn offset_of(page: PageRequest) -> i64 {
    i64::try_from(page.offset()).unwrap_or(i64::MAX)
}

fn count_u32(n: usize) -> Result<u32, RepositoryError> {
    u32::try_from(n).map_err(|e| RepositoryError::Unknown(Box::new(e)))
}

/// One bucket of [`CampaignRepository::timeline`].
#[derive(Debug, QueryableByName)]
struct TimelineRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    bucket: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    sent: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    failed: i64,
}

/// Outcomes grouped so that each group is one `UPDATE`: same target status and same values.
#[derive(Debug, Default)]
struct OutcomeGroups<'a> {
    /// attempts -> ids
    sent: HashMap<u32, Vec<&'a [u8]>>,
    /// (error, attempts) -> ids
    failed: HashMap<(&'a str, u32), Vec<&'a [u8]>>,
    /// (at, error, attempts) -> ids
    retry: HashMap<(NaiveDateTime, &'a str, u32), Vec<&'a [u8]>>,
}

impl<'a> OutcomeGroups<'a> {
    fn new(outcomes: &'a [Outcome]) -> Self {
        let mut groups = Self::default();
        for o in outcomes {
            let id = o.recipient_id.as_bytes().as_slice();
            match &o.kind {
                OutcomeKind::Sent => groups.sent.entry(o.attempts).or_default().push(id),
                OutcomeKind::Failed { error } => groups
                    .failed
                    .entry((error.as_str(), o.attempts))
                    .or_default()
                    .push(id),
                OutcomeKind::Retry { at, error } => groups
                    .retry
                    .entry((to_db_time(*at), error.as_str(), o.attempts))
                    .or_default()
                    .push(id),
            }
        }
        groups
    }
}

/// The queries themselves. The public [`MysqlCampaignRepository`] runs them through
/// [`detached`].
impl CampaignRepository for Attached {
    #[instrument(level = "debug", skip_all, fields(campaign_id = %id, recipients = campaign.recipients.len()))]
    async fn create(
        &self,
        id: CampaignId,
        campaign: &NewCampaign,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        let mut conn = self.0.conn().await?;
        let stored = conn
            .transaction(async |conn| insert_campaign(conn, id, campaign, None, now).await)
            .await?;
        tracing::debug!("campaign stored");
        Ok(stored)
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id, recipients = campaign.recipients.len()))]
    async fn create_idempotent(
        &self,
        id: CampaignId,
        campaign: &NewCampaign,
        idempotency: &Idempotency,
        now: DateTime<Utc>,
    ) -> Result<Created, RepositoryError> {
        // The common replay is answered without touching the campaign tables. (Outside the
        // transaction below, so detached: see `detached`.)
        let (repo, key) = (self.0.clone(), idempotency.key.clone());
        let taken = detached(async move {
            let mut conn = repo.conn().await?;
            find_key(&mut conn, &key).await
        })
        .await?;
        if let Some(taken) = taken {
            return Ok(taken);
        }
        let mut conn = self.0.conn().await?;
        let result = conn
            .transaction(async |conn| {
                insert_campaign(conn, id, campaign, Some(idempotency), now).await
            })
            .await;
        match result {
            Ok(stored) => {
                tracing::debug!("campaign stored");
                Ok(Created::New(stored))
            }
            // A concurrent request with the same key committed first: its campaign is the one.
            Err(DbError::Diesel(DieselError::DatabaseError(
                DatabaseErrorKind::UniqueViolation,
                _,
            ))) => find_key(&mut conn, &idempotency.key).await?.ok_or_else(|| {
                RepositoryError::Conflict("idempotency key taken but not found".into())
            }),
            Err(e) => Err(e.into()),
        }
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
    async fn is_enqueued(&self, id: CampaignId) -> Result<bool, RepositoryError> {
        let mut conn = self.0.conn().await?;
        let enqueued_at: Option<Option<NaiveDateTime>> = email_job::table
            .filter(email_job::id.eq(id.as_bytes().as_slice()))
            .select(email_job::enqueued_at)
            .first(&mut *conn)
            .await
            .optional()
            .map_err(diesel_error)?;
        enqueued_at
            .map(|at| at.is_some())
            .ok_or(RepositoryError::NotFound(id))
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
    async fn get(&self, id: CampaignId) -> Result<Option<Campaign>, RepositoryError> {
        let mut conn = self.0.conn().await?;
        Ok(load_campaign(&mut conn, id, false).await?)
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
    async fn get_body(&self, id: CampaignId) -> Result<Option<String>, RepositoryError> {
        let mut conn = self.0.conn().await?;
        email_job::table
            .filter(email_job::id.eq(id.as_bytes().as_slice()))
            .select(email_job::body)
            .first::<String>(&mut *conn)
            .await
            .optional()
            .map_err(diesel_error)
    }

    #[instrument(level = "debug", skip_all, fields(page = page.page(), per_page = page.per_page()))]
    async fn list(&self, page: PageRequest) -> Result<Page<Campaign>, RepositoryError> {
        let mut conn = self.0.conn().await?;
        let rows: Vec<CampaignRow> = email_job::table
            .select(CampaignRow::as_select())
            .order(email_job::id.desc())
            .limit(limit_of(page.per_page()))
            .offset(offset_of(page))
            .load(&mut *conn)
            .await
            .map_err(diesel_error)?;
        let total: i64 = email_job::table
            .count()
            .get_result(&mut *conn)
            .await
            .map_err(diesel_error)?;
        Ok(Page {
            items: rows
                .into_iter()
                .map(Campaign::try_from)
                .collect::<Result<_, _>>()?,
            page: page.page(),
            per_page: page.per_page(),
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id, status = ?status, page = page.page()))]
    async fn list_recipients(
        &self,
        id: CampaignId,
        status: Option<RecipientStatus>,
        page: PageRequest,
    ) -> Result<Page<Recipient>, RepositoryError> {
        let mut conn = self.0.conn().await?;
        // One transaction: the rows and the counters come from the same snapshot.
        let (campaign, rows) = conn
            .transaction(async |conn| -> Result<_, DbError> {
                let campaign = require_campaign(conn, id, false).await?;
                let mut query = recipient::table
                    .filter(recipient::email_job_id.eq(id.as_bytes().as_slice()))
                    .select(RecipientRow::as_select())
                    .order(recipient::id.asc())
                    .limit(limit_of(page.per_page()))
                    .offset(offset_of(page))
                    .into_boxed();
                if let Some(status) = status {
                    query = query.filter(recipient::status.eq(status.as_str()));
                }
                let rows: Vec<RecipientRow> = query.load(conn).await?;
                Ok((campaign, rows))
            })
            .await?;
        let total = match status {
            None => campaign.total_emails,
            Some(RecipientStatus::Sent) => campaign.sent_emails,
            Some(RecipientStatus::Failed) => campaign.failed_emails,
            Some(RecipientStatus::Pending) => campaign.pending_emails(),
        };
        Ok(Page {
            items: rows
                .into_iter()
                .map(Recipient::try_from)
                .collect::<Result<_, _>>()?,
            page: page.page(),
            per_page: page.per_page(),
            total: u64::from(total),
        })
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id, bucket_seconds))]
    async fn timeline(
        &self,
        id: CampaignId,
        bucket_seconds: u32,
    ) -> Result<Vec<TimelinePoint>, RepositoryError> {
        use diesel::sql_types::{Binary, Integer, Unsigned};
        let mut conn = self.0.conn().await?;
        // Times are stored as naive UTC, so TIMESTAMPDIFF from the epoch is independent of the
        // session's time zone (UNIX_TIMESTAMP would not be).
        let rows: Vec<TimelineRow> = diesel::sql_query(
            "SELECT CAST(TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', \
                        COALESCE(`sentAt`, `updatedAt`)) DIV ? AS SIGNED) AS bucket, \
                    CAST(SUM(`status` = 'SENT') AS SIGNED) AS sent, \
                    CAST(SUM(`status` = 'FAILED') AS SIGNED) AS failed \
             FROM `Recipient` \
             WHERE `emailJobId` = ? AND `status` IN ('SENT', 'FAILED') \
             GROUP BY bucket ORDER BY bucket",
        )
        .bind::<Unsigned<Integer>, _>(bucket_seconds.max(1))
        .bind::<Binary, _>(id.as_bytes().as_slice())
        .load(&mut *conn)
        .await
        .map_err(diesel_error)?;
        let width = i64::from(bucket_seconds.max(1));
        rows.into_iter()
            .map(|row| {
                let at = DateTime::from_timestamp(row.bucket.saturating_mul(width), 0)
                    .ok_or_else(|| corrupt("Recipient.sentAt", row.bucket.to_string()))?;
                Ok(TimelinePoint {
                    at,
                    sent: u64::try_from(row.sent).unwrap_or(0),
                    failed: u64::try_from(row.failed).unwrap_or(0),
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
    async fn mark_enqueued(
        &self,
        id: CampaignId,
        now: DateTime<Utc>,
    ) -> Result<(), RepositoryError> {
        let now_db = to_db_time(now);
        let mut conn = self.0.conn().await?;
        conn.transaction(async |conn| -> Result<(), DbError> {
            require_campaign(conn, id, true).await?;
            diesel::update(email_job::table.filter(email_job::id.eq(id.as_bytes().as_slice())))
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

    #[instrument(level = "debug", skip_all, fields(limit = limit))]
    async fn list_unfinished(
        &self,
        created_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CampaignId>, RepositoryError> {
        let mut conn = self.0.conn().await?;
        let ids: Vec<Vec<u8>> = email_job::table
            .filter(email_job::status.eq_any([
                CampaignStatus::Pending.as_str(),
                CampaignStatus::Processing.as_str(),
            ]))
            .filter(email_job::created_at.lt(to_db_time(created_before)))
            .select(email_job::id)
            .order(email_job::id.asc())
            .limit(limit_of(limit))
            .load(&mut *conn)
            .await
            .map_err(diesel_error)?;
        ids.iter()
            .map(|b| {
                CampaignId::from_slice(b).ok_or_else(|| {
                    crate::error::corrupt("EmailJob.id", format!("{} bytes", b.len()))
                })
            })
            .collect()
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
    async fn start(&self, id: CampaignId, now: DateTime<Utc>) -> Result<Campaign, RepositoryError> {
        let now_db = to_db_time(now);
        let mut conn = self.0.conn().await?;
        let campaign = conn
            .transaction(async |conn| -> Result<Campaign, DbError> {
                let campaign = require_campaign(conn, id, true).await?;
                if campaign.status.is_final() {
                    return Ok(campaign);
                }
                let status = campaign
                    .status
                    .transition(CampaignStatus::Processing)
                    .map_err(|e| RepositoryError::Conflict(e.to_string()))?;
                let started_at = campaign.started_at.map(to_db_time).unwrap_or(now_db);
                diesel::update(email_job::table.filter(email_job::id.eq(id.as_bytes().as_slice())))
                    .set((
                        email_job::status.eq(status.as_str()),
                        email_job::started_at.eq(Some(started_at)),
                        email_job::updated_at.eq(now_db),
                    ))
                    .execute(conn)
                    .await?;
                Ok(Campaign {
                    status,
                    started_at: Some(from_db_time(started_at)),
                    updated_at: from_db_time(now_db),
                    ..campaign
                })
            })
            .await?;
        Ok(campaign)
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id, limit = limit))]
    async fn claim_batch(
        &self,
        id: CampaignId,
        after: Option<RecipientId>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Recipient>, RepositoryError> {
        let mut conn = self.0.conn().await?;
        let mut query = recipient::table
            .filter(recipient::email_job_id.eq(id.as_bytes().as_slice()))
            .filter(recipient::status.eq(RecipientStatus::Pending.as_str()))
            .filter(recipient::next_attempt_at.le(to_db_time(now)))
            .select(RecipientRow::as_select())
            .order(recipient::id.asc())
            .limit(limit_of(limit))
            .into_boxed();
        if let Some(after) = after {
            query = query.filter(recipient::id.gt(after.as_bytes().to_vec()));
        }
        let rows: Vec<RecipientRow> = query.load(&mut *conn).await.map_err(diesel_error)?;
        rows.into_iter().map(Recipient::try_from).collect()
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
    async fn next_due(&self, id: CampaignId) -> Result<Option<DateTime<Utc>>, RepositoryError> {
        let mut conn = self.0.conn().await?;
        let due: Option<NaiveDateTime> = recipient::table
            .filter(recipient::email_job_id.eq(id.as_bytes().as_slice()))
            .filter(recipient::status.eq(RecipientStatus::Pending.as_str()))
            .select(diesel::dsl::min(recipient::next_attempt_at))
            .first(&mut *conn)
            .await
            .map_err(diesel_error)?;
        Ok(due.map(from_db_time))
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id, outcomes = outcomes.len()))]
    async fn record_outcomes(
        &self,
        id: CampaignId,
        outcomes: &[Outcome],
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        let now_db = to_db_time(now);
        let groups = OutcomeGroups::new(outcomes);
        let campaign_bytes = id.as_bytes().as_slice();
        let pending = RecipientStatus::Pending.as_str();
        let mut conn = self.0.conn().await?;
        let campaign = conn
            .transaction(async |conn| -> Result<Campaign, DbError> {
                // Lock the campaign first: every writer takes EmailJob before Recipient rows.
                let before = require_campaign(conn, id, true).await?;
                let mut sent: u64 = 0;
                let mut failed: u64 = 0;
                for (attempts, ids) in &groups.sent {
                    for chunk in ids.chunks(UPDATE_CHUNK) {
                        let moved = diesel::update(
                            recipient::table
                                .filter(recipient::id.eq_any(chunk))
                                .filter(recipient::email_job_id.eq(campaign_bytes))
                                .filter(recipient::status.eq(pending)),
                        )
                        .set((
                            recipient::status.eq(RecipientStatus::Sent.as_str()),
                            recipient::attempts.eq(*attempts),
                            recipient::sent_at.eq(Some(now_db)),
                            recipient::error.eq(None::<String>),
                            recipient::updated_at.eq(now_db),
                        ))
                        .execute(conn)
                        .await?;
                        sent += moved as u64;
                    }
                }
                for ((error, attempts), ids) in &groups.failed {
                    for chunk in ids.chunks(UPDATE_CHUNK) {
                        let moved = diesel::update(
                            recipient::table
                                .filter(recipient::id.eq_any(chunk))
                                .filter(recipient::email_job_id.eq(campaign_bytes))
                                .filter(recipient::status.eq(pending)),
                        )
                        .set((
                            recipient::status.eq(RecipientStatus::Failed.as_str()),
                            recipient::attempts.eq(*attempts),
                            recipient::error.eq(Some(*error)),
                            recipient::updated_at.eq(now_db),
                        ))
                        .execute(conn)
                        .await?;
                        failed += moved as u64;
                    }
                }
                for ((at, error, attempts), ids) in &groups.retry {
                    for chunk in ids.chunks(UPDATE_CHUNK) {
                        diesel::update(
                            recipient::table
                                .filter(recipient::id.eq_any(chunk))
                                .filter(recipient::email_job_id.eq(campaign_bytes))
                                .filter(recipient::status.eq(pending)),
                        )
                        .set((
                            recipient::attempts.eq(*attempts),
                            recipient::next_attempt_at.eq(*at),
                            recipient::error.eq(Some(*error)),
                            recipient::updated_at.eq(now_db),
                        ))
                        .execute(conn)
                        .await?;
                    }
                }
                let sent =
                    u32::try_from(sent).map_err(|e| RepositoryError::Unknown(Box::new(e)))?;
                let failed =
                    u32::try_from(failed).map_err(|e| RepositoryError::Unknown(Box::new(e)))?;
                diesel::update(email_job::table.filter(email_job::id.eq(campaign_bytes)))
                    .set((
                        email_job::sent_emails.eq(email_job::sent_emails + sent),
                        email_job::failed_emails.eq(email_job::failed_emails + failed),
                        email_job::updated_at.eq(now_db),
                    ))
                    .execute(conn)
                    .await?;
                Ok(Campaign {
                    sent_emails: before.sent_emails.saturating_add(sent),
                    failed_emails: before.failed_emails.saturating_add(failed),
                    updated_at: from_db_time(now_db),
                    ..before
                })
            })
            .await?;
        tracing::debug!(
            sent = campaign.sent_emails,
            failed = campaign.failed_emails,
            "outcomes recorded"
        );
        Ok(campaign)
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id, status = %status))]
    async fn finish(
        &self,
        id: CampaignId,
        status: CampaignStatus,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        let now_db = to_db_time(now);
        let mut conn = self.0.conn().await?;
        let campaign = conn
            .transaction(async |conn| -> Result<Campaign, DbError> {
                let campaign = require_campaign(conn, id, true).await?;
                if !status.is_final() {
                    return Err(RepositoryError::Conflict(format!(
                        "a campaign can only finish as COMPLETED or FAILED, not {status}"
                    ))
                    .into());
                }
                let pending = campaign.pending_emails();
                if pending > 0 {
                    return Err(RepositoryError::Conflict(format!(
                        "{pending} recipients are still pending"
                    ))
                    .into());
                }
                let status = campaign
                    .status
                    .transition(status)
                    .map_err(|e| RepositoryError::Conflict(e.to_string()))?;
                diesel::update(email_job::table.filter(email_job::id.eq(id.as_bytes().as_slice())))
                    .set((
                        email_job::status.eq(status.as_str()),
                        email_job::completed_at.eq(Some(now_db)),
                        email_job::updated_at.eq(now_db),
                    ))
                    .execute(conn)
                    .await?;
                Ok(Campaign {
                    status,
                    completed_at: Some(from_db_time(now_db)),
                    updated_at: from_db_time(now_db),
                    ..campaign
                })
            })
            .await?;
        Ok(campaign)
    }

    #[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
    async fn abandon(
        &self,
        id: CampaignId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        let now_db = to_db_time(now);
        let campaign_bytes = id.as_bytes().as_slice();
        let mut conn = self.0.conn().await?;
        let campaign = conn
            .transaction(async |conn| -> Result<Campaign, DbError> {
                let campaign = require_campaign(conn, id, true).await?;
                if campaign.status.is_final() {
                    return Ok(campaign);
                }
                let status = campaign
                    .status
                    .transition(CampaignStatus::Failed)
                    .map_err(|e| RepositoryError::Conflict(e.to_string()))?;
                let moved = diesel::update(
                    recipient::table
                        .filter(recipient::email_job_id.eq(campaign_bytes))
                        .filter(recipient::status.eq(RecipientStatus::Pending.as_str())),
                )
                .set((
                    recipient::status.eq(RecipientStatus::Failed.as_str()),
                    recipient::error.eq(Some(reason)),
                    recipient::updated_at.eq(now_db),
                ))
                .execute(conn)
                .await?;
                let moved =
                    u32::try_from(moved).map_err(|e| RepositoryError::Unknown(Box::new(e)))?;
                diesel::update(email_job::table.filter(email_job::id.eq(campaign_bytes)))
                    .set((
                        email_job::status.eq(status.as_str()),
                        email_job::failed_emails.eq(email_job::failed_emails + moved),
                        email_job::completed_at.eq(Some(now_db)),
                        email_job::updated_at.eq(now_db),
                    ))
                    .execute(conn)
                    .await?;
                Ok(Campaign {
                    status,
                    failed_emails: campaign.failed_emails.saturating_add(moved),
                    completed_at: Some(from_db_time(now_db)),
                    updated_at: from_db_time(now_db),
                    ..campaign
                })
            })
            .await?;
        Ok(campaign)
    }
}

/// Runs one repository call on a task of its own and waits for it, so that the call finishes
/// even when its caller stops waiting (an HTTP client hangs up, a timeout fires). Dropping a
/// query midway would put a half-read connection back into the pool, and the next call on it
/// would fail. (A call cancelled inside a transaction is caught by the pool anyway: an open
/// transaction marks the connection broken. That is why the transactional writes, which take
/// borrowed input, run attached.)
async fn detached<T, F>(call: F) -> Result<T, RepositoryError>
where
    F: Future<Output = Result<T, RepositoryError>> + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(call.in_current_span())
        .await
        .map_err(|e| RepositoryError::Unknown(Box::new(e)))?
}

/// The repository's calls, run by [`MysqlCampaignRepository`] either directly or detached.
struct Attached(MysqlCampaignRepository);

impl MysqlCampaignRepository {
    fn attached(&self) -> Attached {
        Attached(self.clone())
    }
}

impl CampaignRepository for MysqlCampaignRepository {
    // Transactional: cancellation-safe as they are (see `detached`).
    async fn create(
        &self,
        id: CampaignId,
        campaign: &NewCampaign,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.attached().create(id, campaign, now).await
    }

    async fn create_idempotent(
        &self,
        id: CampaignId,
        campaign: &NewCampaign,
        idempotency: &Idempotency,
        now: DateTime<Utc>,
    ) -> Result<Created, RepositoryError> {
        self.attached()
            .create_idempotent(id, campaign, idempotency, now)
            .await
    }

    async fn record_outcomes(
        &self,
        id: CampaignId,
        outcomes: &[Outcome],
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.attached().record_outcomes(id, outcomes, now).await
    }

    async fn abandon(
        &self,
        id: CampaignId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.attached().abandon(id, reason, now).await
    }

    // Single statements: detached.
    async fn is_enqueued(&self, id: CampaignId) -> Result<bool, RepositoryError> {
        let repo = self.attached();
        detached(async move { repo.is_enqueued(id).await }).await
    }

    async fn get(&self, id: CampaignId) -> Result<Option<Campaign>, RepositoryError> {
        let repo = self.attached();
        detached(async move { repo.get(id).await }).await
    }

    async fn get_body(&self, id: CampaignId) -> Result<Option<String>, RepositoryError> {
        let repo = self.attached();
        detached(async move { repo.get_body(id).await }).await
    }

    async fn list(&self, page: PageRequest) -> Result<Page<Campaign>, RepositoryError> {
        let repo = self.attached();
        detached(async move { repo.list(page).await }).await
    }

    async fn list_recipients(
        &self,
        id: CampaignId,
        status: Option<RecipientStatus>,
        page: PageRequest,
    ) -> Result<Page<Recipient>, RepositoryError> {
        let repo = self.attached();
        detached(async move { repo.list_recipients(id, status, page).await }).await
    }

    async fn timeline(
        &self,
        id: CampaignId,
        bucket_seconds: u32,
    ) -> Result<Vec<TimelinePoint>, RepositoryError> {
        let repo = self.attached();
        detached(async move { repo.timeline(id, bucket_seconds).await }).await
    }

    async fn mark_enqueued(
        &self,
        id: CampaignId,
        now: DateTime<Utc>,
    ) -> Result<(), RepositoryError> {
        let repo = self.attached();
        detached(async move { repo.mark_enqueued(id, now).await }).await
    }

    async fn list_unfinished(
        &self,
        created_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CampaignId>, RepositoryError> {
        let repo = self.attached();
        detached(async move { repo.list_unfinished(created_before, limit).await }).await
    }

    async fn start(&self, id: CampaignId, now: DateTime<Utc>) -> Result<Campaign, RepositoryError> {
        let repo = self.attached();
        detached(async move { repo.start(id, now).await }).await
    }

    async fn claim_batch(
        &self,
        id: CampaignId,
        after: Option<RecipientId>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Recipient>, RepositoryError> {
        let repo = self.attached();
        detached(async move { repo.claim_batch(id, after, now, limit).await }).await
    }

    async fn next_due(&self, id: CampaignId) -> Result<Option<DateTime<Utc>>, RepositoryError> {
        let repo = self.attached();
        detached(async move { repo.next_due(id).await }).await
    }

    async fn finish(
        &self,
        id: CampaignId,
        status: CampaignStatus,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        let repo = self.attached();
        detached(async move { repo.finish(id, status, now).await }).await
    }
}
