//! The mailers against a real SMTP server (the testkit's), over real sockets.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use paloma_application::{Mailer, OutgoingMessage};
use paloma_domain::{CampaignId, DeliveryOutcome, RecipientId, message_id};
use paloma_smtp::{AnyMailer, FileMailer, SmtpMailer};
use paloma_testkit::{MailboxInfo, ReceivedMessage, SmtpRules, TestSmtpServer};
use tokio::task::JoinSet;

const FROM: &str = "Paloma <no-reply@paloma.test>";
const WAIT: Duration = Duration::from_secs(10);

fn outgoing(
    campaign: CampaignId,
    to: &str,
    name: Option<&str>,
    subject: &str,
    body: &str,
) -> OutgoingMessage {
    OutgoingMessage {
        campaign_id: campaign,
        recipient_id: RecipientId::new(),
        to: to.to_owned(),
        to_name: name.map(str::to_owned),
        subject: Arc::from(subject),
        html_body: Arc::from(body),
        text_body: Arc::from(paloma_domain::html_to_text(body)),
        sender: Arc::default(),
        unsubscribe: None,
    }
}

fn simple(to: &str) -> OutgoingMessage {
    outgoing(CampaignId::new(), to, None, "Hello", "<p>Hello</p>")
}

/// The body as lettre sends it: line endings become CRLF.
fn crlf(text: &str) -> String {
    text.replace("\r\n", "\n").replace('\n', "\r\n")
}

#[tokio::test]
async fn a_message_arrives_with_its_headers_and_body() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default())?;
    let mailer = SmtpMailer::new(&server.url(), FROM, 2)?;
    let subject =
        "Grüße aus Köln – été 🚀, a subject long enough to need folding when it is encoded";
    let body =
        "<html><body>\n<h1>Café ☕</h1>\n.a line starting with a dot\n<p>x</p>\n</body></html>\n";
    let message = outgoing(
        CampaignId::new(),
        "zoe@example.org",
        Some("Zoë Example"),
        subject,
        body,
    );

    assert_eq!(mailer.send(message.clone()).await, DeliveryOutcome::Sent);

    let received = server.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1);
    let m = &received[0];
    assert_eq!(m.mail_from, "no-reply@paloma.test");
    assert_eq!(m.rcpt_to, ["zoe@example.org"]);
    assert_eq!(
        m.from_header(),
        [MailboxInfo {
            name: Some("Paloma".into()),
            address: "no-reply@paloma.test".into()
        }]
    );
    assert_eq!(
        m.to_header(),
        [MailboxInfo {
            name: Some("Zoë Example".into()),
            address: "zoe@example.org".into()
        }]
    );
    assert_eq!(m.subject().as_deref(), Some(subject));
    // Non-ASCII subjects travel RFC 2047-encoded.
    assert!(
        m.header_raw("Subject")
            .is_some_and(|raw| raw.starts_with("=?utf-8?")),
        "{m:?}"
    );
    let expected_id = message_id(message.campaign_id, message.recipient_id, "paloma.test");
    assert_eq!(m.message_id(), Some(expected_id.clone()));
    assert_eq!(m.header_raw("Message-ID"), Some(expected_id));
    assert_eq!(m.header("MIME-Version").as_deref(), Some("1.0"));
    assert!(
        m.header("Content-Type")
            .is_some_and(|t| t.starts_with("multipart/alternative;")),
        "an HTML part and its text alternative: {m:?}"
    );
    assert_eq!(
        m.text_body().map(|b| b.trim_end().to_owned()),
        Some(crlf(message.text_body.trim_end()))
    );
    assert!(
        m.parsed().and_then(|p| p.date().cloned()).is_some(),
        "a Date header: {m:?}"
    );
    // lettre ends the data with CRLF . CRLF even when the body already ends with CRLF, so the
    // body gains one empty line at the end.
    assert_eq!(
        m.html_body().map(|b| b.trim_end().to_owned()),
        Some(crlf(body).trim_end().to_owned())
    );
    Ok(())
}

/// The names of a received message's headers, in order.
fn header_names(m: &ReceivedMessage) -> Vec<String> {
    m.parsed()
        .map(|p| p.headers().iter().map(|h| h.name().to_owned()).collect())
        .unwrap_or_default()
}

