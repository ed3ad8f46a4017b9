//! Writing a run's outcomes: a group commit. A write starts as soon as the previous one has
//! ended and an outcome is waiting, and takes every outcome that arrived meanwhile (at most
//! `flush_size`), while messages keep being sent. So what a crash can leave delivered but not
//! written is the messages in flight, the write under way and what arrived during it, not a
//! timer's worth. Each write is retried while the database is unavailable, done one by one
//! when the database refuses a batch; then the hard bounces are suppressed and the written
//! counters checked (a stop a user asked for, the failure threshold).

use std::future::Future;
use std::pin::Pin;

use paloma_domain::{Campaign, CampaignId, CampaignStatus, Outcome, OutcomeKind, hard_bounces};
use tracing::{debug, error, info, warn};

use super::campaign::Run;
use super::pace::{Stop, backoff};
use super::{RunError, Worker, WorkerPorts, error_chain};
use crate::ports::{Clock, DeliveryLedger, RepositoryError};

/// A write of outcomes under way; it answers with its batch, so a refused batch can be kept.
pub(super) type Writing<'a> =
    Pin<Box<dyn Future<Output = (Vec<Outcome>, Result<Campaign, RepositoryError>)> + Send + 'a>>;

impl<P: WorkerPorts> Run<'_, P> {
    /// Starts writing the waiting outcomes (at most `flush_size`) unless a write is under
    /// way: those that arrive meanwhile go in the next one.
    pub(super) fn start_write(&mut self) {
        if self.writing.is_some() || self.outcomes.is_empty() {
            return;
        }
        let n = self
            .outcomes
            .len()
            .min(self.worker.settings.flush_size.max(1));
        let batch: Vec<Outcome> = self.outcomes.drain(..n).collect();
        self.writing_len = batch.len();
        let (worker, id, stop) = (self.worker, self.id, self.stop);
        self.writing = Some(Box::pin(async move {
            let written = write(worker, id, stop, &batch).await;
            (batch, written)
        }));
    }

    /// Outcomes not written yet: waiting, and in the write under way.
    pub(super) fn unwritten(&self) -> usize {
        self.outcomes.len()
            + if self.writing.is_some() {
                self.writing_len
            } else {
                0
            }
    }

    /// Waits for the write under way, if any, and takes in its answer.
    pub(super) async fn finish_write(&mut self) -> Result<(), RunError> {
        if let Some(writing) = self.writing.take() {
            let (batch, written) = writing.await;
            self.written(batch, written).await?;
        }
        Ok(())
    }

    /// Writes everything waiting, the write under way first.
    pub(super) async fn flush_and_check(&mut self) -> Result<(), RunError> {
        self.finish_write().await?;
        while !self.outcomes.is_empty() {
            self.start_write();
            self.finish_write().await?;
        }
        Ok(())
    }

    /// Takes in a write's answer. Written: the batch's hard bounces are suppressed and the
    /// counters checked. Refused for another reason than the database being unavailable (a
    /// row it cannot store): the outcomes are written one by one, so that one bad row never
    /// costs the others (their messages were delivered; dropping their outcomes would send
    /// them again). Still unavailable (only during shutdown, after a few tries): the batch
    /// goes back first in line and the run ends; its recipients stay `PENDING`.
    pub(super) async fn written(
        &mut self,
        batch: Vec<Outcome>,
        written: Result<Campaign, RepositoryError>,
    ) -> Result<(), RunError> {
        let campaign = match written {
            Ok(campaign) => {
                self.recorded(batch.len());
                suppress_bounced(self.worker, self.id, &batch).await;
                debug!(
                    written = batch.len(),
                    sent = campaign.sent_emails,
                    failed = campaign.failed_emails,
                    pending = campaign.pending_emails(),
                    "outcomes written"
                );
                campaign
            }
            Err(RepositoryError::Unknown(e)) => {
                error!(error = %error_chain(&*e), outcomes = batch.len(), "the database refused a batch of outcomes; writing them one by one");
                self.put_back(batch);
                self.write_one_by_one().await?
            }
            Err(e) => {
                self.put_back(batch);
                return Err(e.into());
            }
        };
        self.check_written(&campaign);
        Ok(())
    }

    /// Puts a batch that was not written back before the outcomes that came after it.
    fn put_back(&mut self, batch: Vec<Outcome>) {
        let later = std::mem::replace(&mut self.outcomes, batch);
        self.outcomes.extend(later);
    }

    /// The written counters tell whether a user paused or cancelled the campaign (a stop
    /// request this worker missed halts the run here) and whether its failures passed the
    /// threshold (noted in `tripped`).
    fn check_written(&mut self, campaign: &Campaign) {
        if matches!(
            campaign.status,
            CampaignStatus::Paused | CampaignStatus::Cancelled
        ) && !self.stop.halt.is_cancelled()
        {
            info!(status = %campaign.status, "the campaign was stopped by a user; no new message starts");
            self.stop.halt.cancel();
        }
        if self.tripped.is_none() {
            self.tripped = self.worker.threshold_passed(campaign);
        }
    }

    /// Writes the buffered outcomes one at a time, each taken out of the buffer once written.
    /// One that is refused on its own is written again without its error text (a fixed text
    /// instead); if even that is refused, the run fails with the rest still buffered.
    async fn write_one_by_one(&mut self) -> Result<Campaign, RunError> {
        let mut last = None;
        while let Some(outcome) = self.outcomes.first().cloned() {
            let written = match write(
                self.worker,
                self.id,
                self.stop,
                std::slice::from_ref(&outcome),
            )
            .await
            {
                Err(RepositoryError::Unknown(e)) => {
                    error!(error = %error_chain(&*e), recipient_id = %outcome.recipient_id, "the database refused one outcome; recording it without its error text");
                    let Some(plain) = without_error_text(&outcome) else {
                        return Err(RepositoryError::Unknown(e).into());
                    };
                    write(
                        self.worker,
                        self.id,
                        self.stop,
                        std::slice::from_ref(&plain),
                    )
                    .await?
                }
                other => other?,
            };
            self.outcomes.remove(0);
            self.recorded(1);
            last = Some(written);
        }
        last.ok_or_else(|| RepositoryError::Conflict("no outcome to write".into()).into())
    }
}

/// Puts the addresses of the batch's hard bounces on the suppression list, when the settings
/// say so. Best effort: the outcomes are written; a failure here is logged, and the address is
/// suppressed at its next hard bounce. (A function, not a method: the run holds the write
/// under way, which is `Send` but not `Sync`, so no `&Run` may live across an await.)
async fn suppress_bounced<P: WorkerPorts>(worker: &Worker<P>, id: CampaignId, batch: &[Outcome]) {
    if !worker.settings.suppress_hard_bounces {
        return;
    }
    let bounced = hard_bounces(batch);
    if bounced.is_empty() {
        return;
    }
    match worker
        .ledger
        .suppress_bounced(id, &bounced, worker.clock.now())
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

/// One `record_outcomes` call, retried while the database is unavailable (during shutdown, a
/// few times only).
async fn write<P: WorkerPorts>(
    worker: &Worker<P>,
    id: CampaignId,
    stop: Stop<'_>,
    outcomes: &[Outcome],
) -> Result<Campaign, RepositoryError> {
    let mut tries = 0u32;
    loop {
        let started = std::time::Instant::now();
        let written = worker
            .ledger
            .record_outcomes(id, outcomes, worker.clock.now())
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
                if !(stop.shutdown.is_cancelled() && tries >= 5) =>
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
