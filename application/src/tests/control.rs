//! Pause, resume and cancel: the use case's answers, and a running worker stopping on a stop
//! request, or on the stored status when it missed the request.

use std::time::Duration;

use paloma_domain::{Action, Actor, CampaignId, CampaignStatus, Control, RetryScope};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::ports::{CampaignStore, FenceEnd, StopAnswer, StopRequest};

/// Waits (in paused time) until `done` holds; panics after a generous while.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..10_000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("never happened: {what}");
}

fn delivered(env: &Env) -> usize {
    env.mailer.delivered.lock().expect("lock").len()
}

/// A worker running in the background until the returned token is cancelled.
fn run_worker(env: &Env, concurrency: usize) -> (CancellationToken, tokio::task::JoinHandle<()>) {
    let worker = env.worker(concurrency);
    let shutdown = CancellationToken::new();
    let handle = tokio::spawn({
        let shutdown = shutdown.clone();
        async move { worker.run(shutdown).await }
    });
    (shutdown, handle)
}

fn push_job(env: &Env, name: &str, id: CampaignId) {
    env.consumer
        .waiting
        .lock()
        .expect("lock")
        .push(job(name, Ok(id)));
}

/// Asks the worker to stop sending `id` the way the queue would, and waits for its answer.
async fn ask_to_stop(env: &Env, id: CampaignId) {
    let request = StopRequest {
        campaign: id,
        reply_to: format!("reply-{id}"),
    };
    env.consumer
        .stop_requests
        .send(request.clone())
        .expect("the worker listens");
    until("the worker confirms", || {
        env.consumer
            .stops_confirmed
            .lock()
            .expect("lock")
            .contains(&request)
    })
    .await;
}

#[tokio::test(start_paused = true)]
async fn each_move_applies_where_it_may_and_is_recorded() {
    let env = Env::new(FakeMailer::default());
    let id = create(&env, &addresses("m", 3)).await;
    let service = env.service();
    let actor = Actor::cli();

    let paused = service
        .control(id, Control::Pause, &actor)
        .await
        .expect("paused");
    assert_eq!(paused.campaign.status, CampaignStatus::Paused);
    assert_eq!(paused.stop, Some(StopAnswer::NotSending));
    assert!(!paused.enqueued);
    assert_eq!(*env.queue.stops.lock().expect("lock"), [id]);
    assert!(matches!(
        service.control(id, Control::Pause, &actor).await,
        Err(LifecycleError::InvalidState(CampaignStatus::Paused))
    ));
    assert!(matches!(
        service.retry_failed(id, RetryScope::All, &actor).await,
        Err(LifecycleError::InvalidState(CampaignStatus::Paused))
    ));

    let resumed = service
        .control(id, Control::Resume, &actor)
        .await
        .expect("resumed");
    assert_eq!(resumed.campaign.status, CampaignStatus::Pending);
    assert!(resumed.enqueued);
    assert_eq!(resumed.stop, None);
    assert_eq!(*env.queue.enqueued.lock().expect("lock"), [id, id]);

    let cancelled = service
        .control(id, Control::Cancel, &actor)
        .await
        .expect("cancelled");
    assert_eq!(cancelled.campaign.status, CampaignStatus::Cancelled);
    assert_eq!(cancelled.campaign.cancelled_emails, 3);
    assert_eq!(cancelled.campaign.pending_emails(), 0);
    assert_counters_match_rows(&env, id);
    for control in [Control::Pause, Control::Resume, Control::Cancel] {
        assert!(
            matches!(
                service.control(id, control, &actor).await,
                Err(LifecycleError::InvalidState(CampaignStatus::Cancelled))
            ),
            "{control:?}"
        );
    }
    assert!(matches!(
        service
            .control(CampaignId::new(), Control::Cancel, &actor)
            .await,
        Err(LifecycleError::NotFound)
    ));
    let actions: Vec<Action> = env
        .repo
        .activity
        .actions()
        .into_iter()
        .map(|(action, _, _)| action)
        .collect();
    assert_eq!(
        actions,
        [
            Action::CampaignCreated,
            Action::CampaignSent,
            Action::CampaignPaused,
            Action::CampaignResumed,
            Action::CampaignCancelled,
        ],
        "refused moves are not recorded"
    );
}

