//! Idempotent creation: a client-chosen key names one creation request, so that a retried
//! request (after a timeout, a dropped connection, a double click) creates nothing new.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::campaign::NewCampaignInput;

/// The longest key accepted, in bytes.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The value of an `Idempotency-Key` header: 1 to 255 visible ASCII characters (no spaces or
/// control characters), e.g. a UUID the client generated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyKeyError {
    #[error("the idempotency key is empty")]
    Empty,
    #[error("the idempotency key is longer than {MAX_IDEMPOTENCY_KEY_LEN} characters")]
    TooLong,
    #[error("the idempotency key may only contain visible ASCII characters")]
    InvalidCharacter,
}

impl IdempotencyKey {
    pub fn parse(value: &str) -> Result<Self, IdempotencyKeyError> {
        if value.is_empty() {
            return Err(IdempotencyKeyError::Empty);
        }
        if value.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(IdempotencyKeyError::TooLong);
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(IdempotencyKeyError::InvalidCharacter);
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A digest of a creation request's content (SHA-256), to tell a retry of the same request
/// from a different request that reuses a key. Two inputs have the same fingerprint exactly
/// when they have the same subject, body and recipients (addresses, names and fields, in
/// order).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestFingerprint([u8; 32]);

impl RequestFingerprint {
    pub fn of(input: &NewCampaignInput) -> Self {
        let mut hash = Sha256::new();
        // Every field is length-prefixed, so no two different inputs feed the same bytes.
        let mut field = |bytes: &[u8]| {
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        };
        field(input.subject.as_bytes());
        field(input.body.as_bytes());
        field(&(input.recipients.len() as u64).to_le_bytes());
        for r in &input.recipients {
            field(r.email.as_bytes());
            match &r.name {
                None => field(&[0]),
                Some(name) => {
                    field(&[1]);
                    field(name.as_bytes());
                }
            }
            // Only when there are some, so a request without fields keeps the fingerprint it
            // had before fields existed.
            if !r.fields.is_empty() {
                field(&[2]);
                field(&(r.fields.len() as u64).to_le_bytes());
                for (name, value) in &r.fields {
                    field(name.as_bytes());
                    field(value.as_bytes());
                }
            }
        }
        // Only when there is one, so a request without a send time keeps the fingerprint it
        // had before send times existed.
        if let Some(at) = input.scheduled_at {
            field(b"scheduledAt");
            field(&at.timestamp_millis().to_le_bytes());
        }
        if let Some(from) = &input.from {
            field(b"from");
            field(from.email.as_bytes());
            field(from.name.as_deref().unwrap_or_default().as_bytes());
        }
        if let Some(reply_to) = &input.reply_to {
            field(b"replyTo");
            field(reply_to.as_bytes());
        }
        Self(hash.finalize().into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for RequestFingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestFingerprint(")?;
        for b in &self.0[..6] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "..)")
    }
}

/// What makes a creation request idempotent: its key and the fingerprint of its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    pub key: IdempotencyKey,
    pub fingerprint: RequestFingerprint,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::RecipientInput;
    use proptest::prelude::*;

    fn input(subject: &str, recipients: &[(&str, Option<&str>)]) -> NewCampaignInput {
        NewCampaignInput {
            subject: subject.into(),
            body: "<p>x</p>".into(),
            recipients: recipients
                .iter()
                .map(|(e, n)| RecipientInput {
                    email: (*e).into(),
                    name: n.map(Into::into),
                    fields: Vec::new(),
                })
                .collect(),
            scheduled_at: None,
            from: None,
            reply_to: None,
        }
    }

    #[test]
    fn keys_are_bounded_visible_ascii() {
        assert!(IdempotencyKey::parse("3f2a-order-17").is_ok());
        assert_eq!(IdempotencyKey::parse(""), Err(IdempotencyKeyError::Empty));
        assert_eq!(
            IdempotencyKey::parse(&"k".repeat(256)),
            Err(IdempotencyKeyError::TooLong)
        );
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_ok());
        for bad in ["a b", "a\tb", "ключ", "a\u{7f}"] {
            assert_eq!(
                IdempotencyKey::parse(bad),
                Err(IdempotencyKeyError::InvalidCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_request_without_a_send_time_keeps_its_fingerprint_from_before_send_times() {
        // What `of` gave for this input before `scheduledAt` existed: an idempotency key
        // stored then still matches its request replayed now.
        let a = input("Hi", &[("a@x.org", None)]);
        let mut hash = Sha256::new();
        for bytes in [
            &b"Hi"[..],
            &b"<p>x</p>"[..],
            &1u64.to_le_bytes(),
            b"a@x.org",
            &[0],
        ] {
            hash.update((bytes.len() as u64).to_le_bytes());
            hash.update(bytes);
        }
        let before: [u8; 32] = hash.finalize().into();
        assert_eq!(RequestFingerprint::of(&a).as_bytes(), &before);
    }

    #[test]
    fn the_fingerprint_follows_the_content() {
        let a = input("Hi", &[("a@x.org", None), ("b@x.org", Some("Bee"))]);
        assert_eq!(
            RequestFingerprint::of(&a),
            RequestFingerprint::of(&a.clone())
        );
        let changes = [
            input("Hi!", &[("a@x.org", None), ("b@x.org", Some("Bee"))]),
            input("Hi", &[("b@x.org", Some("Bee")), ("a@x.org", None)]),
            input("Hi", &[("a@x.org", None), ("b@x.org", None)]),
            input("Hi", &[("a@x.org", None), ("b@x.org", Some(""))]),
            input("Hi", &[("a@x.org", None)]),
            NewCampaignInput {
                scheduled_at: chrono::DateTime::from_timestamp_millis(1_800_000_000_000),
                from: None,
                reply_to: None,
                ..a.clone()
            },
        ];
        for other in changes {
            assert_ne!(
                RequestFingerprint::of(&a),
                RequestFingerprint::of(&other),
                "{other:?}"
            );
        }
    }

    proptest! {
        #[test]
        fn moving_bytes_between_fields_changes_the_fingerprint(s in "[a-z]{0,8}", b in "[a-z]{1,8}") {
            let mut one = input(&s, &[]);
            one.body = b.clone();
            let mut two = input(&format!("{s}{}", &b[..1]), &[]);
            two.body = b[1..].to_owned();
            prop_assert_ne!(RequestFingerprint::of(&one), RequestFingerprint::of(&two));
        }
    }
}
