//! The [`ActivityLog`] port: the audit trail in the `Activity` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use paloma_application::ports::{ActivityLog, RepositoryError};
use paloma_domain::{Action, Activity, CampaignId, Page, PageRequest};

use crate::db::MysqlDatabase;
use crate::error::{corrupt, diesel_error};
use crate::ids::DbId;
use crate::models::{from_db_time, limit_of, offset_of, page_of, to_db_time};
use crate::schema::activity;

/// An `Activity` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = activity, check_for_backend(diesel::mysql::Mysql))]
struct ActivityRow {
    id: DbId,
    action: String,
    email_job_id: Option<DbId>,
    key_id: Option<DbId>,
    key_name: String,
    client_address: Option<String>,
    created_at: NaiveDateTime,
}

impl TryFrom<ActivityRow> for Activity {
    type Error = RepositoryError;

    fn try_from(row: ActivityRow) -> Result<Self, Self::Error> {
        Ok(Activity {
            id: row.id.into(),
            action: Action::parse(&row.action)
                .ok_or_else(|| corrupt("Activity.action", row.action.clone()))?,
            campaign_id: row.email_job_id.map(Into::into),
            key_id: row.key_id.map(Into::into),
            key_name: row.key_name,
            client_address: row.client_address,
            at: from_db_time(row.created_at),
        })
    }
}

impl ActivityLog for MysqlDatabase {
    async fn record(&self, entry: &Activity) -> Result<(), RepositoryError> {
        diesel::insert_into(activity::table)
            .values((
                activity::id.eq(DbId::activity(entry.id)),
                activity::action.eq(entry.action.as_str()),
                activity::email_job_id.eq(entry.campaign_id.map(DbId::campaign)),
                activity::key_id.eq(entry.key_id.map(DbId::key)),
                activity::key_name.eq(entry.key_name.as_str()),
                activity::client_address.eq(entry.client_address.as_deref()),
                activity::created_at.eq(to_db_time(entry.at)),
            ))
            .execute(&mut *self.conn().await?)
            .await
            .map_err(diesel_error)?;
        Ok(())
    }

    async fn campaign_activity(
        &self,
        id: CampaignId,
        page: PageRequest,
    ) -> Result<Page<Activity>, RepositoryError> {
        let mut conn = self.conn().await?;
        let of_campaign = activity::email_job_id.eq(DbId::campaign(id));
        let rows: Vec<ActivityRow> = activity::table
            .filter(of_campaign)
            .select(ActivityRow::as_select())
            .order((activity::created_at.asc(), activity::id.asc()))
            .limit(limit_of(page.per_page()))
            .offset(offset_of(page))
            .load(&mut *conn)
            .await
            .map_err(diesel_error)?;
        let total: i64 = activity::table
            .filter(of_campaign)
            .count()
            .get_result(&mut *conn)
            .await
            .map_err(diesel_error)?;
        page_of(rows, page, total)
    }
}
