//! A new campaign (`EmailJob`): what a user submits and how it is validated. What is stored,
//! and how it moves, is in [`lifecycle`](crate::lifecycle).

use std::collections::HashSet;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::fields::RecipientFields;
use crate::lifecycle::CampaignStatus;
use crate::merge::check_merge_tags;
use crate::recipient::{EmailAddress, NewRecipient, RecipientName};
use crate::sender::{CampaignSender, FromInput};

/// A subject line: not blank, at most 255 characters, one line (it becomes a header, so CR/LF
/// would be header injection).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubjectError {
    #[error("the subject is empty")]
    Empty,
    #[error("the subject is longer than {max} characters")]
    TooLong { max: usize },
    #[error("the subject must be one line: no CR, LF or other control characters")]
    ForbiddenCharacters,
}

impl Subject {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(raw: &str) -> Result<Self, SubjectError> {
        if raw.chars().any(char::is_control) {
            return Err(SubjectError::ForbiddenCharacters);
        }
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(SubjectError::Empty);
        }
        // Counted as submitted, surrounding spaces included, as the API's schema states it.
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(SubjectError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The HTML body: not blank, at most [`HtmlBody::MAX_BYTES`]. It is sent as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HtmlBody(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is empty")]
    Empty,
    #[error("the body is larger than {max} bytes")]
    TooLarge { max: usize },
}

impl HtmlBody {
    /// 2 MiB: far above any sane newsletter, and below what MySQL's MEDIUMTEXT holds.
    pub const MAX_BYTES: usize = 2 * 1024 * 1024;

    pub fn parse(raw: String) -> Result<Self, BodyError> {
        if raw.trim().is_empty() {
            return Err(BodyError::Empty);
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(BodyError::TooLarge {
                max: Self::MAX_BYTES,
            });
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One recipient as submitted, before validation.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecipientInput {
    pub email: String,
    pub name: Option<String>,
    /// Its data for merge tags, `(name, value)`.
    pub fields: Vec<(String, String)>,
}

impl RecipientInput {
    /// A bare address.
    pub fn address(email: impl Into<String>) -> Self {
        Self {
            email: email.into(),
            ..Self::default()
        }
    }
}

/// A campaign as submitted, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaignInput {
    pub subject: String,
    pub body: String,
    pub recipients: Vec<RecipientInput>,
    /// When to send it; `None`: as soon as possible.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Its own `From`, instead of the worker's `MAIL_FROM`.
    pub from: Option<FromInput>,
    /// Its `Reply-To`.
    pub reply_to: Option<String>,
}

/// Why a send time was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("the time to send it must be in the future")]
    InThePast,
    #[error("the time to send it must be at most a year ahead")]
    TooFarAhead,
}

/// Checks a send time against `now`: in the future, at most [`MAX_SCHEDULE_AHEAD`] ahead.
/// Returns it to the millisecond (what the database keeps).
pub fn check_schedule(
    at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, ScheduleError> {
    let at = at.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(at);
    if at <= now {
        return Err(ScheduleError::InThePast);
    }
    if at - now > MAX_SCHEDULE_AHEAD {
        return Err(ScheduleError::TooFarAhead);
    }
    Ok(at)
}

/// How far ahead a campaign may be scheduled: a year.
pub const MAX_SCHEDULE_AHEAD: TimeDelta = TimeDelta::days(365);

/// One recipient entry that failed validation: its 0-based position in the submitted list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidRecipient {
    pub index: usize,
    pub value: String,
    pub reason: String,
}

/// Why a submitted campaign was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewCampaignError {
    #[error("too many recipients: {got}, the limit is {max}")]
    TooManyRecipients { max: usize, got: usize },
    #[error("the campaign has invalid fields")]
    Invalid(ValidationErrors),
}

/// Every problem found in one submission, so the user can fix them all at once.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ValidationErrors {
    /// `(field, message)` for subject, body and the recipients list as a whole.
    pub fields: Vec<(&'static str, String)>,
    /// The first [`ValidationErrors::MAX_LISTED`] invalid recipients.
    pub invalid_recipients: Vec<InvalidRecipient>,
    /// How many recipients are invalid in all.
    pub invalid_recipient_count: usize,
}

impl ValidationErrors {
    pub const MAX_LISTED: usize = 100;

    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.invalid_recipient_count == 0
    }
}

/// A valid campaign, ready to store: duplicates (case-insensitive) already removed, first
/// occurrence kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCampaign {
    pub subject: Subject,
    pub body: HtmlBody,
    pub recipients: Vec<NewRecipient>,
    pub duplicates_removed: usize,
    /// Stored as a `DRAFT` (held until a key that may send releases it) rather than `PENDING`.
    /// [`NewCampaign::parse`] makes a campaign to send; the use case decides.
    pub draft: bool,
    /// When to send it (checked against the time of the request); `None`: at once.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Whether the subject or the body has merge tags (checked against every recipient): the
    /// worker renders them per recipient. Without, the message is sent as it is.
    pub merge_tags: bool,
    /// Its own `From` and `Reply-To` (syntax checked; the allowed domains are the use case's).
    pub sender: CampaignSender,
}

