//! Paloma and the seeds' Node stack (`interop/node-stack`: an Express API and a bull worker on
//! mysql2 and nodemailer, writing only the seeds' columns) on one database and one bull queue,
//! each taking over the other's work: the way a team moves from one to the other, one process
//! at a time.

use std::process::Stdio;
use std::time::Duration;

use paloma_testkit::{SmtpRules, TestSmtpServer};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::common::{Paloma, REDIS_URL, addresses, by_recipient, campaign, interop_dir};

/// A `node` command for one of the Node stack's programs, on `paloma`'s database and queue.
fn node_stack(paloma: &Paloma, program: &str) -> Command {
    let mut cmd = Command::new("node");
    cmd.arg(format!("node-stack/{program}"))
        .current_dir(interop_dir())
        .env("DATABASE_URL", &paloma.db_url)
        .env("REDIS_URL", REDIS_URL)
        .env("QUEUE_PREFIX", &paloma.prefix)
        .env("QUEUE_NAME", "email-queue")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// The Node API, running; its port read from the `listening <port>` line it prints.
struct NodeApi {
    port: u16,
    http: reqwest::Client,
    _child: Child,
}

impl NodeApi {
    async fn start(paloma: &Paloma) -> Self {
        let mut child = node_stack(paloma, "api.js")
            .env("PORT", "0")
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn node api.js");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("read api.js stdout") {
                if let Some(port) = line.strip_prefix("listening ") {
                    return port.trim().parse::<u16>().expect("a port");
                }
            }
            panic!("node api.js exited before listening");
        })
        .await
        .expect("node api.js listens within 30 s");
        Self {
            port,
            http: reqwest::Client::new(),
            _child: child,
        }
    }

    /// `POST /api/emails` to the Node API, expecting its `202`.
    async fn post(&self, body: &Value) -> Value {
        let resp = self
            .http
            .post(format!("http://127.0.0.1:{}/api/emails", self.port))
            .json(body)
            .send()
            .await
            .expect("POST to the Node API");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.expect("json");
        assert_eq!(status, 202, "{body}");
        body
    }
}

/// Runs the Node worker until it has processed `jobs` jobs; returns its JSON lines (one per
/// job).
async fn run_node_worker(paloma: &Paloma, smtp: &TestSmtpServer, jobs: usize) -> Vec<Value> {
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        node_stack(paloma, "worker.js")
            .env("SMTP_HOST", "127.0.0.1")
            .env("SMTP_PORT", smtp.port().to_string())
            .env("WORKER_EXIT_AFTER", jobs.to_string())
            .output(),
    )
    .await
    .expect("the Node worker finishes within 60 s")
    .expect("run node worker.js");
    assert!(
        out.status.success(),
        "node worker.js failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// (a) The Node API stores and enqueues; `paloma-worker` sends; Paloma's API reports it.
#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_the_node_api_stores_is_sent_by_paloma_worker() {
    let smtp = TestSmtpServer::start(SmtpRules::default().reject_prefix("bounce")).expect("smtp");
    let mut paloma = Paloma::new().await;
    let node = NodeApi::start(&paloma).await;
    let mut recipients: Vec<Value> = addresses("node", 24).into_iter().map(Value::from).collect();
    recipients.push(json!({ "email": "bounce@example.org", "name": "Bounces" }));
    let created = node
        .post(
            &json!({ "subject": "Stored by Node", "body": "<p>hi</p>", "recipients": recipients }),
        )
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(created["jobId"], created["id"]);
    let uuid = uuid::Uuid::parse_str(&id).expect("a UUID");
    assert_eq!(uuid.get_version_num(), 4, "Node's crypto.randomUUID()");

    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(done["subject"], "Stored by Node");
    assert_eq!(
        (
            &done["totalEmails"],
            &done["sentEmails"],
            &done["failedEmails"],
            &done["pendingEmails"]
        ),
        (&json!(25), &json!(24), &json!(1), &json!(0)),
        "{done}"
    );
    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 24);
    assert!(received.values().all(|n| *n == 1), "nobody received two");
    let failed = paloma.recipients(&id, "FAILED").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["email"], "bounce@example.org");
    assert!(
        failed[0]["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("550")),
        "{}",
        failed[0]
    );
    let sent = paloma.recipients(&id, "SENT").await;
    assert_eq!(sent.len(), 24);
    assert!(
        sent.iter().all(|r| r["sentAt"].is_string()),
        "Paloma's worker records sentAt"
    );
}

