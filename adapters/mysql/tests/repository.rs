//! The repository against a real MySQL / MariaDB (`TEST_MYSQL_URL`, default
//! `mysql://root@127.0.0.1:3306`): every test gets its own fresh, migrated database.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use paloma_application::ports::{CampaignStore, DeliveryLedger, RepositoryError};
use paloma_domain::{
    CampaignId, CampaignStatus, NewCampaign, NewCampaignInput, Outcome, OutcomeKind, PageRequest,
    RecipientId, RecipientInput, RecipientStatus,
};
use paloma_mysql::testing::{TestDatabase, database_url, fresh_database, test_server_url};
use paloma_mysql::{MysqlDatabase, create_database_if_missing, run_migrations};

#[path = "repository/adoption.rs"]
mod adoption;
#[path = "repository/control.rs"]
mod control;
#[path = "repository/keys.rs"]
mod keys;
#[path = "repository/lifecycle.rs"]
mod lifecycle;
#[path = "repository/shards.rs"]
mod shards;
#[path = "repository/suppressions.rs"]
mod suppressions;

type TestResult = anyhow::Result<()>;

/// `t` cut to the 100 ms with which a message's acceptance time is kept as its `sentAt`.
fn sent_at_of(t: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::DurationRound;
    t.duration_trunc(TimeDelta::milliseconds(100)).unwrap_or(t)
}

/// A time with millisecond precision, as the database keeps it.
fn t0() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

async fn setup() -> anyhow::Result<(TestDatabase, MysqlDatabase)> {
    let db = fresh_database().await?;
    let repo = MysqlDatabase::connect(&db.url, 4)?;
    Ok((db, repo))
}

fn new_campaign(subject: &str, emails: &[String]) -> anyhow::Result<NewCampaign> {
    let input = NewCampaignInput {
        subject: subject.to_owned(),
        body: format!("<p>{subject}</p>"),
        recipients: emails
            .iter()
            .enumerate()
            .map(|(i, e)| RecipientInput {
                email: e.clone(),
                name: (i % 2 == 0).then(|| format!("Person {i}")),
                fields: if i % 3 == 0 {
                    vec![
                        ("n".to_owned(), i.to_string()),
                        ("tier".to_owned(), "gold".to_owned()),
                    ]
                } else {
                    Vec::new()
                },
            })
            .collect(),
        scheduled_at: None,
        from: None,
        reply_to: None,
    };
    Ok(NewCampaign::parse(input, 100_000, chrono::Utc::now())?)
}

fn emails(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("user{i}@example.org")).collect()
}

#[derive(QueryableByName)]
struct StatusCount {
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// `(pending, sent, failed)` counted over the recipient rows themselves.
/// The campaign's recipients counted by status: pending, sent, failed, cancelled.
async fn status_counts(
    repo: &MysqlDatabase,
    id: CampaignId,
) -> anyhow::Result<(u32, u32, u32, u32)> {
    let mut conn = repo.pool().get().await?;
    let rows: Vec<StatusCount> = diesel::sql_query(
        "SELECT status, COUNT(*) AS n FROM Recipient WHERE emailJobId = ? GROUP BY status",
    )
    .bind::<Text, _>(id.to_string())
    .load(&mut *conn)
    .await?;
    let mut counts = (0, 0, 0, 0);
    for r in rows {
        let n = u32::try_from(r.n)?;
        match r.status.as_str() {
            "PENDING" => counts.0 = n,
            "SENT" => counts.1 = n,
            "FAILED" => counts.2 = n,
            "CANCELLED" => counts.3 = n,
            other => anyhow::bail!("unexpected status {other}"),
        }
    }
    Ok(counts)
}

/// The campaign's recipients counted by status: pending, sent, failed (none may be cancelled).
async fn row_counts(repo: &MysqlDatabase, id: CampaignId) -> anyhow::Result<(u32, u32, u32)> {
    let (pending, sent, failed, cancelled) = status_counts(repo, id).await?;
    anyhow::ensure!(cancelled == 0, "{cancelled} recipients cancelled");
    Ok((pending, sent, failed))
}

/// Asserts that the campaign's counters equal its rows.
async fn assert_counters_match_rows(repo: &MysqlDatabase, id: CampaignId) -> TestResult {
    let c = repo
        .get(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("campaign missing"))?;
    let rows = status_counts(repo, id).await?;
    assert_eq!(
        (
            c.pending_emails(),
            c.sent_emails,
            c.failed_emails,
            c.cancelled_emails
        ),
        rows
    );
    assert_eq!(rows.0 + rows.1 + rows.2 + rows.3, c.total_emails);
    Ok(())
}

/// The migrations in the repository's `migrations/` directory.
fn migration_count() -> anyhow::Result<usize> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations");
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        if entry?.path().is_dir() {
            n += 1;
        }
    }
    anyhow::ensure!(n > 0, "no migrations in {dir}");
    Ok(n)
}