/// Unicode of every kind, and header injection attempts that bypassed the domain's validation
/// (an old row, another producer), arrive over a real SMTP dialogue as one message to one
/// recipient, with each header once, nothing injected, and the subject and name as they were.
#[tokio::test]
async fn hostile_subjects_and_names_arrive_intact_without_injected_headers() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default())?;
    let mailer = SmtpMailer::new(&server.url(), FROM, 1)?;
    let cases: [(&str, &str, &str); 5] = [
        (
            "emoji, RTL and combining marks",
            "👩\u{200d}💻 Nouveautés: שלום עולם \u{202e}txt.exe\u{202c} — Cafe\u{301} ☃",
            "זואי 👩\u{200d}🚀 Zoe\u{308}",
        ),
        (
            "CRLF in the subject",
            "Hello\r\nBcc: evil@attacker.test\r\nX-Injected: yes",
            "Eve",
        ),
        (
            "CRLF in the name",
            "Hello",
            "Eve\r\nBcc: evil@attacker.test\r\nX-Injected: yes",
        ),
        (
            "an empty line to start a body",
            "Hello\r\n\r\n<p>a new body</p>",
            "Eve\n\nX-Injected: yes",
        ),
        (
            "an encoded-word hiding a CRLF",
            "=?utf-8?q?Hi=0D=0ABcc:_evil@attacker.test?=",
            "=?utf-8?q?Eve=0D=0AX-Injected:_yes?=",
        ),
    ];
    for (i, (case, subject, name)) in cases.iter().enumerate() {
        let to = format!("target{i}@example.org");
        let message = outgoing(CampaignId::new(), &to, Some(name), subject, "<p>Hi</p>");
        assert_eq!(mailer.send(message).await, DeliveryOutcome::Sent, "{case}");

        let received = server.wait_for(i + 1, WAIT).await;
        assert_eq!(received.len(), i + 1, "{case}: one message per send");
        let m = &received[i];
        assert_eq!(
            m.rcpt_to,
            [to.as_str()],
            "{case}: no added envelope recipient"
        );
        let names = header_names(m);
        for expected in [
            "From",
            "To",
            "Subject",
            "Message-ID",
            "Date",
            "MIME-Version",
        ] {
            assert_eq!(
                names
                    .iter()
                    .filter(|n| n.eq_ignore_ascii_case(expected))
                    .count(),
                1,
                "{case}: one {expected} header in {names:?}"
            );
        }
        for injected in ["Bcc", "Cc", "X-Injected"] {
            assert!(
                !names.iter().any(|n| n.eq_ignore_ascii_case(injected)),
                "{case}: injected {injected} header in {names:?}"
            );
        }
        let head = m.data.split("\r\n\r\n").next().unwrap_or_default();
        assert!(
            !head.lines().any(|line| {
                let line = line.to_ascii_lowercase();
                line.starts_with("bcc:") || line.starts_with("x-injected:")
            }),
            "{case}: an injected line in {head:?}"
        );
        assert_eq!(m.subject().as_deref(), Some(*subject), "{case}: {head}");
        assert_eq!(
            m.html_body().as_deref().map(str::trim_end),
            Some("<p>Hi</p>"),
            "{case}: the body is untouched"
        );
        let expected_name = name.replace(char::is_control, " ").trim().to_owned();
        assert_eq!(
            m.to_header(),
            [MailboxInfo {
                name: Some(expected_name),
                address: to.clone()
            }],
            "{case}: {head}"
        );
    }
    Ok(())
}

/// Sends 100 messages at once through a mailer with 5 connections and checks they all
/// arrived over at most 5 connections.
async fn hundred_messages_over_five_connections() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default())?;
    let mailer = Arc::new(SmtpMailer::new(&server.url(), FROM, 5)?);
    let campaign = CampaignId::new();

    let mut tasks = JoinSet::new();
    for i in 0..100 {
        let mailer = Arc::clone(&mailer);
        let message = outgoing(
            campaign,
            &format!("user{i}@example.org"),
            None,
            "Pooled",
            "<p>hi</p>",
        );
        tasks.spawn(async move { mailer.send(message).await });
    }
    let mut sent = 0;
    while let Some(outcome) = tasks.join_next().await {
        assert_eq!(outcome?, DeliveryOutcome::Sent);
        sent += 1;
    }
    assert_eq!(sent, 100);

    let received = server.wait_for(100, WAIT).await;
    assert_eq!(received.len(), 100);
    let recipients: HashSet<_> = received.iter().flat_map(|m| m.rcpt_to.clone()).collect();
    assert_eq!(recipients.len(), 100);
    let ids: HashSet<_> = received
        .iter()
        .filter_map(ReceivedMessage::message_id)
        .collect();
    assert_eq!(ids.len(), 100, "every message has its own Message-ID");
    assert!(
        server.connections() <= 5,
        "{} connections for 100 messages",
        server.connections()
    );
    assert!(
        server.peak_connections() <= 5,
        "{} open at once",
        server.peak_connections()
    );
    Ok(())
}

