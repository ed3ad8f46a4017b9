//! Delivery: what one send attempt returned, and what that means for the recipient.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::ids::{CampaignId, RecipientId};

/// What the mail server said about one message, already classified by the mailer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// Accepted by the server.
    Sent,
    /// Worth retrying later: an SMTP 4xx reply, or the connection failed.
    Transient(String),
    /// Will never succeed as it is: an SMTP 5xx reply or an address the server refuses.
    Permanent(String),
}

/// The most of a failure's text that is recorded (in characters). A server's reply can be of
/// any length (a hostile or broken server sends megabytes); what is kept must fit its column
/// however long the reply was, or the outcome could not be written at all.
pub const MAX_ERROR_CHARS: usize = 1_000;

/// `text` as it is recorded: at most [`MAX_ERROR_CHARS`] characters, cut on a character
/// boundary and marked with `…` when it was longer.
pub fn recorded_error(text: &str) -> String {
    // At most one character per byte: a short text needs no counting.
    if text.len() <= MAX_ERROR_CHARS || text.chars().count() <= MAX_ERROR_CHARS {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(MAX_ERROR_CHARS - 1).collect();
    kept.push('…');
    kept
}

/// Whether a server's refusal says the address does not exist (a hard bounce): a 5xx reply
/// with an enhanced status code of class `5.1.x` (RFC 3463: bad mailbox, bad system, bad
/// syntax, ...). Such an address goes on the suppression list; other permanent refusals (a
/// policy, a full mailbox, a message the server disliked) do not.
pub fn is_hard_bounce(reply: &str) -> bool {
    let reply = reply.trim_start();
    let Some((code, rest)) = reply.split_at_checked(3) else {
        return false;
    };
    if !(code.starts_with('5') && code.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    // The enhanced status comes right after the code: `550 5.1.1 ...` or `550-5.1.1 ...`.
    let status = rest
        .trim_start_matches([' ', '-'])
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':'))
        .next()
        .unwrap_or_default();
    let mut parts = status.split('.');
    parts.next() == Some("5")
        && parts.next() == Some("1")
        && parts
            .next()
            .is_some_and(|d| (1..=3).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
        && parts.next().is_none()
}

/// The recipients of `outcomes` that failed as hard bounces (see [`is_hard_bounce`]).
pub fn hard_bounces(outcomes: &[Outcome]) -> Vec<RecipientId> {
    outcomes
        .iter()
        .filter(|o| {
            matches!(&o.kind, OutcomeKind::Failed { error, permanent: true } if is_hard_bounce(error))
        })
        .map(|o| o.recipient_id)
        .collect()
}

/// The decision recorded for one recipient after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutcomeKind {
    /// Accepted by the SMTP server at `at` (its `sentAt`).
    Sent { at: DateTime<Utc> },
    /// Still `PENDING`, to be tried again no earlier than `at`; `error` says why.
    Retry { at: DateTime<Utc>, error: String },
    /// Failed for good; `permanent` when the server refused it (a 5xx reply: retrying cannot
    /// help), not when the transient failures ran out of attempts.
    Failed { error: String, permanent: bool },
}

/// The outcome of one attempt for one recipient; `attempts` counts this attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub recipient_id: RecipientId,
    pub attempts: u32,
    pub kind: OutcomeKind,
}

/// Exponential backoff for transient failures: `base * 2^(attempt-1)`, capped at `max_delay`,
/// for at most `max_attempts` attempts in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            base_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(30 * 60),
        }
    }
}

impl RetryPolicy {
    /// The wait before the attempt after attempt number `attempts` (1-based).
    pub fn backoff(&self, attempts: u32) -> Duration {
        let exp = attempts.saturating_sub(1).min(20);
        self.base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay)
    }

    /// Classifies one attempt. `attempts` is the number of attempts made, this one included.
    pub fn decide(
        &self,
        recipient_id: RecipientId,
        attempts: u32,
        outcome: DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> Outcome {
        let kind = match outcome {
            DeliveryOutcome::Sent => OutcomeKind::Sent { at: now },
            DeliveryOutcome::Permanent(error) => OutcomeKind::Failed {
                error: recorded_error(&error),
                permanent: true,
            },
            DeliveryOutcome::Transient(error) if attempts >= self.max_attempts => {
                OutcomeKind::Failed {
                    error: recorded_error(&format!("gave up after {attempts} attempts: {error}")),
                    permanent: false,
                }
            }
            DeliveryOutcome::Transient(error) => {
                let wait = chrono::Duration::from_std(self.backoff(attempts))
                    .unwrap_or(chrono::Duration::MAX);
                OutcomeKind::Retry {
                    at: now + wait,
                    error: recorded_error(&error),
                }
            }
        };
        Outcome {
            recipient_id,
            attempts,
            kind,
        }
    }
}

