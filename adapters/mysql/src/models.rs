//! Rows as diesel reads and writes them, and their conversion to domain types.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use paloma_application::ports::RepositoryError;
use paloma_domain::{
    Campaign, CampaignStatus, Page, PageRequest, Recipient, RecipientFields, RecipientStatus,
};

use crate::error::corrupt;
use crate::ids::DbId;
use crate::schema::{email_job, recipient};

/// A time as stored in a `DATETIME(3)` column: UTC, truncated to milliseconds (so what is
/// returned equals what a later read gives back, on MySQL (which rounds) and MariaDB (which
/// truncates) alike).
pub(crate) fn to_db_time(t: DateTime<Utc>) -> NaiveDateTime {
    DateTime::from_timestamp_millis(t.timestamp_millis())
        .unwrap_or(t)
        .naive_utc()
}

/// A `DATETIME` read back: it was written as UTC.
pub(crate) fn from_db_time(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// The columns of `EmailJob` that make a [`Campaign`] (not the body, not `enqueuedAt`).
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = email_job, check_for_backend(diesel::mysql::Mysql))]
pub(crate) struct CampaignRow {
    pub id: DbId,
    pub subject: String,
    pub status: String,
    pub total_emails: u32,
    pub sent_emails: u32,
    pub failed_emails: u32,
    pub cancelled_emails: u32,
    pub suppressed_emails: u32,
    pub duplicates_removed: u32,
    pub scheduled_at: Option<NaiveDateTime>,
    pub stop_reason: Option<String>,
    pub merge_tags: bool,
    pub from_name: Option<String>,
    pub from_email: Option<String>,
    pub reply_to: Option<String>,
    pub created_at: NaiveDateTime,
    pub started_at: Option<NaiveDateTime>,
    pub completed_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = RepositoryError;

    fn try_from(row: CampaignRow) -> Result<Self, Self::Error> {
        Ok(Campaign {
            id: row.id.into(),
            subject: row.subject,
            status: CampaignStatus::parse(&row.status)
                .ok_or_else(|| corrupt("EmailJob.status", row.status.clone()))?,
            total_emails: row.total_emails,
            sent_emails: row.sent_emails,
            failed_emails: row.failed_emails,
            cancelled_emails: row.cancelled_emails,
            suppressed_emails: row.suppressed_emails,
            scheduled_at: row.scheduled_at.map(from_db_time),
            stop_reason: row.stop_reason,
            merge_tags: row.merge_tags,
            from_name: row.from_name,
            from_email: row.from_email,
            reply_to: row.reply_to,
            duplicates_removed: row.duplicates_removed,
            created_at: from_db_time(row.created_at),
            started_at: row.started_at.map(from_db_time),
            completed_at: row.completed_at.map(from_db_time),
            updated_at: from_db_time(row.updated_at),
        })
    }
}

/// A new `EmailJob` row.
#[derive(Debug, Insertable)]
#[diesel(table_name = email_job, check_for_backend(diesel::mysql::Mysql))]
pub(crate) struct NewCampaignRow<'a> {
    pub id: DbId,
    pub subject: &'a str,
    pub body: &'a str,
    pub status: &'static str,
    pub total_emails: u32,
    pub sent_emails: u32,
    pub failed_emails: u32,
    pub duplicates_removed: u32,
    pub scheduled_at: Option<NaiveDateTime>,
    pub merge_tags: bool,
    pub from_name: Option<&'a str>,
    pub from_email: Option<&'a str>,
    pub reply_to: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A `Recipient` row.
#[derive(Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = recipient, check_for_backend(diesel::mysql::Mysql))]
pub(crate) struct RecipientRow {
    pub id: DbId,
    pub email_job_id: DbId,
    pub email: String,
    pub name: Option<String>,
    pub status: String,
    pub error: Option<String>,
    pub attempts: u32,
    pub next_attempt_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
    pub fields: Option<String>,
}

/// A recipient's fields as `Recipient.fields` holds them: a JSON object of strings, `NULL` for
/// none.
pub(crate) fn fields_json(fields: &RecipientFields) -> Option<String> {
    (!fields.is_empty()).then(|| serde_json::to_string(fields.as_map()).unwrap_or_default())
}

/// `Recipient.fields` read back; anything but a JSON object of strings is a corrupt row.
pub(crate) fn fields_of(json: Option<&str>) -> Result<RecipientFields, RepositoryError> {
    let Some(json) = json else {
        return Ok(RecipientFields::default());
    };
    serde_json::from_str::<BTreeMap<String, String>>(json)
        .map(RecipientFields::from_stored)
        .map_err(|_| {
            corrupt(
                "Recipient.fields",
                json.chars().take(100).collect::<String>(),
            )
        })
}

impl TryFrom<RecipientRow> for Recipient {
    type Error = RepositoryError;

    fn try_from(row: RecipientRow) -> Result<Self, Self::Error> {
        Ok(Recipient {
            id: row.id.into(),
            campaign_id: row.email_job_id.into(),
            fields: fields_of(row.fields.as_deref())?,
            email: row.email,
            name: row.name,
            status: RecipientStatus::parse(&row.status)
                .ok_or_else(|| corrupt("Recipient.status", row.status.clone()))?,
            error: row.error,
            attempts: row.attempts,
            next_attempt_at: from_db_time(row.next_attempt_at),
            sent_at: row.sent_at.map(from_db_time),
            updated_at: from_db_time(row.updated_at),
        })
    }
}

/// A change to `Recipient` rows: each `None` leaves its column alone (`Some(None)` writes
/// `NULL`). One type for every kind of move, so one `UPDATE` helper applies them all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, AsChangeset)]
#[diesel(table_name = recipient, check_for_backend(diesel::mysql::Mysql))]
pub(crate) struct RecipientChange<'a> {
    pub status: Option<&'static str>,
    pub attempts: Option<u32>,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub sent_at: Option<Option<NaiveDateTime>>,
    pub error: Option<Option<&'a str>>,
    pub permanent_failure: Option<bool>,
    pub updated_at: NaiveDateTime,
}

/// A page size or limit as SQL's `LIMIT` takes it.
pub(crate) fn limit_of(n: u32) -> i64 {
    i64::from(n)
}

/// A page of `rows` read for `page`, each turned into its domain value, out of `total`
/// (SQL's `COUNT(*)`).
pub(crate) fn page_of<R, T>(
    rows: Vec<R>,
    page: PageRequest,
    total: i64,
) -> Result<Page<T>, RepositoryError>
where
    T: TryFrom<R, Error = RepositoryError>,
{
    Ok(Page {
        items: rows
            .into_iter()
            .map(T::try_from)
            .collect::<Result<_, _>>()?,
        page: page.page(),
        per_page: page.per_page(),
        total: u64::try_from(total).unwrap_or(0),
    })
}

/// A page's first row as SQL's `OFFSET` takes it.
pub(crate) fn offset_of(page: PageRequest) -> i64 {
    i64::try_from(page.offset()).unwrap_or(i64::MAX)
}

/// A count for an `INT UNSIGNED` column.
pub(crate) fn count_u32<N>(n: N) -> Result<u32, RepositoryError>
where
    u32: TryFrom<N, Error = std::num::TryFromIntError>,
{
    u32::try_from(n).map_err(|e| RepositoryError::Unknown(Box::new(e)))
}

/// `text`'s first `max` characters (a column's length counts characters, not bytes).
pub(crate) fn cut_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}
