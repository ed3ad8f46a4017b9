//! [`ShardLedger`] on MySQL: the shards of campaigns that many workers send, in
//! `CampaignShard`, and their leases. Every lease time is the database's own clock (`NOW(3)`),
//! so the workers' clocks need not agree. A lease is taken by one conditional `UPDATE ...
//! ORDER BY shard LIMIT 1`: of two workers racing for a shard, the second finds it leased when
//! the first's row lock lets go and takes the next one. No lease statement locks an `EmailJob`
//! row (the campaigns with free shards are found by a plain read first), so leasing never waits
//! on a write of outcomes, and a campaign ending (which deletes its shards under its row's
//! lock) never deadlocks with it.

use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Unsigned};
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use futures::FutureExt;
use paloma_application::ports::{RepositoryError, Shard, ShardLease, ShardLedger};
use paloma_domain::{CampaignId, RecipientId, RecipientStatus};
use tracing::instrument;
use uuid::Uuid;

use crate::campaigns::require;
use crate::db::MysqlDatabase;
use crate::error::{DbError, diesel_error};
use crate::ids::DbId;
use crate::models::{count_u32, cut_chars};
use crate::schema::{campaign_shard, recipient};

/// A recipient id read by name from a raw query.
#[derive(QueryableByName)]
struct Boundary {
    #[diesel(sql_type = Text)]
    id: DbId,
}

/// A campaign id read by name from a raw query.
#[derive(QueryableByName)]
struct CampaignRow {
    #[diesel(sql_type = Text, column_name = "emailJobId")]
    id: DbId,
}

/// A shard's row as a lease reads it back.
#[derive(Queryable)]
struct ShardRow {
    campaign: DbId,
    number: u32,
    after: Option<DbId>,
    through: Option<DbId>,
}

/// How many campaigns with free shards one look at them considers.
const CANDIDATES: i64 = 16;

