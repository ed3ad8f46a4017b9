//! The adapter against a real Node bull 4.16.5 (`interop/*.js`): what docs/bull-protocol.md
//! promises a Node producer or worker sharing the queue.

use std::time::Duration;

use anyhow::{Context, Result};
use paloma_application::{JobConsumer, JobProducer};
use paloma_domain::CampaignId;
use serde_json::{Value, json};

use crate::helpers::{TestQueue, node};

fn json_line(line: &str) -> Result<Value> {
    serde_json::from_str(line).with_context(|| format!("not JSON: {line}"))
}

#[tokio::test]
async fn a_node_worker_processes_jobs_the_rust_producer_adds() -> Result<()> {
    let tq = TestQueue::new().await?;
    let first = CampaignId::new();
    let second = CampaignId::new();
    let id1 = tq.queue.enqueue(first).await?;
    let id2 = tq.queue.enqueue(second).await?;

    let lines = node(&tq.settings, "consume.js", &["2"], &[]).await?;
    assert_eq!(lines.len(), 3, "two jobs and the counts: {lines:?}");
    let job1 = json_line(&lines[0])?;
    let job2 = json_line(&lines[1])?;
    // FIFO: the first added is processed first.
    assert_eq!(job1["id"], json!(id1));
    assert_eq!(job1["name"], json!("__default__"));
    assert_eq!(job1["data"], json!({ "jobUuid": first.to_string() }));
    assert_eq!(job1["attemptsMade"], json!(0));
    assert_eq!(job1["opts"]["attempts"], json!(5));
    assert_eq!(
        job1["opts"]["backoff"],
        json!({ "type": "exponential", "delay": 10000 })
    );
    assert_eq!(job1["opts"]["delay"], json!(0));
    assert!(job1["opts"]["timestamp"].as_u64().is_some());
    assert_eq!(job2["id"], json!(id2));
    assert_eq!(job2["data"], json!({ "jobUuid": second.to_string() }));

    let counts = &json_line(&lines[2])?["counts"];
    assert_eq!(counts["completed"], json!(2));
    assert_eq!(counts["waiting"], json!(0));
    assert_eq!(counts["active"], json!(0));
    assert_eq!(counts["failed"], json!(0));
    let returnvalue = tq
        .field(&id1, "returnvalue")
        .await?
        .context("returnvalue")?;
    assert_eq!(
        serde_json::from_str::<Value>(&returnvalue)?,
        json!({ "sent": true, "jobUuid": first.to_string() })
    );
    tq.cleanup().await
}

#[tokio::test]
async fn the_rust_worker_completes_jobs_a_node_producer_adds() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    let lines = node(&tq.settings, "produce.js", &[&campaign.to_string()], &[]).await?;
    let id = lines.first().context("produce.js printed no id")?.clone();
    assert_eq!(id, "1");

    let job = tq
        .consumer
        .take(Duration::from_secs(2))
        .await?
        .context("the Node job")?;
    assert_eq!(job.job_id, id);
    assert_eq!(job.campaign, Ok(campaign));
    assert_eq!(job.attempts_made, 0);
    let lock: String = tq.cmd("GET", &[&tq.key(&format!("{id}:lock"))]).await?;
    assert_eq!(lock, job.token);
    tq.consumer.complete(&job).await?;

    let view = node(
        &tq.settings,
        "inspect.js",
        &[&id],
        &[("WAIT_FINISHED", "1")],
    )
    .await?;
    let view = json_line(view.first().context("inspect.js printed nothing")?)?;
    assert_eq!(view["state"], json!("completed"));
    assert_eq!(view["finished"], json!({ "ok": true, "value": null }));
    assert_eq!(view["data"], json!({ "jobUuid": campaign.to_string() }));
    assert!(view["processedOn"].as_u64().is_some());
    assert!(view["finishedOn"].as_u64() >= view["processedOn"].as_u64());
    assert_eq!(view["counts"]["completed"], json!(1));
    assert_eq!(view["counts"]["active"], json!(0));
    assert_eq!(view["counts"]["waiting"], json!(0));
    tq.cleanup().await
}

