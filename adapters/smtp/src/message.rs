//! Building the RFC 5322 message for one recipient.

use email_encoding::headers::rfc2047;
use email_encoding::headers::writer::EmailWriter;
use lettre::address::Envelope;
use lettre::message::header::ContentTransferEncoding;
use lettre::message::header::{self, ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::{Address, Message};
use paloma_application::{MessageSender, OutgoingMessage};
use paloma_domain::{DeliveryOutcome, message_id};

use crate::error::MailerConfigError;

/// The sender of every message, with the domain used in `Message-ID`s.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    pub(crate) mailbox: Mailbox,
}

impl Sender {
    /// Parses `MAIL_FROM` (`Name <addr@domain>` or `addr@domain`).
    pub(crate) fn parse(mail_from: &str) -> Result<Self, MailerConfigError> {
        let mailbox = mail_from.trim().parse::<Mailbox>().map_err(|error| {
            MailerConfigError::InvalidMailFrom {
                value: mail_from.to_owned(),
                reason: error.to_string(),
            }
        })?;
        Ok(Sender { mailbox })
    }

    /// The domain of the sender's address, for `Message-ID`s.
    pub(crate) fn domain(&self) -> &str {
        self.mailbox.email.domain()
    }

    /// The `From` (the campaign's own, or `MAIL_FROM`) and `Reply-To` of a campaign's
    /// messages. The envelope sender stays `MAIL_FROM`'s address, where bounces go. The API
    /// checked both addresses; a row written otherwise that holds a bad one fails the message.
    fn campaign_headers(
        &self,
        sender: &MessageSender,
    ) -> Result<(Mailbox, Option<Mailbox>), DeliveryOutcome> {
        let parse = |what: &str, raw: &str| {
            raw.trim().parse::<Address>().map_err(|error| {
                DeliveryOutcome::Permanent(format!("invalid {what} address {raw:?}: {error}"))
            })
        };
        let from = match &sender.from_email {
            Some(email) => {
                let name = sender
                    .from_name
                    .as_deref()
                    .map(|name| name.replace(char::is_control, " ").trim().to_owned())
                    .filter(|name| !name.is_empty());
                Mailbox::new(name, parse("sender", email)?)
            }
            None => self.mailbox.clone(),
        };
        let reply_to = sender
            .reply_to
            .as_deref()
            .map(|raw| parse("Reply-To", raw).map(|a| Mailbox::new(None, a)))
            .transpose()?;
        Ok((from, reply_to))
    }

    /// The message for one recipient. `Permanent` when the recipient's address cannot be used.
    pub(crate) fn build(&self, message: &OutgoingMessage) -> Result<Message, DeliveryOutcome> {
        let address: Address = message.to.trim().parse().map_err(|error| {
            DeliveryOutcome::Permanent(format!(
                "invalid recipient address {:?}: {error}",
                message.to
            ))
        })?;
        // The domain refuses control characters in names, but a row written by other means
        // may hold one, and lettre panics on a CR or LF in a display name: each becomes a space.
        let name = message
            .to_name
            .as_deref()
            .map(|name| name.replace(char::is_control, " ").trim().to_owned())
            .filter(|name| !name.is_empty());
        // Given, not derived: lettre would derive it by parsing the `To:` header back, and its
        // header parser refuses addresses its address parser accepts (domain literals such as
        // `a@[127.0.0.1]`).
        let envelope = Envelope::new(Some(self.mailbox.email.clone()), vec![address.clone()])
            .map_err(|error| {
                DeliveryOutcome::Permanent(format!("cannot build the envelope: {error}"))
            })?;
        let to = Mailbox::new(name, address);
        let id = message_id(message.campaign_id, message.recipient_id, self.domain());
        let (from, reply_to) = self.campaign_headers(&message.sender)?;

        let mut builder = Message::builder().envelope(envelope).from(from).to(to);
        if let Some(reply_to) = reply_to {
            builder = builder.reply_to(reply_to);
        }
        if let Some((url, mailto)) = &message.unsubscribe {
            let mut value = format!("<{url}>");
            if let Some(mailto) = mailto {
                value.push_str(&format!(", <{mailto}>"));
            }
            builder = builder
                .header(ListUnsubscribe(value))
                .header(ListUnsubscribePost);
        }
        builder
            .header(EncodedSubject(message.subject.to_string()))
            .message_id(Some(id))
            .date_now()
            .header(header::MIME_VERSION_1_0)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(wire_body(&message.text_body)),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(wire_body(&message.html_body)),
                    ),
            )
            .map_err(|error| {
                DeliveryOutcome::Permanent(format!("cannot build the message: {error}"))
            })
    }
}

