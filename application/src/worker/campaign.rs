//! Sending one campaign.
//!
//! A run reads the campaign's due recipients in id order (a pass), keeps `concurrency` messages
//! in flight and writes their outcomes in batches. When a pass is done and nothing is in
//! flight, it waits for the earliest retry to be due and starts another pass, until no
//! recipient is pending; then it finishes the campaign. Once the failures pass the threshold it
//! stops sending and abandons the campaign instead.

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use paloma_domain::{
    Campaign, CampaignId, CampaignStatus, DeliveryOutcome, MessageTemplate, Outcome, Recipient,
    RecipientId, UnsubscribeLinks,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use super::letter::Letter;
use super::outcomes::Writing;
use super::pace::{Stop, ended, interrupted};
use super::{RunError, RunOutcome, Worker, WorkerPorts};
use crate::ports::{CampaignStore, Clock, DeliveryLedger, MessageSender, RepositoryError};

/// What one send task answers: the recipient, the attempt it made, how it went, and when it
/// ended (for a message sent: when the SMTP server accepted it, its `sentAt`).
type Sent = (RecipientId, u32, DeliveryOutcome, DateTime<Utc>);

impl<P: WorkerPorts> Worker<P> {
    /// Sends every due recipient of one campaign, keeping `concurrency` messages in flight and
    /// writing outcomes in batches, until nothing is pending (then the campaign is finished),
    /// `shutdown` is cancelled or the job's lock is lost.
    ///
    /// While the database is unavailable it waits and retries (keeping the job's lock and the
    /// outcomes of what it already sent), however long that takes: failing the run would drop
    /// those outcomes, so their messages would be sent again, and would spend the queue job's
    /// attempts until the campaign was left with no job at all.
    ///
    /// A user's pause or cancel, sent to this worker while it runs, halts it the same way.
    pub async fn run_campaign(
        &self,
        id: CampaignId,
        shutdown: &CancellationToken,
        lock_lost: &CancellationToken,
    ) -> Result<RunOutcome, RunError> {
        let registered = self.sending.register(id);
        let stop = Stop {
            shutdown,
            lock_lost,
            halt: &registered.token,
        };
        self.send_campaign(id, stop).await
    }

    /// [`run_campaign`](Self::run_campaign) with the campaign already registered.
    pub(super) async fn send_campaign(
        &self,
        id: CampaignId,
        stop: Stop<'_>,
    ) -> Result<RunOutcome, RunError> {
        let started = self
            .patiently("starting the campaign", stop, || {
                self.ledger.start(id, self.clock.now())
            })
            .await;
        let campaign = match started {
            Ok(c) => c,
            Err(RepositoryError::NotFound(_)) => return Err(RunError::NotFound),
            Err(e) => return interrupted(e, stop),
        };
        if campaign.status.is_final() {
            info!(status = %campaign.status, "campaign already final");
            return Ok(RunOutcome::Finished(campaign.status));
        }
        match campaign.status {
            CampaignStatus::Draft => return Ok(RunOutcome::Draft),
            CampaignStatus::Scheduled => return Ok(RunOutcome::NotDue),
            CampaignStatus::Paused => {
                info!("campaign paused; nothing to send until it is resumed");
                return Ok(RunOutcome::Halted);
            }
            _ => {}
        }
        // Resumed after a crash with the threshold already passed.
        if let Some(reason) = self.threshold_passed(&campaign) {
            return self.abandon(id, &reason, stop).await;
        }
        let body = match self
            .patiently("reading the body", stop, || self.ledger.get_body(id))
            .await
        {
            Ok(body) => body,
            Err(e) => return interrupted(e, stop),
        };
        let body = body.ok_or(RunError::NotFound)?;
        // Compiled once for the run. Only a campaign whose tags were checked at creation is
        // read as a template: one stored by other means (the Node stack) is sent as it is.
        let template = if campaign.merge_tags {
            MessageTemplate::compile(&campaign.subject, &body).map_err(|e| {
                RepositoryError::Unknown(
                    format!("the stored {} no longer compiles: {e}", e.part.field()).into(),
                )
            })?
        } else {
            MessageTemplate::fixed(&campaign.subject, &body)
        };
        info!(
            total = campaign.total_emails,
            pending = campaign.pending_emails(),
            "sending campaign"
        );

        let sender = MessageSender {
            from_name: campaign.from_name.clone(),
            from_email: campaign.from_email.clone(),
            reply_to: campaign.reply_to.clone(),
        };
        let mut run = Run::new(self, id, stop, Arc::new(template), Arc::new(sender));
        loop {
            let stopping = run.stopping();
            if !stopping {
                run.fill_pipeline().await?;
            }
            if run.in_flight.is_empty() {
                if let Some(outcome) = run.idle().await? {
                    return Ok(outcome);
                }
            } else {
                run.wait_for_sends(stopping).await?;
            }
        }
    }

    /// Why the campaign must stop, if its failures have passed the threshold.
    pub(super) fn threshold_passed(&self, campaign: &Campaign) -> Option<String> {
        let threshold = self.settings.failure_threshold?;
        threshold
            .is_passed(campaign.sent_emails, campaign.failed_emails)
            .then(|| threshold.not_sent_reason(campaign.sent_emails, campaign.failed_emails))
    }

    /// Ends the campaign `FAILED`, every recipient not yet sent marked with `reason`.
    async fn abandon(
        &self,
        id: CampaignId,
        reason: &str,
        stop: Stop<'_>,
    ) -> Result<RunOutcome, RunError> {
        warn!(
            reason,
            "failure threshold passed; the campaign stops sending"
        );
        match self
            .patiently("stopping the campaign", stop, || {
                self.ledger.abandon(id, reason, self.clock.now())
            })
            .await
        {
            Ok(done) => {
                info!(
                    status = %done.status,
                    sent = done.sent_emails,
                    failed = done.failed_emails,
                    "campaign stopped"
                );
                Ok(ended(done.status))
            }
            Err(e) => interrupted(e, stop),
        }
    }

    /// Ends a campaign none of whose recipients is pending: `COMPLETED`, or `FAILED` when no
    /// message could be delivered.
    async fn finish(&self, id: CampaignId, stop: Stop<'_>) -> Result<CampaignStatus, RunError> {
        let campaign = self
            .patiently("reading the counters", stop, || self.ledger.get(id))
            .await?
            .ok_or(RunError::NotFound)?;
        // A campaign none of whose messages could be delivered has failed as a whole.
        let status = if campaign.sent_emails == 0 && campaign.failed_emails > 0 {
            CampaignStatus::Failed
        } else {
            CampaignStatus::Completed
        };
        let done = self
            .patiently("finishing the campaign", stop, || {
                self.ledger.finish(id, status, self.clock.now())
            })
            .await?;
        info!(
            status = %done.status,
            sent = done.sent_emails,
            failed = done.failed_emails,
            "campaign done"
        );
        Ok(done.status)
    }
}

/// One campaign being sent: what the send loop keeps from one step to the next.
pub(super) struct Run<'a, P: WorkerPorts> {
    pub(super) worker: &'a Worker<P>,
    pub(super) id: CampaignId,
    pub(super) stop: Stop<'a>,
    /// The message, rendered for each recipient.
    pub(super) template: Arc<MessageTemplate>,
    pub(super) sender: Arc<MessageSender>,
    /// The `mailto:` of `List-Unsubscribe`, made once.
    pub(super) unsubscribe_mailto: Option<Arc<str>>,
    /// Recipients read and not sent yet, in id order.
    pub(super) batch: VecDeque<Recipient>,
    /// The last recipient read in this pass.
    pub(super) cursor: Option<RecipientId>,
    /// Every recipient due in this pass has been read.
    pub(super) pass_done: bool,
    pub(super) in_flight: JoinSet<Sent>,
    /// Outcomes not written yet.
    pub(super) outcomes: Vec<Outcome>,
    /// The write of outcomes under way, if any, and how many outcomes it writes.
    pub(super) writing: Option<Writing<'a>>,
    pub(super) writing_len: usize,
    /// Why the campaign must stop sending, once its failures pass the threshold.
    pub(super) tripped: Option<String>,
}