#[tokio::test]
async fn the_rust_worker_retries_with_the_node_jobs_own_backoff_and_node_sees_the_failure()
-> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    let opts = r#"{"attempts":2,"backoff":{"type":"exponential","delay":200}}"#;
    let lines = node(
        &tq.settings,
        "produce.js",
        &[&campaign.to_string(), opts],
        &[],
    )
    .await?;
    let id = lines.first().context("produce.js printed no id")?.clone();

    let job = tq
        .consumer
        .take(Duration::from_secs(2))
        .await?
        .context("job")?;
    let before = tq.server_ms().await?;
    tq.consumer.fail(&job, "smtp down", true).await?;
    let after = tq.server_ms().await?;
    // The job's own backoff (200 ms), not this producer's default (10 s).
    let delayed = tq.zset("delayed").await?;
    let due = delayed.first().context("delayed")?.1 as u64 / 4096;
    assert!((before + 200..=after + 200).contains(&due), "due {due}");

    tokio::time::sleep(Duration::from_millis(300)).await;
    tq.consumer.maintain().await?;
    let job = tq
        .consumer
        .take(Duration::from_secs(2))
        .await?
        .context("retry")?;
    assert_eq!(job.attempts_made, 1);
    tq.consumer.fail(&job, "bad address", true).await?;

    let view = node(
        &tq.settings,
        "inspect.js",
        &[&id],
        &[("WAIT_FINISHED", "1")],
    )
    .await?;
    let view = json_line(view.first().context("inspect.js printed nothing")?)?;
    assert_eq!(view["state"], json!("failed"));
    assert_eq!(view["attemptsMade"], json!(2));
    assert_eq!(view["failedReason"], json!("bad address"));
    assert_eq!(view["stacktrace"], json!(["smtp down", "bad address"]));
    assert_eq!(
        view["finished"],
        json!({ "ok": false, "error": "bad address" })
    );
    assert_eq!(view["counts"]["failed"], json!(1));
    tq.cleanup().await
}

#[tokio::test]
async fn a_node_worker_promotes_and_retries_a_job_the_rust_worker_delayed() -> Result<()> {
    let tq = TestQueue::with(|s| s.backoff_delay = Duration::from_millis(300)).await?;
    let campaign = CampaignId::new();
    let id = tq.queue.enqueue(campaign).await?;
    let job = tq
        .consumer
        .take(Duration::from_secs(2))
        .await?
        .context("job")?;
    tq.consumer.fail(&job, "smtp down", true).await?;
    assert_eq!(tq.zset("delayed").await?.len(), 1);

    // Node's own delayed-set promotion must read our score format.
    let lines = node(&tq.settings, "consume.js", &["1"], &[]).await?;
    let seen = json_line(lines.first().context("consume.js printed nothing")?)?;
    assert_eq!(seen["id"], json!(id));
    assert_eq!(seen["attemptsMade"], json!(1));
    assert_eq!(seen["data"], json!({ "jobUuid": campaign.to_string() }));
    let counts = &json_line(lines.last().context("counts")?)?["counts"];
    assert_eq!(counts["completed"], json!(1));
    assert_eq!(counts["delayed"], json!(0));
    tq.cleanup().await
}

#[tokio::test]
async fn a_node_worker_takes_a_job_the_rust_worker_released() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    let id = tq.queue.enqueue(campaign).await?;
    let job = tq
        .consumer
        .take(Duration::from_secs(2))
        .await?
        .context("job")?;
    tq.consumer.release(&job).await?;

    let lines = node(&tq.settings, "consume.js", &["1"], &[]).await?;
    let seen = json_line(lines.first().context("consume.js printed nothing")?)?;
    assert_eq!(seen["id"], json!(id));
    assert_eq!(seen["data"], json!({ "jobUuid": campaign.to_string() }));
    assert_eq!(seen["attemptsMade"], json!(0));
    let counts = &json_line(lines.last().context("counts")?)?["counts"];
    assert_eq!(counts["completed"], json!(1));
    assert_eq!(counts["active"], json!(0));
    tq.cleanup().await
}