/// See [`ShardLedger::plan_shards`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %id, size))]
pub(crate) async fn plan_shards(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    size: u32,
) -> Result<u32, RepositoryError> {
    let db_id = DbId::campaign(id);
    // Read committed: no gap locks, so that campaigns split at the same moment (their rows
    // landing in one gap of the index) do not deadlock. The campaign's row lock still makes
    // two planners of one campaign go one after the other.
    diesel::sql_query("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        .execute(conn)
        .await
        .map_err(diesel_error)?;
    let planned = conn
        .transaction(async |conn| -> Result<u32, DbError> {
            // The campaign's row first: two planners of one campaign go one after the other.
            require(conn, id, true).await?;
            let open: i64 = campaign_shard::table
                .filter(campaign_shard::email_job_id.eq(db_id))
                .filter(campaign_shard::done_at.is_null())
                .count()
                .get_result(conn)
                .await?;
            if open > 0 {
                return Ok(count_u32(open)?);
            }
            if size == 0 {
                return Ok(0);
            }
            // Every shard done (a retry made recipients pending again): split anew.
            diesel::delete(campaign_shard::table.filter(campaign_shard::email_job_id.eq(db_id)))
                .execute(conn)
                .await?;
            let pending: i64 = recipient::table
                .filter(recipient::email_job_id.eq(db_id))
                .filter(recipient::status.eq(RecipientStatus::Pending.as_str()))
                .count()
                .get_result(conn)
                .await?;
            let pending = u64::try_from(pending).unwrap_or(0);
            if pending <= u64::from(size) {
                return Ok(0);
            }
            // The last recipient of every full shard: each `size`-th pending id in id order.
            let ends: Vec<Boundary> = diesel::sql_query(
                "SELECT `id` FROM (SELECT `id`, ROW_NUMBER() OVER (ORDER BY `id`) AS `n` \
                 FROM `Recipient` WHERE `emailJobId` = ? AND `status` = ?) AS `pending` \
                 WHERE MOD(`n`, ?) = 0 ORDER BY `id`",
            )
            .bind::<Text, _>(db_id)
            .bind::<Text, _>(RecipientStatus::Pending.as_str())
            .bind::<Unsigned<Integer>, _>(size)
            .load(conn)
            .await?;
            let shards = pending.div_ceil(u64::from(size));
            let shards = count_u32(shards)?;
            let mut rows = Vec::with_capacity(shards as usize);
            for number in 0..shards {
                let at = number as usize;
                let after = at.checked_sub(1).and_then(|i| ends.get(i)).map(|b| b.id);
                // The last shard is open-ended: recipients added later are in it too.
                let through = (number + 1 < shards)
                    .then(|| ends.get(at).map(|b| b.id))
                    .flatten();
                rows.push((
                    campaign_shard::email_job_id.eq(db_id),
                    campaign_shard::shard.eq(number),
                    campaign_shard::after_recipient_id.eq(after),
                    campaign_shard::through_recipient_id.eq(through),
                ));
            }
            for chunk in rows.chunks(1_000) {
                diesel::insert_into(campaign_shard::table)
                    .values(chunk)
                    .execute(conn)
                    .await?;
            }
            Ok(shards)
        })
        .await?;
    Ok(planned)
}

/// See [`ShardLedger::lease_shard`].
#[instrument(level = "debug", skip_all, fields(?campaign, holder))]
pub(crate) async fn lease_shard(
    conn: &mut AsyncMysqlConnection,
    campaign: Option<CampaignId>,
    except: &[CampaignId],
    holder: &str,
    lease: Duration,
) -> Result<Option<ShardLease>, RepositoryError> {
    let candidates = match campaign {
        Some(id) => vec![DbId::campaign(id)],
        None => campaigns_with_free_shards(conn, except).await?,
    };
    for candidate in candidates {
        let token = Uuid::now_v7().hyphenated().to_string();
        let leased = diesel::sql_query(
            "UPDATE `CampaignShard` SET `leasedBy` = ?, `leaseToken` = ?, \
             `leasedUntil` = NOW(3) + INTERVAL ? MICROSECOND \
             WHERE `emailJobId` = ? AND `doneAt` IS NULL \
             AND (`leasedUntil` IS NULL OR `leasedUntil` <= NOW(3)) \
             ORDER BY `shard` LIMIT 1",
        )
        .bind::<Text, _>(holder_text(holder))
        .bind::<Text, _>(&token)
        .bind::<BigInt, _>(micros(lease))
        .bind::<Text, _>(candidate)
        .execute(conn)
        .await
        .map_err(diesel_error)?;
        if leased == 0 {
            continue;
        }
        let row: Option<ShardRow> = campaign_shard::table
            .filter(campaign_shard::email_job_id.eq(candidate))
            .filter(campaign_shard::lease_token.eq(&token))
            .select((
                campaign_shard::email_job_id,
                campaign_shard::shard,
                campaign_shard::after_recipient_id,
                campaign_shard::through_recipient_id,
            ))
            .first(conn)
            .await
            .optional()
            .map_err(diesel_error)?;
        if let Some(row) = row {
            return Ok(Some(ShardLease {
                shard: Shard {
                    campaign: CampaignId::from_uuid(row.campaign.0),
                    number: row.number,
                    after: row.after.map(|id| RecipientId::from_uuid(id.0)),
                    through: row.through.map(|id| RecipientId::from_uuid(id.0)),
                },
                token,
            }));
        }
    }
    Ok(None)
}

/// `PROCESSING` campaigns with a free shard (not in `except`), oldest first: a plain read, no
/// lock taken.
async fn campaigns_with_free_shards(
    conn: &mut AsyncMysqlConnection,
    except: &[CampaignId],
) -> Result<Vec<DbId>, RepositoryError> {
    let excluded = if except.is_empty() {
        String::new()
    } else {
        format!(
            " AND s.`emailJobId` NOT IN ({})",
            vec!["?"; except.len()].join(", ")
        )
    };
    let sql = format!(
        "SELECT DISTINCT s.`emailJobId` FROM `CampaignShard` s \
         JOIN `EmailJob` j ON j.`id` = s.`emailJobId` \
         WHERE s.`doneAt` IS NULL AND (s.`leasedUntil` IS NULL OR s.`leasedUntil` <= NOW(3)) \
         AND j.`status` = 'PROCESSING'{excluded} ORDER BY s.`emailJobId` LIMIT {CANDIDATES}"
    );
    let mut query = diesel::sql_query(sql).into_boxed();
    for id in except {
        query = query.bind::<Text, _>(DbId::campaign(*id));
    }
    let rows: Vec<CampaignRow> = query.load(conn).await.map_err(diesel_error)?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// See [`ShardLedger::renew_shard`]. The count is of matched rows, not changed ones
/// (diesel-async connects with `CLIENT_FOUND_ROWS`), so two renewals within one millisecond
/// both say the lease is still this one.
#[instrument(level = "debug", skip_all, fields(campaign_id = %lease.shard.campaign, shard = lease.shard.number))]
pub(crate) async fn renew_shard(
    conn: &mut AsyncMysqlConnection,
    lease: &ShardLease,
    duration: Duration,
) -> Result<bool, RepositoryError> {
    let renewed = diesel::sql_query(
        "UPDATE `CampaignShard` SET `leasedUntil` = NOW(3) + INTERVAL ? MICROSECOND \
         WHERE `emailJobId` = ? AND `shard` = ? AND `leaseToken` = ? AND `doneAt` IS NULL",
    )
    .bind::<BigInt, _>(micros(duration))
    .bind::<Text, _>(DbId::campaign(lease.shard.campaign))
    .bind::<Unsigned<Integer>, _>(lease.shard.number)
    .bind::<Text, _>(&lease.token)
    .execute(conn)
    .await
    .map_err(diesel_error)?;
    Ok(renewed > 0)
}

/// See [`ShardLedger::finish_shard`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %lease.shard.campaign, shard = lease.shard.number))]
pub(crate) async fn finish_shard(
    conn: &mut AsyncMysqlConnection,
    lease: &ShardLease,
) -> Result<bool, RepositoryError> {
    let finished = diesel::sql_query(
        "UPDATE `CampaignShard` SET `doneAt` = NOW(3), `leasedUntil` = NULL \
         WHERE `emailJobId` = ? AND `shard` = ? AND `leaseToken` = ? AND `doneAt` IS NULL",
    )
    .bind::<Text, _>(DbId::campaign(lease.shard.campaign))
    .bind::<Unsigned<Integer>, _>(lease.shard.number)
    .bind::<Text, _>(&lease.token)
    .execute(conn)
    .await
    .map_err(diesel_error)?;
    Ok(finished > 0)
}

/// See [`ShardLedger::release_shard`].
#[instrument(level = "debug", skip_all, fields(campaign_id = %lease.shard.campaign, shard = lease.shard.number))]
pub(crate) async fn release_shard(
    conn: &mut AsyncMysqlConnection,
    lease: &ShardLease,
) -> Result<(), RepositoryError> {
    diesel::sql_query(
        "UPDATE `CampaignShard` SET `leasedBy` = NULL, `leaseToken` = NULL, `leasedUntil` = NULL \
         WHERE `emailJobId` = ? AND `shard` = ? AND `leaseToken` = ?",
    )
    .bind::<Text, _>(DbId::campaign(lease.shard.campaign))
    .bind::<Unsigned<Integer>, _>(lease.shard.number)
    .bind::<Text, _>(&lease.token)
    .execute(conn)
    .await
    .map_err(diesel_error)?;
    Ok(())
}

/// See [`ShardLedger::open_shards`].
pub(crate) async fn open_shards(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
) -> Result<u32, RepositoryError> {
    let open: i64 = campaign_shard::table
        .filter(campaign_shard::email_job_id.eq(DbId::campaign(id)))
        .filter(campaign_shard::done_at.is_null())
        .count()
        .get_result(conn)
        .await
        .map_err(diesel_error)?;
    count_u32(open)
}

/// Deletes the campaign's shards: it ended. Inside the transaction that ends it.
pub(crate) async fn forget_shards(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
) -> QueryResult<usize> {
    diesel::delete(
        campaign_shard::table.filter(campaign_shard::email_job_id.eq(DbId::campaign(id))),
    )
    .execute(conn)
    .await
}

/// A lease's length in whole microseconds, as `INTERVAL ... MICROSECOND` takes it.
fn micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// `leasedBy` holds 100 characters; a worker's id is far shorter.
fn holder_text(holder: &str) -> &str {
    cut_chars(holder, 100)
}

impl ShardLedger for MysqlDatabase {
    async fn plan_shards(&self, id: CampaignId, size: u32) -> Result<u32, RepositoryError> {
        self.detached(move |conn| plan_shards(conn, id, size).boxed())
            .await
    }

    async fn lease_shard(
        &self,
        campaign: Option<CampaignId>,
        except: &[CampaignId],
        holder: &str,
        lease: Duration,
    ) -> Result<Option<ShardLease>, RepositoryError> {
        let (except, holder) = (except.to_vec(), holder.to_owned());
        self.detached(move |conn| {
            async move { lease_shard(conn, campaign, &except, &holder, lease).await }.boxed()
        })
        .await
    }

    async fn renew_shard(
        &self,
        lease: &ShardLease,
        duration: Duration,
    ) -> Result<bool, RepositoryError> {
        let lease = lease.clone();
        self.detached(move |conn| async move { renew_shard(conn, &lease, duration).await }.boxed())
            .await
    }

    async fn finish_shard(&self, lease: &ShardLease) -> Result<bool, RepositoryError> {
        let lease = lease.clone();
        self.detached(move |conn| async move { finish_shard(conn, &lease).await }.boxed())
            .await
    }

    async fn release_shard(&self, lease: &ShardLease) -> Result<(), RepositoryError> {
        let lease = lease.clone();
        self.detached(move |conn| async move { release_shard(conn, &lease).await }.boxed())
            .await
    }

    async fn open_shards(&self, id: CampaignId) -> Result<u32, RepositoryError> {
        self.detached(move |conn| open_shards(conn, id).boxed())
            .await
    }
}
