//! Personal messages against the real binaries and an SMTP server whose raw messages are read:
//! merge tags rendered per recipient, the text part, and the checks made before anything is
//! stored.

use std::time::Duration;

use paloma_testkit::{SmtpRules, TestSmtpServer};
use serde_json::{Value, json};

use crate::common::Paloma;

/// A list whose recipients carry names and fields (one without a name, one hostile).
fn recipients() -> Value {
    json!([
        {"email": "ann@example.org", "name": "Ann", "fields": {"company": "Acme", "plan": "Pro"}},
        {"email": "bob@example.org", "fields": {"company": "Bobco", "plan": "Free"}},
        {"email": "eve@example.org", "name": "Eve",
         "fields": {"company": "<script>alert(1)</script>\r\nBcc: all@example.org", "plan": "x"}},
    ])
}

/// An SMTP server, and the API and a worker sending to it.
async fn sending() -> (TestSmtpServer, Paloma) {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    paloma.start_worker(&smtp.url(), &[]);
    (smtp, paloma)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_recipient_gets_their_own_subject_body_and_text_part() {
    let (smtp, paloma) = sending().await;
    let created = paloma
        .post(&json!({
            "subject": "{{ company }} news for {{ name | default('you') }}",
            "body": "<h1>Hello {{ name | default('there') }}</h1>\
                     <p>Your {{ plan }} plan at {{ company }}, sent to {{ email }}.</p>\
                     <p><a href=\"https://example.org/plans\">Plans</a></p>",
            "recipients": recipients(),
        }))
        .await;
    assert_eq!(created["mergeTags"], true, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(done["sentEmails"], 3, "{done}");

    let messages = smtp.messages();
    let of = |to: &str| {
        messages
            .iter()
            .find(|m| m.rcpt_to == [to])
            .unwrap_or_else(|| panic!("a message to {to}"))
    };
    let ann = of("ann@example.org");
    assert_eq!(ann.subject().as_deref(), Some("Acme news for Ann"));
    let html = ann.html_body().expect("html");
    assert!(
        html.contains("<h1>Hello Ann</h1><p>Your Pro plan at Acme, sent to ann@example.org.</p>"),
        "{html}"
    );
    let text = ann.text_body().expect("a text part");
    assert!(text.contains("Hello Ann"), "{text}");
    assert!(
        text.contains("Your Pro plan at Acme, sent to ann@example.org."),
        "{text}"
    );
    assert!(
        text.contains("https://example.org/plans"),
        "links stay readable: {text}"
    );
    assert!(
        ann.header("Content-Type")
            .is_some_and(|t| t.starts_with("multipart/alternative")),
        "{ann:?}"
    );

    let bob = of("bob@example.org");
    assert_eq!(bob.subject().as_deref(), Some("Bobco news for you"));
    assert!(
        bob.html_body()
            .expect("html")
            .contains("<h1>Hello there</h1>")
    );

    // A hostile value adds no header and no markup.
    let eve = of("eve@example.org");
    assert!(eve.header("Bcc").is_none(), "{eve:?}");
    let subject = eve.subject().expect("subject");
    assert!(!subject.contains(['\r', '\n']), "{subject:?}");
    let html = eve.html_body().expect("html");
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");

    // The recipients' data is listed with them.
    let rows = paloma.recipients(&id, "SENT").await;
    let ann_row = rows
        .iter()
        .find(|r| r["email"] == "ann@example.org")
        .expect("ann's row");
    assert_eq!(ann_row["fields"], json!({"company": "Acme", "plan": "Pro"}));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tag_without_a_value_or_a_syntax_error_is_422_and_nothing_is_stored() {
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let (status, body) = paloma
        .try_post(&json!({
            "subject": "Hi",
            "body": "<p>{{ company }} and {{ city }}</p>",
            "recipients": [
                {"email": "a@example.org", "fields": {"company": "A", "city": "Oslo"}},
                {"email": "b@example.org", "fields": {"company": "B"}},
                "c@example.org",
            ],
        }))
        .await;
    assert_eq!(status, 422, "{body}");
    let text = body.to_string();
    assert!(text.contains("{{ city }}"), "names the tag: {text}");
    let indexes: Vec<u64> = body["error"]["details"]["invalidRecipients"]
        .as_array()
        .unwrap_or_else(|| panic!("invalid recipients listed: {body}"))
        .iter()
        .filter_map(|r| r["index"].as_u64())
        .collect();
    assert_eq!(indexes, [1, 2], "{body}");

    let (status, body) = paloma
        .try_post(&json!({
            "subject": "Hi {{ name",
            "body": "<p>x</p>",
            "recipients": ["a@example.org"],
        }))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("subject"), "{body}");

    let (status, body) = paloma
        .try_post(&json!({
            "subject": "Hi",
            "body": "<p>x</p>",
            "recipients": [{"email": "a@example.org", "fields": {"first name": "A"}}],
        }))
        .await;
    assert_eq!(status, 422, "a field name that is no identifier: {body}");

    let list = paloma.get("/api/emails").await;
    assert_eq!(list["total"], 0, "nothing stored: {list}");
}

/// `POST /api/emails/preview`: one recipient's message as it would be sent, stored nowhere.
#[tokio::test(flavor = "multi_thread")]
async fn a_preview_renders_one_recipient_s_message_and_stores_nothing() {
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let preview = |recipient: Value| {
        let request = paloma
            .http
            .post(paloma.url("/api/emails/preview"))
            .json(&json!({
                "subject": "News for {{ name | default('you') }}",
                "body": "<p>{{ company }} &amp; {{ email }}</p><a href=\"{{ unsubscribe_url }}\">Leave</a>",
                "recipient": recipient,
            }))
            .send();
        async move {
            let response = request.await.expect("POST preview");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("json"))
        }
    };
    let (status, ann) = preview(json!({"email": "ann@example.org", "name": "Ann",
                                        "fields": {"company": "Acme"}}))
    .await;
    assert_eq!(status, 200, "{ann}");
    assert_eq!(ann["subject"], "News for Ann");
    assert_eq!(
        ann["html"],
        "<p>Acme &amp; ann@example.org</p><a href=\"https://paloma.invalid/u/preview\">Leave</a>"
    );
    assert!(
        ann["text"]
            .as_str()
            .expect("text")
            .contains("Acme & ann@example.org"),
        "{ann}"
    );
    let (status, bob) =
        preview(json!({"email": "bob@example.org", "fields": {"company": "Bobco"}})).await;
    assert_eq!(status, 200, "{bob}");
    assert_eq!(bob["subject"], "News for you");

    let (status, refused) = preview(json!("carl@example.org")).await;
    assert_eq!(status, 422, "no company: {refused}");
    assert!(refused.to_string().contains("{{ company }}"), "{refused}");
    assert_eq!(
        paloma.get("/api/emails").await["total"],
        0,
        "nothing stored"
    );
}

/// A campaign's own `From` (in an allowed domain: by default `MAIL_FROM`'s) and `Reply-To` are
/// on its messages; bounces still go to `MAIL_FROM`. A `From` elsewhere is `422`.
#[tokio::test(flavor = "multi_thread")]
async fn a_campaign_sends_from_its_own_sender_within_the_allowed_domains() {
    let (smtp, paloma) = sending().await;
    let created = paloma
        .post(&json!({
            "subject": "From the team",
            "body": "<p>x</p>",
            "recipients": ["ann@example.org"],
            "from": {"name": "The Team", "email": "team@localhost"},
            "replyTo": "help@desk.example",
        }))
        .await;
    assert_eq!(
        created["from"],
        json!({"name": "The Team", "email": "team@localhost"})
    );
    assert_eq!(created["replyTo"], "help@desk.example");
    let id = created["id"].as_str().expect("id").to_owned();
    paloma.wait_final(&id, Duration::from_secs(60)).await;
    let m = &smtp.messages()[0];
    let from = m.from_header();
    assert_eq!(
        (from[0].name.as_deref(), from[0].address.as_str()),
        (Some("The Team"), "team@localhost"),
        "{m:?}"
    );
    assert_eq!(m.header("Reply-To").as_deref(), Some("help@desk.example"));
    assert_eq!(m.mail_from, "no-reply@localhost", "bounces go to MAIL_FROM");

    let (status, body) = paloma
        .try_post(&json!({
            "subject": "Phish",
            "body": "<p>x</p>",
            "recipients": ["ann@example.org"],
            "from": {"email": "ceo@bank.example"},
        }))
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.to_string().contains("from.email"), "{body}");
}

