//! One SMTP conversation: the commands the test server understands and the replies its
//! rules choose.

use super::*;

/// The envelope of the message being received.
#[derive(Default)]
struct Transaction {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

/// One SMTP conversation.
pub(super) struct Session<'a, R, W> {
    reader: R,
    writer: W,
    shared: &'a Shared,
    connection: usize,
    greeted: bool,
    auth_user: Option<String>,
    transaction: Transaction,
}

/// What the session does after a command.
enum Next {
    Continue,
    Quit,
}

impl<'a, R, W> Session<'a, R, W>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    pub(super) fn new(reader: R, writer: W, shared: &'a Shared, connection: usize) -> Self {
        Session {
            reader,
            writer,
            shared,
            connection,
            greeted: false,
            auth_user: None,
            transaction: Transaction::default(),
        }
    }

    pub(super) async fn run(mut self) -> io::Result<()> {
        if self.turned_away().await? {
            return Ok(());
        }
        self.reply(&format!("220 {SERVER_NAME} ESMTP ready"))
            .await?;
        while let Some(line) = self.read_line().await? {
            if self.turned_away().await? {
                break;
            }
            let line = String::from_utf8_lossy(&line).into_owned();
            if let Next::Quit = self.command(&line).await? {
                break;
            }
        }
        Ok(())
    }

    /// When the server is not up: answers `421` (or nothing, when refusing) and says that the
    /// session must end.
    async fn turned_away(&mut self) -> io::Result<bool> {
        let availability = *self.shared.availability.borrow();
        match availability {
            Availability::Up => Ok(false),
            Availability::ServiceUnavailable => {
                self.shared.turned_away.fetch_add(1, Ordering::SeqCst);
                self.reply(UNAVAILABLE_REPLY).await?;
                Ok(true)
            }
            Availability::Refusing => {
                self.shared.turned_away.fetch_add(1, Ordering::SeqCst);
                Ok(true)
            }
        }
    }

    /// Reads one line without its line ending; `None` at end of stream.
    async fn read_line(&mut self) -> io::Result<Option<Vec<u8>>> {
        let mut line = Vec::new();
        let read = (&mut self.reader)
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut line)
            .await?;
        if read == 0 {
            return Ok(None);
        }
        if line.last() != Some(&b'\n') && line.len() >= MAX_LINE {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
        }
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        Ok(Some(line))
    }

    async fn reply(&mut self, text: &str) -> io::Result<()> {
        self.writer.write_all(text.as_bytes()).await?;
        self.writer.write_all(b"\r\n").await?;
        self.writer.flush().await
    }

    async fn command(&mut self, line: &str) -> io::Result<Next> {
        let (verb, argument) = match line.split_once(' ') {
            Some((verb, argument)) => (verb, argument.trim()),
            None => (line.trim(), ""),
        };
        match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                self.greeted = true;
                self.transaction = Transaction::default();
                let reply = format!(
                    "250-{SERVER_NAME} greets {argument}\r\n250-PIPELINING\r\n250-8BITMIME\r\n\
                     250-SIZE {MAX_MESSAGE_SIZE}\r\n250-AUTH PLAIN LOGIN\r\n250 ENHANCEDSTATUSCODES"
                );
                self.reply(&reply).await?;
            }
            "HELO" => {
                self.greeted = true;
                self.transaction = Transaction::default();
                self.reply(&format!("250 {SERVER_NAME}")).await?;
            }
            "MAIL" => self.mail(argument).await?,
            "RCPT" => self.rcpt(argument).await?,
            "DATA" => self.data().await?,
            "AUTH" => self.auth(argument).await?,
            "RSET" => {
                self.transaction = Transaction::default();
                self.reply("250 2.0.0 OK").await?;
            }
            "NOOP" => self.reply("250 2.0.0 OK").await?,
            "VRFY" => {
                self.reply("252 2.1.5 cannot verify, but will accept the message")
                    .await?
            }
            "QUIT" => {
                self.reply(&format!("221 2.0.0 {SERVER_NAME} closing connection"))
                    .await?;
                return Ok(Next::Quit);
            }
            _ => self.reply("500 5.5.2 command not recognized").await?,
        }
        Ok(Next::Continue)
    }

    async fn mail(&mut self, argument: &str) -> io::Result<()> {
        if !self.greeted {
            return self.reply("503 5.5.1 say EHLO first").await;
        }
        if self.transaction.mail_from.is_some() {
            return self.reply("503 5.5.1 nested MAIL command").await;
        }
        match path_argument(argument, "FROM:") {
            Some(from) => {
                self.transaction.mail_from = Some(from);
                self.reply("250 2.1.0 OK").await
            }
            None => self.reply("501 5.5.4 syntax: MAIL FROM:<address>").await,
        }
    }

    async fn rcpt(&mut self, argument: &str) -> io::Result<()> {
        if self.transaction.mail_from.is_none() {
            return self.reply("503 5.5.1 need MAIL before RCPT").await;
        }
        let Some(to) = path_argument(argument, "TO:").filter(|to| !to.is_empty()) else {
            return self.reply("501 5.5.4 syntax: RCPT TO:<address>").await;
        };
        let first_seen = lock(&self.shared.seen).insert(to.to_ascii_lowercase());
        match self.shared.rules.decide(&to, first_seen) {
            RcptDecision::Accept => {
                self.transaction.rcpt_to.push(to);
                self.reply("250 2.1.5 OK").await
            }
            RcptDecision::Refuse(reply) => self.reply(&reply).await,
        }
    }

    async fn data(&mut self) -> io::Result<()> {
        if self.transaction.mail_from.is_none() {
            return self.reply("503 5.5.1 need MAIL before DATA").await;
        }
        if self.transaction.rcpt_to.is_empty() {
            return self.reply("554 5.5.1 no valid recipients").await;
        }
        self.reply("354 end data with <CR><LF>.<CR><LF>").await?;
        let mut data = Vec::new();
        loop {
            let Some(line) = self.read_line().await? else {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "connection closed in DATA",
                ));
            };
            if line == b"." {
                break;
            }
            data.extend_from_slice(unstuff(&line));
            data.extend_from_slice(b"\r\n");
        }
        let delay = self.shared.rules.data_delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let transaction = std::mem::take(&mut self.transaction);
        if self.turned_away().await? {
            return Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the server went down during DATA",
            ));
        }
        if data.len() > MAX_MESSAGE_SIZE {
            return self.reply("552 5.3.4 message too big").await;
        }
        let message = ReceivedMessage {
            mail_from: transaction.mail_from.unwrap_or_default(),
            rcpt_to: transaction.rcpt_to,
            data: String::from_utf8_lossy(&data).into_owned(),
            auth_user: self.auth_user.clone(),
            connection: self.connection,
            received_at: std::time::Instant::now(),
        };
        let number = {
            let mut messages = lock(&self.shared.messages);
            messages.push(message);
            messages.len()
        };
        // Never backwards: another connection may have pushed (and published) a later message
        // between the push above and this line.
        self.shared
            .received
            .send_modify(|count| *count = (*count).max(number));
        self.reply(&format!("250 2.0.0 OK queued as {number}"))
            .await
    }

    /// `AUTH PLAIN [initial]` and `AUTH LOGIN [user]`: any credentials are accepted and the
    /// user name is recorded on the messages that follow.
    async fn auth(&mut self, argument: &str) -> io::Result<()> {
        if !self.greeted {
            return self.reply("503 5.5.1 say EHLO first").await;
        }
        if self.auth_user.is_some() {
            return self.reply("503 5.5.1 already authenticated").await;
        }
        let (mechanism, initial) = match argument.split_once(' ') {
            Some((mechanism, initial)) => (mechanism, Some(initial.trim().to_owned())),
            None => (argument, None),
        };
        let user = match mechanism.to_ascii_uppercase().as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(initial) => initial,
                    None => self.challenge("").await?,
                };
                // authzid NUL authcid NUL password
                decode_base64(&response).and_then(|plain| {
                    let mut fields = plain.split('\0');
                    let (_authzid, user, _password) =
                        (fields.next()?, fields.next()?, fields.next()?);
                    Some(user.to_owned())
                })
            }
            "LOGIN" => {
                let user = match initial {
                    Some(initial) => initial,
                    None => self.challenge("VXNlcm5hbWU6").await?,
                };
                let _password = self.challenge("UGFzc3dvcmQ6").await?;
                decode_base64(&user)
            }
            _ => {
                return self
                    .reply("504 5.5.4 unrecognized authentication mechanism")
                    .await;
            }
        };
        match user {
            Some(user) => {
                self.auth_user = Some(user);
                self.reply("235 2.7.0 authentication successful").await
            }
            None => self.reply("501 5.5.2 cannot decode the credentials").await,
        }
    }

    /// Sends a `334` challenge and returns the client's answer.
    async fn challenge(&mut self, text: &str) -> io::Result<String> {
        self.reply(&format!("334 {text}")).await?;
        let line = self.read_line().await?.unwrap_or_default();
        Ok(String::from_utf8_lossy(&line).into_owned())
    }
}

/// Removes the dot a client doubles at the start of a data line (RFC 5321 section 4.5.2).
pub(crate) fn unstuff(line: &[u8]) -> &[u8] {
    line.strip_prefix(b".").unwrap_or(line)
}

/// The address of `FROM:<addr> params` / `TO:<addr> params` (keyword case-insensitive);
/// `Some("")` for the null path `<>`.
pub(crate) fn path_argument(argument: &str, keyword: &str) -> Option<String> {
    let head = argument.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = argument[keyword.len()..].trim_start();
    if let Some(inner) = rest.strip_prefix('<') {
        let end = inner.find('>')?;
        Some(inner[..end].to_owned())
    } else {
        // Lenient: a bare address up to the first space.
        rest.split(' ')
            .next()
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
    }
}

fn decode_base64(text: &str) -> Option<String> {
    let bytes = BASE64.decode(text.trim()).ok()?;
    String::from_utf8(bytes).ok()
}
