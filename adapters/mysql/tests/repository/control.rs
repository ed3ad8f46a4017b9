//! A user's moves on a campaign, in MySQL: pause and resume move the status only; a cancel
//! makes every pending recipient `CANCELLED` with its counter in one transaction; an outcome
//! of a message in flight at the cancel is recorded as what became of it; the worker's finish
//! and abandon leave a paused or cancelled campaign alone; concurrent moves apply one by one; a
//! scheduled campaign starts only once due, and can be moved, sent now or cancelled.

use chrono::TimeDelta;
use paloma_application::ports::{CampaignStore, DeliveryLedger, RepositoryError};
use paloma_domain::{CampaignId, CampaignStatus, Control, Outcome, OutcomeKind};

use crate::{TestResult, assert_counters_match_rows, emails, new_campaign, sent_at_of, setup, t0};

fn sent(recipient: paloma_domain::RecipientId) -> Outcome {
    Outcome {
        recipient_id: recipient,
        attempts: 1,
        kind: OutcomeKind::Sent { at: t0() },
    }
}

#[tokio::test]
async fn pause_and_resume_move_the_status_only_and_each_applies_where_it_may() -> TestResult {
    let (db, repo) = setup().await?;
    let now = t0();
    let id = CampaignId::new();
    repo.create(id, &new_campaign("Pause me", &emails(4))?, now)
        .await?;
    assert!(
        matches!(
            repo.control(id, Control::Resume, now).await,
            Err(RepositoryError::Conflict(_))
        ),
        "not paused"
    );
    repo.start(id, now).await?;
    let due = repo.due_recipients(id, None, None, now, 10).await?;
    repo.record_outcomes(id, &[sent(due[0].id)], now).await?;

    let later = now + TimeDelta::seconds(3);
    let paused = repo.control(id, Control::Pause, later).await?;
    assert_eq!(paused.status, CampaignStatus::Paused);
    assert_eq!((paused.sent_emails, paused.pending_emails()), (1, 3));
    assert_eq!(paused.updated_at, later);
    assert!(
        matches!(
            repo.control(id, Control::Pause, later).await,
            Err(RepositoryError::Conflict(_))
        ),
        "already paused"
    );
    // A message in flight at the pause is recorded; the worker's finish leaves it paused.
    repo.record_outcomes(id, &[sent(due[1].id)], later).await?;
    assert_eq!(
        repo.start(id, later).await?.status,
        CampaignStatus::Paused,
        "a job taken now does not start it"
    );
    assert!(
        !repo
            .list_unfinished(later + TimeDelta::minutes(1), 10)
            .await?
            .contains(&id),
        "the reconciler does not queue a paused campaign"
    );
    let abandoned = repo.abandon(id, "threshold", later).await?;
    assert_eq!(abandoned.status, CampaignStatus::Paused);
    assert_counters_match_rows(&repo, id).await?;

    let resumed = repo.control(id, Control::Resume, later).await?;
    assert_eq!(resumed.status, CampaignStatus::Pending);
    let rest = repo.due_recipients(id, None, None, later, 10).await?;
    assert_eq!(
        rest.iter().map(|r| r.id).collect::<Vec<_>>(),
        [due[2].id, due[3].id],
        "the resumed campaign goes on where it stopped"
    );
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn a_cancel_moves_pending_rows_and_counter_together_and_late_outcomes_stay_true() -> TestResult
{
    let (db, repo) = setup().await?;
    let now = t0();
    let id = CampaignId::new();
    repo.create(id, &new_campaign("Cancel me", &emails(6))?, now)
        .await?;
    repo.start(id, now).await?;
    let due = repo.due_recipients(id, None, None, now, 10).await?;
    repo.record_outcomes(id, &[sent(due[0].id)], now).await?;

    let later = now + TimeDelta::seconds(2);
    let cancelled = repo.control(id, Control::Cancel, later).await?;
    assert_eq!(cancelled.status, CampaignStatus::Cancelled);
    assert_eq!(cancelled.completed_at, Some(later));
    assert_eq!(
        (
            cancelled.sent_emails,
            cancelled.cancelled_emails,
            cancelled.pending_emails()
        ),
        (1, 5, 0)
    );
    assert_counters_match_rows(&repo, id).await?;

    // Two messages were in flight: one delivered, one refused; a third was to be retried.
    let outcomes = [
        sent(due[1].id),
        Outcome {
            recipient_id: due[2].id,
            attempts: 1,
            kind: OutcomeKind::Failed {
                error: "550 no such user".into(),
                permanent: true,
            },
        },
        Outcome {
            recipient_id: due[3].id,
            attempts: 1,
            kind: OutcomeKind::Retry {
                at: later + TimeDelta::minutes(1),
                error: "421 try later".into(),
            },
        },
    ];
    let after = repo.record_outcomes(id, &outcomes, later).await?;
    assert_eq!(
        (
            after.sent_emails,
            after.failed_emails,
            after.cancelled_emails,
            after.pending_emails()
        ),
        (2, 1, 3, 0),
        "delivered and refused count as such; the retry stays cancelled"
    );
    assert_counters_match_rows(&repo, id).await?;
    // Recorded twice (a flush retried): counted once.
    repo.record_outcomes(id, &outcomes, later).await?;
    assert_counters_match_rows(&repo, id).await?;

    let finished = repo.finish(id, CampaignStatus::Completed, later).await?;
    assert_eq!(finished.status, CampaignStatus::Cancelled, "final");
    for control in [
        Control::Send,
        Control::Pause,
        Control::Resume,
        Control::Cancel,
    ] {
        assert!(
            matches!(
                repo.control(id, control, later).await,
                Err(RepositoryError::Conflict(_))
            ),
            "{control:?} on a cancelled campaign"
        );
    }
    assert!(matches!(
        repo.retry_failed(id, paloma_domain::RetryScope::All, later)
            .await,
        Err(RepositoryError::Conflict(_))
    ));
    assert!(matches!(
        repo.control(CampaignId::new(), Control::Cancel, later)
            .await,
        Err(RepositoryError::NotFound(_))
    ));
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn concurrent_moves_apply_one_after_the_other() -> TestResult {
    let (db, repo) = setup().await?;
    let now = t0();
    let id = CampaignId::new();
    repo.create(id, &new_campaign("Race", &emails(3))?, now)
        .await?;
    repo.start(id, now).await?;
    repo.control(id, Control::Pause, now).await?;
    let resumes =
        futures::future::join_all((0..6).map(|_| repo.control(id, Control::Resume, now))).await;
    let won = resumes.iter().filter(|r| r.is_ok()).count();
    let refused = resumes
        .iter()
        .filter(|r| matches!(r, Err(RepositoryError::Conflict(_))))
        .count();
    assert_eq!((won, refused), (1, 5), "two resumes at once: one applies");

    // A pause and a cancel at once: whichever comes first, the campaign ends cancelled.
    let (pause, cancel) = tokio::join!(
        repo.control(id, Control::Pause, now),
        repo.control(id, Control::Cancel, now)
    );
    assert!(
        cancel.is_ok(),
        "a cancel applies to pending and paused alike"
    );
    assert!(pause.is_ok() || matches!(pause, Err(RepositoryError::Conflict(_))));
    let end = repo.get(id).await?.ok_or_else(|| anyhow::anyhow!("gone"))?;
    assert_eq!(end.status, CampaignStatus::Cancelled);
    assert_eq!(end.cancelled_emails, 3);
    assert_counters_match_rows(&repo, id).await?;
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn a_scheduled_campaign_starts_only_once_due_and_can_be_moved_sent_now_or_cancelled()
-> TestResult {
    let (db, repo) = setup().await?;
    let now = t0();
    let at = now + TimeDelta::minutes(10);
    let id = CampaignId::new();
    let mut scheduled = new_campaign("Monday 9:00", &emails(2))?;
    scheduled.scheduled_at = Some(at);
    let stored = repo.create(id, &scheduled, now).await?;
    assert_eq!(
        (stored.status, stored.scheduled_at),
        (CampaignStatus::Scheduled, Some(at))
    );
    assert_eq!(
        repo.get(id).await?,
        Some(stored.clone()),
        "read back as stored"
    );
    assert!(
        repo.list_unfinished(now + TimeDelta::seconds(1), 10)
            .await?
            .contains(&id),
        "the reconciler keeps a job for it"
    );
    assert_eq!(
        repo.start(id, now).await?.status,
        CampaignStatus::Scheduled,
        "not before its time"
    );

    let later = at + TimeDelta::minutes(50);
    let moved = repo.reschedule(id, later, now).await?;
    assert_eq!(moved.scheduled_at, Some(later));
    assert_eq!(
        repo.start(id, at).await?.status,
        CampaignStatus::Scheduled,
        "the old time no longer starts it"
    );
    let started = repo.start(id, later).await?;
    assert_eq!(started.status, CampaignStatus::Processing);
    assert_eq!(started.started_at, Some(later));
    assert!(matches!(
        repo.reschedule(id, later, now).await,
        Err(RepositoryError::Conflict(_))
    ));

    // Sent now; a draft with a time ahead is released as scheduled, one whose time passed
    // is sent at once.
    let sent_now = CampaignId::new();
    repo.create(sent_now, &scheduled, now).await?;
    let sent = repo.control(sent_now, Control::Send, now).await?;
    assert_eq!(sent.status, CampaignStatus::Pending);
    let draft = CampaignId::new();
    let mut held = scheduled.clone();
    held.draft = true;
    repo.create(draft, &held, now).await?;
    assert_eq!(
        repo.control(draft, Control::Send, now).await?.status,
        CampaignStatus::Scheduled
    );
    let stale = CampaignId::new();
    repo.create(stale, &held, now).await?;
    assert_eq!(
        repo.control(stale, Control::Send, at + TimeDelta::seconds(1))
            .await?
            .status,
        CampaignStatus::Pending
    );
    let cancelled = repo.control(draft, Control::Cancel, now).await?;
    assert_eq!(
        (cancelled.status, cancelled.cancelled_emails),
        (CampaignStatus::Cancelled, 2)
    );
    assert_counters_match_rows(&repo, draft).await?;
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn failed_runs_are_counted_a_stop_says_why_and_a_retry_clears_both() -> TestResult {
    let (db, repo) = setup().await?;
    let now = t0();
    let id = CampaignId::new();
    repo.create(id, &new_campaign("Poison", &emails(2))?, now)
        .await?;
    assert_eq!(repo.count_failed_run(id).await?, 1);
    assert_eq!(repo.count_failed_run(id).await?, 2);
    assert!(matches!(
        repo.count_failed_run(CampaignId::new()).await,
        Err(RepositoryError::NotFound(_))
    ));
    let reason = "not sent: the campaign was stopped after 2 failed runs (see the worker's log)";
    let stopped = repo.abandon(id, reason, now).await?;
    assert_eq!(stopped.stop_reason.as_deref(), Some(reason));
    assert_eq!(
        repo.get(id).await?.and_then(|c| c.stop_reason).as_deref(),
        Some(reason)
    );
    assert_counters_match_rows(&repo, id).await?;

    let (retried, moved) = repo
        .retry_failed(id, paloma_domain::RetryScope::Transient, now)
        .await?;
    assert_eq!((moved, retried.stop_reason), (2, None));
    assert_eq!(repo.get(id).await?.and_then(|c| c.stop_reason), None);
    assert_eq!(repo.count_failed_run(id).await?, 1, "counted afresh");
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn an_edit_replaces_content_and_recipients_until_sending_begins_and_a_duplicate_copies_a_selection()
-> TestResult {
    use paloma_domain::{CampaignEdit, CampaignEditInput, DuplicateRecipients, RecipientInput};
    let (db, repo) = setup().await?;
    let now = t0();
    let id = CampaignId::new();
    let mut draft = new_campaign("Draft", &emails(3))?;
    draft.draft = true;
    repo.create(id, &draft, now).await?;
    let list = |emails: &[&str]| -> Option<Vec<RecipientInput>> {
        Some(emails.iter().map(|e| RecipientInput::address(*e)).collect())
    };
    let at = now + TimeDelta::hours(1);
    let edit = CampaignEdit::parse(
        CampaignEditInput {
            subject: Some("Edited".into()),
            body: Some("<p>New</p>".into()),
            recipients: list(&["x@example.org", "X@example.org", "y@example.org"]),
            scheduled_at: Some(Some(at)),
        },
        100,
        now,
    )?;
    let edited = repo.edit(id, &edit, now).await?;
    assert_eq!(edited.subject, "Edited");
    assert_eq!((edited.total_emails, edited.duplicates_removed), (2, 1));
    assert_eq!(edited.scheduled_at, Some(at));
    assert_eq!(edited.status, CampaignStatus::Draft);
    assert_eq!(repo.get_body(id).await?.as_deref(), Some("<p>New</p>"));
    let rows = repo
        .list_recipients(id, None, paloma_domain::PageRequest::default())
        .await?;
    let mut addresses: Vec<&str> = rows.items.iter().map(|r| r.email.as_str()).collect();
    addresses.sort_unstable();
    assert_eq!(addresses, ["x@example.org", "y@example.org"]);
    assert_counters_match_rows(&repo, id).await?;

    // Released as scheduled: editable, but it keeps a time; once started, not at all.
    assert_eq!(
        repo.control(id, Control::Send, now).await?.status,
        CampaignStatus::Scheduled
    );
    let clear = CampaignEdit::parse(
        CampaignEditInput {
            scheduled_at: Some(None),
            ..CampaignEditInput::default()
        },
        100,
        now,
    )?;
    assert!(matches!(
        repo.edit(id, &clear, now).await,
        Err(RepositoryError::Conflict(_))
    ));
    repo.start(id, at).await?;
    assert!(matches!(
        repo.edit(id, &edit, now).await,
        Err(RepositoryError::Conflict(_))
    ));

    // The copy: the failed ones, or the unsent ones, as a new draft.
    let due = repo.due_recipients(id, None, None, at, 10).await?;
    repo.record_outcomes(
        id,
        &[
            sent(due[0].id),
            Outcome {
                recipient_id: due[1].id,
                attempts: 1,
                kind: OutcomeKind::Failed {
                    error: "550".into(),
                    permanent: true,
                },
            },
        ],
        at,
    )
    .await?;
    let copy_id = CampaignId::new();
    let copy = repo
        .duplicate(id, copy_id, DuplicateRecipients::Failed, now)
        .await?;
    assert_eq!(
        (copy.status, copy.total_emails, copy.subject.as_str()),
        (CampaignStatus::Draft, 1, "Edited")
    );
    assert_eq!(copy.scheduled_at, None);
    assert_eq!(repo.get_body(copy_id).await?.as_deref(), Some("<p>New</p>"));
    let all = repo
        .duplicate(id, CampaignId::new(), DuplicateRecipients::All, now)
        .await?;
    assert_eq!(all.total_emails, 2);
    let sent_only = CampaignId::new();
    repo.create(sent_only, &new_campaign("Done", &emails(1))?, now)
        .await?;
    repo.start(sent_only, now).await?;
    let only = repo.due_recipients(sent_only, None, None, now, 10).await?;
    repo.record_outcomes(sent_only, &[sent(only[0].id)], now)
        .await?;
    assert!(matches!(
        repo.duplicate(
            sent_only,
            CampaignId::new(),
            DuplicateRecipients::Unsent,
            now
        )
        .await,
        Err(RepositoryError::Conflict(_))
    ));
    assert!(matches!(
        repo.duplicate(
            CampaignId::new(),
            CampaignId::new(),
            DuplicateRecipients::All,
            now
        )
        .await,
        Err(RepositoryError::NotFound(_))
    ));
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn each_sent_recipient_keeps_the_time_its_message_was_accepted_not_the_write_time()
-> TestResult {
    use paloma_domain::{PageRequest, RecipientStatus};
    let (db, repo) = setup().await?;
    let now = t0();
    let id = CampaignId::new();
    repo.create(id, &new_campaign("Timed", &emails(3))?, now)
        .await?;
    repo.start(id, now).await?;
    let due = repo.due_recipients(id, None, None, now, 10).await?;
    let accepted = [
        now + TimeDelta::milliseconds(120),
        now + TimeDelta::milliseconds(730),
    ];
    let written = now + TimeDelta::seconds(2);
    let outcomes: Vec<Outcome> = due[..2]
        .iter()
        .zip(accepted)
        .map(|(r, at)| Outcome {
            recipient_id: r.id,
            attempts: 1,
            kind: OutcomeKind::Sent { at },
        })
        .collect();
    repo.record_outcomes(id, &outcomes, written).await?;
    let rows = repo
        .list_recipients(id, Some(RecipientStatus::Sent), PageRequest::default())
        .await?;
    let mut times: Vec<_> = rows
        .items
        .iter()
        .map(|r| (r.id, r.sent_at, r.updated_at))
        .collect();
    times.sort_by_key(|(id, _, _)| *id);
    assert_eq!(
        times,
        [
            (due[0].id, Some(sent_at_of(accepted[0])), written),
            (due[1].id, Some(sent_at_of(accepted[1])), written)
        ]
    );
    assert_counters_match_rows(&repo, id).await?;
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn a_waiting_campaign_knows_how_many_come_before_it_and_a_stopped_one_its_untried()
-> TestResult {
    let (db, repo) = setup().await?;
    let now = t0();
    let ids = [CampaignId::new(), CampaignId::new(), CampaignId::new()];
    for (i, id) in ids.iter().enumerate() {
        repo.create(*id, &new_campaign("Queued", &emails(3))?, now)
            .await?;
        repo.mark_enqueued(*id, now + TimeDelta::seconds(i as i64))
            .await?;
    }
    repo.start(ids[0], now).await?;
    assert_eq!(repo.queued_ahead(ids[0]).await?, None, "it is being sent");
    assert_eq!(repo.queued_ahead(ids[1]).await?, Some(1));
    assert_eq!(repo.queued_ahead(ids[2]).await?, Some(2));
    assert_eq!(repo.queued_ahead(CampaignId::new()).await?, None);

    // One tried and failed, one retried later, one never tried: stopped.
    let due = repo.due_recipients(ids[0], None, None, now, 10).await?;
    repo.record_outcomes(
        ids[0],
        &[
            Outcome {
                recipient_id: due[0].id,
                attempts: 1,
                kind: OutcomeKind::Failed {
                    error: "550".into(),
                    permanent: true,
                },
            },
            Outcome {
                recipient_id: due[1].id,
                attempts: 1,
                kind: OutcomeKind::Retry {
                    at: now + TimeDelta::minutes(1),
                    error: "421".into(),
                },
            },
        ],
        now,
    )
    .await?;
    repo.abandon(ids[0], "stopped", now).await?;
    assert_eq!(repo.count_untried(ids[0]).await?, 1);
    db.remove().await?;
    Ok(())
}

/// A cancel while the worker starts the campaign, with addresses on the suppression list (so
/// that starting moves recipients): both take the campaign's row before its recipients, so
/// they go one after the other, never a deadlock (CI's fuzzing met one when starting moved the
/// recipients first).
#[tokio::test]
async fn a_cancel_racing_the_start_of_a_campaign_never_deadlocks() -> TestResult {
    use paloma_application::ports::SuppressionStore;
    use paloma_domain::{EmailAddress, Suppression, SuppressionReason};

    let (_db, repo) = setup().await?;
    for round in 0..20 {
        let id = CampaignId::new();
        let list: Vec<String> = (0..400)
            .map(|i| format!("r{round}-{i}@example.org"))
            .collect();
        repo.create(id, &new_campaign("Raced", &list)?, t0())
            .await?;
        // Listed after the campaign was stored: starting it marks them.
        let listed: Vec<Suppression> = list
            .iter()
            .step_by(7)
            .map(|e| {
                let email = EmailAddress::parse(e).expect("valid");
                Suppression::new(&email, SuppressionReason::Manual, None, t0())
            })
            .collect();
        repo.suppress(&listed).await?;
        let (starter, canceller) = (repo.clone(), repo.clone());
        let start = tokio::spawn(async move { starter.start(id, t0()).await });
        let cancel =
            tokio::spawn(async move { canceller.control(id, Control::Cancel, t0()).await });
        let (started, cancelled) = (start.await?, cancel.await?);
        assert!(started.is_ok(), "round {round}: start: {started:?}");
        let c = match cancelled {
            Ok(c) => c,
            Err(e) => panic!("round {round}: cancel: {e:?}"),
        };
        assert_eq!(c.status, CampaignStatus::Cancelled, "round {round}");
        let now = repo.get(id).await?.expect("stored");
        assert_eq!(
            now.cancelled_emails + now.suppressed_emails,
            400,
            "round {round}: {now:?}"
        );
    }
    Ok(())
}
