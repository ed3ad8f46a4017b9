//! Use-case tests against the in-memory fakes.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use paloma_domain::{
    Action, Actor, CampaignStatus, Control, NewCampaignError, NewCampaignInput, RecipientInput,
    RecipientStatus, RetryPolicy, RetryScope,
};
use tokio_util::sync::CancellationToken;

use crate::fakes::*;
use crate::ports::{Clock, TakenJob};
use crate::worker::Adapters;
use crate::{
    CampaignService, CreateCampaignError, Intent, JobOutcome, LifecycleError, RunOutcome, Worker,
    WorkerSettings,
};

type TestWorker<M = FakeMailer> =
    Worker<Adapters<FakeRepo, FakeConsumer, FakeQueue, M, TokioClock>>;

/// The fakes one test shares. The service and every worker read one clock, which follows
/// tokio's time: the worker tests run with paused time, so their retries, backoff and
/// deadlines cost no real time.
pub(crate) struct Env {
    repo: Arc<FakeRepo>,
    queue: Arc<FakeQueue>,
    consumer: Arc<FakeConsumer>,
    mailer: Arc<FakeMailer>,
    clock: TokioClock,
}

impl Env {
    fn new(mailer: FakeMailer) -> Self {
        Self {
            repo: Arc::default(),
            queue: Arc::default(),
            consumer: Arc::default(),
            mailer: Arc::new(mailer),
            clock: TokioClock::default(),
        }
    }

    fn service(&self) -> CampaignService<FakeRepo, FakeQueue, TokioClock> {
        CampaignService::new(self.repo.clone(), self.queue.clone(), self.clock, 1000)
    }

    fn settings(concurrency: usize) -> WorkerSettings {
        WorkerSettings {
            concurrency,
            batch_size: 7,
            flush_size: 5,
            retry: RetryPolicy {
                max_attempts: 3,
                base_delay: Duration::from_millis(30),
                max_delay: Duration::from_millis(100),
            },
            max_idle_wait: Duration::from_millis(20),
            reconcile_grace: Duration::ZERO,
            ..WorkerSettings::default()
        }
    }

    fn worker(&self, concurrency: usize) -> TestWorker {
        self.worker_with(self.mailer.clone(), concurrency)
    }

    fn worker_with<M: crate::ports::Mailer>(
        &self,
        mailer: Arc<M>,
        concurrency: usize,
    ) -> TestWorker<M> {
        self.worker_with_settings(mailer, Self::settings(concurrency))
    }

    fn worker_with_settings<M: crate::ports::Mailer>(
        &self,
        mailer: Arc<M>,
        settings: WorkerSettings,
    ) -> TestWorker<M> {
        Worker::new(
            self.repo.clone(),
            self.consumer.clone(),
            self.queue.clone(),
            mailer,
            Arc::new(self.clock),
            settings,
        )
    }
}

fn input(emails: &[&str]) -> NewCampaignInput {
    NewCampaignInput {
        subject: "Hello".into(),
        body: "<p>Hi</p>".into(),
        recipients: emails.iter().map(|e| RecipientInput::address(*e)).collect(),
        scheduled_at: None,
        from: None,
        reply_to: None,
    }
}

/// Creates a campaign to `emails` through the use case; its id.
async fn create(env: &Env, emails: &[String]) -> paloma_domain::CampaignId {
    let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
    env.service()
        .create(input(&refs), Intent::Send, None, &Actor::cli())
        .await
        .expect("created")
        .campaign
        .id
}

fn addresses(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}@example.org")).collect()
}

fn assert_counters_match_rows(env: &Env, id: paloma_domain::CampaignId) {
    let c = env.repo.campaign(id);
    let rows = env.repo.recipients_of(id);
    let count = |s| rows.iter().filter(|r| r.status == s).count() as u32;
    assert_eq!(c.sent_emails, count(RecipientStatus::Sent));
    assert_eq!(c.failed_emails, count(RecipientStatus::Failed));
    assert_eq!(c.cancelled_emails, count(RecipientStatus::Cancelled));
    assert_eq!(c.pending_emails(), count(RecipientStatus::Pending));
    assert_eq!(c.total_emails as usize, rows.len());
}

