//! The adapter against the bull 4.x Redis layout, field by field (docs/bull-protocol.md, the
//! sections from "Keys" to "Pause").

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use paloma_application::{JobConsumer, JobProducer, QueueError, TakenJob};
use paloma_domain::CampaignId;
use paloma_redis_queue::{QueueSettings, RedisJobConsumer, RedisJobQueue};

use crate::helpers::{TestQueue, parse_ms, sleep_ms, test_settings};

const TAKE: Duration = Duration::from_secs(2);

async fn take(tq: &TestQueue) -> Result<TakenJob> {
    tq.consumer
        .take(TAKE)
        .await?
        .context("expected a job to take")
}

#[tokio::test]
async fn enqueue_writes_the_bull_hash_and_pushes_to_the_tail_of_wait() -> Result<()> {
    let tq = TestQueue::new().await?;
    let first = CampaignId::new();
    let second = CampaignId::new();
    let before = tq.server_ms().await?;
    let id1 = tq.queue.enqueue(first).await?;
    let id2 = tq.queue.enqueue(second).await?;
    let after = tq.server_ms().await?;
    assert_eq!((id1.as_str(), id2.as_str()), ("1", "2"));
    let counter: String = tq.cmd("GET", &[&tq.key("id")]).await?;
    assert_eq!(counter, "2");

    let hash = tq.hash("1").await?;
    let mut fields: Vec<&str> = hash.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["data", "delay", "name", "opts", "priority", "timestamp"]
    );
    assert_eq!(hash["name"], "__default__");
    assert_eq!(hash["data"], format!(r#"{{"jobUuid":"{first}"}}"#));
    assert_eq!(hash["delay"], "0");
    assert_eq!(hash["priority"], "0");
    let timestamp: u64 = hash["timestamp"].parse()?;
    assert!(
        (before..=after).contains(&timestamp),
        "{timestamp} not in {before}..={after}"
    );
    // Exactly what Node stores for queue.add(data, {attempts: 5, backoff: {type, delay},
    // removeOnComplete: 1000, removeOnFail: 5000}) (checked against Node in interop.rs).
    assert_eq!(
        hash["opts"],
        format!(
            r#"{{"attempts":5,"backoff":{{"type":"exponential","delay":10000}},"removeOnComplete":1000,"removeOnFail":5000,"delay":0,"timestamp":{timestamp}}}"#
        )
    );
    let opts: serde_json::Value = serde_json::from_str(&hash["opts"])?;
    assert!(opts.is_object());

    // New jobs enter at the left; workers take from the right, so "1" is next.
    assert_eq!(tq.list("wait").await?, ["2", "1"]);
    assert!(tq.list("paused").await?.is_empty());
    tq.cleanup().await
}

#[tokio::test]
async fn a_job_due_later_waits_in_delayed_with_bulls_score_and_is_taken_once_due() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    let due = chrono::Utc::now() + chrono::TimeDelta::milliseconds(1200);
    let id = tq.queue.enqueue_due(campaign, due).await?;
    assert!(tq.list("wait").await?.is_empty());
    let delayed = tq.zset("delayed").await?;
    let due_ms = u64::try_from(due.timestamp_millis())?;
    let id_bits: u64 = id.parse::<u64>()? % 4096;
    assert_eq!(delayed.len(), 1);
    assert_eq!(delayed[0].0, id);
    assert_eq!(
        delayed[0].1 as u64,
        due_ms * 4096 + id_bits,
        "due * 4096 + (id & 4095)"
    );
    let hash = tq.hash(&id).await?;
    let delay: u64 = hash["delay"].parse()?;
    assert!(delay > 0 && delay <= 1200, "delay {delay}");
    let opts: serde_json::Value = serde_json::from_str(&hash["opts"])?;
    assert_eq!(opts["delay"], delay);
    assert_eq!(
        hash["timestamp"].parse::<u64>()? + delay,
        due_ms,
        "timestamp + delay is the due time, as bull computes it"
    );

    tq.consumer.maintain().await?;
    assert!(
        tq.consumer
            .take(Duration::from_millis(200))
            .await?
            .is_none(),
        "not before its time"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    tq.consumer.maintain().await?;
    let job = take(&tq).await?;
    assert_eq!(
        (job.job_id.as_str(), job.campaign),
        (id.as_str(), Ok(campaign))
    );
    assert!(tq.server_ms().await? >= due_ms);
    assert_eq!(tq.field(&id, "delay").await?.as_deref(), Some("0"));

    // A due time already past is an ordinary job.
    let late = tq
        .queue
        .enqueue_due(
            CampaignId::new(),
            chrono::Utc::now() - chrono::TimeDelta::seconds(1),
        )
        .await?;
    assert_eq!(tq.list("wait").await?, std::slice::from_ref(&late));
    assert_eq!(tq.field(&late, "delay").await?.as_deref(), Some("0"));
    tq.cleanup().await
}

#[tokio::test]
async fn enqueue_while_paused_lands_in_paused() -> Result<()> {
    let tq = TestQueue::new().await?;
    let _: () = tq.cmd("SET", &[&tq.key("meta-paused"), "1"]).await?;
    let id = tq.queue.enqueue(CampaignId::new()).await?;
    assert_eq!(tq.list("paused").await?, [id]);
    assert!(tq.list("wait").await?.is_empty());
    // Nothing can be taken while paused.
    assert_eq!(tq.consumer.take(Duration::from_millis(300)).await?, None);
    tq.cleanup().await
}

#[tokio::test]
async fn take_moves_to_active_locks_and_sets_processed_on() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    let id = tq.queue.enqueue(campaign).await?;
    let _: i64 = tq.cmd("SADD", &[&tq.key("stalled"), &id]).await?;
    let before = tq.server_ms().await?;
    let job = take(&tq).await?;
    let after = tq.server_ms().await?;

    assert_eq!(job.job_id, id);
    assert_eq!(job.campaign, Ok(campaign));
    assert_eq!(job.attempts_made, 0);
    assert!(!job.token.is_empty());
    let lock: String = tq.cmd("GET", &[&tq.key(&format!("{id}:lock"))]).await?;
    assert_eq!(lock, job.token);
    let pttl: i64 = tq.cmd("PTTL", &[&tq.key(&format!("{id}:lock"))]).await?;
    assert!((25_000..=30_000).contains(&pttl), "lock PTTL {pttl}");
    let processed_on = parse_ms(tq.field(&id, "processedOn").await?)?;
    assert!((before..=after).contains(&processed_on));
    assert_eq!(tq.list("active").await?, [id.as_str()]);
    assert!(tq.list("wait").await?.is_empty());
    assert!(
        tq.set_members("stalled").await?.is_empty(),
        "take unmarks stalled"
    );
    tq.cleanup().await
}

