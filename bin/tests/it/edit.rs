//! Editing a draft or a scheduled campaign and duplicating a campaign, through the API (built
//! in-process on the real MariaDB and Redis): validation as at creation, `409` once sending has
//! begun, the scope a scheduled campaign needs, and the copy's recipients.

use chrono::{SecondsFormat, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::common::{TestApp, assert_error_shape, client_with_token};

async fn call(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = client.request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_draft_is_edited_with_the_rules_of_creation_until_it_is_sent() {
    let app = TestApp::spawn().await;
    let (status, draft) = app
        .post_json(&json!({
            "subject": "First try",
            "body": "<p>Old</p>",
            "recipients": ["a@example.org", "b@example.org"],
            "draft": true
        }))
        .await;
    assert_eq!(status, 201, "{draft}");
    let id = draft["id"].as_str().expect("id").to_owned();
    let url = app.url(&format!("/api/emails/{id}"));

    let (status, edited) = call(
        &app.client,
        reqwest::Method::PATCH,
        url.clone(),
        Some(json!({
            "subject": "Second try",
            "recipients": ["c@example.org", {"email": "C@example.org"}, "d@example.org"]
        })),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["subject"], "Second try");
    assert_eq!(
        (
            edited["totalEmails"].as_u64(),
            edited["duplicatesRemoved"].as_u64()
        ),
        (Some(2), Some(1))
    );
    let (_, with_body) = call(
        &app.client,
        reqwest::Method::GET,
        format!("{url}?includeBody=true"),
        None,
    )
    .await;
    assert_eq!(with_body["body"], "<p>Old</p>", "left as it was");

    for (bad, field) in [
        (json!({ "subject": "" }), "subject"),
        (
            json!({ "scheduledAt": (Utc::now() - TimeDelta::hours(1)).to_rfc3339() }),
            "scheduledAt",
        ),
        (json!({}), "body"),
    ] {
        let (status, refused) = call(
            &app.client,
            reqwest::Method::PATCH,
            url.clone(),
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, 422, "{bad}: {refused}");
        assert_error_shape(&refused, "validation_failed");
        assert_eq!(
            refused["error"]["details"]["fields"][0]["field"], field,
            "{refused}"
        );
    }
    let (status, refused) = call(
        &app.client,
        reqwest::Method::PATCH,
        url.clone(),
        Some(json!({ "recipients": ["not an address"] })),
    )
    .await;
    assert_eq!(status, 422, "{refused}");
    let (status, _) = call(
        &app.client,
        reqwest::Method::PATCH,
        url.clone(),
        Some(json!({ "cc": "x" })),
    )
    .await;
    assert_eq!(status, 422, "unknown fields are refused");

    // Scheduled: a key that may only create cannot change what will go out unreviewed.
    let at = Utc::now() + TimeDelta::hours(2);
    let at_text = at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let (status, _) = call(
        &app.client,
        reqwest::Method::PATCH,
        url.clone(),
        Some(json!({ "scheduledAt": at_text })),
    )
    .await;
    assert_eq!(status, 200);
    let (status, sent) = call(
        &app.client,
        reqwest::Method::POST,
        format!("{url}/send"),
        None,
    )
    .await;
    assert_eq!(
        (status, sent["status"].as_str()),
        (202, Some("SCHEDULED")),
        "{sent}"
    );
    let creator = client_with_token(&app.key("writer", "campaigns:read,campaigns:create").await);
    let (status, refused) = call(
        &creator,
        reqwest::Method::PATCH,
        url.clone(),
        Some(json!({ "subject": "Sneaky" })),
    )
    .await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        refused["error"]["details"]["requiredScope"],
        "campaigns:send"
    );
    let (status, cleared) = call(
        &app.client,
        reqwest::Method::PATCH,
        url.clone(),
        Some(json!({ "scheduledAt": null })),
    )
    .await;
    assert_eq!(status, 409, "a scheduled campaign keeps a time: {cleared}");
    let (status, _) = call(
        &app.client,
        reqwest::Method::POST,
        format!("{url}/send"),
        None,
    )
    .await;
    assert_eq!(status, 202, "sent now");
    let (status, late) = call(
        &app.client,
        reqwest::Method::PATCH,
        url.clone(),
        Some(json!({ "subject": "Too late" })),
    )
    .await;
    assert_eq!(status, 409, "{late}");
    assert_eq!(late["error"]["details"]["status"], "PENDING");

    let (_, trail) = call(
        &app.client,
        reqwest::Method::GET,
        format!("{url}/activity"),
        None,
    )
    .await;
    let edits = trail["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|e| e["action"] == "campaign.edited")
        .count();
    assert_eq!(edits, 2, "refused edits are not recorded");
}

#[tokio::test]
async fn a_duplicate_is_a_new_draft_with_the_chosen_recipients() {
    let app = TestApp::spawn().await;
    let (status, original) = app
        .post_json(&json!({
            "subject": "Original",
            "body": "<p>Same</p>",
            "recipients": ["a@example.org", "b@example.org", "c@example.org"],
        }))
        .await;
    assert_eq!(status, 202);
    let id = original["id"].as_str().expect("id").to_owned();
    let url = app.url(&format!("/api/emails/{id}/duplicate"));
    let creator = client_with_token(&app.key("writer", "campaigns:read,campaigns:create").await);

    let (status, copy) = call(&creator, reqwest::Method::POST, url.clone(), None).await;
    assert_eq!(status, 201, "{copy}");
    assert_eq!(copy["status"], "DRAFT");
    assert_eq!(copy["subject"], "Original");
    assert_eq!(copy["totalEmails"], 3);
    assert_ne!(copy["id"], original["id"]);

    let (status, none) = call(
        &creator,
        reqwest::Method::POST,
        url.clone(),
        Some(json!({ "recipients": "failed" })),
    )
    .await;
    assert_eq!(status, 409, "nothing failed: {none}");
    assert_error_shape(&none, "invalid_state");
    assert_eq!(none["error"]["details"]["status"], "PENDING");
    let (status, unsent) = call(
        &creator,
        reqwest::Method::POST,
        url.clone(),
        Some(json!({ "recipients": "unsent" })),
    )
    .await;
    assert_eq!(status, 201, "{unsent}");
    assert_eq!(unsent["totalEmails"], 3, "nothing sent yet: all of them");
    let (status, _) = call(
        &creator,
        reqwest::Method::POST,
        url.clone(),
        Some(json!({ "recipients": "some" })),
    )
    .await;
    assert_eq!(status, 422);
    let missing = app.url(&format!("/api/emails/{}/duplicate", uuid::Uuid::now_v7()));
    let (status, _) = call(&creator, reqwest::Method::POST, missing, None).await;
    assert_eq!(status, 404);
    let reader = client_with_token(&app.key("reader", "campaigns:read").await);
    let (status, _) = call(&reader, reqwest::Method::POST, url, None).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_waiting_campaign_says_how_many_come_before_it() {
    let app = TestApp::spawn().await;
    let mut ids = Vec::new();
    for subject in ["First", "Second"] {
        let (status, created) = app
            .post_json(
                &json!({ "subject": subject, "body": "<p>x</p>", "recipients": ["a@example.org"] }),
            )
            .await;
        assert_eq!(status, 202, "{created}");
        ids.push(created["id"].as_str().expect("id").to_owned());
    }
    let ahead = |id: &str| {
        let url = app.url(&format!("/api/emails/{id}"));
        let client = app.client.clone();
        async move {
            let (_, c) = call(&client, reqwest::Method::GET, url, None).await;
            c["queuedBehind"].clone()
        }
    };
    assert_eq!(ahead(&ids[0]).await, json!(0));
    assert_eq!(
        ahead(&ids[1]).await,
        json!(1),
        "no worker runs: the first waits too"
    );
    let (_, listed) = call(
        &app.client,
        reqwest::Method::GET,
        app.url("/api/emails"),
        None,
    )
    .await;
    assert_eq!(
        listed["items"][0]["queuedBehind"],
        Value::Null,
        "the list does not count"
    );
}
