//! The [`SuppressionStore`] port: the suppression list in the `Suppression` table, one
//! lowercased address per row; and the hard bounces a worker adds to it.

use std::collections::HashSet;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};
use paloma_application::ports::{RepositoryError, SuppressionStore};
use paloma_domain::{CampaignId, Page, PageRequest, RecipientId, Suppression, SuppressionReason};

use crate::db::MysqlDatabase;
use crate::error::{corrupt, diesel_error};
use crate::ids::DbId;
use crate::listing::like_pattern;
use crate::models::{from_db_time, limit_of, offset_of, page_of, to_db_time};
use crate::schema::suppression;

/// Addresses per `IN (...)` query of [`SuppressionStore::suppressed_among`].
const LOOKUP_BATCH: usize = 1_000;

/// A `Suppression` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = suppression, check_for_backend(diesel::mysql::Mysql))]
struct SuppressionRow {
    email: String,
    reason: String,
    email_job_id: Option<DbId>,
    created_at: NaiveDateTime,
}

impl TryFrom<SuppressionRow> for Suppression {
    type Error = RepositoryError;

    fn try_from(row: SuppressionRow) -> Result<Self, Self::Error> {
        Ok(Suppression {
            reason: SuppressionReason::parse(&row.reason)
                .ok_or_else(|| corrupt("Suppression.reason", row.reason.clone()))?,
            email: row.email,
            campaign_id: row.email_job_id.map(Into::into),
            created_at: from_db_time(row.created_at),
        })
    }
}

impl SuppressionStore for MysqlDatabase {
    async fn suppress(&self, entries: &[Suppression]) -> Result<u64, RepositoryError> {
        if entries.is_empty() {
            return Ok(0);
        }
        let rows: Vec<_> = entries
            .iter()
            .map(|e| {
                (
                    suppression::email.eq(e.email.to_lowercase()),
                    suppression::reason.eq(e.reason.as_str()),
                    suppression::email_job_id.eq(e.campaign_id.map(DbId::campaign)),
                    suppression::created_at.eq(to_db_time(e.created_at)),
                )
            })
            .collect();
        // One statement: all or nothing. `INSERT IGNORE` skips the addresses already listed
        // (their first entry stays) and counts only the rows it inserted; every value was
        // validated before, so it has nothing else to ignore.
        let inserted = diesel::insert_or_ignore_into(suppression::table)
            .values(rows)
            .execute(&mut *self.conn().await?)
            .await
            .map_err(diesel_error)?;
        Ok(u64::try_from(inserted).unwrap_or(u64::MAX))
    }

    async fn unsuppress(&self, email: &str) -> Result<bool, RepositoryError> {
        let deleted =
            diesel::delete(suppression::table.filter(suppression::email.eq(email.to_lowercase())))
                .execute(&mut *self.conn().await?)
                .await
                .map_err(diesel_error)?;
        Ok(deleted > 0)
    }

    async fn list_suppressions(
        &self,
        search: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Suppression>, RepositoryError> {
        let mut conn = self.conn().await?;
        let filtered = || {
            let mut query = suppression::table.into_boxed();
            if let Some(text) = search {
                // The column is lowercased with a binary collation: lowercase the text too.
                query = query.filter(suppression::email.like(like_pattern(&text.to_lowercase())));
            }
            query
        };
        let rows: Vec<SuppressionRow> = filtered()
            .select(SuppressionRow::as_select())
            .order((suppression::created_at.desc(), suppression::email.asc()))
            .limit(limit_of(page.per_page()))
            .offset(offset_of(page))
            .load(&mut *conn)
            .await
            .map_err(diesel_error)?;
        let total: i64 = filtered()
            .count()
            .get_result(&mut *conn)
            .await
            .map_err(diesel_error)?;
        page_of(rows, page, total)
    }

    async fn suppressed_among(
        &self,
        emails: &[String],
    ) -> Result<HashSet<String>, RepositoryError> {
        let mut found = HashSet::new();
        if emails.is_empty() {
            return Ok(found);
        }
        let wanted: Vec<String> = emails
            .iter()
            .map(|e| e.trim().to_lowercase())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut conn = self.conn().await?;
        for batch in wanted.chunks(LOOKUP_BATCH) {
            let listed: Vec<String> = suppression::table
                .filter(suppression::email.eq_any(batch))
                .select(suppression::email)
                .load(&mut *conn)
                .await
                .map_err(diesel_error)?;
            found.extend(listed);
        }
        Ok(found)
    }
}

/// See [`DeliveryLedger::suppress_bounced`](paloma_application::ports::DeliveryLedger::suppress_bounced): one `INSERT IGNORE ... SELECT` of the
/// recipients' lowercased addresses.
pub(crate) async fn suppress_bounced(
    conn: &mut AsyncMysqlConnection,
    id: CampaignId,
    recipients: &[RecipientId],
    now: DateTime<Utc>,
) -> Result<(), RepositoryError> {
    use diesel::sql_types::{Datetime, Text};
    let marks = vec!["?"; recipients.len()].join(", ");
    let sql = format!(
        "INSERT IGNORE INTO `Suppression` (`email`, `reason`, `emailJobId`, `createdAt`) \
         SELECT LOWER(`email`), 'HARD_BOUNCE', `emailJobId`, ? FROM `Recipient` \
         WHERE `emailJobId` = ? AND `id` IN ({marks})"
    );
    let mut query = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Datetime, _>(to_db_time(now))
        .bind::<Text, _>(DbId::campaign(id));
    for r in recipients {
        query = query.bind::<Text, _>(DbId::recipient(*r));
    }
    query.execute(conn).await.map_err(diesel_error)?;
    Ok(())
}
