//! From Redis' answers to the port's [`QueueError`]: driver errors, and the refusals of the
//! scripts that settle a job.

use bb8::RunError;
use paloma_application::QueueError;
use redis::{ErrorKind, RedisError, ServerErrorKind};
use tracing::debug;

use crate::scripts::Refusal;

/// Connection trouble is `Unavailable` (worth retrying); anything else is `Unknown`.
pub(crate) fn redis_error(err: RedisError) -> QueueError {
    let transient = err.is_io_error()
        || err.is_timeout()
        || err.is_connection_refusal()
        || err.is_connection_dropped()
        || err.is_unrecoverable_error()
        || matches!(
            err.kind(),
            ErrorKind::Server(
                ServerErrorKind::BusyLoading
                    | ServerErrorKind::TryAgain
                    | ServerErrorKind::ClusterDown
                    | ServerErrorKind::MasterDown
                    | ServerErrorKind::ReadOnly
            )
        );
    if transient {
        QueueError::Unavailable(Box::new(err))
    } else {
        QueueError::Unknown(err.to_string())
    }
}

/// A pooled connection could not be had: the connection failed, or the pool stayed full.
pub(crate) fn pool_error(err: RunError<RedisError>) -> QueueError {
    match err {
        RunError::User(err) => redis_error(err),
        RunError::TimedOut => {
            QueueError::Unavailable("timed out waiting for a Redis connection".into())
        }
    }
}

/// A script would not settle job `job_id` (complete, fail, release): the job is not ours
/// (any more), or the queue is not in the state the script expects.
pub(crate) fn refusal_error(refusal: Refusal, job_id: &str) -> QueueError {
    match refusal {
        Refusal::JobMissing => {
            debug!(job_id, "job hash missing");
            QueueError::LockLost
        }
        Refusal::LockMissing | Refusal::LockMismatch => {
            debug!(job_id, code = refusal.code(), "job lock lost");
            QueueError::LockLost
        }
        Refusal::NotActive => QueueError::Unknown(format!(
            "job {job_id} is locked by us but not in the active list"
        )),
        Refusal::CorruptAttempts => QueueError::Unknown(format!(
            "job {job_id} has an attemptsMade that is not an integer; left as it was"
        )),
        Refusal::Unexpected(other) => {
            QueueError::Unknown(format!("unexpected script answer {other} for job {job_id}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What settling with the script answer `code` reports.
    fn settled(code: i64, job_id: &str) -> Result<(), QueueError> {
        Refusal::check(code).map_err(|refusal| refusal_error(refusal, job_id))
    }

    #[test]
    fn lock_codes_map_to_lock_lost() {
        assert!(settled(0, "1").is_ok());
        assert!(matches!(settled(-2, "1"), Err(QueueError::LockLost)));
        assert!(matches!(settled(-6, "1"), Err(QueueError::LockLost)));
        assert!(matches!(settled(-1, "1"), Err(QueueError::LockLost)));
        assert!(matches!(settled(-3, "1"), Err(QueueError::Unknown(_))));
    }

    #[test]
    fn unknown_codes_are_unknown_errors() {
        assert!(matches!(settled(-4, "1"), Err(QueueError::Unknown(_))));
        assert!(matches!(
            settled(i64::MIN, "1"),
            Err(QueueError::Unknown(_))
        ));
    }
}
