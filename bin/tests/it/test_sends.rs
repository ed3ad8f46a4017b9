//! Test sends against the real binaries and an SMTP server whose raw messages are read: the
//! worker sends the campaign's message, rendered for the sample recipient and marked as a
//! test, to each address and the API answers each outcome; the campaign does not change.

use paloma_testkit::{SmtpRules, TestSmtpServer};
use serde_json::{Value, json};

use crate::common::Paloma;

const SECRET: &str = "a-test-unsubscribe-secret-of-at-least-32-bytes";

async fn test_send(paloma: &Paloma, id: &str, body: &Value) -> (u16, Value) {
    let resp = paloma
        .http
        .post(paloma.url(&format!("/api/emails/{id}/test")))
        .json(body)
        .send()
        .await
        .expect("POST test");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_reaches_the_inbox_rendered_for_its_sample_and_the_campaign_does_not_change() {
    let smtp = TestSmtpServer::start(
        SmtpRules::default().reject_prefix_with("nobody", "550 5.1.1 no such user"),
    )
    .expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma
        .start_api_with(&[("UNSUBSCRIBE_SECRET", SECRET)])
        .await;
    let public_url = paloma.url("");
    paloma.start_worker(
        &smtp.url(),
        &[
            ("PUBLIC_URL", public_url.as_str()),
            ("UNSUBSCRIBE_SECRET", SECRET),
        ],
    );
    let (status, draft) = paloma
        .try_post(&json!({
            "subject": "News for {{ name | default('you') }}",
            "body": "<p>{{ company }}</p><a href=\"{{ unsubscribe_url }}\">Leave</a>",
            "recipients": [{"email": "ann@example.org", "name": "Ann", "fields": {"company": "Acme"}}],
            "from": {"name": "The Team", "email": "team@localhost"},
            "draft": true,
        }))
        .await;
    assert_eq!(status, 201, "{draft}");
    let id = draft["id"].as_str().expect("id").to_owned();

    let (status, answer) = test_send(
        &paloma,
        &id,
        &json!({
            "to": ["me@example.org", "nobody@example.org"],
            "recipient": {"email": "zed@example.org", "name": "Zed <&>", "fields": {"company": "Zed & Co"}},
        }),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["results"][0],
        json!({"to": "me@example.org", "status": "sent"})
    );
    assert_eq!(answer["results"][1]["status"], "failed", "{answer}");
    let error = answer["results"][1]["error"].as_str().expect("error");
    assert!(error.contains("550"), "{error}");

    let messages = smtp.messages();
    assert_eq!(messages.len(), 1, "only the accepted address got it");
    let mine = &messages[0];
    assert_eq!(mine.rcpt_to, ["me@example.org"]);
    assert_eq!(mine.subject().as_deref(), Some("[Test] News for Zed <&>"));
    let html = mine.html_body().expect("html");
    assert!(html.contains("<p>Zed &amp; Co</p>"), "{html}");
    assert!(
        html.contains(paloma_domain::PREVIEW_UNSUBSCRIBE_URL),
        "the link unsubscribes nobody: {html}"
    );
    assert!(mine.text_body().expect("a text part").contains("Zed & Co"));
    assert!(mine.header("List-Unsubscribe").is_none(), "{mine:?}");
    let from = mine.header("From").expect("From");
    assert!(
        from.contains("team@localhost") && from.contains("The Team"),
        "{from}"
    );

    // No sample: the campaign's first recipient.
    let (status, answer) = test_send(&paloma, &id, &json!({"to": ["me@example.org"]})).await;
    assert_eq!(status, 200, "{answer}");
    let messages = smtp.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(
        messages[1].subject().as_deref(),
        Some("[Test] News for Ann")
    );

    // Refused before anything is handed to a worker.
    for bad in [
        json!({"to": []}),
        json!({"to": ["a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org", "f@x.org"]}),
        json!({"to": ["not an address"]}),
        json!({"to": ["me@example.org"], "recipient": {"email": "x@example.org"}}),
    ] {
        let (status, answer) = test_send(&paloma, &id, &bad).await;
        assert_eq!(status, 422, "{bad}: {answer}");
        assert_eq!(answer["error"]["code"], "validation_failed", "{answer}");
    }
    assert_eq!(smtp.messages().len(), 2);

    // The campaign is as it was, and the trail says who tested it.
    let campaign = paloma.campaign(&id).await;
    assert_eq!(campaign["status"], "DRAFT", "{campaign}");
    assert_eq!(campaign["sentEmails"], 0);
    assert_eq!(campaign["failedEmails"], 0);
    assert_eq!(campaign["pendingEmails"], 1);
    let activity = paloma.get(&format!("/api/emails/{id}/activity")).await;
    let tested = activity["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|a| a["action"] == "campaign.tested")
        .count();
    assert_eq!(tested, 2, "{activity}");
}
