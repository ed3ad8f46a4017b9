//! Recipients: validated addresses and names, their states.

use std::fmt;

use chrono::{DateTime, Utc};
use validator::ValidateEmail;

use crate::IllegalTransition;
use crate::fields::RecipientFields;
use crate::ids::{CampaignId, RecipientId};

/// A syntactically valid email address (RFC 5321 length limits, HTML5 syntax as implemented by
/// `validator`). Stored as given, minus surrounding whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailAddressError {
    #[error("the address is empty")]
    Empty,
    #[error("the address is longer than {max} characters")]
    TooLong { max: usize },
    #[error("the address contains whitespace or control characters")]
    ForbiddenCharacters,
    #[error("the address is not a valid email address")]
    Invalid,
}

impl EmailAddress {
    /// RFC 5321 section 4.5.3.1.3: a path is at most 256 octets including the angle brackets.
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, EmailAddressError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailAddressError::Empty);
        }
        if trimmed.len() > Self::MAX_LEN {
            return Err(EmailAddressError::TooLong { max: Self::MAX_LEN });
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailAddressError::ForbiddenCharacters);
        }
        if !trimmed.validate_email() || !is_rfc5322_compatible(trimmed) {
            return Err(EmailAddressError::Invalid);
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key under which two addresses count as the same recipient: the whole address,
    /// case-folded. (Local parts are case-sensitive in theory, never in practice.)
    pub fn dedup_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// `validator` follows HTML5, which allows dots anywhere in the local part (`.a@x.org`,
/// `a..b@x.org`), a domain literal after other text (`a@x[127.0.0.1]`), and an international
/// domain whose ASCII form is longer than DNS allows. RFC 5322 and RFC 1035, and so the SMTP
/// adapter's parser, refuse them: such an address would be accepted here and then fail
/// permanently at sending, so it is refused here.
fn is_rfc5322_compatible(address: &str) -> bool {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return false;
    };
    let dot_atom = !local.starts_with('.') && !local.ends_with('.') && !local.contains("..");
    let whole_literal =
        !domain.contains(['[', ']']) || (domain.starts_with('[') && domain.ends_with(']'));
    let dns_length = domain.is_ascii()
        || idna::domain_to_ascii(domain).is_ok_and(|ascii| ascii.len() <= MAX_DOMAIN_LEN);
    dot_atom && whole_literal && dns_length
}

/// RFC 1035 section 2.3.4: a domain name is at most 253 characters in its text form.
const MAX_DOMAIN_LEN: usize = 253;

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for EmailAddress {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A recipient's display name: at most 200 characters, no line breaks or control characters
/// (it ends up in the `To:` header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientName(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecipientNameError {
    #[error("the name is longer than {max} characters")]
    TooLong { max: usize },
    #[error("the name contains line breaks or control characters")]
    ForbiddenCharacters,
}

impl RecipientName {
    pub const MAX_CHARS: usize = 200;

