use super::session::{path_argument, unstuff};
use super::*;

#[test]
fn unstuffing_removes_one_leading_dot() {
    assert_eq!(unstuff(b"..hidden"), b".hidden");
    assert_eq!(unstuff(b"...."), b"...");
    assert_eq!(unstuff(b"no dot"), b"no dot");
    assert_eq!(unstuff(b"a.b"), b"a.b");
    assert_eq!(unstuff(b""), b"");
}

#[test]
fn paths_are_parsed_with_parameters_and_any_case() {
    assert_eq!(
        path_argument("FROM:<a@b.org> SIZE=12 BODY=8BITMIME", "FROM:").as_deref(),
        Some("a@b.org")
    );
    assert_eq!(
        path_argument("from: <a@b.org>", "FROM:").as_deref(),
        Some("a@b.org")
    );
    assert_eq!(path_argument("FROM:<>", "FROM:").as_deref(), Some(""));
    assert_eq!(
        path_argument("TO:c@d.org", "TO:").as_deref(),
        Some("c@d.org")
    );
    assert_eq!(path_argument("TO:<c@d.org", "TO:"), None);
    assert_eq!(path_argument("FROM:<a@b.org>", "TO:"), None);
    assert_eq!(path_argument("", "TO:"), None);
}

/// A raw client: writes `input` at once (pipelined), then reads until the server closes.
async fn converse(server: &TestSmtpServer, input: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .expect("connect");
    stream.write_all(input.as_bytes()).await.expect("write");
    let mut output = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut output))
        .await
        .expect("the server answers within 5 s")
        .expect("read");
    output
}

fn codes(transcript: &str) -> Vec<&str> {
    transcript
        .lines()
        .filter(|l| l.len() >= 4 && l.as_bytes()[3] == b' ')
        .map(|l| &l[..3])
        .collect()
}

#[tokio::test]
async fn a_pipelined_conversation_is_recorded_and_unstuffed() {
    let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
    let input = "EHLO client.test\r\nMAIL FROM:<sender@example.org> BODY=8BITMIME\r\n\
        RCPT TO:<a@example.org>\r\nRCPT TO:<B@example.org>\r\nDATA\r\n\
        Subject: dots\r\n\r\n..leading dot\r\n...\r\nmiddle . dot\r\n.\r\n\
        NOOP\r\nVRFY someone\r\nSTARTTLS\r\nRSET\r\nQUIT\r\n";
    let transcript = converse(&server, input).await;
    assert_eq!(
        codes(&transcript),
        [
            "220", "250", "250", "250", "250", "354", "250", "250", "252", "500", "250", "221"
        ]
    );
    assert!(
        transcript.contains("250-PIPELINING\r\n250-8BITMIME\r\n"),
        "{transcript}"
    );
    assert!(!transcript.contains("STARTTLS"), "{transcript}");

    let messages = server.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].mail_from, "sender@example.org");
    assert_eq!(messages[0].rcpt_to, ["a@example.org", "B@example.org"]);
    assert_eq!(
        messages[0].data,
        "Subject: dots\r\n\r\n.leading dot\r\n..\r\nmiddle . dot\r\n"
    );
    assert_eq!(messages[0].auth_user, None);
    assert_eq!(messages[0].connection, 1);
    assert_eq!(server.connections(), 1);
}

#[tokio::test]
async fn recipients_are_refused_as_the_rules_say() {
    let rules = SmtpRules::default()
        .reject_prefix("bounce")
        .defer_once_prefix("grey");
    let server = TestSmtpServer::start(rules).expect("start");
    let input = "HELO client.test\r\nMAIL FROM:<s@example.org>\r\n\
        RCPT TO:<bounce@example.org>\r\nRCPT TO:<grey@example.org>\r\nRCPT TO:<GREY@example.org>\r\n\
        RCPT TO:<ok@example.org>\r\nDATA\r\nhello\r\n.\r\nQUIT\r\n";
    let transcript = converse(&server, input).await;
    assert!(transcript.contains("550 5.1.1 <bounce@example.org>: mailbox unavailable\r\n"));
    assert!(transcript.contains("451 4.3.0 try again later\r\n"));
    assert_eq!(
        codes(&transcript),
        [
            "220", "250", "250", "550", "451", "250", "250", "354", "250", "221"
        ]
    );
    let messages = server.wait_for(1, Duration::from_secs(1)).await;
    assert_eq!(messages[0].rcpt_to, ["GREY@example.org", "ok@example.org"]);
    assert_eq!(messages[0].data, "hello\r\n");
}

#[tokio::test]
async fn commands_out_of_order_are_refused_and_nothing_is_recorded() {
    let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
    let input = "MAIL FROM:<s@example.org>\r\nEHLO c\r\nRCPT TO:<a@example.org>\r\nDATA\r\n\
        MAIL FROM:<s@example.org>\r\nMAIL FROM:<s@example.org>\r\nDATA\r\nBOGUS\r\nQUIT\r\n";
    let transcript = converse(&server, input).await;
    assert_eq!(
        codes(&transcript),
        [
            "220", "503", "250", "503", "503", "250", "503", "554", "500", "221"
        ]
    );
    assert!(server.messages().is_empty());
}