#[tokio::test]
async fn take_returns_none_after_its_timeout_on_an_empty_queue() -> Result<()> {
    let tq = TestQueue::new().await?;
    // Longer than redis-rs' default 500 ms response timeout: the blocking connection has none.
    let started = Instant::now();
    let taken = tq.consumer.take(Duration::from_millis(1500)).await?;
    let elapsed = started.elapsed();
    assert_eq!(taken, None);
    assert!(
        elapsed >= Duration::from_millis(1400) && elapsed < Duration::from_millis(3000),
        "took {elapsed:?}"
    );
    tq.cleanup().await
}

#[tokio::test]
async fn a_blocked_take_wakes_up_when_a_job_arrives() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    let producer = tq.queue.clone();
    let adder = tokio::spawn(async move {
        sleep_ms(800).await;
        producer.enqueue(campaign).await
    });
    let started = Instant::now();
    let job = tq
        .consumer
        .take(Duration::from_secs(5))
        .await?
        .context("job")?;
    let id = adder.await??;
    assert_eq!(job.job_id, id);
    assert_eq!(job.campaign, Ok(campaign));
    assert!(started.elapsed() < Duration::from_secs(3));
    tq.cleanup().await
}

#[tokio::test]
async fn take_skips_deleted_jobs_and_reports_foreign_data_raw() -> Result<()> {
    let tq = TestQueue::new().await?;
    // An id whose hash was deleted, then a job added by someone else with other data.
    let _: i64 = tq.cmd("LPUSH", &[&tq.key("wait"), "77"]).await?;
    let _: i64 = tq
        .cmd(
            "HSET",
            &[
                &tq.key("78"),
                "name",
                "__default__",
                "data",
                r#"{"other":1}"#,
                "opts",
                "{}",
                "attemptsMade",
                "2",
            ],
        )
        .await?;
    let _: i64 = tq.cmd("LPUSH", &[&tq.key("wait"), "78"]).await?;

    let job = take(&tq).await?;
    assert_eq!(job.job_id, "78");
    assert_eq!(job.campaign, Err(r#"{"other":1}"#.to_owned()));
    assert_eq!(job.attempts_made, 2);
    assert_eq!(
        tq.list("active").await?,
        ["78"],
        "the deleted job left active"
    );
    tq.cleanup().await
}

#[tokio::test]
async fn renew_extends_our_lock_and_refuses_a_foreign_token() -> Result<()> {
    let tq = TestQueue::new().await?;
    let id = tq.queue.enqueue(CampaignId::new()).await?;
    let job = take(&tq).await?;
    let lock_key = tq.key(&format!("{id}:lock"));
    let _: i64 = tq.cmd("PEXPIRE", &[&lock_key, "1000"]).await?;
    let _: i64 = tq.cmd("SADD", &[&tq.key("stalled"), &id]).await?;

    tq.consumer.renew(&job).await?;
    let pttl: i64 = tq.cmd("PTTL", &[&lock_key]).await?;
    assert!(pttl > 25_000, "renewed PTTL {pttl}");
    let owner: String = tq.cmd("GET", &[&lock_key]).await?;
    assert_eq!(owner, job.token);
    assert!(
        tq.set_members("stalled").await?.is_empty(),
        "renew unmarks stalled"
    );

    let foreign = TakenJob {
        token: "someone-else".to_owned(),
        ..job.clone()
    };
    assert!(matches!(
        tq.consumer.renew(&foreign).await,
        Err(QueueError::LockLost)
    ));
    let owner: String = tq.cmd("GET", &[&lock_key]).await?;
    assert_eq!(owner, job.token, "a refused renewal changes nothing");

    let _: i64 = tq.cmd("DEL", &[&lock_key]).await?;
    assert!(matches!(
        tq.consumer.renew(&job).await,
        Err(QueueError::LockLost)
    ));
    tq.cleanup().await
}

#[tokio::test]
async fn complete_moves_the_job_to_completed() -> Result<()> {
    let tq = TestQueue::new().await?;
    let id = tq.queue.enqueue(CampaignId::new()).await?;
    let job = take(&tq).await?;
    let before = tq.server_ms().await?;
    tq.consumer.complete(&job).await?;
    let after = tq.server_ms().await?;

    let finished_on = parse_ms(tq.field(&id, "finishedOn").await?)?;
    assert!((before..=after).contains(&finished_on));
    assert_eq!(tq.field(&id, "returnvalue").await?.as_deref(), Some("null"));
    let completed = tq.zset("completed").await?;
    assert_eq!(completed, [(id.clone(), finished_on as f64)]);
    assert!(tq.list("active").await?.is_empty());
    let lock: Option<String> = tq.cmd("GET", &[&tq.key(&format!("{id}:lock"))]).await?;
    assert_eq!(lock, None);

    // Completing twice: the lock is gone.
    assert!(matches!(
        tq.consumer.complete(&job).await,
        Err(QueueError::LockLost)
    ));
    tq.cleanup().await
}

#[tokio::test]
async fn complete_without_our_lock_is_lock_lost_and_the_job_stays_active() -> Result<()> {
    let tq = TestQueue::new().await?;
    let id = tq.queue.enqueue(CampaignId::new()).await?;
    let job = take(&tq).await?;
    let lock_key = tq.key(&format!("{id}:lock"));

    // Stolen: another worker's token.
    let _: () = tq
        .cmd("SET", &[&lock_key, "other-worker", "PX", "30000"])
        .await?;
    assert!(matches!(
        tq.consumer.complete(&job).await,
        Err(QueueError::LockLost)
    ));
    assert!(matches!(
        tq.consumer.fail(&job, "x", true).await,
        Err(QueueError::LockLost)
    ));
    assert!(matches!(
        tq.consumer.release(&job).await,
        Err(QueueError::LockLost)
    ));
    let owner: String = tq.cmd("GET", &[&lock_key]).await?;
    assert_eq!(owner, "other-worker");

    // Expired: our lock, but it ran out before we completed.
    let _: () = tq.cmd("SET", &[&lock_key, &job.token, "PX", "300"]).await?;
    sleep_ms(450).await;
    assert!(matches!(
        tq.consumer.complete(&job).await,
        Err(QueueError::LockLost)
    ));

    assert_eq!(tq.list("active").await?, [id.as_str()]);
    assert!(tq.zset("completed").await?.is_empty());
    assert!(tq.zset("failed").await?.is_empty());
    assert_eq!(tq.field(&id, "finishedOn").await?, None);
    assert_eq!(tq.field(&id, "attemptsMade").await?, None);
    tq.cleanup().await
}

/// A job whose `attemptsMade` is not an integer (written by hand, or corrupted) cannot be
/// counted: failing it is refused with nothing changed, so the job stays in `active` under our
/// lock (before, it was taken out of `active` and then the count failed: in no list at all).
#[tokio::test]
async fn failing_a_job_with_a_corrupt_attempt_count_changes_nothing() -> Result<()> {
    let tq = TestQueue::new().await?;
    let id = tq.queue.enqueue(CampaignId::new()).await?;
    let job = take(&tq).await?;
    let job_key = tq.key(&id);
    let _: () = tq.cmd("HSET", &[&job_key, "attemptsMade", "two"]).await?;

    let refused = tq.consumer.fail(&job, "smtp down", true).await;
    assert!(
        matches!(&refused, Err(QueueError::Unknown(m)) if m.contains("attemptsMade")),
        "{refused:?}"
    );
    assert_eq!(tq.list("active").await?, [id.as_str()], "still active");
    assert_eq!(tq.field(&id, "attemptsMade").await?.as_deref(), Some("two"));
    assert_eq!(tq.field(&id, "failedReason").await?, None);
    let lock: String = tq.cmd("GET", &[&tq.key(&format!("{id}:lock"))]).await?;
    assert_eq!(lock, job.token, "still locked by us");
    assert!(tq.zset("delayed").await?.is_empty());
    assert!(tq.zset("failed").await?.is_empty());
    tq.cleanup().await
}

#[tokio::test]
async fn complete_honours_remove_on_complete() -> Result<()> {
    let tq = TestQueue::new().await?;
    // removeOnComplete: true deletes the job.
    let id = tq.queue.enqueue(CampaignId::new()).await?;
    let opts = r#"{"attempts":1,"removeOnComplete":true,"delay":0,"timestamp":1}"#;
    let _: i64 = tq.cmd("HSET", &[&tq.key(&id), "opts", opts]).await?;
    let job = take(&tq).await?;
    tq.consumer.complete(&job).await?;
    let exists: i64 = tq.cmd("EXISTS", &[&tq.key(&id)]).await?;
    assert_eq!(exists, 0);
    assert!(tq.zset("completed").await?.is_empty());
    assert!(tq.list("active").await?.is_empty());

    // removeOnComplete: 1 keeps only the newest.
    let opts = r#"{"attempts":1,"removeOnComplete":1,"delay":0,"timestamp":1}"#;
    let mut ids = Vec::new();
    for _ in 0..2 {
        let id = tq.queue.enqueue(CampaignId::new()).await?;
        let _: i64 = tq.cmd("HSET", &[&tq.key(&id), "opts", opts]).await?;
        let job = take(&tq).await?;
        tq.consumer.complete(&job).await?;
        sleep_ms(5).await;
        ids.push(id);
    }
    let completed: Vec<String> = tq
        .zset("completed")
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(completed, [ids[1].clone()]);
    let exists: i64 = tq.cmd("EXISTS", &[&tq.key(&ids[0])]).await?;
    assert_eq!(exists, 0, "the older completed job's hash is trimmed");
    tq.cleanup().await
}

#[tokio::test]
async fn fail_with_retry_backs_off_exponentially_through_delayed() -> Result<()> {
    let tq = TestQueue::with(|s| {
        s.job_attempts = 3;
        s.backoff_delay = Duration::from_millis(300);
    })
    .await?;
    let campaign = CampaignId::new();
    let id = tq.queue.enqueue(campaign).await?;
    let numeric: u64 = id.parse()?;

    let job = take(&tq).await?;
    let before = tq.server_ms().await?;
    tq.consumer.fail(&job, "smtp down 1", true).await?;
    let after = tq.server_ms().await?;

    let delayed = tq.zset("delayed").await?;
    assert_eq!(delayed.len(), 1);
    assert_eq!(delayed[0].0, id);
    let score = delayed[0].1 as u64;
    assert_eq!(
        score % 4096,
        numeric & 4095,
        "score = due*4096 + (id & 4095)"
    );
    let due = score / 4096;
    assert!(
        (before + 300..=after + 300).contains(&due),
        "first retry due {due}, failed between {before} and {after}"
    );
    assert_eq!(tq.field(&id, "attemptsMade").await?.as_deref(), Some("1"));
    assert_eq!(
        tq.field(&id, "failedReason").await?.as_deref(),
        Some("smtp down 1")
    );
    let stacktrace: Vec<String> =
        serde_json::from_str(&tq.field(&id, "stacktrace").await?.context("stacktrace")?)?;
    assert_eq!(stacktrace, ["smtp down 1"]);
    assert!(tq.list("active").await?.is_empty());
    let lock: Option<String> = tq.cmd("GET", &[&tq.key(&format!("{id}:lock"))]).await?;
    assert_eq!(lock, None);

    // Not due yet: maintain leaves it delayed.
    tq.consumer.maintain().await?;
    assert_eq!(tq.zset("delayed").await?.len(), 1);
    assert!(tq.list("wait").await?.is_empty());

    sleep_ms(400).await;
    tq.consumer.maintain().await?;
    assert!(tq.zset("delayed").await?.is_empty());
    assert_eq!(tq.list("wait").await?, [id.as_str()]);
    assert_eq!(tq.field(&id, "delay").await?.as_deref(), Some("0"));

    let job = take(&tq).await?;
    assert_eq!(job.attempts_made, 1);
    assert_eq!(job.campaign, Ok(campaign));
    let before = tq.server_ms().await?;
    tq.consumer.fail(&job, "smtp down 2", true).await?;
    let after = tq.server_ms().await?;
    let delayed = tq.zset("delayed").await?;
    let due = delayed[0].1 as u64 / 4096;
    assert!(
        (before + 900..=after + 900).contains(&due),
        "second retry waits 3 * 300 ms: due {due}, failed between {before} and {after}"
    );
    assert_eq!(tq.field(&id, "attemptsMade").await?.as_deref(), Some("2"));
    let stacktrace: Vec<String> =
        serde_json::from_str(&tq.field(&id, "stacktrace").await?.context("stacktrace")?)?;
    assert_eq!(stacktrace, ["smtp down 1", "smtp down 2"]);
    tq.cleanup().await
}

#[tokio::test]
async fn the_last_attempt_fails_for_good_into_failed() -> Result<()> {
    let tq = TestQueue::with(|s| {
        s.job_attempts = 2;
        s.backoff_delay = Duration::from_millis(100);
    })
    .await?;
    let id = tq.queue.enqueue(CampaignId::new()).await?;
    let job = take(&tq).await?;
    tq.consumer.fail(&job, "first", true).await?;
    sleep_ms(200).await;
    tq.consumer.maintain().await?;
    let job = take(&tq).await?;
    assert_eq!(job.attempts_made, 1);
    let before = tq.server_ms().await?;
    tq.consumer.fail(&job, "second", true).await?;
    let after = tq.server_ms().await?;

    let finished_on = parse_ms(tq.field(&id, "finishedOn").await?)?;
    assert!((before..=after).contains(&finished_on));
    assert_eq!(tq.zset("failed").await?, [(id.clone(), finished_on as f64)]);
    assert!(tq.zset("delayed").await?.is_empty());
    assert!(tq.list("active").await?.is_empty());
    assert!(tq.list("wait").await?.is_empty());
    assert_eq!(tq.field(&id, "attemptsMade").await?.as_deref(), Some("2"));
    assert_eq!(
        tq.field(&id, "failedReason").await?.as_deref(),
        Some("second")
    );
    let stacktrace: Vec<String> =
        serde_json::from_str(&tq.field(&id, "stacktrace").await?.context("stacktrace")?)?;
    assert_eq!(stacktrace, ["first", "second"]);
    tq.cleanup().await
}

#[tokio::test]
async fn fail_without_retry_fails_at_once_even_with_attempts_left() -> Result<()> {
    let tq = TestQueue::new().await?;
    let id = tq.queue.enqueue(CampaignId::new()).await?;
    let job = take(&tq).await?;
    tq.consumer.fail(&job, "permanent", false).await?;
    let failed = tq.zset("failed").await?;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, id);
    assert_eq!(tq.field(&id, "attemptsMade").await?.as_deref(), Some("1"));
    assert_eq!(
        tq.field(&id, "failedReason").await?.as_deref(),
        Some("permanent")
    );
    assert!(tq.zset("delayed").await?.is_empty());
    tq.cleanup().await
}

#[tokio::test]
async fn release_puts_the_job_back_at_the_head_of_wait() -> Result<()> {
    let tq = TestQueue::new().await?;
    let id1 = tq.queue.enqueue(CampaignId::new()).await?;
    let id2 = tq.queue.enqueue(CampaignId::new()).await?;
    let job = take(&tq).await?;
    assert_eq!(job.job_id, id1);
    tq.consumer.release(&job).await?;

    // The head is the right end: the released job is taken next, before id2.
    assert_eq!(tq.list("wait").await?, [id2.clone(), id1.clone()]);
    assert!(tq.list("active").await?.is_empty());
    let lock: Option<String> = tq.cmd("GET", &[&tq.key(&format!("{id1}:lock"))]).await?;
    assert_eq!(lock, None);
    assert_eq!(tq.field(&id1, "attemptsMade").await?, None);
    let again = take(&tq).await?;
    assert_eq!(again.job_id, id1);
    assert_eq!(again.attempts_made, 0);
    tq.cleanup().await
}

#[tokio::test]
async fn a_stalled_job_returns_to_wait_once_then_fails() -> Result<()> {
    let tq = TestQueue::with(|s| {
        s.lock_duration = Duration::from_millis(300);
        s.stalled_interval = Duration::from_millis(100);
    })
    .await?;
    let id = tq.queue.enqueue(CampaignId::new()).await?;
    let filler = tq.queue.enqueue(CampaignId::new()).await?;

    // The worker takes the job and dies: nobody renews its lock.
    let job = take(&tq).await?;
    assert_eq!(job.job_id, id);
    tq.consumer.maintain().await?;
    assert_eq!(tq.set_members("stalled").await?, [id.as_str()]);
    let pttl: i64 = tq.cmd("PTTL", &[&tq.key("stalled-check")]).await?;
    assert!((1..=100).contains(&pttl), "stalled-check PTTL {pttl}");
    // Throttled: a second check within the interval does nothing.
    tq.consumer.maintain().await?;
    assert_eq!(tq.list("active").await?, [id.as_str()]);

    sleep_ms(450).await;
    tq.consumer.maintain().await?;
    // Back at the head of wait (taken before the filler), counted once.
    assert_eq!(tq.list("wait").await?, [filler.clone(), id.clone()]);
    assert!(tq.list("active").await?.is_empty());
    assert_eq!(tq.field(&id, "stalledCounter").await?.as_deref(), Some("1"));
    assert!(matches!(
        tq.consumer.complete(&job).await,
        Err(QueueError::LockLost)
    ));

    // Taken again, and the second worker dies too.
    let job = take(&tq).await?;
    assert_eq!(job.job_id, id);
    sleep_ms(150).await;
    tq.consumer.maintain().await?;
    sleep_ms(450).await;
    let before = tq.server_ms().await?;
    tq.consumer.maintain().await?;
    let after = tq.server_ms().await?;
    let failed = tq.zset("failed").await?;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, id);
    assert!((before as f64..=after as f64).contains(&failed[0].1));
    assert_eq!(
        tq.field(&id, "failedReason").await?.as_deref(),
        Some("job stalled more than allowable limit")
    );
    assert_eq!(tq.field(&id, "stalledCounter").await?.as_deref(), Some("2"));
    assert!(tq.field(&id, "finishedOn").await?.is_some());
    assert!(tq.list("active").await?.is_empty());
    assert_eq!(tq.list("wait").await?, [filler]);
    tq.cleanup().await
}

