//! The [`KeyStore`] port: API keys in the `ApiKey` table (their tokens' hashes, never the
//! tokens).

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel_async::{AsyncConnection, RunQueryDsl};
use paloma_application::ports::{KeyStore, RepositoryError};
use paloma_domain::{ApiKey, KeyId, KeyName, Scopes, TokenHash};

use crate::db::MysqlDatabase;
use crate::error::{DbError, corrupt, diesel_error};
use crate::ids::DbId;
use crate::models::{from_db_time, to_db_time};
use crate::schema::api_key;

/// An `ApiKey` row.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = api_key, check_for_backend(diesel::mysql::Mysql))]
struct ApiKeyRow {
    id: DbId,
    name: String,
    prefix: String,
    token_hash: Vec<u8>,
    scopes: String,
    created_at: NaiveDateTime,
    revoked_at: Option<NaiveDateTime>,
}

impl ApiKeyRow {
    fn into_key(self) -> Result<(ApiKey, TokenHash), RepositoryError> {
        let hash: [u8; 32] = self
            .token_hash
            .try_into()
            .map_err(|h: Vec<u8>| corrupt("ApiKey.tokenHash", format!("{} bytes", h.len())))?;
        let key = ApiKey {
            id: self.id.into(),
            name: KeyName::parse(&self.name).map_err(|e| corrupt("ApiKey.name", e.to_string()))?,
            prefix: self.prefix,
            scopes: Scopes::parse_list(&self.scopes)
                .map_err(|e| corrupt("ApiKey.scopes", e.to_string()))?,
            created_at: from_db_time(self.created_at),
            revoked_at: self.revoked_at.map(from_db_time),
        };
        Ok((key, TokenHash::from_bytes(hash)))
    }
}

impl KeyStore for MysqlDatabase {
    async fn insert(&self, key: &ApiKey, hash: &TokenHash) -> Result<(), RepositoryError> {
        let inserted = diesel::insert_into(api_key::table)
            .values((
                api_key::id.eq(DbId::key(key.id)),
                api_key::name.eq(key.name.as_str()),
                api_key::prefix.eq(key.prefix.as_str()),
                api_key::token_hash.eq(hash.as_bytes().as_slice()),
                api_key::scopes.eq(key.scopes.to_string()),
                api_key::created_at.eq(to_db_time(key.created_at)),
                api_key::revoked_at.eq(key.revoked_at.map(to_db_time)),
            ))
            .execute(&mut *self.conn().await?)
            .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Err(
                RepositoryError::Conflict("a key with this token already exists".into()),
            ),
            Err(e) => Err(diesel_error(e)),
        }
    }

    async fn list(&self) -> Result<Vec<ApiKey>, RepositoryError> {
        let rows: Vec<ApiKeyRow> = api_key::table
            .select(ApiKeyRow::as_select())
            .order((api_key::created_at.asc(), api_key::id.asc()))
            .load(&mut *self.conn().await?)
            .await
            .map_err(diesel_error)?;
        rows.into_iter()
            .map(|row| row.into_key().map(|(key, _)| key))
            .collect()
    }

    async fn revoke(
        &self,
        id: KeyId,
        now: DateTime<Utc>,
    ) -> Result<Option<(ApiKey, bool)>, RepositoryError> {
        let db_id = DbId::key(id);
        let revoked = self
            .conn()
            .await?
            .transaction(async |conn| -> Result<Option<(ApiKeyRow, bool)>, DbError> {
                // Only a live key gets a revocation time: a key revoked earlier keeps its own.
                let changed = diesel::update(
                    api_key::table
                        .filter(api_key::id.eq(db_id))
                        .filter(api_key::revoked_at.is_null()),
                )
                .set(api_key::revoked_at.eq(Some(to_db_time(now))))
                .execute(conn)
                .await?;
                let row = api_key::table
                    .filter(api_key::id.eq(db_id))
                    .select(ApiKeyRow::as_select())
                    .first(conn)
                    .await
                    .optional()?;
                Ok(row.map(|row| (row, changed == 1)))
            })
            .await?;
        revoked
            .map(|(row, newly)| row.into_key().map(|(key, _)| (key, newly)))
            .transpose()
    }

    async fn find_by_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(ApiKey, TokenHash)>, RepositoryError> {
        let rows: Vec<ApiKeyRow> = api_key::table
            .filter(api_key::prefix.eq(prefix))
            .select(ApiKeyRow::as_select())
            .load(&mut *self.conn().await?)
            .await
            .map_err(diesel_error)?;
        rows.into_iter().map(ApiKeyRow::into_key).collect()
    }
}