/// A body part (HTML or text) as it goes on the wire. Every line break becomes CRLF: a bare CR
/// or LF inside SMTP's DATA is what SMTP smuggling rides on (`<p>x</p>\r.\r\nMAIL FROM:...` ends
/// the data early for a server that takes a bare CR as a line end). A body that still holds a
/// control character 7bit must not carry (NUL, ...) goes quoted-printable, where it is escaped;
/// otherwise lettre chooses (7bit for short ASCII lines, quoted-printable or base64 else).
fn wire_body(body: &str) -> Body {
    let text = crlf(body);
    let unsafe_for_7bit = text
        .bytes()
        .any(|b| (b < 0x20 && !matches!(b, b'\r' | b'\n' | b'\t')) || b == 0x7f);
    if unsafe_for_7bit {
        // Quoted-printable takes any text; the fallback is not expected to run.
        Body::new_with_encoding(text, ContentTransferEncoding::QuotedPrintable)
            .unwrap_or_else(Body::new)
    } else if text.is_ascii() && text.split("\r\n").all(|line| line.len() <= MAX_7BIT_LINE) {
        // 7bit as it is: ASCII, CRLF line ends, no NUL or other control, lines within RFC
        // 5322's 998. lettre's chooser would quoted-print any line over 76 characters (most HTML
        // has some) and scan the text twice more; the SMTP layer still dot-stuffs.
        Body::dangerous_pre_encoded(text.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text)
    }
}

/// The longest line a 7bit body may have (RFC 5322 2.1.1: 998 characters before CRLF).
const MAX_7BIT_LINE: usize = 998;

/// `text` with every line break (CR LF, a bare CR, a bare LF) as CR LF. Without a CR (the usual
/// body) that is one `replace` of LF, which finds each LF with a fast byte search; a body with
/// CRs goes through them one by one. (The worker builds two parts per message: the per-character
/// loop alone was 6% of its time.)
fn crlf(text: &str) -> String {
    if !text.contains('\r') {
        return text.replace('\n', "\r\n");
    }
    let mut out = String::with_capacity(text.len() + text.len() / 64);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\r\n");
            }
            '\n' => out.push_str("\r\n"),
            c => out.push(c),
        }
    }
    out
}

/// `List-Unsubscribe` (RFC 2369): `<https://.../u/TOKEN>`, and `<mailto:...>` when configured.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058): the URL of
/// `List-Unsubscribe` unsubscribes with one POST, no further step.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// The `Subject` header, so that readers decode exactly the stored subject. lettre encodes word
/// by word and writes ASCII words as they are, which loses in two ways: text shaped like an
/// RFC 2047 encoded-word (`=?utf-8?q?=0D=0ABcc:_x?=`) is decoded by the reader into something
/// else than what was validated (here a line break), and decoders disagree on the spaces
/// between encoded and plain words. A subject that is not printable ASCII (the domain allows
/// any Unicode but no control characters; older rows may differ), contains `=?` or starts or
/// ends with a space is therefore encoded whole; a plain ASCII one is left to lettre.
#[derive(Debug, Clone)]
struct EncodedSubject(String);

