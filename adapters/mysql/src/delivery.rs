//! The [`DeliveryLedger`] port: its queries, as plain functions over a connection, and the one
//! impl that runs them on [`MysqlDatabase`]'s pool.

use std::collections::HashMap;

use chrono::{DateTime, DurationRound, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use futures::FutureExt;
use paloma_application::ports::{DeliveryLedger, RepositoryError};
use paloma_domain::{
    Campaign, CampaignId, CampaignStatus, Outcome, OutcomeKind, Recipient, RecipientId,
    RecipientStatus,
};
use tracing::instrument;

use crate::campaigns::require;
use crate::db::MysqlDatabase;
use crate::error::{DbError, diesel_error};
use crate::ids::DbId;
use crate::insert::mark_suppressed;
use crate::models::{
    RecipientChange, RecipientRow, count_u32, cut_chars, from_db_time, limit_of, to_db_time,
};
use crate::schema::{email_job, recipient};
use crate::shards::forget_shards;

/// Ids per `WHERE id IN (...)` of one `UPDATE`.
const UPDATE_CHUNK: usize = 1_000;

/// Which of a campaign's recipients in one status [`update_recipients`] changes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Among<'a> {
    /// Every one.
    All,
    /// Those with these ids (in chunks of [`UPDATE_CHUNK`]).
    Ids(&'a [DbId]),
}

/// Applies `change` to the campaign's recipients that are still in status `from` (usually
/// `PENDING`; all of them, or those among some ids) and returns how many rows it changed.
/// Recipients that moved on are left alone, so an outcome recorded twice counts once. The
/// caller holds the transaction and the campaign's row lock.
pub(crate) async fn update_recipients(
    conn: &mut AsyncMysqlConnection,
    campaign: CampaignId,
    from: RecipientStatus,
    which: Among<'_>,
    change: &RecipientChange<'_>,
) -> Result<usize, DbError> {
    let campaign_id = DbId::campaign(campaign);
    let in_status_of_campaign = || {
        diesel::update(recipient::table)
            .filter(recipient::email_job_id.eq(campaign_id))
            .filter(recipient::status.eq(from.as_str()))
    };
    let mut moved: usize = 0;
    match which {
        Among::All => moved += in_status_of_campaign().set(change).execute(conn).await?,
        Among::Ids(ids) => {
            for chunk in ids.chunks(UPDATE_CHUNK) {
                moved += in_status_of_campaign()
                    .filter(recipient::id.eq_any(chunk))
                    .set(change)
                    .execute(conn)
                    .await?;
            }
        }
    }
    Ok(moved)
}

/// A campaign's move to another status: the status and `updatedAt`, the time it started or
/// ended when the move sets one, and the failures it counts. One helper for `start`, `finish`
/// and `abandon`, so the row and the campaign they answer cannot disagree.
struct StatusChange {
    status: CampaignStatus,
    started_at: Option<NaiveDateTime>,
    completed_at: Option<NaiveDateTime>,
    failed_added: u32,
    now: NaiveDateTime,
}

/// The columns of a [`StatusChange`]; a time left `None` is not written.
#[derive(AsChangeset)]
#[diesel(table_name = email_job, check_for_backend(diesel::mysql::Mysql))]
struct StatusColumns {
    status: &'static str,
    started_at: Option<NaiveDateTime>,
    completed_at: Option<NaiveDateTime>,
    updated_at: NaiveDateTime,
}

impl StatusChange {
    /// Writes the change to `campaign`'s row (the caller holds the transaction and the row
    /// lock) and returns the campaign as it now is.
    async fn write(
        self,
        conn: &mut AsyncMysqlConnection,
        campaign: Campaign,
    ) -> Result<Campaign, DbError> {
        diesel::update(email_job::table.filter(email_job::id.eq(DbId::campaign(campaign.id))))
            .set((
                &StatusColumns {
                    status: self.status.as_str(),
                    started_at: self.started_at,
                    completed_at: self.completed_at,
                    updated_at: self.now,
                },
                email_job::failed_emails.eq(email_job::failed_emails + self.failed_added),
            ))
            .execute(conn)
            .await?;
        Ok(Campaign {
            status: self.status,
            failed_emails: campaign.failed_emails.saturating_add(self.failed_added),
            started_at: self.started_at.map(from_db_time).or(campaign.started_at),
            completed_at: self
                .completed_at
                .map(from_db_time)
                .or(campaign.completed_at),
            updated_at: from_db_time(self.now),
            ..campaign
        })
    }
}

/// See [`DeliveryLedger::start`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
pub(crate) async fn start(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    now: DateTime<Utc>,
) -> Result<Campaign, RepositoryError> {
    let now_db = to_db_time(now);
    let campaign = conn
        .transaction(async |conn| -> Result<Campaign, DbError> {
            // The campaign's row first, as every other writer of the campaign takes it (a
            // cancel locks it, then moves its recipients): rows first here deadlocked with a
            // cancel at the moment the worker started the campaign.
            let locked = require(conn, id, true).await?;
            // An address suppressed since the campaign was stored is not sent either.
            let campaign = if mark_suppressed(conn, DbId::campaign(id), now_db).await? > 0 {
                require(conn, id, false).await?
            } else {
                locked
            };
            // A final campaign has nothing to start; a draft, a paused campaign and one
            // scheduled later must not start.
            let due = campaign.status == CampaignStatus::Scheduled
                && campaign.scheduled_at.is_none_or(|at| at <= now);
            if !campaign.status.awaits_delivery() && !due {
                return Ok(campaign);
            }
            let status = campaign
                .status
                .transition(CampaignStatus::Processing)
                .map_err(|e| RepositoryError::Conflict(e.to_string()))?;
            let started_at = campaign.started_at.map(to_db_time).unwrap_or(now_db);
            let change = StatusChange {
                status,
                started_at: Some(started_at),
                completed_at: None,
                failed_added: 0,
                now: now_db,
            };
            change.write(conn, campaign).await
        })
        .await?;
    Ok(campaign)
}

/// See [`DeliveryLedger::due_recipients`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id, limit = limit))]
pub(crate) async fn due_recipients(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    after: Option<RecipientId>,
    through: Option<RecipientId>,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<Recipient>, RepositoryError> {
    let mut query = recipient::table
        .filter(recipient::email_job_id.eq(DbId::campaign(id)))
        .filter(recipient::status.eq(RecipientStatus::Pending.as_str()))
        .filter(recipient::next_attempt_at.le(to_db_time(now)))
        .select(RecipientRow::as_select())
        .order(recipient::id.asc())
        .limit(limit_of(limit))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(recipient::id.gt(DbId::recipient(after)));
    }
    if let Some(through) = through {
        query = query.filter(recipient::id.le(DbId::recipient(through)));
    }
    let rows: Vec<RecipientRow> = query.load(conn).await.map_err(diesel_error)?;
    rows.into_iter().map(Recipient::try_from).collect()
}

/// See [`DeliveryLedger::next_due`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
pub(crate) async fn next_due(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
) -> Result<Option<DateTime<Utc>>, RepositoryError> {
    let due: Option<NaiveDateTime> = recipient::table
        .filter(recipient::email_job_id.eq(DbId::campaign(id)))
        .filter(recipient::status.eq(RecipientStatus::Pending.as_str()))
        .select(diesel::dsl::min(recipient::next_attempt_at))
        .first(conn)
        .await
        .map_err(diesel_error)?;
    Ok(due.map(from_db_time))
}

/// How precisely `sentAt` is kept: the acceptance time cut to this many milliseconds, so that
/// the messages of one batch accepted within the same slice share one `UPDATE` (a batch of 500
/// at 10,000 messages a second spans about 50 ms: one or two statements). Each statement a
/// batch adds is prepared anew: writing each message's exact time with a `CASE` statement cost
/// a quarter of the delivery rate, and 10 ms slices almost as much (README, "Performance").
/// The timeline's finest bucket is a second.
const SENT_AT_SLICE_MS: i64 = 100;

/// The `sentAt` written for a message accepted at `at`.
fn sent_at(at: DateTime<Utc>) -> NaiveDateTime {
    let slice = TimeDelta::milliseconds(SENT_AT_SLICE_MS);
    to_db_time(at.duration_trunc(slice).unwrap_or(at))
}

/// Outcomes grouped so that each group is one change (one `UPDATE` per chunk of ids): same
/// target status and same values.
fn group_outcomes(
    outcomes: &[Outcome],
    now: NaiveDateTime,
) -> HashMap<RecipientChange<'_>, Vec<DbId>> {
    let mut groups: HashMap<RecipientChange<'_>, Vec<DbId>> = HashMap::new();
    for o in outcomes {
        let change = match &o.kind {
            OutcomeKind::Sent { at } => RecipientChange {
                status: Some(RecipientStatus::Sent.as_str()),
                attempts: Some(o.attempts),
                next_attempt_at: None,
                sent_at: Some(Some(sent_at(*at))),
                error: Some(None),
                permanent_failure: Some(false),
                updated_at: now,
            },
            OutcomeKind::Failed { error, permanent } => RecipientChange {
                status: Some(RecipientStatus::Failed.as_str()),
                attempts: Some(o.attempts),
                next_attempt_at: None,
                sent_at: None,
                error: Some(Some(error.as_str())),
                permanent_failure: Some(*permanent),
                updated_at: now,
            },
            OutcomeKind::Retry { at, error } => RecipientChange {
                status: None,
                attempts: Some(o.attempts),
                next_attempt_at: Some(to_db_time(*at)),
                sent_at: None,
                error: Some(Some(error.as_str())),
                permanent_failure: None,
                updated_at: now,
            },
        };
        groups
            .entry(change)
            .or_default()
            .push(DbId::recipient(o.recipient_id));
    }
    groups
}

