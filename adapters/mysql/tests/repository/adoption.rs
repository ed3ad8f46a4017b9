//! The migrations adopt a database they did not create, keeping its rows: one that the seeds'
//! Node stack made (`interop/seed-schema.sql`) and one that Paloma made before ids were text.
//! Afterwards both stacks' writes read correctly through the ports.

use chrono::{TimeDelta, Utc};
use paloma_application::ports::{CampaignStore, Created, DeliveryLedger};
use paloma_domain::{
    CampaignId, CampaignStatus, Idempotency, IdempotencyKey, PageRequest, RecipientStatus,
    RequestFingerprint,
};
use paloma_mysql::testing::{empty_database, execute_script};
use paloma_mysql::{MysqlDatabase, run_migrations};
use uuid::Uuid;

use crate::{TestResult, emails, migration_count, new_campaign, t0};

const SEED_SCHEMA: &str = include_str!("../../../../interop/seed-schema.sql");
const PALOMA_2026_11_23: &str = include_str!("../fixtures/paloma-2026-11-23.sql");

/// A Node-created database with two campaigns in it, written as the seeds' API and worker
/// write: only the seed's columns, v4 ids, the worker's outcomes without `sentAt` or
/// `attempts`. The older campaign has the larger id, so id order is not creation order.
fn node_rows(older: Uuid, newer: Uuid) -> String {
    format!(
        "INSERT INTO EmailJob (id, subject, body, totalEmails, createdAt) VALUES \
           ('{older}', 'Older, done', '<p>a</p>', 2, '2026-11-01 10:00:00.000'), \
           ('{newer}', 'Newer, half sent', '<p>b</p>', 3, '2026-11-02 10:00:00.000');
         INSERT INTO Recipient (id, email, emailJobId) VALUES \
           ('{r1}', 'one@example.org', '{older}'), ('{r2}', 'two@example.org', '{older}'), \
           ('{r3}', 'three@example.org', '{newer}'), ('{r4}', 'four@example.org', '{newer}'), \
           ('{r5}', 'five@example.org', '{newer}');
         UPDATE Recipient SET status = 'SENT' WHERE emailJobId = '{older}';
         UPDATE EmailJob SET status = 'COMPLETED', sentEmails = 2, \
           completedAt = '2026-11-01 10:05:00.000' WHERE id = '{older}';
         UPDATE Recipient SET status = 'SENT' WHERE id = '{r3}';
         UPDATE Recipient SET status = 'FAILED', error = '550 5.1.1 no such user' WHERE id = '{r4}';
         UPDATE EmailJob SET status = 'PROCESSING', sentEmails = 1, failedEmails = 1 \
           WHERE id = '{newer}';",
        r1 = Uuid::new_v4(),
        r2 = Uuid::new_v4(),
        r3 = Uuid::new_v4(),
        r4 = Uuid::new_v4(),
        r5 = Uuid::new_v4(),
    )
}