/// While a pause or a cancel is stored, the campaign's jobs are fenced: settled when the move
/// is stored, put back when it is refused; a campaign a worker that cannot be stopped holds is
/// refused before anything changes.
#[tokio::test(start_paused = true)]
async fn a_stopping_move_fences_the_jobs_and_settles_or_restores_them() {
    let env = Env::new(FakeMailer::default());
    let id = create(&env, &addresses("f", 2)).await;
    let service = env.service();
    let actor = Actor::cli();
    let fences = || env.queue.fences.lock().expect("lock").clone();

    env.queue.held_elsewhere.lock().expect("lock").insert(id);
    assert!(matches!(
        service.control(id, Control::Cancel, &actor).await,
        Err(LifecycleError::HeldElsewhere(CampaignStatus::Pending))
    ));
    assert_eq!(fences(), [], "nothing fenced");
    assert_eq!(
        env.repo.get(id).await.expect("get").expect("found").status,
        CampaignStatus::Pending
    );
    env.queue.held_elsewhere.lock().expect("lock").clear();

    service
        .control(id, Control::Pause, &actor)
        .await
        .expect("paused");
    assert_eq!(fences(), [(id, Some(FenceEnd::Settle))]);
    assert!(service.control(id, Control::Pause, &actor).await.is_err());
    assert_eq!(
        fences()[1],
        (id, Some(FenceEnd::Restore)),
        "a refused move puts the jobs back"
    );
    service
        .control(id, Control::Resume, &actor)
        .await
        .expect("resumed");
    assert_eq!(fences().len(), 2, "a resume fences nothing");
}

#[tokio::test(start_paused = true)]
async fn a_paused_worker_sends_no_more_than_its_messages_in_flight_and_resume_sends_the_rest_once()
{
    let env = Env::new(FakeMailer {
        delay: Some(Duration::from_millis(40)),
        ..FakeMailer::default()
    });
    let emails = addresses("p", 40);
    let id = create(&env, &emails).await;
    let concurrency = 3;
    let (shutdown, handle) = run_worker(&env, concurrency);
    push_job(&env, "first", id);
    until("some are sent", || delivered(&env) >= 6).await;

    env.service()
        .control(id, Control::Pause, &Actor::cli())
        .await
        .expect("paused");
    ask_to_stop(&env, id).await;
    let at_confirmation = delivered(&env);
    until("the job is settled", || {
        !env.consumer.settled.lock().expect("lock").is_empty()
    })
    .await;
    assert_eq!(env.consumer.settled.lock().expect("lock")[0].1, "completed");
    let after = delivered(&env) - at_confirmation;
    assert!(
        after <= concurrency,
        "{after} messages left after the worker confirmed"
    );
    let paused = env.repo.campaign(id);
    assert_eq!(paused.status, CampaignStatus::Paused);
    assert!(paused.pending_emails() > 0, "stopped before the end");
    assert_eq!(paused.sent_emails as usize, delivered(&env), "all written");
    assert_counters_match_rows(&env, id);

    env.service()
        .control(id, Control::Resume, &Actor::cli())
        .await
        .expect("resumed");
    push_job(&env, "resumed", id);
    until("completed", || {
        env.repo.campaign(id).status == CampaignStatus::Completed
    })
    .await;
    shutdown.cancel();
    handle.await.expect("no panic");
    let mut sent: Vec<String> = env
        .mailer
        .delivered
        .lock()
        .expect("lock")
        .iter()
        .map(|m| m.to.clone())
        .collect();
    sent.sort();
    let mut expected = emails.clone();
    expected.sort();
    assert_eq!(sent, expected, "everyone once, nobody twice");
}

#[tokio::test(start_paused = true)]
async fn a_worker_that_missed_the_request_stops_at_its_next_write() {
    let env = Env::new(FakeMailer {
        delay: Some(Duration::from_millis(40)),
        ..FakeMailer::default()
    });
    let id = create(&env, &addresses("q", 40)).await;
    let (shutdown, handle) = run_worker(&env, 2);
    push_job(&env, "only", id);
    until("some are sent", || delivered(&env) >= 4).await;
    // The fake queue asks no worker: only the stored status tells this one.
    env.service()
        .control(id, Control::Pause, &Actor::cli())
        .await
        .expect("paused");
    until("the job is settled", || {
        !env.consumer.settled.lock().expect("lock").is_empty()
    })
    .await;
    shutdown.cancel();
    handle.await.expect("no panic");
    let paused = env.repo.campaign(id);
    assert_eq!(paused.status, CampaignStatus::Paused);
    assert!(paused.pending_emails() > 20, "stopped early");
    assert_counters_match_rows(&env, id);
}

#[tokio::test(start_paused = true)]
async fn a_cancel_ends_the_run_and_in_flight_outcomes_count_as_what_they_were() {
    let env = Env::new(FakeMailer {
        delay: Some(Duration::from_millis(40)),
        ..FakeMailer::default()
    });
    let id = create(&env, &addresses("c", 30)).await;
    let (shutdown, handle) = run_worker(&env, 4);
    push_job(&env, "only", id);
    until("some are sent", || delivered(&env) >= 5).await;
    env.service()
        .control(id, Control::Cancel, &Actor::cli())
        .await
        .expect("cancelled");
    ask_to_stop(&env, id).await;
    until("the job is settled", || {
        !env.consumer.settled.lock().expect("lock").is_empty()
    })
    .await;
    shutdown.cancel();
    handle.await.expect("no panic");
    let cancelled = env.repo.campaign(id);
    assert_eq!(cancelled.status, CampaignStatus::Cancelled);
    assert_eq!(cancelled.sent_emails as usize, delivered(&env));
    assert_eq!(cancelled.pending_emails(), 0);
    assert!(cancelled.cancelled_emails > 0);
    assert_counters_match_rows(&env, id);
}