#[tokio::test]
async fn auth_plain_and_login_are_accepted_and_recorded() {
    let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
    // "\0alice\0secret" and "bob" / "pw"
    let plain = BASE64.encode("\0alice\0secret");
    let input = format!(
        "EHLO c\r\nAUTH PLAIN {plain}\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<r@x.org>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n"
    );
    let transcript = converse(&server, &input).await;
    assert_eq!(
        codes(&transcript),
        ["220", "250", "235", "250", "250", "354", "250", "221"]
    );

    let input = format!(
        "EHLO c\r\nAUTH LOGIN\r\n{}\r\n{}\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<r@x.org>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
        BASE64.encode("bob"),
        BASE64.encode("pw")
    );
    let transcript = converse(&server, &input).await;
    assert!(
        transcript.contains("334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n235 "),
        "{transcript}"
    );

    let messages = server.wait_for(2, Duration::from_secs(1)).await;
    let users: Vec<_> = messages.iter().map(|m| m.auth_user.as_deref()).collect();
    assert_eq!(users, [Some("alice"), Some("bob")]);
    assert_eq!(server.connections(), 2);
}

#[tokio::test]
async fn many_messages_on_one_connection_and_many_connections() {
    let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
    let mut input = String::from("EHLO c\r\n");
    for i in 0..20 {
        input.push_str(&format!(
            "MAIL FROM:<s@x.org>\r\nRCPT TO:<r{i}@x.org>\r\nDATA\r\nn{i}\r\n.\r\n"
        ));
    }
    input.push_str("QUIT\r\n");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let input = input.clone();
            let port = server.port();
            tokio::spawn(async move {
                let mut stream = TcpStream::connect(("127.0.0.1", port))
                    .await
                    .expect("connect");
                stream.write_all(input.as_bytes()).await.expect("write");
                let mut output = String::new();
                stream.read_to_string(&mut output).await.expect("read");
                output
            })
        })
        .collect();
    for task in tasks {
        let transcript = task.await.expect("task");
        assert_eq!(transcript.matches("250 2.0.0 OK queued").count(), 20);
    }
    let messages = server.wait_for(200, Duration::from_secs(5)).await;
    assert_eq!(messages.len(), 200);
    assert_eq!(server.connections(), 10);
    assert!(server.peak_connections() >= 1 && server.peak_connections() <= 10);
}

#[tokio::test]
async fn dropping_the_server_closes_the_port() {
    let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
    let port = server.port();
    assert_eq!(server.url(), format!("smtp://127.0.0.1:{port}"));
    drop(server);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
}

#[tokio::test]
async fn a_server_that_is_unavailable_answers_421_and_records_nothing() {
    let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
    // A session opened while up, then the server goes down in the middle of it.
    let mut open = TcpStream::connect(("127.0.0.1", server.port()))
        .await
        .expect("connect");
    open.write_all(b"EHLO c\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<r@x.org>\r\n")
        .await
        .expect("write");
    let mut buffer = vec![0u8; 4096];
    let mut seen = String::new();
    while !seen.ends_with("250 2.1.5 OK\r\n") {
        let n = open.read(&mut buffer).await.expect("read");
        assert!(n > 0, "closed early: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    server.set_availability(Availability::ServiceUnavailable);
    assert_eq!(server.availability(), Availability::ServiceUnavailable);
    open.write_all(b"DATA\r\n").await.expect("write");
    let mut rest = String::new();
    open.read_to_string(&mut rest).await.expect("read");
    assert!(rest.starts_with("421 4.3.2 "), "{rest}");

    let transcript = converse(&server, "EHLO c\r\nQUIT\r\n").await;
    assert_eq!(codes(&transcript), ["421"]);
    assert_eq!(server.turned_away(), 2);

    server.set_availability(Availability::Up);
    let transcript = converse(
        &server,
        "EHLO c\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<r@x.org>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n",
    )
    .await;
    assert_eq!(
        codes(&transcript),
        ["220", "250", "250", "250", "354", "250", "221"]
    );
    assert_eq!(server.messages().len(), 1);
}

#[tokio::test]
async fn a_refusing_server_closes_its_port_and_opens_it_again() {
    let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
    let port = server.port();
    let mut open = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut greeting = [0u8; 3];
    open.read_exact(&mut greeting).await.expect("greeting");
    assert_eq!(&greeting, b"220");

    server.set_availability(Availability::Refusing);
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
        assert!(Instant::now() < deadline, "still accepting connections");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The open connection is closed, without a reply, at its next command.
    open.write_all(b"NOOP\r\n").await.expect("write");
    let mut rest = Vec::new();
    let _ = open.read_to_end(&mut rest).await;
    assert!(
        !String::from_utf8_lossy(&rest).contains("250 2.0.0 OK"),
        "{rest:?}"
    );

    server.set_availability(Availability::Up);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(mut again) = TcpStream::connect(("127.0.0.1", port)).await {
            let mut greeting = [0u8; 3];
            again.read_exact(&mut greeting).await.expect("greeting");
            assert_eq!(&greeting, b"220");
            break;
        }
        assert!(Instant::now() < deadline, "not accepting again");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(server.turned_away() >= 1);
}

#[tokio::test]
async fn wait_for_gives_up_after_the_timeout() {
    let server = TestSmtpServer::start(SmtpRules::default()).expect("start");
    let started = Instant::now();
    let messages = server.wait_for(1, Duration::from_millis(100)).await;
    assert!(messages.is_empty());
    assert!(started.elapsed() >= Duration::from_millis(100));
}
