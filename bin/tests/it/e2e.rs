//! End to end: the real `paloma-api` and `paloma-worker` binaries against the real MariaDB,
//! Redis and an SMTP server started by the test; plus interop with Node's bull.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::common::{Paloma, REDIS_URL, addresses, by_recipient, campaign, interop_dir};
use paloma_testkit::{SmtpRules, TestSmtpServer};
use redis::AsyncCommands;
use serde_json::{Value, json};
use tokio::process::Command;

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_recipient_campaign_is_delivered_once_each() {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);

    let emails = addresses("user", 1000);
    let started = Instant::now();
    let created = paloma.post(&campaign("E2E thousand", &emails)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let done = paloma.wait_final(&id, Duration::from_secs(120)).await;
    let elapsed = started.elapsed();
    println!(
        "1,000-recipient campaign: POST to COMPLETED in {} ms",
        elapsed.as_millis()
    );

    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["sentEmails"], 1000);
    assert_eq!(done["failedEmails"], 0);
    assert_eq!(done["pendingEmails"], 0);
    assert_eq!(done["progress"], 100.0);
    assert!(done["completedAt"].is_string());

    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 1000, "every address received a message");
    assert!(received.values().all(|n| *n == 1), "nobody received two");
    let sent_rows = paloma.recipients(&id, "SENT").await;
    assert_eq!(sent_rows.len(), 1000, "every row SENT");
    let recipient_ids: HashMap<String, String> = sent_rows
        .iter()
        .filter_map(|r| {
            Some((
                r["email"].as_str()?.to_owned(),
                r["id"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let campaign_id: paloma_domain::CampaignId = id.parse().expect("uuid");
    for m in smtp.messages() {
        let to = &m.rcpt_to[0];
        assert_eq!(
            m.to_header().first().map(|t| t.address.clone()),
            Some(to.clone())
        );
        assert_eq!(m.subject().as_deref(), Some("E2E thousand"));
        let html = m.html_body().expect("html body");
        assert!(
            html.contains("<h1>E2E thousand</h1><p>Hello from Paloma.</p>"),
            "{html}"
        );
        let recipient_id: paloma_domain::RecipientId = recipient_ids
            .get(to)
            .expect("a row per address")
            .parse()
            .expect("uuid");
        let expected = paloma_domain::message_id(campaign_id, recipient_id, "localhost");
        assert_eq!(
            m.message_id().as_deref(),
            Some(expected.as_str()),
            "deterministic Message-ID"
        );
    }
    assert!(paloma.recipients(&id, "PENDING").await.is_empty());

    // The queue job completed.
    let mut redis = paloma.redis().await;
    let completed: usize = redis
        .zcard(format!("{}:email-queue:completed", paloma.prefix))
        .await
        .expect("zcard");
    assert_eq!(completed, 1);
}

/// A server reply longer than the `error` column holds (a multi-line reply of 70,000 bytes) is
/// recorded cut to 1,000 characters; before, the database refused the whole batch of outcomes,
/// the job was retried, and every recipient of the batch was sent again, over and over.
#[tokio::test(flavor = "multi_thread")]
async fn a_reply_longer_than_the_error_column_is_recorded_cut_and_nobody_is_sent_twice() {
    let line = format!("5.7.1 refused {}", "x".repeat(60));
    let mut reply = vec![format!("550-{line}"); 1_000].join("\r\n");
    reply.push_str(&format!("\r\n550 {line}"));
    assert!(reply.len() > 65_535, "longer than a TEXT column");
    let smtp = TestSmtpServer::start(SmtpRules::default().reject_prefix_with("long", reply))
        .expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    let mut emails = addresses("user", 40);
    emails.insert(17, "long-reply@example.org".to_owned());
    let created = paloma.post(&campaign("Long reply", &emails)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(
        (&done["sentEmails"], &done["failedEmails"]),
        (&json!(40), &json!(1))
    );
    let failed = paloma.recipients(&id, "FAILED").await;
    let error = failed[0]["error"].as_str().expect("an error text");
    assert!(error.starts_with("550 5.7.1 refused"), "{}", &error[..40]);
    assert_eq!(error.chars().count(), paloma_domain::MAX_ERROR_CHARS);
    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 40);
    assert!(received.values().all(|n| *n == 1), "nobody received two");
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_addresses_fail_and_deferred_ones_are_retried() {
    let smtp = TestSmtpServer::start(
        SmtpRules::default()
            .reject_prefix("bounce")
            .defer_once_prefix("grey"),
    )
    .expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);

    let mut emails = addresses("ok", 40);
    emails.extend(addresses("bounce", 7));
    emails.extend(addresses("grey", 9));
    let created = paloma.post(&campaign("Mixed", &emails)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(
        (done["sentEmails"].as_u64(), done["failedEmails"].as_u64()),
        (Some(49), Some(7))
    );

    let failed = paloma.recipients(&id, "FAILED").await;
    let sent = paloma.recipients(&id, "SENT").await;
    assert_eq!(
        (failed.len(), sent.len()),
        (7, 49),
        "counters equal the rows"
    );
    for r in &failed {
        let email = r["email"].as_str().expect("email");
        assert!(email.starts_with("bounce"));
        let error = r["error"].as_str().expect("error text");
        assert!(
            error.contains("550") && error.contains(email),
            "the server's reply: {error}"
        );
        assert_eq!(r["attempts"], 1);
    }
    for r in sent
        .iter()
        .filter(|r| r["email"].as_str().is_some_and(|e| e.starts_with("grey")))
    {
        assert_eq!(r["attempts"], 2, "deferred once, then sent: {r}");
    }
    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 49);
    assert!(received.keys().all(|k| !k.starts_with("bounce")));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_puts_the_job_back_and_another_worker_finishes_it_without_duplicates() {
    let smtp =
        TestSmtpServer::start(SmtpRules::default().delay(Duration::from_millis(20))).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[("WORKER_CONCURRENCY", "4")]);

    let emails = addresses("u", 400);
    let created = paloma.post(&campaign("Shutdown", &emails)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    smtp.wait_for(40, Duration::from_secs(30)).await;

    paloma.sigterm_worker(paloma.workers.len() - 1).await;

    // The job is back in `wait`, not stuck in `active`, and the campaign is mid-way.
    let mut redis = paloma.redis().await;
    let wait: Vec<String> = redis
        .lrange(format!("{}:email-queue:wait", paloma.prefix), 0, -1)
        .await
        .expect("lrange");
    let active: Vec<String> = redis
        .lrange(format!("{}:email-queue:active", paloma.prefix), 0, -1)
        .await
        .expect("lrange");
    assert_eq!((wait.len(), active.len()), (1, 0), "job released to wait");
    let mid = paloma.get(&format!("/api/emails/{id}")).await;
    let sent_before = smtp.messages().len();
    assert_eq!(
        mid["sentEmails"].as_u64(),
        Some(sent_before as u64),
        "every delivered message recorded"
    );
    assert!(sent_before < 400, "stopped mid-way");

    paloma.start_worker(&smtp.url(), &[]);
    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["sentEmails"], 400);
    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 400);
    assert!(
        received.values().all(|n| *n == 1),
        "no duplicates after a graceful stop"
    );
}

async fn node(paloma: &Paloma, script: &str, args: &[&str]) -> String {
    let out = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(interop_dir())
        .env("REDIS_URL", REDIS_URL)
        .env("QUEUE_PREFIX", &paloma.prefix)
        .env("QUEUE_NAME", "email-queue")
        .output()
        .await
        .expect("run node");
    assert!(
        out.status.success(),
        "node {script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_added_by_a_node_bull_producer_is_sent_by_paloma_worker() {
    use paloma_application::CampaignStore;
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    // Store a campaign without enqueueing it, as another service sharing the database would.
    let repo = paloma_mysql::MysqlDatabase::connect(&paloma.db_url, 2).expect("pool");
    let input = paloma_domain::NewCampaignInput {
        subject: "From Node".into(),
        body: "<p>queued by bull</p>".into(),
        recipients: addresses("n", 5)
            .into_iter()
            .map(paloma_domain::RecipientInput::address)
            .collect(),
        scheduled_at: None,
        from: None,
        reply_to: None,
    };
    let new = paloma_domain::NewCampaign::parse(input, 10, chrono::Utc::now()).expect("valid");
    let id = paloma_domain::CampaignId::new();
    repo.create(id, &new, chrono::Utc::now())
        .await
        .expect("stored");

    let job_id = node(&paloma, "produce.js", &[&id.to_string()]).await;
    assert!(!job_id.trim().is_empty());
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    let done = paloma
        .wait_final(&id.to_string(), Duration::from_secs(60))
        .await;
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["sentEmails"], 5);
    assert_eq!(by_recipient(&smtp).len(), 5);
    let mut redis = paloma.redis().await;
    let score: Option<f64> = redis
        .zscore(
            format!("{}:email-queue:completed", paloma.prefix),
            job_id.trim(),
        )
        .await
        .expect("zscore");
    assert!(
        score.is_some(),
        "Node's job completed in bull's completed set"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_enqueued_by_paloma_api_reaches_a_node_bull_worker() {
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let created = paloma.post(&campaign("To Node", &addresses("x", 2))).await;
    let id = created["id"].as_str().expect("id").to_owned();

    let out = node(&paloma, "consume.js", &["1"]).await;
    let lines: Vec<Value> = out
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let job = lines
        .iter()
        .find(|l| l.get("data").is_some())
        .expect("a job line");
    assert_eq!(job["data"], json!({ "jobUuid": id }));
    assert_eq!(job["name"], "__default__");
    let counts = &lines
        .iter()
        .find(|l| l.get("counts").is_some())
        .expect("counts line")["counts"];
    assert_eq!(counts["completed"], 1, "{counts}");
    assert_eq!(counts["waiting"], 0, "{counts}");
    assert_eq!(counts["active"], 0, "{counts}");
}

/// `SEND_RATE_LIMIT` is one budget for all workers: two workers, each sending its own campaign
/// at the same time, share 20 messages per second between them.
#[tokio::test(flavor = "multi_thread")]
async fn two_workers_share_one_send_rate_limit() {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    for _ in 0..2 {
        paloma.start_worker(
            &smtp.url(),
            &[("SEND_RATE_LIMIT", "20/s"), ("WORKER_CONCURRENCY", "5")],
        );
    }
    let a = paloma
        .post(&campaign("Rate A", &addresses("ratea", 30)))
        .await;
    let b = paloma
        .post(&campaign("Rate B", &addresses("rateb", 30)))
        .await;
    let ids = [a["id"].as_str().expect("id"), b["id"].as_str().expect("id")];
    for id in ids {
        let done = paloma.wait_final(id, Duration::from_secs(60)).await;
        assert_eq!(done["sentEmails"], 30, "{done}");
    }

    // When the SMTP server received each message, per campaign.
    let received = smtp.messages();
    let times_of = |prefix: &str| {
        let mut times: Vec<Instant> = received
            .iter()
            .filter(|m| m.rcpt_to.iter().any(|r| r.starts_with(prefix)))
            .map(|m| m.received_at)
            .collect();
        times.sort();
        times
    };
    let (times_a, times_b) = (times_of("ratea"), times_of("rateb"));
    assert_eq!((times_a.len(), times_b.len()), (30, 30));
    assert!(
        times_a[0] < times_b[29] && times_b[0] < times_a[29],
        "the two campaigns were sent at the same time, by the two workers"
    );
    let mut all: Vec<Instant> = [times_a, times_b].concat();
    all.sort();
    let span = all[59] - all[0];
    println!(
        "60 messages from two workers under one 20/s limit: {} ms from first to last",
        span.as_millis()
    );
    // 60 messages at 20/s together take about 3 s; at 20/s each they would take 1.5 s.
    assert!(span >= Duration::from_millis(2_800), "{span:?}");
    // The limit spaces the slots 50 ms apart (21 slots fit in one second). What is measured
    // here is when each message reached the SMTP server, which adds scheduling jitter: a
    // message whose worker was descheduled after its slot lands next to the following one, so
    // one extra message is tolerated. Two workers each at 20/s would put about 40 in a second.
    for (i, start) in all.iter().enumerate() {
        let within = all[i..]
            .iter()
            .take_while(|t| t.duration_since(*start) < Duration::from_secs(1))
            .count();
        assert!(within <= 22, "{within} messages within one second");
    }
}

/// Four eyes with the real binaries: a key made at the command line that may only create gets
/// a draft, which no worker sends (not the reconciler, not a stray job) until a key that may
/// send sends it; then every recipient gets one message. No token ever reaches the logs, even
/// at TRACE level.
#[tokio::test(flavor = "multi_thread")]
async fn a_draft_waits_for_a_send_key_and_no_token_reaches_the_logs() {
    use std::process::Stdio;

    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    let log_dir = tempfile::tempdir().expect("temp dir");
    let log_path = log_dir.path().join("api.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let api = paloma
        .command(env!("CARGO_BIN_EXE_paloma-api"))
        .env("API_ADDR", format!("127.0.0.1:{}", paloma.api_port))
        .env("BOOTSTRAP_API_KEY", &paloma.token)
        .env("RUST_LOG", "trace")
        .stdout(log.try_clone().expect("log file"))
        .stderr(Stdio::from(log))
        .spawn()
        .expect("spawn paloma-api");
    paloma.api = Some(api);
    paloma.wait_ready().await;
    paloma.start_worker(&smtp.url(), &[("RECONCILE_INTERVAL_MS", "200")]);

    let created = paloma
        .command(env!("CARGO_BIN_EXE_paloma-api"))
        .args(["keys", "create", "--name", "writer", "--scopes"])
        .arg("campaigns:read,campaigns:create")
        .output()
        .await
        .expect("keys create");
    assert!(created.status.success(), "{created:?}");
    let creator_token = String::from_utf8_lossy(&created.stdout)
        .lines()
        .last()
        .expect("the token on the last line")
        .to_owned();
    let creator = crate::common::client_with_token(&creator_token);
    let sender = paloma
        .http
        .post(paloma.url("/api/keys"))
        .json(&json!({ "name": "editor", "scopes": ["campaigns:read", "campaigns:send"] }))
        .send()
        .await
        .expect("POST /api/keys");
    assert_eq!(sender.status().as_u16(), 201);
    let sender: Value = sender.json().await.expect("json");
    let sender_token = sender["token"].as_str().expect("token").to_owned();
    let sender = crate::common::client_with_token(&sender_token);

    let emails = addresses("draft", 3);
    let response = creator
        .post(paloma.url("/api/emails"))
        .json(&campaign("Held for review", &emails))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status().as_u16(), 201);
    let draft: Value = response.json().await.expect("json");
    assert_eq!(draft["status"], "DRAFT");
    let id = draft["id"].as_str().expect("id").to_owned();

    // A stray job for it, as a Node producer or a hand could add: completed, nothing sent.
    let mut redis = paloma.redis().await;
    let stray = paloma_redis_queue::RedisJobQueue::connect({
        let mut settings = paloma_redis_queue::QueueSettings::new(&paloma.redis_url);
        settings.prefix = paloma.prefix.clone();
        settings
    })
    .await
    .expect("queue");
    use paloma_application::JobProducer;
    stray
        .enqueue(id.parse().expect("uuid"))
        .await
        .expect("stray job");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let completed: usize = redis.zcard(paloma.key("completed")).await.expect("zcard");
        if completed == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the stray job was not completed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Several reconciler rounds later, still nothing sent.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(smtp.messages().len(), 0, "a draft is never sent");
    assert_eq!(paloma.campaign(&id).await["status"], "DRAFT");

    let response = sender
        .post(paloma.url(&format!("/api/emails/{id}/send")))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status().as_u16(), 202);
    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["sentEmails"], 3);
    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 3);
    assert!(
        received.values().all(|n| *n == 1),
        "each once: {received:?}"
    );

    let trail = paloma.get(&format!("/api/emails/{id}/activity")).await;
    let who: Vec<(&str, &str)> = trail["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default(),
                e["keyName"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        who,
        [("campaign.created", "writer"), ("campaign.sent", "editor")]
    );

    // A wrong token is refused and logged without itself.
    let wrong = paloma_domain::ApiToken::generate().expose().to_owned();
    let refused = crate::common::client_with_token(&wrong)
        .get(paloma.url("/api/emails"))
        .send()
        .await
        .expect("GET");
    assert_eq!(refused.status().as_u16(), 401);

    paloma.stop_api().await;
    let logs = std::fs::read_to_string(&log_path).expect("read the log");
    assert!(logs.contains("refused an API key"), "the refusal is logged");
    for token in [&paloma.token, &creator_token, &sender_token, &wrong] {
        let secret = &token[12..];
        assert!(!logs.contains(secret), "a token in the API's log");
    }
}

/// A key revoked by another process (here the command line) stops working within a second,
/// even while the API remembers its lookups (`KEY_CACHE_MS`, at most 1,000 ms); one revoked
/// through the API stops at once (`access.rs`).
#[tokio::test(flavor = "multi_thread")]
async fn a_key_revoked_at_the_command_line_stops_working_within_a_second() {
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let created = paloma
        .http
        .post(paloma.url("/api/keys"))
        .json(&json!({ "name": "poller", "scopes": ["campaigns:read"] }))
        .send()
        .await
        .expect("POST /api/keys");
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.expect("json");
    let reader = crate::common::client_with_token(created["token"].as_str().expect("token"));
    let status = |client: reqwest::Client, url: String| async move {
        client.get(url).send().await.expect("GET").status().as_u16()
    };
    // Used, so that the API remembers its lookup.
    for _ in 0..3 {
        assert_eq!(status(reader.clone(), paloma.url("/api/emails")).await, 200);
    }
    let revoked = paloma
        .command(env!("CARGO_BIN_EXE_paloma-api"))
        .args(["keys", "revoke", created["id"].as_str().expect("id")])
        .output()
        .await
        .expect("keys revoke");
    assert!(revoked.status.success(), "{revoked:?}");
    let at = Instant::now();
    loop {
        if status(reader.clone(), paloma.url("/api/emails")).await == 401 {
            break;
        }
        // The TTL, plus room for one request on a busy machine.
        assert!(
            at.elapsed() < Duration::from_millis(1500),
            "still accepted after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "refused {} ms after the revocation",
        at.elapsed().as_millis()
    );
}

/// Retrying the failed with the real binaries: the recipients whose server was down (transient
/// failures, given up on) are sent again once it is back, each once; those the server refused
/// for good stay failed with `{"only": "transient"}`; the counters add up at every step.
#[tokio::test(flavor = "multi_thread")]
async fn retrying_the_failed_sends_each_of_them_once_and_leaves_refusals_alone() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let down = Arc::new(AtomicBool::new(true));
    let rules = SmtpRules::default().reject_prefix("bounce").reject_if_with(
        "421 4.3.2 service not available",
        {
            let down = down.clone();
            move |address| address.starts_with("flaky") && down.load(Ordering::SeqCst)
        },
    );
    let smtp = TestSmtpServer::start(rules).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[("RETRY_MAX_ATTEMPTS", "2")]);

    let mut emails = addresses("fine", 5);
    emails.extend(addresses("flaky", 4));
    emails.extend(addresses("bounce", 2));
    let created = paloma.post(&campaign("Retry the failed", &emails)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(
        (done["sentEmails"].as_u64(), done["failedEmails"].as_u64()),
        (Some(5), Some(6))
    );

    down.store(false, Ordering::SeqCst);
    let response = paloma
        .http
        .post(paloma.url(&format!("/api/emails/{id}/retry-failed")))
        .json(&json!({ "only": "transient" }))
        .send()
        .await
        .expect("retry-failed");
    assert_eq!(response.status().as_u16(), 202);
    let retried: Value = response.json().await.expect("json");
    assert_eq!(retried["requeued"], 4);
    assert_eq!(retried["failedEmails"], 2);
    assert_eq!(retried["pendingEmails"], 4);
    assert_eq!(
        retried["sentEmails"].as_u64().unwrap_or_default()
            + retried["failedEmails"].as_u64().unwrap_or_default()
            + retried["pendingEmails"].as_u64().unwrap_or_default(),
        11
    );

    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(
        (done["sentEmails"].as_u64(), done["failedEmails"].as_u64()),
        (Some(9), Some(2))
    );
    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 9, "every address but the refused ones");
    assert!(
        received.values().all(|n| *n == 1),
        "nobody twice: {received:?}"
    );
    let failed = paloma.recipients(&id, "FAILED").await;
    assert!(
        failed
            .iter()
            .all(|r| r["email"].as_str().is_some_and(|e| e.starts_with("bounce")))
    );

    // Nothing transient is left: nothing changes; a running campaign is refused.
    let nothing = paloma
        .http
        .post(paloma.url(&format!("/api/emails/{id}/retry-failed")))
        .json(&json!({ "only": "transient" }))
        .send()
        .await
        .expect("retry-failed");
    assert_eq!(nothing.status().as_u16(), 200);
    let nothing: Value = nothing.json().await.expect("json");
    assert_eq!(
        (nothing["requeued"].as_u64(), nothing["status"].as_str()),
        (Some(0), Some("COMPLETED"))
    );
    let trail = paloma.get(&format!("/api/emails/{id}/activity")).await;
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["campaign.created", "campaign.sent", "campaign.retried"]
    );
}