#[tokio::test]
async fn a_hundred_messages_reuse_at_most_five_connections() -> anyhow::Result<()> {
    hundred_messages_over_five_connections().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_messages_reuse_at_most_five_connections_on_many_threads() -> anyhow::Result<()> {
    hundred_messages_over_five_connections().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn messages_sent_one_after_another_share_one_connection() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default())?;
    let mailer = SmtpMailer::new(&server.url(), FROM, 3)?;
    for i in 0..20 {
        let to = format!("seq{i}@example.org");
        assert_eq!(mailer.send(simple(&to)).await, DeliveryOutcome::Sent);
    }
    assert_eq!(server.wait_for(20, WAIT).await.len(), 20);
    // lettre parks a connection back in its pool from a task it spawns after the send, so on a
    // multi-threaded runtime the next message sometimes starts before that and opens a second
    // connection; both are then reused. Never one per message.
    assert!(
        server.connections() <= 3,
        "{} connections for 20 messages",
        server.connections()
    );
    Ok(())
}

#[tokio::test]
async fn a_5xx_reply_is_a_permanent_failure_with_the_reply_text() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default().reject_prefix("bounce"))?;
    let mailer = SmtpMailer::new(&server.url(), FROM, 2)?;

    let outcome = mailer.send(simple("bounce-1@example.org")).await;
    assert_eq!(
        outcome,
        DeliveryOutcome::Permanent("550 5.1.1 <bounce-1@example.org>: mailbox unavailable".into())
    );
    // The next message goes through (lettre closes a connection after a refusal).
    assert_eq!(
        mailer.send(simple("ok@example.org")).await,
        DeliveryOutcome::Sent
    );
    let received = server.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_to, ["ok@example.org"]);
    Ok(())
}

#[tokio::test]
async fn a_custom_5xx_reply_is_reported_as_the_server_wrote_it() -> anyhow::Result<()> {
    let rules =
        SmtpRules::default().reject_prefix_with("full", "552 5.2.2 mailbox full, try another day");
    let server = TestSmtpServer::start(rules)?;
    let mailer = SmtpMailer::new(&server.url(), FROM, 1)?;
    assert_eq!(
        mailer.send(simple("full@example.org")).await,
        DeliveryOutcome::Permanent("552 5.2.2 mailbox full, try another day".into())
    );
    Ok(())
}

#[tokio::test]
async fn a_4xx_reply_is_transient_and_the_retry_is_sent() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default().defer_once_prefix("greylist"))?;
    let mailer = SmtpMailer::new(&server.url(), FROM, 2)?;
    let message = simple("greylist@example.org");

    assert_eq!(
        mailer.send(message.clone()).await,
        DeliveryOutcome::Transient("451 4.3.0 try again later".into())
    );
    assert!(server.messages().is_empty());
    assert_eq!(mailer.send(message.clone()).await, DeliveryOutcome::Sent);

    let received = server.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].rcpt_to, ["greylist@example.org"]);
    let expected_id = message_id(message.campaign_id, message.recipient_id, "paloma.test");
    assert_eq!(
        received[0].message_id(),
        Some(expected_id),
        "a retry keeps its Message-ID"
    );
    Ok(())
}

#[tokio::test]
async fn a_server_that_is_down_is_a_transient_failure() -> anyhow::Result<()> {
    // A port that was free a moment ago and has no listener now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mailer = SmtpMailer::new(&format!("smtp://127.0.0.1:{port}"), FROM, 2)?;

    match mailer.send(simple("alice@example.org")).await {
        DeliveryOutcome::Transient(text) => {
            assert!(
                text.starts_with("could not talk to the SMTP server: "),
                "{text}"
            );
            assert!(text.to_lowercase().contains("refused"), "{text}");
        }
        other => panic!("expected a transient failure, got {other:?}"),
    }
    Ok(())
}