/// See [`DeliveryLedger::record_outcomes`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id, outcomes = outcomes.len()))]
pub(crate) async fn record_outcomes(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    outcomes: &[Outcome],
    now: DateTime<Utc>,
) -> Result<Campaign, RepositoryError> {
    let now_db = to_db_time(now);
    let mut groups: Vec<_> = group_outcomes(outcomes, now_db).into_iter().collect();
    // Successes first, then failures, then retries: when a batch names one recipient twice, the
    // first change moves it out of `PENDING`, so a success wins.
    groups.sort_by_key(|(change, _)| match change.status {
        Some(status) if status == RecipientStatus::Sent.as_str() => 0,
        Some(_) => 1,
        None => 2,
    });
    let campaign_id = DbId::campaign(id);
    let campaign = conn
        .transaction(async |conn| -> Result<Campaign, DbError> {
            // Lock the campaign first: every writer takes EmailJob before Recipient rows.
            let before = require(conn, id, true).await?;
            let (mut sent, mut failed, mut uncancelled): (usize, usize, usize) = (0, 0, 0);
            for (change, ids) in &groups {
                let Some(status) = change.status else {
                    // A retry later: only a recipient still pending waits for one.
                    update_recipients(conn, id, RecipientStatus::Pending, Among::Ids(ids), change)
                        .await?;
                    continue;
                };
                let mut moved =
                    update_recipients(conn, id, RecipientStatus::Pending, Among::Ids(ids), change)
                        .await?;
                // Messages in flight when the campaign was cancelled: their outcome is the
                // truth, and they no longer count as cancelled.
                if before.status == CampaignStatus::Cancelled {
                    let late = update_recipients(
                        conn,
                        id,
                        RecipientStatus::Cancelled,
                        Among::Ids(ids),
                        change,
                    )
                    .await?;
                    uncancelled += late;
                    moved += late;
                }
                if status == RecipientStatus::Sent.as_str() {
                    sent += moved;
                } else {
                    failed += moved;
                }
            }
            let sent = count_u32(sent)?;
            let failed = count_u32(failed)?;
            let uncancelled = count_u32(uncancelled)?;
            diesel::update(email_job::table.filter(email_job::id.eq(campaign_id)))
                .set((
                    email_job::sent_emails.eq(email_job::sent_emails + sent),
                    email_job::failed_emails.eq(email_job::failed_emails + failed),
                    email_job::cancelled_emails.eq(email_job::cancelled_emails - uncancelled),
                    email_job::updated_at.eq(now_db),
                ))
                .execute(conn)
                .await?;
            Ok(Campaign {
                sent_emails: before.sent_emails.saturating_add(sent),
                failed_emails: before.failed_emails.saturating_add(failed),
                cancelled_emails: before.cancelled_emails.saturating_sub(uncancelled),
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

/// See [`DeliveryLedger::finish`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id, status = %status))]
pub(crate) async fn finish(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    status: CampaignStatus,
    now: DateTime<Utc>,
) -> Result<Campaign, RepositoryError> {
    let now_db = to_db_time(now);
    let campaign = conn
        .transaction(async |conn| -> Result<Campaign, DbError> {
            let campaign = require(conn, id, true).await?;
            // A user paused or cancelled it meanwhile: that is how it stays.
            if matches!(
                campaign.status,
                CampaignStatus::Paused | CampaignStatus::Cancelled
            ) {
                return Ok(campaign);
            }
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
            let change = StatusChange {
                status,
                started_at: None,
                completed_at: Some(now_db),
                failed_added: 0,
                now: now_db,
            };
            let done = change.write(conn, campaign).await?;
            forget_shards(conn, id).await?;
            Ok(done)
        })
        .await?;
    Ok(campaign)
}

/// See [`DeliveryLedger::abandon`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
pub(crate) async fn abandon(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Campaign, RepositoryError> {
    let now_db = to_db_time(now);
    let change = RecipientChange {
        status: Some(RecipientStatus::Failed.as_str()),
        attempts: None,
        next_attempt_at: None,
        sent_at: None,
        error: Some(Some(reason)),
        permanent_failure: Some(false),
        updated_at: now_db,
    };
    let campaign = conn
        .transaction(async |conn| -> Result<Campaign, DbError> {
            let campaign = require(conn, id, true).await?;
            // Finished, or paused or cancelled by a user meanwhile: that is how it stays.
            if !campaign.status.awaits_delivery() {
                return Ok(campaign);
            }
            let status = campaign
                .status
                .transition(CampaignStatus::Failed)
                .map_err(|e| RepositoryError::Conflict(e.to_string()))?;
            let moved = count_u32(
                update_recipients(conn, id, RecipientStatus::Pending, Among::All, &change).await?,
            )?;
            let change = StatusChange {
                status,
                started_at: None,
                completed_at: Some(now_db),
                failed_added: moved,
                now: now_db,
            };
            let done = change.write(conn, campaign).await?;
            forget_shards(conn, id).await?;
            diesel::update(email_job::table.filter(email_job::id.eq(DbId::campaign(id))))
                .set((
                    email_job::stop_reason.eq(Some(stop_reason_text(reason))),
                    // Named, or `ON UPDATE` would stamp the database's clock over `now`.
                    email_job::updated_at.eq(now_db),
                ))
                .execute(conn)
                .await?;
            Ok(Campaign {
                stop_reason: Some(stop_reason_text(reason).to_owned()),
                ..done
            })
        })
        .await?;
    Ok(campaign)
}

/// `stopReason` holds 1,000 characters; the reasons the worker writes are far shorter.
fn stop_reason_text(reason: &str) -> &str {
    cut_chars(reason, STOP_REASON_CHARS)
}

const STOP_REASON_CHARS: usize = 1_000;

/// See [`DeliveryLedger::count_failed_run`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id))]
pub(crate) async fn count_failed_run(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
) -> Result<u32, RepositoryError> {
    let runs = conn
        .transaction(async |conn| -> Result<u32, DbError> {
            let db_id = DbId::campaign(id);
            let changed = diesel::update(email_job::table.filter(email_job::id.eq(db_id)))
                .set(email_job::failed_runs.eq(email_job::failed_runs + 1))
                .execute(conn)
                .await?;
            if changed == 0 {
                return Err(RepositoryError::NotFound(id).into());
            }
            Ok(email_job::table
                .filter(email_job::id.eq(db_id))
                .select(email_job::failed_runs)
                .first(conn)
                .await?)
        })
        .await?;
    Ok(runs)
}

/// Each method takes a connection and calls the query function of the same name above (or in
/// `listing`). The
/// transactional writes that borrow their input run on the caller's task; the rest run
/// detached (see [`MysqlDatabase::detached`]).
impl DeliveryLedger for MysqlDatabase {
    async fn suppress_bounced(
        &self,
        id: CampaignId,
        recipients: &[RecipientId],
        now: DateTime<Utc>,
    ) -> Result<(), RepositoryError> {
        if recipients.is_empty() {
            return Ok(());
        }
        let recipients = recipients.to_vec();
        self.detached(move |conn| {
            async move { crate::suppressions::suppress_bounced(conn, id, &recipients, now).await }
                .boxed()
        })
        .await
    }

    async fn start(&self, id: CampaignId, now: DateTime<Utc>) -> Result<Campaign, RepositoryError> {
        self.detached(move |conn| start(conn, id, now).boxed())
            .await
    }

    async fn due_recipients(
        &self,
        id: CampaignId,
        after: Option<RecipientId>,
        through: Option<RecipientId>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Recipient>, RepositoryError> {
        self.detached(move |conn| due_recipients(conn, id, after, through, now, limit).boxed())
            .await
    }

    async fn next_due(&self, id: CampaignId) -> Result<Option<DateTime<Utc>>, RepositoryError> {
        self.detached(move |conn| next_due(conn, id).boxed()).await
    }

    async fn record_outcomes(
        &self,
        id: CampaignId,
        outcomes: &[Outcome],
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        record_outcomes(&mut *self.conn().await?, id, outcomes, now).await
    }

    async fn finish(
        &self,
        id: CampaignId,
        status: CampaignStatus,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        self.detached(move |conn| finish(conn, id, status, now).boxed())
            .await
    }

    async fn abandon(
        &self,
        id: CampaignId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<Campaign, RepositoryError> {
        abandon(&mut *self.conn().await?, id, reason, now).await
    }

    async fn count_failed_run(&self, id: CampaignId) -> Result<u32, RepositoryError> {
        self.detached(move |conn| count_failed_run(conn, id).boxed())
            .await
    }

    async fn list_unfinished(
        &self,
        created_before: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<CampaignId>, RepositoryError> {
        self.detached(move |conn| {
            crate::listing::list_unfinished(conn, created_before, limit).boxed()
        })
        .await
    }
}
