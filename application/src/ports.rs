//! The ports: what the use cases need from the outside world.
//!
//! Every fallible method reports driver trouble as `Unavailable` (the dependency could not be
//! reached or timed out: worth retrying) or `Unknown` (anything else). Adapters translate their
//! driver errors into these at the boundary.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use paloma_domain::{
    Activity, ApiKey, Campaign, CampaignEdit, CampaignFilter, CampaignId, CampaignStatus, Control,
    DeliveryOutcome, DuplicateRecipients, Idempotency, KeyId, NewCampaign, NewRecipient, Outcome,
    Page, PageRequest, Recipient, RecipientId, RecipientStatus, RequestFingerprint, RetryScope,
    Suppression, TimelinePoint, TokenHash,
};

mod control;
mod mail;
mod monitor;
mod shards;
mod test_sends;

pub use control::{Fence, FenceEnd, StopAnswer, StopRequest, StopRequests};
pub use mail::{Mailer, MessageSender, OutgoingMessage};
pub use monitor::{JobCounts, WorkerBeat};
pub use shards::{Shard, ShardLease, ShardLedger};
pub use test_sends::{TestMessage, TestSendAnswer, TestSendRequest};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),
    #[error("campaign {0} not found")]
    NotFound(CampaignId),
    #[error("illegal state change: {0}")]
    Conflict(String),
    #[error("unexpected database error")]
    Unknown(#[source] BoxError),
}

/// What [`CampaignStore::create_idempotent`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// The campaign was stored.
    New(Campaign),
    /// Nothing was stored: the key already names this campaign, created by a request with this
    /// fingerprint.
    KeyTaken {
        campaign_id: CampaignId,
        fingerprint: RequestFingerprint,
    },
}

