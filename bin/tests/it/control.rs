//! A user's controls on a running campaign, against the real binaries and a counting SMTP
//! server: a pause lets at most `WORKER_CONCURRENCY` messages leave after it answers and a
//! resume serves everyone else once; a cancel ends `CANCELLED` with counters that add up and
//! its queue job settled; illegal moves are `409`; racing moves end in one defined state.

use std::time::{Duration, Instant};

use paloma_testkit::{SmtpRules, TestSmtpServer};
use redis::AsyncCommands;
use serde_json::Value;

use crate::common::{Paloma, addresses, assert_error_shape, by_recipient, campaign};

/// Messages in flight at once per worker in these tests.
const CONCURRENCY: usize = 4;

/// A slow server (each message takes 25 ms), so a campaign is still sending when it is paused.
fn slow_server() -> TestSmtpServer {
    TestSmtpServer::start(SmtpRules::default().delay(Duration::from_millis(25))).expect("smtp")
}

async fn started(smtp: &TestSmtpServer) -> Paloma {
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let concurrency = CONCURRENCY.to_string();
    paloma.start_worker(&smtp.url(), &[("WORKER_CONCURRENCY", &concurrency)]);
    paloma
}

/// `POST /api/emails/{id}/{action}`: the status code and the body.
async fn act(paloma: &Paloma, id: &str, action: &str) -> (u16, Value) {
    let response = paloma
        .http
        .post(paloma.url(&format!("/api/emails/{id}/{action}")))
        .send()
        .await
        .expect(action);
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

async fn create(paloma: &Paloma, subject: &str, emails: &[String]) -> String {
    let created = paloma.post(&campaign(subject, emails)).await;
    created["id"].as_str().expect("id").to_owned()
}

/// `sent + failed + cancelled + pending == total`, read from the API.
fn assert_counters_add_up(c: &Value) {
    let n = |field: &str| c[field].as_u64().unwrap_or_else(|| panic!("{field}: {c}"));
    assert_eq!(
        n("sentEmails") + n("failedEmails") + n("cancelledEmails") + n("pendingEmails"),
        n("totalEmails"),
        "{c}"
    );
}

/// Waits until `smtp` has received at least `count` messages.
async fn until_received(smtp: &TestSmtpServer, count: usize) {
    smtp.wait_for(count, Duration::from_secs(30)).await;
    assert!(
        smtp.message_count() >= count,
        "only {} arrived",
        smtp.message_count()
    );
}

/// Messages the server received for addresses starting with `prefix`.
fn received(smtp: &TestSmtpServer, prefix: &str) -> usize {
    by_recipient(smtp)
        .into_iter()
        .filter(|(address, _)| address.starts_with(prefix))
        .map(|(_, n)| n)
        .sum()
}

/// Waits until the campaign's `sentEmails` equals what the server received for its addresses
/// (all starting with `prefix`), once the messages in flight had time to arrive and their
/// outcomes to be written: its final view.
async fn settled(paloma: &Paloma, smtp: &TestSmtpServer, id: &str, prefix: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let c = paloma.campaign(id).await;
        if c["sentEmails"].as_u64() == Some(received(smtp, prefix) as u64) {
            return c;
        }
        assert!(Instant::now() < deadline, "outcomes never caught up: {c}");
    }
}