#[tokio::test]
async fn a_server_that_stops_answering_is_cut_by_the_timeout() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default().delay(Duration::from_secs(3)))?;
    let mailer = SmtpMailer::new(&server.url(), FROM, 1)?
        .with_timeouts(Duration::from_secs(1), Duration::from_millis(300));

    let started = std::time::Instant::now();
    let outcome = mailer.send(simple("alice@example.org")).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        outcome,
        DeliveryOutcome::Transient(
            "the SMTP server did not complete the delivery within 0.3 s".into()
        )
    );
    // The possibly half-finished connection is not reused: the next attempt opens a new one.
    let _ = mailer.send(simple("bob@example.org")).await;
    assert_eq!(server.connections(), 2);
    Ok(())
}

#[tokio::test]
async fn credentials_in_the_url_are_used() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default())?;
    let url = format!(
        "smtp://mailer%40paloma:p%40ss%20word@127.0.0.1:{}",
        server.port()
    );
    let mailer = SmtpMailer::new(&url, FROM, 1)?;
    assert!(!format!("{mailer:?}").contains("word"));

    assert_eq!(
        mailer.send(simple("alice@example.org")).await,
        DeliveryOutcome::Sent
    );
    let received = server.wait_for(1, WAIT).await;
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].auth_user.as_deref(), Some("mailer@paloma"));
    Ok(())
}

#[tokio::test]
async fn an_unusable_address_fails_permanently_without_connecting() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default())?;
    let mailer = SmtpMailer::new(&server.url(), FROM, 1)?;
    match mailer.send(simple("not an address")).await {
        DeliveryOutcome::Permanent(text) => {
            assert!(
                text.starts_with("invalid recipient address \"not an address\""),
                "{text}"
            );
        }
        other => panic!("expected a permanent failure, got {other:?}"),
    }
    assert_eq!(server.connections(), 0);
    Ok(())
}

#[tokio::test]
async fn shutdown_closes_pooled_connections_and_sending_still_works_after() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default())?;
    let mailer = SmtpMailer::new(&server.url(), FROM, 1)?;
    assert_eq!(
        mailer.send(simple("a@example.org")).await,
        DeliveryOutcome::Sent
    );
    assert_eq!(
        mailer.send(simple("b@example.org")).await,
        DeliveryOutcome::Sent
    );
    assert_eq!(
        server.connections(),
        1,
        "the second message reuses the connection"
    );
    mailer.shutdown().await;
    assert_eq!(
        mailer.send(simple("c@example.org")).await,
        DeliveryOutcome::Sent
    );
    assert_eq!(server.connections(), 2);
    assert_eq!(server.wait_for(3, WAIT).await.len(), 3);
    Ok(())
}

#[tokio::test]
async fn any_mailer_sends_over_smtp_when_a_url_is_given() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default())?;
    let dir = tempfile::tempdir()?;
    let url = server.url();
    let mailer = AnyMailer::from_config(Some(&url), FROM, 3, dir.path())?;
    assert_eq!(
        mailer.send(simple("alice@example.org")).await,
        DeliveryOutcome::Sent
    );
    assert_eq!(server.wait_for(1, WAIT).await.len(), 1);
    assert_eq!(
        std::fs::read_dir(dir.path())?.count(),
        0,
        "nothing written to the outbox"
    );
    Ok(())
}

#[tokio::test]
async fn the_file_mailer_writes_one_parseable_eml_per_message() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let outbox = dir.path().join("outbox");
    let mailer = AnyMailer::from_config(None, FROM, 5, &outbox)?;
    let campaign = CampaignId::new();
    let messages: Vec<_> = (0..3)
        .map(|i| {
            outgoing(
                campaign,
                &format!("r{i}@example.org"),
                Some("Rë"),
                "Bonjour à tous",
                "<p>é</p>",
            )
        })
        .collect();
    for message in &messages {
        assert_eq!(mailer.send(message.clone()).await, DeliveryOutcome::Sent);
    }

    let mut files = Vec::new();
    for entry in std::fs::read_dir(&outbox)? {
        let path = entry?.path();
        assert_eq!(
            path.extension().and_then(|e| e.to_str()),
            Some("eml"),
            "{}",
            path.display()
        );
        files.push(std::fs::read_to_string(&path)?);
    }
    assert_eq!(files.len(), 3);

    let mut ids = HashSet::new();
    for data in files {
        let eml = ReceivedMessage {
            mail_from: String::new(),
            rcpt_to: Vec::new(),
            data,
            auth_user: None,
            connection: 0,
            received_at: std::time::Instant::now(),
        };
        assert_eq!(eml.subject().as_deref(), Some("Bonjour à tous"));
        assert_eq!(eml.html_body().as_deref(), Some("<p>é</p>"));
        assert_eq!(eml.from_header()[0].address, "no-reply@paloma.test");
        let to = &eml.to_header()[0];
        assert_eq!(to.name.as_deref(), Some("Rë"));
        ids.insert((to.address.clone(), eml.message_id()));
    }
    let expected: HashSet<_> = messages
        .iter()
        .map(|m| {
            (
                m.to.clone(),
                Some(message_id(m.campaign_id, m.recipient_id, "paloma.test")),
            )
        })
        .collect();
    assert_eq!(ids, expected);
    Ok(())
}

