//! The shards of a campaign in MySQL: they cover every pending recipient once, a shard is
//! leased by one worker at a time (also when many race for them), a lease that runs out goes to
//! another and the old one is good for nothing, and a campaign's shards go when it ends.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use paloma_application::ports::{CampaignStore, DeliveryLedger, ShardLease, ShardLedger};
use paloma_domain::{CampaignId, CampaignStatus, Control, RecipientId};

use crate::{TestResult, emails, new_campaign, setup, t0};

const LEASE: Duration = Duration::from_secs(30);

/// A stored, started (`PROCESSING`) campaign of `n` recipients.
async fn processing(repo: &paloma_mysql::MysqlDatabase, n: usize) -> anyhow::Result<CampaignId> {
    let id = CampaignId::new();
    repo.create(id, &new_campaign("Sharded", &emails(n))?, t0())
        .await?;
    let started = repo.start(id, t0()).await?;
    anyhow::ensure!(started.status == CampaignStatus::Processing);
    Ok(id)
}

/// The recipients a lease's shard covers, due now.
async fn covered(
    repo: &paloma_mysql::MysqlDatabase,
    lease: &ShardLease,
) -> anyhow::Result<Vec<RecipientId>> {
    let shard = &lease.shard;
    let rows = repo
        .due_recipients(shard.campaign, shard.after, shard.through, t0(), 100_000)
        .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}

#[tokio::test]
async fn shards_cover_every_pending_recipient_once_and_a_second_plan_keeps_them() -> TestResult {
    let (_db, repo) = setup().await?;
    let small = processing(&repo, 100).await?;
    assert_eq!(
        repo.plan_shards(small, 100).await?,
        0,
        "not over the size: not split"
    );
    assert_eq!(repo.plan_shards(small, 0).await?, 0, "size 0: never split");
    assert_eq!(repo.open_shards(small).await?, 0);

    let id = processing(&repo, 2_345).await?;
    let started = Instant::now();
    assert_eq!(repo.plan_shards(id, 500).await?, 5);
    eprintln!(
        "planned 2,345 recipients in shards of 500 in {:?}",
        started.elapsed()
    );
    assert_eq!(
        repo.plan_shards(id, 100).await?,
        5,
        "open shards are kept as they are"
    );
    assert_eq!(repo.open_shards(id).await?, 5);

    let mut seen = HashSet::new();
    let mut sizes = Vec::new();
    let mut numbers = Vec::new();
    while let Some(lease) = repo.lease_shard(Some(id), &[], "w1", LEASE).await? {
        let ids = covered(&repo, &lease).await?;
        sizes.push(ids.len());
        numbers.push(lease.shard.number);
        for r in ids {
            assert!(seen.insert(r), "recipient {r} in two shards");
        }
        assert!(repo.finish_shard(&lease).await?);
    }
    assert_eq!(numbers, vec![0, 1, 2, 3, 4], "lowest number first");
    assert_eq!(sizes, vec![500, 500, 500, 500, 345]);
    assert_eq!(seen.len(), 2_345, "every pending recipient is in a shard");
    assert_eq!(repo.open_shards(id).await?, 0);
    // Every shard done: a new plan splits what is pending anew (e.g. after a retry).
    assert_eq!(repo.plan_shards(id, 1_000).await?, 3);
    Ok(())
}

#[tokio::test]
async fn a_hundred_thousand_recipients_are_planned_quickly() -> TestResult {
    let (_db, repo) = setup().await?;
    let id = processing(&repo, 100_000).await?;
    let started = Instant::now();
    assert_eq!(repo.plan_shards(id, 1_000).await?, 100);
    eprintln!(
        "planned 100,000 recipients in shards of 1,000 in {} ms",
        started.elapsed().as_millis()
    );
    let last = repo
        .lease_shard(Some(id), &[], "w", LEASE)
        .await?
        .expect("a shard");
    assert_eq!(covered(&repo, &last).await?.len(), 1_000);
    Ok(())
}

#[tokio::test]
async fn workers_racing_for_shards_never_get_the_same_one() -> TestResult {
    let (_db, repo) = setup().await?;
    let id = processing(&repo, 2_000).await?;
    assert_eq!(repo.plan_shards(id, 100).await?, 20);
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let repo = repo.clone();
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(lease) = repo
                .lease_shard(None, &[], &format!("worker-{worker}"), LEASE)
                .await?
            {
                got.push(lease.shard.number);
            }
            anyhow::Ok(got)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    all.sort_unstable();
    assert_eq!(
        all,
        (0..20).collect::<Vec<u32>>(),
        "each shard leased exactly once"
    );
    Ok(())
}

