//! [`MysqlDatabase`]: the connection pool, and how a port call gets its connection.
//!
//! The queries themselves are plain functions over a `&mut AsyncMysqlConnection` in
//! [`crate::campaigns`] and [`crate::delivery`]; each port's one impl takes a connection here
//! and calls them.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel_async::pooled_connection::{AsyncDieselConnectionManager, PoolError};
use diesel_async::{AsyncMysqlConnection, RunQueryDsl};
use futures::future::BoxFuture;
use paloma_application::ports::RepositoryError;
use tracing::{Instrument, instrument};

use crate::error::{PoolTimedOut, diesel_error, pool_error};
use crate::setup::split_url;

/// The connection pool type the repository uses.
pub type MysqlPool = bb8::Pool<AsyncDieselConnectionManager<AsyncMysqlConnection>>;

/// A connection borrowed from the pool.
pub(crate) type PooledConnection<'a> =
    bb8::PooledConnection<'a, AsyncDieselConnectionManager<AsyncMysqlConnection>>;

/// How long `get()` on the pool waits for a connection before the call fails as `Unavailable`.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);

/// The campaign store and the delivery ledger on MySQL 8 / MariaDB 10.11 (diesel-async,
/// pure-Rust driver): it implements both
/// [`CampaignStore`](paloma_application::ports::CampaignStore) and
/// [`DeliveryLedger`](paloma_application::ports::DeliveryLedger). Cheap to clone: clones share
/// one connection pool.
#[derive(Clone)]
pub struct MysqlDatabase {
    pool: MysqlPool,
    last_error: LastError,
}

/// Keeps the pool's last background connection error, so that a timed-out `get()` can say why.
#[derive(Debug, Clone, Default)]
struct LastError(Arc<Mutex<Option<(Instant, String)>>>);

impl LastError {
    /// The last error if it is recent enough to explain a timeout that just happened.
    fn recent(&self) -> Option<String> {
        let last = self.0.lock().ok()?;
        let (at, error) = last.as_ref()?;
        (at.elapsed() <= 2 * POOL_TIMEOUT).then(|| error.clone())
    }
}

impl bb8::ErrorSink<PoolError> for LastError {
    fn sink(&self, error: PoolError) {
        tracing::debug!(error = %error, "a database connection failed");
        if let Ok(mut last) = self.0.lock() {
            *last = Some((Instant::now(), error.to_string()));
        }
    }

    fn boxed_clone(&self) -> Box<dyn bb8::ErrorSink<PoolError>> {
        Box::new(self.clone())
    }
}

impl std::fmt::Debug for MysqlDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MysqlDatabase")
            .field("pool", &self.pool.state())
            .finish()
    }
}

impl MysqlDatabase {
    /// Builds a pool of at most `pool_size` connections (at least 1) to `database_url`
    /// (`mysql://user:pass@host:port/db`). It does not connect yet: connections are opened on
    /// demand, so a process can start while the database is down; use [`Self::ping`] to check.
    /// Getting a connection gives up after 5 seconds, so a down database is an `Unavailable`
    /// error (naming the last connection error) rather than a hang.
    ///
    /// Errors: `Unknown` when the URL is not a `mysql://` URL.
    pub fn connect(database_url: &str, pool_size: u32) -> Result<Self, RepositoryError> {
        split_url(database_url)?;
        let manager = AsyncDieselConnectionManager::<AsyncMysqlConnection>::new(database_url);
        let last_error = LastError::default();
        let pool = bb8::Pool::builder()
            .max_size(pool_size.max(1))
            .connection_timeout(POOL_TIMEOUT)
            .error_sink(Box::new(last_error.clone()))
            .build_unchecked(manager);
        Ok(Self { pool, last_error })
    }

    /// Wraps an existing pool.
    pub fn from_pool(pool: MysqlPool) -> Self {
        Self {
            pool,
            last_error: LastError::default(),
        }
    }

    /// The underlying pool.
    pub fn pool(&self) -> &MysqlPool {
        &self.pool
    }

    /// Checks that the database answers (`SELECT 1`); for readiness probes.
    /// `Unavailable` when it does not within about 5 seconds.
    #[instrument(level = "debug", skip_all)]
    /// The pool's connections now: `(idle, busy)` (for the metrics).
    pub fn pool_connections(&self) -> (u32, u32) {
        let state = self.pool.state();
        (
            state.idle_connections,
            state.connections.saturating_sub(state.idle_connections),
        )
    }

    pub async fn ping(&self) -> Result<(), RepositoryError> {
        self.detached(|conn| {
            Box::pin(async move {
                diesel::sql_query("SELECT 1")
                    .execute(conn)
                    .await
                    .map_err(diesel_error)?;
                Ok(())
            })
        })
        .await
    }

    /// A connection from the pool; `Unavailable` (naming the last connection error) when none
    /// comes within the pool's timeout.
    pub(crate) async fn conn(&self) -> Result<PooledConnection<'_>, RepositoryError> {
        match self.pool.get().await {
            Ok(conn) => Ok(conn),
            Err(bb8::RunError::TimedOut) => {
                Err(RepositoryError::Unavailable(Box::new(PoolTimedOut {
                    last_error: self.last_error.recent(),
                })))
            }
            Err(e) => Err(pool_error(e)),
        }
    }

    /// Runs `query` on a pooled connection on a task of its own and waits for it, so that the
    /// query finishes even when its caller stops waiting (an HTTP client hangs up, a timeout
    /// fires). Dropping a query midway would put a half-read connection back into the pool,
    /// and the next call on it would fail. (A call cancelled inside a transaction is caught by
    /// the pool anyway: an open transaction marks the connection broken. That is why the
    /// transactional writes that take borrowed input run on [`conn`](Self::conn) directly.)
    pub(crate) async fn detached<T, Q>(&self, query: Q) -> Result<T, RepositoryError>
    where
        T: Send + 'static,
        Q: for<'c> FnOnce(
                &'c mut AsyncMysqlConnection,
            ) -> BoxFuture<'c, Result<T, RepositoryError>>
            + Send
            + 'static,
    {
        let db = self.clone();
        spawn_and_wait(async move {
            let mut conn = db.conn().await?;
            query(&mut conn).await
        })
        .await
    }
}

/// Spawns `call` in the current span and waits for its answer.
async fn spawn_and_wait<T, F>(call: F) -> Result<T, RepositoryError>
where
    F: Future<Output = Result<T, RepositoryError>> + Send + 'static,
    T: Send + 'static,
{
    tokio::spawn(call.in_current_span())
        .await
        .map_err(|e| RepositoryError::Unknown(Box::new(e)))?
}