#[tokio::test]
async fn the_file_mailer_creates_its_directory() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let outbox = dir.path().join("a").join("b");
    let mailer = FileMailer::new(&outbox, "no-reply@localhost")?;
    assert_eq!(mailer.dir(), outbox);
    assert!(outbox.is_dir());
    assert_eq!(
        mailer.send(simple("x@example.org")).await,
        DeliveryOutcome::Sent
    );
    assert_eq!(std::fs::read_dir(&outbox)?.count(), 1);
    Ok(())
}

/// A body with bare CRs and LFs, the sequence that ends SMTP data early for a server taking a
/// bare CR as a line end (`\r.\r\n`, then a smuggled command), and a NUL: on the wire every
/// line ends in CRLF and no NUL is sent (quoted-printable escapes it), and the recipient
/// decodes the text with its line breaks as CRLF.
#[tokio::test]
async fn bare_cr_lf_and_nul_in_a_body_never_reach_the_server_raw() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default())?;
    let mailer = SmtpMailer::new(&server.url(), FROM, 1)?;
    let cases = [
        (
            "smuggling",
            "<p>x</p>\r.\r\nMAIL FROM:<evil@attacker.test>\r\n<p>y</p>",
            false,
        ),
        (
            "bare LF and CR",
            "<p>one</p>\n<p>two</p>\r<p>three</p>",
            false,
        ),
        ("NUL", "<p>a\0b</p>\r\n<p>c</p>", true),
    ];
    for (i, (case, body, has_nul)) in cases.iter().enumerate() {
        let to = format!("body{i}@example.org");
        let message = outgoing(CampaignId::new(), &to, None, "Hello", body);
        assert_eq!(mailer.send(message).await, DeliveryOutcome::Sent, "{case}");
        let received = server.wait_for(i + 1, WAIT).await;
        assert_eq!(
            received.len(),
            i + 1,
            "{case}: one message, nothing smuggled"
        );
        let data = received[i].data.as_bytes();
        for (at, byte) in data.iter().enumerate() {
            match byte {
                b'\r' => assert_eq!(data.get(at + 1), Some(&b'\n'), "{case}: bare CR at {at}"),
                b'\n' => assert_eq!(
                    data.get(at.wrapping_sub(1)),
                    Some(&b'\r'),
                    "{case}: bare LF at {at}"
                ),
                0 => panic!("{case}: a NUL on the wire at {at}"),
                _ => {}
            }
        }
        let normalized = body
            .replace("\r\n", "\n")
            .replace('\r', "\n")
            .replace('\n', "\r\n");
        let decoded = received[i].html_body().expect("an HTML body");
        assert_eq!(decoded.trim_end(), normalized.trim_end(), "{case}");
        assert_eq!(
            decoded.contains('\0'),
            *has_nul,
            "{case}: the NUL decodes back"
        );
    }
    assert!(
        server
            .messages()
            .iter()
            .all(|m| m.mail_from != "evil@attacker.test"),
        "no smuggled transaction"
    );
    Ok(())
}

/// A body with lines far over 76 characters (most HTML) goes 7bit as it is, and arrives whole,
/// a line that starts with a dot included (the SMTP layer dot-stuffs it).
#[tokio::test]
async fn long_ascii_lines_arrive_whole() -> anyhow::Result<()> {
    let server = TestSmtpServer::start(SmtpRules::default())?;
    let mailer = SmtpMailer::new(&server.url(), FROM, 2)?;
    let body = format!(
        "<p>{}</p>\n.{}\n<p>end</p>",
        "long ".repeat(150),
        "x".repeat(400)
    );
    let outcome = mailer
        .send(outgoing(
            CampaignId::new(),
            "ann@example.org",
            None,
            "Long",
            &body,
        ))
        .await;
    assert_eq!(outcome, DeliveryOutcome::Sent);
    let m = &server.messages()[0];
    assert_eq!(
        m.html_body().map(|b| b.trim_end().to_owned()),
        Some(crlf(&body).trim_end().to_owned())
    );
    Ok(())
}
