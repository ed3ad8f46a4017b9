//! Scheduled campaigns: stored `SCHEDULED` with a delayed job due at their time; refused times;
//! moved, sent now; a job that comes early sends nothing; the reconciler gives a scheduled
//! campaign that lost its job a delayed one again.

use chrono::TimeDelta;
use paloma_domain::{Actor, CampaignStatus, Control, NewCampaignError, ScheduleError};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::CreateCampaignError;

/// `t` to the millisecond, as a send time is kept.
fn whole_ms(t: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    use chrono::DurationRound;
    t.duration_trunc(TimeDelta::milliseconds(1))
        .expect("in range")
}

fn scheduled(emails: &[&str], at: chrono::DateTime<chrono::Utc>) -> NewCampaignInput {
    NewCampaignInput {
        scheduled_at: Some(at),
        from: None,
        reply_to: None,
        ..input(emails)
    }
}

#[tokio::test(start_paused = true)]
async fn a_scheduled_campaign_gets_a_delayed_job_and_a_job_that_comes_early_sends_nothing() {
    let env = Env::new(FakeMailer::default());
    let now = env.clock.now();
    let at = whole_ms(now + TimeDelta::minutes(30));
    let created = env
        .service()
        .create(
            scheduled(&["a@x.org"], at),
            Intent::Send,
            None,
            &Actor::cli(),
        )
        .await
        .expect("created");
    let id = created.campaign.id;
    assert_eq!(created.campaign.status, CampaignStatus::Scheduled);
    assert!(created.enqueued);
    assert_eq!(env.queue.due.lock().expect("lock").get(&id), Some(&at));

    let worker = env.worker(2);
    let never = CancellationToken::new();
    assert_eq!(
        worker.handle_job(job("early", Ok(id)), &never).await,
        JobOutcome::Completed
    );
    assert_eq!(env.repo.campaign(id).status, CampaignStatus::Scheduled);
    assert!(env.mailer.delivered.lock().expect("lock").is_empty());

    tokio::time::advance(std::time::Duration::from_secs(31 * 60)).await;
    assert_eq!(
        worker.handle_job(job("due", Ok(id)), &never).await,
        JobOutcome::Completed
    );
    assert_eq!(env.repo.campaign(id).status, CampaignStatus::Completed);
    assert_eq!(env.mailer.delivered.lock().expect("lock").len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_time_in_the_past_or_over_a_year_ahead_is_refused_and_stores_nothing() {
    let env = Env::new(FakeMailer::default());
    let now = env.clock.now();
    for at in [now - TimeDelta::seconds(1), now + TimeDelta::days(366)] {
        let refused = env
            .service()
            .create(
                scheduled(&["a@x.org"], at),
                Intent::Send,
                None,
                &Actor::cli(),
            )
            .await;
        let Err(CreateCampaignError::Invalid(NewCampaignError::Invalid(errors))) = refused else {
            panic!("{at} accepted");
        };
        assert_eq!(errors.fields[0].0, "scheduledAt");
    }
    assert!(env.queue.enqueued.lock().expect("lock").is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_scheduled_campaign_is_moved_or_sent_now_and_nothing_else_is_moved() {
    let env = Env::new(FakeMailer::default());
    let now = env.clock.now();
    let service = env.service();
    let actor = Actor::cli();
    let id = service
        .create(
            scheduled(&["a@x.org"], now + TimeDelta::hours(1)),
            Intent::Send,
            None,
            &actor,
        )
        .await
        .expect("created")
        .campaign
        .id;
    let later = whole_ms(now + TimeDelta::hours(3));
    let moved = service.reschedule(id, later, &actor).await.expect("moved");
    assert_eq!(moved.campaign.scheduled_at, Some(later));
    assert!(moved.enqueued);
    assert_eq!(env.queue.due.lock().expect("lock").get(&id), Some(&later));
    assert!(matches!(
        service
            .reschedule(id, now - TimeDelta::hours(1), &actor)
            .await,
        Err(LifecycleError::InvalidSchedule(ScheduleError::InThePast))
    ));

    let sent = service
        .control(id, Control::Send, &actor)
        .await
        .expect("sent now");
    assert_eq!(sent.campaign.status, CampaignStatus::Pending);
    assert!(sent.enqueued);
    assert!(matches!(
        service.reschedule(id, later, &actor).await,
        Err(LifecycleError::InvalidState(CampaignStatus::Pending))
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
            Action::CampaignScheduled,
            Action::CampaignRescheduled,
            Action::CampaignSent,
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_reconciler_gives_a_scheduled_campaign_that_lost_its_job_a_delayed_one() {
    let env = Env::new(FakeMailer::default());
    let at = whole_ms(env.clock.now() + TimeDelta::hours(2));
    let id = env
        .service()
        .create(
            scheduled(&["a@x.org"], at),
            Intent::Send,
            None,
            &Actor::cli(),
        )
        .await
        .expect("created")
        .campaign
        .id;
    env.queue.lost.lock().expect("lock").insert(id);
    env.queue.due.lock().expect("lock").clear();
    tokio::time::advance(std::time::Duration::from_secs(60)).await;
    assert_eq!(env.worker(1).reconcile().await.expect("reconciled"), 1);
    assert_eq!(env.queue.due.lock().expect("lock").get(&id), Some(&at));
}

#[tokio::test(start_paused = true)]
async fn editing_a_scheduled_campaign_needs_the_send_scope_and_a_new_time_gets_a_new_job() {
    use paloma_domain::{CampaignEditInput, DuplicateRecipients, Scope};
    let env = Env::new(FakeMailer::default());
    let now = env.clock.now();
    let service = env.service();
    let id = service
        .create(
            scheduled(&["a@x.org", "b@x.org"], now + TimeDelta::hours(1)),
            Intent::Send,
            None,
            &Actor::cli(),
        )
        .await
        .expect("created")
        .campaign
        .id;
    let writer = super::key_actor("writer", "campaigns:read,campaigns:create");
    let later = whole_ms(now + TimeDelta::hours(2));
    let change = CampaignEditInput {
        scheduled_at: Some(Some(later)),
        ..CampaignEditInput::default()
    };
    assert!(matches!(
        service.edit(id, change.clone(), &writer).await,
        Err(LifecycleError::MissingScope(Scope::CampaignsSend))
    ));
    let edited = service
        .edit(id, change, &Actor::cli())
        .await
        .expect("edited");
    assert_eq!(edited.scheduled_at, Some(later));
    assert_eq!(env.queue.due.lock().expect("lock").get(&id), Some(&later));

    let copy = service
        .duplicate(id, DuplicateRecipients::All, &writer)
        .await
        .expect("copied");
    assert_eq!(copy.campaign.status, CampaignStatus::Draft);
    assert_eq!(copy.campaign.total_emails, 2);
    assert!(!copy.enqueued);
    assert!(matches!(
        service
            .duplicate(id, DuplicateRecipients::Failed, &writer)
            .await,
        Err(LifecycleError::NothingToCopy(CampaignStatus::Scheduled))
    ));
}