/// What woke the send loop while messages were in flight.
enum Event {
    Joined(Result<Sent, JoinError>),
    Written((Vec<Outcome>, Result<Campaign, RepositoryError>)),
    Stopping,
}

impl<'a, P: WorkerPorts> Run<'a, P> {
    fn new(
        worker: &'a Worker<P>,
        id: CampaignId,
        stop: Stop<'a>,
        template: Arc<MessageTemplate>,
        sender: Arc<MessageSender>,
    ) -> Self {
        Self {
            worker,
            id,
            stop,
            template,
            sender,
            unsubscribe_mailto: worker
                .settings
                .unsubscribe
                .as_ref()
                .and_then(UnsubscribeLinks::mailto)
                .map(Arc::from),
            batch: VecDeque::new(),
            cursor: None,
            pass_done: false,
            in_flight: JoinSet::new(),
            outcomes: Vec::with_capacity(worker.settings.flush_size),
            writing: None,
            writing_len: 0,
            tripped: None,
        }
    }

    /// Whether no new message may start: the run must stop or the threshold was passed.
    fn stopping(&self) -> bool {
        self.stop.requested() || self.tripped.is_some()
    }

    /// Starts sends until `concurrency` messages are in flight, reading recipients as needed;
    /// stops early when this pass has no recipient left or the run must stop.
    async fn fill_pipeline(&mut self) -> Result<(), RunError> {
        let concurrency = self.worker.settings.concurrency.max(1);
        // What a crash can leave delivered but unwritten (sent again by the next worker) is
        // the messages in flight plus the outcomes not written yet (waiting, or in the write
        // under way). A message starts only while those are fewer than `2 x concurrency`
        // together (and the messages in flight fewer than `concurrency`), whatever the
        // database's speed: a slow write lets more outcomes wait, so the next batch is larger.
        while self.in_flight.len() < concurrency
            && self.in_flight.len() + self.unwritten() < 2 * concurrency
        {
            if self.batch.is_empty() && !self.pass_done && !self.read_recipients().await? {
                // Stopping: what is in flight is drained and written.
                break;
            }
            if self.batch.is_empty() {
                break;
            }
            // One of the worker's `concurrency` slots, shared by the campaigns it sends.
            let Some(slot) = slot(&self.worker.slots, self.in_flight.is_empty(), self.stop).await
            else {
                break;
            };
            if !self.worker.wait_for_send_slot(self.stop).await {
                // Stopping: what is in flight is drained and written.
                break;
            }
            // Checked with nothing awaited between it and the start of the send: once a stop
            // request is confirmed, no message starts.
            if self.stop.requested() {
                break;
            }
            let Some(recipient) = self.batch.pop_front() else {
                break;
            };
            self.send(recipient, slot);
        }
        Ok(())
    }