impl NewCampaign {
    /// The status it is stored with: a draft, scheduled, or pending (to send at once).
    pub fn initial_status(&self) -> CampaignStatus {
        if self.draft {
            CampaignStatus::Draft
        } else if self.scheduled_at.is_some() {
            CampaignStatus::Scheduled
        } else {
            CampaignStatus::Pending
        }
    }

    /// Validates everything and reports every problem at once. `max_recipients` counts the
    /// submitted entries, before duplicates are removed; a send time is checked against `now`.
    pub fn parse(
        input: NewCampaignInput,
        max_recipients: usize,
        now: DateTime<Utc>,
    ) -> Result<Self, NewCampaignError> {
        if input.recipients.len() > max_recipients {
            return Err(NewCampaignError::TooManyRecipients {
                max: max_recipients,
                got: input.recipients.len(),
            });
        }
        let mut errors = ValidationErrors::default();
        let subject = Subject::parse(&input.subject)
            .map_err(|e| errors.fields.push(("subject", e.to_string())))
            .ok();
        let body = HtmlBody::parse(input.body)
            .map_err(|e| errors.fields.push(("body", e.to_string())))
            .ok();
        let scheduled_at = input
            .scheduled_at
            .map(|at| check_schedule(at, now))
            .transpose()
            .map_err(|e| errors.fields.push(("scheduledAt", e.to_string())))
            .ok()
            .flatten();

        let sender = CampaignSender::parse(input.from, input.reply_to.as_deref())
            .map_err(|e| errors.fields.extend(e))
            .unwrap_or_default();
        let parsed = parse_recipients(input.recipients, &mut errors);
        let merge_tags = match (&subject, &body) {
            (Some(subject), Some(body)) => check_merge_tags(subject, body, &parsed, &mut errors),
            _ => false,
        };

        match (subject, body) {
            (Some(subject), Some(body)) if errors.is_empty() => Ok(Self {
                subject,
                body,
                recipients: parsed.recipients,
                duplicates_removed: parsed.duplicates_removed,
                draft: false,
                scheduled_at,
                merge_tags,
                sender,
            }),
            _ => Err(NewCampaignError::Invalid(errors)),
        }
    }
}

/// A validated recipient list.
pub(crate) struct ParsedRecipients {
    /// Duplicates (case-insensitive) removed, first occurrence kept.
    pub recipients: Vec<NewRecipient>,
    /// Each recipient's position in the submitted list.
    pub indexes: Vec<usize>,
    pub duplicates_removed: usize,
}

/// Validates a recipient list (at least one entry) into `errors`.
pub(crate) fn parse_recipients(
    input: Vec<RecipientInput>,
    errors: &mut ValidationErrors,
) -> ParsedRecipients {
    if input.is_empty() {
        errors
            .fields
            .push(("recipients", "at least one recipient is required".into()));
    }
    let mut seen = HashSet::with_capacity(input.len());
    let mut recipients = Vec::with_capacity(input.len());
    let mut indexes = Vec::with_capacity(input.len());
    let mut duplicates_removed = 0;
    for (index, raw) in input.into_iter().enumerate() {
        let parsed = EmailAddress::parse(&raw.email)
            .map_err(|e| e.to_string())
            .and_then(|email| {
                let name = RecipientName::parse(raw.name.as_deref()).map_err(|e| e.to_string())?;
                let fields = RecipientFields::parse(raw.fields).map_err(|e| e.to_string())?;
                Ok(NewRecipient {
                    email,
                    name,
                    fields,
                })
            });
        match parsed {
            Ok(recipient) => {
                if seen.insert(recipient.email.dedup_key()) {
                    recipients.push(recipient);
                    indexes.push(index);
                } else {
                    duplicates_removed += 1;
                }
            }
            Err(reason) => {
                errors.invalid_recipient_count += 1;
                if errors.invalid_recipients.len() < ValidationErrors::MAX_LISTED {
                    errors.invalid_recipients.push(InvalidRecipient {
                        index,
                        value: truncate_chars(&raw.email, 320),
                        reason,
                    });
                }
            }
        }
    }
    ParsedRecipients {
        recipients,
        indexes,
        duplicates_removed,
    }
}

fn truncate_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
#[path = "campaign_tests.rs"]
pub(crate) mod tests;
