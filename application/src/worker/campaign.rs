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
use crate::ports::{CampaignStore, Clock, DeliveryLedger, MessageSender, RepositoryError, Shard};

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
            lease: None,
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
        let (template, sender) = match self.prepare(&campaign, stop).await {
            Ok(message) => message,
            Err(ended) => return ended,
        };
        info!(
            total = campaign.total_emails,
            pending = campaign.pending_emails(),
            "sending campaign"
        );
        // Split among the workers when large (or still split from an earlier run, whatever
        // is pending now: other workers may be sending its shards); what is left once every
        // shard is done (retries not yet due) is sent below, as in a campaign never split.
        if let Some(outcome) = self.send_shards(id, &template, &sender, stop).await? {
            return Ok(outcome);
        }
        Run::new(self, id, stop, template, sender).drive().await
    }

    /// The message of a campaign, ready to render for each recipient: its template (compiled
    /// once for the run) and its sender. `Err`: how the run ends instead.
    pub(super) async fn prepare(
        &self,
        campaign: &Campaign,
        stop: Stop<'_>,
    ) -> Result<(Arc<MessageTemplate>, Arc<MessageSender>), Result<RunOutcome, RunError>> {
        let id = campaign.id;
        let body = match self
            .patiently("reading the body", stop, || self.ledger.get_body(id))
            .await
        {
            Ok(Some(body)) => body,
            Ok(None) => return Err(Err(RunError::NotFound)),
            Err(e) => return Err(interrupted(e, stop)),
        };
        // Only a campaign whose tags were checked at creation is read as a template: one
        // stored by other means (the Node stack) is sent as it is.
        let template = if campaign.merge_tags {
            MessageTemplate::compile(&campaign.subject, &body).map_err(|e| {
                Err(RepositoryError::Unknown(
                    format!("the stored {} no longer compiles: {e}", e.part.field()).into(),
                )
                .into())
            })?
        } else {
            MessageTemplate::fixed(&campaign.subject, &body)
        };
        let sender = MessageSender {
            from_name: campaign.from_name.clone(),
            from_email: campaign.from_email.clone(),
            reply_to: campaign.reply_to.clone(),
        };
        Ok((Arc::new(template), Arc::new(sender)))
    }

    /// Why the campaign must stop, if its failures have passed the threshold.
    pub(super) fn threshold_passed(&self, campaign: &Campaign) -> Option<String> {
        let threshold = self.settings.failure_threshold?;
        threshold
            .is_passed(campaign.sent_emails, campaign.failed_emails)
            .then(|| threshold.not_sent_reason(campaign.sent_emails, campaign.failed_emails))
    }

    /// Ends the campaign `FAILED`, every recipient not yet sent marked with `reason`.
    pub(super) async fn abandon(
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
    /// The last recipient of the shard this run sends (`None`: to the end).
    pub(super) through: Option<RecipientId>,
    /// A shard's run: one pass over its range, then it ends with
    /// [`RunOutcome::PassDone`] (retries are the job holder's, once every shard is done).
    pub(super) single_pass: bool,
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
    /// Permits of the worker's budget of unrecorded messages this run holds: one per message
    /// started whose outcome is not written yet. Given back as outcomes are written, and all
    /// at once when the run ends.
    pub(super) unrecorded: usize,
}

impl<P: WorkerPorts> Drop for Run<'_, P> {
    fn drop(&mut self) {
        self.worker.unrecorded.add_permits(self.unrecorded);
    }
}

/// What woke the send loop while messages were in flight.
enum Event {
    Joined(Result<Sent, JoinError>),
    Written((Vec<Outcome>, Result<Campaign, RepositoryError>)),
    Stopping,
}

impl<'a, P: WorkerPorts> Run<'a, P> {
    pub(super) fn new(
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
            through: None,
            single_pass: false,
            pass_done: false,
            in_flight: JoinSet::new(),
            outcomes: Vec::with_capacity(worker.settings.flush_size),
            writing: None,
            writing_len: 0,
            tripped: None,
            unrecorded: 0,
        }
    }

    /// The same run restricted to one shard's recipients, in a single pass.
    pub(super) fn within(mut self, shard: &Shard) -> Self {
        self.cursor = shard.after;
        self.through = shard.through;
        self.single_pass = true;
        self
    }

    /// Sends until the run ends: keeps `concurrency` messages in flight, writes outcomes as
    /// they come, and when nothing is in flight decides what next ([`Self::idle`]).
    pub(super) async fn drive(mut self) -> Result<RunOutcome, RunError> {
        loop {
            let stopping = self.stopping();
            if !stopping {
                self.fill_pipeline().await?;
            }
            if self.in_flight.is_empty() {
                if let Some(outcome) = self.idle().await? {
                    return Ok(outcome);
                }
            } else {
                self.wait_for_sends(stopping).await?;
            }
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
        // under way). A message starts only with one of the worker's `2 x concurrency`
        // permits for those, shared by all its runs and given back once its outcome is
        // written, whatever the database's speed: a slow write lets more outcomes wait, so
        // the next batch is larger.
        while self.in_flight.len() < concurrency {
            if self.batch.is_empty() && !self.pass_done && !self.read_recipients().await? {
                // Stopping: what is in flight is drained and written.
                break;
            }
            if self.batch.is_empty() {
                break;
            }
            let idle = self.in_flight.is_empty() && self.unwritten() == 0;
            let Some(permit) = take(&self.worker.unrecorded, idle, self.stop).await else {
                break;
            };
            // One of the worker's `concurrency` slots, shared by the campaigns it sends.
            let Some(slot) = take(&self.worker.slots, self.in_flight.is_empty(), self.stop).await
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
            // Given back when its outcome is written (or the run ends).
            permit.forget();
            self.unrecorded += 1;
            self.send(recipient, slot);
        }
        Ok(())
    }

    /// Reads the next due recipients of this pass into `batch`. False when the database is
    /// unavailable and the run must stop.
    async fn read_recipients(&mut self) -> Result<bool, RunError> {
        let (worker, id, cursor, through) = (self.worker, self.id, self.cursor, self.through);
        let read = worker
            .patiently("reading recipients", self.stop, || {
                worker.ledger.due_recipients(
                    id,
                    cursor,
                    through,
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
                self.recorded(1);
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

    /// Gives back the budget of `n` messages whose outcomes are written (or that will never
    /// have one).
    pub(super) fn recorded(&mut self, n: usize) {
        let n = n.min(self.unrecorded);
        self.unrecorded -= n;
        self.worker.unrecorded.add_permits(n);
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
        if self.single_pass {
            return Ok(Some(RunOutcome::PassDone));
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

/// A permit of one of the worker's semaphores (its `concurrency` slots, or its budget of
/// messages not yet recorded). With none free: `None` unless `may_wait` (the run's loop then
/// waits for what it has in flight or is writing, which frees some); otherwise it queues for
/// the next one that frees (`None` if told to stop first). The queue is first come, first
/// served, so a campaign that starts beside a large one gets a slot as soon as one frees, not
/// after the large one. (A function, not a method: no `&Run` may live across an await, see
/// `outcomes::Writing`.)
async fn take(
    semaphore: &Arc<Semaphore>,
    may_wait: bool,
    stop: Stop<'_>,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(permit) = Arc::clone(semaphore).try_acquire_owned() {
        return Some(permit);
    }
    if !may_wait {
        return None;
    }
    tokio::select! {
        permit = Arc::clone(semaphore).acquire_owned() => permit.ok(),
        () = stop.signalled() => None,
    }
}
