//! The bulk insert of a new campaign's recipients: the one statement on the path from
//! `POST /api/emails` to its `202` whose cost grows with the campaign.
//!
//! What it costs, and why it is written by hand rather than with diesel's `insert_into`:
//! - A multi-row `INSERT` built from a `Vec` of rows is a new statement to prepare for every
//!   chunk (diesel cannot cache a statement whose shape depends on a run-time length); with
//!   thousands of placeholders, preparing cost about as much as inserting. Here every full
//!   chunk is the same statement (a static query id), prepared once per connection and then
//!   taken from diesel's statement cache; only the last, shorter chunk is prepared on its own.
//! - MariaDB spends a good part of the insert on each placeholder (decoding, converting,
//!   resetting). Per row only what differs is bound (id, email, name, fields); the campaign's id and
//!   the creation time are session variables set once per campaign and named in every row.

use chrono::NaiveDateTime;
use diesel::QueryResult;
use diesel::mysql::Mysql;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Datetime, Nullable, Text};
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};
use paloma_domain::{NewRecipient, RecipientId};

use crate::error::DbError;
use crate::ids::DbId;
use crate::models::fields_json;

/// Rows per `INSERT` (4 placeholders each: far below MySQL's 65,535).
pub(crate) const INSERT_CHUNK: usize = 4_096;

/// One row: what is bound for it.
struct Row<'a> {
    id: DbId,
    email: &'a str,
    name: Option<&'a str>,
    fields: Option<String>,
}

/// `INSERT INTO Recipient (...) VALUES (?, @paloma_campaign, ?, ?, @paloma_now, @paloma_now), ...`
/// for up to [`INSERT_CHUNK`] rows. `status` and `attempts` take their defaults (`PENDING`, 0).
/// `FIELDS`: whether the rows bind `fields` too; a campaign none of whose recipients has fields
/// leaves the column out (`NULL`), one placeholder less per row.
struct InsertChunk<'a, const FIELDS: bool> {
    rows: Vec<Row<'a>>,
}

/// The query id of a full chunk: the same SQL text for every full chunk of one kind.
struct FullChunk<const FIELDS: bool>;

impl<const FIELDS: bool> QueryId for InsertChunk<'_, FIELDS> {
    type QueryId = FullChunk<FIELDS>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<const FIELDS: bool> QueryFragment<Mysql> for InsertChunk<'_, FIELDS> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Mysql>) -> QueryResult<()> {
        if self.rows.len() != INSERT_CHUNK {
            // Another length is another SQL text: it must not be cached under `FullChunk`.
            out.unsafe_to_cache_prepared();
        }
        out.push_sql(if FIELDS {
            "INSERT INTO `Recipient` (`id`, `emailJobId`, `email`, `name`, `fields`, \
             `nextAttemptAt`, `updatedAt`) VALUES "
        } else {
            "INSERT INTO `Recipient` (`id`, `emailJobId`, `email`, `name`, `nextAttemptAt`, \
             `updatedAt`) VALUES "
        });
        for (i, row) in self.rows.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            out.push_sql("(");
            out.push_bind_param::<Text, _>(&row.id)?;
            out.push_sql(", @paloma_campaign, ");
            out.push_bind_param::<Text, _>(&row.email)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, _>(&row.name)?;
            if FIELDS {
                out.push_sql(", ");
                out.push_bind_param::<Nullable<Text>, _>(&row.fields)?;
            }
            out.push_sql(", @paloma_now, @paloma_now)");
        }
        Ok(())
    }
}

/// Inserts `recipients` as `PENDING` rows of `campaign`, each with a new v7 id, created at
/// `now`. The caller holds the transaction (and has inserted the campaign's row).
pub(crate) async fn insert_recipients(
    conn: &mut AsyncMysqlConnection,
    campaign: DbId,
    recipients: &[NewRecipient],
    now: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::sql_query("SET @paloma_campaign = ?, @paloma_now = ?")
        .bind::<Text, _>(campaign)
        .bind::<Datetime, _>(now)
        .execute(conn)
        .await?;
    let with_fields = recipients.iter().any(|r| !r.fields.is_empty());
    for chunk in recipients.chunks(INSERT_CHUNK) {
        let rows = chunk
            .iter()
            .map(|r| Row {
                id: DbId::recipient(RecipientId::new()),
                email: r.email.as_str(),
                name: r.name.as_ref().map(|n| n.as_str()),
                fields: fields_json(&r.fields),
            })
            .collect();
        if with_fields {
            InsertChunk::<true> { rows }.execute(conn).await?;
        } else {
            InsertChunk::<false> { rows }.execute(conn).await?;
        }
    }
    Ok(())
}

/// Marks the campaign's `PENDING` recipients whose address is on the suppression list
/// `SUPPRESSED` (one `UPDATE` joining each row to `Suppression`'s primary key by its lowercased
/// address; nothing when the list is empty) and sets `EmailJob.suppressedEmails` to the
/// campaign's `SUPPRESSED` rows (an index range count). Runs in the caller's transaction: when
/// a campaign is stored or its list replaced, and when a worker starts it (an address
/// suppressed since is not sent). Returns how many rows it marked.
pub(crate) async fn mark_suppressed(
    conn: &mut AsyncMysqlConnection,
    campaign: DbId,
    now: NaiveDateTime,
) -> Result<u64, DbError> {
    use diesel::sql_types::Bool;

    #[derive(diesel::QueryableByName)]
    struct Any {
        #[diesel(sql_type = Bool)]
        any: bool,
    }
    let listed: Any = diesel::sql_query("SELECT EXISTS(SELECT 1 FROM `Suppression`) AS `any`")
        .get_result(conn)
        .await?;
    if !listed.any {
        return Ok(0);
    }
    let marked = diesel::sql_query(
        "UPDATE `Recipient` AS r JOIN `Suppression` AS s \
           ON s.`email` = LOWER(r.`email`) COLLATE utf8mb4_bin \
         SET r.`status` = 'SUPPRESSED', r.`updatedAt` = ? \
         WHERE r.`emailJobId` = ? AND r.`status` = 'PENDING'",
    )
    .bind::<Datetime, _>(now)
    .bind::<Text, _>(&campaign)
    .execute(conn)
    .await?;
    if marked > 0 {
        diesel::sql_query(
            "UPDATE `EmailJob` SET `suppressedEmails` = (SELECT COUNT(*) FROM `Recipient` \
               WHERE `emailJobId` = ? AND `status` = 'SUPPRESSED'), `updatedAt` = ? \
             WHERE `id` = ?",
        )
        .bind::<Text, _>(&campaign)
        .bind::<Datetime, _>(now)
        .bind::<Text, _>(&campaign)
        .execute(conn)
        .await?;
    }
    Ok(u64::try_from(marked).unwrap_or(u64::MAX))
}