#[tokio::test]
async fn create_stores_dedupes_and_enqueues() {
    let env = Env::new(FakeMailer::default());
    let created = env
        .service()
        .create(
            input(&["a@x.org", "A@X.org", "b@x.org"]),
            Intent::Send,
            None,
            &Actor::cli(),
        )
        .await
        .expect("created");
    assert_eq!(created.campaign.total_emails, 2);
    assert_eq!(created.duplicates_removed, 1);
    assert!(created.enqueued);
    assert_eq!(
        *env.queue.enqueued.lock().expect("lock"),
        vec![created.campaign.id]
    );
    assert_eq!(created.campaign.status, CampaignStatus::Pending);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_same_request_and_refuses_a_different_one() {
    let env = Env::new(FakeMailer::default());
    let service = env.service();
    let key = || Some(paloma_domain::IdempotencyKey::parse("order-17").expect("key"));
    let first = service
        .create(
            input(&["a@x.org", "b@x.org"]),
            Intent::Send,
            key(),
            &Actor::cli(),
        )
        .await
        .expect("created");
    assert!(!first.replayed);
    let again = service
        .create(
            input(&["a@x.org", "b@x.org"]),
            Intent::Send,
            key(),
            &Actor::cli(),
        )
        .await
        .expect("replayed");
    assert!(again.replayed);
    assert!(again.enqueued, "the first request's job was added");
    assert_eq!(again.campaign.id, first.campaign.id);
    assert_eq!(env.repo.campaigns.lock().expect("lock").len(), 1);
    assert_eq!(
        env.queue.enqueued.lock().expect("lock").len(),
        1,
        "one job only"
    );

    let conflict = service
        .create(input(&["a@x.org"]), Intent::Send, key(), &Actor::cli())
        .await;
    assert!(
        matches!(conflict, Err(CreateCampaignError::IdempotencyConflict(id)) if id == first.campaign.id),
        "{conflict:?}"
    );
    assert_eq!(env.repo.campaigns.lock().expect("lock").len(), 1);

    let other_key = paloma_domain::IdempotencyKey::parse("order-18").ok();
    let second = service
        .create(
            input(&["a@x.org", "b@x.org"]),
            Intent::Send,
            other_key,
            &Actor::cli(),
        )
        .await
        .expect("created");
    assert!(!second.replayed);
    assert_ne!(second.campaign.id, first.campaign.id);
}

#[tokio::test]
async fn invalid_input_stores_and_enqueues_nothing() {
    let env = Env::new(FakeMailer::default());
    let err = env
        .service()
        .create(
            input(&["a@x.org", "not an address"]),
            Intent::Send,
            None,
            &Actor::cli(),
        )
        .await
        .expect_err("invalid");
    assert!(
        matches!(err, CreateCampaignError::Invalid(NewCampaignError::Invalid(ref e)) if e.invalid_recipients[0].index == 1)
    );
    assert!(env.repo.campaigns.lock().expect("lock").is_empty());
    assert!(env.repo.recipients.lock().expect("lock").is_empty());
    assert!(env.queue.enqueued.lock().expect("lock").is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_campaign_accepted_while_the_queue_is_down_is_enqueued_by_the_reconciler() {
    let env = Env::new(FakeMailer::default());
    env.queue.down.store(true, Ordering::SeqCst);
    let created = env
        .service()
        .create(input(&["a@x.org"]), Intent::Send, None, &Actor::cli())
        .await
        .expect("stored anyway");
    assert!(!created.enqueued);
    assert!(env.queue.enqueued.lock().expect("lock").is_empty());

    env.queue.down.store(false, Ordering::SeqCst);
    let worker = env.worker(2);
    tokio::time::sleep(Duration::from_millis(5)).await; // older than the (zero) grace period
    assert_eq!(worker.reconcile().await.expect("reconciled"), 1);
    assert_eq!(
        *env.queue.enqueued.lock().expect("lock"),
        vec![created.campaign.id]
    );
    assert_eq!(
        worker.reconcile().await.expect("reconciled"),
        0,
        "enqueued only once"
    );
}

#[tokio::test(start_paused = true)]
async fn the_reconciler_enqueues_unfinished_campaigns_whose_job_was_lost_and_only_those() {
    let env = Env::new(FakeMailer::default());
    let service = env.service();
    let mut ids = Vec::new();
    for email in ["a@x.org", "b@x.org", "c@x.org"] {
        ids.push(
            service
                .create(input(&[email]), Intent::Send, None, &Actor::cli())
                .await
                .expect("created")
                .campaign
                .id,
        );
    }
    let (sending, lost, done) = (ids[0], ids[1], ids[2]);
    let worker = env.worker(1);
    let never = CancellationToken::new();
    worker
        .run_campaign(done, &never, &never)
        .await
        .expect("finished");
    use crate::ports::DeliveryLedger;
    env.repo
        .start(lost, env.clock.now())
        .await
        .expect("started");
    // Redis lost the jobs of `lost` and `done`; `sending` still has its job.
    env.queue.lost.lock().expect("lock").extend([lost, done]);
    tokio::time::sleep(Duration::from_millis(5)).await; // older than the (zero) grace period

    assert_eq!(worker.reconcile().await.expect("reconciled"), 1);
    let enqueued = env.queue.enqueued.lock().expect("lock").clone();
    assert_eq!(
        enqueued,
        [sending, lost, done, lost],
        "only the PROCESSING orphan"
    );
    assert_eq!(
        worker.reconcile().await.expect("reconciled"),
        0,
        "it is live now"
    );

    // The queue unreachable: the pass fails and enqueues nothing.
    env.queue.lost.lock().expect("lock").insert(lost);
    env.queue.down.store(true, Ordering::SeqCst);
    assert!(worker.reconcile().await.is_err());
}

#[tokio::test(start_paused = true)]
async fn two_jobs_for_one_campaign_never_send_it_twice() {
    let env = Env::new(FakeMailer {
        delay: Some(Duration::from_millis(2)),
        ..FakeMailer::default()
    });
    let emails = addresses("dup", 60);
    let id = create(&env, &emails).await;
    let never = CancellationToken::new();
    let (first, second) = (env.worker(4), env.worker(4));
    let (a, b) = tokio::join!(first.handle_job(job("1", Ok(id)), &never), async {
        tokio::time::sleep(Duration::from_millis(10)).await;
        second.handle_job(job("2", Ok(id)), &never).await
    });
    assert_eq!((a, b), (JobOutcome::Completed, JobOutcome::Duplicate));
    let attempts = env.mailer.attempts.lock().expect("lock").clone();
    assert_eq!(attempts.len(), 60);
    assert!(attempts.values().all(|n| *n == 1), "{attempts:?}");
    // Settled jobs let go of the campaign: a later job may claim it (and finds it final).
    assert_eq!(
        env.worker(1).handle_job(job("3", Ok(id)), &never).await,
        JobOutcome::Completed
    );
}

#[tokio::test]
async fn the_store_being_down_is_reported_as_unavailable() {
    let env = Env::new(FakeMailer::default());
    env.repo.down.store(true, Ordering::SeqCst);
    let err = env
        .service()
        .create(input(&["a@x.org"]), Intent::Send, None, &Actor::cli())
        .await
        .expect_err("down");
    assert!(matches!(err, CreateCampaignError::Unavailable(_)));
    assert!(env.queue.enqueued.lock().expect("lock").is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_campaign_is_sent_once_to_everyone_and_completed() {
    let env = Env::new(FakeMailer::default());
    let emails = addresses("user", 53);
    let id = create(&env, &emails).await;

    let run = env
        .worker(4)
        .run_campaign(id, &CancellationToken::new(), &CancellationToken::new())
        .await;
    assert_eq!(
        run.expect("ran"),
        RunOutcome::Finished(CampaignStatus::Completed)
    );
    let delivered = env.mailer.delivered.lock().expect("lock");
    let mut got: Vec<_> = delivered.iter().map(|m| m.to.clone()).collect();
    got.sort();
    let mut want = emails.clone();
    want.sort();
    assert_eq!(got, want, "each address exactly once");
    let c = env.repo.campaign(id);
    assert_eq!(
        (c.status, c.sent_emails, c.failed_emails),
        (CampaignStatus::Completed, 53, 0)
    );
    assert!(c.completed_at.is_some());
    assert_counters_match_rows(&env, id);
}

#[tokio::test(start_paused = true)]
async fn the_timeline_is_empty_before_any_outcome_and_counts_every_outcome_after() {
    let env = Env::new(FakeMailer::default());
    let emails = addresses("t", 12);
    let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
    let service = env.service();
    let id = service
        .create(input(&refs), Intent::Send, None, &Actor::cli())
        .await
        .expect("created")
        .campaign
        .id;

    let before = service.timeline(id).await.expect("timeline");
    assert_eq!((before.bucket_seconds, before.points.len()), (1, 0));

    let run = env
        .worker(3)
        .run_campaign(id, &CancellationToken::new(), &CancellationToken::new())
        .await;
    assert_eq!(
        run.expect("ran"),
        RunOutcome::Finished(CampaignStatus::Completed)
    );
    let after = service.timeline(id).await.expect("timeline");
    assert_eq!(
        after.bucket_seconds, 1,
        "a sub-second campaign gets 1 s buckets"
    );
    assert_eq!(after.points.iter().map(|p| p.sent).sum::<u64>(), 12);
    assert_eq!(after.points.iter().map(|p| p.failed).sum::<u64>(), 0);
    assert!(after.points.windows(2).all(|w| w[0].at < w[1].at));

    // Sent by another stack that records no start (the seeds' Node worker): the same points.
    if let Some(stored) = env.repo.campaigns.lock().expect("lock").get_mut(&id) {
        stored.0.started_at = None;
    }
    let unstarted = service.timeline(id).await.expect("timeline");
    assert_eq!(unstarted.points.iter().map(|p| p.sent).sum::<u64>(), 12);

    assert!(matches!(
        service.timeline(paloma_domain::CampaignId::new()).await,
        Err(crate::QueryError::NotFound)
    ));
}

#[tokio::test(start_paused = true)]
async fn permanent_failures_fail_and_transient_ones_are_retried() {
    let env = Env::new(FakeMailer::default());
    let mut emails = addresses("ok", 10);
    emails.extend(addresses("bounce", 3));
    emails.extend(addresses("greylist", 4));
    let id = create(&env, &emails).await;

    let run = env
        .worker(3)
        .run_campaign(id, &CancellationToken::new(), &CancellationToken::new())
        .await;
    assert_eq!(
        run.expect("ran"),
        RunOutcome::Finished(CampaignStatus::Completed)
    );
    let c = env.repo.campaign(id);
    assert_eq!((c.sent_emails, c.failed_emails), (14, 3));
    for r in env.repo.recipients_of(id) {
        if r.email.starts_with("bounce") {
            assert_eq!(r.status, RecipientStatus::Failed);
            assert_eq!(
                r.error.as_deref(),
                Some(format!("550 5.1.1 <{}>: no such user", r.email).as_str())
            );
            assert_eq!(r.attempts, 1);
        } else if r.email.starts_with("greylist") {
            assert_eq!(r.status, RecipientStatus::Sent);
            assert_eq!(r.attempts, 2, "deferred once, then sent");
        } else {
            assert_eq!((r.status, r.attempts), (RecipientStatus::Sent, 1));
        }
    }
    assert_counters_match_rows(&env, id);
}

/// A batch the database refuses because of one row (a reply it cannot store) is written one
/// outcome at a time: every other recipient is recorded once, none is sent again, and the bad
/// row is recorded with a fixed text instead of its own.
#[tokio::test(start_paused = true)]
async fn one_outcome_the_database_refuses_does_not_cost_the_rest_of_its_batch() {
    let env = Env::new(FakeMailer::default());
    let mut emails = addresses("ok", 30);
    emails.push("bounce-poison@example.org".to_owned());
    emails.extend(addresses("more", 9));
    let id = create(&env, &emails).await;
    *env.repo.refuse_error_containing.lock().expect("lock") = Some("bounce-poison".into());

    let run = env
        .worker(5)
        .run_campaign(id, &CancellationToken::new(), &CancellationToken::new())
        .await;
    assert_eq!(
        run.expect("ran"),
        RunOutcome::Finished(CampaignStatus::Completed)
    );
    let c = env.repo.campaign(id);
    assert_eq!((c.sent_emails, c.failed_emails), (39, 1));
    for r in env.repo.recipients_of(id) {
        if r.email.starts_with("bounce-poison") {
            assert_eq!(r.status, RecipientStatus::Failed);
            assert_eq!(r.error.as_deref(), Some(crate::worker::UNSTORABLE_ERROR));
        } else {
            assert_eq!((r.status, r.attempts), (RecipientStatus::Sent, 1));
        }
    }
    let attempts = env.mailer.attempts.lock().expect("lock");
    assert!(
        attempts.values().all(|n| *n == 1),
        "nobody was sent twice: {attempts:?}"
    );
    drop(attempts);
    assert_counters_match_rows(&env, id);
}

#[tokio::test(start_paused = true)]
async fn transient_failures_give_up_after_the_retry_limit() {
    struct AlwaysDefer;
    impl crate::ports::Mailer for AlwaysDefer {
        async fn send(&self, _m: crate::ports::OutgoingMessage) -> paloma_domain::DeliveryOutcome {
            paloma_domain::DeliveryOutcome::Transient("421 service not available".into())
        }
    }
    let env = Env::new(FakeMailer::default());
    let id = env
        .service()
        .create(
            input(&["a@x.org", "b@x.org"]),
            Intent::Send,
            None,
            &Actor::cli(),
        )
        .await
        .expect("created")
        .campaign
        .id;
    let worker = env.worker_with(Arc::new(AlwaysDefer), 2);
    let run = worker
        .run_campaign(id, &CancellationToken::new(), &CancellationToken::new())
        .await;
    assert_eq!(
        run.expect("ran"),
        RunOutcome::Finished(CampaignStatus::Failed),
        "nothing delivered"
    );
    for r in env.repo.recipients_of(id) {
        assert_eq!((r.status, r.attempts), (RecipientStatus::Failed, 3));
        assert_eq!(
            r.error.as_deref(),
            Some("gave up after 3 attempts: 421 service not available")
        );
    }
    assert_counters_match_rows(&env, id);
}

#[tokio::test(start_paused = true)]
async fn shutdown_flushes_in_flight_outcomes_and_a_second_run_sends_only_the_rest() {
    let env = Env::new(FakeMailer {
        delay: Some(Duration::from_millis(5)),
        ..FakeMailer::default()
    });
    let emails = addresses("user", 200);
    let id = create(&env, &emails).await;

    let shutdown = CancellationToken::new();
    let stopper = shutdown.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(60)).await;
        stopper.cancel();
    });
    let worker = env.worker(4);
    let run = worker
        .run_campaign(id, &shutdown, &CancellationToken::new())
        .await
        .expect("ran");
    assert_eq!(run, RunOutcome::Stopped);
    let sent_before = env.mailer.delivered.lock().expect("lock").len();
    assert!(
        sent_before > 0 && sent_before < 200,
        "stopped mid-way, sent {sent_before}"
    );
    assert_eq!(
        env.repo.campaign(id).sent_emails as usize,
        sent_before,
        "every delivered message recorded"
    );
    assert_counters_match_rows(&env, id);

    let run = worker
        .run_campaign(id, &CancellationToken::new(), &CancellationToken::new())
        .await;
    assert_eq!(
        run.expect("ran"),
        RunOutcome::Finished(CampaignStatus::Completed)
    );
    let attempts = env.mailer.attempts.lock().expect("lock");
    assert_eq!(attempts.len(), 200);
    assert!(
        attempts.values().all(|n| *n == 1),
        "nobody received a message twice"
    );
}

#[tokio::test(start_paused = true)]
async fn outcomes_survive_a_database_outage() {
    let env = Env::new(FakeMailer {
        delay: Some(Duration::from_millis(2)),
        ..FakeMailer::default()
    });
    let emails = addresses("user", 40);
    let id = create(&env, &emails).await;
    let repo = env.repo.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(15)).await;
        repo.down.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        repo.down.store(false, Ordering::SeqCst);
    });
    let run = env
        .worker(2)
        .run_campaign(id, &CancellationToken::new(), &CancellationToken::new())
        .await;
    assert_eq!(
        run.expect("ran after the outage"),
        RunOutcome::Finished(CampaignStatus::Completed)
    );
    assert_eq!(env.repo.campaign(id).sent_emails, 40);
    assert_counters_match_rows(&env, id);
}