/// (b) `paloma-api` stores and enqueues; the Node worker sends from the same tables; Paloma's
/// API shows the result, though the Node worker writes neither `sentAt` nor `attempts`.
#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_paloma_api_stores_is_sent_by_the_node_worker() {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let created = paloma
        .post(&campaign("Stored by Paloma", &addresses("p", 12)))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    assert_eq!(
        uuid::Uuid::parse_str(&id)
            .expect("a UUID")
            .get_version_num(),
        7,
        "Paloma's time-ordered ids"
    );

    let lines = run_node_worker(&paloma, &smtp, 1).await;
    assert_eq!(
        lines,
        vec![json!({ "jobUuid": id, "sent": 12, "failed": 0 })]
    );
    assert_eq!(by_recipient(&smtp).len(), 12);

    let done = paloma.campaign(&id).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(
        (
            &done["sentEmails"],
            &done["failedEmails"],
            &done["pendingEmails"]
        ),
        (&json!(12), &json!(0), &json!(0)),
        "{done}"
    );
    assert_eq!(done["progress"], 100.0);
    assert!(done["completedAt"].is_string(), "{done}");
    let sent = paloma.recipients(&id, "SENT").await;
    assert_eq!(sent.len(), 12);
    assert!(
        sent.iter().all(|r| r["sentAt"].is_null()),
        "the Node worker writes no sentAt"
    );
    // The timeline counts them all the same (by when their rows last changed).
    let timeline = paloma.get(&format!("/api/emails/{id}/timeline")).await;
    let points = timeline["points"].as_array().expect("points");
    let sent_total: u64 = points.iter().filter_map(|p| p["sent"].as_u64()).sum();
    assert_eq!(sent_total, 12, "{timeline}");
}

/// (c) A database the Node stack created and used is adopted by `paloma-api migrate`: its
/// campaigns read correctly, and one it left waiting in the queue is sent by `paloma-worker`.
#[tokio::test(flavor = "multi_thread")]
async fn paloma_api_migrate_adopts_a_database_the_node_stack_created() {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let db = paloma_mysql::testing::empty_database()
        .await
        .expect("empty database");
    let seed_schema = std::fs::read_to_string(interop_dir().join("seed-schema.sql"))
        .expect("interop/seed-schema.sql");
    paloma_mysql::testing::execute_script(&db.url, &seed_schema)
        .await
        .expect("the seeds' schema");
    let mut paloma = Paloma::on(db);

    // The Node stack at work: one campaign sent, one stored and queued but not sent yet.
    let node = NodeApi::start(&paloma).await;
    let sent_by_node = node
        .post(&campaign("Sent by Node", &addresses("before", 3)))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let lines = run_node_worker(&paloma, &smtp, 1).await;
    assert_eq!(lines[0]["sent"], 3, "{lines:?}");
    let left_waiting = node
        .post(&campaign("Left waiting", &addresses("after", 4)))
        .await["id"]
        .as_str()
        .expect("id")
        .to_owned();
    drop(node);

    let migrate = paloma
        .command(env!("CARGO_BIN_EXE_paloma-api"))
        .arg("migrate")
        .output()
        .await
        .expect("run paloma-api migrate");
    assert!(
        migrate.status.success(),
        "paloma-api migrate: {}",
        String::from_utf8_lossy(&migrate.stderr)
    );

    paloma.start_api().await;
    let before = paloma.campaign(&sent_by_node).await;
    assert_eq!(before["status"], "COMPLETED", "{before}");
    assert_eq!(
        (&before["sentEmails"], &before["pendingEmails"]),
        (&json!(3), &json!(0))
    );
    let listed = paloma.get("/api/emails").await;
    let subjects: Vec<&str> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["subject"].as_str())
        .collect();
    assert_eq!(
        subjects,
        vec!["Left waiting", "Sent by Node"],
        "newest first"
    );

    paloma.start_worker(&smtp.url(), &[]);
    let done = paloma
        .wait_final(&left_waiting, Duration::from_secs(60))
        .await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(
        (&done["sentEmails"], &done["failedEmails"]),
        (&json!(4), &json!(0))
    );
    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 7, "3 by Node before, 4 by Paloma after");
    assert!(received.values().all(|n| *n == 1), "nobody received two");
}

