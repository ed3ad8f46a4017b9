//! The suppression list in MySQL: idempotent adds that keep the first entry, removal, a
//! newest-first listing with a literal substring search, and batched lookups.

use chrono::TimeDelta;
use paloma_application::ports::SuppressionStore;
use paloma_domain::{CampaignId, EmailAddress, PageRequest, Suppression, SuppressionReason};

use crate::{TestResult, setup, t0};

fn entry(email: &str, reason: SuppressionReason, at: TimeDelta) -> Suppression {
    let email = EmailAddress::parse(email).expect("valid address");
    let campaign = (reason == SuppressionReason::Unsubscribed).then(CampaignId::new);
    Suppression::new(&email, reason, campaign, t0() + at)
}

#[tokio::test]
async fn adding_keeps_the_first_entry_and_counts_only_new_addresses() -> TestResult {
    let (db, repo) = setup().await?;
    let first = entry(
        "Ada@Example.org",
        SuppressionReason::Unsubscribed,
        TimeDelta::zero(),
    );
    assert_eq!(repo.suppress(std::slice::from_ref(&first)).await?, 1);
    let again = [
        entry(
            "ada@example.org",
            SuppressionReason::Manual,
            TimeDelta::seconds(1),
        ),
        entry(
            "grace@example.org",
            SuppressionReason::HardBounce,
            TimeDelta::seconds(1),
        ),
        entry(
            "GRACE@example.org",
            SuppressionReason::Manual,
            TimeDelta::seconds(1),
        ),
    ];
    assert_eq!(repo.suppress(&again).await?, 1, "only grace is new");
    assert_eq!(repo.suppress(&[]).await?, 0);

    let page = repo
        .list_suppressions(Some("ADA"), PageRequest::default())
        .await?;
    assert_eq!(page.total, 1);
    assert_eq!(page.items, vec![first], "the first entry stays, lowercased");

    assert!(repo.unsuppress("ADA@example.org").await?);
    assert!(!repo.unsuppress("ada@example.org").await?, "gone already");
    assert_eq!(
        repo.list_suppressions(None, PageRequest::default())
            .await?
            .total,
        1
    );
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn the_listing_is_newest_first_paginated_and_searches_literally() -> TestResult {
    let (db, repo) = setup().await?;
    let entries: Vec<Suppression> = (0..5)
        .map(|i| {
            entry(
                &format!("user{i}@example.org"),
                SuppressionReason::Manual,
                TimeDelta::seconds(i),
            )
        })
        .chain([entry(
            "under_score@example.org",
            SuppressionReason::Manual,
            TimeDelta::seconds(9),
        )])
        .collect();
    assert_eq!(repo.suppress(&entries).await?, 6);

    let first = repo
        .list_suppressions(None, PageRequest::new(Some(1), Some(4)))
        .await?;
    assert_eq!(first.total, 6);
    let emails: Vec<&str> = first.items.iter().map(|e| e.email.as_str()).collect();
    assert_eq!(
        emails,
        [
            "under_score@example.org",
            "user4@example.org",
            "user3@example.org",
            "user2@example.org"
        ]
    );
    let second = repo
        .list_suppressions(None, PageRequest::new(Some(2), Some(4)))
        .await?;
    assert_eq!(second.items.len(), 2);

    // `_` and `%` are literal: `user_@` (a wildcard would match all five) and `%` match nothing.
    for (search, total) in [("user_@", 0), ("%", 0), ("_", 1), ("USER", 5), ("user3", 1)] {
        let page = repo
            .list_suppressions(Some(search), PageRequest::default())
            .await?;
        assert_eq!(page.total, total, "search {search:?}");
    }
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn suppressed_among_answers_in_batches_ignoring_case() -> TestResult {
    let (db, repo) = setup().await?;
    let listed: Vec<Suppression> = (0..1_500)
        .step_by(3)
        .map(|i| {
            entry(
                &format!("u{i}@example.org"),
                SuppressionReason::Manual,
                TimeDelta::zero(),
            )
        })
        .collect();
    assert_eq!(repo.suppress(&listed).await?, 500);
    let asked: Vec<String> = (0..2_500).map(|i| format!("U{i}@Example.org")).collect();
    let found = repo.suppressed_among(&asked).await?;
    assert_eq!(found.len(), 500);
    assert!(found.contains("u0@example.org") && found.contains("u1497@example.org"));
    assert!(!found.contains("u1@example.org"));
    assert!(repo.suppressed_among(&[]).await?.is_empty());
    db.remove().await?;
    Ok(())
}