    /// Reads the next due recipients of this pass into `batch`. False when the database is
    /// unavailable and the run must stop.
    async fn read_recipients(&mut self) -> Result<bool, RunError> {
        let (worker, id, cursor) = (self.worker, self.id, self.cursor);
        let read = worker
            .patiently("reading recipients", self.stop, || {
                worker.ledger.due_recipients(
                    id,
                    cursor,
                    None,
                    worker.clock.now(),
                    worker.settings.batch_size,
                )
            })
            .await;
        let read = match read {
            Ok(read) => read,
            Err(RepositoryError::Unavailable(_)) if self.stop.requested() => return Ok(false),
            Err(e) => return Err(e.into()),
        };
        match read.last() {
            Some(last) => self.cursor = Some(last.id),
            None => self.pass_done = true,
        }
        self.batch.extend(read);
        Ok(true)
    }

    /// Starts sending one message in the background.
    /// The message is rendered in the task, so that rendering runs on every core.
    fn send(&mut self, recipient: Recipient, slot: OwnedSemaphorePermit) {
        let letter = Letter {
            campaign_id: self.id,
            template: self.template.clone(),
            sender: self.sender.clone(),
            unsubscribe: self.worker.settings.unsubscribe.as_ref().map(|links| {
                (
                    links.url(self.id, &recipient.email),
                    self.unsubscribe_mailto.clone(),
                )
            }),
        };
        let mailer = self.worker.mailer.clone();
        let clock = self.worker.clock.clone();
        let (recipient_id, attempts) = (recipient.id, recipient.attempts + 1);
        self.in_flight.spawn(async move {
            let outcome = letter.deliver(&*mailer, recipient).await;
            drop(slot);
            (recipient_id, attempts, outcome, clock.now())
        });
    }