/// A Node bull worker holding a campaign's job does not listen to Paloma's stop requests and
/// marks everything it read as sent: a pause or a cancel then is refused (`409`, naming the
/// status) and changes nothing, and the campaign finishes with counters that add up.
#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_a_node_worker_holds_cannot_be_paused_or_cancelled_and_finishes_whole() {
    let smtp = TestSmtpServer::start(SmtpRules::default().delay(Duration::from_millis(100)))
        .expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let created = paloma
        .post(&campaign("Held by Node", &addresses("held", 60)))
        .await;
    let id = created["id"].as_str().expect("id").to_owned();
    let worker = node_stack(&paloma, "worker.js")
        .env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", smtp.port().to_string())
        .env("WORKER_EXIT_AFTER", "1")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn node worker.js");
    smtp.wait_for(5, Duration::from_secs(30)).await;
    assert!(smtp.message_count() >= 5, "the Node worker is sending");

    for action in ["pause", "cancel"] {
        let response = paloma
            .http
            .post(paloma.url(&format!("/api/emails/{id}/{action}")))
            .send()
            .await
            .expect(action);
        assert_eq!(response.status().as_u16(), 409, "{action}");
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"]["code"], "invalid_state");
        assert_eq!(body["error"]["details"]["status"], "PROCESSING", "{body}");
    }
    let out = tokio::time::timeout(Duration::from_secs(60), worker.wait_with_output())
        .await
        .expect("the Node worker finishes")
        .expect("node worker.js");
    assert!(out.status.success());
    let done = paloma.campaign(&id).await;
    assert_eq!(done["status"], "COMPLETED", "{done}");
    assert_eq!(
        (
            done["sentEmails"].as_u64(),
            done["cancelledEmails"].as_u64(),
            done["pendingEmails"].as_u64()
        ),
        (Some(60), Some(0), Some(0))
    );
    assert_eq!(smtp.message_count(), 60);
}

/// Pauses and cancels that race a Node bull worker taking the campaigns' jobs: campaigns queued
/// one after another, each paused or cancelled a moment after the last was posted. Each move
/// ends one of two defined ways: stored (the job was still waiting and is settled: the Node
/// worker never sees it, nobody of that campaign gets a message and the status stays), or
/// refused with `409` (the Node worker had it, or it had finished: it ends `COMPLETED` with every
/// address served once). Never a stored move that the Node worker then overrides.
#[tokio::test(flavor = "multi_thread")]
async fn moves_racing_a_node_worker_for_the_job_each_end_stored_or_refused() {
    const CAMPAIGNS: usize = 12;
    const EACH: usize = 4;
    let smtp =
        TestSmtpServer::start(SmtpRules::default().delay(Duration::from_millis(15))).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let _worker = node_stack(&paloma, "worker.js")
        .env("SMTP_HOST", "127.0.0.1")
        .env("SMTP_PORT", smtp.port().to_string())
        .env("WORKER_CONCURRENCY", "2")
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn node worker.js");

    let mut moves = Vec::new();
    for n in 0..CAMPAIGNS {
        let emails = addresses(&format!("race{n}-"), EACH);
        let id = paloma.post(&campaign("Race", &emails)).await["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let action = if n % 2 == 0 { "pause" } else { "cancel" };
        // Some moves come at once, some a moment later, while the worker is on another.
        tokio::time::sleep(Duration::from_millis((n as u64 % 3) * 10)).await;
        let response = paloma
            .http
            .post(paloma.url(&format!("/api/emails/{id}/{action}")))
            .send()
            .await
            .expect(action);
        moves.push((id, emails, action, response.status().as_u16()));
    }

    let received = |emails: &[String]| {
        let counts = by_recipient(&smtp);
        emails
            .iter()
            .map(|e| counts.get(e).copied().unwrap_or(0))
            .collect::<Vec<_>>()
    };
    for (id, emails, action, status) in &moves {
        let done = match (*action, *status) {
            (_, 409) => paloma.wait_final(id, Duration::from_secs(60)).await,
            ("pause" | "cancel", 200) => paloma.campaign(id).await,
            other => panic!("unexpected answer {other:?}"),
        };
        let expected = match (*action, *status) {
            (_, 409) => "COMPLETED",
            ("pause", _) => "PAUSED",
            _ => "CANCELLED",
        };
        assert_eq!(done["status"], expected, "{action} -> {status}: {done}");
        let n = |field: &str| {
            done[field]
                .as_u64()
                .unwrap_or_else(|| panic!("{field}: {done}"))
        };
        assert_eq!(
            n("sentEmails") + n("failedEmails") + n("cancelledEmails") + n("pendingEmails"),
            n("totalEmails"),
            "{done}"
        );
        let want = usize::from(*status == 409);
        let got = received(emails);
        assert!(
            got.iter().all(|n| *n == want),
            "{action} -> {status}: {got:?}"
        );
    }
    // Nothing changes afterwards: a stored move stays stored, and nothing of it is sent.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (id, emails, action, status) in &moves {
        if *status == 200 {
            let now = paloma.campaign(id).await;
            assert_ne!(now["status"], "COMPLETED", "{action} overridden: {now}");
            assert!(received(emails).iter().all(|n| *n == 0));
        }
    }
    let stored = moves.iter().filter(|m| m.3 == 200).count();
    println!("{stored} of {CAMPAIGNS} moves stored, the rest refused");
}
