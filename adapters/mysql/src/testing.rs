//! Fresh, migrated databases for tests (this crate's and other crates'), behind the `testing`
//! feature: test crates enable it through their dev-dependencies.

use std::time::Duration;

use uuid::Uuid;

use paloma_application::ports::RepositoryError;

use crate::setup::{create_database_if_missing, drop_database, run_migrations, with_database};

/// The server tests use when `TEST_MYSQL_URL` is not set.
pub const DEFAULT_TEST_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306";

/// How long dropping a forgotten database may take before the guard gives up on it.
const DROP_TIMEOUT: Duration = Duration::from_secs(30);

/// A database created for one test, dropped when this guard goes out of scope: at the end of
/// the test, on an early return, and when the test panics (the guard is dropped while the panic
/// unwinds). Only a test process that is killed or aborts leaves its database behind.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL of the database, to give to [`crate::MysqlDatabase::connect`] or to a
    /// binary as `DATABASE_URL`.
    pub url: String,
    /// The database's name (`paloma_test_<uuid>`).
    pub name: String,
    /// Set once the database is gone, so the guard has nothing left to do.
    dropped: bool,
}

impl TestDatabase {
    /// A guard for database `name` on the test server; nothing is created. For tests that
    /// create the database themselves.
    pub fn named(name: &str) -> Result<Self, RepositoryError> {
        Ok(Self {
            url: database_url(name)?,
            name: name.to_owned(),
            dropped: false,
        })
    }

    /// Drops the database now and says whether that worked (the guard can only log it).
    pub async fn remove(mut self) -> Result<(), RepositoryError> {
        drop_database(&self.url).await?;
        self.dropped = true;
        Ok(())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let url = std::mem::take(&mut self.url);
        // The test's runtime may be single-threaded (and blocked right here) or shutting down,
        // so the database is dropped on a thread with a runtime of its own, waited for: the
        // test process may exit as soon as this returns.
        let cleanup = std::thread::spawn(move || -> Result<(), String> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                match tokio::time::timeout(DROP_TIMEOUT, drop_database(&url)).await {
                    Ok(result) => result.map_err(|e| e.to_string()),
                    Err(_) => Err(format!("no answer within {DROP_TIMEOUT:?}")),
                }
            })
        });
        let outcome = cleanup
            .join()
            .unwrap_or_else(|_| Err("the cleanup thread panicked".to_owned()));
        if let Err(e) = outcome {
            eprintln!("could not drop test database {}: {e}", self.name);
        }
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

/// Creates `paloma_test_<uuid>` on the test server and runs the migrations on it. The database
/// is dropped when the returned guard is.
pub async fn fresh_database() -> Result<TestDatabase, RepositoryError> {
    let db = TestDatabase::named(&format!("paloma_test_{}", Uuid::now_v7().simple()))?;
    create_database_if_missing(&db.url).await?;
    run_migrations(&db.url).await?;
    Ok(db)
}

/// Creates `paloma_test_<uuid>` on the test server without running the migrations: for tests
/// that set a database up the way another program (or an earlier Paloma) left it.
pub async fn empty_database() -> Result<TestDatabase, RepositoryError> {
    let db = TestDatabase::named(&format!("paloma_test_{}", Uuid::now_v7().simple()))?;
    create_database_if_missing(&db.url).await?;
    Ok(db)
}

/// Runs an SQL script (several statements) on the database of `database_url`.
pub async fn execute_script(database_url: &str, sql: &str) -> Result<(), RepositoryError> {
    use diesel_async::SimpleAsyncConnection;
    let mut conn = crate::setup::establish(database_url).await?;
    conn.batch_execute(sql)
        .await
        .map_err(crate::error::diesel_error)
}