#[tokio::test]
async fn migrations_apply_once_then_are_idempotent() -> TestResult {
    let name = format!("paloma_test_mig_{}", uuid::Uuid::now_v7().simple());
    let db = TestDatabase::named(&name)?;
    create_database_if_missing(&db.url).await?;
    create_database_if_missing(&db.url).await?; // twice is fine
    assert_eq!(run_migrations(&db.url).await?, migration_count()?);
    assert_eq!(run_migrations(&db.url).await?, 0);
    // The tables work.
    let repo = MysqlDatabase::connect(&db.url, 2)?;
    let page = repo
        .list(
            &paloma_domain::CampaignFilter::default(),
            PageRequest::default(),
        )
        .await?;
    assert_eq!((page.items.len(), page.total), (0, 0));
    db.remove().await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_migration_runs_apply_each_migration_once() -> TestResult {
    let name = format!("paloma_test_mig_{}", uuid::Uuid::now_v7().simple());
    let db = TestDatabase::named(&name)?;
    create_database_if_missing(&db.url).await?;
    let (a, b, c) = tokio::join!(
        run_migrations(&db.url),
        run_migrations(&db.url),
        run_migrations(&db.url)
    );
    let mut applied = [a?, b?, c?];
    applied.sort_unstable();
    assert_eq!(
        applied,
        [0, 0, migration_count()?],
        "one run applies every migration"
    );
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn invalid_database_names_and_urls_are_refused() -> TestResult {
    let bad = database_url("bad-name;drop")?;
    assert!(matches!(
        create_database_if_missing(&bad).await,
        Err(RepositoryError::Unknown(_))
    ));
    assert!(matches!(
        create_database_if_missing(&test_server_url()).await,
        Err(RepositoryError::Unknown(_))
    ));
    assert!(matches!(
        MysqlDatabase::connect("postgres://x/y", 1),
        Err(RepositoryError::Unknown(_))
    ));
    Ok(())
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Whether database `name` exists on the test server.
async fn database_exists(name: &str) -> anyhow::Result<bool> {
    let server = MysqlDatabase::connect(&test_server_url(), 1)?;
    let mut conn = server.pool().get().await?;
    let found: Count = diesel::sql_query(
        "SELECT COUNT(*) AS n FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
    )
    .bind::<Text, _>(name)
    .get_result(&mut *conn)
    .await?;
    Ok(found.n > 0)
}

/// A test database goes when its guard does, even while a session still holds a transaction
/// on its tables (which would make a plain `DROP DATABASE` wait).
#[tokio::test]
async fn a_test_database_is_dropped_with_its_guard() -> TestResult {
    let db = fresh_database().await?;
    let name = db.name.clone();
    let repo = MysqlDatabase::connect(&db.url, 1)?;
    let mut conn = repo.pool().get().await?;
    diesel::sql_query("START TRANSACTION")
        .execute(&mut *conn)
        .await?;
    let _: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM EmailJob")
        .get_result(&mut *conn)
        .await?;
    assert!(database_exists(&name).await?);

    drop(db);

    assert!(!database_exists(&name).await?, "{name} is gone");
    Ok(())
}

#[tokio::test]
async fn create_get_and_list_newest_first_with_pagination() -> TestResult {
    let (db, repo) = setup().await?;
    let now = t0();
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = CampaignId::new();
        let mut list = emails(3);
        list.push("USER0@example.org".into()); // a duplicate, removed by the domain
        let campaign = new_campaign(&format!("Campaign {i}"), &list)?;
        let created = repo
            .create(id, &campaign, now + TimeDelta::seconds(i))
            .await?;
        assert_eq!(created.id, id);
        assert_eq!(created.status, CampaignStatus::Pending);
        assert_eq!(
            (
                created.total_emails,
                created.sent_emails,
                created.failed_emails
            ),
            (3, 0, 0)
        );
        assert_eq!(created.duplicates_removed, 1);
        assert_eq!(created.created_at, now + TimeDelta::seconds(i));
        // What create returned is what get reads.
        assert_eq!(repo.get(id).await?, Some(created));
        ids.push(id);
    }
    assert_eq!(
        repo.get_body(ids[2]).await?.as_deref(),
        Some("<p>Campaign 2</p>")
    );
    assert_eq!(repo.get(CampaignId::new()).await?, None);
    assert_eq!(repo.get_body(CampaignId::new()).await?, None);

    let first = repo
        .list(
            &paloma_domain::CampaignFilter::default(),
            PageRequest::new(Some(1), Some(2)),
        )
        .await?;
    assert_eq!(first.total, 5);
    assert_eq!((first.page, first.per_page), (1, 2));
    let got: Vec<_> = first.items.iter().map(|c| c.id).collect();
    assert_eq!(got, [ids[4], ids[3]]);
    let third = repo
        .list(
            &paloma_domain::CampaignFilter::default(),
            PageRequest::new(Some(3), Some(2)),
        )
        .await?;
    let got: Vec<_> = third.items.iter().map(|c| c.id).collect();
    assert_eq!(got, [ids[0]]);
    assert_eq!(third.total, 5);
    let beyond = repo
        .list(
            &paloma_domain::CampaignFilter::default(),
            PageRequest::new(Some(9), Some(2)),
        )
        .await?;
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total, 5);

    // Creating the same id twice fails and changes nothing.
    let again = repo
        .create(ids[0], &new_campaign("dup", &emails(2))?, now)
        .await;
    assert!(matches!(again, Err(RepositoryError::Unknown(_))));
    assert_eq!(
        repo.list(
            &paloma_domain::CampaignFilter::default(),
            PageRequest::default()
        )
        .await?
        .total,
        5
    );
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn create_stores_5000_recipients_in_order() -> TestResult {
    let (db, repo) = setup().await?;
    let id = CampaignId::new();
    let now = t0();
    let campaign = new_campaign("Big", &emails(5_000))?;
    let started = Instant::now();
    let created = repo.create(id, &campaign, now).await?;
    eprintln!("5,000 recipients stored in {:?}", started.elapsed());
    assert_eq!(created.total_emails, 5_000);
    assert_eq!(row_counts(&repo, id).await?, (5_000, 0, 0));
    assert_counters_match_rows(&repo, id).await?;

    let page = repo
        .list_recipients(id, None, PageRequest::new(Some(11), Some(200)))
        .await?;
    assert_eq!(page.total, 5_000);
    assert_eq!(page.items.len(), 200);
    let got: Vec<_> = page.items.iter().map(|r| r.email.as_str()).collect();
    let want: Vec<_> = (2_000..2_200)
        .map(|i| format!("user{i}@example.org"))
        .collect();
    assert_eq!(got, want, "insertion order survives chunking");
    let r = &page.items[0];
    assert_eq!(r.campaign_id, id);
    assert_eq!(r.name.as_deref(), Some("Person 2000"));
    assert_eq!(page.items[1].name, None);
    assert_eq!(
        (r.status, r.attempts, r.error.as_deref()),
        (RecipientStatus::Pending, 0, None)
    );
    assert_eq!(
        (r.next_attempt_at, r.updated_at, r.sent_at),
        (now, now, None)
    );
    db.remove().await?;
    Ok(())
}

/// The unfiltered listing merges the statuses back into id order, page by page, and reads
/// only its own campaign's rows (an older, larger campaign sits before it in the table).
#[tokio::test]
async fn the_unfiltered_listing_pages_through_every_status_in_id_order() -> TestResult {
    let (db, repo) = setup().await?;
    let older = CampaignId::new();
    repo.create(older, &new_campaign("Older", &emails(3_000))?, t0())
        .await?;
    let id = CampaignId::new();
    repo.create(id, &new_campaign("Mixed", &emails(250))?, t0())
        .await?;
    let mut ids = Vec::new();
    let mut after = None;
    loop {
        let batch = repo
            .due_recipients(id, after, None, Utc::now(), 100)
            .await?;
        let Some(last) = batch.last() else { break };
        after = Some(last.id);
        ids.extend(batch.iter().map(|r| r.id));
    }
    assert_eq!(ids.len(), 250);
    // Every third SENT, every seventh FAILED (when not SENT), the rest PENDING.
    let outcomes: Vec<Outcome> = ids
        .iter()
        .enumerate()
        .filter_map(|(i, rid)| {
            let kind = if i % 3 == 0 {
                OutcomeKind::Sent { at: t0() }
            } else if i % 7 == 0 {
                OutcomeKind::Failed {
                    error: "550 no".into(),
                    permanent: true,
                }
            } else {
                return None;
            };
            Some(Outcome {
                recipient_id: *rid,
                attempts: 1,
                kind,
            })
        })
        .collect();
    repo.record_outcomes(id, &outcomes, t0()).await?;

    let mut listed = Vec::new();
    for number in 1..=6 {
        let page = repo
            .list_recipients(id, None, PageRequest::new(Some(number), Some(45)))
            .await?;
        assert_eq!(page.total, 250);
        assert!(page.items.iter().all(|r| r.campaign_id == id));
        listed.extend(page.items.iter().map(|r| (r.id, r.status)));
    }
    let want: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, rid)| {
            let status = if i % 3 == 0 {
                RecipientStatus::Sent
            } else if i % 7 == 0 {
                RecipientStatus::Failed
            } else {
                RecipientStatus::Pending
            };
            (*rid, status)
        })
        .collect();
    assert_eq!(
        listed, want,
        "every recipient once, in id order, with its status"
    );
    let beyond = repo
        .list_recipients(id, None, PageRequest::new(Some(7), Some(45)))
        .await?;
    assert!(beyond.items.is_empty());
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn create_is_atomic_when_a_later_chunk_fails() -> TestResult {
    let (db, repo) = setup().await?;
    // A trigger makes the insert of one recipient in the third chunk (rows 4,000..) fail.
    {
        let mut conn = repo.pool().get().await?;
        diesel::sql_query(
            "CREATE TRIGGER boom BEFORE INSERT ON Recipient FOR EACH ROW \
             IF NEW.email = 'user4500@example.org' THEN \
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'boom'; END IF",
        )
        .execute(&mut *conn)
        .await?;
    }
    let id = CampaignId::new();
    let result = repo
        .create(id, &new_campaign("Doomed", &emails(5_000))?, t0())
        .await;
    assert!(
        matches!(result, Err(RepositoryError::Unknown(_))),
        "{result:?}"
    );
    assert!(
        format!("{result:?}").contains("boom"),
        "the trigger fired: {result:?}"
    );
    assert_eq!(repo.get(id).await?, None);
    assert_eq!(row_counts(&repo, id).await?, (0, 0, 0));
    assert!(matches!(
        repo.list_recipients(id, None, PageRequest::default()).await,
        Err(RepositoryError::NotFound(missing)) if missing == id
    ));
    // The pool's connection is still usable afterwards.
    let ok = CampaignId::new();
    repo.create(ok, &new_campaign("Fine", &emails(10))?, t0())
        .await?;
    assert_eq!(row_counts(&repo, ok).await?, (10, 0, 0));
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn list_recipients_filters_by_status_with_totals_from_counters() -> TestResult {
    let (db, repo) = setup().await?;
    let id = CampaignId::new();
    let now = t0();
    repo.create(id, &new_campaign("Filter", &emails(10))?, now)
        .await?;
    let all = repo
        .list_recipients(id, None, PageRequest::new(Some(1), Some(100)))
        .await?;
    let rid: Vec<RecipientId> = all.items.iter().map(|r| r.id).collect();
    assert_eq!(rid.len(), 10);
    assert!(
        rid.windows(2).all(|w| w[0] < w[1]),
        "ids follow insertion order"
    );

    let outcomes = vec![
        Outcome {
            recipient_id: rid[1],
            attempts: 1,
            kind: OutcomeKind::Sent { at: now },
        },
        Outcome {
            recipient_id: rid[3],
            attempts: 1,
            kind: OutcomeKind::Sent { at: now },
        },
        Outcome {
            recipient_id: rid[5],
            attempts: 1,
            kind: OutcomeKind::Sent { at: now },
        },
        Outcome {
            recipient_id: rid[7],
            attempts: 1,
            kind: OutcomeKind::Failed {
                error: "550 no".into(),
                permanent: true,
            },
        },
    ];
    repo.record_outcomes(id, &outcomes, now).await?;

    let sent = repo
        .list_recipients(
            id,
            Some(RecipientStatus::Sent),
            PageRequest::new(Some(1), Some(2)),
        )
        .await?;
    assert_eq!(sent.total, 3);
    let got: Vec<_> = sent.items.iter().map(|r| r.id).collect();
    assert_eq!(got, [rid[1], rid[3]]);
    let sent2 = repo
        .list_recipients(
            id,
            Some(RecipientStatus::Sent),
            PageRequest::new(Some(2), Some(2)),
        )
        .await?;
    let got: Vec<_> = sent2.items.iter().map(|r| r.id).collect();
    assert_eq!(got, [rid[5]]);

    let failed = repo
        .list_recipients(id, Some(RecipientStatus::Failed), PageRequest::default())
        .await?;
    assert_eq!(failed.total, 1);
    assert_eq!(failed.items[0].id, rid[7]);
    assert_eq!(failed.items[0].error.as_deref(), Some("550 no"));

    let pending = repo
        .list_recipients(id, Some(RecipientStatus::Pending), PageRequest::default())
        .await?;
    assert_eq!(pending.total, 6);
    let got: Vec<_> = pending.items.iter().map(|r| r.id).collect();
    assert_eq!(got, [rid[0], rid[2], rid[4], rid[6], rid[8], rid[9]]);

    let all = repo
        .list_recipients(id, None, PageRequest::default())
        .await?;
    assert_eq!(all.total, 10);

    let missing = CampaignId::new();
    assert!(matches!(
        repo.list_recipients(missing, None, PageRequest::default()).await,
        Err(RepositoryError::NotFound(m)) if m == missing
    ));
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn due_recipients_follows_the_cursor_and_skips_recipients_not_due() -> TestResult {
    let (db, repo) = setup().await?;
    let id = CampaignId::new();
    let now = t0();
    repo.create(id, &new_campaign("Claim", &emails(7))?, now)
        .await?;
    let other = CampaignId::new();
    repo.create(other, &new_campaign("Other", &emails(3))?, now)
        .await?;

    let first = repo.due_recipients(id, None, None, now, 3).await?;
    let rid: Vec<_> = first.iter().map(|r| r.id).collect();
    assert_eq!(first.len(), 3);
    assert!(
        first
            .iter()
            .all(|r| r.campaign_id == id && r.status == RecipientStatus::Pending)
    );
    assert_eq!(first[0].email, "user0@example.org");
    // Claiming changes nothing: the same call gives the same batch.
    assert_eq!(repo.due_recipients(id, None, None, now, 3).await?, first);

    let second = repo.due_recipients(id, Some(rid[2]), None, now, 3).await?;
    let emails_got: Vec<_> = second.iter().map(|r| r.email.as_str()).collect();
    assert_eq!(
        emails_got,
        [
            "user3@example.org",
            "user4@example.org",
            "user5@example.org"
        ]
    );
    let last = repo
        .due_recipients(id, Some(second[2].id), None, now, 3)
        .await?;
    assert_eq!(last.len(), 1);
    assert!(
        repo.due_recipients(id, Some(last[0].id), None, now, 3)
            .await?
            .is_empty()
    );

    // Not due before `now`.
    assert!(
        repo.due_recipients(id, None, None, now - TimeDelta::milliseconds(1), 10)
            .await?
            .is_empty()
    );

    // A retry scheduled later, a sent and a failed one are all skipped until due.
    let later = now + TimeDelta::minutes(5);
    let outcomes = vec![
        Outcome {
            recipient_id: rid[0],
            attempts: 1,
            kind: OutcomeKind::Retry {
                at: later,
                error: "451 later".into(),
            },
        },
        Outcome {
            recipient_id: rid[1],
            attempts: 1,
            kind: OutcomeKind::Sent { at: now },
        },
        Outcome {
            recipient_id: rid[2],
            attempts: 1,
            kind: OutcomeKind::Failed {
                error: "550".into(),
                permanent: true,
            },
        },
    ];
    repo.record_outcomes(id, &outcomes, now).await?;
    let due_now = repo.due_recipients(id, None, None, now, 10).await?;
    assert_eq!(due_now.len(), 4);
    assert_eq!(due_now[0].email, "user3@example.org");
    let due_later = repo.due_recipients(id, None, None, later, 10).await?;
    assert_eq!(due_later.len(), 5);
    assert_eq!(due_later[0].id, rid[0]);
    assert_eq!(due_later[0].attempts, 1);
    assert_eq!(due_later[0].error.as_deref(), Some("451 later"));
    assert_eq!(due_later[0].next_attempt_at, later);
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn record_outcomes_moves_rows_and_counters_together_without_double_counting() -> TestResult {
    let (db, repo) = setup().await?;
    let id = CampaignId::new();
    let now = t0();
    repo.create(id, &new_campaign("Outcomes", &emails(8))?, now)
        .await?;
    repo.start(id, now).await?;
    let rid: Vec<RecipientId> = repo
        .due_recipients(id, None, None, now, 100)
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
    let later = now + TimeDelta::seconds(30);
    let t1 = now + TimeDelta::seconds(1);
    // Accepted by the server before the batch is written at t1.
    let accepted = now + TimeDelta::milliseconds(400);
    let outcomes = vec![
        Outcome {
            recipient_id: rid[0],
            attempts: 1,
            kind: OutcomeKind::Sent { at: accepted },
        },
        Outcome {
            recipient_id: rid[1],
            attempts: 2,
            kind: OutcomeKind::Sent { at: now },
        },
        Outcome {
            recipient_id: rid[2],
            attempts: 1,
            kind: OutcomeKind::Failed {
                error: "550 unknown user".into(),
                permanent: true,
            },
        },
        Outcome {
            recipient_id: rid[3],
            attempts: 1,
            kind: OutcomeKind::Failed {
                error: "553 bad".into(),
                permanent: true,
            },
        },
        Outcome {
            recipient_id: rid[4],
            attempts: 1,
            kind: OutcomeKind::Retry {
                at: later,
                error: "421 busy".into(),
            },
        },
        Outcome {
            recipient_id: rid[5],
            attempts: 3,
            kind: OutcomeKind::Retry {
                at: later,
                error: "421 busy".into(),
            },
        },
        // Unknown recipient and a recipient of no campaign: ignored.
        Outcome {
            recipient_id: RecipientId::new(),
            attempts: 1,
            kind: OutcomeKind::Sent { at: now },
        },
    ];
    let c = repo.record_outcomes(id, &outcomes, t1).await?;
    assert_eq!(
        (c.sent_emails, c.failed_emails, c.pending_emails()),
        (2, 2, 4)
    );
    assert_eq!(c.updated_at, t1);
    assert_eq!(c.status, CampaignStatus::Processing);
    assert_eq!(repo.get(id).await?, Some(c.clone()));
    assert_counters_match_rows(&repo, id).await?;

    let all = repo
        .list_recipients(id, None, PageRequest::default())
        .await?
        .items;
    assert_eq!(
        (
            all[0].status,
            all[0].attempts,
            all[0].sent_at,
            all[0].error.as_deref()
        ),
        (RecipientStatus::Sent, 1, Some(sent_at_of(accepted)), None),
        "sentAt is when the server accepted it, not when the batch was written"
    );
    assert_eq!((all[1].status, all[1].attempts), (RecipientStatus::Sent, 2));
    assert_eq!(
        (all[2].status, all[2].error.as_deref(), all[2].sent_at),
        (RecipientStatus::Failed, Some("550 unknown user"), None)
    );
    assert_eq!(
        (all[3].status, all[3].error.as_deref()),
        (RecipientStatus::Failed, Some("553 bad"))
    );
    assert_eq!(
        (
            all[4].status,
            all[4].attempts,
            all[4].next_attempt_at,
            all[4].error.as_deref()
        ),
        (RecipientStatus::Pending, 1, later, Some("421 busy"))
    );
    assert_eq!(
        (all[5].status, all[5].attempts, all[5].next_attempt_at),
        (RecipientStatus::Pending, 3, later)
    );
    assert_eq!(
        (
            all[6].status,
            all[6].attempts,
            all[6].next_attempt_at,
            all[6].updated_at
        ),
        (RecipientStatus::Pending, 0, now, now)
    );
    assert_eq!(all[0].updated_at, t1);

    // Replaying outcomes for recipients already final changes nothing and counts nothing.
    let t2 = now + TimeDelta::seconds(2);
    let replay = vec![
        Outcome {
            recipient_id: rid[0],
            attempts: 2,
            kind: OutcomeKind::Failed {
                error: "late".into(),
                permanent: true,
            },
        },
        Outcome {
            recipient_id: rid[2],
            attempts: 2,
            kind: OutcomeKind::Sent { at: now },
        },
        Outcome {
            recipient_id: rid[1],
            attempts: 5,
            kind: OutcomeKind::Retry {
                at: later,
                error: "x".into(),
            },
        },
        // A retried one succeeding now does count, once, even if listed twice.
        Outcome {
            recipient_id: rid[4],
            attempts: 2,
            kind: OutcomeKind::Sent {
                at: t2 - TimeDelta::milliseconds(250),
            },
        },
        Outcome {
            recipient_id: rid[4],
            attempts: 2,
            kind: OutcomeKind::Failed {
                error: "dup".into(),
                permanent: true,
            },
        },
    ];
    let c = repo.record_outcomes(id, &replay, t2).await?;
    assert_eq!(
        (c.sent_emails, c.failed_emails, c.pending_emails()),
        (3, 2, 3)
    );
    assert_counters_match_rows(&repo, id).await?;
    let all = repo
        .list_recipients(id, None, PageRequest::default())
        .await?
        .items;
    assert_eq!(
        (all[0].status, all[0].attempts, all[0].error.as_deref()),
        (RecipientStatus::Sent, 1, None)
    );
    assert_eq!((all[1].status, all[1].attempts), (RecipientStatus::Sent, 2));
    assert_eq!(
        (all[2].status, all[2].error.as_deref()),
        (RecipientStatus::Failed, Some("550 unknown user"))
    );
    assert_eq!(
        (
            all[4].status,
            all[4].attempts,
            all[4].error.as_deref(),
            all[4].sent_at
        ),
        (
            RecipientStatus::Sent,
            2,
            None,
            Some(sent_at_of(t2 - TimeDelta::milliseconds(250)))
        )
    );

    // Outcomes naming another campaign's recipients do not touch them.
    let other = CampaignId::new();
    repo.create(other, &new_campaign("Other", &emails(2))?, now)
        .await?;
    let foreign: Vec<_> = repo
        .due_recipients(other, None, None, now, 10)
        .await?
        .iter()
        .map(|r| Outcome {
            recipient_id: r.id,
            attempts: 1,
            kind: OutcomeKind::Sent { at: now },
        })
        .collect();
    let c = repo.record_outcomes(id, &foreign, t2).await?;
    assert_eq!((c.sent_emails, c.failed_emails), (3, 2));
    assert_eq!(row_counts(&repo, other).await?, (2, 0, 0));

    // An empty batch is fine; an unknown campaign is NotFound.
    assert_eq!(repo.record_outcomes(id, &[], t2).await?.sent_emails, 3);
    let missing = CampaignId::new();
    assert!(matches!(
        repo.record_outcomes(missing, &outcomes, t2).await,
        Err(RepositoryError::NotFound(m)) if m == missing
    ));
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn record_outcomes_of_a_large_batch_is_consistent() -> TestResult {
    let (db, repo) = setup().await?;
    let id = CampaignId::new();
    let now = t0();
    repo.create(id, &new_campaign("Many", &emails(2_500))?, now)
        .await?;
    let batch = repo.due_recipients(id, None, None, now, 2_500).await?;
    assert_eq!(batch.len(), 2_500);
    let outcomes: Vec<_> = batch
        .iter()
        .enumerate()
        .map(|(i, r)| Outcome {
            recipient_id: r.id,
            attempts: 1,
            kind: match i % 5 {
                0 => OutcomeKind::Failed {
                    error: format!("550 #{}", i % 3),
                    permanent: true,
                },
                1 => OutcomeKind::Retry {
                    at: now + TimeDelta::seconds(60),
                    error: "421".into(),
                },
                _ => OutcomeKind::Sent { at: now },
            },
        })
        .collect();
    let c = repo.record_outcomes(id, &outcomes, now).await?;
    assert_eq!(
        (c.sent_emails, c.failed_emails, c.pending_emails()),
        (1_500, 500, 500)
    );
    assert_counters_match_rows(&repo, id).await?;
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn next_due_is_the_earliest_pending_attempt() -> TestResult {
    let (db, repo) = setup().await?;
    let id = CampaignId::new();
    let now = t0();
    repo.create(id, &new_campaign("Due", &emails(3))?, now)
        .await?;
    assert_eq!(repo.next_due(id).await?, Some(now));
    let rid: Vec<_> = repo
        .due_recipients(id, None, None, now, 10)
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
    let (a, b) = (now + TimeDelta::seconds(90), now + TimeDelta::seconds(30));
    repo.record_outcomes(
        id,
        &[
            Outcome {
                recipient_id: rid[0],
                attempts: 1,
                kind: OutcomeKind::Retry {
                    at: a,
                    error: "e".into(),
                },
            },
            Outcome {
                recipient_id: rid[1],
                attempts: 1,
                kind: OutcomeKind::Retry {
                    at: b,
                    error: "e".into(),
                },
            },
            Outcome {
                recipient_id: rid[2],
                attempts: 1,
                kind: OutcomeKind::Sent { at: now },
            },
        ],
        now,
    )
    .await?;
    assert_eq!(repo.next_due(id).await?, Some(b));
    repo.record_outcomes(
        id,
        &[Outcome {
            recipient_id: rid[1],
            attempts: 2,
            kind: OutcomeKind::Sent { at: now },
        }],
        now,
    )
    .await?;
    assert_eq!(repo.next_due(id).await?, Some(a));
    repo.record_outcomes(
        id,
        &[Outcome {
            recipient_id: rid[0],
            attempts: 2,
            kind: OutcomeKind::Failed {
                error: "x".into(),
                permanent: true,
            },
        }],
        now,
    )
    .await?;
    assert_eq!(repo.next_due(id).await?, None);
    assert_eq!(repo.next_due(CampaignId::new()).await?, None);
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn start_and_finish_follow_the_campaign_rules() -> TestResult {
    let (db, repo) = setup().await?;
    let id = CampaignId::new();
    let now = t0();
    repo.create(id, &new_campaign("Life", &emails(2))?, now)
        .await?;

    let t1 = now + TimeDelta::seconds(1);
    let started = repo.start(id, t1).await?;
    assert_eq!(
        (started.status, started.started_at, started.updated_at),
        (CampaignStatus::Processing, Some(t1), t1)
    );
    assert_eq!(repo.get(id).await?, Some(started.clone()));
    // Resuming keeps the first startedAt.
    let t2 = now + TimeDelta::seconds(2);
    let resumed = repo.start(id, t2).await?;
    assert_eq!(
        (resumed.status, resumed.started_at, resumed.updated_at),
        (CampaignStatus::Processing, Some(t1), t2)
    );

    // Pending recipients remain: no finishing.
    assert!(matches!(
        repo.finish(id, CampaignStatus::Completed, t2).await,
        Err(RepositoryError::Conflict(_))
    ));
    let rid: Vec<_> = repo
        .due_recipients(id, None, None, t2, 10)
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
    repo.record_outcomes(
        id,
        &[Outcome {
            recipient_id: rid[0],
            attempts: 1,
            kind: OutcomeKind::Sent { at: now },
        }],
        t2,
    )
    .await?;
    assert!(matches!(
        repo.finish(id, CampaignStatus::Completed, t2).await,
        Err(RepositoryError::Conflict(_))
    ));
    repo.record_outcomes(
        id,
        &[Outcome {
            recipient_id: rid[1],
            attempts: 1,
            kind: OutcomeKind::Failed {
                error: "550".into(),
                permanent: true,
            },
        }],
        t2,
    )
    .await?;
    // Finishing as a non-final status is refused.
    assert!(matches!(
        repo.finish(id, CampaignStatus::Processing, t2).await,
        Err(RepositoryError::Conflict(_))
    ));

    let t3 = now + TimeDelta::seconds(3);
    let done = repo.finish(id, CampaignStatus::Completed, t3).await?;
    assert_eq!(
        (
            done.status,
            done.completed_at,
            done.updated_at,
            done.started_at
        ),
        (CampaignStatus::Completed, Some(t3), t3, Some(t1))
    );
    assert_eq!((done.sent_emails, done.failed_emails), (1, 1));
    assert_eq!(repo.get(id).await?, Some(done.clone()));

    // A final campaign never moves again; start returns it unchanged.
    assert!(matches!(
        repo.finish(id, CampaignStatus::Failed, t3).await,
        Err(RepositoryError::Conflict(_))
    ));
    assert_eq!(repo.start(id, now + TimeDelta::seconds(9)).await?, done);

    // PENDING -> COMPLETED is illegal even with nothing pending (after all outcomes, unstarted).
    let other = CampaignId::new();
    repo.create(other, &new_campaign("Unstarted", &emails(1))?, now)
        .await?;
    let r = repo.due_recipients(other, None, None, now, 1).await?;
    repo.record_outcomes(
        other,
        &[Outcome {
            recipient_id: r[0].id,
            attempts: 1,
            kind: OutcomeKind::Sent { at: now },
        }],
        now,
    )
    .await?;
    assert!(matches!(
        repo.finish(other, CampaignStatus::Completed, now).await,
        Err(RepositoryError::Conflict(_))
    ));
    let failed = repo.finish(other, CampaignStatus::Failed, t1).await?;
    assert_eq!(
        (failed.status, failed.completed_at),
        (CampaignStatus::Failed, Some(t1))
    );

    let missing = CampaignId::new();
    assert!(
        matches!(repo.start(missing, now).await, Err(RepositoryError::NotFound(m)) if m == missing)
    );
    assert!(
        matches!(repo.finish(missing, CampaignStatus::Completed, now).await, Err(RepositoryError::NotFound(m)) if m == missing)
    );
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn abandon_fails_every_pending_row_with_the_reason_and_ends_the_campaign() -> TestResult {
    let (db, repo) = setup().await?;
    let id = CampaignId::new();
    let now = t0();
    repo.create(id, &new_campaign("Stopped", &emails(6))?, now)
        .await?;
    repo.start(id, now).await?;
    let rows = repo.due_recipients(id, None, None, now, 10).await?;
    let later = now + TimeDelta::minutes(5);
    // One sent, two failed, one deferred (still PENDING, tried once), two never tried.
    let outcomes = [
        (rows[0].id, OutcomeKind::Sent { at: now }),
        (
            rows[1].id,
            OutcomeKind::Failed {
                error: "550 a".into(),
                permanent: true,
            },
        ),
        (
            rows[2].id,
            OutcomeKind::Failed {
                error: "550 b".into(),
                permanent: true,
            },
        ),
        (
            rows[3].id,
            OutcomeKind::Retry {
                at: later,
                error: "451 later".into(),
            },
        ),
    ]
    .map(|(recipient_id, kind)| Outcome {
        recipient_id,
        attempts: 1,
        kind,
    });
    repo.record_outcomes(id, &outcomes, now).await?;

    let t1 = now + TimeDelta::seconds(1);
    let done = repo.abandon(id, "not sent: stopped", t1).await?;
    assert_eq!(
        (
            done.status,
            done.sent_emails,
            done.failed_emails,
            done.completed_at
        ),
        (CampaignStatus::Failed, 1, 5, Some(t1))
    );
    assert_eq!(repo.get(id).await?, Some(done.clone()));
    assert_counters_match_rows(&repo, id).await?;
    let after = repo
        .list_recipients(id, None, PageRequest::default())
        .await?
        .items;
    let summary: Vec<_> = after
        .iter()
        .map(|r| (r.status, r.attempts, r.error.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(
        summary,
        [
            (RecipientStatus::Sent, 1, ""),
            (RecipientStatus::Failed, 1, "550 a"),
            (RecipientStatus::Failed, 1, "550 b"),
            (RecipientStatus::Failed, 1, "not sent: stopped"),
            (RecipientStatus::Failed, 0, "not sent: stopped"),
            (RecipientStatus::Failed, 0, "not sent: stopped"),
        ]
    );

    // Once final, it changes nothing.
    let again = repo
        .abandon(id, "other", t1 + TimeDelta::seconds(1))
        .await?;
    assert_eq!(again, done);
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn list_unfinished_finds_pending_and_processing_campaigns_past_the_cutoff() -> TestResult {
    let (db, repo) = setup().await?;
    let now = t0();
    let ids: Vec<CampaignId> = (0..5).map(|_| CampaignId::new()).collect();
    let (pending, enqueued, processing, finished, fresh) = (ids[0], ids[1], ids[2], ids[3], ids[4]);
    for (i, id) in ids.iter().enumerate() {
        let at = if *id == fresh {
            now
        } else {
            now - TimeDelta::minutes(10 - i as i64)
        };
        repo.create(*id, &new_campaign("Sweep", &emails(1))?, at)
            .await?;
    }
    repo.mark_enqueued(enqueued, now).await?;
    repo.start(processing, now).await?;
    repo.start(finished, now).await?;
    let rid = repo.due_recipients(finished, None, None, now, 1).await?[0].id;
    repo.record_outcomes(
        finished,
        &[Outcome {
            recipient_id: rid,
            attempts: 1,
            kind: OutcomeKind::Sent { at: now },
        }],
        now,
    )
    .await?;
    repo.finish(finished, CampaignStatus::Completed, now)
        .await?;

    let cutoff = now - TimeDelta::minutes(1);
    assert_eq!(
        repo.list_unfinished(cutoff, 10).await?,
        [pending, enqueued, processing],
        "enqueued or not, oldest first; not the finished one nor the fresh one"
    );
    assert_eq!(repo.list_unfinished(cutoff, 2).await?, [pending, enqueued]);
    assert_eq!(
        repo.list_unfinished(now + TimeDelta::seconds(1), 10)
            .await?,
        [pending, enqueued, processing, fresh]
    );

    let missing = CampaignId::new();
    assert!(
        matches!(repo.mark_enqueued(missing, now).await, Err(RepositoryError::NotFound(m)) if m == missing)
    );
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn ping_answers_on_a_live_database() -> TestResult {
    let (db, repo) = setup().await?;
    repo.ping().await?;
    let clone = repo.clone();
    clone.ping().await?;
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn a_closed_port_is_unavailable_quickly() -> TestResult {
    let repo = MysqlDatabase::connect("mysql://root@127.0.0.1:1/x", 2)?;
    let started = Instant::now();
    let result = repo.ping().await;
    assert!(
        matches!(result, Err(RepositoryError::Unavailable(_))),
        "{result:?}"
    );
    let why = result
        .err()
        .and_then(|e| std::error::Error::source(&e).map(ToString::to_string));
    assert!(
        why.as_deref().is_some_and(|w| w.contains("last error")),
        "{why:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "took {:?}",
        started.elapsed()
    );
    let result = repo.get(CampaignId::new()).await;
    assert!(
        matches!(result, Err(RepositoryError::Unavailable(_))),
        "{result:?}"
    );
    assert!(matches!(
        run_migrations("mysql://root@127.0.0.1:1/x").await,
        Err(RepositoryError::Unavailable(_))
    ));
    assert!(matches!(
        create_database_if_missing("mysql://root@127.0.0.1:1/x").await,
        Err(RepositoryError::Unavailable(_))
    ));
    Ok(())
}

#[tokio::test]
async fn timeline_counts_final_recipients_per_bucket_of_their_final_time() -> TestResult {
    let (db, repo) = setup().await?;
    let id = CampaignId::new();
    // A bucket-aligned start, so the expected buckets are easy to state.
    let start = DateTime::from_timestamp(t0().timestamp() / 60 * 60, 0).unwrap_or_else(t0);
    repo.create(id, &new_campaign("Timeline", &emails(6))?, start)
        .await?;
    let rid: Vec<RecipientId> = repo
        .list_recipients(id, None, PageRequest::default())
        .await?
        .items
        .iter()
        .map(|r| r.id)
        .collect();
    // Sent at the second given (the server's acceptance), written later.
    let sent = |i: usize, second: i64| Outcome {
        recipient_id: rid[i],
        attempts: 1,
        kind: OutcomeKind::Sent {
            at: start + TimeDelta::seconds(second),
        },
    };
    let failed = |i: usize| Outcome {
        recipient_id: rid[i],
        attempts: 1,
        kind: OutcomeKind::Failed {
            error: "550 no".into(),
            permanent: true,
        },
    };
    let retry = |i: usize| Outcome {
        recipient_id: rid[i],
        attempts: 1,
        kind: OutcomeKind::Retry {
            at: start + TimeDelta::minutes(5),
            error: "451 later".into(),
        },
    };
    repo.record_outcomes(
        id,
        &[sent(0, 3), sent(1, 4), failed(2)],
        start + TimeDelta::seconds(5),
    )
    .await?;
    repo.record_outcomes(id, &[sent(3, 64), retry(4)], start + TimeDelta::seconds(65))
        .await?;

    let minutes = repo.timeline(id, 60).await?;
    let got: Vec<_> = minutes
        .iter()
        .map(|p| (p.at - start, p.sent, p.failed))
        .collect();
    assert_eq!(
        got,
        [(TimeDelta::zero(), 2, 1), (TimeDelta::seconds(60), 1, 0)],
        "the retried and the untouched recipients are not counted"
    );

    let seconds = repo.timeline(id, 1).await?;
    let got: Vec<_> = seconds
        .iter()
        .map(|p| (p.at - start, p.sent, p.failed))
        .collect();
    assert_eq!(
        got,
        [
            (TimeDelta::seconds(3), 1, 0),
            (TimeDelta::seconds(4), 1, 0),
            (TimeDelta::seconds(5), 0, 1),
            (TimeDelta::seconds(64), 1, 0)
        ],
        "a sent message counts at its acceptance, a failure when it was written"
    );

    assert!(repo.timeline(CampaignId::new(), 60).await?.is_empty());
    db.remove().await?;
    Ok(())
}

#[tokio::test]
async fn an_idempotency_key_names_one_campaign_even_under_concurrent_requests() -> TestResult {
    use paloma_application::ports::Created;
    use paloma_domain::{Idempotency, IdempotencyKey, RequestFingerprint};

    let (db, repo) = setup().await?;
    let campaign = new_campaign("Once", &emails(3_000))?;
    let idempotency = Idempotency {
        key: IdempotencyKey::parse("client-retry-42")?,
        fingerprint: RequestFingerprint::from_bytes([7; 32]),
    };
    // Eight requests with the same key at once: one stores, the others learn its campaign.
    let attempts = (0..8).map(|_| {
        let repo = repo.clone();
        let campaign = campaign.clone();
        let idempotency = idempotency.clone();
        tokio::spawn(async move {
            repo.create_idempotent(CampaignId::new(), &campaign, &idempotency, t0())
                .await
        })
    });
    let mut stored = Vec::new();
    let mut named = Vec::new();
    for attempt in futures::future::join_all(attempts).await {
        match attempt?? {
            Created::New(c) => stored.push(c.id),
            Created::KeyTaken {
                campaign_id,
                fingerprint,
            } => {
                assert_eq!(fingerprint, idempotency.fingerprint);
                named.push(campaign_id);
            }
        }
    }
    assert_eq!(stored.len(), 1, "exactly one request stores the campaign");
    assert!(named.iter().all(|id| *id == stored[0]), "{named:?}");
    let all = repo
        .list(
            &paloma_domain::CampaignFilter::default(),
            PageRequest::default(),
        )
        .await?;
    assert_eq!(
        all.total, 1,
        "no other campaign was stored, not even in part"
    );
    assert_eq!(row_counts(&repo, stored[0]).await?, (3_000, 0, 0));

    assert!(!repo.is_enqueued(stored[0]).await?);
    repo.mark_enqueued(stored[0], t0()).await?;
    assert!(repo.is_enqueued(stored[0]).await?);
    assert!(matches!(
        repo.is_enqueued(CampaignId::new()).await,
        Err(RepositoryError::NotFound(_))
    ));

    // Another key is independent.
    let other = Idempotency {
        key: IdempotencyKey::parse("client-retry-43")?,
        ..idempotency
    };
    assert!(matches!(
        repo.create_idempotent(CampaignId::new(), &campaign, &other, t0())
            .await?,
        Created::New(_)
    ));
    db.remove().await?;
    Ok(())
}

/// A caller that stops waiting (an HTTP client that hangs up, a request timeout) drops the
/// repository's future mid-query. The connection it used must not go back to the pool half-read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abandoned_calls_leave_no_broken_connection_in_the_pool() -> TestResult {
    let db = fresh_database().await?;
    // One connection: every call reuses the one an abandoned call used.
    let repo = MysqlDatabase::connect(&db.url, 1)?;
    let id = CampaignId::new();
    repo.create(id, &new_campaign("Abandoned", &emails(400))?, t0())
        .await?;
    let expected = repo
        .list_recipients(id, None, PageRequest::new(Some(1), Some(200)))
        .await?;
    for round in 0..60u64 {
        // Give up after a growing delay, so the drop lands at many points of the exchange.
        let patience = Duration::from_micros(50 + round * 40);
        let _ = tokio::time::timeout(
            patience,
            repo.list_recipients(id, None, PageRequest::new(Some(1), Some(200))),
        )
        .await;
        let _ = tokio::time::timeout(patience, repo.get(id)).await;
        let _ = tokio::time::timeout(patience, repo.timeline(id, 1)).await;
        let page = repo
            .list_recipients(id, None, PageRequest::new(Some(1), Some(200)))
            .await
            .map_err(|e| anyhow::anyhow!("round {round}: {e:?}"))?;
        assert_eq!(page, expected, "round {round}");
        let campaign = repo
            .get(id)
            .await
            .map_err(|e| anyhow::anyhow!("round {round}: {e:?}"))?;
        assert_eq!(campaign.map(|c| c.total_emails), Some(400), "round {round}");
    }
    db.remove().await?;
    Ok(())
}
