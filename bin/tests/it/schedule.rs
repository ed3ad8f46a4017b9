//! Scheduled campaigns against the real binaries: nothing leaves before the time, the campaign
//! goes out right after it, also with the worker restarted and the delayed job lost in between
//! (the reconciler knows `scheduledAt`); nobody gets two messages; a scheduled campaign is moved
//! or sent now; times in the past, too far ahead or not RFC 3339 are refused.

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use paloma_testkit::{SmtpRules, TestSmtpServer};
use redis::AsyncCommands;
use serde_json::{Value, json};

use crate::common::{Paloma, addresses, assert_error_shape, by_recipient};

fn scheduled(subject: &str, emails: &[String], at: DateTime<Utc>) -> Value {
    json!({
        "subject": subject,
        "body": "<p>On time.</p>",
        "recipients": emails,
        "scheduledAt": at.to_rfc3339_opts(SecondsFormat::Millis, true),
    })
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {value}"))
}

async fn post(paloma: &Paloma, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = paloma.http.post(paloma.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_campaign_waits_for_its_time_across_a_worker_restart_and_a_lost_job() {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let worker_env = [("RECONCILE_INTERVAL_MS", "1000")];
    paloma.start_worker(&smtp.url(), &worker_env);

    let emails = addresses("monday", 30);
    let at = Utc::now() + TimeDelta::seconds(5);
    let (status, created) = paloma
        .try_post(&scheduled("Monday 9:00", &emails, at))
        .await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["status"], "SCHEDULED");
    assert_eq!(created["enqueued"], true);
    let at = time(&created["scheduledAt"]);
    let id = created["id"].as_str().expect("id").to_owned();

    // The worker stops, and Redis loses the delayed job (a restart without the append-only
    // file); a new worker's reconciler gives the campaign a delayed job again.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    paloma.sigterm_worker(0).await;
    let mut redis = paloma.redis().await;
    let delayed: Vec<String> = redis
        .zrange(paloma.key("delayed"), 0, -1)
        .await
        .expect("delayed");
    assert_eq!(delayed.len(), 1, "the campaign's job waits in delayed");
    let _: () = redis
        .del(&[paloma.key("delayed"), paloma.key(&delayed[0])])
        .await
        .expect("lose the job");
    paloma.start_worker(&smtp.url(), &worker_env);

    let before_due = at - TimeDelta::milliseconds(300);
    while Utc::now() < before_due {
        assert_eq!(smtp.message_count(), 0, "a message left before its time");
        let c = paloma.campaign(&id).await;
        assert_eq!(c["status"], "SCHEDULED", "{c}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let done = paloma.wait_final(&id, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "COMPLETED");
    assert_eq!(done["sentEmails"], 30);
    let started = time(&done["startedAt"]);
    let late = started - at;
    eprintln!(
        "scheduled campaign started {} ms after its time",
        late.num_milliseconds()
    );
    assert!(started >= at, "started {late} early");
    assert!(late < TimeDelta::seconds(2), "started {late} late");
    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 30);
    assert!(received.values().all(|n| *n == 1), "nobody twice");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scheduled_campaign_is_moved_or_sent_now_and_bad_times_are_refused() {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    let emails = addresses("later", 3);
    let now = Utc::now();

    for (at, why) in [
        (now - TimeDelta::minutes(1), "in the past"),
        (now + TimeDelta::days(366), "over a year ahead"),
    ] {
        let (status, refused) = paloma.try_post(&scheduled("Bad", &emails, at)).await;
        assert_eq!(status, 422, "{why}: {refused}");
        assert_error_shape(&refused, "validation_failed");
        assert_eq!(
            refused["error"]["details"]["fields"][0]["field"],
            "scheduledAt"
        );
    }
    let mut not_a_time = scheduled("Bad", &emails, now);
    not_a_time["scheduledAt"] = json!("next Monday");
    let (status, refused) = paloma.try_post(&not_a_time).await;
    assert_eq!(status, 422, "{refused}");
    let listed = paloma.get("/api/emails").await;
    assert_eq!(listed["total"], 0, "nothing stored");

    let (_, created) = paloma
        .try_post(&scheduled("Moved", &emails, now + TimeDelta::hours(1)))
        .await;
    let moved_id = created["id"].as_str().expect("id").to_owned();
    let new_time = now + TimeDelta::hours(5);
    let path = format!("/api/emails/{moved_id}/reschedule");
    let body = json!({ "scheduledAt": new_time.to_rfc3339_opts(SecondsFormat::Millis, true) });
    let (status, moved) = post(&paloma, &path, Some(body)).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["status"], "SCHEDULED");
    assert_eq!(
        time(&moved["scheduledAt"]),
        time(&json!(
            new_time.to_rfc3339_opts(SecondsFormat::Millis, true)
        ))
    );
    let past = json!({ "scheduledAt": (now - TimeDelta::hours(1)).to_rfc3339() });
    let (status, refused) = post(&paloma, &path, Some(past)).await;
    assert_eq!(status, 422, "{refused}");

    let started = Instant::now();
    let (status, sent) = post(&paloma, &format!("/api/emails/{moved_id}/send"), None).await;
    assert_eq!(
        (status, sent["status"].as_str()),
        (202, Some("PENDING")),
        "{sent}"
    );
    let done = paloma.wait_final(&moved_id, Duration::from_secs(20)).await;
    assert_eq!(done["status"], "COMPLETED");
    assert!(started.elapsed() < Duration::from_secs(20));
    let received = by_recipient(&smtp);
    assert_eq!(received.len(), 3);
    assert!(received.values().all(|n| *n == 1));

    let (status, late) = post(
        &paloma,
        &path,
        Some(json!({ "scheduledAt": new_time.to_rfc3339() })),
    )
    .await;
    assert_eq!(status, 409, "{late}");
    assert_eq!(late["error"]["details"]["status"], "COMPLETED");
    let trail = paloma
        .get(&format!("/api/emails/{moved_id}/activity"))
        .await;
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
            "campaign.scheduled",
            "campaign.rescheduled",
            "campaign.sent"
        ]
    );
}
