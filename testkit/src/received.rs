//! A message as the test SMTP server received it, with helpers to read it.

use mail_parser::{HeaderValue, Message, MessageParser, PartType};

/// One message the server accepted: the envelope and the raw content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// The reverse path of `MAIL FROM` (empty for the null sender `<>`).
    pub mail_from: String,
    /// The accepted `RCPT TO` addresses, in order.
    pub rcpt_to: Vec<String>,
    /// The message content after `DATA`, dot-unstuffed, without the final `.` line.
    pub data: String,
    /// The user name the client authenticated as on this connection, if it did.
    pub auth_user: Option<String>,
    /// Which connection (1-based, in accept order) carried the message.
    pub connection: usize,
    /// When the end of its `DATA` arrived.
    pub received_at: std::time::Instant,
}

/// A display name and address read from an address header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxInfo {
    /// The display name, RFC 2047-decoded, when there is one.
    pub name: Option<String>,
    /// The address (`local@domain`).
    pub address: String,
}

impl ReceivedMessage {
    /// The content parsed as an RFC 5322 message (see the re-exported [`mail_parser`]).
    /// `None` only when the content is not a message at all.
    pub fn parsed(&self) -> Option<Message<'_>> {
        MessageParser::default().parse(self.data.as_bytes())
    }

    /// The raw value of the first header called `name` (case-insensitive), unfolded and
    /// trimmed, but not decoded.
    pub fn header_raw(&self, name: &str) -> Option<String> {
        let parsed = self.parsed()?;
        parsed.header_raw(name).map(unfold)
    }

    /// The value of the first header called `name` (case-insensitive), unfolded. Unstructured
    /// text headers (`Subject`, `Comments`, custom `X-` headers...) have their RFC 2047
    /// encoded-words decoded; structured ones (`To`, `Date`...) are returned raw.
    pub fn header(&self, name: &str) -> Option<String> {
        let parsed = self.parsed()?;
        match parsed.header(name)? {
            HeaderValue::Text(text) => Some(unfold(text)),
            HeaderValue::TextList(list) => Some(unfold(&list.join(", "))),
            _ => parsed.header_raw(name).map(unfold),
        }
    }

    /// The decoded `Subject`.
    pub fn subject(&self) -> Option<String> {
        self.parsed()?.subject().map(str::to_owned)
    }

    /// The `Message-ID`, with its angle brackets (`<id@domain>`).
    pub fn message_id(&self) -> Option<String> {
        self.parsed()?.message_id().map(|id| format!("<{id}>"))
    }

    /// The mailboxes of the `From` header.
    pub fn from_header(&self) -> Vec<MailboxInfo> {
        self.mailboxes(|m| m.from())
    }

    /// The mailboxes of the `To` header.
    pub fn to_header(&self) -> Vec<MailboxInfo> {
        self.mailboxes(|m| m.to())
    }

    /// The first `text/html` body, with its transfer encoding (quoted-printable, base64)
    /// undone and decoded from its charset. `None` when the message has no HTML part.
    pub fn html_body(&self) -> Option<String> {
        let parsed = self.parsed()?;
        // A message without HTML lists its text/plain part as the HTML body: skip that.
        match &parsed.html_part(0)?.body {
            PartType::Html(html) => Some(html.to_string()),
            _ => None,
        }
    }

    /// The first `text/plain` body, decoded like [`html_body`](Self::html_body).
    pub fn text_body(&self) -> Option<String> {
        let parsed = self.parsed()?;
        match &parsed.text_part(0)?.body {
            PartType::Text(text) => Some(text.to_string()),
            _ => None,
        }
    }

    fn mailboxes(
        &self,
        pick: impl for<'a> Fn(&'a Message<'a>) -> Option<&'a mail_parser::Address<'a>>,
    ) -> Vec<MailboxInfo> {
        let Some(parsed) = self.parsed() else {
            return Vec::new();
        };
        let Some(list) = pick(&parsed) else {
            return Vec::new();
        };
        list.iter()
            .filter_map(|addr| {
                Some(MailboxInfo {
                    name: addr.name().map(str::to_owned),
                    address: addr.address()?.to_owned(),
                })
            })
            .collect()
    }
}

/// Unfolds a raw header value (RFC 5322 section 2.2.3) and trims it.
fn unfold(raw: &str) -> String {
    raw.replace("\r\n", "").replace('\n', "").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(data: &str) -> ReceivedMessage {
        ReceivedMessage {
            mail_from: "a@example.org".into(),
            rcpt_to: vec!["b@example.org".into()],
            data: data.into(),
            auth_user: None,
            connection: 1,
            received_at: std::time::Instant::now(),
        }
    }

    const SAMPLE: &str = "From: =?utf-8?q?J=C3=B6rg?= <from@example.org>\r\n\
        To: \"Bob B\" <bob@example.org>,\r\n carol@example.org\r\n\
        Subject: =?utf-8?b?SMOpbGxvIHfDtnJsZCDwn5qA?=\r\n\
        Message-ID: <abc.def@example.org>\r\n\
        X-Long: one\r\n two\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: text/html; charset=utf-8\r\n\
        Content-Transfer-Encoding: quoted-printable\r\n\
        \r\n\
        <p>caf=C3=A9 =3D ok</p>\r\n";

    #[test]
    fn headers_are_unfolded_and_subjects_decoded() {
        let m = message(SAMPLE);
        assert_eq!(m.subject().as_deref(), Some("Héllo wörld 🚀"));
        assert_eq!(m.header("subject").as_deref(), Some("Héllo wörld 🚀"));
        assert_eq!(
            m.header_raw("Subject").as_deref(),
            Some("=?utf-8?b?SMOpbGxvIHfDtnJsZCDwn5qA?=")
        );
        assert_eq!(m.header("X-Long").as_deref(), Some("one two"));
        assert_eq!(
            m.header("To").as_deref(),
            Some("\"Bob B\" <bob@example.org>, carol@example.org")
        );
        assert_eq!(m.header("X-Missing"), None);
        assert_eq!(m.message_id().as_deref(), Some("<abc.def@example.org>"));
    }

    #[test]
    fn address_headers_are_decoded() {
        let m = message(SAMPLE);
        assert_eq!(
            m.from_header(),
            vec![MailboxInfo {
                name: Some("Jörg".into()),
                address: "from@example.org".into()
            }]
        );
        assert_eq!(
            m.to_header(),
            vec![
                MailboxInfo {
                    name: Some("Bob B".into()),
                    address: "bob@example.org".into()
                },
                MailboxInfo {
                    name: None,
                    address: "carol@example.org".into()
                },
            ]
        );
    }

    #[test]
    fn html_bodies_are_transfer_decoded() {
        let m = message(SAMPLE);
        assert_eq!(m.html_body().as_deref(), Some("<p>café = ok</p>\r\n"));
        assert_eq!(m.text_body(), None);

        let b64 = "Subject: x\r\nContent-Type: text/html; charset=utf-8\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nPGI+w6k8L2I+\r\n";
        assert_eq!(message(b64).html_body().as_deref(), Some("<b>é</b>"));
    }

    #[test]
    fn plain_text_is_not_mistaken_for_html() {
        let m = message("Subject: x\r\nContent-Type: text/plain\r\n\r\nhello\r\n");
        assert_eq!(m.html_body(), None);
        assert_eq!(m.text_body().as_deref(), Some("hello\r\n"));
    }
}