#[tokio::test]
async fn a_database_the_node_stack_created_is_adopted_with_its_rows() -> TestResult {
    let db = empty_database().await?;
    execute_script(&db.url, SEED_SCHEMA).await?;
    // v4 ids, the older campaign's sorting after the newer's.
    let older = Uuid::parse_str("f0000000-0000-4000-8000-000000000001")?;
    let newer = Uuid::parse_str("10000000-0000-4000-8000-000000000002")?;
    execute_script(&db.url, &node_rows(older, newer)).await?;

    assert_eq!(
        run_migrations(&db.url).await?,
        migration_count()?,
        "every migration ran"
    );
    let repo = MysqlDatabase::connect(&db.url, 2)?;

    // Newest first by creation time, not by id.
    let page = repo
        .list(
            &paloma_domain::CampaignFilter::default(),
            PageRequest::default(),
        )
        .await?;
    let listed: Vec<_> = page.items.iter().map(|c| *c.id.as_uuid()).collect();
    assert_eq!(listed, vec![newer, older]);
    let done = &page.items[1];
    assert_eq!(done.status, CampaignStatus::Completed);
    assert_eq!(
        (done.total_emails, done.sent_emails, done.failed_emails),
        (2, 2, 0)
    );
    assert_eq!(done.pending_emails(), 0);
    assert_eq!(
        done.updated_at,
        done.completed_at.expect("completedAt kept")
    );

    let half = repo
        .get(CampaignId::from_uuid(newer))
        .await?
        .expect("the newer campaign");
    assert_eq!(half.status, CampaignStatus::Processing);
    assert_eq!(
        (half.total_emails, half.sent_emails, half.failed_emails),
        (3, 1, 1)
    );
    assert_eq!(half.pending_emails(), 1);
    assert_eq!(half.started_at, None);
    assert_eq!(
        half.updated_at, half.created_at,
        "updatedAt starts at createdAt"
    );

    let id = CampaignId::from_uuid(newer);
    let failed = repo
        .list_recipients(id, Some(RecipientStatus::Failed), PageRequest::default())
        .await?;
    assert_eq!(failed.total, 1);
    assert_eq!(failed.items[0].email, "four@example.org");
    assert_eq!(
        failed.items[0].error.as_deref(),
        Some("550 5.1.1 no such user")
    );
    assert_eq!(failed.items[0].attempts, 0);
    let all = repo
        .list_recipients(id, None, PageRequest::default())
        .await?;
    assert_eq!(all.items.len(), 3);

    // The pending recipient is due now, and a Paloma worker would take it.
    let due = repo.due_recipients(id, None, None, Utc::now(), 10).await?;
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].email, "five@example.org");

    // The timeline counts the Node worker's outcomes (no sentAt: their updatedAt).
    let timeline = repo.timeline(id, 60).await?;
    let sent: u64 = timeline.iter().map(|p| p.sent).sum();
    let failed: u64 = timeline.iter().map(|p| p.failed).sum();
    assert_eq!((sent, failed), (1, 1));
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn after_adoption_a_seed_style_insert_and_update_read_correctly() -> TestResult {
    let db = empty_database().await?;
    execute_script(&db.url, SEED_SCHEMA).await?;
    run_migrations(&db.url).await?;
    let repo = MysqlDatabase::connect(&db.url, 2)?;

    // The Node API's insert names only the seed's columns; the defaults do the rest.
    let job = Uuid::new_v4();
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    execute_script(
        &db.url,
        &format!(
            "INSERT INTO EmailJob (id, subject, body, totalEmails) VALUES ('{job}', 'Hi', '<p>x</p>', 2);
             INSERT INTO Recipient (id, email, emailJobId) VALUES ('{a}', 'a@example.org', '{job}'), \
               ('{b}', 'b@example.org', '{job}');"
        ),
    )
    .await?;
    let id = CampaignId::from_uuid(job);
    let stored = repo.get(id).await?.expect("the Node campaign");
    assert_eq!(stored.status, CampaignStatus::Pending);
    assert_eq!(
        (
            stored.total_emails,
            stored.sent_emails,
            stored.failed_emails
        ),
        (2, 0, 0)
    );
    let age = Utc::now() - stored.created_at;
    assert!(
        age < TimeDelta::minutes(1),
        "createdAt defaults to now (UTC): {age}"
    );

    // The Node worker's update names neither sentAt nor updatedAt: updatedAt follows anyway, so
    // the outcome lands in the timeline's current bucket.
    execute_script(
        &db.url,
        &format!(
            "UPDATE Recipient SET status = 'SENT' WHERE id = '{a}';
             UPDATE EmailJob SET sentEmails = sentEmails + 1 WHERE id = '{job}';"
        ),
    )
    .await?;
    let timeline = repo.timeline(id, 3_600).await?;
    assert_eq!(timeline.len(), 1);
    assert_eq!(timeline[0].sent, 1);
    assert!(
        Utc::now() - timeline[0].at < TimeDelta::hours(1),
        "{timeline:?}"
    );
    let sent = repo
        .list_recipients(id, Some(RecipientStatus::Sent), PageRequest::default())
        .await?;
    assert_eq!(sent.items[0].sent_at, None);

    // Paloma's own campaigns in the same tables: v7 ids, stored as the same text.
    let ours = CampaignId::new();
    repo.create(ours, &new_campaign("Ours", &emails(3))?, t0())
        .await?;
    let page = repo
        .list(
            &paloma_domain::CampaignFilter::default(),
            PageRequest::default(),
        )
        .await?;
    assert_eq!(page.total, 2);
    assert_eq!(page.items[0].id, ours, "the newest first");
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn a_database_paloma_made_with_binary_ids_is_converted_with_its_rows() -> TestResult {
    let db = empty_database().await?;
    execute_script(&db.url, PALOMA_2026_11_23).await?;
    let job = Uuid::now_v7();
    let recipient = Uuid::now_v7();
    let hex = |u: Uuid| format!("0x{}", u.simple());
    execute_script(
        &db.url,
        &format!(
            "INSERT INTO EmailJob (id, subject, body, status, totalEmails, createdAt, updatedAt) \
               VALUES ({j}, 'Before', '<p>b</p>', 'PENDING', 1, NOW(3), NOW(3));
             INSERT INTO Recipient (id, emailJobId, email, name, status, nextAttemptAt, updatedAt) \
               VALUES ({r}, {j}, 'kept@example.org', 'Kept', 'PENDING', NOW(3), NOW(3));
             INSERT INTO IdempotencyKey (`key`, fingerprint, emailJobId, createdAt) \
               VALUES ('retry-1', REPEAT(CHAR(7), 32), {j}, NOW(3));",
            j = hex(job),
            r = hex(recipient),
        ),
    )
    .await?;

    assert_eq!(
        run_migrations(&db.url).await?,
        migration_count()? - 2,
        "every migration but the two it had run"
    );
    let repo = MysqlDatabase::connect(&db.url, 2)?;
    let id = CampaignId::from_uuid(job);
    let campaign = repo
        .get(id)
        .await?
        .expect("the campaign, under the same id");
    assert_eq!(
        (campaign.subject.as_str(), campaign.total_emails),
        ("Before", 1)
    );
    let recipients = repo
        .list_recipients(id, None, PageRequest::default())
        .await?;
    assert_eq!(recipients.items.len(), 1);
    assert_eq!(*recipients.items[0].id.as_uuid(), recipient);
    assert_eq!(recipients.items[0].name.as_deref(), Some("Kept"));

    // The idempotency key still names its campaign.
    let retry = Idempotency {
        key: IdempotencyKey::parse("retry-1")?,
        fingerprint: RequestFingerprint::from_bytes([7; 32]),
    };
    let again = repo
        .create_idempotent(
            CampaignId::new(),
            &new_campaign("Again", &emails(1))?,
            &retry,
            t0(),
        )
        .await?;
    assert!(
        matches!(again, Created::KeyTaken { campaign_id, .. } if campaign_id == id),
        "{again:?}"
    );
    db.remove().await?;
    Ok(())
}
