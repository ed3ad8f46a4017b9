//! Start-up chores: creating the database and running the embedded migrations.

use std::time::Duration;

use diesel::sql_types::{BigInt, Nullable};
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncConnection, AsyncMysqlConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use paloma_application::ports::RepositoryError;
use url::Url;

use crate::error::{connection_error, diesel_error};

/// The SQL migrations of the repo-root `migrations/` directory, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// How long establishing one connection outside the pool may take.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Serialises concurrent migration runs (several `paloma-api` processes starting at once, or
/// `paloma-api migrate` run beside a starting API; workers never migrate).
const MIGRATION_LOCK: &str = "paloma_migrations";
const MIGRATION_LOCK_WAIT_SECS: u32 = 60;

/// A `mysql://` URL cut in two: the server part, and the database name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SplitUrl {
    /// `mysql://user:pass@host:port` plus the query string, if any, without a database.
    pub server: String,
    /// The database named by the path; `None` when there is no path.
    pub database: Option<String>,
}

/// An invalid database URL or database name.
#[derive(Debug, thiserror::Error)]
#[error("invalid database URL: {0}")]
pub(crate) struct InvalidUrl(String);

fn invalid(msg: impl Into<String>) -> RepositoryError {
    RepositoryError::Unknown(Box::new(InvalidUrl(msg.into())))
}

/// Parses a `mysql://` URL with a host. (The parser's message is kept, never the URL: it may
/// hold a password.)
fn parse_mysql_url(url: &str) -> Result<Url, RepositoryError> {
    let url = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
    if url.scheme() != "mysql" {
        return Err(invalid("the URL must start with mysql://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("the URL has no host"));
    }
    Ok(url)
}

/// Splits `mysql://user:pass@host:port/db?opts` into server URL and database name.
pub(crate) fn split_url(url: &str) -> Result<SplitUrl, RepositoryError> {
    let mut server = parse_mysql_url(url)?;
    let database = Some(server.path().trim_start_matches('/').trim_end_matches('/'))
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    server.set_path("");
    Ok(SplitUrl {
        server: server.into(),
        database,
    })
}

/// The URL of database `name` on the server of `url` (whatever database `url` names).
#[cfg(feature = "testing")]
pub(crate) fn with_database(url: &str, name: &str) -> Result<String, RepositoryError> {
    let mut url = parse_mysql_url(url)?;
    url.set_path(&format!("/{name}"));
    Ok(url.into())
}

/// A database name safe to put in SQL unquoted: `[A-Za-z0-9_]+`, at most 64 characters.
pub(crate) fn check_database_name(name: &str) -> Result<(), RepositoryError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "database name {name:?} is not [A-Za-z0-9_]+"
        )))
    }
}

/// Opens one connection, giving up after [`CONNECT_TIMEOUT`].
pub(crate) async fn establish(url: &str) -> Result<AsyncMysqlConnection, RepositoryError> {
    match tokio::time::timeout(CONNECT_TIMEOUT, AsyncMysqlConnection::establish(url)).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(connection_error(e)),
        Err(_) => Err(RepositoryError::Unavailable(Box::new(
            crate::error::PoolTimedOut { last_error: None },
        ))),
    }
}

/// Creates the database named by `database_url` when it does not exist yet
/// (`CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`), connecting to the server without
/// naming it. The name must be `[A-Za-z0-9_]+`.
///
/// Errors: `Unknown` for a URL without a database or with an invalid name, `Unavailable` when
/// the server cannot be reached within 5 seconds.
pub async fn create_database_if_missing(database_url: &str) -> Result<(), RepositoryError> {
    let split = split_url(database_url)?;
    let name = split
        .database
        .ok_or_else(|| invalid("the URL names no database"))?;
    check_database_name(&name)?;
    let mut conn = establish(&split.server).await?;
    diesel::sql_query(format!(
        "CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
    ))
    .execute(&mut conn)
    .await
    .map_err(diesel_error)?;
    Ok(())
}

/// A session of the server, as `information_schema.PROCESSLIST` lists it.
#[cfg(feature = "testing")]
#[derive(diesel::QueryableByName)]
struct Session {
    #[diesel(sql_type = diesel::sql_types::Unsigned<BigInt>)]
    id: u64,
}

