//! Fresh, migrated databases for tests (this crate's and other crates').

use uuid::Uuid;

use paloma_application::ports::RepositoryError;

use crate::setup::{create_database_if_missing, drop_database, run_migrations, with_database};

/// The server tests use when `TEST_MYSQL_URL` is not set.
pub const DEFAULT_TEST_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306";

/// A database created for one test, already migrated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestDatabase {
    /// The URL of the database, to give to [`crate::MysqlCampaignRepository::connect`] or to a
    /// binary as `DATABASE_URL`.
    pub url: String,
    /// The database's name (`paloma_test_<uuid>`).
    pub name: String,
}

impl TestDatabase {
    /// Drops the database. Optional: forgotten databases only take disk space.
    pub async fn drop(self) -> Result<(), RepositoryError> {
        drop_database(&self.url).await
    }
}

/// The server URL from `TEST_MYSQL_URL` (default [`DEFAULT_TEST_MYSQL_URL`]); a database named
/// in it is ignored.
pub fn test_server_url() -> String {
    std::env::var("TEST_MYSQL_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_MYSQL_URL.to_owned())
}

/// The URL of database `name` on the test server (nothing is created).
pub fn database_url(name: &str) -> Result<String, RepositoryError> {
    with_database(&test_server_url(), name)
}

/// Creates `paloma_test_<uuid>` on the test server and runs the migrations on it.
pub async fn fresh_database() -> Result<TestDatabase, RepositoryError> {
    let name = format!("paloma_test_{}", Uuid::now_v7().simple());
    let url = database_url(&name)?;
    create_database_if_missing(&url).await?;
    run_migrations(&url).await?;
    Ok(TestDatabase { url, name })
}