/// The campaigns as records: creating one, reading campaigns, their bodies, recipients and
/// progress, and whether a campaign's queue job was added. The API's port; the worker reads
/// through it too (MySQL in production).
pub trait CampaignStore: Send + Sync + 'static {
    /// Stores the campaign as `PENDING` with every recipient `PENDING`, in one transaction:
    /// either all of it is stored or nothing is.
    fn create(
        &self,
        id: CampaignId,
        campaign: &NewCampaign,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Campaign, RepositoryError>> + Send;

    /// Like [`create`](Self::create), and in the same transaction records that
    /// `idempotency.key` names this campaign. When the key already names a campaign, nothing is
    /// stored and the answer is that campaign's id and its request's fingerprint (also when
    /// another request with the same key commits first while this one runs).
    fn create_idempotent(
        &self,
        id: CampaignId,
        campaign: &NewCampaign,
        idempotency: &Idempotency,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Created, RepositoryError>> + Send;

    /// One campaign with its counters, without reading its recipients.
    fn get(
        &self,
        id: CampaignId,
    ) -> impl Future<Output = Result<Option<Campaign>, RepositoryError>> + Send;

    /// The HTML body of a campaign (kept apart: it can be large).
    fn get_body(
        &self,
        id: CampaignId,
    ) -> impl Future<Output = Result<Option<String>, RepositoryError>> + Send;

    /// Every recipient of a campaign as its merge tags see them (address, name, fields), in
    /// the order they were stored: to check a changed template against them. A row whose
    /// address or name does not pass the domain's rules (written by other means) is left out.
    fn recipients_for_tags(
        &self,
        id: CampaignId,
    ) -> impl Future<Output = Result<Vec<NewRecipient>, RepositoryError>> + Send;

    /// The campaigns `filter` admits, newest first.
    fn list(
        &self,
        filter: &CampaignFilter,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Campaign>, RepositoryError>> + Send;

    /// How many campaigns are `PENDING` or `PROCESSING`: those whose counters still move.
    fn count_active(&self) -> impl Future<Output = Result<u64, RepositoryError>> + Send;

    /// For a `PENDING` campaign whose job was added: how many campaigns come before it (being
    /// sent, or pending with a job added earlier). `None` for any other campaign.
    fn queued_ahead(
        &self,
        id: CampaignId,
    ) -> impl Future<Output = Result<Option<u64>, RepositoryError>> + Send;

    /// How many of the campaign's `FAILED` recipients were never tried (the campaign was
    /// stopped before their turn).
    fn count_untried(
        &self,
        id: CampaignId,
    ) -> impl Future<Output = Result<u64, RepositoryError>> + Send;

    /// A campaign's recipients in insertion order, optionally only those in one status.
    /// `NotFound` when the campaign does not exist.
    fn list_recipients(
        &self,
        id: CampaignId,
        status: Option<RecipientStatus>,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Recipient>, RepositoryError>> + Send;

    /// How many of the campaign's recipients became `SENT` (by `sentAt`) and `FAILED` (by
    /// their last update) in each `bucket_seconds`-wide bucket of UTC time aligned to the Unix
    /// epoch: the non-empty buckets, in ascending order.
    fn timeline(
        &self,
        id: CampaignId,
        bucket_seconds: u32,
    ) -> impl Future<Output = Result<Vec<TimelinePoint>, RepositoryError>> + Send;

    /// Records that the campaign's queue job was added (by the API right after storing the
    /// campaign, or by the worker's reconciler).
    fn mark_enqueued(
        &self,
        id: CampaignId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), RepositoryError>> + Send;

    /// Whether the campaign's queue job was recorded as added (`NotFound` when there is no
    /// such campaign).
    fn is_enqueued(
        &self,
        id: CampaignId,
    ) -> impl Future<Output = Result<bool, RepositoryError>> + Send;

    /// Applies a user's move to the campaign and returns it as it now is: its status becomes
    /// [`Control::target`]; a cancel also makes every `PENDING` recipient `CANCELLED`, counts
    /// them in `cancelledEmails` and sets `completedAt`, in the same transaction. Moves on one
    /// campaign happen one after the other. `NotFound` when there is no such campaign;
    /// `Conflict` when the move does not [apply](Control::applies_to) to its status (nothing
    /// changes). Adding the queue job and stopping a worker are the caller's.
    fn control(
        &self,
        id: CampaignId,
        control: Control,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Campaign, RepositoryError>> + Send;

    /// Changes what a `DRAFT` or `SCHEDULED` campaign sends, in one transaction (a new recipient
    /// list replaces the old one, its counters with it), and returns it. `NotFound`;
    /// `Conflict` when it is in another status (sending has begun), or when the edit would take
    /// a scheduled campaign's time away; nothing changes then. Its queue job is the caller's.
    fn edit(
        &self,
        id: CampaignId,
        edit: &CampaignEdit,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Campaign, RepositoryError>> + Send;

    /// Stores a new `DRAFT` `new_id` with the subject and body of `source` and its recipients
    /// that `which` names, in their order, and returns it. `NotFound`; `Conflict` when `which`
    /// names no recipient.
    fn duplicate(
        &self,
        source: CampaignId,
        new_id: CampaignId,
        which: DuplicateRecipients,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Campaign, RepositoryError>> + Send;

    /// Moves a `SCHEDULED` campaign's send time to `at` and returns it. `NotFound`; `Conflict`
    /// when it is not scheduled (nothing changes). Its new queue job is the caller's.
    fn reschedule(
        &self,
        id: CampaignId,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Campaign, RepositoryError>> + Send;

    /// Sends a finished campaign's failed recipients again. In one transaction, the `FAILED`
    /// recipients that `scope` names go back to `PENDING` (attempts 0, no error, due at `now`),
    /// the failed counter shrinks by exactly the rows that moved, and when any moved the
    /// campaign is `PENDING` again with no `completedAt`. Returns the campaign and how many
    /// moved. `NotFound`; `Conflict` when the campaign has not finished (nothing changes).
    fn retry_failed(
        &self,
        id: CampaignId,
        scope: RetryScope,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(Campaign, u32), RepositoryError>> + Send;
}

/// The audit trail: who changed what, when and from where (MySQL in production).
pub trait ActivityLog: Send + Sync + 'static {
    /// Appends one entry.
    fn record(
        &self,
        activity: &Activity,
    ) -> impl Future<Output = Result<(), RepositoryError>> + Send;

    /// A campaign's entries, oldest first.
    fn campaign_activity(
        &self,
        id: CampaignId,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Activity>, RepositoryError>> + Send;
}

/// The worker's bookkeeping of delivery: moving a campaign through its states, the recipients
/// due, the outcome of each attempt, and the campaigns still to deliver (MySQL in production).
pub trait DeliveryLedger: Send + Sync + 'static {
    /// Moves a campaign to `PROCESSING` (setting `startedAt` the first time): a `PENDING` one, or
    /// a `SCHEDULED` one whose time has come. Any other (final, a draft, paused, scheduled later)
    /// is returned unchanged. `NotFound` when it does not exist.
    fn start(
        &self,
        id: CampaignId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Campaign, RepositoryError>> + Send;

    /// Up to `limit` `PENDING` recipients due at `now` (`nextAttemptAt <= now`) with an id
    /// greater than `after` and, when given, at most `through` (a shard's range), in id order.
    /// It changes nothing: the queue job's lock and the campaign claim, or a shard's lease,
    /// make their holder the only one sending these recipients.
    fn due_recipients(
        &self,
        id: CampaignId,
        after: Option<RecipientId>,
        through: Option<RecipientId>,
        now: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Recipient>, RepositoryError>> + Send;

    /// The earliest `nextAttemptAt` among the campaign's `PENDING` recipients; `None` when no
    /// recipient is pending.
    fn next_due(
        &self,
        id: CampaignId,
    ) -> impl Future<Output = Result<Option<DateTime<Utc>>, RepositoryError>> + Send;

    /// Adds the addresses of these recipients of campaign `id` (refused as nonexistent: hard
    /// bounces) to the suppression list, reason `HARD_BOUNCE`; an address already listed keeps
    /// its first entry. A store without a suppression list does nothing.
    fn suppress_bounced(
        &self,
        id: CampaignId,
        recipients: &[RecipientId],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), RepositoryError>> + Send {
        let _ = (id, recipients, now);
        async { Ok(()) }
    }

    /// Applies a batch of outcomes in one transaction: each recipient still `PENDING` moves as
    /// its outcome says, and the campaign's counters grow by exactly the rows that moved.
    /// Outcomes for recipients that are no longer `PENDING` are ignored. Returns the campaign.
    fn record_outcomes(
        &self,
        id: CampaignId,
        outcomes: &[Outcome],
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Campaign, RepositoryError>> + Send;

    /// Ends a campaign as `COMPLETED` or `FAILED` with `completedAt = now`. `Conflict` if a
    /// recipient is still pending or the transition is illegal.
    fn finish(
        &self,
        id: CampaignId,
        status: CampaignStatus,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Campaign, RepositoryError>> + Send;

    /// Stops a campaign for good: in one transaction every recipient still `PENDING` becomes
    /// `FAILED` with `reason` (its attempts unchanged, so an untried recipient shows 0), the
    /// failed counter grows by exactly those rows, and the campaign ends `FAILED` with
    /// `completedAt = now` and `reason` as its `stopReason`. A campaign that is not pending or
    /// processing (final, paused, a draft) is returned unchanged.
    fn abandon(
        &self,
        id: CampaignId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Campaign, RepositoryError>> + Send;

    /// Counts one more failed run of the campaign (`failedRuns`) and returns how many there
    /// have been since it was created or its failed recipients were last retried.
    fn count_failed_run(
        &self,
        id: CampaignId,
    ) -> impl Future<Output = Result<u32, RepositoryError>> + Send;

    /// Campaigns that need a live queue job (`SCHEDULED`, `PENDING` or `PROCESSING`) and were
    /// created before `created_before`, oldest first.
    fn list_unfinished(
        &self,
        created_before: DateTime<Utc>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<CampaignId>, RepositoryError>> + Send;
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the queue is unavailable")]
    Unavailable(#[source] BoxError),
    #[error("the job's lock is no longer ours")]
    LockLost,
    #[error("unexpected queue error: {0}")]
    Unknown(String),
}

/// When the next message may leave, under a send rate shared by every worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendSlot {
    /// A slot is reserved for this caller: send after waiting this long.
    After(Duration),
    /// Every slot within the throttle's horizon is taken: ask again after this long.
    Busy(Duration),
}

/// A limit on how fast messages leave, shared by all workers (e.g. a free SMTP account's quota).
pub trait SendThrottle: Send + Sync + 'static {
    /// Reserves the next free slot if it is near enough.
    fn reserve(&self) -> impl Future<Output = Result<SendSlot, QueueError>> + Send;
}

/// No limit: every message may leave at once.
#[derive(Debug, Clone, Copy, Default)]
pub struct Unthrottled;

impl SendThrottle for Unthrottled {
    async fn reserve(&self) -> Result<SendSlot, QueueError> {
        Ok(SendSlot::After(Duration::ZERO))
    }
}

/// The producer side of the campaign queue.
pub trait JobProducer: Send + Sync + 'static {
    /// Adds one job `{ "jobUuid": "<campaign id>" }`; returns the queue's job id.
    fn enqueue(
        &self,
        campaign: CampaignId,
    ) -> impl Future<Output = Result<String, QueueError>> + Send;

    /// Adds one job for `campaign` that no worker takes before `due` (bull's delayed job, so a
    /// Node bull worker sees it only when due too); at once when `due` has passed.
    fn enqueue_due(
        &self,
        campaign: CampaignId,
        due: DateTime<Utc>,
    ) -> impl Future<Output = Result<String, QueueError>> + Send;

    /// The campaigns named by a job that will still be processed: waiting, paused, delayed
    /// (a retry) or active (held by a worker, or stalled and about to return to waiting).
    /// Read a page at a time, so Redis is never blocked long; a job that moves once during the
    /// read is still seen, and one missed costs a duplicate job, which the campaign claim
    /// completes without sending (docs/bull-protocol.md, "The live scan").
    fn live_campaigns(
        &self,
    ) -> impl Future<Output = Result<HashSet<CampaignId>, QueueError>> + Send;

    /// Called before a pause or a cancel is stored. Refuses ([`Fence::HeldElsewhere`], nothing
    /// changed) when a worker that does not listen to stop requests (a Node bull worker sharing
    /// the queue) holds a job of `campaign`: such a worker cannot be stopped. Otherwise takes
    /// the campaign's jobs that no worker holds yet out of every worker's reach until
    /// [`JobProducer::unfence`], so that none starts the campaign while the move is stored.
    fn fence(&self, campaign: CampaignId)
    -> impl Future<Output = Result<Fence, QueueError>> + Send;

    /// Ends `campaign`'s fence: [`FenceEnd::Settle`] once the move is stored (the fenced jobs
    /// are done; a resume adds a new one), [`FenceEnd::Restore`] when it was not (each job goes
    /// back where it was). Answers how many jobs it moved.
    fn unfence(
        &self,
        campaign: CampaignId,
        end: FenceEnd,
    ) -> impl Future<Output = Result<u32, QueueError>> + Send;

    /// Asks the workers sending `campaign` (the job's holder, and those sending shards of
    /// it), if any, to start no new message for it, and waits up to `wait` for their answers. The campaign's new status must be stored first: a
    /// worker that has not started it yet reads that status when it starts.
    fn stop_sending(
        &self,
        campaign: CampaignId,
        wait: Duration,
    ) -> impl Future<Output = Result<StopAnswer, QueueError>> + Send;

    /// The queue's jobs by state.
    fn job_counts(&self) -> impl Future<Output = Result<JobCounts, QueueError>> + Send;

    /// The workers whose last heartbeat has not expired, in no particular order.
    fn live_workers(&self) -> impl Future<Output = Result<Vec<WorkerBeat>, QueueError>> + Send;

    /// Hands a test message to the workers and waits up to `wait` for the one that takes it
    /// to send it. One not taken by then is withdrawn ([`TestSendAnswer::NoWorker`]).
    fn send_test(
        &self,
        message: &TestMessage,
        wait: Duration,
    ) -> impl Future<Output = Result<TestSendAnswer, QueueError>> + Send;
}

/// A job this worker took and holds the lock of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenJob {
    pub job_id: String,
    pub token: String,
    /// The campaign named by the job's data; `Err` holds the raw data when it names none.
    pub campaign: Result<CampaignId, String>,
    /// Attempts made before this one.
    pub attempts_made: u32,
}

/// The worker side of the campaign queue.
pub trait JobConsumer: Send + Sync + 'static {
    /// A subscription to the requests to stop sending (see [`stop_requests`](Self::stop_requests)).
    type Stops: StopRequests;

    /// Waits up to `timeout` for a job, moves it to active and locks it.
    fn take(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Result<Option<TakenJob>, QueueError>> + Send;

    /// Makes the job the only one sending `campaign`: false when another job holds the
    /// campaign (two jobs can name one campaign: a reconciler and an API racing, a Node
    /// producer). The claim lasts as long as the job's lock, is extended with it by
    /// [`renew`](Self::renew), and is dropped when the job is settled.
    fn claim_campaign(
        &self,
        job: &TakenJob,
        campaign: CampaignId,
    ) -> impl Future<Output = Result<bool, QueueError>> + Send;

    /// Extends the job's lock (and its campaign claim). `LockLost` when another worker owns
    /// either now.
    fn renew(&self, job: &TakenJob) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Marks the job completed.
    fn complete(&self, job: &TakenJob) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Records a failed attempt. With `retry` and attempts left, the job comes back after the
    /// backoff of its options; otherwise it ends in `failed`.
    fn fail(
        &self,
        job: &TakenJob,
        reason: &str,
        retry: bool,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Puts an unfinished job back at the head of the waiting list and drops its lock, so
    /// another worker resumes it at once (used on shutdown).
    fn release(&self, job: &TakenJob) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Housekeeping every worker runs periodically: promote due delayed jobs, and return the
    /// jobs of dead workers (lock expired) to waiting.
    fn maintain(&self) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Subscribes to the requests to stop sending a campaign; a request made before the
    /// subscription is not seen (the campaign's stored status covers it).
    fn stop_requests(&self) -> impl Future<Output = Result<Self::Stops, QueueError>> + Send;

    /// Answers a stop request: whether this worker was sending the campaign (then it starts
    /// no new message of it). Every worker answers every request, so that the one who asked
    /// knows when all have.
    fn answer_stop(
        &self,
        request: &StopRequest,
        sending: bool,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Says this worker is alive, as `beat` describes it, for `ttl` (see
    /// [`JobProducer::live_workers`]).
    fn beat(
        &self,
        beat: &WorkerBeat,
        ttl: std::time::Duration,
    ) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Takes this worker off the live list at once (a clean stop).
    fn leave(&self, id: &str) -> impl Future<Output = Result<(), QueueError>> + Send;

    /// Waits up to `timeout` for a test message (see [`JobProducer::send_test`]); each is
    /// taken by one worker only. Ones whose asker stopped waiting are dropped unseen.
    fn take_test_send(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Result<Option<TestSendRequest>, QueueError>> + Send;

    /// Gives the one who asked the outcome of each address of a test send, in order.
    fn answer_test_send(
        &self,
        request: &TestSendRequest,
        outcomes: &[DeliveryOutcome],
    ) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// Where API keys are kept: each key with the hash of its token, never the token.
pub trait KeyStore: Send + Sync + 'static {
    /// Stores a new key.
    fn insert(
        &self,
        key: &ApiKey,
        hash: &TokenHash,
    ) -> impl Future<Output = Result<(), RepositoryError>> + Send;

    /// Every key, revoked ones included, oldest first.
    fn list(&self) -> impl Future<Output = Result<Vec<ApiKey>, RepositoryError>> + Send;

    /// Marks the key revoked at `now` (a key revoked earlier keeps its first time): the key, and
    /// whether this call revoked it. `None` when there is no such key.
    fn revoke(
        &self,
        id: KeyId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<(ApiKey, bool)>, RepositoryError>> + Send;

    /// The keys whose token starts with `prefix` (its lookup prefix), with their hashes.
    fn find_by_prefix(
        &self,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<(ApiKey, TokenHash)>, RepositoryError>> + Send;
}

/// The suppression list: addresses that get no more messages (MySQL in production). Addresses
/// are kept and compared lowercased.
pub trait SuppressionStore: Send + Sync + 'static {
    /// Adds every entry whose address is not listed yet, all or nothing; an address already
    /// listed keeps its first entry. How many were new.
    fn suppress(
        &self,
        entries: &[Suppression],
    ) -> impl Future<Output = Result<u64, RepositoryError>> + Send;

    /// Takes `email` (lowercased) off the list: whether it was listed.
    fn unsuppress(&self, email: &str)
    -> impl Future<Output = Result<bool, RepositoryError>> + Send;

    /// A page of the list, newest first, optionally only the addresses containing `search`
    /// (lowercased; `%` and `_` taken literally), with the total.
    fn list_suppressions(
        &self,
        search: Option<&str>,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<Suppression>, RepositoryError>> + Send;

    /// Which of `emails` are listed, as their lowercased forms (any number of addresses: the
    /// store asks in batches).
    fn suppressed_among(
        &self,
        emails: &[String],
    ) -> impl Future<Output = Result<HashSet<String>, RepositoryError>> + Send;
}

/// The time, injectable for tests.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock, truncated to milliseconds (what MySQL's `DATETIME(3)` keeps).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
    }
}
