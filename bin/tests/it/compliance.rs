//! Compliance against the real binaries and an SMTP server whose raw messages are read: every
//! message carries RFC 8058 one-click unsubscribe headers, the URL's one-click POST suppresses
//! the address, a new campaign then stores it `SUPPRESSED` and sends it nothing; a hard bounce
//! suppresses its address too.

use std::time::Duration;

use paloma_testkit::{SmtpRules, TestSmtpServer};
use serde_json::{Value, json};

use crate::common::Paloma;

const SECRET: &str = "a-test-unsubscribe-secret-of-at-least-32-bytes";

async fn started(smtp: &TestSmtpServer, worker_extra: &[(&str, &str)]) -> Paloma {
    let mut paloma = Paloma::new().await;
    paloma
        .start_api_with(&[("UNSUBSCRIBE_SECRET", SECRET)])
        .await;
    let public_url = paloma.url("");
    let mut env = vec![
        ("PUBLIC_URL", public_url.as_str()),
        ("UNSUBSCRIBE_SECRET", SECRET),
    ];
    env.extend_from_slice(worker_extra);
    paloma.start_worker(&smtp.url(), &env);
    paloma
}

fn campaign(subject: &str, emails: &[&str]) -> Value {
    json!({
        "subject": subject,
        "body": "<p>News.</p><p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>",
        "recipients": emails,
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_click_unsubscribe_suppresses_the_address_and_a_new_campaign_skips_it() {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let paloma = started(&smtp, &[("UNSUBSCRIBE_MAILTO", "leave@localhost")]).await;
    let first = paloma
        .post(&campaign("First", &["Ann@example.org", "bob@example.org"]))
        .await;
    let id = first["id"].as_str().expect("id").to_owned();
    paloma.wait_final(&id, Duration::from_secs(60)).await;

    let messages = smtp.messages();
    let ann = messages
        .iter()
        .find(|m| m.rcpt_to == ["Ann@example.org"])
        .expect("ann's message");
    let header = ann.header("List-Unsubscribe").expect("List-Unsubscribe");
    let prefix = format!("<{}/u/", paloma.url(""));
    assert!(header.starts_with(&prefix), "{header}");
    assert!(
        header.ends_with(", <mailto:leave@localhost?subject=unsubscribe>"),
        "{header}"
    );
    assert_eq!(
        ann.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let url = header[1..header.find('>').expect("closing >")].to_owned();
    let html = ann.html_body().expect("html");
    assert!(
        html.contains(&format!("href=\"{url}\"")),
        "the tag is the same link: {html}"
    );
    let bob = messages
        .iter()
        .find(|m| m.rcpt_to == ["bob@example.org"])
        .expect("bob's message");
    assert_ne!(
        bob.header("List-Unsubscribe"),
        Some(header.clone()),
        "a link per recipient"
    );

    // What a mailbox provider does: one POST, no key, no cookie, no further step.
    let anonymous = reqwest::Client::new();
    let response = anonymous
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("POST the one-click URL");
    assert_eq!(response.status().as_u16(), 200);
    let listed = paloma.get("/api/suppressions?search=ann").await;
    assert_eq!(listed["items"][0]["email"], "ann@example.org", "{listed}");
    assert_eq!(listed["items"][0]["campaignId"], id.as_str());

    let before = smtp.message_count();
    let second = paloma
        .post(&campaign(
            "Second",
            &["ANN@example.org", "bob@example.org", "carl@example.org"],
        ))
        .await;
    assert_eq!(second["suppressedEmails"], 1, "{second}");
    assert_eq!(second["pendingEmails"], 2, "{second}");
    let id2 = second["id"].as_str().expect("id").to_owned();
    let done = paloma.wait_final(&id2, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "COMPLETED");
    let n = |f: &str| done[f].as_u64().unwrap_or_else(|| panic!("{f}: {done}"));
    assert_eq!((n("sentEmails"), n("suppressedEmails")), (2, 1));
    assert_eq!(
        n("sentEmails")
            + n("failedEmails")
            + n("cancelledEmails")
            + n("suppressedEmails")
            + n("pendingEmails"),
        n("totalEmails")
    );
    let after: Vec<_> = smtp.messages()[before..]
        .iter()
        .flat_map(|m| m.rcpt_to.clone())
        .collect();
    assert_eq!(after.len(), 2);
    assert!(
        !after
            .iter()
            .any(|to| to.eq_ignore_ascii_case("ann@example.org")),
        "{after:?}"
    );
    let suppressed = paloma.recipients(&id2, "SUPPRESSED").await;
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["email"], "ANN@example.org");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hard_bounce_suppresses_its_address_unless_turned_off() {
    let smtp = TestSmtpServer::start(SmtpRules::default().reject_prefix("gone")).expect("smtp");
    let paloma = started(&smtp, &[]).await;
    let c = paloma
        .post(&campaign(
            "Bounces",
            &["gone1@example.org", "here@example.org"],
        ))
        .await;
    let id = c["id"].as_str().expect("id").to_owned();
    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(
        (done["sentEmails"].as_u64(), done["failedEmails"].as_u64()),
        (Some(1), Some(1))
    );
    let listed = paloma.get("/api/suppressions").await;
    let items = listed["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["email"], "gone1@example.org");
    assert_eq!(items[0]["reason"], "HARD_BOUNCE", "{listed}");

    let smtp2 = TestSmtpServer::start(SmtpRules::default().reject_prefix("gone")).expect("smtp");
    let off = started(&smtp2, &[("SUPPRESS_HARD_BOUNCES", "false")]).await;
    let c = off.post(&campaign("Bounces", &["gone2@example.org"])).await;
    off.wait_final(c["id"].as_str().expect("id"), Duration::from_secs(60))
        .await;
    assert_eq!(off.get("/api/suppressions").await["total"], 0);
}

/// An address suppressed after a campaign was stored (a draft sent later, a scheduled one) is
/// not sent either: the worker marks it `SUPPRESSED` when it starts the campaign.
#[tokio::test(flavor = "multi_thread")]
async fn an_address_suppressed_before_a_draft_is_sent_gets_nothing() {
    let smtp = TestSmtpServer::start(SmtpRules::default()).expect("smtp");
    let paloma = started(&smtp, &[]).await;
    let mut draft = campaign("Later", &["late@example.org", "keep@example.org"]);
    draft["draft"] = json!(true);
    let (status, created) = paloma.try_post(&draft).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["suppressedEmails"], 0);
    let id = created["id"].as_str().expect("id").to_owned();
    let added = paloma
        .http
        .post(paloma.url("/api/suppressions"))
        .json(&json!({"emails": ["Late@example.org"]}))
        .send()
        .await
        .expect("POST suppressions");
    assert_eq!(added.status().as_u16(), 200);
    let sent = paloma
        .http
        .post(paloma.url(&format!("/api/emails/{id}/send")))
        .send()
        .await
        .expect("send");
    assert_eq!(sent.status().as_u16(), 202);
    let done = paloma.wait_final(&id, Duration::from_secs(60)).await;
    assert_eq!(
        (
            done["sentEmails"].as_u64(),
            done["suppressedEmails"].as_u64()
        ),
        (Some(1), Some(1)),
        "{done}"
    );
    let to: Vec<String> = smtp
        .messages()
        .iter()
        .flat_map(|m| m.rcpt_to.clone())
        .collect();
    assert_eq!(to, ["keep@example.org"]);
}
