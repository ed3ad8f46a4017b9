//! The worker-side use case: take campaign jobs and send them.