/// Whether any job of the queue is waiting or active.
async fn queue_is_idle(paloma: &Paloma) -> bool {
    let mut redis = paloma.redis().await;
    let wait: u64 = redis.llen(paloma.key("wait")).await.expect("wait");
    let active: u64 = redis.llen(paloma.key("active")).await.expect("active");
    wait == 0 && active == 0
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pause_lets_at_most_the_messages_in_flight_leave_and_resume_serves_everyone_once() {
    let smtp = slow_server();
    let paloma = started(&smtp).await;
    let emails = addresses("paused", 400);
    let id = create(&paloma, "Pause me", &emails).await;
    until_received(&smtp, 40).await;

    let (status, paused) = act(&paloma, &id, "pause").await;
    let at_answer = smtp.message_count();
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["status"], "PAUSED");
    assert_eq!(paused["worker"], "stopped", "{paused}");
    assert_counters_add_up(&paused);

    let view = settled(&paloma, &smtp, &id, "paused").await;
    let after = smtp.message_count() - at_answer;
    assert!(
        after <= CONCURRENCY,
        "{after} messages left after the pause answered"
    );
    assert_eq!(view["status"], "PAUSED");
    assert!(view["pendingEmails"].as_u64() > Some(100), "{view}");
    assert_counters_add_up(&view);
    assert!(queue_is_idle(&paloma).await, "the job is settled");
    let (status, again) = act(&paloma, &id, "pause").await;
    assert_eq!(status, 409, "{again}");
    assert_error_shape(&again, "invalid_state");
    assert_eq!(again["error"]["details"]["status"], "PAUSED");

    let (status, resumed) = act(&paloma, &id, "resume").await;
    assert_eq!(status, 202, "{resumed}");
    assert_eq!(resumed["status"], "PENDING");
    assert_eq!(resumed["enqueued"], true);
    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["sentEmails"], 400);
    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 400, "everyone served");
    assert!(received.values().all(|n| *n == 1), "nobody twice");
    let (status, late) = act(&paloma, &id, "resume").await;
    assert_eq!(
        (status, late["error"]["details"]["status"].as_str()),
        (409, Some("COMPLETED"))
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
        [
            "campaign.created",
            "campaign.sent",
            "campaign.paused",
            "campaign.resumed"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancel_ends_cancelled_with_counters_that_add_up_and_nothing_sent_after_the_in_flight() {
    let smtp = slow_server();
    let paloma = started(&smtp).await;
    let id = create(&paloma, "Cancel me", &addresses("cancelled", 300)).await;
    until_received(&smtp, 30).await;

    let (status, cancelled) = act(&paloma, &id, "cancel").await;
    let at_answer = smtp.message_count();
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["pendingEmails"], 0, "{cancelled}");
    assert!(cancelled["completedAt"].is_string());
    assert_counters_add_up(&cancelled);

    let view = settled(&paloma, &smtp, &id, "cancelled").await;
    assert!(smtp.message_count() - at_answer <= CONCURRENCY);
    assert_eq!(view["status"], "CANCELLED");
    assert_eq!(view["pendingEmails"], 0);
    assert_eq!(
        view["cancelledEmails"].as_u64(),
        Some(300 - smtp.message_count() as u64),
        "every message not sent is cancelled: {view}"
    );
    assert_counters_add_up(&view);
    let rows = paloma.recipients(&id, "CANCELLED").await;
    assert_eq!(Some(rows.len() as u64), view["cancelledEmails"].as_u64());
    assert!(queue_is_idle(&paloma).await, "the job is settled");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        smtp.message_count() as u64,
        view["sentEmails"].as_u64().unwrap_or_default()
    );

    for action in ["pause", "resume", "cancel", "send", "retry-failed"] {
        let (status, refused) = act(&paloma, &id, action).await;
        assert_eq!(status, 409, "{action}: {refused}");
        assert_eq!(refused["error"]["details"]["status"], "CANCELLED");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn moves_that_race_the_worker_and_each_other_end_in_one_defined_state() {
    let smtp = slow_server();
    let paloma = started(&smtp).await;

    // Paused right as it is released, while the worker takes and starts it: at most the
    // messages in flight when the pause answers leave after it; cancelled from there, the rest
    // are cancelled.
    let (status, early) = paloma
        .try_post(&serde_json::json!({
            "subject": "Held back",
            "body": "<p>x</p>",
            "recipients": addresses("early", 50),
            "draft": true
        }))
        .await;
    assert_eq!(status, 201, "{early}");
    let early = early["id"].as_str().expect("id").to_owned();
    let (status, sent) = act(&paloma, &early, "send").await;
    assert_eq!(status, 202, "{sent}");
    let (status, paused) = act(&paloma, &early, "pause").await;
    assert_eq!((status, paused["status"].as_str()), (200, Some("PAUSED")));
    let early_at_answer = received(&smtp, "early");

    // Pause then resume in quick succession, twice, and two resumes at once.
    let emails = addresses("quick", 200);
    let quick = create(&paloma, "Quick", &emails).await;
    until_received(&smtp, 10).await;
    for _ in 0..2 {
        let (status, _) = act(&paloma, &quick, "pause").await;
        assert_eq!(status, 200);
        let ((a, _), (b, _)) = tokio::join!(
            act(&paloma, &quick, "resume"),
            act(&paloma, &quick, "resume")
        );
        let mut answers = [a, b];
        answers.sort_unstable();
        assert_eq!(answers, [202, 409], "two resumes at once: one applies");
    }
    let done = paloma.wait_final(&quick, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["sentEmails"], 200);

    let (status, cancelled) = act(&paloma, &early, "cancel").await;
    assert_eq!(status, 200, "{cancelled}");
    assert_counters_add_up(&cancelled);
    let received = by_recipient(&smtp);
    let early_sent = received.keys().filter(|a| a.starts_with("early")).count();
    assert!(
        early_sent - early_at_answer <= CONCURRENCY,
        "{early_sent} sent, {early_at_answer} of them before the pause answered"
    );
    assert_eq!(cancelled["sentEmails"].as_u64(), Some(early_sent as u64));
    assert_eq!(
        cancelled["cancelledEmails"].as_u64(),
        Some(50 - early_sent as u64)
    );
    let quick_sent = received.keys().filter(|a| a.starts_with("quick")).count();
    assert_eq!(quick_sent, 200);
    assert!(received.values().all(|n| *n == 1), "nobody twice");

    // A pause and a cancel at once while it sends: it ends cancelled either way.
    let raced = create(&paloma, "Raced", &addresses("raced", 200)).await;
    until_received(&smtp, 200 + early_sent + 15).await;
    let ((pause, _), (cancel, _)) = tokio::join!(
        act(&paloma, &raced, "pause"),
        act(&paloma, &raced, "cancel")
    );
    assert_eq!(cancel, 200);
    assert!(pause == 200 || pause == 409, "{pause}");
    let view = settled(&paloma, &smtp, &raced, "raced").await;
    assert_eq!(view["status"], "CANCELLED");
    assert_eq!(view["pendingEmails"], 0);
    assert_counters_add_up(&view);
}

/// Waits up to `within` for the queue to hold no waiting or active job; whether it did.
async fn settles_within(paloma: &Paloma, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if queue_is_idle(paloma).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pause_stops_a_worker_waiting_for_a_rate_limit_slot_or_for_retries_to_be_due() {
    // Waiting for slots of a 4-per-second rate.
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let concurrency = CONCURRENCY.to_string();
    paloma.start_worker(
        &smtp.url(),
        &[
            ("WORKER_CONCURRENCY", &concurrency),
            ("SEND_RATE_LIMIT", "4/s"),
        ],
    );
    let throttled = create(&paloma, "Throttled", &addresses("slow", 60)).await;
    until_received(&smtp, 4).await;
    let (status, paused) = act(&paloma, &throttled, "pause").await;
    let at_answer = smtp.message_count();
    assert_eq!(
        (status, paused["worker"].as_str()),
        (200, Some("stopped")),
        "{paused}"
    );
    assert!(
        settles_within(&paloma, Duration::from_secs(2)).await,
        "the job is settled without waiting out the rate"
    );
    let view = settled(&paloma, &smtp, &throttled, "slow").await;
    assert!(smtp.message_count() - at_answer <= CONCURRENCY);
    assert_eq!(view["status"], "PAUSED");
    assert!(view["pendingEmails"].as_u64() > Some(40), "{view}");

    // Waiting for retries: every address is deferred once, and retried 10 s later at the
    // soonest; the pause does not wait for them.
    let (status, _) = act(&paloma, &throttled, "cancel").await;
    assert_eq!(status, 200);
    paloma.sigterm_worker(0).await;
    let greylisting =
        TestSmtpServer::start(SmtpRules::default().defer_once_prefix("grey")).expect("smtp");
    paloma.start_worker(
        &greylisting.url(),
        &[
            ("WORKER_CONCURRENCY", &concurrency),
            ("RETRY_BASE_DELAY_MS", "10000"),
        ],
    );
    let deferred = create(&paloma, "Greylisted", &addresses("grey", 8)).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let c = paloma.campaign(&deferred).await;
        let tried = paloma.recipients(&deferred, "PENDING").await;
        if c["status"] == "PROCESSING" && tried.iter().all(|r| r["attempts"] == 1) {
            break;
        }
        assert!(Instant::now() < deadline, "never deferred: {c}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, paused) = act(&paloma, &deferred, "pause").await;
    assert_eq!(
        (status, paused["worker"].as_str()),
        (200, Some("stopped")),
        "{paused}"
    );
    assert!(
        settles_within(&paloma, Duration::from_secs(2)).await,
        "the job is settled without waiting for the retries"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        greylisting.message_count(),
        0,
        "nothing was retried after the pause"
    );
    let view = paloma.campaign(&deferred).await;
    assert_eq!(
        (view["status"].as_str(), view["pendingEmails"].as_u64()),
        (Some("PAUSED"), Some(8))
    );
}

/// Pauses and cancels that race the end of a campaign (its last messages) or its failure
/// threshold (half its messages refused, judged after 20): each ends one defined way. Refused
/// (`409`): the campaign ended first, `COMPLETED` with everyone served once, or `FAILED` with
/// its stop reason. Stored: `PAUSED` with everything unsent still pending (a resume then ends
/// it as it would have ended), or `CANCELLED` with the unsent cancelled; nothing is sent after
/// the in-flight messages, and the counters add up at every step.
#[tokio::test(flavor = "multi_thread")]
async fn moves_racing_the_end_of_a_campaign_or_its_failure_threshold_end_defined() {
    let smtp = TestSmtpServer::start(
        SmtpRules::default()
            .reject_prefix("bounce")
            .delay(Duration::from_millis(10)),
    )
    .expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let concurrency = CONCURRENCY.to_string();
    paloma.start_worker(
        &smtp.url(),
        &[
            ("WORKER_CONCURRENCY", &concurrency),
            ("FAILURE_THRESHOLD_MIN_ATTEMPTS", "20"),
        ],
    );
    let n = |c: &Value, field: &str| c[field].as_u64().unwrap_or_else(|| panic!("{field}: {c}"));
    let mut tally = std::collections::BTreeMap::<String, usize>::new();
    for round in 0..8 {
        let threshold = round % 2 == 1;
        let action = if round % 4 < 2 { "pause" } else { "cancel" };
        let prefix = if threshold {
            format!("bounce{round}-")
        } else {
            format!("fine{round}-")
        };
        let emails = addresses(&prefix, if threshold { 40 } else { 24 });
        let id = create(&paloma, "Near the end", &emails).await;
        // Near the last message (of 24), or around the threshold (judged at the 20th outcome,
        // which the failed count shows a batch late): a little earlier or later each round.
        let near = if threshold {
            round as u64 % 3 * 6
        } else {
            20 + round as u64 % 3 * 2
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let c = paloma.campaign(&id).await;
            let done = if threshold {
                n(&c, "failedEmails")
            } else {
                received(&smtp, &prefix) as u64
            };
            if done >= near || c["status"] == "COMPLETED" || c["status"] == "FAILED" {
                break;
            }
            assert!(Instant::now() < deadline, "never got near: {c}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let (status, answer) = act(&paloma, &id, action).await;
        let outcome = match status {
            409 => {
                let c = paloma.wait_final(&id, Duration::from_secs(30)).await;
                if threshold {
                    assert_eq!(c["status"], "FAILED", "{c}");
                    assert!(c["stopReason"].is_string(), "{c}");
                } else {
                    assert_eq!(c["status"], "COMPLETED", "{c}");
                }
                assert_eq!(
                    answer["error"]["details"]["status"], c["status"],
                    "{answer}"
                );
                c["status"].as_str().expect("status").to_owned()
            }
            200 => {
                assert!(settles_within(&paloma, Duration::from_secs(10)).await);
                let c = paloma.campaign(&id).await;
                let stored = if action == "pause" {
                    "PAUSED"
                } else {
                    "CANCELLED"
                };
                assert_eq!(c["status"], stored, "{c}");
                assert_counters_add_up(&c);
                assert_eq!(n(&c, "sentEmails"), received(&smtp, &prefix) as u64, "{c}");
                if action == "pause" {
                    assert_eq!(n(&c, "cancelledEmails"), 0);
                    let (resumed, _) = act(&paloma, &id, "resume").await;
                    assert_eq!(resumed, 202);
                    let c = paloma.wait_final(&id, Duration::from_secs(30)).await;
                    let end = if threshold { "FAILED" } else { "COMPLETED" };
                    assert_eq!(c["status"], end, "{c}");
                    assert_counters_add_up(&c);
                } else {
                    assert_eq!(n(&c, "pendingEmails"), 0, "{c}");
                }
                format!("{stored} by {action}")
            }
            other => panic!("{action} answered {other}: {answer}"),
        };
        let c = paloma.campaign(&id).await;
        assert_counters_add_up(&c);
        assert!(
            by_recipient(&smtp)
                .iter()
                .all(|(address, count)| !address.starts_with(&prefix) || *count == 1),
            "nobody twice"
        );
        *tally.entry(outcome).or_default() += 1;
    }
    println!("outcomes: {tally:?}");
}