    /// `Ok(None)` for a missing or blank name. The limit counts the name as submitted,
    /// surrounding spaces included (as the API's schema states it), though they are not kept.
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, RecipientNameError> {
        let Some(raw) = raw else {
            return Ok(None);
        };
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(RecipientNameError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if trimmed.chars().any(char::is_control) {
            return Err(RecipientNameError::ForbiddenCharacters);
        }
        Ok(Some(Self(trimmed.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A recipient about to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRecipient {
    pub email: EmailAddress,
    pub name: Option<RecipientName>,
    /// Its data for merge tags.
    pub fields: RecipientFields,
}

/// Where a recipient is: `PENDING -> SENT | FAILED`. A transient failure keeps it `PENDING`
/// with one more attempt and a later `next_attempt_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecipientStatus {
    Pending,
    Sent,
    Failed,
    /// Not sent because its campaign was cancelled first.
    Cancelled,
    /// Never sent: its address was on the suppression list when the campaign was stored or a
    /// worker started sending it.
    Suppressed,
}

impl RecipientStatus {
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Sent,
        Self::Failed,
        Self::Cancelled,
        Self::Suppressed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Sent => "SENT",
            Self::Failed => "FAILED",
            Self::Cancelled => "CANCELLED",
            Self::Suppressed => "SUPPRESSED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Pending)
    }

    /// The legal moves are out of `PENDING`, and out of `CANCELLED` for a message that was
    /// already in flight when its campaign was cancelled (its outcome is the truth).
    pub fn transition(self, to: Self) -> Result<Self, IllegalTransition> {
        match (self, to) {
            (Self::Pending, Self::Sent | Self::Failed | Self::Pending | Self::Cancelled)
            | (Self::Cancelled, Self::Sent | Self::Failed) => Ok(to),
            _ => Err(IllegalTransition {
                from: self.as_str(),
                to: to.as_str(),
            }),
        }
    }
}

impl fmt::Display for RecipientStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored recipient, as the worker and the listing see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub id: RecipientId,
    pub campaign_id: CampaignId,
    pub email: String,
    pub name: Option<String>,
    /// Its data for merge tags.
    pub fields: RecipientFields,
    pub status: RecipientStatus,
    pub error: Option<String>,
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_name_is_measured_as_submitted_and_kept_trimmed() {
        let at_limit = format!(" {} ", "n".repeat(198));
        let name = RecipientName::parse(Some(&at_limit)).expect("valid");
        assert_eq!(name.map(|n| n.as_str().len()), Some(198));
        // 200 characters once trimmed, 201 as submitted (the API's schema counts these).
        let over = format!("\u{a0}{}", "n".repeat(200));
        assert!(matches!(
            RecipientName::parse(Some(&over)),
            Err(RecipientNameError::TooLong { max: 200 })
        ));
    }

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "a@example.org",
            "  First.Last+tag@sub.example.co.uk ",
            "x@localhost",
        ] {
            let addr = EmailAddress::parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(addr.as_str(), ok.trim());
        }
    }

    #[test]
    fn rejects_bad_addresses_with_a_reason() {
        assert_eq!(EmailAddress::parse("  "), Err(EmailAddressError::Empty));
        assert_eq!(
            EmailAddress::parse("no-at-sign"),
            Err(EmailAddressError::Invalid)
        );
        assert_eq!(
            EmailAddress::parse("a@b@c"),
            Err(EmailAddressError::Invalid)
        );
        assert_eq!(
            EmailAddress::parse("a b@example.org"),
            Err(EmailAddressError::ForbiddenCharacters)
        );
        assert_eq!(
            EmailAddress::parse("a@example.org\r\nBcc: x@y.z"),
            Err(EmailAddressError::ForbiddenCharacters)
        );
        let long = format!("{}@example.org", "a".repeat(250));
        assert_eq!(
            EmailAddress::parse(&long),
            Err(EmailAddressError::TooLong { max: 254 })
        );
    }

    /// HTML5 (and so `validator`) allows these, RFC 5322 and DNS do not: the SMTP adapter could
    /// never send to them, so the API must not accept them.
    #[test]
    fn addresses_smtp_cannot_use_are_refused() {
        let snowmen = |n: usize| format!("a@{}", vec!["☃"; n].join("."));
        for bad in [
            ".a@example.org",
            "a.@example.org",
            "a..b@example.org",
            "a@x[127.0.0.1]",
            // 32 labels `xn--n3h`: 255 characters in ASCII form, over DNS's 253.
            &snowmen(32),
        ] {
            assert_eq!(
                EmailAddress::parse(bad),
                Err(EmailAddressError::Invalid),
                "{bad}"
            );
        }
        for ok in [
            "a.b.c@example.org",
            "a@[127.0.0.1]",
            "a@[2001:db8::1]",
            "joerg@bücher.de",
            // 31 labels: 247 characters in ASCII form.
            &snowmen(31),
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn dedup_key_ignores_case() {
        let a = EmailAddress::parse("Ann@Example.org").expect("valid");
        let b = EmailAddress::parse("ann@example.ORG").expect("valid");
        assert_eq!(a.dedup_key(), b.dedup_key());
    }

    #[test]
    fn names_are_optional_and_single_line() {
        assert_eq!(RecipientName::parse(None), Ok(None));
        assert_eq!(RecipientName::parse(Some("   ")), Ok(None));
        assert_eq!(
            RecipientName::parse(Some(" Ann ")).map(|n| n.map(|n| n.as_str().to_owned())),
            Ok(Some("Ann".to_owned()))
        );
        assert_eq!(
            RecipientName::parse(Some("Ann\r\nBcc: evil@x.org")),
            Err(RecipientNameError::ForbiddenCharacters)
        );
        assert!(RecipientName::parse(Some(&"n".repeat(201))).is_err());
    }

    #[test]
    fn recipient_transitions() {
        use RecipientStatus::*;
        assert_eq!(Pending.transition(Sent), Ok(Sent));
        assert_eq!(Pending.transition(Failed), Ok(Failed));
        assert!(Sent.transition(Pending).is_err());
        assert!(Failed.transition(Sent).is_err());
        assert_eq!(Pending.transition(Cancelled), Ok(Cancelled));
        assert_eq!(
            Cancelled.transition(Sent),
            Ok(Sent),
            "in flight when cancelled"
        );
        assert!(Cancelled.transition(Pending).is_err());
        assert!(Sent.transition(Cancelled).is_err());
        assert_eq!(RecipientStatus::parse("failed"), Some(Failed));
        assert_eq!(RecipientStatus::parse("nope"), None);
    }

    proptest! {
        #[test]
        fn a_parsed_address_never_carries_line_breaks(s in "\\PC*") {
            if let Ok(addr) = EmailAddress::parse(&s) {
                prop_assert!(!addr.as_str().contains(['\r', '\n']));
                prop_assert!(addr.as_str().len() <= EmailAddress::MAX_LEN);
            }
        }

        #[test]
        fn addresses_with_injected_headers_are_refused(local in "[a-z]{1,10}", hdr in "[A-Za-z: ]{0,20}") {
            let raw = format!("{local}@example.org\n{hdr}");
            prop_assert!(EmailAddress::parse(&raw).is_err() || hdr.trim().is_empty());
        }
    }

    /// Adversarial names and addresses, with the strategies of the campaign tests.
    mod adversarial {
        use proptest::prelude::*;

        use super::*;
        use crate::campaign::tests::adversarial::{control_char, hostile_text};

        proptest! {
            /// A name is measured as submitted, kept trimmed, a blank one is no name, and a
            /// control character left after trimming refuses it (the name ends up in the `To:`
            /// header).
            #[test]
            fn a_name_is_accepted_exactly_when_it_is_one_short_line(raw in hostile_text(220)) {
                let trimmed = raw.trim();
                let length = raw.chars().count();
                let one_line = !trimmed.contains(char::is_control);
                match RecipientName::parse(Some(&raw)) {
                    Ok(None) => prop_assert!(trimmed.is_empty() && length <= RecipientName::MAX_CHARS),
                    Ok(Some(name)) => {
                        prop_assert_eq!(name.as_str(), trimmed);
                        prop_assert!(one_line && length <= RecipientName::MAX_CHARS);
                    }
                    Err(RecipientNameError::ForbiddenCharacters) => {
                        prop_assert!(!one_line && length <= RecipientName::MAX_CHARS);
                    }
                    Err(RecipientNameError::TooLong { .. }) => {
                        prop_assert!(length > RecipientName::MAX_CHARS);
                    }
                }
            }

            /// A control character or any Unicode space inside an address refuses it, so nothing
            /// can be appended to the `RCPT TO` command or the `To:` header through it.
            #[test]
            fn an_address_with_a_control_or_space_inside_is_refused(
                local in "[a-z]{1,10}",
                bad in prop_oneof![
                    control_char(),
                    prop::sample::select(vec![' ', '\u{a0}', '\u{2028}', '\u{2029}', '\u{3000}']),
                ],
                tail in prop::sample::select(vec!["", "Bcc: x@evil.test", "\r\nX-Injected: yes"]),
            ) {
                let raw = format!("{local}@exa{bad}mple.org{tail}");
                let refused = Err(EmailAddressError::ForbiddenCharacters);
                prop_assert_eq!(EmailAddress::parse(&raw), refused);
            }
        }
    }
}