/// Paloma's `opts`, keep options included, are what a Node producer writes for the same
/// options, key order included.
#[tokio::test]
async fn the_rust_producer_writes_the_opts_a_node_producer_writes() -> Result<()> {
    let tq = TestQueue::with(|s| {
        s.keep_completed = 250;
        s.keep_failed = 0;
    })
    .await?;
    let ours = tq.queue.enqueue(CampaignId::new()).await?;
    let opts = r#"{"attempts":5,"backoff":{"type":"exponential","delay":10000},"removeOnComplete":250,"removeOnFail":0}"#;
    let lines = node(
        &tq.settings,
        "produce.js",
        &[&CampaignId::new().to_string(), opts],
        &[],
    )
    .await?;
    let theirs = lines.first().context("produce.js printed no id")?;
    let without_time = |opts: Option<String>| -> Result<String> {
        let opts = opts.context("opts")?;
        let (head, _) = opts.split_once(r#""timestamp":"#).context("no timestamp")?;
        Ok(head.to_owned())
    };
    assert_eq!(
        without_time(tq.field(&ours, "opts").await?)?,
        without_time(tq.field(theirs, "opts").await?)?
    );
    tq.cleanup().await
}

/// A Node worker reads Paloma's keep options as numbers and trims `completed` by them.
#[tokio::test]
async fn a_node_worker_keeps_only_as_many_completed_jobs_as_the_rust_producer_says() -> Result<()> {
    let tq = TestQueue::with(|s| {
        s.keep_completed = 1;
        s.keep_failed = 7;
    })
    .await?;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(tq.queue.enqueue(CampaignId::new()).await?);
    }
    let lines = node(&tq.settings, "consume.js", &["3"], &[]).await?;
    assert_eq!(lines.len(), 4, "three jobs and the counts: {lines:?}");
    for line in &lines[..3] {
        let job = json_line(line)?;
        assert_eq!(job["opts"]["removeOnComplete"], json!(1), "{job}");
        assert_eq!(job["opts"]["removeOnFail"], json!(7), "{job}");
    }
    let counts = &json_line(&lines[3])?["counts"];
    assert_eq!(counts["completed"], json!(1), "{counts}");
    let mut kept = 0;
    for id in &ids {
        let exists: i64 = tq.cmd("EXISTS", &[&tq.key(id)]).await?;
        kept += exists;
    }
    assert_eq!(kept, 1, "the trimmed jobs' hashes are deleted too");
    tq.cleanup().await
}

/// A campaign scheduled ahead is a bull delayed job: a Node worker sees it only once due, with
/// the `delay` option Node itself would have written.
#[tokio::test]
async fn a_node_worker_takes_a_scheduled_job_only_when_it_is_due() -> Result<()> {
    let tq = TestQueue::new().await?;
    let campaign = CampaignId::new();
    let due = chrono::Utc::now() + chrono::TimeDelta::milliseconds(1500);
    let id = tq.queue.enqueue_due(campaign, due).await?;
    let lines = node(&tq.settings, "consume.js", &["1"], &[]).await?;
    let seen = json_line(lines.first().context("consume.js printed nothing")?)?;
    assert_eq!(seen["id"], json!(id));
    assert_eq!(seen["data"], json!({ "jobUuid": campaign.to_string() }));
    let delay = seen["opts"]["delay"].as_i64().context("opts.delay")?;
    assert!((1000..=1500).contains(&delay), "delay {delay} ms");
    let processed: i64 = tq
        .field(&id, "processedOn")
        .await?
        .context("processedOn")?
        .parse()?;
    assert!(
        processed >= due.timestamp_millis(),
        "taken {} ms before its time",
        due.timestamp_millis() - processed
    );
    tq.cleanup().await
}
