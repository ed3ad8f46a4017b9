//! Writing a run's outcomes: in batches, retried while the database is unavailable, one by
//! one when it refuses a batch, then the hard bounces suppressed and the written counters
//! checked (a stop a user asked for, the failure threshold).

use paloma_domain::{Campaign, CampaignStatus, Outcome, OutcomeKind, hard_bounces};
use tracing::{debug, error, info, warn};

use super::campaign::Run;
use super::pace::backoff;
use super::{RunError, WorkerPorts, error_chain};
use crate::ports::{Clock, DeliveryLedger, RepositoryError};

impl<P: WorkerPorts> Run<'_, P> {
    /// [`flush`](Self::flush), then notes in `tripped` why sending must stop if the written
    /// counters pass the failure threshold.
    ///
    /// The written campaign also tells whether a user paused or cancelled it: a stop request
    /// this worker missed (its subscription was down) halts the run here.
    pub(super) async fn flush_and_check(&mut self) -> Result<(), RunError> {
        if let Some(campaign) = self.flush().await? {
            if matches!(
                campaign.status,
                CampaignStatus::Paused | CampaignStatus::Cancelled
            ) && !self.stop.halt.is_cancelled()
            {
                info!(status = %campaign.status, "the campaign was stopped by a user; no new message starts");
                self.stop.halt.cancel();
            }
            if self.tripped.is_none() {
                self.tripped = self.worker.threshold_passed(&campaign);
            }
        }
        Ok(())
    }

    /// Writes buffered outcomes, retrying while the database is unavailable (the outcomes are
    /// kept in memory meanwhile). During shutdown it gives up after a few tries: the recipients
    /// stay `PENDING` and are sent again by the next worker.
    ///
    /// When the database refuses the batch for another reason (a row it cannot store), the
    /// outcomes are written one by one, so that one bad row never costs the others: their
    /// messages were delivered, and dropping their outcomes would send them again (and, the
    /// bad row failing every time, again and again).
    async fn flush(&mut self) -> Result<Option<Campaign>, RunError> {
        if self.outcomes.is_empty() {
            return Ok(None);
        }
        let batch = std::mem::take(&mut self.outcomes);
        match self.write(&batch).await {
            Ok(campaign) => {
                self.suppress_bounced(&batch).await;
                debug!(
                    written = batch.len(),
                    sent = campaign.sent_emails,
                    failed = campaign.failed_emails,
                    pending = campaign.pending_emails(),
                    "outcomes written"
                );
                Ok(Some(campaign))
            }
            Err(RepositoryError::Unknown(e)) => {
                error!(error = %error_chain(&*e), outcomes = batch.len(), "the database refused a batch of outcomes; writing them one by one");
                self.outcomes = batch;
                self.write_one_by_one().await.map(Some)
            }
            Err(e) => {
                self.outcomes = batch;
                Err(e.into())
            }
        }
    }

    /// Puts the addresses of the batch's hard bounces on the suppression list, when the
    /// settings say so. Best effort: the outcomes are written; a failure here is logged, and the
    /// address is suppressed at its next hard bounce.
    async fn suppress_bounced(&self, batch: &[Outcome]) {
        if !self.worker.settings.suppress_hard_bounces {
            return;
        }
        let bounced = hard_bounces(batch);
        if bounced.is_empty() {
            return;
        }
        let now = self.worker.clock.now();
        match self
            .worker
            .ledger
            .suppress_bounced(self.id, &bounced, now)
            .await
        {
            Ok(()) => debug!(
                addresses = bounced.len(),
                "hard bounces added to the suppression list"
            ),
            Err(e) => {
                warn!(error = %e, addresses = bounced.len(), "could not add hard bounces to the suppression list")
            }
        }
    }

    /// Writes the buffered outcomes one at a time, each taken out of the buffer once written.
    /// One that is refused on its own is written again without its error text (a fixed text
    /// instead); if even that is refused, the run fails with the rest still buffered.
    async fn write_one_by_one(&mut self) -> Result<Campaign, RunError> {
        let mut last = None;
        while let Some(outcome) = self.outcomes.first().cloned() {
            let written = match self.write(std::slice::from_ref(&outcome)).await {
                Err(RepositoryError::Unknown(e)) => {
                    error!(error = %error_chain(&*e), recipient_id = %outcome.recipient_id, "the database refused one outcome; recording it without its error text");
                    let Some(plain) = without_error_text(&outcome) else {
                        return Err(RepositoryError::Unknown(e).into());
                    };
                    self.write(std::slice::from_ref(&plain)).await?
                }
                other => other?,
            };
            self.outcomes.remove(0);
            last = Some(written);
        }
        last.ok_or_else(|| RepositoryError::Conflict("no outcome to write".into()).into())
    }

    /// One `record_outcomes` call, retried while the database is unavailable (during shutdown,
    /// a few times only).
    async fn write(&self, outcomes: &[Outcome]) -> Result<Campaign, RepositoryError> {
        let worker = self.worker;
        let mut tries = 0u32;
        loop {
            let started = std::time::Instant::now();
            let written = worker
                .ledger
                .record_outcomes(self.id, outcomes, worker.clock.now())
                .await;
            metrics::histogram!(super::metrics::FLUSH_SECONDS).record(started.elapsed());
            if written.is_ok() {
                super::metrics::count_outcomes(outcomes);
                worker
                    .handled
                    .fetch_add(outcomes.len() as u64, std::sync::atomic::Ordering::Relaxed);
            }
            match written {
                Err(RepositoryError::Unavailable(e))
                    if !(self.stop.shutdown.is_cancelled() && tries >= 5) =>
                {
                    tries += 1;
                    let wait = backoff(tries);
                    warn!(error = %e, pending_outcomes = outcomes.len(), retry_in_ms = wait.as_millis() as u64, "cannot write outcomes; retrying");
                    tokio::time::sleep(wait).await;
                }
                result => return result,
            }
        }
    }
}

/// The text recorded instead of a failure's own when the database refused to store that.
pub(crate) const UNSTORABLE_ERROR: &str =
    "the failure's text could not be stored (see the worker's log)";

/// `outcome` with its error text replaced by [`UNSTORABLE_ERROR`]; `None` for a success,
/// which has no text to blame.
fn without_error_text(outcome: &Outcome) -> Option<Outcome> {
    let kind = match &outcome.kind {
        OutcomeKind::Sent { .. } => return None,
        OutcomeKind::Failed { permanent, .. } => OutcomeKind::Failed {
            error: UNSTORABLE_ERROR.to_owned(),
            permanent: *permanent,
        },
        OutcomeKind::Retry { at, .. } => OutcomeKind::Retry {
            at: *at,
            error: UNSTORABLE_ERROR.to_owned(),
        },
    };
    Some(Outcome {
        kind,
        ..outcome.clone()
    })
}