/// An edit checks the template it leaves against the recipients it leaves, as creation does:
/// a new body needing a value the stored recipients lack is `422` and changes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn an_edit_checks_the_template_against_the_recipients_it_leaves() {
    let mut paloma = Paloma::new().await;
    paloma.start_api().await;
    let (status, created) = paloma
        .try_post(&json!({
            "subject": "Draft",
            "body": "<p>plain</p>",
            "recipients": [{"email": "a@example.org", "fields": {"company": "A"}}, "b@example.org"],
            "draft": true,
        }))
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["mergeTags"], false);
    let id = created["id"].as_str().expect("id").to_owned();
    let patch = |body: Value| {
        let request = paloma
            .http
            .patch(paloma.url(&format!("/api/emails/{id}")))
            .json(&body)
            .send();
        async move {
            let response = request.await.expect("PATCH");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("json"))
        }
    };
    let (status, refused) = patch(json!({"body": "<p>{{ company }}</p>"})).await;
    assert_eq!(status, 422, "b has no company: {refused}");
    assert!(refused.to_string().contains("{{ company }}"), "{refused}");
    let (status, edited) = patch(json!({"body": "<p>{{ company | default('you') }}</p>"})).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["mergeTags"], true);
    let (status, refused) = patch(json!({"recipients": ["c@example.org"]})).await;
    assert_eq!(
        status, 200,
        "a default covers a list without fields too: {refused}"
    );
    let (status, plain) = patch(json!({"body": "<p>plain again</p>"})).await;
    assert_eq!(status, 200, "{plain}");
    assert_eq!(plain["mergeTags"], false);
}