fn job(id: &str, campaign: Result<paloma_domain::CampaignId, String>) -> TakenJob {
    TakenJob {
        job_id: id.into(),
        token: "t".into(),
        campaign,
        attempts_made: 0,
    }
}

#[tokio::test(start_paused = true)]
async fn jobs_are_settled_by_what_happened() {
    let env = Env::new(FakeMailer::default());
    let id = env
        .service()
        .create(input(&["a@x.org"]), Intent::Send, None, &Actor::cli())
        .await
        .expect("created")
        .campaign
        .id;
    let worker = env.worker(1);
    let never = CancellationToken::new();

    assert_eq!(
        worker.handle_job(job("1", Ok(id)), &never).await,
        JobOutcome::Completed
    );
    assert_eq!(
        worker
            .handle_job(job("2", Err("{\"x\":1}".into())), &never)
            .await,
        JobOutcome::Failed("job data has no valid jobUuid".into())
    );
    let unknown = paloma_domain::CampaignId::new();
    assert_eq!(
        worker.handle_job(job("3", Ok(unknown)), &never).await,
        JobOutcome::Failed("campaign not found".into())
    );
    // A job for a finished campaign (e.g. enqueued twice) completes without sending again.
    assert_eq!(
        worker.handle_job(job("4", Ok(id)), &never).await,
        JobOutcome::Completed
    );
    assert_eq!(env.mailer.delivered.lock().expect("lock").len(), 1);

    let settled = env.consumer.settled.lock().expect("lock").clone();
    let how: Vec<_> = settled.iter().map(|(j, h, _)| (j.as_str(), *h)).collect();
    assert_eq!(
        how,
        [
            ("1", "completed"),
            ("2", "failed"),
            ("3", "failed"),
            ("4", "completed")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_running_worker_takes_jobs_and_stops_on_shutdown() {
    let env = Env::new(FakeMailer::default());
    let id = env
        .service()
        .create(
            input(&["a@x.org", "b@x.org"]),
            Intent::Send,
            None,
            &Actor::cli(),
        )
        .await
        .expect("created")
        .campaign
        .id;
    env.consumer
        .waiting
        .lock()
        .expect("lock")
        .push(job("9", Ok(id)));
    let worker = env.worker(2);
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { worker.run(shutdown).await }
    });
    for _ in 0..200 {
        if env.repo.campaign(id).status == CampaignStatus::Completed {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), handle)
        .await
        .expect("stops promptly")
        .expect("no panic");
    assert_eq!(env.repo.campaign(id).status, CampaignStatus::Completed);
    assert_eq!(env.consumer.settled.lock().expect("lock")[0].1, "completed");
}

fn with_threshold(env: &Env, threshold: Option<paloma_domain::FailureThreshold>) -> TestWorker {
    env.worker_with_settings(
        env.mailer.clone(),
        WorkerSettings {
            failure_threshold: threshold,
            ..Env::settings(3)
        },
    )
}

#[tokio::test(start_paused = true)]
async fn a_campaign_past_the_failure_threshold_stops_and_says_so_in_every_unsent_row() {
    let env = Env::new(FakeMailer::default());
    let mut emails = addresses("bounce", 60);
    emails.extend(addresses("ok", 140));
    let id = create(&env, &emails).await;
    let threshold = paloma_domain::FailureThreshold::new(0.5, 20);

    let run = with_threshold(&env, threshold)
        .run_campaign(id, &CancellationToken::new(), &CancellationToken::new())
        .await;

    assert_eq!(
        run.expect("ran"),
        RunOutcome::Finished(CampaignStatus::Failed)
    );
    let c = env.repo.campaign(id);
    assert_eq!(c.status, CampaignStatus::Failed);
    assert!(c.completed_at.is_some());
    assert_eq!(c.sent_emails + c.failed_emails, 200, "nothing left pending");
    assert_counters_match_rows(&env, id);
    let attempted: u32 = env.mailer.attempts.lock().expect("lock").values().sum();
    // It stopped soon after the 20th failure: the flush size and the messages in flight bound
    // how many more were tried, far from all 60 bounces, let alone the 140 others.
    assert!((20..=30).contains(&attempted), "{attempted} attempted");
    assert!(env.mailer.delivered.lock().expect("lock").is_empty());
    let rows = env.repo.recipients_of(id);
    let untried: Vec<_> = rows.iter().filter(|r| r.attempts == 0).collect();
    assert_eq!(untried.len() as u32, 200 - attempted);
    for r in untried {
        assert_eq!(r.status, RecipientStatus::Failed);
        let error = r.error.as_deref().unwrap_or_default();
        assert!(
            error.starts_with("not sent: the campaign was stopped after ")
                && error.ends_with("(failure threshold 50% after 20 messages)"),
            "{error}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn failures_under_the_threshold_do_not_stop_the_campaign() {
    let env = Env::new(FakeMailer::default());
    // 40 bounces in 100, spread out: 40% < 50%.
    let emails: Vec<String> = (0..100)
        .map(|i| {
            let prefix = if i % 5 < 2 { "bounce" } else { "ok" };
            format!("{prefix}{i}@example.org")
        })
        .collect();
    let id = create(&env, &emails).await;

    let run = with_threshold(&env, paloma_domain::FailureThreshold::new(0.5, 20))
        .run_campaign(id, &CancellationToken::new(), &CancellationToken::new())
        .await;

    assert_eq!(
        run.expect("ran"),
        RunOutcome::Finished(CampaignStatus::Completed)
    );
    let c = env.repo.campaign(id);
    assert_eq!((c.sent_emails, c.failed_emails), (60, 40));
    assert_counters_match_rows(&env, id);
}

#[tokio::test(start_paused = true)]
async fn a_campaign_resumed_past_the_threshold_stops_without_sending() {
    let env = Env::new(FakeMailer::default());
    let mut emails = addresses("bounce", 30);
    emails.extend(addresses("ok", 30));
    let id = create(&env, &emails).await;
    // A first worker, without a threshold, recorded the 30 bounces and died.
    let failed: Vec<paloma_domain::Outcome> = env
        .repo
        .recipients_of(id)
        .iter()
        .filter(|r| r.email.starts_with("bounce"))
        .map(|r| paloma_domain::Outcome {
            recipient_id: r.id,
            attempts: 1,
            kind: paloma_domain::OutcomeKind::Failed {
                error: "550 no such user".into(),
                permanent: true,
            },
        })
        .collect();
    use crate::ports::DeliveryLedger;
    env.repo
        .record_outcomes(id, &failed, env.clock.now())
        .await
        .expect("recorded");

    let run = with_threshold(&env, paloma_domain::FailureThreshold::new(0.5, 20))
        .run_campaign(id, &CancellationToken::new(), &CancellationToken::new())
        .await;

    assert_eq!(
        run.expect("ran"),
        RunOutcome::Finished(CampaignStatus::Failed)
    );
    assert!(env.mailer.attempts.lock().expect("lock").is_empty());
    let c = env.repo.campaign(id);
    assert_eq!((c.sent_emails, c.failed_emails), (0, 60));
    assert_counters_match_rows(&env, id);
}

/// A key with exactly these scopes, as the HTTP layer hands it to the use cases.
fn key_actor(name: &str, scopes: &str) -> Actor {
    let key = paloma_domain::ApiKey {
        id: paloma_domain::KeyId::new(),
        name: paloma_domain::KeyName::parse(name).expect("name"),
        prefix: "pal_12345678".into(),
        scopes: paloma_domain::Scopes::parse_list(scopes).expect("scopes"),
        created_at: chrono::Utc::now(),
        revoked_at: None,
    };
    Actor::key(&key, Some("192.0.2.1".parse().expect("ip")))
}

#[tokio::test(start_paused = true)]
async fn a_key_that_may_not_send_creates_a_draft_that_nothing_sends_until_a_sender_sends_it() {
    let env = Env::new(FakeMailer::default());
    let creator = key_actor("creator", "campaigns:create");
    let sender = key_actor("sender", "campaigns:send");
    let created = env
        .service()
        .create(input(&["a@x.org", "b@x.org"]), Intent::Send, None, &creator)
        .await
        .expect("created");
    let id = created.campaign.id;
    assert_eq!(created.campaign.status, CampaignStatus::Draft);
    assert!(!created.enqueued);
    assert!(
        env.queue.enqueued.lock().expect("lock").is_empty(),
        "not queued"
    );

    // Neither the reconciler nor a stray job sends it.
    let worker = env.worker(2);
    assert_eq!(worker.reconcile().await.expect("reconciled"), 0);
    let never = CancellationToken::new();
    assert_eq!(
        worker.handle_job(job("stray", Ok(id)), &never).await,
        JobOutcome::Completed
    );
    assert_eq!(
        env.mailer.delivered.lock().expect("lock").len(),
        0,
        "a draft is never sent"
    );
    assert_eq!(env.repo.campaign(id).status, CampaignStatus::Draft);

    let sent = env
        .service()
        .control(id, Control::Send, &sender)
        .await
        .expect("sent");
    assert_eq!(sent.campaign.status, CampaignStatus::Pending);
    assert!(sent.enqueued);
    assert_eq!(*env.queue.enqueued.lock().expect("lock"), [id]);
    assert!(matches!(
        env.service().control(id, Control::Send, &sender).await,
        Err(LifecycleError::InvalidState(CampaignStatus::Pending))
    ));
    assert!(matches!(
        env.service()
            .control(paloma_domain::CampaignId::new(), Control::Send, &sender)
            .await,
        Err(LifecycleError::NotFound)
    ));

    assert_eq!(
        worker.handle_job(job("real", Ok(id)), &never).await,
        JobOutcome::Completed
    );
    assert_eq!(env.mailer.delivered.lock().expect("lock").len(), 2);
    assert_eq!(
        env.repo.activity.actions(),
        [
            (Action::CampaignCreated, Some(id), "creator".to_owned()),
            (Action::CampaignSent, Some(id), "sender".to_owned()),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_sender_can_ask_for_a_draft_or_send_at_once_and_the_trail_says_who() {
    let env = Env::new(FakeMailer::default());
    let both = key_actor("both", "campaigns:create,campaigns:send");
    let draft = env
        .service()
        .create(input(&["a@x.org"]), Intent::Draft, None, &both)
        .await
        .expect("created");
    assert_eq!(draft.campaign.status, CampaignStatus::Draft);
    let now = env
        .service()
        .create(input(&["b@x.org"]), Intent::Send, None, &both)
        .await
        .expect("created");
    assert_eq!(now.campaign.status, CampaignStatus::Pending);
    assert!(now.enqueued);
    let trail = env
        .service()
        .activity(now.campaign.id, paloma_domain::PageRequest::default())
        .await
        .expect("activity");
    let actions: Vec<Action> = trail.items.iter().map(|a| a.action).collect();
    assert_eq!(actions, [Action::CampaignCreated, Action::CampaignSent]);
    assert!(
        trail
            .items
            .iter()
            .all(|a| a.key_name == "both" && a.client_address.as_deref() == Some("192.0.2.1"))
    );
    assert!(matches!(
        env.service()
            .activity(
                paloma_domain::CampaignId::new(),
                paloma_domain::PageRequest::default()
            )
            .await,
        Err(crate::QueryError::NotFound)
    ));
}

#[tokio::test(start_paused = true)]
async fn retrying_the_failed_sends_them_again_once_and_can_leave_permanent_refusals_alone() {
    let env = Env::new(FakeMailer::default());
    env.mailer.flaky_down.store(true, Ordering::SeqCst);
    let sender = key_actor("sender", "campaigns:create,campaigns:send");
    let created = env
        .service()
        .create(
            input(&["ok@x.org", "bounce@x.org", "flaky1@x.org", "flaky2@x.org"]),
            Intent::Send,
            None,
            &sender,
        )
        .await
        .expect("created");
    let id = created.campaign.id;
    let never = CancellationToken::new();

    // Not finished yet: refused, nothing changes.
    assert!(matches!(
        env.service()
            .retry_failed(id, RetryScope::All, &sender)
            .await,
        Err(LifecycleError::InvalidState(CampaignStatus::Pending))
    ));

    let worker = env.worker(2);
    assert_eq!(
        worker.handle_job(job("1", Ok(id)), &never).await,
        JobOutcome::Completed
    );
    let done = env.repo.campaign(id);
    assert_eq!((done.sent_emails, done.failed_emails), (1, 3));

    // The server is back; only the transient failures go again.
    env.mailer.flaky_down.store(false, Ordering::SeqCst);
    let retried = env
        .service()
        .retry_failed(id, RetryScope::Transient, &sender)
        .await
        .expect("retried");
    assert_eq!(retried.requeued, 2);
    assert!(retried.enqueued);
    assert_eq!(retried.campaign.status, CampaignStatus::Pending);
    assert_eq!(retried.campaign.completed_at, None);
    assert_eq!(
        (
            retried.campaign.failed_emails,
            retried.campaign.pending_emails()
        ),
        (1, 2),
        "the counters moved with the rows"
    );
    assert_counters_match_rows(&env, id);
    let flaky: Vec<_> = env
        .repo
        .recipients_of(id)
        .into_iter()
        .filter(|r| r.email.starts_with("flaky"))
        .collect();
    assert!(flaky.iter().all(|r| r.attempts == 0 && r.error.is_none()));

    assert_eq!(
        worker.handle_job(job("2", Ok(id)), &never).await,
        JobOutcome::Completed
    );
    let done = env.repo.campaign(id);
    assert_eq!(done.status, CampaignStatus::Completed);
    assert_eq!((done.sent_emails, done.failed_emails), (3, 1));
    assert_counters_match_rows(&env, id);
    let delivered: Vec<String> = env
        .mailer
        .delivered
        .lock()
        .expect("lock")
        .iter()
        .map(|m| m.to.clone())
        .collect();
    assert_eq!(
        delivered.len(),
        3,
        "each address that was not yet served, once: {delivered:?}"
    );

    // Everything else: the permanent refusal too; then nothing is left to retry.
    let all = env
        .service()
        .retry_failed(id, RetryScope::All, &sender)
        .await
        .expect("retried");
    assert_eq!(all.requeued, 1);
    worker.handle_job(job("3", Ok(id)), &never).await;
    let nothing = env
        .service()
        .retry_failed(id, RetryScope::Transient, &sender)
        .await
        .expect("answered");
    assert_eq!((nothing.requeued, nothing.enqueued), (0, false));
    assert_eq!(nothing.campaign.status, CampaignStatus::Completed);
    let retries = env
        .repo
        .activity
        .actions()
        .into_iter()
        .filter(|a| a.0 == Action::CampaignRetried)
        .count();
    assert_eq!(
        retries, 2,
        "each retry that moved recipients is in the audit trail"
    );
    assert!(matches!(
        env.service()
            .retry_failed(paloma_domain::CampaignId::new(), RetryScope::All, &sender)
            .await,
        Err(LifecycleError::NotFound)
    ));
}

mod control;
mod monitor;
mod schedule;
mod shards;
mod sharing;
mod test_send;