impl Header for EncodedSubject {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Subject")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        // Leading or trailing spaces are encoded too: readers trim a plain header value.
        let plain = self.0.bytes().all(|b| (b' '..=b'~').contains(&b))
            && !self.0.contains("=?")
            && self.0.trim() == self.0;
        if plain {
            return HeaderValue::new(Self::name(), self.0.clone());
        }
        let mut encoded = String::new();
        let written = {
            let mut writer = EmailWriter::new(&mut encoded, "Subject: ".len(), 0, false);
            rfc2047::encode(&self.0, &mut writer)
        };
        match written {
            // Only base64 encoded-words and folding: nothing a value could inject.
            Ok(()) => HeaderValue::dangerous_new_pre_encoded(Self::name(), self.0.clone(), encoded),
            Err(_) => HeaderValue::new(Self::name(), self.0.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use paloma_domain::{CampaignId, RecipientId};

    use super::*;

    #[test]
    fn ascii_with_long_lines_goes_7bit_as_it_is_and_anything_else_is_encoded() {
        let long = format!("<p>{}</p>\n", "x".repeat(300));
        assert_eq!(
            wire_body(&long).encoding(),
            ContentTransferEncoding::SevenBit
        );
        let too_long = format!("<p>{}</p>", "x".repeat(1000));
        assert_ne!(
            wire_body(&too_long).encoding(),
            ContentTransferEncoding::SevenBit
        );
        assert_ne!(
            wire_body("<p>café</p>").encoding(),
            ContentTransferEncoding::SevenBit
        );
        assert_eq!(
            wire_body("a\u{0}b").encoding(),
            ContentTransferEncoding::QuotedPrintable
        );
    }

    #[test]
    fn every_line_break_becomes_crlf_with_or_without_a_cr() {
        for (input, wire) in [
            ("a\nb\n", "a\r\nb\r\n"),
            ("a\r\nb\rc\nd", "a\r\nb\r\nc\r\nd"),
            ("\r\r\n\n", "\r\n\r\n\r\n"),
            ("no break", "no break"),
            ("é\nü", "é\r\nü"),
        ] {
            assert_eq!(crlf(input), wire, "{input:?}");
        }
    }

    fn outgoing(to: &str, name: Option<&str>) -> OutgoingMessage {
        OutgoingMessage {
            campaign_id: CampaignId::new(),
            recipient_id: RecipientId::new(),
            to: to.to_owned(),
            to_name: name.map(str::to_owned),
            subject: Arc::from("Hello"),
            html_body: Arc::from("<p>Hi</p>"),
            text_body: Arc::from("Hi"),
            sender: Arc::default(),
            unsubscribe: None,
        }
    }

    #[test]
    fn mail_from_accepts_a_name_or_a_bare_address() {
        let sender = Sender::parse("Paloma <no-reply@mail.example.org>").expect("valid");
        assert_eq!(sender.domain(), "mail.example.org");
        assert_eq!(sender.mailbox.name.as_deref(), Some("Paloma"));
        let bare = Sender::parse(" news@example.org ").expect("valid");
        assert_eq!(bare.mailbox.name, None);
        assert_eq!(bare.domain(), "example.org");
    }

    #[test]
    fn a_bad_mail_from_is_refused_with_its_value() {
        let error = Sender::parse("Paloma <not an address>").expect_err("invalid");
        let text = error.to_string();
        assert!(
            text.starts_with("invalid MAIL_FROM \"Paloma <not an address>\""),
            "{text}"
        );
    }

    #[test]
    fn headers_are_set() {
        let sender = Sender::parse("Paloma <no-reply@example.org>").expect("valid");
        let out = outgoing("alice@example.org", Some("Alice A"));
        let message = sender.build(&out).expect("builds");
        let raw = String::from_utf8(message.formatted()).expect("utf-8");
        let expected_id = message_id(out.campaign_id, out.recipient_id, "example.org");
        assert!(
            raw.contains("From: Paloma <no-reply@example.org>\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains("To: \"Alice A\" <alice@example.org>\r\n"),
            "{raw}"
        );
        assert!(
            raw.contains(&format!("Message-ID: {expected_id}\r\n")),
            "{raw}"
        );
        assert!(raw.contains("MIME-Version: 1.0\r\n"), "{raw}");
        assert!(
            raw.contains("Content-Type: text/html; charset=utf-8\r\n"),
            "{raw}"
        );
        assert!(raw.contains("Date: "), "{raw}");
        let envelope = message.envelope();
        assert_eq!(envelope.to().len(), 1);
        assert_eq!(
            envelope.from().map(ToString::to_string).as_deref(),
            Some("no-reply@example.org")
        );
    }

    #[test]
    fn blank_names_are_left_out() {
        let sender = Sender::parse("no-reply@example.org").expect("valid");
        let raw = String::from_utf8(
            sender
                .build(&outgoing("bob@example.org", Some("  ")))
                .expect("builds")
                .formatted(),
        )
        .expect("utf-8");
        assert!(raw.contains("To: bob@example.org\r\n"), "{raw}");
    }

    #[test]
    fn unusable_addresses_are_permanent_failures() {
        let sender = Sender::parse("no-reply@example.org").expect("valid");
        for bad in ["not-an-address", "a@", "@b.org", "a b@c.org"] {
            match sender.build(&outgoing(bad, None)) {
                Err(DeliveryOutcome::Permanent(text)) => {
                    assert!(
                        text.starts_with(&format!("invalid recipient address {bad:?}")),
                        "{text}"
                    );
                }
                other => panic!("{bad}: expected a permanent failure, got {other:?}"),
            }
        }
    }

    /// Adversarial input: whatever the domain accepts must be sendable, and nothing in a
    /// subject or a name may turn into a header of its own.
    mod adversarial {
        use paloma_domain::{EmailAddress, RecipientName, Subject};
        use paloma_testkit::ReceivedMessage;
        use proptest::prelude::*;

        use super::*;

        /// The headers `build` writes, each exactly once; anything else is injected.
        /// The message's own headers (the parts' headers are in the body).
        const HEADERS: [&str; 7] = [
            "From",
            "To",
            "Subject",
            "Message-ID",
            "Date",
            "MIME-Version",
            "Content-Type",
        ];

        /// Addresses in the HTML5 syntax the domain validates against, including its corners
        /// where RFC 5322 (and so lettre) is stricter: dots anywhere in the local part, domain
        /// literals, IDNs.
        fn html5_address() -> impl Strategy<Value = String> {
            let local = "[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]{1,20}";
            let label = "[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?";
            let domain = prop_oneof![
                prop::collection::vec(label, 1..4).prop_map(|labels| labels.join(".")),
                "[a-z]{0,3}\\[(127\\.0\\.0\\.1|::1|2001:db8::1|::ffff:10\\.0\\.0\\.1)\\]",
                "\\p{L}{1,8}\\.[a-z]{2,4}",
                "[☃★♥✉]{1,3}\\.[a-z]{2,3}",
                prop::collection::vec("[☃é✉]{1,3}", 1..70).prop_map(|labels| labels.join(".")),
            ];
            (local, domain).prop_map(|(local, domain)| format!("{local}@{domain}"))
        }

        /// Text with the characters that break headers: CR, LF, NUL, NEL, separators, bidi
        /// overrides, combining marks, emoji, and RFC 2047 / quoting punctuation.
        fn hostile_text() -> impl Strategy<Value = String> {
            let special = prop::sample::select(vec![
                '\r', '\n', '\t', '\0', '\u{85}', '\u{2028}', '\u{202e}', '\u{200f}', '\u{301}',
                '\u{feff}', '😀', '👩', '\u{200d}', 'ע', ' ', ':', '=', '?', '"', '\\', '<', '>',
                '@', ',', '(', ')',
            ]);
            let header = prop::sample::select(vec![
                "\r\nBcc: evil@attacker.test",
                "\nX-Injected: yes",
                "\r\n\r\n<p>a new body</p>",
                "=?utf-8?q?=0D=0ABcc:_x@evil.test?=",
                "",
            ]);
            (
                prop::collection::vec(prop_oneof![any::<char>(), special], 0..40),
                header,
            )
                .prop_map(|(chars, header)| chars.into_iter().collect::<String>() + header)
        }

        /// [`hostile_text`] without its control characters: what the domain lets through.
        fn one_line_text() -> impl Strategy<Value = String> {
            hostile_text().prop_map(|text| text.replace(char::is_control, ""))
        }

        fn message(to: &str, name: Option<String>, subject: &str) -> OutgoingMessage {
            OutgoingMessage {
                to_name: name,
                subject: Arc::from(subject),
                ..outgoing(to, None)
            }
        }

        /// The header block of a formatted message, one unfolded line per header.
        fn header_lines(raw: &str) -> Vec<String> {
            let head = raw.split("\r\n\r\n").next().unwrap_or_default();
            let mut lines: Vec<String> = Vec::new();
            for line in head.split("\r\n") {
                match lines.last_mut() {
                    Some(last) if line.starts_with([' ', '\t']) => last.push_str(line),
                    _ => lines.push(line.to_owned()),
                }
            }
            lines
        }

        fn as_received(raw: String) -> ReceivedMessage {
            ReceivedMessage {
                mail_from: String::new(),
                rcpt_to: Vec::new(),
                data: raw,
                auth_user: None,
                connection: 0,
                received_at: std::time::Instant::now(),
            }
        }

        proptest! {
            /// An address the API accepts must not fail later as "invalid recipient address":
            /// every address the domain accepts builds a message addressed to it.
            #[test]
            fn every_address_the_domain_accepts_builds_a_message(raw in html5_address()) {
                let sender = Sender::parse("no-reply@example.org").expect("valid");
                if let Ok(address) = EmailAddress::parse(&raw) {
                    let built = sender.build(&outgoing(address.as_str(), Some("Ann")));
                    prop_assert!(built.is_ok(), "{raw:?} accepted by the domain: {built:?}");
                    let envelope = built.expect("checked").envelope().clone();
                    let to: Vec<String> = envelope.to().iter().map(ToString::to_string).collect();
                    prop_assert_eq!(to, [address.as_str()]);
                }
            }

            /// Whatever reaches the mailer (even a subject or name the domain would refuse, from
            /// an old row or another producer), the message has each of its own headers exactly
            /// once and no other: no CR/LF in a value becomes a header or a body.
            #[test]
            fn no_subject_or_name_adds_a_header(
                subject in hostile_text(),
                name in prop::option::of(hostile_text()),
            ) {
                let sender = Sender::parse("Paloma <no-reply@example.org>").expect("valid");
                let built = sender.build(&message("ann@example.org", name, &subject));
                let raw = String::from_utf8(built.expect("builds").formatted()).expect("utf-8");
                let head = raw.split("\r\n\r\n").next().unwrap_or_default();
                let bare_break = head.replace("\r\n", "").contains(['\r', '\n']);
                prop_assert!(!bare_break, "a bare CR or LF: {raw:?}");
                let names: Vec<String> = header_lines(&raw)
                    .iter()
                    .map(|line| line.split(':').next().unwrap_or_default().to_owned())
                    .collect();
                let mut sorted = names.clone();
                sorted.sort();
                let mut expected: Vec<String> = HEADERS.iter().map(|h| (*h).to_owned()).collect();
                expected.sort();
                prop_assert_eq!(sorted, expected, "headers {:?} in {:?}", names, raw);
                let received = as_received(raw);
                let body = received.html_body();
                prop_assert_eq!(body.as_deref(), Some("<p>Hi</p>"));
                // An empty subject reads as none.
                let decoded = received.subject().unwrap_or_default();
                prop_assert_eq!(decoded, subject, "{:?}", received.data);
            }

            /// A subject and a name the domain accepts arrive as they were: decoded, they equal
            /// the stored text, whatever its script, emoji, bidi or combining marks.
            #[test]
            fn accepted_subjects_and_names_round_trip(
                subject in one_line_text(),
                name in one_line_text(),
            ) {
                let parsed = (Subject::parse(&subject), RecipientName::parse(Some(&name)));
                let (Ok(subject), Ok(Some(name))) = parsed else {
                    return Ok(());
                };
                let sender = Sender::parse("Paloma <no-reply@example.org>").expect("valid");
                let name = name.as_str().to_owned();
                let out = message("ann@example.org", Some(name.clone()), subject.as_str());
                let raw = sender.build(&out).expect("builds").formatted();
                let received = as_received(String::from_utf8(raw).expect("utf-8"));
                let decoded = received.subject();
                prop_assert_eq!(decoded.as_deref(), Some(subject.as_str()), "{:?}", received.data);
                let to = received.to_header();
                prop_assert_eq!(to.len(), 1, "{:?}", received.data);
                prop_assert_eq!(to[0].name.as_deref(), Some(name.as_str()), "{:?}", received.data);
                prop_assert_eq!(to[0].address.as_str(), "ann@example.org");
            }
        }
    }
}
