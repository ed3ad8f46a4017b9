//! The worker's metrics, through the `metrics` facade (the binary installs the Prometheus
//! exporter; without one, recording costs next to nothing). Names and labels are in the
//! README's Operations section.

use paloma_domain::{Outcome, OutcomeKind};

/// Outcomes written to the database, by `outcome` (`sent`, `failed`, `deferred`): counted once
/// written, so they add up to what MySQL recorded.
pub(super) const MESSAGES: &str = "paloma_messages_total";
/// One message handed to the mailer until its reply.
pub(super) const SEND_SECONDS: &str = "paloma_send_duration_seconds";
/// One write of a batch of outcomes.
pub(super) const FLUSH_SECONDS: &str = "paloma_outcome_flush_duration_seconds";
/// Messages being sent now.
pub(super) const IN_FLIGHT: &str = "paloma_in_flight";
/// Campaigns this worker is sending now (their jobs, or shards of them).
pub(super) const CAMPAIGNS_ACTIVE: &str = "paloma_campaigns_active";
/// Shards this worker holds a lease on now.
pub(super) const SHARDS_LEASED: &str = "paloma_shards_leased";
/// The queue's jobs by `state` (`waiting`, `active`, `delayed`, `failed`).
pub(super) const QUEUE_JOBS: &str = "paloma_queue_jobs";
/// Time spent waiting for a slot of the shared send rate.
pub(super) const RATE_LIMIT_WAIT_SECONDS: &str = "paloma_rate_limit_wait_seconds";

/// Counts a written batch by outcome.
pub(super) fn count_outcomes(outcomes: &[Outcome]) {
    let (mut sent, mut failed, mut deferred) = (0u64, 0u64, 0u64);
    for outcome in outcomes {
        match outcome.kind {
            OutcomeKind::Sent { .. } => sent += 1,
            OutcomeKind::Failed { .. } => failed += 1,
            OutcomeKind::Retry { .. } => deferred += 1,
        }
    }
    for (label, n) in [("sent", sent), ("failed", failed), ("deferred", deferred)] {
        if n > 0 {
            metrics::counter!(MESSAGES, "outcome" => label).increment(n);
        }
    }
}

/// Adds one to a gauge until dropped.
pub(super) struct Held(&'static str);

impl Held {
    pub(super) fn new(gauge: &'static str) -> Self {
        metrics::gauge!(gauge).increment(1.0);
        Self(gauge)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        metrics::gauge!(self.0).decrement(1.0);
    }
}