#[tokio::test(start_paused = true)]
async fn a_campaign_resumed_while_its_worker_drains_gets_a_job_again() {
    let env = Env::new(FakeMailer {
        delay: Some(Duration::from_millis(500)),
        ..FakeMailer::default()
    });
    let id = create(&env, &addresses("r", 10)).await;
    let (shutdown, handle) = run_worker(&env, 2);
    push_job(&env, "first", id);
    until("started", || {
        env.repo.campaign(id).status == CampaignStatus::Processing
    })
    .await;
    env.service()
        .control(id, Control::Pause, &Actor::cli())
        .await
        .expect("paused");
    ask_to_stop(&env, id).await;
    // Resumed while two messages are still in flight: the resume's job is completed as a
    // duplicate while the first one holds the claim.
    env.service()
        .control(id, Control::Resume, &Actor::cli())
        .await
        .expect("resumed");
    until("the first job is settled", || {
        !env.consumer.settled.lock().expect("lock").is_empty()
    })
    .await;
    shutdown.cancel();
    handle.await.expect("no panic");
    assert_eq!(
        *env.queue.enqueued.lock().expect("lock"),
        [id, id, id],
        "created, resumed, and queued again by the worker that stopped"
    );
    assert_eq!(env.repo.campaign(id).status, CampaignStatus::Pending);
}

#[tokio::test(start_paused = true)]
async fn a_campaign_whose_runs_keep_failing_ends_failed_with_the_reason_and_a_retry_restarts_it() {
    let env = Env::new(FakeMailer::default());
    let id = create(&env, &addresses("poison", 3)).await;
    env.repo.poisoned.lock().expect("lock").insert(id);
    let worker = env.worker_with_settings(
        env.mailer.clone(),
        WorkerSettings {
            max_failed_runs: 3,
            ..Env::settings(2)
        },
    );
    let never = CancellationToken::new();
    for run in 1..=2 {
        assert_eq!(
            worker
                .handle_job(job(&format!("run{run}"), Ok(id)), &never)
                .await,
            JobOutcome::Failed("database error while sending".into())
        );
        assert_eq!(
            env.consumer
                .settled
                .lock()
                .expect("lock")
                .last()
                .map(|s| s.1),
            Some("retry"),
            "run {run} is retried"
        );
    }
    let outcome = worker.handle_job(job("run3", Ok(id)), &never).await;
    assert!(matches!(outcome, JobOutcome::Failed(ref reason) if reason.contains("3 failed runs")));
    assert_eq!(
        env.consumer
            .settled
            .lock()
            .expect("lock")
            .last()
            .map(|s| s.1),
        Some("completed"),
        "not queued again"
    );
    let stopped = env.repo.campaign(id);
    assert_eq!(stopped.status, CampaignStatus::Failed);
    let reason = stopped.stop_reason.clone().expect("a stop reason");
    assert!(reason.contains("3 failed runs"), "{reason}");
    assert!(
        env.repo
            .recipients_of(id)
            .iter()
            .all(|r| r.error.as_deref() == Some(reason.as_str())),
        "every unsent recipient says why"
    );
    assert_counters_match_rows(&env, id);

    // Fixed, then retried: sent, and the count starts again.
    env.repo.poisoned.lock().expect("lock").clear();
    let retried = env
        .service()
        .retry_failed(id, RetryScope::Transient, &Actor::cli())
        .await
        .expect("retried");
    assert_eq!(retried.requeued, 3);
    assert_eq!(retried.campaign.stop_reason, None);
    assert_eq!(
        worker.handle_job(job("fixed", Ok(id)), &never).await,
        JobOutcome::Completed
    );
    assert_eq!(env.repo.campaign(id).status, CampaignStatus::Completed);
    assert_eq!(delivered(&env), 3);
}

#[tokio::test(start_paused = true)]
async fn each_message_is_recorded_sent_at_the_time_it_was_accepted() {
    let env = Env::new(FakeMailer {
        delay: Some(Duration::from_millis(40)),
        ..FakeMailer::default()
    });
    let id = create(&env, &addresses("t", 4)).await;
    let started = env.clock.now();
    let worker = env.worker(1);
    assert_eq!(
        worker
            .handle_job(job("one", Ok(id)), &CancellationToken::new())
            .await,
        JobOutcome::Completed
    );
    let mut times: Vec<_> = env
        .repo
        .recipients_of(id)
        .into_iter()
        .filter_map(|r| r.sent_at)
        .collect();
    times.sort();
    let offsets: Vec<i64> = times
        .iter()
        .map(|t| (*t - started).num_milliseconds())
        .collect();
    assert_eq!(
        offsets,
        [40, 80, 120, 160],
        "one by one, not the batch's write time"
    );
}
