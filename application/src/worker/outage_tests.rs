//! The database going away under a running campaign (the other use-case tests are in
//! `tests.rs`). Time is paused: the outages and the backoff cost no real time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use paloma_domain::{
    CampaignId, CampaignStatus, DeliveryOutcome, NewCampaign, NewCampaignInput, RecipientInput,
};
use tokio_util::sync::CancellationToken;

use super::{Adapters, RunOutcome, Worker, WorkerSettings};
use crate::fakes::{FakeConsumer, FakeMailer, FakeQueue, FakeRepo, TokioClock};
use crate::ports::{CampaignStore, Mailer, OutgoingMessage};

/// A mail server that takes the fake database down for `outage` when it receives message
/// number `at`.
struct Saboteur {
    inner: FakeMailer,
    repo: Arc<FakeRepo>,
    at: usize,
    outage: Duration,
    received: AtomicUsize,
}

impl Mailer for Saboteur {
    async fn send(&self, message: OutgoingMessage) -> DeliveryOutcome {
        if self.received.fetch_add(1, Ordering::SeqCst) + 1 == self.at {
            self.repo.down.store(true, Ordering::SeqCst);
            let (repo, outage) = (self.repo.clone(), self.outage);
            tokio::spawn(async move {
                tokio::time::sleep(outage).await;
                repo.down.store(false, Ordering::SeqCst);
            });
        }
        self.inner.send(message).await
    }
}

async fn campaign(repo: &FakeRepo, n: usize) -> CampaignId {
    let input = NewCampaignInput {
        subject: "Outage".into(),
        body: "<p>Hi</p>".into(),
        recipients: (0..n)
            .map(|i| RecipientInput::address(format!("user{i}@example.org")))
            .collect(),
        scheduled_at: None,
        from: None,
        reply_to: None,
    };
    let campaign = NewCampaign::parse(input, n, chrono::Utc::now()).expect("valid");
    let id = CampaignId::new();
    repo.create(id, &campaign, chrono::Utc::now())
        .await
        .expect("stored");
    id
}

fn worker<M: Mailer>(
    repo: Arc<FakeRepo>,
    mailer: Arc<M>,
) -> Worker<Adapters<FakeRepo, FakeConsumer, FakeQueue, M, TokioClock>> {
    let settings = WorkerSettings {
        concurrency: 4,
        // Small batches: a read of recipients is due every few messages, so the outage
        // hits one.
        batch_size: 3,
        flush_size: 50,
        max_idle_wait: Duration::from_millis(20),
        ..WorkerSettings::default()
    };
    Worker::new(
        repo,
        Arc::default(),
        Arc::default(),
        mailer,
        Arc::new(TokioClock::default()),
        settings,
    )
}

#[tokio::test(start_paused = true)]
async fn an_outage_while_reading_recipients_is_waited_out_and_nothing_is_sent_twice() {
    let repo = Arc::new(FakeRepo::default());
    let id = campaign(&repo, 40).await;
    let mailer = Arc::new(Saboteur {
        inner: FakeMailer::default(),
        repo: repo.clone(),
        at: 10,
        outage: Duration::from_millis(500),
        received: AtomicUsize::new(0),
    });
    let never = CancellationToken::new();
    let run = worker(repo.clone(), mailer.clone())
        .run_campaign(id, &never, &never)
        .await;
    assert_eq!(
        run.expect("ran through the outage"),
        RunOutcome::Finished(CampaignStatus::Completed)
    );
    let attempts = mailer.inner.attempts.lock().expect("lock").clone();
    assert_eq!(attempts.len(), 40);
    assert!(
        attempts.values().all(|n| *n == 1),
        "nobody received two: {attempts:?}"
    );
    assert_eq!(repo.campaign(id).sent_emails, 40);
}

#[tokio::test(start_paused = true)]
async fn a_run_that_starts_during_an_outage_waits_for_the_database() {
    let repo = Arc::new(FakeRepo::default());
    let id = campaign(&repo, 5).await;
    repo.down.store(true, Ordering::SeqCst);
    let back = repo.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        back.down.store(false, Ordering::SeqCst);
    });
    let mailer = Arc::new(FakeMailer::default());
    let never = CancellationToken::new();
    let run = worker(repo.clone(), mailer.clone())
        .run_campaign(id, &never, &never)
        .await;
    assert_eq!(
        run.expect("ran after the outage"),
        RunOutcome::Finished(CampaignStatus::Completed)
    );
    assert_eq!(mailer.delivered.lock().expect("lock").len(), 5);
}

#[tokio::test(start_paused = true)]
async fn shutdown_during_an_outage_stops_the_run_and_losing_the_lock_too() {
    let repo = Arc::new(FakeRepo::default());
    let id = campaign(&repo, 5).await;
    repo.down.store(true, Ordering::SeqCst);
    let worker = worker(repo.clone(), Arc::new(FakeMailer::default()));
    for lose_lock in [false, true] {
        let (shutdown, lock_lost) = (CancellationToken::new(), CancellationToken::new());
        let cancel = if lose_lock {
            lock_lost.clone()
        } else {
            shutdown.clone()
        };
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            cancel.cancel();
        });
        let run = tokio::time::timeout(
            Duration::from_secs(5),
            worker.run_campaign(id, &shutdown, &lock_lost),
        )
        .await
        .expect("stops promptly");
        let expected = if lose_lock {
            RunOutcome::LockLost
        } else {
            RunOutcome::Stopped
        };
        assert_eq!(run.expect("no error"), expected);
    }
}