#[tokio::test]
async fn a_job_whose_lock_is_renewed_is_not_stalled() -> Result<()> {
    let tq = TestQueue::with(|s| {
        s.lock_duration = Duration::from_millis(400);
        s.stalled_interval = Duration::from_millis(100);
    })
    .await?;
    let id = tq.queue.enqueue(CampaignId::new()).await?;
    let job = take(&tq).await?;
    for _ in 0..4 {
        tq.consumer.maintain().await?;
        sleep_ms(150).await;
        tq.consumer.renew(&job).await?;
    }
    tq.consumer.maintain().await?;
    assert_eq!(tq.list("active").await?, [id.as_str()]);
    assert_eq!(tq.field(&id, "stalledCounter").await?, None);
    tq.consumer.complete(&job).await?;
    assert_eq!(tq.zset("completed").await?.len(), 1);
    tq.cleanup().await
}

#[tokio::test]
async fn ping_answers_and_an_unreachable_redis_is_unavailable() -> Result<()> {
    let tq = TestQueue::new().await?;
    tq.queue.ping().await?;
    tq.consumer.ping().await?;

    let mut settings: QueueSettings = test_settings();
    settings.redis_url = "redis://127.0.0.1:1".to_owned();
    let err = RedisJobQueue::connect(settings.clone())
        .await
        .err()
        .context("connecting to a closed port must fail")?;
    ensure!(matches!(err, QueueError::Unavailable(_)), "got {err:?}");
    let err = RedisJobConsumer::connect(settings)
        .await
        .err()
        .context("must fail")?;
    ensure!(matches!(err, QueueError::Unavailable(_)), "got {err:?}");
    tq.cleanup().await
}