/// The deterministic `Message-ID` of the message for one recipient of one campaign, so that a
/// message sent twice after a crash is recognisable downstream.
pub fn message_id(campaign: CampaignId, recipient: RecipientId, domain: &str) -> String {
    format!(
        "<{}.{}@{}>",
        recipient.as_uuid().simple(),
        campaign.as_uuid().simple(),
        domain
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_a_5xx_with_a_5_1_x_status_is_a_hard_bounce() {
        for yes in [
            "550 5.1.1 <a@x.org>: mailbox unavailable",
            "550 5.1.10 Recipient address rejected: domain has a null MX",
            "553 5.1.3 bad address syntax",
            "  550 5.1.2, host unknown",
        ] {
            assert!(is_hard_bounce(yes), "{yes}");
        }
        for no in [
            "452 4.1.1 try later",
            "550 5.7.1 rejected by policy",
            "552 5.2.2 mailbox full",
            "550 mailbox unavailable",
            "550 see 5.1.1 in the text somewhere much later after several words",
            "gave up after 5 attempts: 451 4.3.0",
        ] {
            assert!(!is_hard_bounce(no), "{no}");
        }
    }

    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(25),
        }
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = policy();
        assert_eq!(p.backoff(1), Duration::from_secs(10));
        assert_eq!(p.backoff(2), Duration::from_secs(20));
        assert_eq!(p.backoff(3), Duration::from_secs(25));
        assert_eq!(p.backoff(400), Duration::from_secs(25));
    }

    #[test]
    fn transient_failures_retry_until_the_limit() {
        let p = policy();
        let now = Utc::now();
        let id = RecipientId::new();
        let first = p.decide(id, 1, DeliveryOutcome::Transient("451 later".into()), now);
        assert_eq!(
            first.kind,
            OutcomeKind::Retry {
                at: now + chrono::Duration::seconds(10),
                error: "451 later".into()
            }
        );
        let last = p.decide(id, 3, DeliveryOutcome::Transient("451 later".into()), now);
        assert_eq!(
            last.kind,
            OutcomeKind::Failed {
                error: "gave up after 3 attempts: 451 later".into(),
                permanent: false,
            }
        );
    }

    #[test]
    fn permanent_failures_fail_at_once_with_the_reply() {
        let out = policy().decide(
            RecipientId::new(),
            1,
            DeliveryOutcome::Permanent("550 no such user".into()),
            Utc::now(),
        );
        assert_eq!(
            out.kind,
            OutcomeKind::Failed {
                error: "550 no such user".into(),
                permanent: true,
            }
        );
        assert_eq!(out.attempts, 1);
    }

    #[test]
    fn a_reply_of_any_length_is_recorded_cut_to_the_limit_on_a_character_boundary() {
        let p = policy();
        let now = Utc::now();
        // 70,000 characters of 2 bytes each: longer than a TEXT column holds.
        let huge = format!("550 {}", "é".repeat(70_000));
        for outcome in [
            DeliveryOutcome::Permanent(huge.clone()),
            DeliveryOutcome::Transient(huge.clone()),
        ] {
            for attempts in [1, 3] {
                let out = p.decide(RecipientId::new(), attempts, outcome.clone(), now);
                let error = match out.kind {
                    OutcomeKind::Failed { error, .. } | OutcomeKind::Retry { error, .. } => error,
                    OutcomeKind::Sent { .. } => panic!("a failure is not a success"),
                };
                assert_eq!(error.chars().count(), MAX_ERROR_CHARS);
                assert!(error.ends_with('…'), "marked as cut");
            }
        }
        let exact = "x".repeat(MAX_ERROR_CHARS);
        assert_eq!(
            recorded_error(&exact),
            exact,
            "a text at the limit is kept whole"
        );
        let over = "x".repeat(MAX_ERROR_CHARS + 1);
        assert_eq!(recorded_error(&over).chars().count(), MAX_ERROR_CHARS);
        assert_eq!(recorded_error("550 short"), "550 short");
    }

    #[test]
    fn message_ids_are_deterministic_and_distinct() {
        let c = CampaignId::new();
        let (r1, r2) = (RecipientId::new(), RecipientId::new());
        assert_eq!(
            message_id(c, r1, "example.org"),
            message_id(c, r1, "example.org")
        );
        assert_ne!(
            message_id(c, r1, "example.org"),
            message_id(c, r2, "example.org")
        );
        let id = message_id(c, r1, "example.org");
        assert!(id.starts_with('<') && id.ends_with("@example.org>"));
    }
}
