//! Translation of driver errors into the port's [`RepositoryError`].

use diesel::result::{ConnectionError, DatabaseErrorKind, Error as DieselError};
use diesel_async::pooled_connection::PoolError;
use paloma_application::ports::RepositoryError;

/// The error type used inside transactions: either a driver error or an answer the repository
/// decided on (`NotFound`, `Conflict`, ...). It exists because `RepositoryError` and diesel's
/// error are both foreign, so no `From` can join them directly.
#[derive(Debug)]
pub(crate) enum DbError {
    Diesel(DieselError),
    Repo(RepositoryError),
}

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        Self::Diesel(e)
    }
}

impl From<RepositoryError> for DbError {
    fn from(e: RepositoryError) -> Self {
        Self::Repo(e)
    }
}

impl From<DbError> for RepositoryError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Diesel(e) => diesel_error(e),
            DbError::Repo(e) => e,
        }
    }
}

/// Messages (as mysql_async renders them) of client-side errors that mean the connection is
/// gone or unusable: worth retrying on another connection.
const CONNECTION_TROUBLE: &[&str] = &[
    "Input/output error",
    "Connection to the server is closed",
    "Pool was disconnected",
    "Packet out of order",
    "Unexpected packet",
    "Connection refused",
    "Connection reset",
    "Broken pipe",
    "timed out",
];

/// Server error codes that mean "the server cannot serve you right now".
/// 1040: too many connections; 1053: server shutdown in progress; 1205: lock wait timeout;
/// 1213: deadlock (the transaction was rolled back and may simply be retried).
const UNAVAILABLE_SERVER_MESSAGES: &[&str] = &[
    "Too many connections",
    "Server shutdown in progress",
    "Lock wait timeout exceeded",
    "Deadlock found",
];

fn is_connection_trouble(message: &str) -> bool {
    CONNECTION_TROUBLE
        .iter()
        .chain(UNAVAILABLE_SERVER_MESSAGES)
        .any(|m| message.contains(m))
}

/// Maps a query error: lost connections and overload are `Unavailable`, the rest `Unknown`.
pub(crate) fn diesel_error(e: DieselError) -> RepositoryError {
    let unavailable = match &e {
        DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        DieselError::DatabaseError(_, info) => is_connection_trouble(info.message()),
        DieselError::BrokenTransactionManager => true,
        _ => false,
    };
    if unavailable {
        RepositoryError::Unavailable(Box::new(e))
    } else {
        RepositoryError::Unknown(Box::new(e))
    }
}

/// Maps an error establishing a connection: a bad URL is `Unknown` (retrying will not help),
/// anything else `Unavailable`.
pub(crate) fn connection_error(e: ConnectionError) -> RepositoryError {
    match e {
        ConnectionError::InvalidConnectionUrl(_) | ConnectionError::InvalidCString(_) => {
            RepositoryError::Unknown(Box::new(e))
        }
        ConnectionError::CouldntSetupConfiguration(inner) => match diesel_error(inner) {
            RepositoryError::Unknown(inner) => RepositoryError::Unknown(inner),
            other => other,
        },
        _ => RepositoryError::Unavailable(Box::new(e)),
    }
}

/// Maps an error getting a connection from the pool: always `Unavailable`, except a bad URL.
pub(crate) fn pool_error(e: bb8::RunError<PoolError>) -> RepositoryError {
    match e {
        bb8::RunError::TimedOut => {
            RepositoryError::Unavailable(Box::new(PoolTimedOut { last_error: None }))
        }
        bb8::RunError::User(PoolError::ConnectionError(e)) => connection_error(e),
        bb8::RunError::User(PoolError::QueryError(e)) => RepositoryError::Unavailable(Box::new(e)),
    }
}

/// No connection could be had within the connection timeout.
#[derive(Debug, thiserror::Error)]
#[error("timed out waiting for a database connection{}", last_error.as_ref().map(|e| format!(" (last error: {e})")).unwrap_or_default())]
pub(crate) struct PoolTimedOut {
    pub last_error: Option<String>,
}

/// Data read from the database that does not fit the domain (a corrupt id, an unknown status).
#[derive(Debug, thiserror::Error)]
#[error("invalid data in column {column}: {detail}")]
pub(crate) struct CorruptRow {
    pub column: &'static str,
    pub detail: String,
}

/// Shorthand for an `Unknown` error about corrupt data.
pub(crate) fn corrupt(column: &'static str, detail: impl Into<String>) -> RepositoryError {
    RepositoryError::Unknown(Box::new(CorruptRow {
        column,
        detail: detail.into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_connections_are_unavailable_and_the_rest_unknown() {
        let io = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("Input/output error: Connection reset by peer".to_owned()),
        );
        assert!(matches!(diesel_error(io), RepositoryError::Unavailable(_)));
        let syntax = DieselError::DatabaseError(
            DatabaseErrorKind::Unknown,
            Box::new("You have an error in your SQL syntax".to_owned()),
        );
        assert!(matches!(diesel_error(syntax), RepositoryError::Unknown(_)));
        assert!(matches!(
            diesel_error(DieselError::NotFound),
            RepositoryError::Unknown(_)
        ));
        assert!(matches!(
            pool_error(bb8::RunError::TimedOut),
            RepositoryError::Unavailable(_)
        ));
        assert!(matches!(
            connection_error(ConnectionError::InvalidConnectionUrl("x".into())),
            RepositoryError::Unknown(_)
        ));
        assert!(matches!(
            connection_error(ConnectionError::BadConnection("refused".into())),
            RepositoryError::Unavailable(_)
        ));
    }
}