    /// Starts a write of the waiting outcomes if none is under way, then waits for a message
    /// to be sent (and keeps its outcome), for the write to end (and takes in its answer), or
    /// (unless already `stopping`) for the run to be told to stop.
    async fn wait_for_sends(&mut self, stopping: bool) -> Result<(), RunError> {
        self.start_write();
        let writing = self.writing.as_mut();
        let event = tokio::select! {
            Some(joined) = self.in_flight.join_next() => Event::Joined(joined),
            written = async {
                match writing {
                    Some(writing) => writing.await,
                    None => std::future::pending().await,
                }
            } => Event::Written(written),
            () = self.stop.signalled(), if !stopping => Event::Stopping,
        };
        match event {
            Event::Joined(Ok((recipient, attempts, delivery, ended))) => {
                self.record_outcome(recipient, attempts, delivery, ended);
            }
            Event::Joined(Err(e)) => {
                // The recipient stays PENDING and is sent on the next pass.
                error!(error = %e, "a send task failed");
            }
            Event::Written((batch, written)) => {
                self.writing = None;
                self.written(batch, written).await?;
            }
            Event::Stopping => {}
        }
        self.start_write();
        Ok(())
    }

    /// Keeps what became of one message (sent, failed, or retried later), as of when its
    /// attempt `ended`, for the next write.
    fn record_outcome(
        &mut self,
        recipient: RecipientId,
        attempts: u32,
        delivery: DeliveryOutcome,
        ended: DateTime<Utc>,
    ) {
        let settings = &self.worker.settings;
        self.outcomes
            .push(settings.retry.decide(recipient, attempts, delivery, ended));
    }

    /// Nothing is in flight: writes what is buffered, then ends the run (told to stop,
    /// threshold passed, nothing pending) or, once a pass is done, waits for the next retry
    /// to be due and starts another pass. `None`: keep sending.
    async fn idle(&mut self) -> Result<Option<RunOutcome>, RunError> {
        self.flush_and_check().await?;
        if let Some(outcome) = self.stop.outcome() {
            return Ok(Some(outcome));
        }
        let (worker, id, stop) = (self.worker, self.id, self.stop);
        if let Some(reason) = &self.tripped {
            return worker.abandon(id, reason, stop).await.map(Some);
        }
        if !self.pass_done {
            return Ok(None);
        }
        let next_due = worker
            .patiently("looking for retries", stop, || worker.ledger.next_due(id))
            .await;
        match next_due {
            Err(e) => interrupted(e, stop).map(Some),
            Ok(None) => match worker.finish(id, stop).await {
                Ok(status) => Ok(Some(ended(status))),
                Err(RunError::Repository(e)) => interrupted(e, stop).map(Some),
                Err(e) => Err(e),
            },
            Ok(Some(due)) => {
                self.wait_for_due(due).await;
                Ok(None)
            }
        }
    }

    /// Waits until `due` (at most `max_idle_wait`, less if told to stop), then starts a new
    /// pass over the recipients.
    async fn wait_for_due(&mut self, due: DateTime<Utc>) {
        let wait = (due - self.worker.clock.now()).to_std().unwrap_or_default();
        let wait = wait.min(self.worker.settings.max_idle_wait);
        debug!(
            wait_ms = wait.as_millis() as u64,
            "waiting for retries to be due"
        );
        self.stop.sleep(wait).await;
        self.cursor = None;
        self.pass_done = false;
    }
}

/// A free slot of the worker's concurrency. With none free: `None` while the run has messages
/// in flight (its loop waits for those); otherwise it queues for the next one that frees
/// (`None` if told to stop first). The queue is first come, first served, so a campaign that
/// starts beside a large one gets a slot as soon as one frees, not after the large one. (A
/// function, not a method: no `&Run` may live across an await, see `outcomes::Writing`.)
async fn slot(
    slots: &Arc<Semaphore>,
    nothing_in_flight: bool,
    stop: Stop<'_>,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(slot) = Arc::clone(slots).try_acquire_owned() {
        return Some(slot);
    }
    if !nothing_in_flight {
        return None;
    }
    tokio::select! {
        slot = Arc::clone(slots).acquire_owned() => slot.ok(),
        () = stop.signalled() => None,
    }
}