#[tokio::test]
async fn a_lease_that_ran_out_goes_to_another_and_the_old_one_is_good_for_nothing() -> TestResult {
    let (_db, repo) = setup().await?;
    let id = processing(&repo, 300).await?;
    assert_eq!(repo.plan_shards(id, 100).await?, 3);
    let short = Duration::from_millis(300);
    let first = repo
        .lease_shard(Some(id), &[], "a", short)
        .await?
        .expect("shard 0");
    assert_eq!(first.shard.number, 0);
    // Renewed twice at once: both say it is still ours.
    assert!(repo.renew_shard(&first, short).await?);
    assert!(repo.renew_shard(&first, short).await?);
    // While it lasts, the next one is another shard.
    let second = repo
        .lease_shard(Some(id), &[], "b", LEASE)
        .await?
        .expect("shard 1");
    assert_eq!(second.shard.number, 1);

    tokio::time::sleep(Duration::from_millis(500)).await;
    let taken_over = repo
        .lease_shard(Some(id), &[], "b", LEASE)
        .await?
        .expect("shard 0 again");
    assert_eq!(
        taken_over.shard.number, 0,
        "the lease ran out: shard 0 is free again"
    );
    assert_ne!(taken_over.token, first.token);
    assert!(
        !repo.renew_shard(&first, LEASE).await?,
        "the old lease cannot be renewed"
    );
    assert!(!repo.finish_shard(&first).await?, "nor finish the shard");
    repo.release_shard(&first).await?;
    assert!(
        repo.renew_shard(&taken_over, LEASE).await?,
        "nor take it from the new holder"
    );

    // Given up: free at once for anyone.
    repo.release_shard(&second).await?;
    let again = repo
        .lease_shard(Some(id), &[], "c", LEASE)
        .await?
        .expect("shard 1 again");
    assert_eq!(again.shard.number, 1);
    assert!(!repo.renew_shard(&second, LEASE).await?);
    Ok(())
}

#[tokio::test]
async fn only_shards_of_processing_campaigns_outside_except_are_leased() -> TestResult {
    let (_db, repo) = setup().await?;
    let (a, b) = (processing(&repo, 300).await?, processing(&repo, 300).await?);
    assert_eq!(repo.plan_shards(a, 100).await?, 3);
    assert_eq!(repo.plan_shards(b, 100).await?, 3);

    let lease = repo
        .lease_shard(None, &[a], "w", LEASE)
        .await?
        .expect("a shard of b");
    assert_eq!(lease.shard.campaign, b);
    let lease = repo
        .lease_shard(Some(a), &[], "w", LEASE)
        .await?
        .expect("a shard of a");
    assert_eq!(lease.shard.campaign, a);

    repo.control(a, Control::Pause, t0()).await?;
    for _ in 0..3 {
        if let Some(lease) = repo.lease_shard(None, &[], "w", LEASE).await? {
            assert_eq!(
                lease.shard.campaign, b,
                "a paused campaign's shards are not leased"
            );
        }
    }
    assert!(repo.lease_shard(None, &[], "w", LEASE).await?.is_none());
    assert_eq!(repo.open_shards(a).await?, 3, "a pause keeps the shards");
    Ok(())
}

#[tokio::test]
async fn a_campaign_that_ends_keeps_no_shards() -> TestResult {
    let (_db, repo) = setup().await?;
    let cancelled = processing(&repo, 300).await?;
    let abandoned = processing(&repo, 300).await?;
    let finished = processing(&repo, 300).await?;
    for id in [cancelled, abandoned, finished] {
        assert_eq!(repo.plan_shards(id, 100).await?, 3);
    }
    repo.control(cancelled, Control::Cancel, t0()).await?;
    repo.abandon(abandoned, "stopped", t0()).await?;
    // Every recipient sent, then finished.
    let rows = repo
        .due_recipients(finished, None, None, t0(), 1_000)
        .await?;
    let outcomes: Vec<paloma_domain::Outcome> = rows
        .iter()
        .map(|r| paloma_domain::Outcome {
            recipient_id: r.id,
            attempts: 1,
            kind: paloma_domain::OutcomeKind::Sent { at: t0() },
        })
        .collect();
    repo.record_outcomes(finished, &outcomes, t0()).await?;
    repo.finish(finished, CampaignStatus::Completed, t0())
        .await?;
    for id in [cancelled, abandoned, finished] {
        assert_eq!(repo.open_shards(id).await?, 0, "{id}");
        assert!(repo.lease_shard(Some(id), &[], "w", LEASE).await?.is_none());
    }
    Ok(())
}

/// Large campaigns started at the same moment by different workers are split side by side,
/// never in a deadlock (their shards' rows would land in one gap of an empty table).
#[tokio::test]
async fn campaigns_split_at_the_same_moment_never_deadlock() -> TestResult {
    let (_db, repo) = setup().await?;
    for round in 0..5 {
        let mut ids = Vec::new();
        for _ in 0..6 {
            ids.push(processing(&repo, 300).await?);
        }
        let planners: Vec<_> = ids
            .iter()
            .map(|id| {
                let (repo, id) = (repo.clone(), *id);
                tokio::spawn(async move { repo.plan_shards(id, 50).await })
            })
            .collect();
        for planner in planners {
            let planned = planner.await?;
            assert!(matches!(planned, Ok(6)), "round {round}: {planned:?}");
        }
    }
    Ok(())
}
