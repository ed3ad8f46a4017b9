//! Each sent recipient's `sentAt`: when the SMTP server accepted its message, which differs
//! from one message to the next. The outcomes of one batch are written grouped by the change
//! they make (one `UPDATE` per group), so the times are written apart, in one statement per
//! chunk: `UPDATE Recipient SET sentAt = CASE id WHEN ? THEN ? ... END WHERE ...`.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use diesel::mysql::Mysql;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Datetime, Text};
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};

use crate::error::DbError;
use crate::ids::DbId;

/// Recipients per statement (three placeholders each).
const CHUNK: usize = 1_000;

/// `UPDATE Recipient SET sentAt = CASE id WHEN ? THEN ? ... END, updatedAt = ? WHERE
/// emailJobId = ? AND status = 'SENT' AND id IN (?, ...)`.
struct SetSentAt<'a> {
    campaign: DbId,
    times: &'a [(DbId, NaiveDateTime)],
    /// The batch's `updatedAt` (named, or `ON UPDATE` would stamp the database's clock).
    now: NaiveDateTime,
}

impl QueryId for SetSentAt<'_> {
    type QueryId = ();
    // Its text depends on the number of rows: not cached.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Mysql> for SetSentAt<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Mysql>) -> QueryResult<()> {
        out.unsafe_to_cache_prepared();
        out.push_sql("UPDATE `Recipient` SET `sentAt` = CASE `id`");
        for (id, at) in self.times {
            out.push_sql(" WHEN ");
            out.push_bind_param::<Text, _>(id)?;
            out.push_sql(" THEN ");
            out.push_bind_param::<Datetime, _>(at)?;
        }
        out.push_sql(" END, `updatedAt` = ");
        out.push_bind_param::<Datetime, _>(&self.now)?;
        out.push_sql(" WHERE `emailJobId` = ");
        out.push_bind_param::<Text, _>(&self.campaign)?;
        out.push_sql(" AND `status` = 'SENT' AND `id` IN (");
        for (i, (id, _)) in self.times.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<Text, _>(id)?;
        }
        out.push_sql(")");
        Ok(())
    }
}

/// Writes each recipient's acceptance time, for those of `campaign` that are `SENT`, with
/// `now` as their `updatedAt`. The caller holds the transaction.
pub(crate) async fn set_sent_at(
    conn: &mut AsyncMysqlConnection,
    campaign: DbId,
    times: &[(DbId, NaiveDateTime)],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    for chunk in times.chunks(CHUNK) {
        SetSentAt {
            campaign,
            times: chunk,
            now,
        }
        .execute(conn)
        .await?;
    }
    Ok(())
}