/// Drops the database named by `database_url` if it exists. Meant for tests: the sessions
/// still using the database (a finished test's pool, a process it started, a transaction cut
/// off mid-way whose locks would make `DROP DATABASE` wait) are ended first.
#[cfg(feature = "testing")]
pub(crate) async fn drop_database(database_url: &str) -> Result<(), RepositoryError> {
    let split = split_url(database_url)?;
    let name = split
        .database
        .ok_or_else(|| invalid("the URL names no database"))?;
    check_database_name(&name)?;
    let mut conn = establish(&split.server).await?;
    let sessions: Vec<Session> = diesel::sql_query(
        "SELECT ID AS id FROM information_schema.PROCESSLIST \
         WHERE DB = ? AND ID <> CONNECTION_ID()",
    )
    .bind::<diesel::sql_types::Text, _>(&name)
    .load(&mut conn)
    .await
    .map_err(diesel_error)?;
    for session in sessions {
        // It may have ended meanwhile.
        let _ = diesel::sql_query(format!("KILL CONNECTION {}", session.id))
            .execute(&mut conn)
            .await;
    }
    diesel::sql_query(format!("DROP DATABASE IF EXISTS `{name}`"))
        .execute(&mut conn)
        .await
        .map_err(diesel_error)?;
    Ok(())
}

/// A migration run that failed.
#[derive(Debug, thiserror::Error)]
#[error("migrations failed: {0}")]
pub(crate) struct MigrationFailed(String);

/// Applies the pending embedded migrations to the database of `database_url` and returns how
/// many were applied (0 when it was up to date). Concurrent runs (several processes starting at
/// once) are serialised with a named server lock (`GET_LOCK`).
///
/// It works on any tokio runtime flavour: the synchronous migration harness runs on a blocking
/// thread through diesel-async's `AsyncConnectionWrapper`, with no C MySQL library.
pub async fn run_migrations(database_url: &str) -> Result<usize, RepositoryError> {
    let mut conn = establish(database_url).await?;
    // Both values are constants of this module: nothing from outside reaches this SQL.
    let locked: Option<i64> = diesel::select(diesel::dsl::sql::<Nullable<BigInt>>(&format!(
        "GET_LOCK('{MIGRATION_LOCK}', {MIGRATION_LOCK_WAIT_SECS})"
    )))
    .get_result(&mut conn)
    .await
    .map_err(diesel_error)?;
    if locked != Some(1) {
        return Err(RepositoryError::Unavailable(Box::new(MigrationFailed(
            format!("could not take the migration lock within {MIGRATION_LOCK_WAIT_SECS} s"),
        ))));
    }
    // The wrapper blocks on the current runtime's handle, so it must run off the async threads.
    // The lock belongs to this session and ends with it.
    let applied = tokio::task::spawn_blocking(move || {
        let mut wrapper: AsyncConnectionWrapper<AsyncMysqlConnection> =
            AsyncConnectionWrapper::from(conn);
        wrapper
            .run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.len())
            .map_err(|e| MigrationFailed(e.to_string()))
    })
    .await
    .map_err(|e| RepositoryError::Unknown(Box::new(e)))?
    .map_err(|e| RepositoryError::Unknown(Box::new(e)))?;
    tracing::info!(applied, "database migrations are up to date");
    Ok(applied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "testing")]
    fn urls_get_another_database() {
        assert_eq!(
            with_database("mysql://root@h:1/old?a=b", "new").expect("valid"),
            "mysql://root@h:1/new?a=b"
        );
        assert_eq!(
            with_database("mysql://root@h:1", "new").expect("valid"),
            "mysql://root@h:1/new"
        );
    }

    #[test]
    fn urls_split_into_server_and_database() {
        let s = split_url("mysql://root:pw@db:3306/paloma?ssl-mode=disabled").expect("valid");
        assert_eq!(s.server, "mysql://root:pw@db:3306?ssl-mode=disabled");
        assert_eq!(s.database.as_deref(), Some("paloma"));
        let s = split_url("mysql://root@127.0.0.1:3306").expect("valid");
        assert_eq!(s.server, "mysql://root@127.0.0.1:3306");
        assert_eq!(s.database, None);
        let s = split_url("mysql://root@127.0.0.1:3306/").expect("valid");
        assert_eq!(s.database, None);
        assert!(split_url("postgres://x/y").is_err());
        assert!(split_url("mysql:///paloma").is_err());
        assert!(split_url("not a url").is_err());
        // Escapes in the credentials are kept as they were written.
        let s = split_url("mysql://app:p%40ss@[::1]:3306/paloma").expect("valid");
        assert_eq!(s.server, "mysql://app:p%40ss@[::1]:3306");
        assert_eq!(s.database.as_deref(), Some("paloma"));
    }

    #[test]
    fn database_names_are_restricted() {
        assert!(check_database_name("paloma_test_01").is_ok());
        assert!(check_database_name("").is_err());
        assert!(check_database_name("x`; DROP DATABASE y; --").is_err());
        assert!(check_database_name("a-b").is_err());
    }
}
