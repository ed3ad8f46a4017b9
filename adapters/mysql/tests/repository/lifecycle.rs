//! A campaign's life after it is posted, in MySQL: a draft is stored held, is never started nor
//! swept up by the reconciler's query, and is released once; a finished campaign's failed
//! recipients go back to `PENDING` with their counters; the audit trail keeps every entry in
//! order.

use chrono::TimeDelta;
use paloma_application::ports::{ActivityLog, CampaignStore, DeliveryLedger, RepositoryError};
use paloma_domain::{
    Action, Activity, Actor, CampaignFilter, CampaignId, CampaignStatus, Control, Outcome,
    OutcomeKind, PageRequest, RecipientStatus, RetryScope, Scopes,
};

use crate::{TestResult, assert_counters_match_rows, emails, new_campaign, setup, t0};

#[tokio::test]
async fn a_draft_is_held_until_released_once() -> TestResult {
    let (db, repo) = setup().await?;
    let now = t0();
    let id = CampaignId::new();
    let mut draft = new_campaign("Held", &emails(3))?;
    draft.draft = true;
    let stored = repo
        .create(id, &draft, now - TimeDelta::minutes(10))
        .await?;
    assert_eq!(stored.status, CampaignStatus::Draft);
    assert_eq!(
        repo.get(id).await?.map(|c| c.status),
        Some(CampaignStatus::Draft)
    );

    assert!(
        repo.list_unfinished(now, 10).await?.is_empty(),
        "the reconciler never enqueues a draft"
    );
    let started = repo.start(id, now).await?;
    assert_eq!(
        started.status,
        CampaignStatus::Draft,
        "a worker cannot start a draft"
    );
    assert_eq!(started.started_at, None);

    let released = repo.control(id, Control::Send, now).await?;
    assert_eq!(released.status, CampaignStatus::Pending);
    assert_eq!(released.total_emails, 3);
    assert_eq!(repo.list_unfinished(now, 10).await?, [id]);
    assert!(
        matches!(
            repo.control(id, Control::Send, now).await,
            Err(RepositoryError::Conflict(_))
        ),
        "released once"
    );
    let missing = CampaignId::new();
    assert!(matches!(
        repo.control(missing, Control::Send, now).await,
        Err(RepositoryError::NotFound(m)) if m == missing
    ));
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn concurrent_sends_of_one_draft_release_it_once() -> TestResult {
    let (db, repo) = setup().await?;
    let now = t0();
    let id = CampaignId::new();
    let mut draft = new_campaign("Race", &emails(1))?;
    draft.draft = true;
    repo.create(id, &draft, now).await?;
    let attempts =
        futures::future::join_all((0..8).map(|_| repo.control(id, Control::Send, now))).await;
    let released = attempts.iter().filter(|a| a.is_ok()).count();
    let refused = attempts
        .iter()
        .filter(|a| matches!(a, Err(RepositoryError::Conflict(_))))
        .count();
    assert_eq!((released, refused), (1, 7), "{attempts:?}");
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn the_audit_trail_lists_a_campaigns_entries_oldest_first_in_pages() -> TestResult {
    let (db, repo) = setup().await?;
    let now = t0();
    let campaign = CampaignId::new();
    let other = CampaignId::new();
    let mut actor = Actor::cli();
    actor.client_address = Some("2001:db8::7".parse()?);
    let key = paloma_domain::ApiKey {
        id: paloma_domain::KeyId::new(),
        name: paloma_domain::KeyName::parse("Ana's laptop")?,
        prefix: "pal_abcdefgh".into(),
        scopes: Scopes::all(),
        created_at: now,
        revoked_at: None,
    };
    let sender = Actor::key(&key, Some("192.0.2.9".parse()?));
    let entries = [
        Activity::new(Action::CampaignCreated, Some(campaign), &actor, now),
        Activity::new(Action::KeyCreated, None, &actor, now),
        Activity::new(Action::CampaignCreated, Some(other), &actor, now),
        Activity::new(
            Action::CampaignSent,
            Some(campaign),
            &sender,
            now + TimeDelta::seconds(5),
        ),
    ];
    // Stored out of order: the listing orders by time.
    for entry in entries.iter().rev() {
        repo.record(entry).await?;
    }
    let page = repo
        .campaign_activity(campaign, PageRequest::parse(Some(1), Some(10))?)
        .await?;
    assert_eq!(page.total, 2);
    assert_eq!(page.items, [entries[0].clone(), entries[3].clone()]);
    assert_eq!(page.items[1].key_id, Some(key.id));
    assert_eq!(page.items[1].key_name, "Ana's laptop");
    assert_eq!(page.items[1].client_address.as_deref(), Some("192.0.2.9"));
    assert_eq!(page.items[0].client_address.as_deref(), Some("2001:db8::7"));

    let second = repo
        .campaign_activity(campaign, PageRequest::parse(Some(2), Some(1))?)
        .await?;
    assert_eq!((second.total, second.items.len()), (2, 1));
    assert_eq!(second.items[0].action, Action::CampaignSent);
    assert!(
        repo.campaign_activity(CampaignId::new(), PageRequest::default())
            .await?
            .items
            .is_empty()
    );
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn retrying_the_failed_moves_rows_and_counters_together_and_only_when_finished() -> TestResult
{
    let (db, repo) = setup().await?;
    let now = t0();
    let id = CampaignId::new();
    repo.create(id, &new_campaign("Retry", &emails(5))?, now)
        .await?;
    assert!(
        matches!(
            repo.retry_failed(id, RetryScope::All, now).await,
            Err(RepositoryError::Conflict(_))
        ),
        "not before it has finished"
    );
    repo.start(id, now).await?;
    let due = repo.due_recipients(id, None, None, now, 10).await?;
    let failed = |i: usize, permanent: bool| Outcome {
        recipient_id: due[i].id,
        attempts: 3,
        kind: OutcomeKind::Failed {
            error: format!("failure {i}"),
            permanent,
        },
    };
    let outcomes = [
        Outcome {
            recipient_id: due[0].id,
            attempts: 1,
            kind: OutcomeKind::Sent { at: now },
        },
        failed(1, true),
        failed(2, false),
        failed(3, false),
    ];
    repo.record_outcomes(id, &outcomes, now).await?;
    // The last one was never tried: the campaign was stopped.
    let stopped = repo.abandon(id, "stopped: too many failures", now).await?;
    assert_eq!(stopped.status, CampaignStatus::Failed);
    assert_eq!((stopped.sent_emails, stopped.failed_emails), (1, 4));

    let later = now + TimeDelta::seconds(5);
    let (campaign, moved) = repo.retry_failed(id, RetryScope::Transient, later).await?;
    assert_eq!(
        moved, 3,
        "two given up on, one never tried; not the refused one"
    );
    assert_eq!(campaign.status, CampaignStatus::Pending);
    assert_eq!(campaign.completed_at, None);
    assert_eq!(campaign.updated_at, later);
    assert_eq!(
        (
            campaign.sent_emails,
            campaign.failed_emails,
            campaign.pending_emails()
        ),
        (1, 1, 3)
    );
    assert_counters_match_rows(&repo, id).await?;
    let again = repo.due_recipients(id, None, None, later, 10).await?;
    assert_eq!(
        again.iter().map(|r| r.id).collect::<Vec<_>>(),
        [due[2].id, due[3].id, due[4].id]
    );
    assert!(again.iter().all(|r| r.attempts == 0 && r.error.is_none()));
    assert!(
        repo.list_unfinished(later + TimeDelta::seconds(1), 10)
            .await?
            .contains(&id),
        "a retried campaign is unfinished again"
    );

    // Sent again and finished; then everything else, the refusal too.
    repo.start(id, later).await?;
    let sent: Vec<Outcome> = again
        .iter()
        .map(|r| Outcome {
            recipient_id: r.id,
            attempts: 1,
            kind: OutcomeKind::Sent { at: now },
        })
        .collect();
    repo.record_outcomes(id, &sent, later).await?;
    repo.finish(id, CampaignStatus::Completed, later).await?;
    let (campaign, moved) = repo.retry_failed(id, RetryScope::All, later).await?;
    assert_eq!(moved, 1);
    assert_eq!((campaign.sent_emails, campaign.failed_emails), (4, 0));
    let refused = repo
        .list_recipients(id, Some(RecipientStatus::Pending), PageRequest::default())
        .await?;
    assert_eq!(refused.items.len(), 1);
    assert_eq!(refused.items[0].id, due[1].id);
    assert_counters_match_rows(&repo, id).await?;

    // Nothing failed: nothing moves, the campaign is left as it is.
    repo.start(id, later).await?;
    repo.record_outcomes(
        id,
        &[Outcome {
            recipient_id: due[1].id,
            attempts: 1,
            kind: OutcomeKind::Sent { at: now },
        }],
        later,
    )
    .await?;
    let finished = repo.finish(id, CampaignStatus::Completed, later).await?;
    let (unchanged, moved) = repo.retry_failed(id, RetryScope::All, later).await?;
    assert_eq!((moved, unchanged), (0, finished));
    assert!(matches!(
        repo.retry_failed(CampaignId::new(), RetryScope::All, now)
            .await,
        Err(RepositoryError::NotFound(_))
    ));
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn the_listing_filters_by_status_and_subject_text_taken_literally() -> TestResult {
    let (db, repo) = setup().await?;
    let now = t0();
    let mut ids = Vec::new();
    for (i, (subject, draft)) in [
        ("Spring news", false),
        ("spring SALE", true),
        ("100% off_now", false),
        ("Autumn news", true),
        ("100 percent offXnow", false),
    ]
    .into_iter()
    .enumerate()
    {
        let id = CampaignId::new();
        let mut campaign = new_campaign(subject, &emails(1))?;
        campaign.draft = draft;
        repo.create(id, &campaign, now + TimeDelta::seconds(i as i64))
            .await?;
        ids.push(id);
    }
    let list = |status: Option<CampaignStatus>, q: Option<&'static str>| {
        let repo = repo.clone();
        async move {
            let filter = CampaignFilter::new(status, q)?;
            let page = repo.list(&filter, PageRequest::default()).await?;
            anyhow::Ok((
                page.total,
                page.items.iter().map(|c| c.id).collect::<Vec<_>>(),
            ))
        }
    };
    assert_eq!(list(None, None).await?.0, 5);
    assert_eq!(
        list(Some(CampaignStatus::Draft), None).await?,
        (2, vec![ids[3], ids[1]]),
        "newest first"
    );
    assert_eq!(list(None, Some("SPRING")).await?, (2, vec![ids[1], ids[0]]));
    assert_eq!(
        list(Some(CampaignStatus::Pending), Some("news")).await?,
        (1, vec![ids[0]])
    );
    assert_eq!(
        list(None, Some("0% off_")).await?,
        (1, vec![ids[2]]),
        "% and _ are the characters themselves"
    );
    assert_eq!(list(None, Some("nothing like it")).await?, (0, vec![]));
    assert_eq!(repo.count_active().await?, 3, "the drafts do not move");
    repo.start(ids[0], now).await?;
    assert_eq!(repo.count_active().await?, 3, "processing counts too");
    db.remove().await?;
    Ok(())
}
